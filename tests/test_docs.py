"""Documentation that lives with the code: docs/cli.md is the CLI's help, regenerated."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _reference_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_is_the_help_the_cli_prints() -> None:
    reference = _reference_script()
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == reference.reference(), (
        "docs/cli.md is out of date: run .venv/bin/python scripts/cli_reference.py")


def test_the_cli_reference_has_every_command() -> None:
    from upstack.cli.main import COMMAND_MODULES

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in COMMAND_MODULES if f"\n## upstack {name}\n" not in text]
    assert not missing, f"docs/cli.md lacks {missing}"
