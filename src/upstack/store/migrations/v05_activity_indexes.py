"""Migration 5: activity indexes."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    # Covering indexes: tree, check and progress count entries per node and per recent
    # day without reading the (long) rows themselves.
    db.execute("CREATE INDEX entries_node_activity ON entries(node_id, kind, occurred_at, deleted_at)")
    db.execute("CREATE INDEX entries_recent_nodes ON entries(occurred_at, node_id, deleted_at)")
