"""Ranking one common word without reading every entry that holds it.

A one-word search's BM25 score (``store.search``) depends on the entry only
through two numbers: ``f``, the word's weighted count in the entry (title
instances weigh 2, body instances 1), and ``D``, the entry's length in tokens.
It rises with ``f`` and falls with ``D``. So among the entries with the same
``f`` the best are the shortest (then, as everywhere, the newest), and the
best page overall is found among each ``f``'s first few entries:

- ``word_counts`` holds, for every entry and every word it counts at least
  ``POSTED`` times (3: once in the title and once in the body, or three times in
  the body), the count and the entry's length and time, in an index ordered the
  way the ranking reads it. That is a few rows per entry: a word in most entries
  is in most of them once or twice.
- The entries that count the word once or twice are ranked by length alone, and
  only the shortest can reach the page: the ones no longer than the length at
  which twice the word still scores as well as the page's last entry. They are
  read from ``entry_search`` by length (its ``doc_len`` index) and the word is
  counted in their texts.

A search with filters ranks only the entries shown, with the same scores: the
same reads, each row looked up in ``entries`` against the condition, so a count's
first entries are its first shown ones. A signed-in reader on a team server is
shown their view, and the scores weigh the word by that view too (the IDF and the
average length of ``store.bm25.Corpus``), never by entries they may not see.

The answer is exactly the full ranking's (same scores, same order, same ties);
``tests/test_search_speedpath.py`` compares the two. When the short entries to
read would be many (a rare word, a deep page, or a reader shown few entries, whose
page reaches far down), ``top_for_word`` answers None and the caller ranks every
match as before.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from upstack.store.bm25 import K1, WEIGHTS, B, Corpus, bm25
from upstack.store.bm25 import idf as word_idf
from upstack.store.db import Database

__all__ = ["POSTED", "index_words", "unindex_words", "top_for_word", "bm25"]

# Migration 8 filled word_counts with its own copies of POSTED and TITLE_WEIGHT
# (store/migrations/v08_word_counts.py): a change to either wants a new migration that counts again.
POSTED = 3  # the lowest weighted count kept in word_counts
TITLE_WEIGHT = int(WEIGHTS["title_text"])  # counted as a whole number, in Python and in SQL
WALK_BUDGET = 4000  # short entries read at most, before ranking every match is the better plan


def counted_words(title_text: str, body_text: str) -> list[tuple[str, int]]:
    """(word, weighted count) for the words counted at least ``POSTED`` times in an indexed text."""
    counts: Counter[str] = Counter()
    for word in title_text.split():
        counts[word] += TITLE_WEIGHT
    counts.update(body_text.split())
    return [(word, n) for word, n in counts.items() if n >= POSTED]


def index_words(db: Database, entry_id: str, occurred_at: str, doc_len: int, title_text: str,
                body_text: str) -> None:
    rows = [(word, n, doc_len, occurred_at, entry_id) for word, n in counted_words(title_text, body_text)]
    if rows:
        db.executemany("INSERT INTO word_counts (word, freq, doc_len, occurred_at, entry_id) "
                       "VALUES (?, ?, ?, ?, ?)", rows)


def unindex_words(db: Database, entry_id: str) -> None:
    db.execute("DELETE FROM word_counts WHERE entry_id = ?", (entry_id,))


# -- ranking ----------------------------------------------------------------------------------

def _longest_reaching(idf: float, freq: int, average: float, edge: float) -> int:
    """The largest length at which ``freq`` instances still score at least as well as ``edge``."""
    # bm25 <= edge  <=>  D <= ((idf*f*(k1+1)/-edge - f)/k1 - (1-b)) * avgdl / b; then exactly, by steps.
    if edge >= 0.0:
        return 10**9
    guess = ((idf * freq * (K1 + 1.0) / -edge - freq) / K1 - (1 - B)) * average / B
    length = max(0, min(10**9, int(math.floor(guess))))
    while length > 0 and bm25(idf, freq, length, average) > edge:
        length -= 1
    while length < 10**9 and bm25(idf, freq, length + 1, average) <= edge:
        length += 1
    return length


def _count_sql(column: str, word: str, params: list[Any]) -> str:
    pattern = " " + word + " "
    params.append(pattern)
    return f"(length({column}) - length(replace({column}, ?, ''))) / {len(pattern)}"


def top_for_word(db: Database, word: str, limit: int, offset: int, matches: int,
                 shown: tuple[str, list[Any]] = ("1 = 1", []),
                 seen: Corpus | None = None) -> list[dict[str, Any]] | None:
    """The page ``[offset, offset + limit)`` of a one-word search, ranked, among the entries ``shown``.

    ``shown`` is a condition over ``entries e`` (``store.queries.filter_sql``: the reader's view,
    kind, tag, node, dates). Scores do not depend on it: they weigh the word by the corpus
    ``seen`` (``store.bm25``: the reader's view, the whole index by default), so the page is
    that corpus's full ranking with the entries not shown left out. Rows carry ``id``,
    ``occurred_at`` and ``score`` (as FTS5's bm25 gives it). ``matches`` is how many entries
    of the corpus hold the word (its IDF). None when reading the short entries would cost
    more than ranking every match.
    """
    if seen is None:
        stats = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1") or {"docs": 0, "tokens": 0}
        seen = Corpus(int(stats["docs"]), int(stats["tokens"]))
    if not seen.rows or not matches:
        return None
    wanted, average, idf = limit + offset, seen.average, word_idf(seen.rows, matches)

    def scored(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": r["entry_id"], "occurred_at": r["occurred_at"],
                 "score": bm25(idf, int(r["freq"]), int(r["doc_len"]), average)} for r in found]

    # Each count's best `wanted` entries, and any past them that score the same (a float tie).
    counts = [int(r["freq"]) for r in db.query(
        "WITH RECURSIVE counts(freq) AS (SELECT max(freq) FROM word_counts WHERE word = ? "
        "UNION ALL SELECT (SELECT max(w.freq) FROM word_counts w WHERE w.word = ? AND w.freq < counts.freq) "
        "FROM counts WHERE counts.freq IS NOT NULL) SELECT freq FROM counts WHERE freq IS NOT NULL",
        (word, word))]
    # Only the entries shown take part: each row of word_counts (or entry_search) is looked up in
    # entries, in the order the index gives, so a count's first `wanted` rows are its first shown.
    condition, condition_params = shown
    filtered = condition != "1 = 1"
    # (SQLite's CROSS JOIN fixes that order: the planner might otherwise start from entries.)
    join = f" {db.engine.ordered_join} entries e ON e.id = w.entry_id" if filtered else ""
    candidates: list[dict[str, Any]] = []
    if counts:
        branch = ("SELECT * FROM (SELECT w.freq, w.doc_len, w.occurred_at, w.entry_id FROM word_counts w"
                  f"{join} WHERE w.word = ? AND w.freq = ? AND {condition} "
                  "ORDER BY w.doc_len, w.occurred_at DESC, w.entry_id DESC LIMIT ?) AS c{}")
        found = db.query(" UNION ALL ".join(branch.format(i) for i in range(len(counts))),
                         [p for freq in counts for p in (word, freq, *condition_params, wanted)])
        candidates = scored(found)
        by_count: dict[int, list[dict[str, Any]]] = {}
        for row in found:
            by_count.setdefault(int(row["freq"]), []).append(row)
        for freq, group in by_count.items():
            if len(group) < wanted:
                continue
            # Lengths whose score equals the last one's tie on time, whatever the length: read them all.
            last = max(int(r["doc_len"]) for r in group)
            lo = hi = last
            while lo > 0 and bm25(idf, freq, lo - 1, average) == bm25(idf, freq, last, average):
                lo -= 1
            while bm25(idf, freq, hi + 1, average) == bm25(idf, freq, last, average):
                hi += 1
            if (lo, hi) != (last, last):
                known = {r["id"] for r in candidates}
                candidates += [r for r in scored(db.query(
                    f"SELECT w.freq, w.doc_len, w.occurred_at, w.entry_id FROM word_counts w{join} "
                    f"WHERE w.word = ? AND w.freq = ? AND w.doc_len BETWEEN ? AND ? AND {condition}",
                    (word, freq, lo, hi, *condition_params)))
                    if r["id"] not in known]
    candidates.sort(key=lambda r: (r["occurred_at"], r["id"]), reverse=True)
    candidates.sort(key=lambda r: r["score"])
    # Entries counting the word fewer than POSTED times: only the short ones can reach the page.
    # The fewer entries shown, the lower the page's edge and the more short entries to read
    # (all of them are read, shown or not): past the budget, ranking every match is cheaper.
    edge = candidates[wanted - 1]["score"] if len(candidates) >= wanted else 0.0
    longest = _longest_reaching(idf, POSTED - 1, average, edge)
    short = db.scalar("SELECT count(*) FROM (SELECT 1 FROM entry_search WHERE doc_len <= ? LIMIT ?) AS s",
                      (longest, WALK_BUDGET + 1))
    if int(short) > WALK_BUDGET:
        return None
    join_texts, texts = db.engine.texts_from()
    params: list[Any] = []
    frequency = (f"{TITLE_WEIGHT} * {_count_sql(texts + '.title_text', word, params)} + "
                 f"{_count_sql(texts + '.body_text', word, params)}")
    # SQLite keeps the texts in FTS5 (looked up by rowid); PostgreSQL in entry_search itself.
    source = "entry_search s" + join.replace("w.entry_id", "s.entry_id") + join_texts
    few = db.query(
        f"SELECT * FROM (SELECT s.entry_id AS entry_id, s.occurred_at AS occurred_at, s.doc_len AS doc_len, "
        f"{frequency} AS freq FROM {source} WHERE s.doc_len <= ? AND {condition}) AS x "
        f"WHERE x.freq BETWEEN 1 AND {POSTED - 1}",
        [*params, longest, *condition_params])
    candidates += scored(few)
    candidates.sort(key=lambda r: (r["occurred_at"], r["id"]), reverse=True)
    candidates.sort(key=lambda r: r["score"])  # stable: ties stay newest first, as in SQL
    return candidates[offset:wanted]

