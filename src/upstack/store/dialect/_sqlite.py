"""SQLite: one file, WAL, the full-text index in FTS5 (``entry_fts``, keyed by ``entry_search.rowid``)."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upstack.store.dialect._base import Dialect, LockFactory

if TYPE_CHECKING:
    from upstack.store.bm25 import Phrase
    from upstack.store.db import Database

__all__ = ["SqliteDialect", "fts5_phrase"]


def _instances(text: str | None, pattern: str) -> int:
    """Occurrences of ``pattern`` in ``text``, overlapping ones included."""
    text = text or ""
    found, at = 0, text.find(pattern)
    while at >= 0:
        found += 1
        at = text.find(pattern, at + 1)
    return found


def fts5_phrase(phrase: Phrase) -> str:
    """The phrase as an FTS5 query: ``{fields} : "tokens" *``."""
    quoted = '"' + " ".join(phrase.tokens) + '"' + (" *" if phrase.prefix else "")
    return "{" + " ".join(phrase.fields) + "} : " + quoted


# Each connection's last (PRAGMA data_version, total_changes): whenever either moves, the counter moves on.
_generation_lock = threading.Lock()
_generation = 0
_last_seen: weakref.WeakKeyDictionary[Database, tuple[int, int]] = weakref.WeakKeyDictionary()


class SqliteDialect(Dialect):
    name = "sqlite"
    real = "REAL"
    begin_write = "BEGIN IMMEDIATE"  # the write lock at once: never a deadlock upgrading from a read
    begin_snapshot = "BEGIN"  # WAL: a read transaction sees the state at its first read
    integrity_error, data_error = sqlite3.IntegrityError, sqlite3.DataError
    too_large_error = sqlite3.DataError  # "string or blob too big"
    damaged_error = sqlite3.DatabaseError
    unmerged = "LIMIT -1 OFFSET 0"  # SQLite takes an OFFSET only after a LIMIT
    ordered_join = "CROSS JOIN"  # SQLite's planner keeps the order of a CROSS JOIN
    index_ranks = True
    copies_file = True
    join_text = "group_concat"

    def prepare(self, raw: Any) -> None:
        raw.create_function("upstack_instances", 2, _instances, deterministic=True)

    def placeholders(self, sql: str) -> str:
        return sql

    def executemany(self, raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raw.executemany(sql, rows)

    def tuples(self, raw: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        cursor = raw.cursor()
        cursor.row_factory = None  # the connection's makes dicts
        return list(cursor.execute(sql, params).fetchall())

    def exact_float(self, value: float, params: list[Any]) -> str:
        params.append(float(value))  # SQLite's parser may be off in the last bit of a literal
        return "?"

    def count_overlapping(self, column: str, pattern: str) -> tuple[str, list[Any]]:
        return f"upstack_instances({column}, ?)", [pattern]

    def rows_with_ids(self, table: str, column: str, ids: str) -> str:
        return f"{table} WHERE {column} IN (SELECT id FROM {ids})"  # one probe of an index of the ids per row

    def column_types(self, db: Database, table: str) -> dict[str, str]:
        return {r["name"]: str(r["type"]).upper() for r in db.query(f"PRAGMA table_info({table})")}

    def match(self, phrase: Phrase, params: list[Any]) -> str:
        params.append(fts5_phrase(phrase))
        return "s.rowid IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?)"

    def match_all(self, phrases: Sequence[Phrase], params: list[Any]) -> str:
        params.append(" AND ".join(fts5_phrase(p) for p in phrases))
        return "s.rowid IN (SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?)"

    def whole_index_matches(self, phrase: Phrase) -> tuple[str, list[Any]]:
        return "entry_fts WHERE entry_fts MATCH ?", [fts5_phrase(phrase)]

    def texts_from(self, join: str = "CROSS JOIN") -> tuple[str, str]:
        return f" {join} entry_fts t ON t.rowid = s.rowid", "t"  # FTS5 keeps them; entry_search stays narrow

    def add_to_index(self, db: Database, entry_id: str, occurred_at: str, row: dict[str, Any]) -> None:
        rowid = db.execute("INSERT INTO entry_search (entry_id, occurred_at, doc_len) VALUES (?, ?, ?)",
                           (entry_id, occurred_at, row["doc_len"])).lastrowid
        db.execute("INSERT INTO entry_fts (rowid, title_text, body_text, tag_text) VALUES (?, ?, ?, ?)",
                   (rowid, row["title_text"], row["body_text"], row["tag_text"]))

    def remove_texts(self, db: Database, search_row: dict[str, Any]) -> None:
        db.execute("DELETE FROM entry_fts WHERE rowid = ?", (search_row["rowid"],))

    def clear_texts(self, db: Database) -> None:
        db.execute("DELETE FROM entry_fts")

    def index_problems(self, db: Database) -> list[tuple[str | None, str]]:
        """FTS5's own check, then a per-entry look to name what is out of step.

        FTS5's check is a command written as an INSERT, which a read-only database refuses:
        there the per-entry look is all there is.
        """
        if not db.read_only:
            try:
                db.execute("INSERT INTO entry_fts(entry_fts, rank) VALUES ('integrity-check', 1)")
                return []
            except sqlite3.DatabaseError:
                pass
        problems: list[tuple[str | None, str]] = []
        for row in db.query("SELECT s.rowid, s.entry_id, f.title_text, f.body_text FROM entry_search s "
                            "JOIN entry_fts f ON f.rowid = s.rowid"):
            first = (row["title_text"] + row["body_text"]).split()[:1]
            if first and not db.scalar("SELECT count(*) FROM entry_fts WHERE entry_fts MATCH ? AND rowid = ?",
                                       (f'"{first[0]}"', row["rowid"])):
                problems.append((row["entry_id"], "search index out of step: the full-text index lacks it"))
        if not problems and not db.read_only:
            problems.append((None, "out of step with the entries (stale rows); run `upstack doctor --fix`"))
        return problems

    def integrity_problems(self, db: Database) -> list[tuple[str, str]]:
        problems = []
        for row in db.query("PRAGMA integrity_check"):
            value = next(iter(row.values()))
            if value != "ok":
                problems.append(("upstack.db", str(value)))
        for row in db.query("PRAGMA foreign_key_check"):
            problems.append((f"{row['table']} row {row['rowid']}", f"refers to a missing row in {row['parent']}"))
        return problems

    def copy_to(self, db: Database, target: Path) -> None:
        copy = sqlite3.connect(target)
        try:
            db.raw.backup(copy)
        finally:
            copy.close()

    def stamped_version(self, db: Database) -> int | None:
        return int(db.scalar("PRAGMA user_version"))

    def analyze_after_bulk_load(self, db: Database) -> None:
        pass  # SQLite plans from its indexes alone until ANALYZE is run, which upstack never does

    def overwrite_deleted(self, db: Database) -> None:
        db.execute("PRAGMA secure_delete = ON")  # freed pages are zeroed instead of left as they were

    def scrub(self, db: Database, tables: Sequence[str], lock: LockFactory) -> None:
        with lock():
            db.execute("INSERT INTO entry_fts(entry_fts) VALUES ('optimize')")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def generation(self, db: Database) -> Hashable:
        # Another connection's commit moves data_version, this one's total_changes (see store.cache).
        seen = (int(db.scalar("PRAGMA data_version")), int(db.raw.total_changes))
        global _generation
        with _generation_lock:
            if _last_seen.get(db) != seen:  # a new connection counts as a change too
                _generation += 1
                _last_seen[db] = seen
            return _generation

    def identity(self, db: Database) -> Hashable:
        files = {r["name"]: r["file"] for r in db.query("PRAGMA database_list")}
        # An in-memory or temporary database is private to its connection.
        return self.name, files.get("main") or f"connection {id(db)}"

    def in_transaction(self, db: Database) -> bool:
        return bool(db.raw.in_transaction)
