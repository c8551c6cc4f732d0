"""Browser sessions on a team server, stored by the hash of their cookie's secret."""

from __future__ import annotations

from typing import Any

from upstack.store import audit
from upstack.store import tokens as store_tokens
from upstack.store.db import Database
from upstack.store.hashing import secret_hash
from upstack.timeutil import now_iso

__all__ = ["start", "find", "touch", "end", "end_all", "end_everywhere", "change_password"]


def start(db: Database, secret: str, user_id: str, login: str, *, expires_at: str, address: str,
          password_hash: str | None = None) -> None:
    """A new session, audited as a sign-in; with ``password_hash``, the user's password is stored
    anew in the same transaction (a stronger hash of the same password)."""
    now = now_iso()
    with db.transaction():
        if password_hash is not None:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
        db.execute("INSERT INTO sessions (id, user_id, created_at, seen_at, expires_at, address) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (secret_hash(secret), user_id, now, now, expires_at, address))
        audit.add(db, "sign-in", actor=user_id, subject=login, address=address)


def find(db: Database, secret: str) -> dict[str, Any] | None:
    """The session's times with its user's row, whatever the state of either."""
    return db.one("SELECT s.expires_at, s.ended_at, s.seen_at, u.* FROM sessions s JOIN users u "
                  "ON u.id = s.user_id WHERE s.id = ?", (secret_hash(secret),))


def touch(db: Database, secret: str, at: str) -> None:
    """The session was used at ``at``."""
    with db.transaction():
        db.execute("UPDATE sessions SET seen_at = ? WHERE id = ?", (at, secret_hash(secret)))


def end(db: Database, secret: str, at: str) -> None:
    with db.transaction():
        db.execute("UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (at, secret_hash(secret)))


def end_all(db: Database, user_id: str, at: str, *, keep: str = "") -> int:
    """Every live session of the user ends but ``keep`` (a secret), inside the caller's transaction;
    how many ended."""
    if keep:
        return int(db.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL AND id <> ?",
                              (at, user_id, secret_hash(keep))).rowcount)
    return int(db.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                          (at, user_id)).rowcount)


def end_everywhere(db: Database, user_id: str, login: str, *, tokens: bool, address: str) -> int:
    """Log out everywhere (with ``tokens``, every API token is revoked too), audited; how many sessions ended."""
    now = now_iso()
    with db.transaction():
        ended = end_all(db, user_id, now)
        revoked = store_tokens.revoke_all(db, user_id, now) if tokens else 0
        audit.add(db, "sign-out.everywhere", actor=user_id, subject=login,
                  detail=f"{ended} sessions" + (f", {revoked} API tokens" if tokens else ""), address=address)
    return ended


def change_password(db: Database, user_id: str, login: str, password_hash: str, *, keep: str, end_tokens: bool,
                    address: str) -> int:
    """A new password: every session but ``keep`` ends (with ``end_tokens``, every API token too),
    audited; how many sessions ended."""
    now = now_iso()
    with db.transaction():
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
        ended = end_all(db, user_id, now, keep=keep)
        revoked = store_tokens.revoke_all(db, user_id, now) if end_tokens else 0
        audit.add(db, "user.password-change", actor=user_id, subject=login, address=address,
                  detail=f"{ended} other sessions ended" + (f", {revoked} API tokens revoked" if end_tokens else ""))
    return ended
