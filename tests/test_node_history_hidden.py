"""A node's history never names a node its reader cannot open: a move to or from one says "a node
you cannot open", never its id or title, on the node page, its JSON twin and in the CLI (both
engines)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import CLI
from upstack.ids import new_id, short_id
from upstack.services import accounts, tree
from upstack.services import sync as sync_service
from upstack.timeutil import now_iso
from upstack.workspace import Workspace
from webserver import Server, serve

HIDDEN = "a node you cannot open"


@dataclass
class Moved:
    server: Server
    project: str  # shared with bob as viewer; moved under the secret agenda and back
    secret: str  # ada's agenda, shared with nobody
    sessions: dict[str, str]
    bob_token: str

    def client(self, who: str) -> httpx.Client:
        made = httpx.Client(base_url=self.server.url, cookies={"upstack_session": self.sessions[who]}, timeout=30)
        self.server.clients.append(made)
        return made

    def leaks(self, text: str) -> list[str]:
        return [s for s in (self.secret, short_id(self.secret), self.secret.lower(), "QUSECRETAGENDA")
                if s in text]


@pytest.fixture
def moved(tmp_path: Path, db_url: str | None) -> Iterator[Moved]:
    home = tmp_path / "server"
    with Workspace(home=home, db=db_url) as ws:
        ada, _ = accounts.add_user(ws, "ada")
        bob, _ = accounts.add_user(ws, "bob")
        secret = tree.add_node(ws, "agenda", "QUSECRETAGENDA", why="Nobody else's business.")
        project = tree.add_node(ws, "project", "Shared probing", why="Shared with bob.")
        accounts.share(ws, project.id, "bob", "viewer", by=None)
        tree.move_node(ws, project.id, secret.id)
        tree.move_node(ws, project.id, None)
        sessions = {"ada": accounts.start_session(ws, ada), "bob": accounts.start_session(ws, bob)}
        token = accounts.create_token(ws, bob.id, "laptop")[1]
    with serve(home, db_url, token=None) as server:
        yield Moved(server, project.id, secret.id, sessions, token)


def test_the_node_page_and_its_json_hide_a_parent_the_reader_cannot_open(moved: Moved) -> None:
    bob = moved.client("bob")
    page = bob.get(f"/tree/{short_id(moved.project)}")
    assert page.status_code == 200
    assert f"moved from the top to {HIDDEN}" in page.text and f"moved from {HIDDEN} to the top" in page.text
    assert moved.leaks(page.text) == []
    answer = bob.get(f"/tree/{short_id(moved.project)}.json")
    moves = [e for e in answer.json()["history"] if e["change"] == "parent"]
    assert [(e["old_value"], e["old_hidden"], e["new_value"], e["new_hidden"]) for e in moves] == [
        (None, False, None, True), (None, True, None, False)]
    assert moved.leaks(answer.text) == []


def test_the_owner_still_sees_where_the_node_went(moved: Moved) -> None:
    page = moved.client("ada").get(f"/tree/{short_id(moved.project)}.json").json()
    moves = [e for e in page["history"] if e["change"] == "parent"]
    assert [e["new_value"] for e in moves] == [moved.secret, None]
    assert not any(e["old_hidden"] or e["new_hidden"] for e in moves)
    assert f"moved from the top to {short_id(moved.secret)}" in \
        moved.client("ada").get(f"/tree/{short_id(moved.project)}").text


def test_a_synced_laptop_shows_no_hidden_parent_in_the_cli(moved: Moved, tmp_path: Path) -> None:
    laptop = CLI(tmp_path / "laptop", None)
    with Workspace(home=laptop.home) as ws:
        sync_service.login(ws, moved.server.url, moved.bob_token)
    result = laptop("sync")
    assert result.exit_code == 0 and moved.leaks(result.output) == []
    shown = laptop.ok("node", "show", short_id(moved.project))
    as_json = laptop.ok("node", "show", short_id(moved.project), "--json")
    assert moved.leaks(shown) == [] and moved.leaks(as_json) == []


def test_the_cli_says_hidden_for_a_parent_that_is_not_in_this_store(workspace: Workspace, run: CLI) -> None:
    """A laptop's history may name a parent that never came with a sync (the server kept it from
    this reader): its id is not shown. The event is written here as such a sync would leave it."""
    project = tree.add_node(workspace, "project", "Shared probing", why="Moved about.")
    elsewhere = new_id()
    with workspace.store().db.transaction() as db:
        db.execute("INSERT INTO node_events (id, node_id, at, change, old_value, new_value, reason) "
                   "VALUES (?, ?, ?, 'parent', NULL, ?, '')", (new_id(), project.id, now_iso(), elsewhere))
    shown = run.ok("node", "show", project.short)
    assert f"moved from the top to {HIDDEN}" in shown
    as_json = run.ok("node", "show", project.short, "--json")
    assert elsewhere not in as_json and short_id(elsewhere) not in shown + as_json
