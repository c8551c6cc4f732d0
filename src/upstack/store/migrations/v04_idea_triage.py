"""Migration 4: idea triage (an idea's triage row and its changes of state)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

# The engines differ in one word: cost in hours, the one floating-point column.
_IDEAS_SQLITE = (
    "CREATE TABLE ideas ("
    "entry_id TEXT PRIMARY KEY REFERENCES entries(id), "
    "state TEXT NOT NULL DEFAULT 'candidate', "
    "hypothesis TEXT NOT NULL DEFAULT '', "
    "cheapest_test TEXT NOT NULL DEFAULT '', "
    "kill_criteria TEXT NOT NULL DEFAULT '', "
    "cost_hours REAL, "
    "compute TEXT NOT NULL DEFAULT '', "
    "value TEXT NOT NULL DEFAULT '', "
    "value_score INTEGER CHECK (value_score BETWEEN 1 AND 5), "
    "node_id TEXT REFERENCES nodes(id), "
    "created_at TEXT NOT NULL, "
    "updated_at TEXT NOT NULL)"
)

_IDEAS_POSTGRESQL = (
    "CREATE TABLE ideas ("
    "entry_id TEXT PRIMARY KEY REFERENCES entries(id), "
    "state TEXT NOT NULL DEFAULT 'candidate', "
    "hypothesis TEXT NOT NULL DEFAULT '', "
    "cheapest_test TEXT NOT NULL DEFAULT '', "
    "kill_criteria TEXT NOT NULL DEFAULT '', "
    "cost_hours DOUBLE PRECISION, "
    "compute TEXT NOT NULL DEFAULT '', "
    "value TEXT NOT NULL DEFAULT '', "
    "value_score INTEGER CHECK (value_score BETWEEN 1 AND 5), "
    "node_id TEXT REFERENCES nodes(id), "
    "created_at TEXT NOT NULL, "
    "updated_at TEXT NOT NULL)"
)

_AFTER_IDEAS = (
    "CREATE INDEX ideas_state ON ideas(state)",
    "CREATE TABLE idea_events ("
    "id TEXT PRIMARY KEY, "
    "entry_id TEXT NOT NULL REFERENCES entries(id), "
    "at TEXT NOT NULL, "
    "old_state TEXT, "
    "new_state TEXT NOT NULL, "
    "reason TEXT NOT NULL DEFAULT '', "
    "evidence TEXT NOT NULL DEFAULT '[]')",
    "CREATE INDEX idea_events_entry ON idea_events(entry_id, at)",
)


def run(db: Database) -> None:
    db.execute(_IDEAS_SQLITE if db.dialect == "sqlite" else _IDEAS_POSTGRESQL)
    for statement in _AFTER_IDEAS:
        db.execute(statement)
