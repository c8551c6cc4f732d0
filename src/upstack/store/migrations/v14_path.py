"""Migration 14: a person's path to a research job (the ladder, learning resources, interview
practice, the portfolio), kept as each person's own list of events."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    # One row per record, never changed: what a person's ladder, practice or portfolio is now is
    # folded from them (services/path*.py), so their history is the rows themselves. ``person`` is
    # whose they are: '' is the workspace owner (as for stars), else a user id. ``subject`` is the
    # thing an event is about (a step, a resource, a problem, an accomplishment), ``at`` when it
    # happened (an attempt's time, as the person gave it), ``data`` the record's data as JSON.
    "CREATE TABLE path_records (id TEXT PRIMARY KEY, person TEXT NOT NULL, op TEXT NOT NULL, "
    "subject TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX path_records_person ON path_records(person, op, at, id)",
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
