"""Changes whose order comes from time (issue 12, item 18).

Revision numbers: the same entry edited on two machines that sync through a real team server
ends with the same numbering on both machines and the server, whatever order the edits reached
each. A clock stepped back: a change of a node (or of an idea's state) made after another is
applied and shown, not filed behind it. On both engines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import CLI
from upstack.services import accounts, capture, curate, recall
from upstack.services import sync as sync_service
from upstack.workspace import Workspace
from webserver import Server, serve


@pytest.fixture
def server(tmp_path: Path, db_url: str | None) -> Iterator[tuple[Workspace, Server, accounts.User]]:
    home = tmp_path / "server"
    ws = Workspace(home=home, db=db_url)
    ada, _ = accounts.add_user(ws, "ada")
    with serve(home, db_url, token=None) as running:
        yield ws, running, ada
    ws.close()


def _numbering(ws: Workspace, entry_id: str) -> list[tuple[int, str, str]]:
    return [(r.number, r.id, r.title) for r in recall.history(ws, entry_id)[1]]


def test_an_entry_edited_on_two_machines_is_numbered_alike_everywhere(
        server: tuple[Workspace, Server, accounts.User], engine: str, tmp_path: Path,
        make_pg_url: Callable[[], str]) -> None:
    server_ws, running, ada = server
    laptop = Workspace(home=tmp_path / "laptop")
    desktop = Workspace(home=tmp_path / "desktop", db=make_pg_url() if engine == "postgresql" else None)
    for machine in (laptop, desktop):
        sync_service.login(machine, running.url, accounts.create_token(server_ws, ada.id, machine.home.name)[1])
    note = capture.note(laptop, "Layer 6 probe is best.")
    sync_service.sync(laptop)
    sync_service.sync(desktop)

    # Made apart, the desktop's first: each machine and the server get them in another order.
    curate.edit(desktop, note.id, "Layer 6 probe is best, desktop edit.")
    curate.edit(laptop, note.id, "Layer 6 probe is best, laptop edit.")
    sync_service.sync(laptop)   # the server: the laptop's edit, then the desktop's
    sync_service.sync(desktop)  # the desktop: its own edit, then the laptop's
    sync_service.sync(laptop)
    curate.edit(laptop, note.id, "Layer 6 probe is best, settled.")  # after both
    sync_service.sync(laptop)
    sync_service.sync(desktop)

    expected = ["Layer 6 probe is best.", "Layer 6 probe is best, desktop edit.",
                "Layer 6 probe is best, laptop edit.", "Layer 6 probe is best, settled."]
    on_laptop = _numbering(laptop, note.id)
    assert [title for _, _, title in on_laptop] == expected
    assert [number for number, _, _ in on_laptop] == [1, 2, 3, 4]
    assert _numbering(desktop, note.id) == on_laptop
    assert _numbering(server_ws, note.id) == on_laptop
    assert recall.show(desktop, note.id).title == recall.show(laptop, note.id).title == expected[-1]
    laptop.close()
    desktop.close()


FUTURE = "2999-01-01T00:00:00.000000Z"


def _stamped_in_the_future(run: CLI, object_id: str) -> None:
    """The changes made so far carry a time ahead of this clock: the clock has been stepped back
    since (or they came from a machine whose clock is ahead)."""
    with Workspace(home=run.home, db=run.db_url) as ws:
        db = ws.store().db
        with db.transaction():
            db.execute("UPDATE node_events SET at = ? WHERE node_id = ?", (FUTURE, object_id))
            db.execute("UPDATE idea_events SET at = ? WHERE entry_id = ?", (FUTURE, object_id))


def test_a_node_change_made_after_the_clock_stepped_back_is_applied(run: CLI) -> None:
    node = json.loads(run.ok("add", "project", "Probing", "--why", "Tests the method.", "--json"))["id"]
    run.ok("node", "status", node, "active")
    _stamped_in_the_future(run, node)

    run.ok("node", "status", node, "blocked", "--reason", "waiting for GPUs")
    run.ok("node", "edit", node, "--title", "Probing, narrowed")
    shown = json.loads(run.ok("node", "show", node, "--json"))
    assert (shown["status"], shown["title"]) == ("blocked", "Probing, narrowed")
    assert [(e["change"], e["new_value"]) for e in shown["history"]][-2:] == [
        ("status", "blocked"), ("title", "Probing, narrowed")]


def test_an_idea_changed_after_the_clock_stepped_back_shows_its_latest_reason(run: CLI) -> None:
    idea = json.loads(run.ok("idea", "Probe for deception in the residual stream.", "--json"))["entry_id"]
    run.ok("derisk", idea, "--reason", "cheapest test first")
    _stamped_in_the_future(run, idea)

    parked = json.loads(run.ok("park", idea, "--reason", "waiting for compute", "--json"))
    assert (parked["state"], parked["reason"]) == ("parked", "waiting for compute")
