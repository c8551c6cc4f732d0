"""Whole tables, as the lossless JSON export reads them and its import writes them back
(services/jsondump.py decides which tables and rows, and their form in the file)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from upstack.store import artifacts
from upstack.store.db import Database
from upstack.store.ingest import index_entry

if TYPE_CHECKING:
    from upstack.store.store import Store

__all__ = ["table_rows", "column_names", "column_types", "referenced_blobs", "node_ids", "has_entries",
           "insert_rows"]


def table_rows(db: Database, table: str, key: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every row of ``table``, ordered by its key's columns."""
    return db.query(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")


def column_names(db: Database, table: str) -> list[str]:
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [c[0] for c in cursor.description]


def column_types(db: Database, table: str) -> dict[str, str]:
    """Each column's declared type, as the engine names it (INTEGER, TEXT, double precision, ...)."""
    return db.engine.column_types(db, table)


def referenced_blobs(db: Database) -> list[str]:
    """The files some attachment or artifact names, by hash, in order."""
    named = {r["sha256"] for r in db.query("SELECT DISTINCT sha256 FROM attachments WHERE sha256 IS NOT NULL")}
    return sorted(named | set(artifacts.referenced_blobs(db)))


def node_ids(db: Database) -> set[str]:
    """Every node's id, deleted ones too."""
    return {str(r["id"]) for r in db.query("SELECT id FROM nodes")}


def has_entries(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM entries"))


def insert_rows(store: Store, tables: list[tuple[str, tuple[str, ...], list[dict[str, Any]]]]) -> dict[str, int]:
    """Insert (table, key columns, rows), in the order given, in one transaction under the workspace
    lock; a row whose key is there already is left as it is. Live entries come out indexed for search.
    Returns how many rows of each table went in."""
    db = store.db
    inserted: dict[str, int] = {}
    with store.lock(), db.transaction():
        for table, key, rows in tables:
            inserted[table] = 0
            for row in rows:
                columns = sorted(row)
                sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                       f"({', '.join('?' for _ in columns)}) "
                       f"ON CONFLICT ({', '.join(key)}) DO NOTHING")
                inserted[table] += bool(db.execute(sql, [row[c] for c in columns]).rowcount)
        for row in next((rows for table, _, rows in tables if table == "entries"), []):
            if not row["deleted_at"] and not db.scalar("SELECT 1 FROM entry_search WHERE entry_id = ?", (row["id"],)):
                index_entry(db, row["id"])
    return inserted

