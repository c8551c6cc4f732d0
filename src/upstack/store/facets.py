"""Facet counts for a search: how many matching entries there are per kind, node and tag.

The match set is the one ``store.search.search`` pages through: the same parsed
query compiled by the same ``compile_condition`` (or given to FTS5 whole, as the
search ranks it), the same filters through ``filter_sql``, over the same index
(deleted entries are not in it), so the counts agree with the results' total on
both engines.

Counting every match is the costly part of a search page (a few hundred ms at 100k
entries when most of them match), and people ask the same question again as they
type, page and narrow. So counts are cached in memory under the statement, its
parameters and the store's generation (``store.cache``): any write anywhere makes
the next request count afresh.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from upstack.domain.filters import Filters
from upstack.domain.query import parse_query
from upstack.memo import Memo
from upstack.store.cache import store_key
from upstack.store.db import Database
from upstack.store.queries import filter_sql
from upstack.store.search import compile_condition, fts5_union

__all__ = ["FacetCounts", "facet_counts", "cached_facet_counts", "COUNTS"]


@dataclass
class FacetCounts:
    """Counts over every match. Shared through the cache: read, never change."""

    total: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    nodes: Counter[str | None] = field(default_factory=Counter)  # the node each entry is filed under
    tags: Counter[str] = field(default_factory=Counter)


# Small: one entry is a few hundred counts. Enough for a few people's recent questions.
COUNTS: Memo[FacetCounts] = Memo(64)


def _statement(db: Database, text: str, filters: Filters) -> tuple[str, list[Any]]:
    """One statement counting per kind and node together, and per tag, over every match."""
    where, params = filter_sql(db, replace(filters, include_deleted=True))
    query = parse_query(text)
    expression = fts5_union(query) if db.engine.index_ranks else None
    if expression is not None:
        # FTS5 lists the matches and each is looked up once, in that order (as search() ranks them).
        source = ("(SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?) AS r "
                  "CROSS JOIN entry_search s ON s.rowid = r.rowid CROSS JOIN entries e ON e.id = s.entry_id")
        params = [expression, *params]
    else:
        source = "entry_search s JOIN entries e ON e.id = s.entry_id"
        if query is not None:
            where += " AND " + compile_condition(db.engine, query, params)
    # The matches are found once, then their tags (each engine the way it does that fastest).
    tagged = db.engine.rows_with_ids("entry_tags t", "t.entry_id", "m")
    return (f"WITH m AS MATERIALIZED (SELECT e.id AS id, e.kind AS kind, e.node_id AS node_id "
            f"FROM {source} WHERE {where}) "
            "SELECT 'entry' AS facet, kind, node_id AS value, count(*) AS n FROM m GROUP BY kind, node_id "
            f"UNION ALL SELECT 'tag', NULL, t.tag, count(*) FROM {tagged} GROUP BY t.tag"), params


def _count(db: Database, sql: str, params: list[Any]) -> FacetCounts:
    counts = FacetCounts()
    for row in db.query(sql, params):
        n = int(row["n"])
        if row["facet"] == "tag":
            counts.tags[row["value"]] += n
        else:
            counts.total += n
            counts.kinds[row["kind"]] += n
            counts.nodes[row["value"]] += n
    return counts


def facet_counts(db: Database, text: str, filters: Filters) -> FacetCounts:
    """Counts over every match (not one page): per kind and node together, and per tag; cached."""
    sql, params = _statement(db, text, filters)
    key = store_key(db, sql, tuple(params))
    if key is None:
        return _count(db, sql, params)
    return COUNTS.get_or_compute(key, lambda: _count(db, sql, params))


def cached_facet_counts(db: Database, text: str, filters: Filters) -> FacetCounts | None:
    """The counts if they are in the cache and still current, else None (nothing is counted)."""
    sql, params = _statement(db, text, filters)
    key = store_key(db, sql, tuple(params))
    return COUNTS.get(key) if key is not None else None
