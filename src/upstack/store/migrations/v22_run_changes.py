"""Migration 22: runs managed after the fact (issue 20). A run can be renamed, retagged, moved under
another node, deleted and restored; each change is a record (``run.rename`` ...), kept here as an event
that is never rewritten (its old and new value, who made it and when), so a run's history reads like an
entry's, and two changes made apart (a laptop and its team server) end with the same run on both sides:
the newest of each kind by time, then id, is what the run shows. ``runs.deleted_at`` says the run is
deleted (hidden from lists, compare and search, restorable); its result entry is deleted with it."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute("ALTER TABLE runs ADD COLUMN deleted_at TEXT")
    db.execute(
        "CREATE TABLE run_events ("
        "id TEXT PRIMARY KEY, "  # the record's id: sync sends it again under it, and it applies once
        "run_id TEXT NOT NULL REFERENCES runs(id), "
        "at TEXT NOT NULL, "
        "change TEXT NOT NULL, "  # name, tags, node, deleted, restored
        "old_value TEXT, "  # the name, the tags (a JSON list), the node id, as they were
        "new_value TEXT, "
        "author_id TEXT)")  # who made the change (NULL: the workspace's owner, nobody signed in)
    db.execute("CREATE INDEX run_events_run ON run_events(run_id, at)")
