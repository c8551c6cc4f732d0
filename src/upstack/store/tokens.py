"""API tokens on a team server, stored by the hash of their secret."""

from __future__ import annotations

from typing import Any

from upstack.store import audit
from upstack.store.db import Database
from upstack.store.hashing import secret_hash
from upstack.timeutil import now_iso

__all__ = ["add", "token_row", "token_rows", "listing", "revoke", "revoke_all", "grant", "touch"]


def add(db: Database, token_id: str, user_id: str, name: str, secret: str, *, scope: str, expires_at: str | None,
        address: str) -> None:
    """A new token, audited."""
    with db.transaction():
        db.execute("INSERT INTO api_tokens (id, user_id, name, secret_hash, created_at, scope, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (token_id, user_id, name, secret_hash(secret), now_iso(), scope, expires_at))
        audit.add(db, "token.create", actor=user_id, subject=name, address=address,
                  detail=scope + (f", expires {expires_at[:10]}" if expires_at else ""))


def token_row(db: Database, token_id: str) -> dict[str, Any] | None:
    return db.one("SELECT * FROM api_tokens WHERE id = ?", (token_id,))


def token_rows(db: Database) -> list[dict[str, Any]]:
    """Every token, everyone's."""
    return db.query("SELECT * FROM api_tokens")


def listing(db: Database, user_id: str | None) -> list[dict[str, Any]]:
    """A user's tokens (None: everyone's), newest first, each with its user's login."""
    where, params = ("WHERE t.user_id = ?", [user_id]) if user_id else ("", [])
    return db.query(f"SELECT t.*, u.login FROM api_tokens t JOIN users u ON u.id = t.user_id {where} "
                    "ORDER BY t.created_at DESC, t.id", params)


def revoke(db: Database, token_id: str, name: str, *, by: str, address: str) -> None:
    """The token ends (if it had not), audited as ``by``'s doing."""
    with db.transaction():
        db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now_iso(), token_id))
        audit.add(db, "token.revoke", actor=by, subject=name, address=address)


def revoke_all(db: Database, user_id: str, at: str) -> int:
    """Every live token of the user ends (inside the caller's transaction); how many."""
    return int(db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                          (at, user_id)).rowcount)


def grant(db: Database, secret: str) -> dict[str, Any] | None:
    """The token's state (``token_id``, ``revoked_at``, ``last_used_at``, ``scope``, ``expires_at``)
    with its user's row, whatever the state of either."""
    return db.one("SELECT t.id AS token_id, t.revoked_at, t.last_used_at, t.scope, t.expires_at, u.* "
                  "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?", (secret_hash(secret),))


def touch(db: Database, token_id: str, at: str) -> None:
    """The token was used at ``at``."""
    with db.transaction():
        db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (at, token_id))
