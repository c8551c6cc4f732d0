"""A second attack on issue 14's sync: ``upstack sync --discard/--keep``, records pushed through a run's
push route, and the sync report's names. The team is tests/attack_common.py's: ada owns the log and the
project "Probing", bob views it, eve edits it, mal has no share at all. Each finding is a test here; its
docstring says what was wrong, its assertions show it closed."""

from __future__ import annotations

from attack_common import Team, rec
from upstack.domain import access
from upstack.ids import new_id
from upstack.services import capture, comments
from upstack.services.jsondump import dump_tables
from upstack.timeutil import now_iso


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
