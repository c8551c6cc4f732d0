"""Migration 3: the theory-of-change tree's history (deleted nodes, node events)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute("ALTER TABLE nodes ADD COLUMN deleted_at TEXT")
    db.execute(
        "CREATE TABLE node_events (id TEXT PRIMARY KEY, node_id TEXT NOT NULL REFERENCES nodes(id), "
        "at TEXT NOT NULL, change TEXT NOT NULL, old_value TEXT, new_value TEXT, "
        "reason TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX node_events_node ON node_events(node_id, at)")
