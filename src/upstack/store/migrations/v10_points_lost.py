"""Migration 10: how many metric points a run could not write (its disk refused them) and so lost."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute("ALTER TABLE runs ADD COLUMN points_lost INTEGER NOT NULL DEFAULT 0")
