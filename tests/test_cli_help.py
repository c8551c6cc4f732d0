"""`upstack --help` lists the commands in sections (cli/main.HELP_SECTIONS), none left out, and
`upstack note` still starts without the rest of the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from upstack.cli.main import COMMAND_MODULES, HELP_SECTIONS, OTHER, cli, help_sections


def _help() -> str:
    result = CliRunner().invoke(cli, ["--help"], env={"NO_COLOR": "1", "COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _sections(text: str) -> dict[str, list[str]]:
    """Each section heading of the help, with the command names listed under it."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
            found[current] = []
        elif current and (row := re.match(r"  (\S+) ", line)):
            found[current].append(row.group(1))
    return found


def test_help_lists_every_command_once_in_its_section_in_order() -> None:
    shown = _sections(_help())
    assert list(shown) == ["Options", "Write", "Find", "Why: the tree", "Ideas", "Runs", "Path to a job",
                           "Opportunities", "Pace and wellbeing (kept on this machine)", "Judgment", "Browser and team",
                           "Notes in and out", "Maintenance"]
    del shown["Options"]
    listed = [name for names in shown.values() for name in names]
    assert sorted(listed) == sorted(COMMAND_MODULES) and len(listed) == len(set(listed))
    assert shown["Write"][0] == "note" and "log" in shown["Find"] and "why" in shown["Why: the tree"]
    assert {"serve", "user", "sync"} <= set(shown["Browser and team"])
    for section, names in shown.items():
        assert all(HELP_SECTIONS[COMMAND_MODULES[name]] == section for name in names), section


def test_help_columns_line_up_across_sections() -> None:
    commands = _help().split("\nWrite:\n", 1)[1]
    starts = {len(m.group(1)) for m in re.finditer(r"^(  \S+ +)\S", commands, flags=re.M)}
    assert starts == {2 + max(map(len, COMMAND_MODULES)) + 2}


def test_a_new_command_lands_in_its_modules_section_and_an_unknown_module_in_other() -> None:
    commands = {**COMMAND_MODULES, "chat": "team", "pin": "curate", "frobnicate": "plugins"}
    sections = dict(help_sections(commands))
    assert sections["Browser and team"][-1] == "chat"
    assert sections["Write"][-1] == "pin"
    assert list(sections)[-1] == OTHER and sections[OTHER] == ["frobnicate"]
    assert OTHER not in dict(help_sections(COMMAND_MODULES))  # every command today has a section


def test_note_imports_no_other_command_and_no_store(tmp_path: Path) -> None:
    probe = ("import sys\nsys.argv = ['upstack', 'note', 'Cheap to start. #help']\n"
             "from upstack.cli.main import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('upstack.cli.')))\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('sqlite3', 'psycopg', 'fastapi', 'jinja2', 'uvicorn', 'dateparser')))\n")
    env = {**os.environ, "UPSTACK_HOME": str(tmp_path), "NO_COLOR": "1"}
    env.pop("UPSTACK_DB", None)
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60,
                         check=True).stdout.splitlines()
    assert out[-2] == str(["upstack.cli.capture", "upstack.cli.editing", "upstack.cli.main", "upstack.cli.options",
                           "upstack.cli.output"])
    assert out[-1] == "[]"


def test_another_trackers_word_is_offered_upstacks_command() -> None:
    """`upstack ui` (as `mlflow ui`), `upstack web`, `upstack agent` (as `wandb agent`): the usage error
    offers the upstack command first; every word maps to a command that exists."""
    from upstack.cli.main import OTHER_TOOLS_WORDS

    assert set(OTHER_TOOLS_WORDS.values()) <= set(COMMAND_MODULES)
    for word, command in [("ui", "serve"), ("web", "serve"), ("server", "serve"), ("agent", "sweep")]:
        result = CliRunner().invoke(cli, [word], env={"NO_COLOR": "1"})
        assert result.exit_code == 2 and f"No such command '{word}'. Did you mean '{command}'" in result.output


def test_a_subcommand_mistyped_or_left_out_is_offered() -> None:
    """`upstack run ID` (show left out), `run delete` (rm), `sweep sweep.yaml` (start), `artifact NAME`
    (show), and `runs lr=0.1` (a filter without its --where) each say what was meant; a word that
    means nothing gets click's own answer."""
    cases = [(["run", "p5wjfpx"], "No such command 'p5wjfpx'. Did you mean 'upstack run show p5wjfpx'?"),
             (["run", "delete", "p5wjfpx"], "No such command 'delete'. Did you mean 'rm'?"),
             (["run", "shw", "p5wjfpx"], "Did you mean 'show'?"),
             (["sweep", "sweep.yaml"], "Did you mean 'upstack sweep start sweep.yaml'?"),
             (["sweep", "k3x9q2a"], "Did you mean 'upstack sweep show k3x9q2a'?"),
             (["artifact", "probe"], "Did you mean 'upstack artifact show probe'?"),
             (["runs", "lr=0.1", "val/acc>0.9"],
              "a filter goes after --where (one each): --where lr=0.1 --where 'val/acc>0.9'"),
             (["runs", "--where", "lr=0.1", "seed=1"], "(one each): --where seed=1")]
    for args, said in cases:
        result = CliRunner().invoke(cli, args, env={"NO_COLOR": "1"}, prog_name="upstack")
        assert result.exit_code == 2 and said in " ".join(result.output.split()), (args, result.output)
    plain = CliRunner().invoke(cli, ["runs", "foo"], env={"NO_COLOR": "1"})
    assert plain.exit_code == 2 and plain.output.rstrip().endswith("Got unexpected extra argument (foo)")
