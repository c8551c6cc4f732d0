"""The README's walkthrough runs verbatim, in order, as a person would paste it."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    # The first two blocks are the set-up commands (install + demo, install + tests):
    # CI runs the second itself, and test_demo covers the demo.
    assert len(blocks) > 2 and "pip install" in blocks[0] and "pytest" in blocks[1]
    return "".join(blocks[2:])


def _checked_after(script: str, command: str, check: str) -> str:
    """``script`` with ``check`` run right after the line that starts with ``command``."""
    lines = script.splitlines()
    [at] = [n for n, line in enumerate(lines) if line.startswith(command)]
    return "\n".join([*lines[:at + 1], check, *lines[at + 1:]]) + "\n"


def test_readme_walkthrough_runs_verbatim(tmp_path: Path) -> None:
    script = _walkthrough().replace("source .venv/bin/activate\n", "")
    # The README's examples do what they say: the filtered log finds entries, and the HTML review,
    # made after the runs, has their figures in it.
    log = 'upstack log --project "IOI circuit in GPT-2 small" --tag ioi --kind result'
    script = _checked_after(script, log, log + ' --json | python -c "import json, sys; '
                            "assert json.load(sys.stdin), 'the filtered log is empty'\"")
    script = _checked_after(script, "upstack review --since", "grep -q 'src=\"data:image/' review.html")
    script += 'echo "walked in $walk"\n'
    before = {p.name for p in ROOT.iterdir()}
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1",
           "TMPDIR": str(tmp_path)}
    env.pop("UPSTACK_DB", None)
    env.pop("UPSTACK_HOME", None)
    # From the repository root, as a person pastes it.
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Head 5.1 is a name mover." in result.stdout
    assert "imported" in result.stdout
    # It cleaned up after itself: its scratch folder is gone, and it wrote nothing in the repository.
    walked = Path(result.stdout.splitlines()[-1].removeprefix("walked in "))
    assert walked.parent == tmp_path and not walked.exists()
    assert list(tmp_path.iterdir()) == []
    # (Tools' caches, .hypothesis say, may appear meanwhile: other tests run beside this one.)
    assert {name for name in {p.name for p in ROOT.iterdir()} - before if not name.startswith(".")} == set()


def test_every_command_and_setting_is_documented() -> None:
    from upstack.cli.main import COMMAND_MODULES, cli
    from upstack.settings import SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set(COMMAND_MODULES) == set(cli.list_commands(None))  # type: ignore[arg-type]
    for name in COMMAND_MODULES:
        assert cli.get_command(None, name) is not None, name  # type: ignore[arg-type]
        assert f"upstack {name}" in readme, f"`upstack {name}` is not in the README"
    for setting in SETTINGS:
        assert setting.env in readme, f"{setting.env} is not in the README"
