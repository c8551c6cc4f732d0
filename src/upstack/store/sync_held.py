"""Local changes a team server refused, that this workspace no longer sends (`upstack sync --discard
ID` or ``--keep ID``).

Both are a record (``sync.hold``) made where the change was made, never pushed. ``keep`` leaves
the change here as it is, on this workspace only. ``discard`` also takes it back here, losing
nothing: a refused edit leaves the entry's history and the entry shows the text before it again; a
refused note is deleted (restorable); a refused deletion is undone; a refused comment is hidden; a
refused change of a node is undone (the change stays in the node's history).
"""

from __future__ import annotations

from collections.abc import Callable

from upstack.domain.text import title_key
from upstack.formats.journal import Record
from upstack.store import comments
from upstack.store.db import Database
from upstack.store.ingest import index_entry, show_revision, unindex_entry

__all__ = ["HANDLERS", "held_ids", "DECISIONS"]

DECISIONS = ("discard", "keep")

_NODE_FIELDS = {"title": "title", "why": "why", "status": "status", "parent": "parent_id"}


def _hold(db: Database, record: Record) -> None:
    data = record.data
    decision, subject, at = data["decision"], str(data["subject_id"]), str(data["at"])
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    held = [(str(r["id"]), str(r["op"])) for r in data["records"]]
    if any(op in ("entry.create", "node.create") for _, op in held):
        held.append((subject, "whole"))  # nothing of a note or a node the server refused to make is sent
    for record_id, op in held:
        db.execute("INSERT INTO sync_held (record_id, subject_id, op, decision, at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT DO NOTHING", (record_id, subject, op, decision, at))
    if decision == "discard":
        for record_id, op in held:
            _take_back(db, subject, record_id, op, at)


def _take_back(db: Database, subject: str, record_id: str, op: str, at: str) -> None:
    if op == "entry.create":
        if db.execute("UPDATE entries SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (at, subject)).rowcount:
            unindex_entry(db, subject)
    elif op == "entry.revise":
        kept = db.scalar("SELECT id FROM revisions WHERE entry_id = ? AND purged_at IS NULL AND id NOT IN "
                         "(SELECT record_id FROM sync_held WHERE decision = 'discard') "
                         "ORDER BY created_at DESC, id DESC LIMIT 1", (subject,))
        if kept and kept != db.scalar("SELECT revision_id FROM entries WHERE id = ?", (subject,)):
            show_revision(db, subject, str(kept))
    elif op == "entry.delete":
        if db.execute("UPDATE entries SET deleted_at = NULL WHERE id = ? AND purged_at IS NULL "
                      "AND deleted_at IS NOT NULL", (subject,)).rowcount:
            index_entry(db, subject)
    elif op == "comment.add":
        comments.hide(db, record_id, at)
    elif op == "node.create":
        db.execute("UPDATE nodes SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (at, subject))
    elif op.startswith("node."):
        _undo_node_change(db, subject, record_id)


def _undo_node_change(db: Database, node_id: str, event_id: str) -> None:
    """The node shows again what it showed before the change (the newest change of its kind that
    stands, else the value before the first); the change stays in its history."""
    event = db.one("SELECT change FROM node_events WHERE id = ? AND node_id = ?", (event_id, node_id))
    if event is None:
        return
    family = ("deleted", "restored") if event["change"] in ("deleted", "restored") else (event["change"],)
    marks = ", ".join("?" for _ in family)
    events = db.query(f"SELECT id, at, change, old_value, new_value FROM node_events WHERE node_id = ? AND change IN "
                      f"({marks}) ORDER BY at, id", (node_id, *family))
    dropped = {r["record_id"] for r in db.query("SELECT record_id FROM sync_held WHERE subject_id = ? "
                                                "AND decision = 'discard'", (node_id,))}
    standing = [e for e in events if e["id"] not in dropped]
    if family[0] in ("deleted", "restored"):
        gone = standing[-1]["at"] if standing and standing[-1]["change"] == "deleted" else None
        db.execute("UPDATE nodes SET deleted_at = ? WHERE id = ?", (gone, node_id))
        return
    column = _NODE_FIELDS.get(family[0])
    if column is None or not events:
        return
    value = standing[-1]["new_value"] if standing else events[0]["old_value"]
    db.execute(f"UPDATE nodes SET {column} = ? WHERE id = ?", (value, node_id))
    if column == "title":
        db.execute("UPDATE nodes SET title_key = ? WHERE id = ?", (title_key(str(value or "")), node_id))


def held_ids(db: Database) -> set[str]:
    """Every record id (and every note or node) this workspace no longer sends."""
    return {str(r["record_id"]) for r in db.query("SELECT record_id FROM sync_held")}


HANDLERS: dict[str, Callable[[Database, Record], None]] = {"sync.hold": _hold}
