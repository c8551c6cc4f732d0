"""The team server's tables: accounts, sessions, links, API tokens, shares, comments,
notifications and the audit log.

These are written straight to SQL (no journal): they are the server's own state,
not records a laptop captures offline. Secrets (session cookies, invitation and
reset links, API tokens) are stored only as SHA-256 hashes, so a copy of the
database opens no one's account.
"""

from __future__ import annotations

import hashlib
from typing import Any

from upstack.store.db import Database

__all__ = ["create_tables", "token_scopes_and_throttle", "secret_hash", "attributed", "user_row", "OWNER_KEY"]

# workspace_info key: the user who owns what was written with nobody signed in.
OWNER_KEY = "owner_user_id"


def attributed(columns: list[str], values: list[Any], column: str,
               data: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """An INSERT's columns and values, plus who made it (``by``) when the record says so.

    Records without it (nobody signs in on a laptop) then fit every schema since the
    first, as the older workspaces a migration starts from do.
    """
    if data.get("by"):
        return [*columns, column], [*values, data["by"]]
    return columns, values


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_tables(db: Database) -> None:
    db.execute("ALTER TABLE entries ADD COLUMN author_id TEXT")
    db.execute("ALTER TABLE nodes ADD COLUMN owner_id TEXT")
    db.execute("ALTER TABLE runs ADD COLUMN author_id TEXT")
    db.execute("CREATE INDEX entries_author ON entries(author_id, occurred_at)")
    db.execute(
        "CREATE TABLE users (id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
        "password_hash TEXT, is_admin INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
        "removed_at TEXT)")
    db.execute(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
        "created_at TEXT NOT NULL, seen_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT, "
        "address TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX sessions_user ON sessions(user_id)")
    # Invitation and password-reset links: single use, with an expiry.
    db.execute(
        "CREATE TABLE account_links (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
        "purpose TEXT NOT NULL, created_by TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
        "used_at TEXT)")
    db.execute(
        "CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
        "name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, "
        "last_used_at TEXT, revoked_at TEXT)")
    db.execute("CREATE INDEX api_tokens_user ON api_tokens(user_id)")
    db.execute(
        "CREATE TABLE shares (node_id TEXT NOT NULL REFERENCES nodes(id), "
        "user_id TEXT NOT NULL REFERENCES users(id), role TEXT NOT NULL, granted_by TEXT, "
        "granted_at TEXT NOT NULL, PRIMARY KEY (node_id, user_id))")
    db.execute("CREATE INDEX shares_user ON shares(user_id)")
    db.execute(
        "CREATE TABLE comments (id TEXT PRIMARY KEY, entry_id TEXT NOT NULL REFERENCES entries(id), "
        "author_id TEXT REFERENCES users(id), body TEXT NOT NULL, created_at TEXT NOT NULL, "
        "deleted_at TEXT)")
    db.execute("CREATE INDEX comments_entry ON comments(entry_id, created_at)")
    db.execute(
        "CREATE TABLE notifications (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
        "kind TEXT NOT NULL, actor_id TEXT, entry_id TEXT, comment_id TEXT, created_at TEXT NOT NULL, "
        "read_at TEXT)")
    db.execute("CREATE INDEX notifications_user ON notifications(user_id, created_at)")
    db.execute(
        "CREATE TABLE audit_log (id TEXT PRIMARY KEY, at TEXT NOT NULL, actor_id TEXT, "
        "action TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', "
        "address TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX audit_log_at ON audit_log(at)")
    # Sign-in throttling counts recent failures by account and by address.
    db.execute("CREATE INDEX audit_log_subject ON audit_log(action, subject, at)")
    db.execute("CREATE INDEX audit_log_address ON audit_log(action, address, at)")


def token_scopes_and_throttle(db: Database) -> None:
    """API tokens get a scope and an optional expiry; sign-in attempts get counters of their own
    (services/throttle.py), taken atomically before a password is checked."""
    db.execute("ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'")
    db.execute("ALTER TABLE api_tokens ADD COLUMN expires_at TEXT")
    db.execute("CREATE TABLE sign_in_throttle (key TEXT PRIMARY KEY, window_start TEXT NOT NULL, "
               "attempts INTEGER NOT NULL)")
    db.execute("CREATE INDEX sign_in_throttle_window ON sign_in_throttle(window_start)")


def user_row(db: Database, *, user_id: str | None = None, login: str | None = None) -> dict[str, Any] | None:
    if user_id is not None:
        return db.one("SELECT * FROM users WHERE id = ?", (user_id,))
    return db.one("SELECT * FROM users WHERE login = ?", ((login or "").lower(),))
