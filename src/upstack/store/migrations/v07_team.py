"""Migration 7: the team server (authors and owners, accounts, sessions, links, API tokens,
shares, comments, notifications, the audit log)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    "ALTER TABLE entries ADD COLUMN author_id TEXT",
    "ALTER TABLE nodes ADD COLUMN owner_id TEXT",
    "ALTER TABLE runs ADD COLUMN author_id TEXT",
    "CREATE INDEX entries_author ON entries(author_id, occurred_at)",
    "CREATE TABLE users (id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
    "password_hash TEXT, is_admin INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, "
    "removed_at TEXT)",
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "created_at TEXT NOT NULL, seen_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT, "
    "address TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX sessions_user ON sessions(user_id)",
    # Invitation and password-reset links: single use, with an expiry.
    "CREATE TABLE account_links (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "purpose TEXT NOT NULL, created_by TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
    "used_at TEXT)",
    "CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "name TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, "
    "last_used_at TEXT, revoked_at TEXT)",
    "CREATE INDEX api_tokens_user ON api_tokens(user_id)",
    "CREATE TABLE shares (node_id TEXT NOT NULL REFERENCES nodes(id), "
    "user_id TEXT NOT NULL REFERENCES users(id), role TEXT NOT NULL, granted_by TEXT, "
    "granted_at TEXT NOT NULL, PRIMARY KEY (node_id, user_id))",
    "CREATE INDEX shares_user ON shares(user_id)",
    "CREATE TABLE comments (id TEXT PRIMARY KEY, entry_id TEXT NOT NULL REFERENCES entries(id), "
    "author_id TEXT REFERENCES users(id), body TEXT NOT NULL, created_at TEXT NOT NULL, "
    "deleted_at TEXT)",
    "CREATE INDEX comments_entry ON comments(entry_id, created_at)",
    "CREATE TABLE notifications (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "kind TEXT NOT NULL, actor_id TEXT, entry_id TEXT, comment_id TEXT, created_at TEXT NOT NULL, "
    "read_at TEXT)",
    "CREATE INDEX notifications_user ON notifications(user_id, created_at)",
    "CREATE TABLE audit_log (id TEXT PRIMARY KEY, at TEXT NOT NULL, actor_id TEXT, "
    "action TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', "
    "address TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX audit_log_at ON audit_log(at)",
    # Sign-in throttling counts recent failures by account and by address.
    "CREATE INDEX audit_log_subject ON audit_log(action, subject, at)",
    "CREATE INDEX audit_log_address ON audit_log(action, address, at)",
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
