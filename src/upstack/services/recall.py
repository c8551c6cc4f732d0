"""Recall: the timeline, search, one entry, its history, the tags."""

from __future__ import annotations

from pathlib import Path

from upstack.domain.entry import Attachment, Entry, Revision
from upstack.domain.files import attachment_name
from upstack.domain.filters import Filters
from upstack.errors import BadInput
from upstack.files import write_atomically
from upstack.store import queries
from upstack.store.search import SearchPage
from upstack.store.search import search as run_search
from upstack.workspace import Workspace

__all__ = ["timeline", "search", "show", "history", "tags", "attachment_file", "save_attachment",
           "complete"]


def timeline(ws: Workspace, filters: Filters | None = None, limit: int | None = 50,
             before: str | None = None) -> list[Entry]:
    return queries.timeline(ws.store().db, filters or Filters(), limit, before)


def search(ws: Workspace, query: str, filters: Filters | None = None, limit: int = 20,
           offset: int = 0) -> SearchPage:
    return run_search(ws.store().db, query, filters or Filters(), limit, offset)


def show(ws: Workspace, ref: str) -> Entry:
    return queries.get_entry(ws.store().db, ref)


def complete(ws: Workspace, text: str, table: str = "entries") -> list[tuple[str, str]]:
    """(short id, title) of the live entries (or nodes: ``table="nodes"``) whose id starts with
    ``text`` or whose title holds it (``@`` before it aside), newest first, for shell completion.
    Reads the store as it is: nothing is taken in."""
    return queries.complete_refs(ws.store().db, text.removeprefix("@"), table)


def history(ws: Workspace, ref: str) -> tuple[Entry, list[Revision]]:
    db = ws.store().db
    entry = queries.get_entry(db, ref)
    return entry, queries.revisions(db, entry.id)


def tags(ws: Workspace, filters: Filters | None = None) -> list[tuple[str, int, str]]:
    return queries.all_tags(ws.store().db, filters or Filters())


def attachment_file(ws: Workspace, attachment_id: str) -> tuple[Attachment, bytes]:
    """An attachment by its full id, with its bytes (checked against their hash; none once purged)."""
    found = queries.attachment_by_id(ws.store().db, attachment_id)
    return found, ws.blobs.read(found.sha256) if found.sha256 else b""


def save_attachment(ws: Workspace, ref: str, dest: Path | None) -> tuple[Attachment, Path]:
    """Write an attachment's bytes (checked against their hash) to ``dest``, never overwriting."""
    db = ws.store().db
    attachment = queries.attachment_by_id(db, queries.resolve(db, ref, table="attachments",
                                                                 what="attachment"))
    if attachment.purged_at or not attachment.sha256:
        raise BadInput(f"attachment {attachment.short} was purged; its file is gone")
    name = attachment_name(attachment.filename)  # stored before names were cleaned at ingest, say
    target = Path(dest) if dest else Path(name)
    if target.is_dir():
        target = target / name
    try:
        if target.exists():
            raise BadInput(f"{target} already exists; choose another destination")
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None
    data = ws.blobs.read(attachment.sha256)
    try:
        write_atomically(target, data)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None
    return attachment, target
