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

Both are ``Dialect.generation`` (store/dialect/). Writes elsewhere (another
database on the same server) may change the generation too; that only costs a
recomputation. Inside an open transaction nothing is cached: what it reads may
never be committed.

They are kept in a ``Memo`` (``upstack.memo``), a bounded, thread-safe LRU.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable

from upstack.store.db import Database

__all__ = ["generation", "database_identity", "in_transaction", "store_key"]

_identities: weakref.WeakKeyDictionary[Database, Hashable] = weakref.WeakKeyDictionary()


def generation(db: Database) -> Hashable:
    """A value that differs after any commit to ``db``'s database (see the module docstring)."""
    return db.engine.generation(db)


def database_identity(db: Database) -> Hashable:
    """Which database (and PostgreSQL schema) ``db`` is connected to, the same for every connection."""
    found = _identities.get(db)
    if found is None:
        found = _identities[db] = db.engine.identity(db)
    return found


def in_transaction(db: Database) -> bool:
    return db.engine.in_transaction(db)


def store_key(db: Database, *question: Hashable) -> Hashable | None:
    """The key for ``question`` asked of ``db`` now, or None when nothing may be cached (a transaction)."""
    if in_transaction(db):
        return None
    return (database_identity(db), generation(db), *question)
