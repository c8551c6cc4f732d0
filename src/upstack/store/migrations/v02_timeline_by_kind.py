"""Migration 2: the timeline by kind."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute("CREATE INDEX entries_kind_time ON entries(kind, occurred_at)")
