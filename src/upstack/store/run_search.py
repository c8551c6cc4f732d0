"""Finding runs: by where they sit in the tree, their status, when they started and their name;
and the metrics a run logged."""

from __future__ import annotations

from typing import Any

from upstack.store.db import Database
from upstack.store.queries import run_result_kept_sql

__all__ = ["run_ids", "has_metric", "metric_keys"]


def run_ids(db: Database, *, under: str | None = None, status: str | None = None, since: str | None = None,
            until: str | None = None, name: str | None = None, deleted: bool = False) -> list[str]:
    """Ids of the runs filed under node ``under`` (or below it), of this status, started in
    [since, until], of this name (each only if given), newest first. A deleted run (or one whose result
    entry was deleted) is left out, unless ``deleted`` asks for deleted runs only; so is none the reader
    may not see (load each to check)."""
    clauses: list[str] = []
    params: list[Any] = []
    if under:
        clauses.append("node_id IN (WITH RECURSIVE below(id) AS (SELECT ? UNION SELECT n.id FROM nodes n "
                       "JOIN below ON n.parent_id = below.id) SELECT id FROM below)")
        params.append(under)
    for column, value, op in (("status", status, "="), ("started_at", since, ">="),
                              ("started_at", until, "<="), ("name", name, "=")):
        if value:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    clauses.append(f"NOT ({run_result_kept_sql('runs')})" if deleted else run_result_kept_sql("runs"))
    sql = "SELECT id FROM runs WHERE " + " AND ".join(clauses) + " ORDER BY started_at DESC, id DESC"
    return [r["id"] for r in db.query(sql, params)]


def has_metric(db: Database, run_id: str, key: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM run_metrics WHERE run_id = ? AND key = ?", (run_id, key)))


def metric_keys(db: Database, run_id: str) -> list[str]:
    """The names of the run's metrics, in order."""
    return [r["key"] for r in db.query("SELECT key FROM run_metrics WHERE run_id = ? ORDER BY key", (run_id,))]
