"""What every importer shares: problems with places, and one way to commit entries.

An importer reads its whole source first and lists every problem it finds. If
there is any and ``skip_bad`` is off, nothing is written. Otherwise the good
entries are journaled in one append, which is one line (formats/journal.py): an
import killed or stopped by a full disk half-way leaves none of it, never its
first part. They are then ingested in one transaction. Each entry carries a
``source`` key derived from its content (or, for a note, from its file), so
importing the same data twice creates nothing new. An importer that finds an entry
it made before, changed at its source since, asks for a new revision of it
(``revise_of``): the edit is kept, and so is what it replaces.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.domain.imports import ImportFailed, ImportResult, Problem
from upstack.domain.text import KINDS, normalize_tag
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services.capture import PreparedFile, store_files
from upstack.store.queries import imported_before
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["Problem", "ImportFailed", "ImportedEntry", "ImportResult", "commit", "source_key", "readable_file"]


@dataclass
class ImportedEntry:
    title: str
    body: str
    occurred_at: str
    source: str
    kind: str = "note"
    tags: list[str] = field(default_factory=list)
    project: str | None = None
    private: bool = False
    starred: bool = False
    files: list[Path] = field(default_factory=list)
    file_ids: list[str] = field(default_factory=list)  # ids for ``files``, when the text names them
    id: str | None = None  # kept when the source has upstack ids (our own exports)
    revise_of: str | None = None  # the current revision of the entry ``id``, when this is a new text of it
    created_at: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # how to name it in a report: file name, or file:line


def source_key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


def commit(ws: Workspace, items: list[ImportedEntry], problems: list[Problem], *,
           skip_bad: bool, progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Write the entries (all, or none if there are problems and skip_bad is off)."""
    if problems and not skip_bad:
        raise ImportFailed(problems)
    with ws.blobs.adding():  # from storing files until the records naming them are in (store/blobs.py)
        return _commit(ws, items, problems, progress)


def _commit(ws: Workspace, items: list[ImportedEntry], problems: list[Problem],
            progress: Callable[[int, int], None] | None) -> ImportResult:
    store = ws.store()
    result = ImportResult(skipped=list(problems))
    records = []
    for item in items:
        if item.kind not in KINDS:
            item.kind = "note"
        ids: list[str | None] = list(item.file_ids) or [None] * len(item.files)
        files = [PreparedFile(p, p.name, i) for p, i in zip(item.files, ids, strict=True)]
        if item.revise_of and item.id:
            records.append(ws.record("entry.revise", {
                "entry_id": item.id, "revision_id": new_id(), "parent_id": item.revise_of, "kind": item.kind,
                "title": item.title, "body": item.body,
                "extra_tags": [t for t in map(normalize_tag, item.tags) if t], "created_at": now_iso(),
                "meta": item.meta, "attachments": store_files(ws, files, now_iso())}))
            result.updated += 1
            continue
        if imported_before(store.db, item.source, item.id or ""):
            result.unchanged += 1
            continue
        created = item.created_at or now_iso()
        # Made now, in this zone; a time the file gives is another zone's, unknown: none is recorded.
        offset = ws.writer_offset() if item.created_at is None else {}
        records.append(ws.record("entry.create", {
            "id": item.id or new_id(), "revision_id": new_id(), "kind": item.kind,
            "title": item.title, "body": item.body, "extra_tags": [t for t in map(normalize_tag, item.tags) if t],
            "private": item.private, "starred": item.starred, "project": item.project,
            "occurred_at": item.occurred_at, "created_at": created, "source": item.source,
            "meta": item.meta, **offset,
            "attachments": store_files(ws, files, created),
        }))
    if records:
        store.journal.append(records)
        report = store.ingest(progress=progress)
        result.warnings += report.problems
        result.imported = len(records) - result.updated
    return result


def readable_file(path: Path) -> Path:
    """``path`` if an importer may read it: a regular file, not a symbolic link. A tracker's folder may
    come from anyone (a colleague's mlruns, an archive): a file in it that is a link would read whatever
    it names into the import (a key, a token: a param's value becomes config, which sync shares), and a
    FIFO or a device would be read forever. Neither tool writes such a file; BadInput, in one line."""
    import stat

    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        raise BadInput(f"cannot read {path}: it is a link (to {os.readlink(path)[:200]}); an import reads "
                       "only the files of the folder it is given")
    if not stat.S_ISREG(mode):
        raise BadInput(f"cannot read {path}: not a regular file")
    return path
