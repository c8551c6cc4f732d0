"""Every difference between the two engines, SQLite and PostgreSQL, in one place.

SQL elsewhere is written once, with ``?`` placeholders and what both engines read
alike (``ON CONFLICT DO NOTHING``, ``AS MATERIALIZED``, window functions). Where they
differ, code asks ``db.engine`` (a ``SqliteDialect`` or a ``PostgresDialect``, one
interface: ``Dialect``) for what it needs: a column type, how a write begins, where
the indexed texts are, how a phrase is matched, how the database is checked or copied.

Nothing else compares the engine's name (``tests/test_dialect.py`` checks), except the
migrations (``store/migrations/``, ``store/schema.py``), which keep the SQL they ran.
"""

from upstack.store.dialect._base import Dialect
from upstack.store.dialect._postgresql import PostgresDialect, to_pyformat
from upstack.store.dialect._sqlite import SqliteDialect, fts5_phrase

__all__ = ["Dialect", "SqliteDialect", "PostgresDialect", "to_pyformat", "fts5_phrase"]
