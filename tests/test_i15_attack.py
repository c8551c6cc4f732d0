"""Attacker pass on issue 15 (the path to a research job): what an attacker or a fault found, each a
test that failed before its fix. Stores on both engines (the `workspace`, `run` and `team` fixtures)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import CLI, assert_refused_unchanged
from test_path_sync import Team, team  # noqa: F401 (the team server fixture)
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def _write(ws: Workspace, op: str, subject: str, **data: Any) -> None:
    """A record as a pushed one or a hand-edited JSON import lands: not checked by the CLI's rules."""
    ws.store().write([ws.record(op, {"subject": subject, "at": now_iso(), **data})])


# -- a JSON Resume read in ------------------------------------------------------------------------

def test_a_json_resume_nested_too_deep_is_refused_in_one_line(run: CLI, tmp_path: Path) -> None:
    deep = tmp_path / "resume.json"
    deep.write_text('{"basics": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_refused_unchanged(run, ["portfolio", "import", str(deep)], "is not a JSON Resume")
