"""Shared helpers for the attack tests (tests/test_attack_*.py, an independent attack on the team server: each
finding became a test): a small team server (ada owns a project; bob viewer, eve editor, mal outsider)
and API clients per user. Test docstrings describe each hole as it was found; their assertions
show it closed. tests/test_team_trust.py uses the same team."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from upstack.domain import access
from upstack.ids import new_id
from upstack.services import accounts, tree
from upstack.timeutil import now_iso
from upstack.workspace import Workspace
from webserver import Server, serve


@dataclass
class Team:
    server: Server
    ws: Workspace
    project: str
    ada: accounts.User
    bob: accounts.User
    eve: accounts.User
    mal: accounts.User

    def as_user(self, user: accounts.User) -> access.Audience:
        return accounts.audience_for(self.ws, user)

    def api(self, user: accounts.User) -> httpx.Client:
        token = accounts.create_token(self.ws, user.id, "laptop")[1]
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        client = httpx.Client(base_url=self.server.url, headers=headers, timeout=60)
        self.server.clients.append(client)
        return client


@pytest.fixture
def team(tmp_path: Path, db_url: str | None) -> Iterator[Team]:
    home = tmp_path / "server"
    ws = Workspace(home=home, db=db_url)
    ada, _ = accounts.add_user(ws, "ada")
    bob, _ = accounts.add_user(ws, "bob")
    eve, _ = accounts.add_user(ws, "eve")
    mal, _ = accounts.add_user(ws, "mal")
    with access.acting_as(access.OWNER):
        project = tree.add_node(ws, "project", "Probing", why="Shared.")
    accounts.share(ws, project.id, "bob", "viewer", by=None)
    accounts.share(ws, project.id, "eve", "editor", by=None)
    with serve(home, db_url, token=None) as server:
        yield Team(server, ws, project.id, ada, bob, eve, mal)
    ws.close()


def rec(op: str, data: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"id": new_id(), "op": op, "workspace": "laptop", "at": now_iso(), "data": data, **over}


def entry_create(entry_id: str | None = None, node_id: str | None = None, **more: Any) -> dict[str, Any]:
    at = now_iso()
    return {"id": entry_id or new_id(), "revision_id": new_id(), "kind": "note", "title": "QUATTACK note",
            "body": "body", "node_id": node_id, "occurred_at": at, "created_at": at, **more}


def node_create(node_id: str | None = None, parent_id: str | None = None, **more: Any) -> dict[str, Any]:
    return {"id": node_id or new_id(), "kind": "question", "title": "QUATTACK node", "parent_id": parent_id,
            "created_at": now_iso(), **more}


def run_records(run_id: str, node_id: str | None, *, end: bool = True, start: dict[str, Any] | None = None,
                extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    records = [rec("run.start", {"run_id": run_id, "name": "QUATTACK run", "node_id": node_id,
                                 "started_at": now_iso(), **(start or {})})]
    records += extra or []
    if end:
        records.append(rec("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()}))
    return records


def status(client: httpx.Client, path: str, method: str = "GET", **options: Any) -> int:
    """The answer's status; 599 when the server dropped the connection (an exception escaped)."""
    try:
        return client.request(method, path, **options).status_code
    except httpx.TransportError:
        return 599
