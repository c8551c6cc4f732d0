"""Migration 9: API tokens get a scope and an optional expiry; sign-in attempts get counters of
their own (services/throttle.py), taken atomically before a password is checked."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute("ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'")
    db.execute("ALTER TABLE api_tokens ADD COLUMN expires_at TEXT")
    db.execute("CREATE TABLE sign_in_throttle (key TEXT PRIMARY KEY, window_start TEXT NOT NULL, "
               "attempts INTEGER NOT NULL)")
    db.execute("CREATE INDEX sign_in_throttle_window ON sign_in_throttle(window_start)")
