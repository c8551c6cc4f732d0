"""A person's path on a team server (issue 15): their records travel by `upstack sync` as their own
and nobody else's, the sync door checks them as an attacker would send them, and the mentor role
shows the ladder and portfolio (never practice) to the members they name. The server's store on
both engines, laptops on SQLite, real HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI
from path_team import Team, path_rows
from upstack.domain import access
from upstack.errors import NotFound
from upstack.ids import new_id
from upstack.services import accounts, capture, path_access, sync_door, tree
from upstack.services import sync as sync_service
from upstack.services.jsondump import dump_tables
from upstack.services.quota import OVER_QUOTA
from upstack.services.runsync import accept_run
from upstack.store import path as store_path
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


@pytest.fixture
def team(path_team: Team) -> Team:
    """The path's team server (tests/path_team.py)."""
    return path_team


def _write(ws: Workspace, op: str, subject: str, **data: Any) -> str:
    record = ws.record(op, {"subject": subject, "at": now_iso(), **data})
    ws.store().write([record])
    return record.id


def _path(ws: Workspace, person: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """What a fold of someone's path starts from: their events, all fields."""
    return [(e.id, e.op, e.subject, e.at, json.dumps(e.data, sort_keys=True))
            for e in store_path.events(ws.store().db, store_path.OPS, person=person)]


def _record(op: str, data: dict[str, Any], record_id: str | None = None) -> dict[str, Any]:
    return {"id": record_id or new_id(), "op": op, "workspace": "laptop", "at": now_iso(), "data": data}


def _push(team: Team, user: accounts.User, *records: dict[str, Any]) -> dict[str, Any]:
    with access.acting_as(team.audience(user)):
        return sync_door.accept(team.ws, list(records), team.audience(user))


# -- sync ----------------------------------------------------------------------------------------

def test_a_path_travels_to_its_owners_second_laptop_and_to_nobody_else(team: Team, tmp_path: Path) -> None:
    first, second, bobs = (Workspace(home=tmp_path / name) for name in ("ada-1", "ada-2", "bob"))
    _write(first, "ladder.step", "implement-a-paper", change="done")
    _write(first, "practice.attempt", "two-sum", minutes=14, outcome="unaided")
    _write(first, "portfolio.item", "probe-writeup", title="Linear probes, written up")
    path_access.show(first, "bob", ("ladder",))
    _write(bobs, "practice.attempt", "lru-cache", minutes=31, outcome="hints")
    for laptop, user in ((first, team.ada), (second, team.ada), (bobs, team.bob)):
        sync_service.login(laptop, team.server.url, team.token(user))

    assert sync_service.sync(first).pushed == 4
    rows = path_rows(team)
    assert {r["person"] for r in rows} == {team.ada.id}
    share = next(r for r in rows if r["op"] == "path.share")
    assert share["subject"] == team.bob.id  # the server keeps a member by id

    assert sync_service.sync(second).pulled == 4
    assert _path(second) == _path(first)  # the same events: every fold of them is the same
    assert [(s.login, s.parts) for s in path_access.mentors_of(second)] == [("bob", ("ladder",))]

    report = sync_service.sync(bobs)
    assert report.pulled == 0 and report.pushed == 1
    assert [e.subject for e in store_path.events(bobs.store().db, store_path.OPS)] == ["lru-cache"]
    assert [(r["person"], r["subject"]) for r in path_rows(team) if r["person"] == team.bob.id] == \
        [(team.bob.id, "lru-cache")]

    before = [dump_tables(w.store().db)["path_records"] for w in (first, second, bobs)], path_rows(team)
    for laptop in (first, second, bobs):
        again = sync_service.sync(laptop)
        assert (again.pushed, again.pulled, again.refused) == (0, 0, [])
    assert ([dump_tables(w.store().db)["path_records"] for w in (first, second, bobs)], path_rows(team)) == before


def test_a_pull_never_brings_anyone_elses_path(team: Team) -> None:
    with access.acting_as(team.audience(team.ada)):
        mine = _write(team.ws, "practice.attempt", "two-sum", minutes=9)
    with access.acting_as(team.audience(team.bob)):
        held = sync_door.manifest(team.ws, team.audience(team.bob))
        records = sync_door.server_records(team.ws, [], [], {}, path=[mine])
    assert held["path"] == [] and records == []
    with access.acting_as(team.audience(team.ada)):
        assert sync_door.manifest(team.ws, team.audience(team.ada))["path"] == [mine]
        assert [r["id"] for r in sync_door.server_records(team.ws, [], [], {}, path=[mine])] == [mine]


# -- the door, as an attacker sends to it ---------------------------------------------------------

def test_a_forged_by_lands_as_the_pushers_own(team: Team) -> None:
    answer = _push(team, team.bob, _record("portfolio.profile", {"subject": "profile", "at": now_iso(),
                                                                 "name": "Not Ada", "by": team.ada.id}))
    assert (answer["applied"], answer["refused"]) == (1, [])
    assert [(r["person"], json.loads(r["data"])["by"]) for r in path_rows(team)] == [(team.bob.id, team.bob.id)]
    with access.acting_as(team.audience(team.ada)):
        assert store_path.events(team.ws.store().db, store_path.OPS) == []


def test_an_id_that_names_something_else_is_refused_and_ones_own_is_already_here(team: Team) -> None:
    with access.acting_as(team.audience(team.ada)):
        entry = capture.note(team.ws, "Ada's private note.", private=True)
        adas = _write(team.ws, "ladder.step", "learn-to-code", change="done")
    with access.acting_as(access.OWNER):
        node = tree.add_node(team.ws, "project", "Olga's project", why="Hers.")
    with access.acting_as(team.audience(team.bob)):
        bobs = _write(team.ws, "ladder.step", "learn-to-code", change="done")
    before = path_rows(team)
    run_id = new_id()
    accept_run(team.ws, run_id, [_record("run.start", {"run_id": run_id, "name": "r", "started_at": now_iso()})],
               {}, team.audience(team.ada))
    revision = next(r["id"] for r in dump_tables(team.ws.store().db)["revisions"] if r["entry_id"] == entry.id)
    for taken in (entry.id, revision, node.id, run_id, adas):
        answer = _push(team, team.bob, _record("ladder.step", {"subject": "x", "at": now_iso()}, taken))
        assert answer["applied"] == 0 and "taken" in answer["refused"][0]["reason"], taken
    again = _push(team, team.bob, _record("ladder.step", {"subject": "learn-to-code", "at": now_iso()}, bobs))
    assert (again["applied"], again["refused"]) == (0, [])  # already here
    twice = _record("ladder.step", {"subject": "y", "at": now_iso()})
    answer = _push(team, team.bob, twice, {**twice, "op": "practice.attempt"})
    assert answer["applied"] == 1 and len(answer["refused"]) == 1  # one id, two records in one push
    assert len(path_rows(team)) == len(before) + 1
    with access.acting_as(team.audience(team.ada)):  # and an entry cannot take a path record's id
        made = _push(team, team.ada, _record("entry.create", {
            "id": bobs, "revision_id": new_id(), "kind": "note", "title": "Mine now", "body": "",
            "occurred_at": now_iso(), "created_at": now_iso()}))
    assert made["applied"] == 0 and made["refused"]


@pytest.mark.parametrize("data, wrong", [
    ({"subject": "", "at": "now"}, "subject"),
    ({"subject": "two-sum", "at": "yesterday"}, "at"),
    ({"subject": "two-sum\x00", "at": None}, "subject"),
    ({"subject": "two-sum", "at": None, "notes": "a\x00b"}, "NUL"),
    ({"subject": "two-sum", "at": None, "notes": "x" * 40_000}, "at most"),
    ({"subject": "two-sum", "at": None, "minutes": -3}, "minutes"),
    ({"subject": "two-sum", "at": None, "minutes": 10**9}, "minutes"),
    ({"subject": "two-sum", "at": None, "deep": [[[[[[[[[[1]]]]]]]]]]}, "deep"),
    ({"subject": ["two-sum"], "at": None}, "subject"),
])
def test_a_malformed_path_record_is_refused_with_its_reason_and_changes_nothing(
        team: Team, data: dict[str, Any], wrong: str) -> None:
    data = {**data, "at": data["at"] if data["at"] is not None else now_iso()}
    answer = _push(team, team.bob, _record("practice.attempt", data))
    assert answer["applied"] == 0 and wrong in answer["refused"][0]["reason"]
    assert path_rows(team) == []


def test_a_share_shows_only_the_ladder_and_portfolio_of_a_member_that_exists(team: Team) -> None:
    for data in ({"parts": ["practice"]}, {"parts": ["ladder", "ladder", "ladder"]}, {"revoked": "yes"}):
        answer = _push(team, team.ada, _record("path.share", {"subject": "bob", "at": now_iso(), **data}))
        assert answer["applied"] == 0 and answer["refused"], data
    for nobody in ("nobody", "olgaa", new_id()):
        answer = _push(team, team.ada, _record("path.share", {"subject": nobody, "at": now_iso(), "parts": ["ladder"]}))
        assert answer["refused"][0]["reason"].startswith("no such member")
    accounts.remove_user(team.ws, "cy")
    answer = _push(team, team.ada, _record("path.share", {"subject": "cy", "at": now_iso(), "parts": ["ladder"]}))
    assert answer["refused"][0]["reason"].startswith("no such member")
    assert path_rows(team) == []


def test_a_removed_members_token_pushes_and_pulls_nothing(team: Team) -> None:
    token = team.token(team.cy)
    with access.acting_as(team.audience(team.cy)):
        kept = _write(team.ws, "practice.attempt", "two-sum", minutes=9)
    accounts.remove_user(team.ws, "cy")
    client = team.server.client(signed_in=False)
    client.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
    before = path_rows(team)
    pushed = client.post("/api/sync/push", json={"records": [
        _record("practice.attempt", {"subject": "lru", "at": now_iso()})]})
    pulled = client.post("/api/sync/pull", json={"entries": [], "path": [kept]})
    manifest = client.get("/api/sync/manifest.json")
    assert {pushed.status_code, pulled.status_code, manifest.status_code} <= {401, 403}
    assert path_rows(team) == before


# -- the mentor role -------------------------------------------------------------------------------

def test_a_mentor_reads_the_parts_shown_and_nobody_else_reads_anything(team: Team) -> None:
    with access.acting_as(team.audience(team.ada)):
        path_access.show(team.ws, "bob", ("ladder",))
        path_access.show(team.ws, "cy", ("ladder", "portfolio"))
        path_access.stop_showing(team.ws, "cy")
        assert [(s.login, s.parts) for s in path_access.mentors_of(team.ws)] == [("bob", ("ladder",))]
        for part in ("ladder", "portfolio", "practice"):  # her own, all of it
            assert path_access.person_for(team.ws, "ada", part) == team.ada.id
    with access.acting_as(team.audience(team.bob)):
        assert [(s.login, s.parts) for s in path_access.shown_to_me(team.ws)] == [("ada", ("ladder",))]
        assert path_access.person_for(team.ws, "ada", "ladder") == team.ada.id
        answers = []
        for login, part in (("ada", "portfolio"), ("ada", "practice"), ("nobody", "ladder"), ("cy", "ladder")):
            with pytest.raises(NotFound) as raised:
                path_access.person_for(team.ws, login, part)
            answers.append(str(raised.value).replace(repr(login), "LOGIN"))
        assert len(set(answers)) == 1  # a part not shown answers as a login that does not exist
    with access.acting_as(team.audience(team.cy)):  # revoked: nothing
        assert path_access.shown_to_me(team.ws) == []
        with pytest.raises(NotFound):
            path_access.person_for(team.ws, "ada", "ladder")


def test_a_removed_mentor_or_a_removed_person_shows_nothing(team: Team) -> None:
    with access.acting_as(team.audience(team.ada)):
        path_access.show(team.ws, "bob")
        path_access.show(team.ws, "cy")
    accounts.remove_user(team.ws, "cy")
    with access.acting_as(team.audience(team.ada)):
        assert [s.login for s in path_access.mentors_of(team.ws)] == ["bob"]
    accounts.remove_user(team.ws, "ada")
    with access.acting_as(team.audience(team.bob)):
        assert path_access.shown_to_me(team.ws) == []
        with pytest.raises(NotFound):
            path_access.person_for(team.ws, "ada", "ladder")


def test_path_records_count_against_the_pushers_quota(team: Team, db_url: str | None) -> None:
    with Workspace(home=team.ws.home, db=db_url, user_quota_mb=1) as small:
        big = "x" * 30_000
        records = [_record("portfolio.item", {"subject": f"item-{i}", "at": now_iso(), "text": big}) for i in range(40)]
        with access.acting_as(team.audience(team.bob)):
            answer = sync_door.accept(small, records, team.audience(team.bob))
        assert 30 <= answer["applied"] < 40 and {r["reason"] for r in answer["refused"]} == {OVER_QUOTA}
        with access.acting_as(team.audience(team.bob)):
            more = sync_door.accept(small, [_record("practice.attempt", {"subject": "two-sum", "at": now_iso(),
                                                                        "notes": big})], team.audience(team.bob))
        assert more["applied"] == 0
        with access.acting_as(team.audience(team.ada)):  # another member's room is their own
            assert sync_door.accept(small, records[:1], team.audience(team.ada))["refused"][0]["reason"] \
                .startswith("that id is taken")
            assert sync_door.accept(small, [_record("portfolio.item", {"subject": "mine", "at": now_iso(),
                                                                       "text": big})],
                                    team.audience(team.ada))["applied"] == 1


# -- the commands ------------------------------------------------------------------------------------

def test_mentor_commands_on_a_laptop_and_their_bad_input(run: CLI) -> None:
    assert run.ok("path", "mentor", "list").startswith("your path is private")
    assert run.ok("path", "mentor", "add", "max", "--portfolio") == "max may now read your portfolio\n"
    assert json.loads(run.ok("path", "mentor", "list", "--json"))[0] | {"since": ""} == \
        {"login": "max", "parts": ["portfolio"], "since": ""}
    before = run.ok("path", "mentor", "list", "--json")
    for args, wrong in ((("add", "Max Power"), "is not a login"), (("add", "x" * 40), "is not a login"),
                        (("rm", "nobody"), "you do not show your path to 'nobody'")):
        result = run("path", "mentor", *args)
        assert result.exit_code != 0 and wrong in result.stderr and len(result.stderr.splitlines()) == 1
    assert run.ok("path", "mentor", "list", "--json") == before
    run.ok("path", "mentor", "rm", "max")
    assert json.loads(run.ok("path", "mentor", "list", "--json")) == []
    assert json.loads(run.ok("path", "shown", "--json")) == []


def test_a_mentor_reads_the_folded_ladder_and_portfolio_but_no_title_they_may_not_see(team: Team) -> None:
    from upstack.services import ladder, portfolio, practice

    with access.acting_as(team.audience(team.ada)):
        secret = capture.note(team.ws, "QUSECRETTITLE: my private plan.", private=True)
        ladder.add_evidence(team.ws, "code", secret.id)
        ladder.mark_done(team.ws, "code", note="QUDONENOTE")
        unshared = capture.note(team.ws, "QUUNSHAREDTITLE: filed nowhere, so hers alone.")
        portfolio.add_item(team.ws, "write-up", "QUWRITEUP", sources=[unshared.id])
        practice.log_attempt(team.ws, "two-sum", minutes=5, outcome="unaided", title="QUDRILL")
        team.ws.ingest()
        path_access.show(team.ws, "bob", ("ladder", "portfolio"))
        own = json.dumps(path_access.path_of(team.ws, "ada"))
    with access.acting_as(team.audience(team.bob)):
        seen = json.dumps(path_access.path_of(team.ws, "ada"))
    assert "QUDONENOTE" in seen and "QUWRITEUP" in seen and path_access.NOT_SHARED in seen
    for hidden in ("QUSECRETTITLE", secret.id, "QUUNSHAREDTITLE", unshared.id, "QUDRILL"):
        assert hidden not in seen
    assert "QUSECRETTITLE" in own and "QUUNSHAREDTITLE" in own and path_access.NOT_SHARED not in own


def test_a_project_someone_else_owns_is_not_proposed_for_my_portfolio(team: Team) -> None:
    from upstack.services import portfolio

    project = tree.add_node(team.ws, "project", "QUBOBPROJECT", why="Bob's.")  # made on the server's command line
    tree.set_status(team.ws, project.id, "done", "finished", override="a test")
    accounts.share(team.ws, project.id, "bob", "owner", by=None)
    accounts.share(team.ws, project.id, "ada", "editor", by=None)
    with access.acting_as(team.audience(team.bob)):
        assert [p.title for p in portfolio.proposals(team.ws)] == ["QUBOBPROJECT"]
    with access.acting_as(team.audience(team.ada)):  # she sees it, may even edit it: not hers to claim
        assert [p.title for p in portfolio.proposals(team.ws)] == []
