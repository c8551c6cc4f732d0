"""`upstack login` and `upstack sync` against a real team server (real HTTP, the server's store on
both engines, the laptop on SQLite): push and pull, idempotence, resuming, conflicts, permissions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from conftest import CLI
from upstack.domain import access
from upstack.services import accounts, capture, curate, recall, tree
from upstack.services import sync as sync_service
from upstack.services.jsondump import dump_tables
from upstack.workspace import Workspace
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
    own = next(e for e in recall.timeline(laptop, None, None) if e.title == "Bob's own idea.")
    assert sorted(r["subject"] for r in report.refused) == sorted([shared.id, own.id])  # what he knows them by
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

    assert httpx.get(f"{team.server.url}/api/blobs/{sha}", headers={"Authorization": f"Bearer {token}"},
                     timeout=30).status_code == 404


def _figure(tmp_path: Path) -> Path:
    path = tmp_path / "private.png"
    path.write_bytes(PNG + b"private")
    return path


# -- runs on the server ----------------------------------------------------------------------------

def _series(ws: Workspace, run_id: str, key: str) -> tuple[list[int], list[float], list[float]]:
    from upstack.store import runs

    steps, times, values = runs.read_series(ws.store().db, run_id, key)
    return list(steps), list(times), list(values)


def _result_revisions(ws: Workspace, run_id: str) -> list[str]:
    return sorted(r.id for r in recall.history(ws, run_id)[1])


def _wait_for(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_run_logs_live_to_the_server_where_collaborators_see_its_chart(team: Team, tmp_path: Path) -> None:
    from upstack.services.runstart import start_run
    from upstack.store import runs

    laptop = Workspace(home=tmp_path / "laptop", run_live_seconds=0.1, run_capture="none")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    sync_service.sync(laptop)  # the project comes to the laptop
    run = start_run(laptop, "probe-sweep", under=team.project, config={"lr": 0.01})
    for step in range(1000):
        run.log({"loss": 1 / (step + 1)}, step=step)

    def on_server() -> dict[str, object]:
        return runs.run_state(team.ws.store().db).get(run.id, {})

    _wait_for(lambda: on_server().get("metrics") == {"loss": 1000})  # while it runs
    assert on_server()["status"] == "running"
    run.figure(_figure(tmp_path))
    run.log({"loss": 0.0005, "acc": 0.9}, step=1000)
    run.summary(best_loss=0.0005, learned="Loss keeps falling past step 900.")
    run.finish()  # the last push goes as the run ends: no waiting
    assert on_server()["status"] == "finished" and on_server()["metrics"] == {"loss": 1001, "acc": 1}

    laptop.ingest()  # ingests the run's folder on the laptop
    assert _series(team.ws, run.id, "loss") == _series(laptop, run.id, "loss")
    assert _result_revisions(team.ws, run.id) == _result_revisions(laptop, run.id)  # one result, same ids
    assert recall.show(team.ws, run.id).author_id == team.ada.id
    viewer = {"Authorization": f"Bearer {team.token(team.bob)}"}  # bob may view ada's project
    chart = httpx.get(f"{team.server.url}/runs/{run.id}/series.json", params={"key": "loss"}, headers=viewer)
    assert chart.status_code == 200 and "loss" in chart.text

    before = (dump_tables(laptop.store().db), dump_tables(team.ws.store().db))
    again = sync_service.sync(laptop)
    assert (again.runs_sent, again.pushed, again.pulled, again.conflicts) == (0, 0, 0, [])
    assert (dump_tables(laptop.store().db), dump_tables(team.ws.store().db)) == before
    laptop.close()


def test_sync_sends_a_run_the_server_missed_in_pieces_and_resumes(team: Team, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.services import runsync
    from upstack.services.runstart import start_run
    from upstack.store import runs

    laptop = Workspace(home=tmp_path / "laptop", run_capture="none")
    with start_run(laptop, "offline") as run:  # not linked yet: the run stays on the laptop
        for step in range(1000):
            run.log({"loss": float(step), "l0": step % 7}, step=step)
        run.table([{"width": 16, "loss": 0.3}], title="widths")
    laptop.ingest()
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    monkeypatch.setattr(runsync, "PUSH_POINTS", 300)

    # An upload cut short: the start and the first 400 points of one metric reach the server.
    server = sync_service.remote(laptop)
    records = runs.run_records(laptop.store().db, run.id)
    steps, times, values = runs.read_series(laptop.store().db, run.id, "loss")
    runsync.send(server, run.id, records[:1], {"loss": (0, steps[:400], times[:400], values[:400])},
                 laptop.blobs.read, set())
    assert runs.run_state(team.ws.store().db)[run.id]["metrics"] == {"loss": 400}

    report = sync_service.sync(laptop)
    assert report.runs_sent == 1 and report.refused == []
    assert report.files_sent == 1  # the table's file, sent with the run, is counted ("pushed ... (1 file)")
    for key in ("loss", "l0"):
        assert _series(team.ws, run.id, key) == _series(laptop, run.id, key)
    assert _result_revisions(team.ws, run.id) == _result_revisions(laptop, run.id)
    state = runs.run_state(team.ws.store().db)[run.id]
    assert state["status"] == "finished" and len(state["items"]) == 1

    # Sending again, from an earlier point and in other pieces: nothing is kept twice.
    answer = runsync.send(server, run.id, records, {"loss": (200, steps[200:], times[200:], values[200:])},
                          laptop.blobs.read, set())
    assert answer["metrics"] == {"loss": 1000, "l0": 1000}
    assert _series(team.ws, run.id, "loss") == _series(laptop, run.id, "loss")
    assert sync_service.sync(laptop).runs_sent == 0
    laptop.close()


def _run_push(team: Team, token: str, run_id: str, records: list[dict[str, object]],
              points: dict[str, object] | None = None) -> httpx.Response:
    return httpx.post(f"{team.server.url}/api/runs/{run_id}/push", json={"records": records, "points": points or {}},
                      headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=30)


def _points(start: int, values: list[float]) -> dict[str, object]:
    from array import array

    from upstack.services.runsync import wire_points

    return wire_points(start, array("q", range(start, start + len(values))), array("d", [0.0] * len(values)),
                       array("d", values))


def test_a_run_push_cannot_reach_into_what_the_pusher_may_not_change(team: Team, tmp_path: Path) -> None:
    from upstack.ids import new_id
    from upstack.store import runs

    ada, bob = team.token(team.ada), team.token(team.bob)

    def start(run_id: str, **data: object) -> dict[str, object]:
        return {"id": new_id(), "op": "run.start", "workspace": "w", "at": "2026-01-01T00:00:00.000000Z",
                "data": {"run_id": run_id, "name": "r", "started_at": "2026-01-01T00:00:00.000000Z", **data}}

    ada_run = new_id()
    assert _run_push(team, ada, ada_run, [start(ada_run, node_id=team.project)], {"loss": _points(0, [1.0, 2.0])}
                     ).json()["metrics"] == {"loss": 2}
    bob_run = new_id()
    refusals = {
        "under a node bob may only view": _run_push(team, bob, bob_run, [start(bob_run, node_id=team.project)]),
        "under a node by short id": _run_push(team, bob, bob_run, [start(bob_run, node_ref=team.project[-7:])]),
        "logging to ada's run": _run_push(team, bob, ada_run, [], {"loss": _points(2, [9.0])}),
        "re-starting ada's run as his": _run_push(team, bob, ada_run, [start(ada_run)]),
        "a gap in the points": _run_push(team, ada, ada_run, [], {"loss": _points(5, [9.0])}),
        "points that are not numbers": _run_push(team, ada, ada_run, [], {"loss": {"from": 2, "steps": "%%",
                                                                                   "times": "", "values": ""}}),
        "a record of another run": _run_push(team, ada, ada_run, [start(bob_run)]),
        "a file he did not upload": _run_push(team, bob, bob_run, [start(bob_run), {
            "id": new_id(), "op": "run.figure", "workspace": "w", "at": "2026-01-01T00:00:01.000000Z",
            "data": {"run_id": bob_run, "title": "", "attachments": [{"id": new_id(), "sha256": "0" * 64,
                                                                      "filename": "x.png"}]}}]),
        "an entry record": _run_push(team, ada, ada_run, [{"id": new_id(), "op": "entry.delete", "workspace": "w",
                                                           "at": "2026", "data": {"run_id": ada_run}}]),
    }
    assert {what: answer.status_code for what, answer in refusals.items()} == {
        what: 404 if "ada's run" in what else 400 for what in refusals}
    reasons = {what: answer.json()["error"] for what, answer in refusals.items()}
    assert [r for r in reasons.values() if len(r) > 300 or "\n" in r] == [], reasons  # one line each
    state = runs.run_state(team.ws.store().db)
    assert bob_run not in state and state[ada_run]["metrics"] == {"loss": 2}
    assert _series(team.ws, ada_run, "loss")[2] == [1.0, 2.0]
    with access.acting_as(team.as_user(team.bob)):  # he may see her run (the project is shared) ...
        assert runs.load_run(team.ws.store().db, ada_run).author_id == team.ada.id


def test_a_run_that_falls_silent_on_the_server_is_marked_crashed_and_can_come_back(team: Team) -> None:
    from upstack.ids import new_id
    from upstack.services.runsync import accept_run
    from upstack.store import runs

    ada = team.as_user(team.ada)
    run_id = new_id()
    start = {"id": new_id(), "op": "run.start", "workspace": "w", "at": "2026-01-01T00:00:00.000000Z",
             "data": {"run_id": run_id, "name": "far away", "started_at": "2026-01-01T00:00:00.000000Z"}}
    accept_run(team.ws, run_id, [start], {"loss": _points(0, [1.0])}, ada)
    db = team.ws.store().db
    team.ws.ingest()
    assert runs.run_state(db)[run_id]["status"] == "running"  # heard from just now
    with db.transaction():
        db.execute("UPDATE runs SET heartbeat_at = '2026-01-01T00:00:05.000000Z' WHERE id = ?", (run_id,))
    team.ws.ingest()
    assert runs.run_state(db)[run_id]["status"] == "crashed"
    assert "crashed" in recall.show(team.ws, run_id).title.lower()  # its result entry says so
    answer = accept_run(team.ws, run_id, [], {"loss": _points(1, [0.5])}, ada)  # only out of touch
    assert answer["status"] == "running" and answer["metrics"] == {"loss": 2}


# -- node changes ----------------------------------------------------------------------------------

def _node(ws: Workspace, node_id: str) -> tuple[str, str, str, str | None, bool]:
    from upstack.store.tree import load_node

    node = load_node(ws.store().db, node_id)
    return node.title, node.why, node.status, node.parent_id, bool(node.deleted_at)


def test_node_changes_sync_both_ways_and_the_newest_shows_on_both(team: Team, tmp_path: Path) -> None:
    laptop = _laptop(tmp_path, "laptop")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    mine = tree.add_node(laptop, "project", "Laptop project", why="Offline work.")
    question = tree.add_node(laptop, "question", "Does it transfer?", under=mine.id, why="If not, stop.")
    sync_service.sync(laptop)

    tree.edit_node(laptop, mine.id, title="Laptop project, renamed", why="Offline work, and why it matters.")
    tree.set_status(laptop, question.id, "blocked", reason="Waiting for the GPU")
    with access.acting_as(team.as_user(team.ada)):
        tree.edit_node(team.ws, team.project, why="Shared with bob; edited on the server.")
    report = sync_service.sync(laptop)
    assert report.refused == []
    for node_id in (mine.id, question.id, team.project):
        assert _node(laptop, node_id) == _node(team.ws, node_id)
    assert _node(team.ws, mine.id)[:2] == ("Laptop project, renamed", "Offline work, and why it matters.")
    assert _node(team.ws, question.id)[2] == "blocked"
    assert _node(laptop, team.project)[1] == "Shared with bob; edited on the server."

    # The same field changed on both sides: both changes stay in the history, the newer shows on both.
    tree.edit_node(laptop, mine.id, title="Older title (laptop)")
    with access.acting_as(team.as_user(team.ada)):
        tree.edit_node(team.ws, mine.id, title="Newer title (server)")
    sync_service.sync(laptop)
    assert _node(laptop, mine.id)[0] == _node(team.ws, mine.id)[0] == "Newer title (server)"
    before = (dump_tables(laptop.store().db), dump_tables(team.ws.store().db))
    again = sync_service.sync(laptop)
    assert (again.pushed, again.pulled) == (0, 0)
    assert (dump_tables(laptop.store().db), dump_tables(team.ws.store().db)) == before
    laptop.close()


def test_a_viewer_cannot_change_a_shared_node_by_sync(team: Team, tmp_path: Path) -> None:
    laptop = _laptop(tmp_path, "bob-laptop")
    sync_service.login(laptop, team.server.url, team.token(team.bob))
    sync_service.sync(laptop)
    tree.edit_node(laptop, team.project, title="Bob's name for it")
    tree.set_status(laptop, team.project, "done", reason="Bob says so")
    report = sync_service.sync(laptop)
    assert {r["op"] for r in report.refused} == {"node.edit", "node.status"}
    assert _node(team.ws, team.project)[:3] == ("Probing", "Shared with bob.", "open")
    laptop.close()


def test_editing_a_nodes_title_and_why_at_once_keeps_both(tmp_path: Path) -> None:
    ws = Workspace(home=tmp_path / "ws")
    node = tree.add_node(ws, "project", "Old", why="Old why.")
    tree.edit_node(ws, node.id, title="New", why="New why.")
    assert _node(ws, node.id)[:2] == ("New", "New why.")
    ws.close()


def test_a_run_logged_from_the_cluster_reaches_the_laptop_and_a_collaborator(
        team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.services import runsync
    from upstack.services.runstart import start_run
    from upstack.services.sync_records import parse_record
    from upstack.store import runs

    cluster = Workspace(home=tmp_path / "cluster", run_live_seconds=0.1, run_capture="none")
    sync_service.login(cluster, team.server.url, team.token(team.ada))
    sync_service.sync(cluster)
    with start_run(cluster, "on-the-cluster", under=team.project) as shared_run:
        for step in range(700):
            shared_run.log({"loss": 1 / (step + 1), "acc": step / 700}, step=step)
        shared_run.figure(_figure(tmp_path))
    with start_run(cluster, "just-mine") as own_run:  # filed nowhere: ada's alone
        own_run.log({"loss": 1.0})
    cluster.ingest()

    monkeypatch.setattr(runsync, "PUSH_POINTS", 500)  # pulled in pieces
    laptop = _laptop(tmp_path, "laptop")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    # A pull cut short after its first piece leaves an ended run missing points (never a silent
    # run to be marked crashed), and no result yet; the next sync takes the rest.
    first = sync_service.remote(laptop).json("POST", f"/api/runs/{shared_run.id}/pull", {"have": {}})
    assert first["more"]
    records = [parse_record(r, runsync.RUN_OPS) for r in first["records"]]
    runsync.take(laptop.store(), shared_run.id, records,
                 {key: runsync._decode(key, value) for key, value in first["points"].items()}, complete=False)
    laptop.ingest()
    assert runs.run_state(laptop.store().db)[shared_run.id]["status"] == "finished"
    assert sum(runs.run_state(laptop.store().db)[shared_run.id]["metrics"].values()) == 500
    report = sync_service.sync(laptop)
    assert report.runs_received == 2 and report.runs_sent == 0 and report.conflicts == []
    for key in ("loss", "acc"):
        assert _series(laptop, shared_run.id, key) == _series(cluster, shared_run.id, key)
    assert _result_revisions(laptop, shared_run.id) == _result_revisions(cluster, shared_run.id)
    figure = next(a for a in recall.show(laptop, shared_run.id).attachments if a.filename.endswith(".png"))
    assert laptop.blobs.read(figure.sha256 or "") == (PNG + b"private")
    before = dump_tables(laptop.store().db)
    again = sync_service.sync(laptop)
    assert (again.runs_sent, again.runs_received, again.pushed, again.pulled) == (0, 0, 0, 0)
    assert dump_tables(laptop.store().db) == before

    bobs = _laptop(tmp_path, "bob-laptop")  # a viewer of the project: its run, not ada's own
    sync_service.login(bobs, team.server.url, team.token(team.bob))
    assert sync_service.sync(bobs).runs_received == 1
    assert set(runs.run_state(bobs.store().db)) == {shared_run.id}
    for ws in (cluster, laptop, bobs):
        ws.close()


def test_a_live_run_the_server_refuses_or_cannot_reach_is_kept_and_says_so(
        team: Team, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from upstack.services.runstart import start_run
    from upstack.store import runs

    laptop = Workspace(home=tmp_path / "bob-laptop", run_live_seconds=0.05, run_capture="none")
    sync_service.login(laptop, team.server.url, team.token(team.bob))
    sync_service.sync(laptop)
    with start_run(laptop, "under a project bob only views", under=team.project) as refused:
        refused.log({"loss": 1.0})
        time.sleep(0.2)  # a few pushes, all refused
    assert f"refused run {refused.short}" in capsys.readouterr().err
    assert refused.id not in runs.run_state(team.ws.store().db)

    remote = json.loads((laptop.home / "remote.json").read_text())
    (laptop.home / "remote.json").write_text(json.dumps({**remote, "url": "http://127.0.0.1:9"}))  # nobody there
    with start_run(laptop, "offline") as offline:
        offline.log({"loss": 2.0})
    err = capsys.readouterr().err
    assert "did not reach http://127.0.0.1:9" in err and "`upstack sync` sends it" in err
    laptop.ingest()
    assert {refused.id, offline.id} <= set(runs.run_state(laptop.store().db))  # both kept on the laptop
    laptop.close()


@pytest.mark.parametrize("ingest_between", [False, True], ids=["folder-kept", "folder-retired"])
def test_a_resumed_run_goes_on_logging_live_where_it_stopped(team: Team, tmp_path: Path,
                                                             ingest_between: bool) -> None:
    from upstack.services.runstart import start_run
    from upstack.store import runs

    laptop = Workspace(home=tmp_path / "laptop", run_live_seconds=0.1, run_capture="none")
    sync_service.login(laptop, team.server.url, team.token(team.ada))
    sync_service.sync(laptop)
    run = start_run(laptop, "pre-empted", under=team.project)
    for step in range(300):
        run.log({"loss": float(step)})
    run.finish("interrupted")

    def on_server() -> dict[str, object]:
        return runs.run_state(team.ws.store().db).get(run.id, {})

    assert on_server()["status"] == "interrupted" and on_server()["metrics"] == {"loss": 300}
    if ingest_between:
        laptop.ingest()  # its folder is retired: the resumed run writes a new one, its indexes going on from 300
    again = start_run(laptop, resume=run.short)
    _wait_for(lambda: on_server().get("status") == "running")
    for _ in range(200):
        again.log({"loss": float(again._step + 1)})
    again.finish()
    assert on_server()["status"] == "finished" and on_server()["metrics"] == {"loss": 500}
    steps, _, values = _series(team.ws, run.id, "loss")
    assert steps == list(range(500)) and values == [float(s) for s in range(500)]
    laptop.ingest()
    assert _series(laptop, run.id, "loss")[0] == steps
    if ingest_between:  # both wrote its result at each end: the same revisions
        assert _result_revisions(team.ws, run.id) == _result_revisions(laptop, run.id)
        assert len(_result_revisions(laptop, run.id)) == 2
    laptop.close()
