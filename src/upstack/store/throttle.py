"""The sign-in throttle's counters (the rules: services/throttle.py).

Each counter is a row: a key, the start of its window and the attempts counted in it.
"""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["take", "give_back"]


class _Full(Exception):
    """A counter was full: the transaction is rolled back, so nothing is counted."""


def take(db: Database, counters: list[tuple[str, int]], *, stamp: str, expired: str) -> bool:
    """Count one attempt on every counter (key, limit), windows starting at ``stamp`` and those that
    started before ``expired`` forgotten; or, if any is at its limit, count none and say False."""
    try:
        with db.transaction():
            db.execute("DELETE FROM sign_in_throttle WHERE window_start < ?", (expired,))
            for key, limit in counters:
                db.execute("INSERT INTO sign_in_throttle (key, window_start, attempts) VALUES (?, ?, 0) "
                           "ON CONFLICT (key) DO NOTHING", (key, stamp))
                # One statement counts and checks: the row lock (PostgreSQL) or the write lock
                # (SQLite) makes concurrent attempts take the slots one at a time.
                taken = db.execute(
                    "UPDATE sign_in_throttle SET attempts = attempts + 1 WHERE key = ? AND attempts < ?",
                    (key, limit)).rowcount
                if not taken:
                    raise _Full
    except _Full:
        return False
    return True


def give_back(db: Database, keys: list[str]) -> None:
    """Take one attempt off each of these counters."""
    with db.transaction():
        for key in keys:
            db.execute("UPDATE sign_in_throttle SET attempts = attempts - 1 WHERE key = ? AND attempts > 0",
                       (key,))
