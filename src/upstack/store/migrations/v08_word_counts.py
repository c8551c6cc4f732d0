"""Migration 8: the words an entry repeats, counted for ranking (``word_counts``, see
store/word_rank.py), filled from the search index as it stands.

The fill is this migration's own copy of how words were counted when it was made: a
title's word weighs 2, a body's 1, and a word is kept from a weighted count of 3.
"""

from __future__ import annotations

from collections import Counter

from upstack.store.db import Database

__all__ = ["run"]

# Each count's entries shortest first, then newest first: the order one count ranks in.
# On SQLite the rows are the index (no second copy).
_WORD_COUNTS_SQLITE = (
    "CREATE TABLE word_counts (word TEXT NOT NULL, freq INTEGER NOT NULL, doc_len INTEGER NOT NULL, "
    "occurred_at TEXT NOT NULL, entry_id TEXT NOT NULL REFERENCES entries(id), "
    "PRIMARY KEY (word, freq, doc_len, occurred_at DESC, entry_id DESC)) WITHOUT ROWID",
)

_WORD_COUNTS_POSTGRESQL = (
    "CREATE TABLE word_counts (word TEXT NOT NULL, freq INTEGER NOT NULL, doc_len INTEGER NOT NULL, "
    "occurred_at TEXT NOT NULL, entry_id TEXT NOT NULL REFERENCES entries(id))",
    "CREATE INDEX word_counts_rank ON word_counts(word, freq, doc_len, occurred_at DESC, entry_id DESC)",
)

_INDEXES = (
    "CREATE INDEX word_counts_entry ON word_counts(entry_id)",
    "CREATE INDEX entry_search_doc_len ON entry_search(doc_len)",
)

# In SQL: the texts are ' a  b ' (store.ingest.search_texts), so the words are split on two spaces.
_FILL_POSTGRESQL = (
    "INSERT INTO word_counts (word, freq, doc_len, occurred_at, entry_id) "
    "SELECT w.word, sum(w.weight), s.doc_len, s.occurred_at, s.entry_id FROM entry_search s "
    "CROSS JOIN LATERAL (SELECT unnest(string_to_array(btrim(s.title_text), '  ')) AS word, "
    "2 AS weight UNION ALL "
    "SELECT unnest(string_to_array(btrim(s.body_text), '  ')), 1) AS w "
    "GROUP BY s.entry_id, w.word HAVING sum(w.weight) >= 3"
)


def _fill_sqlite(db: Database) -> None:
    rows = db.query("SELECT s.entry_id, s.occurred_at, s.doc_len, f.title_text, f.body_text "
                    "FROM entry_search s JOIN entry_fts f ON f.rowid = s.rowid")
    for row in rows:
        counts: Counter[str] = Counter()
        for word in row["title_text"].split():
            counts[word] += 2
        counts.update(row["body_text"].split())
        db.executemany("INSERT INTO word_counts (word, freq, doc_len, occurred_at, entry_id) "
                       "VALUES (?, ?, ?, ?, ?)",
                       [(word, n, row["doc_len"], row["occurred_at"], row["entry_id"])
                        for word, n in counts.items() if n >= 3])
    # FTS5 keeps its own totals; ranking without it needs them too (ingest keeps them from now on).
    db.execute("UPDATE search_stats SET docs = (SELECT count(*) FROM entry_search), "
               "tokens = (SELECT coalesce(sum(doc_len), 0) FROM entry_search) WHERE id = 1")


def run(db: Database) -> None:
    tables = _WORD_COUNTS_SQLITE if db.dialect == "sqlite" else _WORD_COUNTS_POSTGRESQL
    for statement in tables + _INDEXES:
        db.execute(statement)
    if db.dialect == "sqlite":
        _fill_sqlite(db)
    else:
        db.execute(_FILL_POSTGRESQL)
