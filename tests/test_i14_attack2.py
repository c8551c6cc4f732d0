"""A second attack on issue 14's sync: ``upstack sync --discard/--keep``, records pushed through a run's
push route, and the sync report's names. The team is tests/attack_common.py's: ada owns the log and the
project "Probing", bob views it, eve edits it, mal has no share at all. Each finding is a test here; its
docstring says what was wrong, its assertions show it closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from attack_common import Team, rec
from test_attack_pull import EMPTY_MANIFEST, fake_server, router
from upstack.domain import access
from upstack.ids import new_id
from upstack.services import capture, comments, curate
from upstack.services.jsondump import dump_tables
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def test_a_run_pushed_never_takes_an_id_that_names_something_else(team: Team) -> None:
    """A sync push checks every id a record makes against everything the server holds (sync_door._id_clash),
    but a run's push route checked a new run's id only against nodes, entries and runs. Eve could start
    a run under the id of ada's comment, of a revision or of a node change: its result entry then shares
    an id with it, and a laptop, which takes in pulled records by id, keeps one of the two out for good.
    Such a run now answers as one that is not there, and nothing changes."""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
    ws.ingest()
    with access.acting_as(team.as_user(team.ada)):
        said = comments.add(ws, shared.id, "Checked twice.")
    ws.ingest()
    db = ws.store().db
    revision = str(db.scalar("SELECT revision_id FROM entries WHERE id = ?", (shared.id,)))
    event = db.scalar("SELECT id FROM node_events ORDER BY at LIMIT 1")
    taken = [str(said["id"]), revision] + ([str(event)] if event else [])
    before = dump_tables(db)
    eve = team.api(team.eve)
    for run_id in taken:
        answer = eve.post(f"/api/runs/{run_id}/push", json={"records": [
            rec("run.start", {"run_id": run_id, "name": "sweep", "node_id": team.project, "started_at": now_iso()}),
            rec("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})], "points": {}})
        assert answer.status_code == 404, (run_id, answer.text)
    ws.ingest()
    assert dump_tables(ws.store().db) == before
    fresh = new_id()  # a new id still starts a run
    assert eve.post(f"/api/runs/{fresh}/push", json={"records": [
        rec("run.start", {"run_id": fresh, "name": "sweep", "node_id": team.project, "started_at": now_iso()})],
        "points": {}}).status_code == 200


def test_a_runs_learning_never_takes_an_id_that_names_something_else(team: Team) -> None:
    """A run's summary names the id its learning entry gets (``learning_id``); the run's end made that entry
    when no node, entry or run had the id, so eve could give her learning the id of ada's comment: two
    things under one id, one of which a laptop keeps out for good. Such a learning is now not made."""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
    ws.ingest()
    with access.acting_as(team.as_user(team.ada)):
        said = comments.add(ws, shared.id, "Checked twice.")
    ws.ingest()
    db = ws.store().db
    run_id = new_id()
    answer = team.api(team.eve).post(f"/api/runs/{run_id}/push", json={"records": [
        rec("run.start", {"run_id": run_id, "name": "sweep", "node_id": team.project, "started_at": now_iso()}),
        rec("run.summary", {"run_id": run_id, "learned": "Probes saturate.", "learning_id": str(said["id"])}),
        rec("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})], "points": {}})
    assert answer.status_code == 200, answer.text
    ws.ingest()
    assert db.scalar("SELECT count(*) FROM entries WHERE id = ?", (str(said["id"]),)) == 0
    assert db.scalar("SELECT count(*) FROM entries WHERE id = ?", (run_id,)) == 1  # the run's result is there


def test_discard_takes_back_only_what_the_change_was_whatever_the_server_calls_it(tmp_path: Path) -> None:
    """`upstack sync --discard ID` takes back each refused change by its kind, and the kind came from the
    server's answer, not from the record the laptop sent. A server (a poisoned one, or one of another
    version) that called a refused edit ``entry.create`` had the laptop delete the whole note and never
    send anything of it again, where only the edit was refused. The kind is now the sent record's."""
    home = tmp_path / "laptop"
    ws = Workspace(home=home)
    note = capture.note(ws, "Layer 6 probe is best.")
    ws.ingest()
    first = str(ws.store().db.scalar("SELECT revision_id FROM entries WHERE id = ?", (note.id,)))
    curate.edit(ws, note.id, "Layer 6 probe is best. Checked twice.")
    ws.ingest()
    manifest = {**EMPTY_MANIFEST, "comments": {}, "stars": {},
                "entries": {note.id: {"revisions": [first], "attachments": [], "deleted": False}}}

    def answer(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if "sync/push" in path:
            sent = json.loads(body)["records"]
            return 200, json.dumps({"applied": 0, "conflicts": [], "problems": [], "refused": [
                {"id": r["id"], "op": "entry.create", "reason": "no"} for r in sent]}).encode()
        return router(manifest=manifest)(method, path, body)

    with fake_server(answer) as url:
        home.mkdir(parents=True, exist_ok=True)
        (home / "remote.json").write_text(json.dumps({"url": url, "token": "t", "login": "me"}))
        done = subprocess.run([sys.executable, "-m", "upstack", "sync", "--discard", note.id],
                              env={**os.environ, "UPSTACK_HOME": str(home), "NO_COLOR": "1"},
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ws = Workspace(home=home)
    ws.ingest()
    row = ws.store().db.one("SELECT deleted_at, revision_id FROM entries WHERE id = ?", (note.id,))
    assert row["deleted_at"] is None and row["revision_id"] == first  # the edit is taken back, the note stays
    assert ws.store().db.scalar("SELECT count(*) FROM revisions WHERE entry_id = ?", (note.id,)) == 2


def test_a_runs_figure_never_takes_the_id_of_a_file_it_is_not(team: Team, tmp_path: Path) -> None:
    """A run's figure carries its file's id, which becomes a file of the run's result entry. The run's push
    route did not check it, and the store skips a file whose id is there already: eve's figure under the id
    of a file of ada's private note made a result entry without it on the server (and with it on eve's
    laptop, which then sends it at every sync, refused as taken). Such a push is now refused whole."""
    import hashlib

    ws = team.ws
    picture = tmp_path / "plot.png"
    picture.write_bytes(b"\x89PNG ada's numbers")
    with access.acting_as(team.as_user(team.ada)):
        secret = capture.note(ws, "Salaries. Private.", private=True)
        ws.ingest()
        [theirs] = capture.attach(ws, secret.id, [picture])
    ws.ingest()
    eve = team.api(team.eve)
    mine = b"\x89PNG eve's plot"
    sha = hashlib.sha256(mine).hexdigest()
    assert eve.put(f"/api/blobs/{sha}", content=mine,
                   headers={"Content-Type": "application/octet-stream"}).status_code in (200, 201, 204)
    run_id = new_id()
    figure = {"id": theirs.id, "sha256": sha, "filename": "plot.png", "media_type": "image/png",
              "size": len(mine), "created_at": now_iso()}
    before = dump_tables(ws.store().db)
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": [
        rec("run.start", {"run_id": run_id, "name": "sweep", "node_id": team.project, "started_at": now_iso()}),
        rec("run.figure", {"run_id": run_id, "title": "Loss", "attachments": [figure]}),
        rec("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})], "points": {}})
    assert answer.status_code == 400 and "\n" not in answer.json()["error"], answer.text
    ws.ingest()
    after = dump_tables(ws.store().db)
    assert {k: v for k, v in after.items() if "blob" not in k} == {k: v for k, v in before.items() if "blob" not in k}
