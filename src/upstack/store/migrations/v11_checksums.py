"""Migration 11: checksums of revisions and metric chunks."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    # Kept with each new revision and metric chunk (store/integrity.py), so that doctor notices a
    # value changed in storage; rows from before stay without one.
    db.execute("ALTER TABLE revisions ADD COLUMN checksum TEXT")
    db.execute("ALTER TABLE metric_chunks ADD COLUMN checksum TEXT")
