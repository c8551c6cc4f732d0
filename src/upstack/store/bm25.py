"""BM25 as SQLite FTS5's ``bm25()`` computes it, over a collection of our choosing.

A BM25 score weighs each phrase by the collection it is computed over: how many
entries there are (N), their average length (avgdl) and how many hold the phrase
(its IDF). FTS5 always uses its whole index. On a team server that would let a
reader learn from the order of their results whether a word occurs in entries
they may not see (another's private notes, a project not shared with them). So a
signed-in reader's ranking uses the collection they may see (``Corpus``): the
same formula, the same floating-point operations, with N, avgdl and the IDFs
counted over their view. A reader who sees everything gets exactly the owner's
ranking; a reader's results are exactly what a server where the hidden entries
were never written would give.

``ranked_sql`` evaluates the formula in SQL from the indexed texts (PostgreSQL
always ranks this way; SQLite when FTS5's own statistics are not the reader's).
Counts are cached until the store changes (``store.cache``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from upstack.domain.text import search_document
from upstack.memo import Memo
from upstack.store.cache import store_key
from upstack.store.db import Database
from upstack.store.dialect import Dialect

__all__ = ["K1", "B", "WEIGHTS", "Phrase", "Corpus", "corpus", "idf", "bm25", "window_idf", "ranked_sql",
           "cached_count", "phrase_hits", "phrase_hits_upto"]

K1 = 1.2
B = 0.75
WEIGHTS = {"title_text": 2.0, "body_text": 1.0, "tag_text": 1.0}


@dataclass(frozen=True)
class Phrase:
    """One FTS5 phrase: tokens in a row (the last may be a prefix) in some fields."""

    tokens: tuple[str, ...]
    prefix: bool
    fields: tuple[str, ...]  # ("title_text", "body_text") or ("tag_text",)


@dataclass(frozen=True)
class Corpus:
    """The entries a ranking weighs words by: ``view`` (a condition over ``entries e``) of the index.

    ``whole`` is the owner's view, the whole index, whose totals the store keeps.
    """

    rows: int
    tokens: int
    view: str = "1 = 1"
    view_params: tuple[Any, ...] = ()

    @property
    def whole(self) -> bool:
        return self.view == "1 = 1"

    @property
    def average(self) -> float:
        return float(self.tokens) / float(self.rows) if self.rows else 1.0


_CORPORA: Memo[Corpus] = Memo(64)


def corpus(db: Database, view: tuple[str, list[Any]] | None = None) -> Corpus:
    """The indexed entries ``view`` selects (a condition over ``entries e``: a reader's, from
    ``store.queries.visible_sql``); None: the whole index, whose totals the store keeps."""
    if view is None:
        stats = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1") or {"docs": 0, "tokens": 0}
        return Corpus(int(stats["docs"]), int(stats["tokens"]))
    condition, params = view
    # Deleted entries are not in the index: the view's indexed entries are exactly what it may find.
    sql = ("SELECT count(*) AS docs, coalesce(sum(s.doc_len), 0) AS tokens FROM entry_search s "
           f"JOIN entries e ON e.id = s.entry_id WHERE {condition}")

    def count() -> Corpus:
        row = db.one(sql, params) or {"docs": 0, "tokens": 0}
        return Corpus(int(row["docs"]), int(row["tokens"]), condition, tuple(params))

    key = store_key(db, sql, tuple(params))
    return count() if key is None else _CORPORA.get_or_compute(key, count)


def idf(rows: int, hits: int) -> float:
    """FTS5's IDF: a term in more than half the rows would weigh less than nothing, so ~0."""
    value = math.log((rows - hits + 0.5) / (hits + 0.5)) if rows - hits + 0.5 > 0 else 0.0
    return value if value > 0.0 else 1e-6


def bm25(idf: float, freq: float, doc_len: float, average: float) -> float:
    """FTS5's ``bm25()`` for one phrase, operation for operation (fts5_aux.c), as it sorts (lower
    is better); ``ranked_sql`` writes the same operations in SQL, for many phrases."""
    score = 0.0
    score += idf * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + B * doc_len / average)))
    return -1.0 * score


# -- counting, cached ---------------------------------------------------------------

_COUNTS: Memo[int] = Memo(256)


def cached_count(db: Database, source_and_where: str, params: list[Any]) -> int:
    """``SELECT count(*) FROM {source_and_where}``, cached until the store changes (see store.cache).

    A phrase's hits (its IDF) and a query's total are often the same count: both
    are asked in one form, so the second is found in the cache.
    """
    sql = "SELECT count(*) FROM " + source_and_where.replace("WHERE 1 = 1 AND ", "WHERE ")
    key = store_key(db, sql, tuple(params))
    if key is None:
        return int(db.scalar(sql, params))
    return _COUNTS.get_or_compute(key, lambda: int(db.scalar(sql, params)))


def phrase_hits(db: Database, phrase: Phrase, seen: Corpus) -> int:
    """How many entries of the corpus hold the phrase (its IDF), counted in the form a total
    of the same matches is counted (so the two share a cache entry)."""
    if seen.whole:
        return cached_count(db, *db.engine.whole_index_matches(phrase))
    params = list(seen.view_params)
    condition = db.engine.match(phrase, params)
    return cached_count(db, f"entry_search s JOIN entries e ON e.id = s.entry_id WHERE {seen.view} "
                            f"AND {condition}", params)


def phrase_hits_upto(db: Database, phrase: Phrase, seen: Corpus, most: int) -> int:
    """``phrase_hits``, or ``most`` if it is at least that: counting stops there where the index can
    stop it (FTS5, for the whole index: a word in half of 100k entries took 10-20 ms to count whole).
    Elsewhere (PostgreSQL's GIN look-up, a reader's view) the count is whole, and cut."""
    if not (seen.whole and db.engine.index_ranks):
        return min(phrase_hits(db, phrase, seen), most)
    source, params = db.engine.whole_index_matches(phrase)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT ?) AS found"
    key = store_key(db, sql, *params, most)
    if key is None:
        return int(db.scalar(sql, [*params, most]))
    return _COUNTS.get_or_compute(key, lambda: int(db.scalar(sql, [*params, most])))


# -- the formula in SQL ---------------------------------------------------------------

class _Constants:
    """Float constants written so that each engine reads back exactly the same double
    (``Dialect.exact_float``), their parameters kept in the order they are written."""

    def __init__(self, engine: Dialect) -> None:
        self.engine = engine
        self.params: list[Any] = []

    def __call__(self, value: float) -> str:
        return self.engine.exact_float(value, self.params)


def _frequency(engine: Dialect, phrase: Phrase, texts: str, params: list[Any]) -> str:
    """Weighted instance count of a phrase in a row, as FTS5 counts it (overlaps too).

    One token cannot overlap itself in the stored ' a  b ' form, so counting with
    replace() (fast) is exact; a phrase such as "a a" can, so it takes a count of
    overlapping matches (``Dialect.count_overlapping``).
    """
    pattern = search_document(list(phrase.tokens))
    if phrase.prefix:
        pattern = pattern[:-1]
    weight = _Constants(engine)
    parts = []
    for field in phrase.fields:
        column = f"{texts}.{field}"
        if len(phrase.tokens) == 1:
            count = f"(length({column}) - length(replace({column}, ?, ''))) / {len(pattern)}"
            count_params: list[Any] = [pattern]
        else:
            count, count_params = engine.count_overlapping(column, pattern)
        parts.append(f"{weight(WEIGHTS[field])} * CAST({count} AS {engine.real})")
        params += weight.params + count_params
        weight.params = []
    return "(" + " + ".join(parts) + ")"


def window_idf(rows: int) -> tuple[str, list[Any]]:
    """PostgreSQL: ``idf`` in SQL for one phrase whose hits are every row of the window (same operations)."""
    hits = "CAST(count(*) OVER () AS double precision)"
    numerator = f"CAST(? AS double precision) - {hits} + CAST(0.5 AS double precision)"
    ratio = f"(({numerator}) / ({hits} + CAST(0.5 AS double precision)))"
    zero, tiny = "CAST(0.0 AS double precision)", "CAST(1e-06 AS double precision)"
    return (f"(CASE WHEN {numerator} > {zero} THEN (CASE WHEN ln({ratio}) > {zero} "
            f"THEN ln({ratio}) ELSE {tiny} END) ELSE {tiny} END)"), [float(rows)] * 3


def ranked_sql(db: Database, phrases: list[Phrase], idfs: list[float | tuple[str, list[Any]]], seen: Corpus,
               source: str, where: str, where_params: list[Any], *, texts: str = "s",
               total: str = "0") -> tuple[str, list[Any]]:
    """The matches, ``SELECT x.id, x.occurred_at, score, total``, with FTS5's bm25() as ``score``
    over the corpus ``seen``, evaluated in SQL operation for operation (fts5_aux.c).

    ``idfs`` are floats, or SQL and its parameters for one computed in the same pass
    (``window_idf``). ``texts`` is the alias the indexed texts are read from. Each
    phrase's frequency is computed once per row, in a subquery that the planner may not
    merge (``OFFSET 0``), and only the narrow rows are kept for sorting.
    """
    engine = db.engine
    inner_params: list[Any] = []
    frequencies = ", ".join(f"{_frequency(engine, p, texts, inner_params)} AS f{i}"
                            for i, p in enumerate(phrases))
    inner = (f"SELECT s.entry_id AS id, s.occurred_at AS occurred_at, s.doc_len AS doc_len, {frequencies} "
             f"FROM {source} WHERE {where} {engine.unmerged}")
    const = _Constants(engine)
    score = f"{const(-1.0)} * ({const(0.0)} + "  # SQLite's constants are bound in the order they are written
    terms = []
    for i, weight in enumerate(idfs):
        if isinstance(weight, tuple):
            idf_sql = weight[0]
            const.params += weight[1]
        else:
            idf_sql = const(weight)
        # idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)))
        terms.append(
            f"{idf_sql} * ((x.f{i} * {const(K1 + 1.0)}) / (x.f{i} + {const(K1)} * ({const(1.0 - B)} + "
            f"{const(B)} * CAST(x.doc_len AS {engine.real}) / {const(seen.average)})))")
    score += " + ".join(terms) + ")"
    sql = (f"SELECT x.id AS id, x.occurred_at AS occurred_at, {score} AS score, {total} AS total "
           f"FROM ({inner}) AS x")
    return sql, const.params + inner_params + where_params
