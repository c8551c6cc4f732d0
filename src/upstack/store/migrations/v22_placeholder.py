"""Migration 22: empty, held for another change of issue 20 made at the same time (the migrations must be
numbered without a gap); the lead renumbers at merge."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    del db  # nothing to change
