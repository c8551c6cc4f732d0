"""Full-text search: one query language, compiled for SQLite FTS5 and PostgreSQL.

Both engines index the same text, already split into tokens by upstack
(``domain.text.tokenize``), in three fields: title, body and tags. Matching
uses each engine's own index (a phrase in its syntax: ``Dialect.match``). Ranking is BM25 exactly as SQLite FTS5's
``bm25()`` computes it (title instances weigh 2, body and tags 1); on
PostgreSQL the same formula is evaluated in SQL (``store.bm25``), with the same
IDFs and the same order of floating-point operations, so the same query returns
the same entries in the same order on both (ties: newer first, then larger id).

Words are weighed by what the reader may see (``store.bm25.Corpus``): the owner's
ranking (nobody signed in) by the whole index, a signed-in reader's by their own
view, so the order of a reader's results says nothing about entries hidden from
them. FTS5's ``bm25()`` knows only its whole index, so on SQLite a reader's
ranking is evaluated in SQL too, from the texts FTS5 keeps.

Ranking reads every match (its text on PostgreSQL and for a reader's ranking, its
sizes where FTS5 ranks), so a word in half of 100k entries would cost a few hundred
ms. A one-word query whose word is in at least ``COMMON_WORD`` entries of the
reader's view (``COMMON_WORD_IN_SQL`` where the ranking reads texts: about 20 us a
match) is ranked from stored counts instead (``store.word_rank``), with exactly the
same result, filters included; ``word_rank`` itself declines when its own reads
would cost more.
Counts (totals, IDFs, a view's size) are cached until the store changes (``store.cache``).

Only the terms outside a NOT count towards the rank; a query with none is
ordered by time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from upstack.domain import access
from upstack.domain.entry import SearchHit
from upstack.domain.filters import Filters
from upstack.domain.query import And, Not, Or, Query, Tag, Term, parse_query
from upstack.domain.snippet import make_snippet
from upstack.domain.text import fold_tag
from upstack.store.bm25 import WEIGHTS, Corpus, Phrase, cached_count, corpus, idf, phrase_hits, ranked_sql, window_idf
from upstack.store.db import Database
from upstack.store.dialect import Dialect, fts5_phrase
from upstack.store.queries import filter_sql, load_entries, visible_sql
from upstack.store.vocabulary import only_completion
from upstack.store.word_rank import top_for_word

__all__ = ["search", "SearchPage", "rank_phrases", "Phrase", "compile_condition", "fts5_union", "cached_count",
           "settled"]

# A word in at least this many entries is ranked from stored counts (store.word_rank), not from every match:
# where FTS5 ranks (the owner's ranking on SQLite), and where the ranking reads every match's text (PostgreSQL,
# a signed-in reader's ranking), whose cost grows faster (a 28% reader's `induction`, 1,223 matches of 20k
# entries: 25 ms ranked in SQL, 4 ms from stored counts; bench/README.md, bench_attack).
COMMON_WORD = 2000
COMMON_WORD_IN_SQL = 200


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


def compile_condition(engine: Dialect, query: Query, params: list[Any]) -> str:
    """SQL over ``entries e JOIN entry_search s`` that is true where the query matches."""
    if isinstance(query, Term | Tag):
        parts = [engine.match(p, params) for p in _leaf_phrases(query)]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    if isinstance(query, Not):
        return "NOT (" + compile_condition(engine, query.child, params) + ")"
    joiner = " AND " if isinstance(query, And) else " OR "
    return "(" + joiner.join(compile_condition(engine, c, params) for c in query.children) + ")"


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


# -- the query ------------------------------------------------------------------------

def settled(db: Database, query: Query | None, seen: Corpus) -> Query | None:
    """The query with each prefix that starts only one word of the corpus ``seen`` written as that
    word: it matches the same entries the same number of times, so it ranks them the same, and a
    one-word search (``selectiv`` typed in the search box) can take the stored-count path."""
    if isinstance(query, Term):
        word = only_completion(db, query.tokens[-1], seen) if query.prefix else None
        if word is not None:
            return Term(query.tokens[:-1] + (word,))
        return query
    if isinstance(query, Not):
        return Not(settled(db, query.child, seen) or query.child)
    if isinstance(query, And | Or):
        return type(query)(tuple(settled(db, c, seen) or c for c in query.children))
    return query


def _is_union_of_phrases(query: Query | None) -> bool:
    """True when the query matches exactly the entries holding any rank phrase."""
    if isinstance(query, Term | Tag):
        return True
    return isinstance(query, Or) and all(_is_union_of_phrases(c) for c in query.children)


def fts5_union(query: Query | None) -> str | None:
    """One FTS5 expression matching exactly what the query matches, when there is one."""
    if not _is_union_of_phrases(query):
        return None
    return " OR ".join(fts5_phrase(p) for p in rank_phrases(query))


# Beyond any log's size, and small enough that an offset and a page's limit added up still fit the
# engines' 64-bit integers (an offset of 2**63 - 1 was a 500).
OFFSET_MAX = 2**62


def search(db: Database, text: str, filters: Filters, limit: int = 20,
           offset: int = 0) -> SearchPage:
    limit, offset = min(limit, OFFSET_MAX), min(offset, OFFSET_MAX)
    audience = access.current(team=db.team)
    # What words are weighed by: the reader's view, never what they may not see (the owner: everything).
    seen = corpus(db, visible_sql(audience) if audience is not None else None)
    query = settled(db, parse_query(text), seen)
    phrases = rank_phrases(query)
    # Deleted entries are not in the index; other filters need the entries table.
    where, where_params = filter_sql(db, replace(filters, include_deleted=True))
    needs_entries = bool(where_params) or where != "1 = 1"
    entries_join = " JOIN entries e ON e.id = s.entry_id" if needs_entries else ""
    if isinstance(query, Term) and len(query.tokens) == 1 and not query.prefix:
        common = COMMON_WORD if db.engine.index_ranks and seen.whole else COMMON_WORD_IN_SQL
        by_word = _top_by_word(db, phrases[0], limit, offset, (where, list(where_params)), seen, common)
        if by_word is not None:
            return _hits(db, by_word, phrases)
    # FTS5's bm25() weighs words by its whole index: only the owner's ranking may use it.
    ranked_by_index = bool(phrases) and db.engine.index_ranks and seen.whole
    if query is not None and not (ranked_by_index and _is_union_of_phrases(query)):
        where += " AND " + compile_condition(db.engine, query, where_params)
    if ranked_by_index and not needs_entries and _is_union_of_phrases(query):
        page = _top_by_rank(db, phrases, limit, offset)
        if page is not None:
            return _hits(db, page, phrases)
    select = "SELECT s.entry_id AS id, {score} AS score, count(*) OVER () AS total"
    order = " ORDER BY score, s.occurred_at DESC, s.entry_id DESC LIMIT ? OFFSET ?"
    counted = True  # whether each row carries the total
    if not phrases:
        sql = select.format(score="0.0") + f" FROM entry_search s{entries_join} WHERE {where}"
        params = where_params
    elif ranked_by_index:
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
        params = [" OR ".join(fts5_phrase(p) for p in phrases)] + where_params
    else:
        counted = len(phrases) == 1 and not needs_entries and _is_union_of_phrases(query)
        sql, params = _ranked_in_sql(db, phrases, seen, entries_join, where, where_params, counts_itself=counted)
        order = " ORDER BY score, x.occurred_at DESC, x.id DESC LIMIT ? OFFSET ?"
    rows = db.query(sql + order, params + [limit, offset])
    if not counted:
        total = cached_count(db, f"entry_search s{entries_join} WHERE {where}", where_params)
    elif rows:
        total = int(rows[0]["total"])
    else:  # past the last page: count the matches themselves
        total = int(db.scalar(f"SELECT count(*) FROM ({sql}) AS everything", params)) if offset else 0
    return _hits(db, (rows, total), phrases)


def _ranked_in_sql(db: Database, phrases: list[Phrase], seen: Corpus, entries_join: str, where: str,
                   where_params: list[Any], *, counts_itself: bool) -> tuple[str, list[Any]]:
    """BM25 evaluated in SQL (``store.bm25``) over the corpus ``seen``: PostgreSQL's ranking, and a
    signed-in reader's on SQLite (whose texts are read from FTS5, by rowid).

    If ``counts_itself`` (PostgreSQL, one phrase, no filters: its hits are exactly the
    matches), the IDF and the total come from the ranking pass (``count(*) OVER ()``)
    instead of a count of their own.
    """
    join_texts, texts = db.engine.texts_from()
    source = f"entry_search s{entries_join}{join_texts}"
    idfs: list[float | tuple[str, list[Any]]] = [
        window_idf(seen.rows) if counts_itself else idf(seen.rows, phrase_hits(db, p, seen)) for p in phrases]
    return ranked_sql(db, phrases, idfs, seen, source, where, where_params, texts=texts,
                      total="count(*) OVER ()" if counts_itself else "0")


def _top_by_word(db: Database, phrase: Phrase, limit: int, offset: int, shown: tuple[str, list[Any]],
                 seen: Corpus, common: int) -> tuple[list[dict[str, Any]], int] | None:
    """One word in many entries: rank from stored counts (``store.word_rank``).

    ``shown`` is the filters' condition over ``entries e`` (the reader's view among them).
    Gives exactly what the general query gives. None (use the general query) for a word in
    fewer than ``common`` entries of the corpus, which the general query ranks quickly anyway.
    """
    matches = phrase_hits(db, phrase, seen)
    if matches < common or limit + offset == 0:
        return None
    rows = top_for_word(db, phrase.tokens[0], limit, offset, matches, shown, seen)
    if rows is None:
        return None
    where, where_params = shown
    if where == "1 = 1":
        return rows, matches
    # The total counts the matches shown, in the form the general query counts them (one cache entry).
    condition_params: list[Any] = []
    condition = db.engine.match(phrase, condition_params)
    return rows, cached_count(db, f"entry_search s JOIN entries e ON e.id = s.entry_id "
                                  f"WHERE {where} AND {condition}", where_params + condition_params)


def _top_by_rank(db: Database, phrases: list[Phrase], limit: int,
                 offset: int) -> tuple[list[dict[str, Any]], int] | None:
    """SQLite, no filters: let FTS5 keep only the best rows instead of sorting every match.

    Gives exactly what the general query gives: rows tied with the page's last
    score are all fetched so that time can break the tie. None (use the general
    query) if an implausibly large tie would make this slower.
    """
    expression = " OR ".join(fts5_phrase(p) for p in phrases)
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
    # A reader's scores weigh words by their own view only; still, a number adds nothing a person
    # needs and would be one more thing to keep from telling, so only the order is given.
    scored = access.current(team=db.team) is None
    for row, entry in zip(rows, entries, strict=True):
        snippet, spans = make_snippet(entry.body, terms)
        hits.append(SearchHit(entry=entry, score=(-float(row["score"]) or 0.0) if scored else None,
                              snippet=snippet, highlights=spans))
    return SearchPage(hits, total)
