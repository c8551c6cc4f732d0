"""Stars: each person's own marks on entries (`upstack star`), never shown to anyone else.

A star or an unstar is a record (``star.set``) of whoever made it; a person has one row per
entry, the newest change (by time, then id) winning, so two devices that starred and unstarred
apart agree once they have synced. The key is the person: ``''`` is the workspace's owner (a
laptop's one user, or on a team server the account that owns what was written with nobody
signed in), else their user id. A reader who is nobody has no stars at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.domain import access
from upstack.errors import NotFound
from upstack.formats.journal import Record
from upstack.store.accounts import OWNER_KEY
from upstack.store.db import Database

__all__ = ["HANDLERS", "reader_key", "starred_among", "starred_sql", "person_key", "last_change"]


def person_key(db: Database, user_id: str | None) -> str:
    """The stars key of a user id (None: nobody signed in, so the owner)."""
    if not user_id:
        return ""
    owner = db.scalar("SELECT value FROM workspace_info WHERE key = ?", (OWNER_KEY,))
    return "" if user_id == owner else user_id


def reader_key(db: Database) -> str | None:
    """Whose stars a read shows: the owner's ('') in the owner's view, the reader's on a team server,
    and nobody's (None) for a reader who is not signed in."""
    audience = access.current(team=db.team)
    if audience is None:
        return ""
    if not audience.user_id:
        return None
    return "" if audience.owns_unattributed else audience.user_id


def _set(db: Database, record: Record) -> None:
    data = record.data
    if not db.scalar("SELECT 1 FROM entries WHERE id = ? AND purged_at IS NULL", (data["entry_id"],)):
        raise NotFound(f"cannot star entry {data['entry_id']}: it does not exist")
    key = person_key(db, data.get("by"))
    event = str(data.get("event_id") or record.id)
    new = (str(data["at"]), event)
    held = db.one("SELECT at, event_id FROM stars WHERE entry_id = ? AND user_id = ?", (data["entry_id"], key))
    if held is None:
        db.execute("INSERT INTO stars (entry_id, user_id, starred, at, event_id) VALUES (?, ?, ?, ?, ?)",
                   (data["entry_id"], key, int(bool(data["starred"])), new[0], new[1]))
    elif new > (held["at"], held["event_id"]):  # the newest change wins, whatever order they arrive in
        db.execute("UPDATE stars SET starred = ?, at = ?, event_id = ? WHERE entry_id = ? AND user_id = ?",
                   (int(bool(data["starred"])), new[0], new[1], data["entry_id"], key))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {"star.set": _set}


def starred_among(db: Database, entry_ids: list[str]) -> set[str]:
    """Which of these entries the reader has starred."""
    key = reader_key(db)
    if key is None or not entry_ids:
        return set()
    found: set[str] = set()
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start:start + 500]
        found |= {r["entry_id"] for r in db.query(
            f"SELECT entry_id FROM stars WHERE user_id = ? AND starred = 1 AND entry_id IN "
            f"({', '.join('?' for _ in chunk)})", [key, *chunk])}
    return found


def starred_sql(db: Database, alias: str = "e") -> tuple[str, list[Any]]:
    """A condition over ``entries {alias}``: the reader has starred it."""
    key = reader_key(db)
    if key is None:
        return "1 = 0", []
    return f"{alias}.id IN (SELECT entry_id FROM stars WHERE user_id = ? AND starred = 1)", [key]


def last_change(db: Database, entry_id: str) -> tuple[bool, str | None]:
    """(whether the reader has starred the entry, when they last starred or unstarred it)."""
    key = reader_key(db)
    row = db.one("SELECT starred, at FROM stars WHERE entry_id = ? AND user_id = ?", (entry_id, key)) \
        if key is not None else None
    return (False, None) if row is None else (bool(row["starred"]), str(row["at"]))
