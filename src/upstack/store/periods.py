"""What happened in a period: the entries, runs and pruned ideas of some days or weeks, for
`upstack progress`, the review, `upstack check` and stuck spells."""

from __future__ import annotations

from typing import Any

from upstack.domain.filters import Filters
from upstack.store.db import Database
from upstack.store.queries import filter_sql, reader_sql, work_sql

__all__ = ["learning_sources", "entries_since", "runs_started_since", "ideas_pruned_since", "shared_entry_ids",
           "ideas_pruned_between", "recent_counts_by_node", "tried_entry_ids"]


def learning_sources(db: Database) -> set[str]:
    """The entries some live learning links to: what was learned from."""
    return {r["learned_from"] for r in db.query(
        "SELECT l.to_id AS learned_from FROM links l JOIN entries e ON e.id = l.from_id "
        "WHERE e.kind = 'learning' AND e.deleted_at IS NULL AND l.to_id IS NOT NULL")}


def entries_since(db: Database, since: str) -> list[dict[str, Any]]:
    """Live entries (id, kind, node_id, occurred_at, meta) that happened at or after ``since``."""
    return db.query("SELECT id, kind, node_id, occurred_at, meta FROM entries "
                    "WHERE deleted_at IS NULL AND occurred_at >= ?", (since,))


def runs_started_since(db: Database, since: str) -> list[dict[str, Any]]:
    """Runs (started_at, node_id) started at or after ``since``."""
    return db.query("SELECT started_at, node_id FROM runs WHERE started_at >= ?", (since,))


def ideas_pruned_since(db: Database, since: str) -> list[dict[str, Any]]:
    """Each pruning (at, node_id: the idea's, else its entry's) at or after ``since``."""
    return db.query(
        "SELECT v.at, coalesce(i.node_id, e.node_id) AS node_id FROM idea_events v "
        "JOIN ideas i ON i.entry_id = v.entry_id JOIN entries e ON e.id = v.entry_id "
        "WHERE v.new_state = 'pruned' AND v.at >= ?", (since,))


def shared_entry_ids(db: Database, since: str, until: str) -> list[str]:
    """Live entries that are not private, between ``since`` and ``until``, oldest first."""
    return [r["id"] for r in db.query(
        "SELECT id FROM entries WHERE deleted_at IS NULL AND private = 0 AND occurred_at >= ? "
        "AND occurred_at <= ? ORDER BY occurred_at, id", (since, until))]


def ideas_pruned_between(db: Database, since: str, until: str) -> list[dict[str, Any]]:
    """Each pruning (title, reason, node_id) of an idea that is not private and that the reader may
    see, between ``since`` and ``until``, oldest first."""
    visible, shown = reader_sql(db)
    return db.query(
        "SELECT e.title, v.reason, coalesce(i.node_id, e.node_id) AS node_id "
        "FROM idea_events v JOIN ideas i ON i.entry_id = v.entry_id "
        "JOIN entries e ON e.id = v.entry_id WHERE v.new_state = 'pruned' AND e.private = 0 "
        f"AND v.at >= ? AND v.at <= ? AND {visible} ORDER BY v.at", [since, until, *shown])


def recent_counts_by_node(db: Database, since: str) -> dict[str | None, int]:
    """{node id (None: no node): live entries since ``since``}, what the tree does not answer for
    (``queries.work_sql``) left out, as the reader may see them."""
    # The ORDER BY makes SQLite find the recent days by their time (a few rows), not scan
    # every entry in node order, as it otherwise prefers for the GROUP BY (10-40 ms at 100k).
    live, params = filter_sql(db, Filters())  # on a team server, what the reader may see
    return {r["node_id"]: int(r["n"]) for r in db.query(
        "SELECT node_id, count(*) AS n FROM (SELECT e.node_id FROM entries e WHERE e.occurred_at >= ? "
        f"AND {live} AND {work_sql()} ORDER BY e.occurred_at) AS recent "
        "GROUP BY node_id", [since, *params])}


def tried_entry_ids(db: Database, node_ids: list[str], since: str) -> list[str]:
    """Live entries under these nodes since ``since``, questions left out, oldest first."""
    return [r["id"] for r in db.query(
        f"SELECT id FROM entries WHERE deleted_at IS NULL AND kind != 'question' AND "
        f"occurred_at >= ? AND node_id IN ({', '.join('?' for _ in node_ids)}) "
        "ORDER BY occurred_at, id", [since, *node_ids])]
