"""Comments on entries: a mentor's feedback where the researcher reads, on the web or at the terminal.

A comment is a record (``comment.add``) like a note: written on a team server's entry page, by
`upstack comment` on a laptop, or brought by `upstack sync`; its entry's author (and everyone who
commented before) is notified on the server. Who may read a comment is who may read its entry,
and only while the entry is not deleted; who may write one: the entry's author, or a commenter
on its node (domain/access.py).
"""

from __future__ import annotations

from typing import Any

from upstack.domain.access import Audience, current, require
from upstack.domain.entry import Entry
from upstack.domain.text import clean_text
from upstack.errors import BadInput
from upstack.ids import new_id, short_id
from upstack.store import comments as store_comments
from upstack.store import queries
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["add", "for_entry", "MAX_COMMENT"]

MAX_COMMENT = 20_000


def add(ws: Workspace, entry_ref: str, body: str, *, by: Audience | None = None) -> dict[str, Any]:
    """A comment on an entry the writer may see; ``by`` (default: whoever is acting) must be its
    author or hold commenter where it is."""
    text = clean_text(body).strip()  # text as upstack keeps it, as a note's
    if not text:
        raise BadInput("the comment is empty")
    if len(text) > MAX_COMMENT:
        raise BadInput(f"the comment is longer than {MAX_COMMENT:,} characters; attach a file instead")
    store = ws.store()
    entry = queries.get_entry(store.db, entry_ref)  # NotFound unless they may see it
    writer = by or current(team=ws.team)
    if writer is not None:
        require(writer.may_comment(author_id=entry.author_id, private=entry.private, node_id=entry.node_id),
                "you may read this entry but not comment on it (ask its owner for the commenter role)")
    if entry.purged_at or entry.deleted_at:
        raise BadInput(f"entry {entry.short} is deleted; restore it (`upstack restore {entry.short}`) to comment")
    data = {"id": new_id(), "entry_id": entry.id, "body": text, "created_at": now_iso(),
            "author_login": writer.login if writer is not None else ""}
    record = ws.record("comment.add", {**data, **({"by": writer.user_id} if writer is not None else {})})
    store.write([record])
    return {"id": data["id"], "short": short_id(data["id"]), "entry_id": entry.id, "body": text,
            "created_at": data["created_at"], "login": writer.login if writer is not None else None}


def for_entry(ws: Workspace, entry: Entry) -> list[dict[str, Any]]:
    """The comments on an entry the reader has already been shown, oldest first: none while it is
    deleted (they come back with it). ``login`` and ``name`` are empty for the workspace's own user."""
    if entry.deleted_at:
        return []
    return [{**row, "short": short_id(row["id"])} for row in store_comments.for_entry(ws.store().db, entry.id)]
