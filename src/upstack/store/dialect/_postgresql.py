"""PostgreSQL: a server, psycopg's ``%s`` placeholders, the full-text index a ``tsvector`` in ``entry_search``."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upstack.store.dialect._base import Dialect, LockFactory

if TYPE_CHECKING:
    from upstack.store.bm25 import Phrase
    from upstack.store.db import Database

__all__ = ["PostgresDialect", "to_pyformat"]


# Quoted text (a literal, a quoted name; '' in one is two in a row) and comments are kept as
# they are, unfinished ones to the end; in the rest, every ? is a placeholder (so PostgreSQL's
# jsonb operators ?, ?| and ?& are out: jsonb_exists() and kin say the same). Not understood:
# E'\'' escapes and $$ quoting, which upstack does not write.
_QUOTED_OR_PLACEHOLDER = re.compile(r"'[^']*'?|\"[^\"]*\"?|--[^\n]*|/\*.*?(?:\*/|\Z)|\?", re.DOTALL)


def _placeholder(found: re.Match[str]) -> str:
    text = found.group()
    return "%s" if text == "?" else text


@lru_cache(maxsize=2048)  # the same few hundred statements, again and again
def to_pyformat(sql: str) -> str:
    """``sql`` with its ``?`` placeholders as psycopg's ``%s``; a ``?`` in quotes or a comment stays.

    psycopg takes every ``%`` for the start of a placeholder, in quotes too, so each is doubled.

    >>> to_pyformat("SELECT ? WHERE path LIKE 'a%' AND note <> 'why?'")
    "SELECT %s WHERE path LIKE 'a%%' AND note <> 'why?'"
    """
    sql = sql.replace("%", "%%")
    return _QUOTED_OR_PLACEHOLDER.sub(_placeholder, sql) if "?" in sql else sql


def _tsquery(phrase: Phrase) -> str:
    """The title is weight A, the body weight B; a phrase stays in one."""
    def sequence(weight: str) -> str:
        parts = [f"'{t}':{weight}" for t in phrase.tokens]
        if phrase.prefix:
            parts[-1] = f"'{phrase.tokens[-1]}':*{weight}"
        return " <-> ".join(parts)
    if phrase.fields == ("title_text",):  # the title alone, as FTS5's {title_text} (the quick switcher)
        return sequence("A")
    if len(phrase.tokens) == 1:
        return "'" + phrase.tokens[0] + "'" + (":*" if phrase.prefix else "")
    return f"({sequence('A')}) | ({sequence('B')})"


def _tag_like(phrase: Phrase) -> str:
    escaped = phrase.tokens[0].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "% " + escaped + ("%" if phrase.prefix else " %")



class _NeverRaised(Exception):
    """Nothing raises it: a PostgreSQL store has no damage of its own for doctor to catch."""

class PostgresDialect(Dialect):
    name = "postgresql"
    real = "DOUBLE PRECISION"
    begin_write = "BEGIN"  # rows are locked as they are written
    begin_snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    unmerged = "OFFSET 0"
    ordered_join = "JOIN"  # the planner orders joins well by itself
    index_ranks = False  # upstack ranks in SQL (store.bm25)
    copies_file = False  # a backup is an export (services.maintenance)
    join_text = "string_agg"
    placeholders = staticmethod(to_pyformat)  # type: ignore[assignment]

    def __init__(self) -> None:
        import logging

        import psycopg  # only for a PostgreSQL store

        # psycopg logs what it ignores while a lost connection's pipeline ends; with no handler Python
        # would print that warning beside the one line upstack.faults says (a person sees the line).
        logging.getLogger("psycopg").addHandler(logging.NullHandler())

        self.integrity_error, self.data_error = psycopg.IntegrityError, psycopg.DataError
        self.too_large_error = psycopg.errors.ProgramLimitExceeded
        self.damaged_error = _NeverRaised

    def prepare(self, raw: Any) -> None:
        pass

    def executemany(self, raw: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with raw.cursor() as cursor:
            cursor.executemany(to_pyformat(sql), rows)

    def tuples(self, raw: Any, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        from psycopg.rows import tuple_row

        with raw.cursor(row_factory=tuple_row) as cursor:
            return list(cursor.execute(sql, params).fetchall())

    def exact_float(self, value: float, params: list[Any]) -> str:
        return f"CAST({value!r} AS double precision)"  # parsed exactly (as a double, not NUMERIC)

    def count_overlapping(self, column: str, pattern: str) -> tuple[str, list[Any]]:
        return f"regexp_count({column}, ?)", ["(?=" + re.escape(pattern) + ")"]

    def rows_with_ids(self, table: str, column: str, ids: str) -> str:
        return f"{ids} JOIN {table} ON {column} = {ids}.id"  # the ids hashed, the table scanned

    def column_types(self, db: Database, table: str) -> dict[str, str]:
        return {r["column_name"]: str(r["data_type"]).upper() for r in db.query(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema()", (table,))}

    def match(self, phrase: Phrase, params: list[Any]) -> str:
        if phrase.fields == ("tag_text",):
            params.append(_tag_like(phrase))
            return "s.tag_text LIKE ? ESCAPE '\\'"
        params.append(_tsquery(phrase))
        return "s.tsv @@ to_tsquery('simple', ?)"

    def match_all(self, phrases: Sequence[Phrase], params: list[Any]) -> str:
        if any(p.fields == ("tag_text",) for p in phrases):
            return " AND ".join(self.match(p, params) for p in phrases)
        params.append(" & ".join(f"({_tsquery(p)})" for p in phrases))
        return "s.tsv @@ to_tsquery('simple', ?)"

    def whole_index_matches(self, phrase: Phrase) -> tuple[str, list[Any]]:
        params: list[Any] = []
        return f"entry_search s WHERE {self.match(phrase, params)}", params

    def first_row(self, select: str) -> str:
        # Planned for one row, a word's match was a scan of the whole index that stopped at the first
        # row, and a word no entry holds read all of it (420 ms at 100k entries: the planner guesses
        # hundreds of rows for a prefix). Planned for every row, it is the GIN index's look-up (0.1 ms).
        return f"WITH rows AS MATERIALIZED ({select}) SELECT * FROM rows LIMIT 1"

    def texts_from(self, join: str = "CROSS JOIN") -> tuple[str, str]:
        return "", "s"  # in entry_search itself

    def add_to_index(self, db: Database, entry_id: str, occurred_at: str, row: dict[str, Any]) -> None:
        db.execute("INSERT INTO entry_search (entry_id, occurred_at, doc_len, title_text, body_text, tag_text) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (entry_id, occurred_at, row["doc_len"], row["title_text"], row["body_text"], row["tag_text"]))

    def remove_texts(self, db: Database, search_row: dict[str, Any]) -> None:
        pass

    def clear_texts(self, db: Database) -> None:
        pass

    def index_problems(self, db: Database) -> list[tuple[str | None, str]]:
        return []  # the index is computed from the row it is in

    def integrity_problems(self, db: Database) -> list[tuple[str, str]]:
        return []  # foreign keys are enforced as rows are written; pages are the server's to check

    def copy_to(self, db: Database, target: Path) -> None:
        raise NotImplementedError("a PostgreSQL database is copied by exporting it")

    def stamped_version(self, db: Database) -> int | None:
        return None

    def analyze_after_bulk_load(self, db: Database) -> None:
        # Until autovacuum comes round to the new rows, the planner may plan for empty tables.
        db.execute("ANALYZE")

    def overwrite_deleted(self, db: Database) -> None:
        pass  # dead tuples are vacuumed by ``scrub``

    def scrub(self, db: Database, tables: Sequence[str], lock: LockFactory) -> None:
        for table in tables:
            db.execute(f"VACUUM {table}")

    def generation(self, db: Database) -> Hashable:
        # Two equal snapshots see exactly the same committed transactions, hence the same data.
        return str(db.scalar("SELECT txid_current_snapshot()::text"))

    def identity(self, db: Database) -> Hashable:
        row = db.one("SELECT current_database() AS name, current_schema() AS schema")
        assert row is not None
        return self.name, db.raw.info.host, db.raw.info.port, row["name"], row["schema"]

    def in_transaction(self, db: Database) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(db.raw.info.transaction_status != TransactionStatus.IDLE)
