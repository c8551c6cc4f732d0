"""Comments on entries, and the notifications they send, on a team server."""

from __future__ import annotations

from typing import Any

from upstack.ids import new_id
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["add", "for_entry", "notifications", "unread_by_entry", "mark_read"]


def add(db: Database, comment_id: str, entry_id: str, body: str, *, by: str, entry_author: str | None,
        at: str) -> None:
    """A comment by ``by``; the entry's author and everyone who commented on it before are notified
    (not the commenter)."""
    with db.transaction():
        db.execute("INSERT INTO comments (id, entry_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
                   (comment_id, entry_id, by, body, at))
        others = {r["author_id"] for r in db.query("SELECT DISTINCT author_id FROM comments WHERE entry_id = ?",
                                                   (entry_id,))}
        for user_id in sorted(str(u) for u in ({entry_author} | others) - {by, None}):
            db.execute("INSERT INTO notifications (id, user_id, kind, actor_id, entry_id, comment_id, created_at) "
                       "VALUES (?, ?, 'comment', ?, ?, ?, ?)", (new_id(), user_id, by, entry_id, comment_id, at))


def for_entry(db: Database, entry_id: str) -> list[dict[str, Any]]:
    """An entry's comments, oldest first, with their authors' login and name."""
    return db.query(
        "SELECT c.id, c.body, c.created_at, u.login, u.name FROM comments c LEFT JOIN users u "
        "ON u.id = c.author_id WHERE c.entry_id = ? AND c.deleted_at IS NULL ORDER BY c.created_at, c.id",
        (entry_id,))


def notifications(db: Database, user_id: str, limit: int) -> list[dict[str, Any]]:
    """The user's notifications, newest first, with who sent them and the comment's text."""
    return db.query(
        "SELECT n.id, n.kind, n.entry_id, n.created_at, n.read_at, u.login AS actor, c.body AS comment "
        "FROM notifications n LEFT JOIN users u ON u.id = n.actor_id "
        "LEFT JOIN comments c ON c.id = n.comment_id AND c.deleted_at IS NULL "
        "WHERE n.user_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?", (user_id, limit))


def unread_by_entry(db: Database, user_id: str) -> dict[str, int]:
    """{entry id: unread notifications about it} for the user."""
    return {r["entry_id"]: int(r["n"]) for r in db.query(
        "SELECT entry_id, count(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL "
        "AND entry_id IS NOT NULL GROUP BY entry_id", (user_id,))}


def mark_read(db: Database, user_id: str) -> int:
    """Every unread notification of the user is read now; how many."""
    with db.transaction():
        return int(db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
                              (now_iso(), user_id)).rowcount)
