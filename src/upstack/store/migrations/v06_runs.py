"""Migration 6: experiment runs (runs, their items, metric summaries and metric chunks)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_BEFORE_CHUNKS = (
    "CREATE TABLE runs (id TEXT PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
    "node_id TEXT, status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, "
    "heartbeat_at TEXT, host TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '', "
    "tags TEXT NOT NULL DEFAULT '[]', goals TEXT NOT NULL DEFAULT '{}', config TEXT NOT NULL DEFAULT '{}', "
    "provenance TEXT NOT NULL DEFAULT '{}', summary TEXT NOT NULL DEFAULT '{}', "
    "records_offset INTEGER NOT NULL DEFAULT 0, metrics_offset INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX runs_started ON runs(started_at)",
    "CREATE INDEX runs_node ON runs(node_id)",
    # Figures, tables, notes, the diff and a traceback, in the order they were recorded.
    "CREATE TABLE run_items (id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id), "
    "kind TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX run_items_run ON run_items(run_id, id)",
    # Values as text: SQLite turns NaN into NULL, and a NaN loss is worth seeing.
    "CREATE TABLE run_metrics (run_id TEXT NOT NULL REFERENCES runs(id), key TEXT NOT NULL, "
    "count INTEGER NOT NULL, last_step INTEGER NOT NULL, last_value TEXT NOT NULL, "
    "min_value TEXT, max_value TEXT, PRIMARY KEY (run_id, key))",
)

# Three packed arrays a row; the engines name the binary type differently.
_CHUNKS_SQLITE = (
    "CREATE TABLE metric_chunks (run_id TEXT NOT NULL REFERENCES runs(id), "
    "key TEXT NOT NULL, file_offset INTEGER NOT NULL, count INTEGER NOT NULL, "
    "steps BLOB NOT NULL, times BLOB NOT NULL, vals BLOB NOT NULL, "
    "PRIMARY KEY (run_id, key, file_offset))"
)

_CHUNKS_POSTGRESQL = (
    "CREATE TABLE metric_chunks (run_id TEXT NOT NULL REFERENCES runs(id), "
    "key TEXT NOT NULL, file_offset INTEGER NOT NULL, count INTEGER NOT NULL, "
    "steps BYTEA NOT NULL, times BYTEA NOT NULL, vals BYTEA NOT NULL, "
    "PRIMARY KEY (run_id, key, file_offset))"
)


def run(db: Database) -> None:
    for statement in _BEFORE_CHUNKS:
        db.execute(statement)
    db.execute(_CHUNKS_SQLITE if db.dialect == "sqlite" else _CHUNKS_POSTGRESQL)
