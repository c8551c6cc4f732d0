"""Migration 24: chart panels (issue 20). A panel is a saved chart (which metrics of which runs,
smoothing, log scale, x by step or time) in a project's grid of panels, embeddable in an entry as
``![caption](upstack:panel/ID)``. Its row holds the panel as it is now; every save before keeps its
spec in ``panel_revisions``, and a delete only marks the row (restorable)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute(
        "CREATE TABLE panels ("
        "id TEXT PRIMARY KEY, "
        "key TEXT NOT NULL, "  # the id as short ids and prefixes are matched (ids.id_key)
        "node_id TEXT, "  # the project whose grid it is in (NULL: the author's own, unfiled)
        "author_id TEXT, "  # who made it (NULL: the workspace's owner)
        "title TEXT NOT NULL DEFAULT '', "
        "spec TEXT NOT NULL, "  # JSON: keys, runs, smoothing, log, x, wide
        "position INTEGER NOT NULL DEFAULT 0, "  # its place in the grid, smallest first
        "created_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL, "
        "deleted_at TEXT, "
        "event_id TEXT NOT NULL)")  # the record that last changed it: the newest change wins
    db.execute("CREATE INDEX panels_node ON panels(node_id, position)")
    db.execute("CREATE INDEX panels_key ON panels(key)")
    db.execute(
        "CREATE TABLE panel_revisions ("
        "id TEXT PRIMARY KEY, "  # the record's id
        "panel_id TEXT NOT NULL REFERENCES panels(id), "
        "at TEXT NOT NULL, "
        "author_id TEXT, "
        "title TEXT NOT NULL DEFAULT '', "
        "spec TEXT NOT NULL, "
        "position INTEGER NOT NULL DEFAULT 0, "
        "workspace TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX panel_revisions_panel ON panel_revisions(panel_id, at)")
