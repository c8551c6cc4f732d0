"""The team server's audit log: who did what, when and from where.

A line is written in the same transaction as the change it records (``add``), or alone
(``record``) when nothing else changes: a failed sign-in, an export, an upload's receipt.
"""

from __future__ import annotations

from typing import Any

from upstack.ids import new_id
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["add", "record", "recent", "has_upload", "record_upload"]


def add(db: Database, action: str, *, actor: str | None = None, subject: str = "", detail: str = "",
        address: str = "") -> None:
    """One line of the log, inside the caller's transaction."""
    db.execute("INSERT INTO audit_log (id, at, actor_id, action, subject, detail, address) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (new_id(), now_iso(), actor, action, subject, detail, address))


def record(db: Database, action: str, *, actor: str | None = None, subject: str = "", detail: str = "",
           address: str = "") -> None:
    """One line of the log, in a transaction of its own."""
    with db.transaction():
        add(db, action, actor=actor, subject=subject, detail=detail, address=address)


def recent(db: Database, limit: int) -> list[dict[str, Any]]:
    """The newest lines first, each with its actor's login."""
    return db.query(
        "SELECT a.at, a.action, a.subject, a.detail, a.address, u.login AS actor FROM audit_log a "
        "LEFT JOIN users u ON u.id = a.actor_id ORDER BY a.at DESC, a.id DESC LIMIT ?", (limit,))


def has_upload(db: Database, user_id: str, sha256: str) -> bool:
    """Whether ``user_id`` uploaded the file ``sha256`` (its receipt is in the log)."""
    return bool(db.scalar("SELECT 1 FROM audit_log WHERE action = 'file.upload' AND actor_id = ? AND subject = ?",
                          (user_id, sha256)))


def record_upload(db: Database, user_id: str, sha256: str, size: int) -> None:
    """The receipt for an upload (one per uploader and file): what lets them attach it."""
    if not has_upload(db, user_id, sha256):
        record(db, "file.upload", actor=user_id, subject=sha256, detail=f"{size} bytes")
