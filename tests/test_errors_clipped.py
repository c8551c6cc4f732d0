"""A message echoes what was typed or sent: however long that was, the line stays a line."""

from __future__ import annotations

from conftest import CLI


def test_a_huge_reference_is_clipped_in_its_one_line_error(run: CLI) -> None:
    result = run("show", "a" * 100_000)
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and len(line) < 500, len(line)
    assert line.startswith("upstack: error: no entry with id 'aaa") and "…(99,6" in line
