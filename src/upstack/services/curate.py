"""Changing what is in the log without losing anything: edit, delete, restore, purge."""

from __future__ import annotations

from upstack.domain.access import require_edit
from upstack.domain.entry import Attachment, Entry
from upstack.domain.text import MADE_APART, split_title
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services.capture import check_kind
from upstack.store import queries
from upstack.store import runs as store_runs
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["edit_text", "edit", "remove", "restore", "purge_target", "purge"]


def edit_text(entry: Entry) -> str:
    """The text a person edits: the title on the first line, the body below."""
    return entry.title + ("\n\n" + entry.body if entry.body else "") + "\n"


def edit(ws: Workspace, ref: str, text: str, *, kind: str | None = None) -> Entry | None:
    """Save a new revision; None when nothing changed. Earlier revisions are kept."""
    store = ws.store()
    entry = queries.get_entry(store.db, ref)
    require_edit(entry)
    if entry.purged_at:
        raise BadInput(f"entry {entry.short} was purged; it cannot be edited")
    if not text.strip():
        raise BadInput("the new text is empty; use `upstack rm` to delete an entry")
    title, body = split_title(text)
    new_kind = check_kind(kind) if kind else entry.kind
    apart = next((k for k in (new_kind, entry.kind) if k in MADE_APART), None)
    if apart and new_kind != entry.kind:
        raise BadInput(f"entry {entry.short} cannot become a {new_kind} by its kind: a {apart} is made with "
                       f"`{MADE_APART[apart][1].split(' CLAIM')[0]}`")
    if "idea" in (new_kind, entry.kind) and new_kind != entry.kind:
        # An idea is an entry with a triage row and a state: a kind alone would make half of one.
        raise BadInput(f"entry {entry.short} cannot become {'an idea' if new_kind == 'idea' else 'a ' + new_kind}"
                       " by its kind: capture an idea with `upstack idea` (or `note --kind idea`)")
    if (title, body, new_kind) == (entry.title, entry.body, entry.kind):
        return None
    store.write([ws.record("entry.revise", {
        "entry_id": entry.id, "revision_id": new_id(), "parent_id": entry.revision_id,
        "title": title, "body": body, "kind": new_kind, "created_at": now_iso()})])
    return queries.get_entry(store.db, entry.id)


def remove(ws: Workspace, ref: str) -> Entry:
    store = ws.store()
    entry = queries.get_entry(store.db, ref)
    require_edit(entry)
    if entry.deleted_at:
        raise BadInput(f"entry {entry.short} is already deleted (restore it with "
                       f"`upstack restore {entry.short}`)")
    store.write([ws.record("entry.delete", {"entry_id": entry.id, "at": now_iso()})])
    return queries.get_entry(store.db, entry.id)


def restore(ws: Workspace, ref: str) -> Entry:
    """Undo a delete; ``last`` names the entry deleted last."""
    store = ws.store()
    entry = queries.get_entry(store.db, ref, deleted=True)
    require_edit(entry)
    if entry.purged_at:
        raise BadInput(f"entry {entry.short} was purged; its content is gone for good")
    if not entry.deleted_at:
        raise BadInput(f"entry {entry.short} is not deleted")
    if store_runs.is_deleted(store.db, entry.id):  # alone it would leave the run deleted and its result shown
        raise BadInput(f"entry {entry.short} is the result of run {entry.short}, deleted with it: "
                       f"upstack run restore {entry.short} brings both back")
    store.write([ws.record("entry.restore", {"entry_id": entry.id})])
    return queries.get_entry(store.db, entry.id)


def purge_target(ws: Workspace, ref: str) -> Entry | Attachment:
    """What ``ref`` names: an entry, or one attachment."""
    db = ws.store().db
    table, object_id = queries.resolve_among(db, ref, {"entries": "entry",
                                                       "attachments": "attachment"})
    if table == "entries":
        return queries.get_entry(db, object_id)
    return queries.attachment_by_id(db, object_id)


def purge(ws: Workspace, target: Entry | Attachment) -> list[str]:
    """Remove content for good, leaving a tombstone; return the blobs deleted."""
    store = ws.store()
    if target.purged_at:
        raise BadInput(f"{target.short} was already purged")
    if isinstance(target, Entry):
        record = ws.record("entry.purge", {"entry_id": target.id, "at": now_iso()})
        shas = {a.sha256 for a in target.attachments if a.sha256}
    else:
        record = ws.record("attachment.purge", {"attachment_id": target.id, "at": now_iso()})
        shas = {target.sha256} if target.sha256 else set()
    store.prepare_scrub()
    # While purge holds this, no capture is between storing a file and journaling the record that
    # names it; and writing the purge ingests every record journaled before.
    with store.blobs.removing():
        store.write([record])
        removed = store.delete_unused_blobs(shas)
    store.scrub()
    return removed
