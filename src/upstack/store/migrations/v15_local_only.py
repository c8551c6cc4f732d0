"""Migration 15: path records that never leave this machine (contacts and outreach kept local-only,
issue 16; wellbeing check-ins later)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    # 1: the record is local-only: sync never offers it, a server never takes it. Set when the
    # record is written (from its data's ``local_only``), never changed after, as the row is not.
    "ALTER TABLE path_records ADD COLUMN local_only INTEGER NOT NULL DEFAULT 0",
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
