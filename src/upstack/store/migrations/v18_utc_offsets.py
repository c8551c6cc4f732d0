"""Migration 18: the writer's UTC offset (issue 18, local time). Times are stored in UTC; an entry and a
run now keep the offset of the zone they were written in (``+05:30``, as their record carries it), so
that when they happened is read in the writer's own time wherever it is read (`upstack pace`: late
evenings, weekends, days off). NULL for what was written before (and for what was imported with a
time of its own): that is read in the reader's zone now."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    "ALTER TABLE entries ADD COLUMN utc_offset TEXT",
    "ALTER TABLE runs ADD COLUMN utc_offset TEXT",
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
