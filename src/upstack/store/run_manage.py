"""Runs managed after the fact: renamed, retagged, moved under another node, deleted and restored.

Each change is a record (``run.rename``, ``run.retag``, ``run.move``, ``run.delete``, ``run.restore``)
applied here like any other, and kept as an event in ``run_events`` that is never rewritten: the run's
history. Changes that meet out of order (one made on a laptop, one on its team server) are all kept,
and the newest of each kind (by time, then id) is what the run shows, so both sides end alike.

The run's result entry follows: its title the name, its tags the run's, its node the run's; deleted and
restored with the run. A rename or a retag writes a new revision of the result entry that keeps the
text there now, so what someone wrote into it by hand is never lost (store/runs.finalize keeps it too).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from upstack.errors import NotFound
from upstack.formats.journal import Record
from upstack.ids import derived_id
from upstack.store import runs
from upstack.store.db import Database
from upstack.store.ingest import index_entry, revise_entry, unindex_entry
from upstack.timeutil import now_after

__all__ = ["HANDLERS", "change_stamp", "hide_result", "change_of"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _run(db: Database, run_id: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM runs WHERE id = ?", (run_id,))
    if row is None:
        raise NotFound(f"run {run_id} has no start record")
    return row


def _event(db: Database, record: Record, change: str, old: str | None, new: str | None) -> bool:
    """Keep one change of a run in its history; True if it is the newest of its kind, so the run
    should show it."""
    run_id = str(record.data["run_id"])
    at = str(record.data.get("at") or record.at)
    db.execute("INSERT INTO run_events (id, run_id, at, change, old_value, new_value, author_id) "
               "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
               (record.id, run_id, at, change, old, new, record.data.get("by")))
    family = ("deleted", "restored") if change in ("deleted", "restored") else (change,)
    newest = db.scalar(f"SELECT id FROM run_events WHERE run_id = ? AND change IN "
                       f"({', '.join('?' for _ in family)}) ORDER BY at DESC, id DESC LIMIT 1", (run_id, *family))
    return newest == record.id


def _result(db: Database, run_id: str, author_id: str | None) -> dict[str, Any] | None:
    """The run's result entry (None if it has none yet, or it was purged)."""
    if not runs.is_result_of(db, run_id, author_id):
        return None
    return db.one("SELECT * FROM entries WHERE id = ? AND purged_at IS NULL", (run_id,))


def _follow_text(db: Database, record: Record) -> None:
    """A new revision of the result entry: the title as the run's name now makes it, the tags the run's
    now, the body as it stands (an edit by hand stays). Named by the record, so a laptop and its
    server applying the same change make the same revision."""
    run_id = str(record.data["run_id"])
    run = _run(db, run_id)
    entry = _result(db, run_id, run["author_id"])
    if entry is None:
        return
    title = runs.result_title_now(db, run_id)
    tags = [str(t) for t in json.loads(run["tags"] or "[]")]
    if title == entry["title"] and tags == json.loads(entry["extra_tags"] or "[]"):
        return
    revise_entry(db, {"entry_id": run_id, "revision_id": derived_id(str(record.data.get("at") or record.at),
                                                                    record.id, "result"),
                      "parent_id": entry["revision_id"], "title": title, "body": entry["body"],
                      "extra_tags": tags, "created_at": str(record.data.get("at") or record.at)}, record.workspace)


def _rename(db: Database, record: Record) -> None:
    run = _run(db, str(record.data["run_id"]))
    name = str(record.data["name"])
    if _event(db, record, "name", run["name"], name):
        db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run["id"]))
        _follow_text(db, record)


def _retag(db: Database, record: Record) -> None:
    run = _run(db, str(record.data["run_id"]))
    tags = list(dict.fromkeys(str(t) for t in record.data["tags"]))
    if _event(db, record, "tags", run["tags"], _dumps(tags)):
        db.execute("UPDATE runs SET tags = ? WHERE id = ?", (_dumps(tags), run["id"]))
        _follow_text(db, record)


def _move(db: Database, record: Record) -> None:
    run = _run(db, str(record.data["run_id"]))
    node_id = record.data.get("node_id")
    if node_id and not db.scalar("SELECT 1 FROM nodes WHERE id = ? AND deleted_at IS NULL", (node_id,)):
        raise NotFound(f"node {node_id} does not exist")
    # Where it was: as the record says (a machine that got the run later got it under its node now).
    old = record.data["from_node_id"] if "from_node_id" in record.data else run["node_id"]
    if _event(db, record, "node", old, node_id):
        db.execute("UPDATE runs SET node_id = ? WHERE id = ?", (node_id, run["id"]))
        if _result(db, run["id"], run["author_id"]) is not None:
            db.execute("UPDATE entries SET node_id = ? WHERE id = ?", (node_id, run["id"]))


def _delete(db: Database, record: Record) -> None:
    run = _run(db, str(record.data["run_id"]))
    at = str(record.data.get("at") or record.at)
    if _event(db, record, "deleted", None, None):
        db.execute("UPDATE runs SET deleted_at = ? WHERE id = ?", (at, run["id"]))
        hide_result(db, run["id"], at)


def hide_result(db: Database, run_id: str, at: str) -> None:
    """A deleted run's result entry is deleted with it (when it has one: a running run has none yet)."""
    run = _run(db, run_id)
    if _result(db, run_id, run["author_id"]) is not None:
        db.execute("UPDATE entries SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (at, run_id))
        unindex_entry(db, run_id)


def _restore(db: Database, record: Record) -> None:
    run = _run(db, str(record.data["run_id"]))
    if _event(db, record, "restored", None, None):
        db.execute("UPDATE runs SET deleted_at = NULL WHERE id = ?", (run["id"],))
        if _result(db, run["id"], run["author_id"]) is not None:
            db.execute("UPDATE entries SET deleted_at = NULL WHERE id = ?", (run["id"],))
            index_entry(db, run["id"])


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    "run.rename": _rename, "run.retag": _retag, "run.move": _move, "run.delete": _delete, "run.restore": _restore,
}


def change_stamp(db: Database, run_id: str) -> str:
    """The time to stamp a new change of a run with: now, and after every change it has already (the
    newest of each kind is what the run shows, whatever the clock says)."""
    return now_after(db.scalar("SELECT max(at) FROM run_events WHERE run_id = ?", (run_id,)))


def change_of(db: Database, event_id: str) -> str | None:
    """The run a change of this id belongs to, whoever may see it (None: no such change)."""
    found = db.scalar("SELECT run_id FROM run_events WHERE id = ?", (event_id,))
    return None if found is None else str(found)
