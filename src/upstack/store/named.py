"""Which ids are taken: one id space for every object and every record applied, since a laptop takes in
pulled records by id (store/sync.py). Its own module, so that a handler may ask (store/predictions.py)
without importing sync."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["id_named"]

# Every id a pulled record carries as its own (a node's, a revision's, a file's, a node change's, a
# comment's), every object's, and every record applied here: a laptop takes in pulled records by id.
_NAMED = " UNION ALL ".join(f"SELECT 1 FROM {table} WHERE id = ?" for table in (
    "nodes", "entries", "runs", "revisions", "attachments", "node_events", "comments", "path_records",
    "prediction_events", "take_events", "run_events", "applied_records"))


def id_named(db: Database, object_id: str) -> bool:
    """Whether anything here has this id, whoever may see it: what the id of something new may not be."""
    return bool(db.scalar(_NAMED, (object_id,) * _NAMED.count("?")))
