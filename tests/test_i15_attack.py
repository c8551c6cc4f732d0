"""Attacker pass on issue 15 (the path to a research job): what an attacker or a fault found, each a
test that failed before its fix. Stores on both engines (the `workspace`, `run` and `team` fixtures)."""

from __future__ import annotations

import errno
import pathlib
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged
from test_path_sync import Team, team  # noqa: F401 (the team server fixture)
from upstack.services import portfolio as folio
from upstack.timeutil import now_iso
from upstack.web import site
from upstack.workspace import Workspace


def _write(ws: Workspace, op: str, subject: str, **data: Any) -> None:
    """A record as a pushed one or a hand-edited JSON import lands: not checked by the CLI's rules."""
    ws.store().write([ws.record(op, {"subject": subject, "at": now_iso(), **data})])


# -- a JSON Resume read in ------------------------------------------------------------------------

def test_a_json_resume_nested_too_deep_is_refused_in_one_line(run: CLI, tmp_path: Path) -> None:
    deep = tmp_path / "resume.json"
    deep.write_text('{"basics": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_refused_unchanged(run, ["portfolio", "import", str(deep)], "is not a JSON Resume")


# -- addresses that are not web addresses ---------------------------------------------------------

BAD_URLS = ("javascript:alert(document.cookie)", "data:text/html,<script>alert(1)</script>",
            "JaVaScRiPt:alert(1)", " javascript:alert(1)", "vbscript:x", "/people/x/path")


def test_a_stored_address_that_is_not_a_web_address_is_never_a_link(workspace: Workspace, tmp_path: Path) -> None:
    """A pushed record or a hand-edited JSON import is not checked as `--url` is: the fold drops what
    is not an http(s) address, so no page, mentor's view, export or site makes a link of it."""
    _write(workspace, "portfolio.profile", "profile", name="Mallory",
           links=[{"label": f"L{i}", "url": url} for i, url in enumerate(BAD_URLS)]
           + [{"label": "GitHub", "url": "https://github.com/ada"}])
    for i, url in enumerate(BAD_URLS):
        _write(workspace, "portfolio.item", f"item-{i}", kind="talk", title=f"Talk {i}", url=url, summary="s")
    held = folio.load(workspace)
    assert [link["url"] for link in held.profile.links] == ["https://github.com/ada"]
    assert {item.url for item in held.items} == {""}
    site.build(workspace, tmp_path / "site")
    text = "\n".join(p.read_text() for p in (tmp_path / "site").rglob("*.html")).lower()
    assert "javascript:" not in text and "data:text" not in text and "vbscript:" not in text


# -- the site on a full disk ----------------------------------------------------------------------

def test_the_site_on_a_full_disk_names_the_site_folder_and_leaves_nothing(run: CLI, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    run.ok("portfolio", "profile", "--name", "Ada")
    run.ok("portfolio", "add", "talk", "A talk", "--summary", "On circuits.")
    real = pathlib.Path.write_text
    calls = []

    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        calls.append(self)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")  # as os.write says it: no file named
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", full)
    out = tmp_path / "out" / "site"
    result = run("portfolio", "site", str(out))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"cannot write {out}: no space left on the disk" in result.stderr, result.stderr
    assert str(run.home) not in result.stderr
    assert not out.exists() and list((tmp_path / "out").iterdir()) == []
