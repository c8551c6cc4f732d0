"""Small in-process caches for answers computed from data that has not changed since.

``generation(db)`` is a value that changes whenever anything is committed to the
database, by this connection, another one, or another process (a note written on
the command line while ``upstack serve`` runs). An answer cached under (which
database, its generation, the exact question) therefore never outlives the data
it was computed from:

- **SQLite:** ``PRAGMA data_version`` changes when another connection commits, and
  the connection's ``total_changes`` when it writes itself. Each connection
  remembers the pair it saw last; whenever either moves, a process-wide counter
  moves on. Every connection notices every commit on its next look, so no look
  after a commit can return a generation from before it.
- **PostgreSQL:** the current snapshot (``xmin:xmax:running xids``). Two equal
  snapshots see exactly the same committed transactions, hence the same data.

Writes elsewhere (another database on the same server) may change the generation
too; that only costs a recomputation. Inside an open transaction nothing is
cached: what it reads may never be committed.

They are kept in a ``Memo`` (``upstack.memo``), a bounded, thread-safe LRU.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable

from upstack.memo import Memo
from upstack.store.db import Database

__all__ = ["Memo", "generation", "database_identity", "in_transaction", "store_key"]

_lock = threading.Lock()
_counter = 0
_last_seen: weakref.WeakKeyDictionary[Database, tuple[int, int]] = weakref.WeakKeyDictionary()
_identities: weakref.WeakKeyDictionary[Database, Hashable] = weakref.WeakKeyDictionary()


def generation(db: Database) -> Hashable:
    """A value that differs after any commit to ``db``'s database (see the module docstring)."""
    if db.dialect == "postgresql":
        return str(db.scalar("SELECT txid_current_snapshot()::text"))
    seen = (int(db.scalar("PRAGMA data_version")), int(db.raw.total_changes))
    global _counter
    with _lock:
        if _last_seen.get(db) != seen:  # a new connection counts as a change too
            _counter += 1
            _last_seen[db] = seen
        return _counter


def database_identity(db: Database) -> Hashable:
    """Which database (and PostgreSQL schema) ``db`` is connected to, the same for every connection."""
    found = _identities.get(db)
    if found is None:
        if db.dialect == "postgresql":
            row = db.one("SELECT current_database() AS name, current_schema() AS schema")
            assert row is not None
            found = ("postgresql", db.raw.info.host, db.raw.info.port, row["name"], row["schema"])
        else:
            files = {r["name"]: r["file"] for r in db.query("PRAGMA database_list")}
            # An in-memory or temporary database is private to its connection.
            found = ("sqlite", files.get("main") or f"connection {id(db)}")
        _identities[db] = found
    return found


def in_transaction(db: Database) -> bool:
    if db.dialect == "postgresql":
        from psycopg.pq import TransactionStatus

        return bool(db.raw.info.transaction_status != TransactionStatus.IDLE)
    return bool(db.raw.in_transaction)


def store_key(db: Database, *question: Hashable) -> Hashable | None:
    """The key for ``question`` asked of ``db`` now, or None when nothing may be cached (a transaction)."""
    if in_transaction(db):
        return None
    return (database_identity(db), generation(db), *question)
