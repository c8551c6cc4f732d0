"""Facet counts for a search: how many matching entries there are per kind, node and tag.

The match set is the one ``store.search.search`` pages through: the same parsed
query compiled by the same ``compile_condition``, the same filters, over the same
index (deleted entries are not in it), so the counts agree with the results'
total on both engines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from upstack.domain.filters import Filters
from upstack.domain.query import parse_query
from upstack.store.db import Database
from upstack.store.queries import filter_sql
from upstack.store.search import compile_condition

__all__ = ["FacetCounts", "facet_counts"]


@dataclass
class FacetCounts:
    total: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    nodes: Counter[str | None] = field(default_factory=Counter)  # the node each entry is filed under
    tags: Counter[str] = field(default_factory=Counter)


def _matches(db: Database, text: str, filters: Filters) -> tuple[str, list[Any]]:
    """SQL selecting the id of every entry the search would return, in any order."""
    where, params = filter_sql(replace(filters, include_deleted=True))
    query = parse_query(text)
    if query is not None:
        where += " AND " + compile_condition(db.dialect, query, params)
    return f"SELECT s.entry_id AS id FROM entry_search s JOIN entries e ON e.id = s.entry_id WHERE {where}", params


def facet_counts(db: Database, text: str, filters: Filters) -> FacetCounts:
    """Counts over every match (not one page): per kind and node together, and per tag.

    One statement: the match set is found once (a CTE used twice) rather than once per facet.
    """
    matches, params = _matches(db, text, filters)
    rows = db.query(
        f"WITH m AS ({matches}) "
        "SELECT 'entry' AS facet, e.kind AS kind, e.node_id AS value, count(*) AS n "
        "FROM m JOIN entries e ON e.id = m.id GROUP BY e.kind, e.node_id "
        "UNION ALL SELECT 'tag', NULL, t.tag, count(*) FROM m JOIN entry_tags t ON t.entry_id = m.id "
        "GROUP BY t.tag", params)
    counts = FacetCounts()
    for row in rows:
        n = int(row["n"])
        if row["facet"] == "tag":
            counts.tags[row["value"]] += n
        else:
            counts.total += n
            counts.kinds[row["kind"]] += n
            counts.nodes[row["value"]] += n
    return counts
