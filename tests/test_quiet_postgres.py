"""A test that asks for ``quiet_postgres`` and every other PostgreSQL test never run at once (tests/quiet_postgres.py).

Each side looks from a connection of its own, as a test on another worker would: it asks for the lock
without waiting (``pg_try_advisory_lock``), so nothing here depends on timing.
"""

from __future__ import annotations

import psycopg
import pytest

from quiet_postgres import QUIET_LOCK, PostgresTurns


def _could_start(url: str, quiet: bool) -> bool:
    """Whether a test starting now on another worker would run (False: it would wait)."""
    take = "pg_try_advisory_lock" if quiet else "pg_try_advisory_lock_shared"
    with psycopg.connect(url, autocommit=True) as elsewhere:  # closing it lets go of what it took
        return bool(elsewhere.execute(f"SELECT {take}(%s)", (QUIET_LOCK,)).fetchone()[0])  # type: ignore[index]


def test_a_postgres_test_holds_its_turn_so_a_quiet_one_waits(postgres: str, request: pytest.FixtureRequest) -> None:
    turns = request.config.pluginmanager.get_plugin(PostgresTurns.name)
    mine = turns.connection.info.backend_pid
    with psycopg.connect(postgres, autocommit=True) as watcher:
        held = watcher.execute("SELECT mode, granted FROM pg_locks WHERE locktype = 'advisory' AND pid = %s "
                               "AND objid = %s", (mine, QUIET_LOCK)).fetchall()
    assert held == [("ShareLock", True)]
    assert not _could_start(postgres, quiet=True)
    assert _could_start(postgres, quiet=False)  # other tests share it


@pytest.mark.usefixtures("quiet_postgres")
def test_a_quiet_test_keeps_every_other_postgres_test_waiting(postgres: str) -> None:
    assert not _could_start(postgres, quiet=False)
    assert not _could_start(postgres, quiet=True)
