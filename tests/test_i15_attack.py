"""Attacker pass on issue 15 (the path to a research job): what an attacker or a fault found, each a
test that failed before its fix. Stores on both engines (the `workspace`, `run` and `team` fixtures)."""

from __future__ import annotations

import errno
import json
import pathlib
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged
from test_path_sync import Team, team  # noqa: F401 (the team server fixture)
from upstack.services import portfolio as folio
from upstack.services import sync as sync_service
from upstack.services.practice_import import import_csv
from upstack.store import path as store_path
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


@pytest.mark.parametrize("resume", [
    {"basics": {"name": "Ada", "summary": "word " * 10_000}},  # larger than the team server keeps
    {"basics": {"name": "Ada"}, "projects": [{"name": "p", "description": "x" * 40_000}]},
], ids=["huge-summary", "huge-project"])
def test_a_json_resume_the_team_server_would_refuse_is_refused_here(run: CLI, tmp_path: Path,
                                                                     resume: dict[str, Any]) -> None:
    """Taken in, its records could never sync (the door holds a path record to 32,000 characters)."""
    path = tmp_path / "resume.json"
    path.write_text(json.dumps(resume))
    assert_refused_unchanged(run, ["portfolio", "import", str(path)], "is not a JSON Resume upstack can read")


def test_a_practice_csv_row_the_team_server_would_refuse_is_refused_here(run: CLI, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    topics = ";".join(f"pattern-{i}" for i in range(4000))
    path.write_text(f"problem,at,minutes,outcome,topics\ntwo-sum,2024-01-01,5,solved,{topics}\n")
    assert_refused_unchanged(run, ["practice", "import", str(path)], "history.csv line 2")


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


# -- another person's practice log is never told ----------------------------------------------------

def test_two_members_importing_the_same_csv_row_both_sync_it(team: Team, tmp_path: Path) -> None:  # noqa: F811
    """An imported attempt's id was made from the row alone: the same row gave two members one id, so
    the second one's push was refused as 'taken', which told them the first one has that attempt."""
    history = tmp_path / "history.csv"
    history.write_text("problem,at,minutes,outcome\ntwo-sum,2024-01-01,12,solved\nlru-cache,2024-01-02,30,failed\n")
    laptops = {}
    for user in (team.ada, team.bob):
        laptop = Workspace(home=tmp_path / user.login)
        assert import_csv(laptop, history).imported == 2
        assert import_csv(laptop, history).imported == 0  # the same file again adds nothing
        sync_service.login(laptop, team.server.url, team.token(user))
        laptops[user.login] = laptop
    for login, laptop in laptops.items():
        report = sync_service.sync(laptop)
        assert (report.pushed, report.refused) == (2, []), (login, report.refused)
    for user in (team.ada, team.bob):
        key = store_path.person_key(team.ws.store().db, user.id)
        assert [e.subject for e in store_path.events(team.ws.store().db, ["practice.attempt"], person=key)] == \
            ["two-sum", "lru-cache"]
