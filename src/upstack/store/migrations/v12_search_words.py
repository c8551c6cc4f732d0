"""Migration 12: the words of the search index (``search_words``, see store/vocabulary.py), filled
from the index as it stands.

Every word of an indexed title or body is in it (words of entries since deleted or edited may stay
until a purge or a reindex): search completes a typed prefix and spells a word from it. On
PostgreSQL the column sorts byte by byte (``COLLATE "C"``), as SQLite's does, so that the words
starting with a prefix are one range of the primary key on both engines.
"""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_TABLE_SQLITE = "CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID"
_TABLE_POSTGRESQL = 'CREATE TABLE search_words (word TEXT COLLATE "C" PRIMARY KEY)'

# In SQL: the texts are ' a  b ' (store.ingest.search_texts), so the words are split on two spaces.
_FILL_POSTGRESQL = (
    "INSERT INTO search_words (word) SELECT DISTINCT w.word FROM entry_search s "
    "CROSS JOIN LATERAL unnest(string_to_array(btrim(s.title_text), '  ') "
    "|| string_to_array(btrim(s.body_text), '  ')) AS w(word) WHERE w.word <> ''"
)


def _fill_sqlite(db: Database) -> None:
    words: set[str] = set()
    for row in db.query("SELECT title_text, body_text FROM entry_fts"):
        words.update(row["title_text"].split())
        words.update(row["body_text"].split())
    db.executemany("INSERT INTO search_words (word) VALUES (?)", [(w,) for w in sorted(words)])


def run(db: Database) -> None:
    if db.dialect == "sqlite":
        db.execute(_TABLE_SQLITE)
        _fill_sqlite(db)
    else:
        db.execute(_TABLE_POSTGRESQL)
        db.execute(_FILL_POSTGRESQL)
