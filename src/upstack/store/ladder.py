"""What the log already holds that counts as ladder evidence (services/ladder.py proposes it): each
read answers for the reader, uses an index, and is capped, so `upstack ladder` stays fast at 100k
entries."""

from __future__ import annotations

from typing import Any

from upstack.domain import access
from upstack.store.db import Database
from upstack.store.queries import reader_sql, run_result_kept_sql, visible_runs_sql

__all__ = ["entries_under", "finished_runs", "tagged_entries", "CAP"]

CAP = 20  # the newest this many of each kind: a proposal list is read, not scrolled


def entries_under(db: Database, node_ids: list[str]) -> list[dict[str, Any]]:
    """The live entries the reader may see filed directly under these nodes: id, node_id, kind,
    title, body (by the node index)."""
    if not node_ids:
        return []
    visible, params = reader_sql(db)
    return db.query(f"SELECT e.id, e.node_id, e.kind, e.title, e.body FROM entries e WHERE e.node_id IN "
                    f"({', '.join('?' for _ in node_ids)}) AND e.deleted_at IS NULL AND {visible} "
                    "ORDER BY e.occurred_at DESC, e.id DESC LIMIT 500", [*node_ids, *params])


def finished_runs(db: Database) -> list[dict[str, Any]]:
    """The newest finished runs the reader may see (their result entry not deleted): id, name."""
    audience = access.current(team=db.team)
    visible, params = visible_runs_sql(audience) if audience is not None else ("1 = 1", [])
    return db.query(f"SELECT r.id, r.name FROM runs r WHERE r.status = 'finished' AND {run_result_kept_sql()} "
                    f"AND {visible} ORDER BY r.started_at DESC, r.id DESC LIMIT ?", [*params, CAP])


def tagged_entries(db: Database, tags: tuple[str, ...]) -> list[dict[str, Any]]:
    """The newest live entries the reader may see with any of these tags: id, title (by the tag index)."""
    visible, params = reader_sql(db)
    return db.query(f"SELECT DISTINCT e.id, e.title FROM entry_tags t JOIN entries e ON e.id = t.entry_id "
                    f"WHERE t.tag IN ({', '.join('?' for _ in tags)}) AND e.deleted_at IS NULL AND {visible} "
                    "ORDER BY e.id DESC LIMIT ?", [*tags, *params, CAP])
