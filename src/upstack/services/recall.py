"""Recall: the timeline, search, one entry, its history, the tags."""

from __future__ import annotations

from pathlib import Path

from upstack.domain import spelling
from upstack.domain.entry import Attachment, Entry, Revision
from upstack.domain.files import attachment_name
from upstack.domain.filters import Filters
from upstack.domain.query import as_typed, parse_query
from upstack.errors import BadInput
from upstack.files import write_atomically
from upstack.store import queries, vocabulary
from upstack.store.search import SearchPage
from upstack.store.search import search as run_search
from upstack.workspace import Workspace

__all__ = ["timeline", "search", "suggest", "show", "history", "tags", "attachment_file", "save_attachment",
           "complete"]


def timeline(ws: Workspace, filters: Filters | None = None, limit: int | None = 50,
             before: str | None = None) -> list[Entry]:
    return queries.timeline(ws.store().db, filters or Filters(), limit, before)


def search(ws: Workspace, query: str, filters: Filters | None = None, limit: int = 20,
           offset: int = 0, *, typed: bool = False) -> SearchPage:
    """Ranked search; ``typed``: the query as a search box holds it while it is typed (its last word
    also matches the words it starts: ``domain.query.as_typed``)."""
    return run_search(ws.store().db, as_typed(query) if typed else query, filters or Filters(), limit, offset)


def suggest(ws: Workspace, query: str, *, typed: bool = False, matched: bool = False) -> str | None:
    """The query with each misspelt word respelt as a word of the entries the reader may see, or None
    ("did you mean"; the rules: ``domain.spelling``). ``typed`` as for ``search``; ``matched``: the
    search found entries (then a query without OR has no misspelt word, and nothing is asked)."""
    parsed = parse_query(as_typed(query) if typed else query)
    if matched and spelling.all_required(parsed):
        return None
    db = ws.store().db
    seen = vocabulary.reader_corpus(db)
    corrections: dict[str, str] = {}
    for word, prefix in spelling.looked_at(parsed):
        if vocabulary.any_starting(db, word, seen) if prefix else vocabulary.held(db, [word], seen):
            continue
        for group in spelling.nearest(word, vocabulary.all_words(db)):
            found = vocabulary.held(db, group, seen)
            if len(found) == 1:  # nothing to weigh it against: no need to count its entries
                corrections[word] = found[0]
                break
            if found:
                corrections[word] = spelling.best(vocabulary.holders(db, found, seen)) or word
                break
    return spelling.respelt(query, corrections) if corrections else None


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
