"""Full-text search: one query language compiled for SQLite FTS5 and PostgreSQL.

Matching uses each engine's index (FTS5, or a GIN-indexed tsvector) over text
that upstack tokenized itself, so both see the same tokens. Ranking is BM25
computed with the same SQL arithmetic on both engines, from statistics kept in
``search_stats`` and term frequencies counted in the stored token string, so
the same query returns the same entries in the same order everywhere (ties go
to the newer entry, then the larger id).
"""

from __future__ import annotations

import math
from typing import Any

from upstack.domain.entry import SearchHit
from upstack.domain.filters import Filters
from upstack.domain.query import And, Not, Or, Query, Tag, Term, parse_query, positive_terms
from upstack.domain.snippet import make_snippet
from upstack.domain.text import search_document
from upstack.store.db import Database
from upstack.store.queries import filter_sql, load_entries

__all__ = ["search", "SearchPage"]

K1 = 1.2
B = 0.75


class SearchPage:
    def __init__(self, hits: list[SearchHit], total: int) -> None:
        self.hits = hits
        self.total = total


def _fts5_expression(term: Term) -> str:
    return '"' + " ".join(term.tokens) + '"' + (" *" if term.prefix else "")


def _tsquery(term: Term) -> str:
    parts = [f"'{t}'" for t in term.tokens]
    if term.prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compile_condition(dialect: str, query: Query, params: list[Any]) -> str:
    """SQL over ``entries e JOIN entry_search s`` that is true where the query matches."""
    if isinstance(query, Term):
        if dialect == "sqlite":
            params.append(_fts5_expression(query))
            return "s.rowid IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?)"
        params.append(_tsquery(query))
        return "s.tsv @@ to_tsquery('simple', ?)"
    if isinstance(query, Tag):
        # A tag also matches the tags nested under it: #ioi finds #ioi/heads.
        pattern = _escape_like(query.name) + ("%" if query.prefix else "/%")
        params += [query.name, pattern]
        return ("e.id IN (SELECT entry_id FROM entry_tags WHERE tag = ? "
                "OR tag LIKE ? ESCAPE '\\')")
    if isinstance(query, Not):
        return "NOT (" + compile_condition(dialect, query.child, params) + ")"
    joiner = " AND " if isinstance(query, And) else " OR "
    assert isinstance(query, And | Or)
    return "(" + joiner.join(compile_condition(dialect, c, params) for c in query.children) + ")"


def _term_frequency_sql(term: Term, column: str, params: list[Any]) -> str:
    pattern = search_document(list(term.tokens))
    if term.prefix:
        pattern = pattern[:-1]  # ' patch' also matches the start of ' patching '
    params.append(pattern)
    return f"((length({column}) - length(replace({column}, ?, ''))) / {len(pattern)})"


def search(db: Database, text: str, filters: Filters, limit: int = 20,
           offset: int = 0) -> SearchPage:
    query = parse_query(text)
    terms = positive_terms(query)
    where, params = filter_sql(filters)
    if query is not None:
        where += " AND " + compile_condition(db.dialect, query, params)

    stats = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1")
    docs = max(int(stats["docs"]), 1) if stats else 1
    average = (int(stats["tokens"]) / docs) if stats and stats["tokens"] else 1.0

    tf_columns: list[str] = []
    tf_params: list[Any] = []
    score_parts: list[str] = []
    score_params: list[Any] = []
    for i, term in enumerate(terms):
        df_params: list[Any] = []
        condition = compile_condition(db.dialect, term, df_params)
        df = int(db.scalar(f"SELECT count(*) FROM entry_search s WHERE {condition}", df_params))
        idf = math.log((docs - df + 0.5) / (df + 0.5) + 1.0)
        tf_columns.append(
            _term_frequency_sql(term, "s.search_text", tf_params) + " + "
            + _term_frequency_sql(term, "s.title_text", tf_params) + f" AS tf{i}")
        score_parts.append(f"(? * tf{i} * ? / (tf{i} + ? + ? * doc_len))")
        score_params += [idf, K1 + 1, K1 * (1 - B), K1 * B / average]
    score = " + ".join(score_parts) if score_parts else "0.0"
    inner_columns = ", ".join(["e.id", "e.occurred_at", "s.doc_len"] + tf_columns)
    sql = (
        f"SELECT id, {score} AS score, count(*) OVER () AS total FROM ("
        f"SELECT {inner_columns} FROM entries e JOIN entry_search s ON s.entry_id = e.id "
        f"WHERE {where}) AS matched "
        "ORDER BY score DESC, occurred_at DESC, id DESC LIMIT ? OFFSET ?"
    )
    rows = db.query(sql, score_params + tf_params + params + [limit, offset])
    total = int(rows[0]["total"]) if rows else 0
    entries = load_entries(db, [r["id"] for r in rows])
    hits = []
    for row, entry in zip(rows, entries, strict=True):
        snippet, spans = make_snippet(entry.body, terms)
        hits.append(SearchHit(entry=entry, score=float(row["score"]), snippet=snippet,
                              highlights=spans))
    return SearchPage(hits, total)
