from upstack.cli.main import main

main()
