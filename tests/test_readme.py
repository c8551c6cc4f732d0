"""The README's walkthrough runs verbatim, in order, as a person would paste it."""

import os
import re
import shutil
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


def test_readme_walkthrough_runs_verbatim(tmp_path: Path) -> None:
    script = _walkthrough().replace("source .venv/bin/activate\n", "")
    # Run where it cannot litter the repository, with the fixture it names beside it.
    fixtures = tmp_path / "tests" / "fixtures"
    fixtures.mkdir(parents=True)
    (fixtures / "jrnl_export.json").write_bytes(
        (ROOT / "tests" / "fixtures" / "jrnl_export.json").read_bytes())
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1",
           "TMPDIR": str(tmp_path)}
    env.pop("UPSTACK_DB", None)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Head 5.1 is a name mover." in result.stdout
    assert "imported" in result.stdout


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
