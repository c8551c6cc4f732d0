"""A quiet PostgreSQL server for the tests that need one while tests run in parallel (``pytest -n``).

On PostgreSQL a cached answer is keyed by the server's snapshot (src/upstack/store/cache.py), which a
commit anywhere on the server moves: in another schema, by another test. A test asserting that an
answer came from the cache (nothing was written meanwhile) fails whenever a test on another worker
commits at that moment. Such a test asks for ``quiet_postgres``: it waits until no other PostgreSQL
test of the run is running, and none starts until it ends. Every other PostgreSQL test holds one
advisory lock shared from its set-up to its tear-down (``PostgresTurns``); ``quiet_postgres`` takes
it exclusively. Commits from outside the run (another person's tests on the same server, autovacuum)
are not held off.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

__all__ = ["QUIET_LOCK", "PostgresTurns", "quiet_postgres_fixture"]

QUIET_LOCK = 727_275  # an advisory lock key of its own (store/schema.py migrates under 727274)


class PostgresTurns:
    """Holds ``QUIET_LOCK`` shared around every PostgreSQL test that does not ask for quiet."""

    name = "upstack-postgres-turns"

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: Any = None
        self.unreachable = False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        if (item.get_closest_marker("postgres") is None or "quiet_postgres" in getattr(item, "fixturenames", ())
                or not self._connected()):
            return (yield)
        self.connection.execute("SELECT pg_advisory_lock_shared(%s)", (QUIET_LOCK,))
        try:
            return (yield)
        finally:
            self.connection.execute("SELECT pg_advisory_unlock_shared(%s)", (QUIET_LOCK,))

    def _connected(self) -> bool:
        if self.connection is None and not self.unreachable:
            import psycopg

            try:
                self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=3)
            except psycopg.Error:
                self.unreachable = True  # the tests themselves say so (the `postgres` fixture)
        return self.connection is not None

    def pytest_unconfigure(self) -> None:
        if self.connection is not None:
            self.connection.close()


@pytest.fixture(name="quiet_postgres")
def quiet_postgres_fixture(request: pytest.FixtureRequest) -> Iterator[None]:
    """No other PostgreSQL test of this run commits while this one runs (nothing on SQLite)."""
    if request.node.get_closest_marker("postgres") is None:
        yield
        return
    import psycopg

    with psycopg.connect(request.getfixturevalue("postgres"), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (QUIET_LOCK,))
        yield
