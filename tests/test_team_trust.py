"""A signed-in user cannot break a team server: the holes an independent review found (issue 11),
each shown closed over real HTTP, on both engines.

- a run push never touches an entry it did not write, and an entry never takes a run's id;
- a deleted or private result entry withdraws its run from everyone else, by every read path;
- a malformed record is refused at the door, and what was stored malformed before is still read;
- a file name from someone else never becomes a path;
- a read that does not know who is asking sees nothing on a team server (it fails closed).
The permission table itself is checked op by op in tests/test_permissions.py.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from attack_common import Team
from upstack.domain import access
from upstack.domain.filters import Filters
from upstack.errors import NotFound
from upstack.ids import new_id
from upstack.services import accounts, capture, curate, recall, tree
from upstack.services import sync as sync_service
from upstack.store import queries, runs
from upstack.timeutil import now_iso
from upstack.workspace import Workspace
from webserver import serve


def _record(op: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(), "op": op, "workspace": "laptop", "at": now_iso(), "data": data}


def _run_records(run_id: str, node_id: str | None, *, end: bool = True, **start: Any) -> list[dict[str, Any]]:
    records = [_record("run.start", {"run_id": run_id, "name": "probe sweep", "node_id": node_id,
                                     "started_at": now_iso(), **start})]
    if end:
        records.append(_record("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()}))
    return records


def _push_run(client: httpx.Client, run_id: str, records: list[dict[str, Any]]) -> httpx.Response:
    return client.post(f"/api/runs/{run_id}/push", json={"records": records, "points": {}})


# -- 1. runs and entries share one id space --------------------------------------------------------

def test_a_run_push_never_rewrites_an_entry_it_did_not_write(team: Team) -> None:
    shared = capture.note(team.ws, "Ada's shared note on probes.", under=team.project)
    secret = capture.note(team.ws, "Ada's private note.", private=True)
    bob = team.api(team.bob)
    for entry in (shared, secret):  # one he only views, one he cannot see at all
        answer = _push_run(bob, entry.id, _run_records(entry.id, None))
        assert answer.status_code == 404, answer.text
    assert [recall.show(team.ws, e.id).title for e in (shared, secret)] == [
        "Ada's shared note on probes.", "Ada's private note."]
    assert runs.run_state(team.ws.store().db) == {}


def test_an_entry_never_takes_the_id_of_a_collaborators_run(team: Team) -> None:
    ada, eve = team.api(team.ada), team.api(team.eve)
    run_id = new_id()
    assert _push_run(ada, run_id, _run_records(run_id, team.project, end=False)).status_code == 200
    capture_attempt = _record("entry.create", {
        "id": run_id, "revision_id": new_id(), "kind": "result", "title": "Mine now", "body": "",
        "node_id": team.project, "occurred_at": now_iso(), "created_at": now_iso(), "meta": {"run": run_id}})
    answer = eve.post("/api/sync/push", json={"records": [capture_attempt]}).json()
    assert answer["applied"] == 0 and "taken" in answer["refused"][0]["reason"]
    ended = [_record("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})]
    assert _push_run(ada, run_id, ended).json()["status"] == "finished"
    with access.acting_as(team.as_user(team.ada)):
        result = recall.show(team.ws, run_id)  # her result, hers
    assert result.author_id == team.ada.id and result.title.startswith("Run probe sweep finished")


def test_an_editor_cannot_make_herself_owner_by_moving_a_shared_project(team: Team) -> None:
    eve = team.api(team.eve)
    agenda = new_id()
    records = [_record("node.create", {"id": agenda, "kind": "agenda", "title": "Eve's agenda",
                                       "created_at": now_iso()}),
               _record("node.move", {"node_id": team.project, "parent_id": agenda, "at": now_iso(),
                                     "event_id": new_id()})]
    answer = eve.post("/api/sync/push", json={"records": records}).json()
    assert answer["applied"] == 1 and "owner" in answer["refused"][0]["reason"]
    assert tree.show_node(team.ws, team.project).node.parent_id is None
    assert team.as_user(team.eve).role(team.project) == "editor"


# -- 4. a withdrawn result withdraws its run -------------------------------------------------------

@pytest.mark.parametrize("withdraw", ["delete", "make private"])
def test_a_deleted_or_private_result_withdraws_its_run_from_everyone_else(team: Team, withdraw: str) -> None:
    ada, bob = team.api(team.ada), team.api(team.bob)
    run_id = new_id()
    records = _run_records(run_id, team.project, config={"secret_lr": 0.125})
    points = {"loss": {"from": 0, "steps": "AAAAAAAAAAA=", "times": "AAAAAAAAAAA=", "values": "AAAAAAAA8D8="}}
    assert ada.post(f"/api/runs/{run_id}/push", json={"records": records, "points": points}).status_code == 200
    own = [f"/runs/{run_id}.json", f"/runs/{run_id}/series.json?key=loss", f"/runs/{run_id}/series.csv?key=loss"]
    lists = ["/runs.json", "/api/sync/runs.json"]
    assert [bob.get(p).status_code for p in own] == [200, 200, 200]  # he sees it first
    assert all(run_id in bob.get(p).text for p in lists)
    with access.acting_as(access.OWNER):
        if withdraw == "delete":
            curate.remove(team.ws, run_id)
        else:  # no command makes a result private yet; the read paths honour it all the same
            db = team.ws.store().db
            with db.transaction():
                db.execute("UPDATE entries SET private = 1 WHERE id = ?", (run_id,))
    assert [bob.get(p).status_code for p in own] == [404, 404, 404]
    assert [p for p in lists if run_id in bob.get(p).text] == []
    assert bob.post(f"/api/runs/{run_id}/pull", json={"have": {}}).status_code == 404
    assert ada.get(f"/runs/{run_id}.json").status_code == 200  # still hers


# -- 5. the shape of records ----------------------------------------------------------------------

def test_a_malformed_run_record_is_refused_at_the_door_and_stored_ones_are_still_read(team: Team,
                                                                                        tmp_path: Path) -> None:
    ada = team.api(team.ada)
    run_id = new_id()
    bad = _run_records(run_id, team.project)
    bad.insert(1, _record("run.provenance", {"run_id": run_id, "data": {"command": "rm -rf /"}}))
    answer = _push_run(ada, run_id, bad)
    assert answer.status_code == 400 and "command" in answer.json()["error"]
    assert "\n" not in answer.json()["error"]
    nul = _record("entry.create", {"id": new_id(), "revision_id": new_id(), "kind": "note", "title": "a\x00b",
                                   "body": "", "occurred_at": now_iso(), "created_at": now_iso()})
    assert "NUL" in ada.post("/api/sync/push", json={"records": [nul]}).json()["refused"][0]["reason"]

    # Stored before the door was there: the run's page and a collaborator's sync still work.
    assert _push_run(ada, run_id, _run_records(run_id, team.project)).status_code == 200
    db = team.ws.store().db
    with db.transaction():
        db.execute("UPDATE runs SET provenance = ? WHERE id = ?",
                   (json.dumps({"data": {"command": "rm -rf /", "python": 3}, "captured": "all"}), run_id))
        db.execute("INSERT INTO run_items (id, run_id, kind, at, data) VALUES (?, ?, 'figure', ?, ?)",
                   (new_id(), run_id, now_iso(), json.dumps({"attachments": "none"})))
    bob = team.api(team.bob)
    assert bob.get(f"/runs/{run_id}").status_code == 200
    assert bob.get(f"/runs/{run_id}.json").status_code == 200
    laptop = Workspace(home=tmp_path / "bob-laptop")
    sync_service.login(laptop, team.server.url, accounts.create_token(team.ws, team.bob.id, "laptop")[1])
    assert sync_service.sync(laptop).runs_received == 1
    assert runs.load_run(laptop.store().db, run_id).provenance == {"data": {}}
    laptop.close()


# -- 6. file names from others --------------------------------------------------------------------

def test_a_pushed_file_name_never_becomes_a_path(team: Team, tmp_path: Path) -> None:
    ada = team.api(team.ada)
    note = capture.note(team.ws, "Ada's note.", under=team.project)
    with access.acting_as(access.OWNER):
        db = team.ws.store().db
        with db.transaction():
            db.execute("UPDATE entries SET author_id = ? WHERE id = ?", (team.ada.id, note.id))
    data = b"the file"
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert ada.put(f"/api/blobs/{sha}", content=data).status_code == 204
    for name in ("../../escaped.txt", "/etc/cron.d/escaped.txt"):
        attachment = {"id": new_id(), "sha256": sha, "filename": name, "media_type": "text/plain",
                      "size": len(data), "created_at": now_iso()}
        answer = ada.post("/api/sync/push", json={"records": [
            _record("entry.attach", {"entry_id": note.id, "attachments": [attachment]})]}).json()
        assert answer["applied"] == 1, answer
    stored = recall.show(team.ws, note.id).attachments
    assert [a.filename for a in stored] == ["escaped.txt", "escaped.txt"]
    # A name stored before ingest cleaned them is cleaned again when the file is saved.
    with team.ws.store().db.transaction():
        team.ws.store().db.execute("UPDATE attachments SET filename = '../../../outside.txt' WHERE id = ?",
                                   (stored[0].id,))
    folder = tmp_path / "out"
    folder.mkdir()
    _, written = recall.save_attachment(team.ws, stored[0].id, folder)
    assert written == folder / "outside.txt" and written.read_bytes() == data
    assert not (tmp_path / "outside.txt").exists()


# -- 10. fail closed -------------------------------------------------------------------------------

def test_a_read_that_does_not_say_who_asks_fails_closed_on_a_team_server(team: Team) -> None:
    capture.note(team.ws, "Everyone's zebra note.", under=team.project)
    server_ws = Workspace(home=team.ws.home, db=team.ws.db_url, team=True)
    found: list[object] = []

    def elsewhere() -> None:  # a thread knows nothing of the request that started it
        try:
            found.append(queries.timeline(server_ws.store().db, Filters(), None))
        except access.NoAudience as exc:
            found.append(exc)

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert isinstance(found[0], access.NoAudience)
    with access.acting_as(access.NOBODY):
        assert queries.timeline(server_ws.store().db, Filters(), None) == []
        assert runs.run_state(server_ws.store().db) == {}
        with pytest.raises(NotFound):
            tree.show_node(server_ws, team.project)
    with access.acting_as(team.as_user(team.bob)):
        assert [e.title for e in queries.timeline(server_ws.store().db, Filters(), None)] == [
            "Everyone's zebra note."]
    server_ws.close()


def test_a_route_under_a_public_prefix_sees_nothing(tmp_path: Path, db_url: str | None) -> None:
    from upstack.web.app import open_workspace

    with Workspace(home=tmp_path / "server", db=db_url) as ws:
        accounts.add_user(ws, "ada")
        capture.note(ws, "A zebra note nobody signed in may read.")

    def leaky(request: Request) -> dict[str, Any]:  # as a careless new route might be written
        ws = open_workspace(request.app.state)
        return {"titles": [e.title for e in queries.timeline(ws.store().db, Filters(), None)]}

    with serve(tmp_path / "server", db_url, token=None,
               extend=lambda app: app.add_api_route("/join/test/leak.json", leaky)) as server:
        answer = server.client().get("/join/test/leak.json")
    assert answer.status_code == 200 and answer.json() == {"titles": []}


def test_sync_never_names_a_node_its_reader_cannot_see(team: Team) -> None:
    hidden = tree.add_node(team.ws, "agenda", "Ada's unshared agenda", why="Hers alone.")
    tree.move_node(team.ws, team.project, hidden.id)
    bob = team.api(team.bob)
    manifest = bob.get("/api/sync/manifest.json").json()
    answer = bob.post("/api/sync/pull", json={"entries": [], "nodes": manifest["nodes"],
                                             "node_events": manifest["node_events"], "have": {}})
    assert answer.status_code == 200 and hidden.id not in answer.text
    moves = [r for r in answer.json()["records"] if r["op"] == "node.move"]
    assert [m["data"]["parent_id"] for m in moves] == [None]
    for page in (f"/tree/{team.project}.json", "/tree.json", f"/tree/{team.project}"):  # nor does a page
        shown = bob.get(page)
        assert shown.status_code == 200 and hidden.id not in shown.text and hidden.id.lower() not in shown.text


def test_a_push_answer_tells_only_of_the_pushers_own_records(team: Team) -> None:
    """Found by review: a push's answer counted every record its ingest applied and listed every problem
    it met, other members' records pending beside it included (another push journaled a moment before)."""
    ada, bob = team.api(team.ada), team.api(team.bob)

    def note(title: str) -> dict[str, Any]:
        at = now_iso()
        return _record("entry.create", {"id": new_id(), "revision_id": new_id(), "kind": "note", "title": title,
                                        "body": "b", "node_id": None, "occurred_at": at, "created_at": at})

    ada_pushes = [[note(f"ADA-PRIVATE {i}.{j}") for j in range(20)] for i in range(40)]
    with ThreadPoolExecutor(2) as pool:  # ada pushes while bob does: their ingests take in each other's records
        adas = pool.submit(lambda: [ada.post("/api/sync/push", json={"records": p}).status_code
                                    for p in ada_pushes])
        answers = [bob.post("/api/sync/push", json={"records": [note(f"Bob's {i}")]}) for i in range(40)]
        assert adas.result() == [200] * len(ada_pushes)
    ada_ids = {r["id"] for p in ada_pushes for r in p} | {r["data"]["id"] for p in ada_pushes for r in p}
    for answer in answers:
        assert answer.status_code == 200 and "ADA-PRIVATE" not in answer.text, answer.text
        assert (answer.json()["applied"], answer.json()["problems"]) == (1, []), answer.text
        assert not [i for i in ada_ids if i in answer.text]


def test_a_file_is_attached_only_by_who_uploaded_it_even_to_an_entry_made_in_the_same_push(team: Team) -> None:
    import hashlib

    secret = b"ada's private figure"
    sha = hashlib.sha256(secret).hexdigest()
    assert team.api(team.ada).put(f"/api/blobs/{sha}", content=secret).status_code == 204
    eve = team.api(team.eve)  # knows the hash (say, from a link), not the file
    entry_id = new_id()
    attachment = {"id": new_id(), "sha256": sha, "filename": "f.png", "media_type": "image/png",
                  "size": len(secret), "created_at": now_iso()}
    answer = eve.post("/api/sync/push", json={"records": [
        _record("entry.create", {"id": entry_id, "revision_id": new_id(), "kind": "note", "title": "Mine",
                                 "body": "", "occurred_at": now_iso(), "created_at": now_iso()}),
        _record("entry.attach", {"entry_id": entry_id, "attachments": [attachment]})]}).json()
    assert answer["applied"] == 1 and "uploaded by you" in answer["refused"][0]["reason"]
    assert eve.get(f"/api/blobs/{sha}").status_code == 404


def test_a_page_with_many_figures_gets_every_one_of_them(team: Team, tmp_path: Path) -> None:
    """A browser fetches six images at once: downloads have a lane of their own beside the member's
    two requests (web/limits.py), so none of a page's own figures is refused."""
    from concurrent.futures import ThreadPoolExecutor

    files = []
    for number in range(6):
        files.append(tmp_path / f"figure{number}.png")
        files[-1].write_bytes(b"\x89PNG\r\n\x1a\n" + bytes([number]) * 64)
    note = capture.note(team.ws, "Six figures.", attach=files)  # the workspace owner's: ada's
    ada = team.api(team.ada)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda a: ada.get(f"/a/{a.id}"), note.attachments))
    assert [a.status_code for a in answers] == [200] * 6


def test_login_refuses_a_read_only_token_in_one_line(team: Team, tmp_path: Path) -> None:
    from upstack.errors import BadInput
    from upstack.services import tokens

    _, secret = tokens.create_token(team.ws, team.bob.id, "dashboard", scope="read-only")
    laptop = Workspace(home=tmp_path / "laptop")
    with pytest.raises(BadInput, match="read-only"):
        sync_service.login(laptop, team.server.url, secret)
    assert not (laptop.home / sync_service.REMOTE_FILE).exists()
    laptop.close()


def test_a_crafted_json_import_is_one_line_and_imports_nothing(tmp_path: Path) -> None:
    from conftest import CLI

    source, target = CLI(tmp_path / "source", None), CLI(tmp_path / "target", None)
    source.ok("note", "A note to export.")
    export = tmp_path / "export.json"
    source.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    for damage in ({"version": "one"}, {"blobs": ["not", "a", "mapping"]}):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**dump, **damage}))
        result = target("import", str(bad))
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        first, *problems = result.stderr.strip().splitlines()  # one line, or an import's refusal: each problem
        assert not problems or (first.startswith("upstack: error: import refused")
                                and all(p.startswith("  ") for p in problems)), result.stderr
    assert "A note to export." not in target.ok("log")


@pytest.mark.parametrize("damage", ["self-parent", "kind", "dangling parent", "loop"])
def test_a_json_import_whose_nodes_are_not_a_tree_is_refused_whole(tmp_path: Path, db_url: str | None,
                                                                     damage: str) -> None:
    """Found by attack: nodes that are not a tree (their own parent, an unknown kind, a parent nowhere)
    were imported, then vanished from every view of the tree; the workspace took the file's identity."""
    from conftest import CLI

    source, target = CLI(tmp_path / "source", None), CLI(tmp_path / "target", db_url)
    source.ok("note", "A note to export.")
    export = tmp_path / "export.json"
    source.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    node = {"id": new_id(), "kind": "project", "title": "Odd", "parent_id": None, "status": "active",
            "created_at": now_iso(), "updated_at": now_iso()}
    with Workspace(home=tmp_path / "cols") as ws:  # a node row as an export writes one, every column
        node = {column: node.get(column) for column in
                ws.store().db.execute("SELECT * FROM nodes LIMIT 0").description and
                [c[0] for c in ws.store().db.execute("SELECT * FROM nodes LIMIT 0").description]}
    other = dict(node, id=new_id(), parent_id=node["id"])
    node.update({"self-parent": {"parent_id": node["id"]}, "kind": {"kind": "folder"},
                 "dangling parent": {"parent_id": "N-NOWHERE"}, "loop": {"parent_id": other["id"]}}[damage])
    dump["tables"]["nodes"] = [node, other]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dump))
    result = target("import", str(bad))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert {"self-parent": "its own ancestor", "kind": "is not one of", "dangling parent": "neither in the file",
            "loop": "its own ancestor"}[damage] in result.stderr
    assert "A note to export." not in target.ok("log")
    assert not (target.home / "workspace.id").exists() or \
        (target.home / "workspace.id").read_text().strip() != dump["workspace_id"]


def test_a_refused_json_import_leaves_none_of_its_files_behind(tmp_path: Path, db_url: str | None) -> None:
    """Found by attack: the files of a refused import were written before its rows, and stayed."""
    from conftest import CLI, blob_files

    source, target = CLI(tmp_path / "source", None), CLI(tmp_path / "target", db_url)
    figure = tmp_path / "loss.png"
    figure.write_bytes(b"a figure only this export holds")
    source.ok("note", "A note with a figure.", "--attach", str(figure))
    export = tmp_path / "export.json"
    source.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    dump["tables"]["entries"][0]["kind"] = None  # a row only the store refuses (NOT NULL)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dump))
    result = target("import", str(bad))
    assert result.exit_code == 1 and "nothing of it was imported" in result.stderr, result.output
    assert blob_files(target.home) == {}


@pytest.mark.parametrize("value", [["not", "a", "time"], {"a": 1}, "last tuesday"])
def test_a_json_import_with_a_value_of_the_wrong_shape_is_refused_whole(tmp_path: Path, value: Any) -> None:
    """Found by attack: a list where a time belongs was imported (PostgreSQL stored it as an array's text)."""
    from conftest import CLI

    source, target = CLI(tmp_path / "source", None), CLI(tmp_path / "target", None)
    source.ok("note", "A note to export.")
    export = tmp_path / "export.json"
    source.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    dump["tables"]["entries"][0]["occurred_at"] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dump))
    result = target("import", str(bad))
    assert result.exit_code == 1 and "tables.entries[0].occurred_at" in result.stderr, result.output
    assert "A note to export." not in target.ok("log")
