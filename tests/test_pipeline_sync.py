"""Opportunities, applications, contacts and outreach on a team server (issue 16): private to their
owner like the rest of a person's path, shown to a mentor only when named (contacts separately),
and a local-only contact never leaves the machine it was made on: sync never lists or carries its
records, the door refuses one, and a mentor shown contacts never reads it. The server's store on
both engines, laptops on SQLite, real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from path_team import Team, path_rows
from upstack.domain import access
from upstack.errors import NotFound
from upstack.ids import new_id
from upstack.services import applications, contacts, due, opportunities, path_access, sync_door
from upstack.services import sync as sync_service
from upstack.store import path as store_path
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


@pytest.fixture
def team(path_team: Team) -> Team:
    """The path's team server (tests/path_team.py)."""
    return path_team


def _search(ws: Workspace) -> None:
    """A small search: an opportunity applied to, a contact of each level, exchanges with both."""
    opportunities.add(ws, kind="fellowship", organisation="MATS", role="Scholar", link="https://mats.example/apply",
                      deadline="2030-01-15")
    applications.add(ws, "mats-scholar", stage="applied", stretch="reach")
    applications.follow_up(ws, "mats-scholar", "2030-01-01")
    contacts.add(ws, "Grace Hopper", interests="compilers for interpretability", local_only=False)
    contacts.add(ws, "Alan Turing", interests="probes and linear features", local_only=True)
    contacts.log_exchange(ws, "alan", "sent", "Hello Alan, about probes...", follow_up="2030-02-01")
    contacts.log_exchange(ws, "grace", "sent", "Hello Grace...")


def test_a_local_only_contact_never_leaves_the_laptop(team: Team, tmp_path: Path) -> None:
    first, second = Workspace(home=tmp_path / "ada-1"), Workspace(home=tmp_path / "ada-2")
    _search(first)
    local = [e for e in store_path.events(first.store().db, store_path.OPS) if e.data.get("local_only")]
    assert {(e.op, e.subject) for e in local} == {("contact.set", "alan-turing"), ("outreach.log", "alan-turing")}
    assert not set(store_path.own_ids(first.store().db)) & {e.id for e in local}
    for laptop in (first, second):
        sync_service.login(laptop, team.server.url, team.token(team.ada))
    pushed = sync_service.sync(first).pushed
    assert pushed == len(store_path.events(first.store().db, store_path.OPS)) - len(local)
    rows = path_rows(team)
    assert "alan-turing" not in {r["subject"] for r in rows}
    assert "Hello Alan" not in str(rows)
    assert {r["person"] for r in rows} == {team.ada.id}

    sync_service.sync(second)
    assert [c.slug for c in contacts.contacts(second)] == ["grace-hopper"]
    assert [a.slug for a in applications.applications(second)] == ["mats-scholar"]
    assert [c.slug for c in contacts.contacts(first)] == ["alan-turing", "grace-hopper"]
    again = sync_service.sync(first)
    assert (again.pushed, again.pulled, again.refused) == (0, 0, [])


def test_the_door_refuses_a_record_that_says_it_is_local_only(team: Team) -> None:
    for flag in (True, False, "yes"):
        record = {"id": new_id(), "op": "contact.set", "workspace": "laptop", "at": now_iso(),
                  "data": {"subject": "alan-turing", "at": now_iso(), "change": "add", "name": "Alan",
                           "local_only": flag}}
        with access.acting_as(team.audience(team.ada)):
            answer = sync_door.accept(team.ws, [record], team.audience(team.ada))
        assert answer["applied"] == 0 and "local-only" in answer["refused"][0]["reason"], flag
    assert path_rows(team) == []


def test_the_pipeline_is_private_until_shown_and_contacts_only_when_named(team: Team) -> None:
    with access.acting_as(team.audience(team.ada)):
        _search(team.ws)
        path_access.show(team.ws, "bob", ("ladder",))
        path_access.show(team.ws, "cy", ("pipeline", "contacts"))
    with access.acting_as(team.audience(team.bob)):  # shown the ladder: no pipeline, no contacts
        assert opportunities.opportunities(team.ws) == [] and contacts.contacts(team.ws) == []
        assert due.due(team.ws, days=due.MAX_DAYS) == []
        shown = path_access.path_of(team.ws, "ada")
        assert shown["pipeline"] is None and shown["contacts"] is None
        for part in ("pipeline", "contacts"):
            with pytest.raises(NotFound):
                path_access.person_for(team.ws, "ada", part)
    with access.acting_as(team.audience(team.cy)):  # shown both: never the local-only contact
        shown = path_access.path_of(team.ws, "ada")
        assert [a["slug"] for a in shown["pipeline"]["applications"]] == ["mats-scholar"]
        assert [c["slug"] for c in shown["contacts"]] == ["grace-hopper"]
        assert "Hello Alan" not in str(shown)
        assert due.due(team.ws, days=due.MAX_DAYS) == []  # what is due is only ever one's own
    with access.acting_as(team.audience(team.ada)):
        kinds = {(item.kind, item.ref) for item in due.due(team.ws, days=due.MAX_DAYS)}
        assert kinds == {("follow-up", "mats-scholar"), ("follow-up", "alan-turing")}


def test_a_share_of_the_pipeline_is_a_part_the_door_takes(team: Team) -> None:
    record = {"id": new_id(), "op": "path.share", "workspace": "laptop", "at": now_iso(),
              "data": {"subject": "bob", "at": now_iso(), "parts": ["pipeline", "contacts"]}}
    with access.acting_as(team.audience(team.ada)):
        answer = sync_door.accept(team.ws, [record], team.audience(team.ada))
        assert (answer["applied"], answer["refused"]) == (1, [])
    with access.acting_as(team.audience(team.bob)):
        assert [(s.login, s.parts) for s in path_access.shown_to_me(team.ws)] == [("ada", ("pipeline", "contacts"))]


@pytest.mark.parametrize("op, data, wrong", [
    ("apply.stage", {"stage": "../../pwn", "when": "2026-11-01"}, "stage"),
    ("apply.stage", {"stage": "screen", "when": "not-a-date"}, "when"),
    ("apply.stage", {"when": "2026-11-01"}, "stage"),
    ("apply.set", {"change": "edit", "contacts": "grace-hopper"}, "contacts"),
    ("apply.set", {"change": "edit", "follow_up": "tomorrow"}, "follow_up"),
    ("apply.set", {"change": "edit", "stretch": "moonshot"}, "stretch"),
    ("opp.set", {"change": "add", "organisation": "Lab", "deadline": "soon"}, "deadline"),
    ("contact.set", {"change": "edit", "follow_up": "2026-13-40"}, "follow_up"),
    ("outreach.log", {"kind": "sent", "when": "yesterday"}, "when"),
])
def test_a_pipeline_record_whose_fields_mean_nothing_is_refused_at_the_door(
        team: Team, op: str, data: dict[str, object], wrong: str) -> None:
    record = {"id": new_id(), "op": op, "workspace": "laptop", "at": now_iso(),
              "data": {"subject": "x1", "at": now_iso(), **data}}
    with access.acting_as(team.audience(team.ada)):
        answer = sync_door.accept(team.ws, [record], team.audience(team.ada))
    assert answer["applied"] == 0 and wrong in answer["refused"][0]["reason"], answer
    assert path_rows(team) == []
