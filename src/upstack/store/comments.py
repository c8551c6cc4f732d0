"""Comments on entries, and the notifications they send on a team server.

A comment is a record (``comment.add``), written on a server's web page, by `upstack comment`, or
brought by sync, and applied here like any other. Who may see one is who may see its entry: a
comment on an entry the reader may not see, or on a deleted one, is not there for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.errors import NotFound
from upstack.formats.journal import Record
from upstack.ids import new_id
from upstack.store.accounts import OWNER_KEY, user_ids
from upstack.store.db import Database
from upstack.store.queries import reader_sql
from upstack.timeutil import now_iso

__all__ = ["HANDLERS", "for_entry", "notifications", "unread_by_entry", "mark_read", "visible_comments",
           "comment_records", "comment_author", "purge_for_entry", "hide"]


def _add(db: Database, record: Record) -> None:
    """Keep the comment; on a team server, the entry's author and everyone who commented on it before
    are notified (not the commenter). Its author is ``by`` where that is an account here; the login
    it came with is kept either way (a comment pulled to a laptop names its author by login)."""
    data = record.data
    entry = db.one("SELECT id, author_id FROM entries WHERE id = ? AND purged_at IS NULL", (data["entry_id"],))
    if entry is None:
        raise NotFound(f"cannot comment on entry {data['entry_id']}: it does not exist")
    members = user_ids(db)
    by = data.get("by") if data.get("by") in members else None
    inserted = db.execute(
        "INSERT INTO comments (id, entry_id, author_id, body, created_at, author_login) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (data["id"], entry["id"], by, data["body"], data["created_at"], str(data.get("author_login") or ""))).rowcount
    if not inserted or not members:
        return
    owner = db.scalar("SELECT value FROM workspace_info WHERE key = ?", (OWNER_KEY,))
    others = {r["author_id"] or owner for r in db.query(
        "SELECT DISTINCT author_id FROM comments WHERE entry_id = ?", (entry["id"],))}
    commenter = by or owner
    for user_id in sorted(str(u) for u in ({entry["author_id"] or owner} | others) - {commenter, None}
                          if u in members):
        db.execute("INSERT INTO notifications (id, user_id, kind, actor_id, entry_id, comment_id, created_at) "
                   "VALUES (?, ?, 'comment', ?, ?, ?, ?)", (new_id(), user_id, commenter, entry["id"], data["id"],
                                                          now_iso()))  # when it reached them


HANDLERS: dict[str, Callable[[Database, Record], None]] = {"comment.add": _add}

# Who wrote it, as a reader sees it: their account here; else the login it came with (pulled from a
# server); else, written with nobody signed in, the workspace owner's account (none on a laptop: you).
_AUTHOR = ("LEFT JOIN users u ON u.id = c.author_id "
           "LEFT JOIN workspace_info wi ON wi.key = 'owner_user_id' AND c.author_id IS NULL "
           "AND c.author_login = '' LEFT JOIN users o ON o.id = wi.value")
_LOGIN = "COALESCE(u.login, NULLIF(c.author_login, ''), o.login)"


def for_entry(db: Database, entry_id: str) -> list[dict[str, Any]]:
    """An entry's comments, oldest first, with their authors' login and name (both empty: the
    workspace's own user, on a laptop)."""
    return db.query(
        f"SELECT c.id, c.body, c.created_at, {_LOGIN} AS login, COALESCE(u.name, o.name) AS name "
        f"FROM comments c {_AUTHOR} WHERE c.entry_id = ? AND c.deleted_at IS NULL ORDER BY c.created_at, c.id",
        (entry_id,))


def visible_comments(db: Database) -> dict[str, str]:
    """{comment id: entry id} of the comments the reader may see: on entries they see that are not
    deleted (a deleted entry's comments come back with it)."""
    visible, params = reader_sql(db)
    return {r["id"]: r["entry_id"] for r in db.query(
        f"SELECT c.id, c.entry_id FROM comments c JOIN entries e ON e.id = c.entry_id WHERE c.deleted_at IS NULL "
        f"AND e.deleted_at IS NULL AND e.purged_at IS NULL AND {visible}", params)}


def comment_records(db: Database, comment_ids: list[str]) -> list[Record]:
    """``comment.add`` records for these comments (those the reader may see), oldest first; each
    carries its author's login, and its own id as the record's."""
    shown = visible_comments(db)
    wanted = sorted({c for c in comment_ids if c in shown})
    records = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in db.query(f"SELECT c.id, c.entry_id, c.body, c.created_at, {_LOGIN} AS login FROM comments c "
                            f"{_AUTHOR} WHERE c.id IN ({', '.join('?' for _ in chunk)})", chunk):
            records.append(Record(id=row["id"], op="comment.add", workspace="sync", at=row["created_at"], data={
                "id": row["id"], "entry_id": row["entry_id"], "body": row["body"], "created_at": row["created_at"],
                "author_login": row["login"] or ""}))
    return sorted(records, key=lambda r: (r.at, r.id))


def comment_author(db: Database, comment_id: str) -> tuple[bool, str | None]:
    """(whether a comment has this id, its author), whoever may see it."""
    row = db.one("SELECT author_id FROM comments WHERE id = ?", (comment_id,))
    return (False, None) if row is None else (True, row["author_id"])


def purge_for_entry(db: Database, entry_id: str, at: str) -> None:
    """An entry purged for good takes what was said about it along."""
    db.execute("UPDATE comments SET body = '', deleted_at = coalesce(deleted_at, ?) WHERE entry_id = ?",
               (at, entry_id))


def hide(db: Database, comment_id: str, at: str) -> None:
    """Take a comment off its entry (kept, not shown): one its server refused, dropped here."""
    db.execute("UPDATE comments SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (at, comment_id))


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
