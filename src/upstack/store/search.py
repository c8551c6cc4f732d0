"""Full-text search: one query language, compiled for SQLite FTS5 and PostgreSQL.

Both engines index the same text, already split into tokens by upstack
(``domain.text.tokenize``), in three fields: title, body and tags. Matching
uses each engine's own index. Ranking is BM25 exactly as SQLite FTS5's
``bm25()`` computes it (title instances weigh 2, body and tags 1); on
PostgreSQL the same formula is evaluated in SQL, with the same IDFs (passed in,
or for a one-word query computed in the same pass) and the same order of
floating-point operations, so the same query returns the same entries in the
same order on both (ties: newer first, then larger id).

Ranking reads every match (its text on PostgreSQL, its sizes on SQLite), so a word
in half of 100k entries would cost a few hundred ms. A one-word query whose word
is in at least ``COMMON_WORD`` entries is ranked from stored counts instead
(``store.word_rank``), with exactly the same result, filters and the reader's view
included (a score weighs the word by the whole index, hidden entries too). Counts
(totals, IDFs) are cached until the store changes (``store.cache``).

Only the terms outside a NOT count towards the rank; a query with none is
ordered by time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from upstack.domain import access
from upstack.domain.entry import SearchHit
from upstack.domain.filters import Filters
from upstack.domain.query import And, Not, Or, Query, Tag, Term, parse_query
from upstack.domain.snippet import make_snippet
from upstack.domain.text import fold_tag, search_document
from upstack.store.cache import Memo, store_key
from upstack.store.db import Database
from upstack.store.queries import filter_sql, load_entries
from upstack.store.word_rank import top_for_word

__all__ = ["search", "SearchPage", "rank_phrases", "Phrase", "compile_condition", "fts5_union", "cached_count"]

K1 = 1.2
B = 0.75
WEIGHTS = {"title_text": 2.0, "body_text": 1.0, "tag_text": 1.0}
# A word in at least this many entries is ranked from stored counts (store.word_rank), not from every match.
COMMON_WORD = 2000


@dataclass(frozen=True)
class Phrase:
    """One FTS5 phrase: tokens in a row (the last may be a prefix) in some fields."""

    tokens: tuple[str, ...]
    prefix: bool
    fields: tuple[str, ...]  # ("title_text", "body_text") or ("tag_text",)


@dataclass
class SearchPage:
    hits: list[SearchHit]
    total: int


# -- compiling leaves ---------------------------------------------------------------

def _leaf_phrases(node: Term | Tag) -> list[Phrase]:
    if isinstance(node, Term):
        return [Phrase(node.tokens, node.prefix, ("title_text", "body_text"))]
    name = fold_tag(node.name)
    if node.prefix:
        return [Phrase((name,), True, ("tag_text",))]
    # #ioi is the tag itself and every tag nested under it (#ioi/heads).
    return [Phrase((name,), False, ("tag_text",)), Phrase((name + "/",), True, ("tag_text",))]


def _fts5(phrase: Phrase) -> str:
    quoted = '"' + " ".join(phrase.tokens) + '"' + (" *" if phrase.prefix else "")
    return "{" + " ".join(phrase.fields) + "} : " + quoted


def _tsquery(phrase: Phrase) -> str:
    """PostgreSQL: the title is weight A, the body weight B; a phrase stays in one."""
    def sequence(weight: str) -> str:
        parts = [f"'{t}':{weight}" for t in phrase.tokens]
        if phrase.prefix:
            parts[-1] = f"'{phrase.tokens[-1]}':*{weight}"
        return " <-> ".join(parts)
    if len(phrase.tokens) == 1:
        return "'" + phrase.tokens[0] + "'" + (":*" if phrase.prefix else "")
    return f"({sequence('A')}) | ({sequence('B')})"


def _tag_like(phrase: Phrase) -> str:
    escaped = phrase.tokens[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "% " + escaped + ("%" if phrase.prefix else " %")


def _phrase_condition(dialect: str, phrase: Phrase, params: list[Any]) -> str:
    if dialect == "sqlite":
        params.append(_fts5(phrase))
        return "s.rowid IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?)"
    if phrase.fields == ("tag_text",):
        params.append(_tag_like(phrase))
        return "s.tag_text LIKE ? ESCAPE '\\'"
    params.append(_tsquery(phrase))
    return "s.tsv @@ to_tsquery('simple', ?)"


def compile_condition(dialect: str, query: Query, params: list[Any]) -> str:
    """SQL over ``entries e JOIN entry_search s`` that is true where the query matches."""
    if isinstance(query, Term | Tag):
        parts = [_phrase_condition(dialect, p, params) for p in _leaf_phrases(query)]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if isinstance(query, Not):
        return "NOT (" + compile_condition(dialect, query.child, params) + ")"
    joiner = " AND " if isinstance(query, And) else " OR "
    return "(" + joiner.join(compile_condition(dialect, c, params) for c in query.children) + ")"


def rank_phrases(query: Query | None) -> list[Phrase]:
    """The phrases that count towards the rank: every leaf not under a NOT, once each."""
    if query is None or isinstance(query, Not):
        return []
    if isinstance(query, Term | Tag):
        return _leaf_phrases(query)
    found: list[Phrase] = []
    for child in query.children:
        found += [p for p in rank_phrases(child) if p not in found]
    return found


def _needs_a_ranked_term(query: Query | None) -> bool:
    """Whether every match contains at least one rank phrase (so ranking can drive)."""
    if query is None or isinstance(query, Not):
        return False
    if isinstance(query, Term | Tag):
        return True
    if isinstance(query, And):
        return any(_needs_a_ranked_term(c) for c in query.children)
    return all(_needs_a_ranked_term(c) for c in query.children)


# -- BM25 on PostgreSQL -------------------------------------------------------------

def _pg_frequency(phrase: Phrase, params: list[Any]) -> str:
    """Weighted instance count of a phrase in a row, as FTS5 counts it (overlaps too).

    One token cannot overlap itself in the stored ' a  b ' form, so counting with
    replace() (fast) is exact; a phrase such as "a a" can, so it takes a regex
    with a lookahead, which counts overlapping matches.
    """
    pattern = search_document(list(phrase.tokens))
    if phrase.prefix:
        pattern = pattern[:-1]
    parts = []
    for field in phrase.fields:
        column = f"s.{field}"
        if len(phrase.tokens) == 1:
            params.append(pattern)
            count = f"(length({column}) - length(replace({column}, ?, ''))) / {len(pattern)}"
        else:
            params.append("(?=" + re.escape(pattern) + ")")
            count = f"regexp_count({column}, ?)"
        parts.append(f"{_double(WEIGHTS[field])} * CAST({count} AS double precision)")
    return "(" + " + ".join(parts) + ")"


def _double(value: float) -> str:
    """A float literal PostgreSQL reads as the same double (not as NUMERIC)."""
    return f"CAST({value!r} AS double precision)"


def _idf(rows: int, hits: int) -> float:
    """FTS5's IDF: a term in more than half the rows would weigh less than nothing, so ~0."""
    idf = math.log((rows - hits + 0.5) / (hits + 0.5)) if rows - hits + 0.5 > 0 else 0.0
    return idf if idf > 0.0 else 1e-6


def _sql_idf(params: list[Any], rows: int) -> str:
    """``_idf`` in SQL, for one phrase whose hits are every row of the window (same operations)."""
    hits = "CAST(count(*) OVER () AS double precision)"
    numerator = f"CAST(? AS double precision) - {hits} + {_double(0.5)}"
    ratio = f"(({numerator}) / ({hits} + {_double(0.5)}))"
    params += [float(rows)] * 3
    return (f"(CASE WHEN {numerator} > {_double(0.0)} THEN (CASE WHEN ln({ratio}) > {_double(0.0)} "
            f"THEN ln({ratio}) ELSE {_double(1e-6)} END) ELSE {_double(1e-6)} END)")


def _pg_ranked(db: Database, phrases: list[Phrase], source: str, where: str, where_params: list[Any],
               *, counts_itself: bool) -> tuple[str, list[Any]]:
    """The matches with FTS5's bm25() as ``score``, evaluated in SQL operation for operation.

    Each phrase's frequency is computed once per row, in a subquery that the planner
    may not merge (``OFFSET 0``), and only the narrow rows are kept for sorting. If
    ``counts_itself`` (one phrase, no filters: its hits are exactly the matches), the
    IDF and the total come from the same pass (``count(*) OVER ()``) instead of a
    count of their own.
    """
    stats = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1") or {"docs": 0, "tokens": 0}
    rows = int(stats["docs"])
    average = float(stats["tokens"]) / float(rows) if rows else 1.0
    inner_params: list[Any] = []
    frequencies = ", ".join(f"{_pg_frequency(p, inner_params)} AS f{i}" for i, p in enumerate(phrases))
    inner = (f"SELECT s.entry_id AS id, s.occurred_at AS occurred_at, s.doc_len AS doc_len, {frequencies} "
             f"FROM {source} WHERE {where} OFFSET 0")
    params: list[Any] = []
    terms = []
    for i, phrase in enumerate(phrases):
        if counts_itself:
            idf = _sql_idf(params, rows)
        else:
            condition_params: list[Any] = []
            condition = _phrase_condition("postgresql", phrase, condition_params)
            params.append(_idf(rows, cached_count(db, f"entry_search s WHERE {condition}", condition_params)))
            idf = "CAST(? AS double precision)"
        params.append(average)
        # idf * ((f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)))
        terms.append(
            f"{idf} * ((x.f{i} * {_double(K1 + 1.0)}) / (x.f{i} + {_double(K1)} * ({_double(1.0 - B)} + "
            f"{_double(B)} * CAST(x.doc_len AS double precision) / CAST(? AS double precision))))")
    score = f"{_double(-1.0)} * ({_double(0.0)} + " + " + ".join(terms) + ")"
    total = "count(*) OVER ()" if counts_itself else "0"
    return (f"SELECT x.id AS id, {score} AS score, {total} AS total FROM ({inner}) AS x",
            params + inner_params + where_params)


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


# -- the query ------------------------------------------------------------------------

def _is_union_of_phrases(query: Query | None) -> bool:
    """True when the query matches exactly the entries holding any rank phrase."""
    if isinstance(query, Term | Tag):
        return True
    return isinstance(query, Or) and all(_is_union_of_phrases(c) for c in query.children)


def fts5_union(query: Query | None) -> str | None:
    """One FTS5 expression matching exactly what the query matches, when there is one."""
    if not _is_union_of_phrases(query):
        return None
    return " OR ".join(_fts5(p) for p in rank_phrases(query))


def search(db: Database, text: str, filters: Filters, limit: int = 20,
           offset: int = 0) -> SearchPage:
    query = parse_query(text)
    phrases = rank_phrases(query)
    # Deleted entries are not in the index; other filters need the entries table.
    where, where_params = filter_sql(db, replace(filters, include_deleted=True))
    needs_entries = bool(where_params) or where != "1 = 1"
    entries_join = " JOIN entries e ON e.id = s.entry_id" if needs_entries else ""
    if isinstance(query, Term) and len(query.tokens) == 1 and not query.prefix:
        by_word = _top_by_word(db, phrases[0], limit, offset, (where, list(where_params)))
        if by_word is not None:
            return _hits(db, by_word, phrases)
    ranked_sqlite = bool(phrases) and db.dialect == "sqlite"
    if query is not None and not (ranked_sqlite and _is_union_of_phrases(query)):
        where += " AND " + compile_condition(db.dialect, query, where_params)
    if ranked_sqlite and not needs_entries and _is_union_of_phrases(query):
        page = _top_by_rank(db, phrases, limit, offset)
        if page is not None:
            return _hits(db, page, phrases)
    select = "SELECT s.entry_id AS id, {score} AS score, count(*) OVER () AS total"
    order = " ORDER BY score, s.occurred_at DESC, s.entry_id DESC LIMIT ? OFFSET ?"
    counted = True  # whether each row carries the total
    if not phrases:
        sql = select.format(score="0.0") + f" FROM entry_search s{entries_join} WHERE {where}"
        params = where_params
    elif ranked_sqlite:
        weights = ", ".join(repr(w) for w in WEIGHTS.values())
        ranked = (f"(SELECT rowid, bm25(entry_fts, {weights}) AS score FROM entry_fts "
                  "WHERE entry_fts MATCH ?) AS r")
        if _needs_a_ranked_term(query):
            # CROSS JOIN fixes the order: rank the matches once, then look each up;
            # left to itself the planner may re-run the MATCH for every entry.
            source = f" FROM {ranked} CROSS JOIN entry_search s ON s.rowid = r.rowid"
            entries_join = entries_join.replace(" JOIN", " CROSS JOIN")
        else:
            source = f" FROM entry_search s LEFT JOIN {ranked} ON r.rowid = s.rowid"
        sql = select.format(score="coalesce(r.score, 0.0)") + source + f"{entries_join} WHERE {where}"
        params = [" OR ".join(_fts5(p) for p in phrases)] + where_params
    else:
        counted = len(phrases) == 1 and not needs_entries and _is_union_of_phrases(query)
        sql, params = _pg_ranked(db, phrases, f"entry_search s{entries_join}", where, where_params,
                                 counts_itself=counted)
        order = " ORDER BY score, x.occurred_at DESC, x.id DESC LIMIT ? OFFSET ?"
    rows = db.query(sql + order, params + [limit, offset])
    if not counted:
        total = cached_count(db, f"entry_search s{entries_join} WHERE {where}", where_params)
    elif rows:
        total = int(rows[0]["total"])
    else:  # past the last page: count the matches themselves
        total = int(db.scalar(f"SELECT count(*) FROM ({sql}) AS everything", params)) if offset else 0
    return _hits(db, (rows, total), phrases)


def _top_by_word(db: Database, phrase: Phrase, limit: int, offset: int,
                 shown: tuple[str, list[Any]]) -> tuple[list[dict[str, Any]], int] | None:
    """One word in many entries: rank from stored counts (``store.word_rank``).

    ``shown`` is the filters' condition over ``entries e`` (the reader's view among them).
    Gives exactly what the general query gives. None (use the general query) for a word in
    fewer than ``COMMON_WORD`` entries, which FTS5 or the GIN index rank quickly anyway.
    """
    if db.dialect == "sqlite":
        matches = cached_count(db, "entry_fts WHERE entry_fts MATCH ?", [_fts5(phrase)])
    else:
        params: list[Any] = []
        condition = _phrase_condition(db.dialect, phrase, params)
        matches = cached_count(db, f"entry_search s WHERE {condition}", params)  # as _pg_ranked counts IDFs
    if matches < COMMON_WORD or limit + offset == 0:
        return None
    rows = top_for_word(db, phrase.tokens[0], limit, offset, matches, shown)
    if rows is None:
        return None
    where, where_params = shown
    if where == "1 = 1":
        return rows, matches
    # The total counts the matches shown, in the form the general query counts them (one cache entry).
    condition_params: list[Any] = []
    condition = _phrase_condition(db.dialect, phrase, condition_params)
    return rows, cached_count(db, f"entry_search s JOIN entries e ON e.id = s.entry_id "
                                  f"WHERE {where} AND {condition}", where_params + condition_params)


def _top_by_rank(db: Database, phrases: list[Phrase], limit: int,
                 offset: int) -> tuple[list[dict[str, Any]], int] | None:
    """SQLite, no filters: let FTS5 keep only the best rows instead of sorting every match.

    Gives exactly what the general query gives: rows tied with the page's last
    score are all fetched so that time can break the tie. None (use the general
    query) if an implausibly large tie would make this slower.
    """
    expression = " OR ".join(_fts5(p) for p in phrases)
    wanted = limit + offset
    if wanted == 0:
        return None
    fetch = wanted + 1
    while True:
        best = db.query("SELECT rowid, rank AS score FROM entry_fts WHERE entry_fts MATCH ? "
                        "ORDER BY rank LIMIT ?", (expression, fetch))
        if len(best) < fetch or best[-1]["score"] != best[min(wanted, len(best)) - 1]["score"]:
            break
        if fetch > 4096:
            return None
        fetch *= 4
    if not best:
        return [], 0
    edge = best[min(wanted, len(best)) - 1]["score"]
    best = [r for r in best if r["score"] <= edge]
    found = {r["rowid"]: r for r in db.query(
        f"SELECT rowid, entry_id, occurred_at FROM entry_search WHERE rowid IN "
        f"({', '.join('?' for _ in best)})", [r["rowid"] for r in best])}
    rows = [{"id": found[r["rowid"]]["entry_id"], "occurred_at": found[r["rowid"]]["occurred_at"],
             "score": r["score"]} for r in best]
    rows.sort(key=lambda r: (r["occurred_at"], r["id"]), reverse=True)
    rows.sort(key=lambda r: r["score"])  # stable: ties stay newest first, as in SQL
    total = int(db.scalar("SELECT count(*) FROM entry_fts WHERE entry_fts MATCH ?", (expression,)))
    return rows[offset:wanted], total


def _hits(db: Database, page: tuple[list[dict[str, Any]], int], phrases: list[Phrase]) -> SearchPage:
    rows, total = page
    entries = load_entries(db, [r["id"] for r in rows])
    terms = [Term(p.tokens, p.prefix) for p in phrases if p.fields != ("tag_text",)]
    hits = []
    # A score weighs words by how many entries hold them, hidden ones too: on a team server it would
    # tell a reader about entries they may not see, so only the order (and no number) is given.
    scored = access.current(team=db.team) is None
    for row, entry in zip(rows, entries, strict=True):
        snippet, spans = make_snippet(entry.body, terms)
        hits.append(SearchHit(entry=entry, score=(-float(row["score"]) or 0.0) if scored else None,
                              snippet=snippet, highlights=spans))
    return SearchPage(hits, total)
