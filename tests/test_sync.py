"""`upstack login` and `upstack sync` against a real team server (real HTTP, the server's store on
both engines, the laptop on SQLite): push and pull, idempotence, resuming, conflicts, permissions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import CLI
from upstack.domain import access
from upstack.interop.jsondump import dump_tables
from upstack.services import accounts, capture, curate, recall, tree
from upstack.services import sync as sync_service
from upstack.services.workspace import Workspace
from webserver import Server, serve

PNG = b"\x89PNG\r\n\x1a\n" + b"7" * 64


@dataclass
class Team:
    server: Server
    ws: Workspace  # the server's workspace
    project: str  # ada's project, shared with bob as viewer
    ada: accounts.User
    bob: accounts.User

    def token(self, user: accounts.User) -> str:
        return accounts.create_token(self.ws, user.id, "laptop")[1]

    def as_user(self, user: accounts.User) -> access.Audience:
        return accounts.audience_for(self.ws, user)


@pytest.fixture
def team(tmp_path: Path, db_url: str | None) -> Iterator[Team]:
    home = tmp_path / "server"
    ws = Workspace(home=home, db=db_url)
    ada, _ = accounts.add_user(ws, "ada")
    bob, _ = accounts.add_user(ws, "bob")
    project = tree.add_node(ws, "project", "Probing", why="Shared with bob.")
    capture.note(ws, "Server note on probes.", under=project.id)
    accounts.share(ws, project.id, "bob", "viewer", by=None)
    with serve(home, db_url, token=None) as server:
        yield Team(server, ws, project.id, ada, bob)
    ws.close()


def _laptop(tmp_path: Path, name: str) -> Workspace:
    return Workspace(home=tmp_path / name)


def _titles(ws: Workspace) -> list[str]:
    return sorted(e.title for e in recall.timeline(ws, None, None))


def test_sync_pushes_and_pulls_and_a_second_sync_changes_nothing(team: Team, tmp_path: Path) -> None:
    laptop = _laptop(tmp_path, "laptop")
    figure = tmp_path / "fig.png"
    figure.write_bytes(PNG)
    mine = tree.add_node(laptop, "project", "Laptop project", why="Offline work.")
    with_figure = capture.note(laptop, "Probe accuracy plot. #probe", attach=[figure], under=mine.id)
    capture.note(laptop, "Slept badly.", private=True)
    sync_service.login(laptop, team.server.url, team.token(team.ada))

    first = sync_service.sync(laptop)
    assert (first.pushed, first.files_sent, first.refused, first.conflicts) == (4, 1, [], [])
    assert first.pulled == 2  # the server's project and its note
    assert _titles(laptop) == _titles(team.ws) == ["Probe accuracy plot.", "Server note on probes.", "Slept badly."]
    on_server = recall.show(team.ws, with_figure.id)
    assert on_server.author_id == team.ada.id and on_server.node_id == mine.id
    assert team.ws.blobs.read(on_server.attachments[0].sha256 or "") == PNG

    before = (dump_tables(laptop.store().db), dump_tables(team.ws.store().db))
    again = sync_service.sync(laptop)
    assert (again.pushed, again.pulled, again.files_sent, again.files_received) == (0, 0, 0, 0)
    assert (dump_tables(laptop.store().db), dump_tables(team.ws.store().db)) == before
    laptop.close()


def test_an_entry_edited_on_both_sides_keeps_both_revisions_on_both(team: Team, tmp_path: Path) -> None:
    laptop = _laptop(tmp_path, "laptop")
    note = capture.note(laptop, "Layer 6 probe is best.")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    sync_service.sync(laptop)
    curate.edit(laptop, note.id, "Layer 6 probe is best, on held-out data.")
    with access.acting_as(team.as_user(team.ada)):
        curate.edit(team.ws, note.id, "Layer 6 probe is best (server edit).")

    report = sync_service.sync(laptop)
    assert report.conflicts == [note.id]
    laptop_entry, laptop_revisions = recall.history(laptop, note.id)
    server_entry, server_revisions = recall.history(team.ws, note.id)
    assert sorted(r.id for r in laptop_revisions) == sorted(r.id for r in server_revisions)
    assert len(laptop_revisions) == 3  # the original and both edits: nothing overwritten
    assert laptop_entry.title == server_entry.title == "Layer 6 probe is best (server edit)."  # the newer
    assert laptop_entry.meta["conflicts"] and server_entry.meta["conflicts"]
    page = team.server.client(signed_in=False)
    assert "conflict" not in page.get(f"/e/{note.id}").text  # not signed in: the login page, nothing else
    laptop.close()


def test_an_interrupted_sync_resumes_without_duplicates(team: Team, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    laptop = _laptop(tmp_path, "laptop")
    for n in range(7):
        capture.note(laptop, f"Offline note {n}.")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    monkeypatch.setattr(sync_service, "BATCH", 3)

    def cut(label: str, done: int, total: int) -> None:
        raise ConnectionError("the network went away")

    with pytest.raises(ConnectionError):
        sync_service.sync(laptop, cut)  # the first batch of 3 lands, then the connection is lost
    assert len(_titles(team.ws)) == 1 + 3
    report = sync_service.sync(laptop)
    assert report.pushed == 4
    titles = _titles(team.ws)
    assert titles == sorted(set(titles)) and len(titles) == 1 + 7
    laptop.close()


def test_what_a_user_may_not_change_stays_on_their_laptop_and_is_reported(team: Team, tmp_path: Path) -> None:
    laptop = _laptop(tmp_path, "bob-laptop")
    sync_service.login(laptop, team.server.url, team.token(team.bob))
    sync_service.sync(laptop)
    shared = next(e for e in recall.timeline(laptop, None, None) if e.title == "Server note on probes.")
    curate.edit(laptop, shared.id, "Server note on probes, rewritten by a viewer.")
    capture.note(laptop, "Bob's own idea.", under=team.project)  # a viewer may not file there

    before = dump_tables(team.ws.store().db)["entries"]
    report = sync_service.sync(laptop)
    assert sorted(r["reason"] for r in report.refused) == ["no such entry, or you may not change it",
                                                           "you may not add entries under that node"]
    assert dump_tables(team.ws.store().db)["entries"] == before
    assert recall.show(team.ws, shared.id).title == "Server note on probes."
    laptop.close()


def test_private_entries_pushed_stay_private_on_the_server(team: Team, tmp_path: Path) -> None:
    ada_laptop, bob_laptop = _laptop(tmp_path, "ada-laptop"), _laptop(tmp_path, "bob-laptop")
    capture.note(ada_laptop, "Private worry about the deadline.", private=True, under=None)
    sync_service.login(ada_laptop, team.server.url, team.token(team.ada))
    sync_service.sync(ada_laptop)
    sync_service.login(bob_laptop, team.server.url, team.token(team.bob))
    sync_service.sync(bob_laptop)
    assert _titles(bob_laptop) == ["Server note on probes."]
    with access.acting_as(team.as_user(team.bob)):
        assert "Private worry about the deadline." not in _titles(team.ws)
    ada_laptop.close()
    bob_laptop.close()


def test_login_and_sync_on_the_command_line(team: Team, tmp_path: Path) -> None:
    run = CLI(tmp_path / "cli-laptop", None)
    run.ok("note", "Written on the train.")
    token = team.token(team.ada)
    assert "as ada" in run.ok("login", team.server.url, "--token", token)
    assert (run.home / "remote.json").stat().st_mode & 0o077 == 0  # the token is the user's alone
    report = run.ok("sync", "--json")
    assert '"pushed": 1' in report and '"pulled": 2' in report

    bad = run("login", team.server.url, "--token", "upstack_not-a-token")
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1 and "refused the token" in bad.stderr
    gone = CLI(tmp_path / "elsewhere", None)
    down = gone("login", "http://127.0.0.1:9", "--token", token)
    assert down.exit_code == 1 and "cannot reach" in down.stderr
    unlinked = gone("sync")
    assert unlinked.exit_code == 1 and "upstack login" in unlinked.stderr


def _push(team: Team, token: str, records: list[dict[str, object]]) -> dict[str, object]:
    import httpx

    answer = httpx.post(f"{team.server.url}/api/sync/push", json={"records": records},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_pushed_record_cannot_reach_into_what_the_pusher_may_not_change(team: Team, tmp_path: Path) -> None:
    """Naming an existing node (or entry, or file) in a push gives no rights over it."""
    from upstack.ids import new_id
    from upstack.timeutil import now_iso

    outsider, _ = accounts.add_user(team.ws, "olga")
    token = team.token(outsider)
    private = capture.note(team.ws, "Ada's private plot.", private=True, attach=[_figure(tmp_path)])
    sha = private.attachments[0].sha256
    at, entry_id = now_iso(), new_id()
    before = dump_tables(team.ws.store().db)
    answer = _push(team, token, [
        # The project exists: naming it again must not make it hers to file under.
        {"id": team.project, "op": "node.create", "workspace": "w", "at": at, "data": {
            "id": team.project, "kind": "project", "title": "x", "parent_id": None, "created_at": at}},
        {"id": entry_id, "op": "entry.create", "workspace": "w", "at": at, "data": {
            "id": entry_id, "revision_id": new_id(), "kind": "note", "title": "Planted.", "body": "",
            "node_id": team.project, "occurred_at": at, "created_at": at,
            "attachments": [{"id": new_id(), "sha256": sha, "filename": "stolen.png", "media_type": "image/png",
                             "size": 1, "created_at": at}]}},
        {"id": new_id(), "op": "entry.revise", "workspace": "w", "at": at, "data": {
            "entry_id": private.id, "revision_id": new_id(), "title": "Defaced.", "body": "", "created_at": at}},
    ])
    reasons = sorted(r["reason"] for r in answer["refused"])  # type: ignore[union-attr]
    assert reasons == ["no such entry, or you may not change it", "you may not add entries under that node",
                       "you may not add nodes there"]
    assert dump_tables(team.ws.store().db) == before
    # Her own unfiled entry may not carry someone else's file either: files come only through attach.
    own = new_id()
    _push(team, token, [{"id": own, "op": "entry.create", "workspace": "w", "at": at, "data": {
        "id": own, "revision_id": new_id(), "kind": "note", "title": "Mine.", "body": "", "node_id": None,
        "occurred_at": at, "created_at": at, "attachments": [{"id": new_id(), "sha256": sha, "filename": "s.png",
                                                              "media_type": "image/png", "size": 1,
                                                              "created_at": at}]}}])
    attach = _push(team, token, [{"id": new_id(), "op": "entry.attach", "workspace": "w", "at": at, "data": {
        "entry_id": own, "attachments": [{"id": new_id(), "sha256": sha, "filename": "s.png",
                                          "media_type": "image/png", "size": 1, "created_at": at}]}}])
    assert attach["refused"] and recall.show(team.ws, own).attachments == []
    import httpx

    assert httpx.get(f"{team.server.url}/api/blobs/{sha}", headers={"Authorization": f"Bearer {token}"},
                     timeout=30).status_code == 404


def _figure(tmp_path: Path) -> Path:
    path = tmp_path / "private.png"
    path.write_bytes(PNG + b"private")
    return path
