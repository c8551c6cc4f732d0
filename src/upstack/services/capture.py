"""Capture: write into the log in one command. Appends to the journal; no SQL here."""

from __future__ import annotations

import mimetypes
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain.access import current, require_edit, require_file_under
from upstack.domain.entry import Attachment, Entry
from upstack.domain.text import KINDS, MADE_APART, collect_tags, parse_note_text
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["note", "attach", "store_files", "check_kind", "PreparedFile", "node_for", "project_for"]


@dataclass(frozen=True)
class PreparedFile:
    path: Path
    name: str
    id: str | None = None  # chosen by the caller when a text must name the file before it is stored


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise BadInput(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    return kind


def _check_files(paths: list[str | Path]) -> list[PreparedFile]:
    prepared = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise BadInput(f"cannot attach {raw}: no such file")
        if not path.is_file():
            raise BadInput(f"cannot attach {raw}: not a regular file")
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise BadInput(f"cannot attach {raw}: {exc.strerror}") from None
        prepared.append(PreparedFile(path, path.name))
    return prepared


def store_files(ws: Workspace, files: list[PreparedFile], at: str) -> list[dict[str, Any]]:
    """Copy files into the blob store (before any record points at them). Call it inside
    ``ws.blobs.adding()`` held until those records are journaled (see store/blobs.py)."""
    stored = []
    for item in files:
        sha, size = ws.blobs.put_file(item.path)
        media_type = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        stored.append({"id": item.id or new_id(), "sha256": sha, "filename": item.name,
                       "media_type": media_type, "size": size, "created_at": at})
    return stored


def _holding(ws: Workspace, files: list[PreparedFile]) -> AbstractContextManager[None]:
    """``ws.blobs.adding()`` if there are files to store: a note of text alone takes no lock."""
    return ws.blobs.adding() if files else nullcontext()


def note(ws: Workspace, text: str, *, kind: str = "note", project: str | None = None,
         under: str | None = None, private: bool = False, attach: list[str | Path] | None = None,
         occurred_at: str | None = None, tags: list[str] | None = None,
         meta: dict[str, Any] | None = None) -> Entry:
    """Capture a note; the first sentence is its title and #tags are its tags.

    It is filed under the node ``under`` (an id), else under ``project`` (a name),
    else under the focus node (`upstack focus`), if any. A note of kind "idea" is an idea,
    a candidate to triage (`upstack triage`), as `upstack idea` makes.
    """
    check_kind(kind)
    if kind in MADE_APART:  # the entry and its own rows arrive together, as their command writes them
        needs, command = MADE_APART[kind]
        raise BadInput(f"a {kind} needs {needs}: make one with `{command}`")
    ws.check_writable()
    if under and project:
        raise BadInput("give --under or --project, not both")
    acting = current(team=ws.team)
    # On a team server the focus (one file for the whole workspace) is nobody's default.
    default = ws.focus_node_id() if acting is None else None
    node_id = node_for(ws, under) if under else (None if project else default)
    require_file_under(node_id)
    if not text.strip():
        raise BadInput("the note is empty")
    files = _check_files(list(attach or []))
    parsed = parse_note_text(text, tags or [])
    created = now_iso()
    entry_id = new_id()
    with _holding(ws, files):
        attachments = store_files(ws, files, created)
        data: dict[str, Any] = {
            "id": entry_id, "revision_id": new_id(), "kind": kind, "title": parsed.title,
            "body": parsed.body, "extra_tags": [t for t in (tags or [])], "private": private,
            "project": project, "node_id": node_id, "occurred_at": occurred_at or created,
            "created_at": created, **ws.writer_offset(),
            "attachments": attachments, "meta": meta or {},
        }
        record = ws.record("entry.create", data)
        records = [record]
        if kind == "idea":  # the entry and its triage row arrive together, as `upstack idea` writes them
            records.append(ws.record("idea.create", {"entry_id": entry_id, "at": occurred_at or created,
                                                     "triage": {}}))
        ws.append(records)
    kept = record.data  # the text as upstack keeps it (a NUL became U+FFFD: domain.text.clean_text)
    return Entry(
        id=entry_id, kind=kind, title=kept["title"], body=kept["body"],
        tags=list(collect_tags(kept["title"], kept["body"], kept["extra_tags"])),
        project=kept["project"], node_id=node_id, private=private, starred=False,
        occurred_at=occurred_at or created, created_at=created, updated_at=created,
        deleted_at=None, purged_at=None, revision_id=data["revision_id"],
        meta=kept["meta"], attachments=[Attachment(entry_id=entry_id, **a) for a in kept["attachments"]],
    )


def node_for(ws: Workspace, ref: str) -> str:
    """A read-only look-up of the node a note goes under (the only SQL capture does)."""
    from upstack.services.tree import resolve_node

    return resolve_node(ws.store().db, ref)


def project_for(ws: Workspace, name: str, *, create: bool = False) -> str:
    """The project a note's ``--project NAME`` means, looked up read-only as ``node_for`` does:
    an existing project by its name or the start of it (case aside), including projects that
    notes still waiting in the journal will make. A name that matches none is refused, saying
    which exist, unless ``create`` (then it is the new project's name): a typo never makes a
    project."""
    from upstack.domain.text import title_key
    from upstack.domain.tree import match_project, no_such_project
    from upstack.services.tree import known_projects

    if not title_key(name):
        raise BadInput(f"--project needs a name, not {name!r}")
    # The journal first: what an ingest takes from it meanwhile is in the store when that is read.
    pending = _journaled_projects(ws)
    titles = known_projects(ws) + pending
    if create:  # a project of that very name is still the one meant; a prefix is not
        return next((t for t in titles if title_key(t) == title_key(name)), " ".join(name.split()))
    found = match_project(name, titles)
    if found is None:
        raise no_such_project(name, titles, hint=" (--create makes a new one)")
    return found


def _journaled_projects(ws: Workspace) -> list[str]:
    """Projects named by notes still waiting in the journal (ingest makes them)."""
    names = []
    for path in [ws.journal.log_path, *ws.journal.pending()]:
        try:
            records, _ = ws.journal.read(path)
        except FileNotFoundError:
            continue  # taken by an ingest meanwhile: the store has it now
        names += [r.data["project"] for r in records if r.op == "entry.create"
                  and isinstance(r.data.get("project"), str) and not r.data.get("node_id")]
    return names


def attach(ws: Workspace, ref: str, paths: list[str | Path]) -> list[Attachment]:
    """Add files to an existing entry."""
    from upstack.store.queries import get_entry

    store = ws.store()
    entry = get_entry(store.db, ref)
    require_edit(entry)
    if entry.purged_at:
        raise BadInput(f"entry {entry.short} was purged; nothing can be attached to it")
    entry_id = entry.id
    if not paths:
        raise BadInput("no files to attach")
    files = _check_files(list(paths))
    from upstack.domain import access
    from upstack.services.quota import check_files

    check_files(ws, access.current(team=ws.team), entry_id, {str(f.path): f.path.stat().st_size for f in files})
    with ws.blobs.adding():
        stored = store_files(ws, files, now_iso())
        ws.append([ws.record("entry.attach", {"entry_id": entry_id, "attachments": stored})])
    ws.ingest()
    return [Attachment(entry_id=entry_id, **a) for a in stored]
