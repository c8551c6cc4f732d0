"""Entries and runs found by the words of their titles: the quick switcher's look-up.

Each word given is the start of a word of the title, as search splits words
(``domain.text.tokenize``): ``("path", "patch")`` finds "Path patching on IOI". The newest
entries are read by the timeline's index (``recent_entries``: a caller matches their titles
itself, which a common word answers from); the whole log is looked up in the search index's
title field (``entries_titled``: FTS5's ``{title_text}``, PostgreSQL's weight A), whose cost
grows with the number of matches. Runs are found by their names. Each only as its reader may
see it (``filter_sql``, ``visible_runs_sql``). Nodes are few and already read whole
(``store.tree.node_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from upstack.domain import access
from upstack.domain.filters import Filters
from upstack.store.bm25 import Phrase
from upstack.store.db import Database
from upstack.store.queries import filter_sql, run_result_kept_sql, visible_runs_sql

__all__ = ["recent_entries", "entries_titled", "entries_named", "runs_named"]

_COLUMNS = "e.id, e.kind, e.title, e.occurred_at"


def recent_entries(db: Database, limit: int) -> list[dict[str, Any]]:
    """The newest ``limit`` live entries the reader may see: id, kind, title, occurred_at."""
    where, params = filter_sql(db, Filters())
    return db.query(f"SELECT {_COLUMNS} FROM entries e WHERE {where} ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?",
                    [*params, limit])


def entries_named(db: Database, key: str, limit: int) -> list[dict[str, Any]]:
    """The newest live entries the reader may see whose whole title is ``key`` (``domain.text.title_key``)."""
    where, params = filter_sql(db, Filters())
    return db.query(f"SELECT {_COLUMNS} FROM entries e WHERE e.title_key = ? AND {where} "
                    "ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?", [key, *params, limit])


def entries_titled(db: Database, words: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """The newest live entries the reader may see whose title has a word starting with each of
    ``words`` (tokens, as ``tokenize`` makes them): id, kind, title, occurred_at."""
    if not words:
        return []
    where, params = filter_sql(db, Filters(include_deleted=True))  # a deleted entry is not in the index
    titled = db.engine.match_all([Phrase((word,), True, ("title_text",)) for word in words], params)
    if where == "1 = 1":  # the owner's view: the narrow index alone orders the matches
        ids = [r["entry_id"] for r in db.query(
            f"SELECT s.entry_id FROM entry_search s WHERE {titled} "
            "ORDER BY s.occurred_at DESC, s.entry_id DESC LIMIT ?", [*params, limit])]
        if not ids:
            return []
        found = {r["id"]: r for r in db.query(
            f"SELECT {_COLUMNS} FROM entries e WHERE e.id IN ({', '.join('?' for _ in ids)})", ids)}
        return [found[i] for i in ids if i in found]
    return db.query(
        f"SELECT {_COLUMNS} FROM entry_search s JOIN entries e ON e.id = s.entry_id "
        f"WHERE {where} AND {titled} ORDER BY s.occurred_at DESC, s.entry_id DESC LIMIT ?", [*params, limit])


def runs_named(db: Database, words: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """The newest runs the reader may see whose name holds each of ``words`` (a caller checks that
    each starts a word of it): id, name, status, started_at. A run whose result was deleted is left out."""
    if not words:
        return []
    clauses = [run_result_kept_sql("r")]
    params: list[Any] = []
    audience = access.current(team=db.team)
    if audience is not None:
        visible, shown = visible_runs_sql(audience)
        clauses.append(visible)
        params += shown
    for word in words:  # tokens are letters and digits: nothing to escape in a LIKE pattern
        clauses.append("lower(r.name) LIKE ?")
        params.append(f"%{word}%")
    return db.query(f"SELECT r.id, r.name, r.status, r.started_at FROM runs r WHERE {' AND '.join(clauses)} "
                    "ORDER BY r.started_at DESC, r.id DESC LIMIT ?", [*params, limit])
