"""The team server the path's tests share (tests/test_path_sync.py, test_pipeline_sync.py,
test_attack16.py, as their fixture `team`; conftest registers `path_team`): olga owns the server's
log; ada, bob and cy are members, each with their own path. The server's store on the engine under
test, served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from upstack.domain import access
from upstack.services import accounts
from upstack.services.jsondump import dump_tables
from upstack.workspace import Workspace
from webserver import Server, serve


@dataclass
class Team:
    server: Server
    ws: Workspace
    ada: accounts.User
    bob: accounts.User
    cy: accounts.User

    def token(self, user: accounts.User) -> str:
        return accounts.create_token(self.ws, user.id, "laptop")[1]

    def audience(self, user: accounts.User) -> access.Audience:
        return accounts.audience_for(self.ws, user)


@pytest.fixture
def path_team(tmp_path: Path, db_url: str | None) -> Iterator[Team]:
    home = tmp_path / "server"
    ws = Workspace(home=home, db=db_url)
    accounts.add_user(ws, "olga")  # owns the server's log: ada, bob and cy are members
    ada, _ = accounts.add_user(ws, "ada")
    bob, _ = accounts.add_user(ws, "bob")
    cy, _ = accounts.add_user(ws, "cy")
    with serve(home, db_url, token=None) as server:
        yield Team(server, ws, ada, bob, cy)
    ws.close()


def path_rows(team: Team) -> list[dict[str, Any]]:
    """Every path record the server keeps, whoever's (read as the server's owner)."""
    with access.acting_as(access.OWNER):
        return dump_tables(team.ws.store().db)["path_records"]
