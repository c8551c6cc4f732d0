"""Markdown folders in: any folder of notes (an Obsidian vault, or an export) into the log.

Each note becomes an entry and keeps what it was: its text as written, its front matter whole (the
keys upstack has no field for too, in their order), its file's path, and where its files were; so
the export of what was read is what was read (interop/markdown.py). Front matter gives title, tags,
aliases, date (else a daily note's name, else the file's time), created, kind, project, private,
starred and id. ``#tags`` and ``[[links]]`` in the text are the entry's; a link finds a note by its
title, an alias, or its file's name or path. Embedded files (``![[x.png]]``, ``![..](x.png)``) and
linked files become attachments; a Markdown link to one becomes ``upstack:ID`` (written back as a
path on export).

A note comes back to the entry it was: by the id in its front matter (an export's), else by its path
in the same folder. If its file changed since, the import is a new revision of that entry, so an edit
made in Obsidian is kept, and so is the text it replaced. The folder is only read, never written.

Example:
    >>> import_markdown(ws, Path("vault")).imported    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from upstack.domain.filters import Filters
from upstack.domain.text import clean_text, mask_code, title_key, trim_block
from upstack.errors import BadInput
from upstack.ids import id_key, new_id, short_id
from upstack.interop.common import ImportedEntry, ImportResult, Problem, commit, source_key
from upstack.interop.markdown import WIKILINK, Layout, Progress, link_path
from upstack.interop.notes import DailyNames, NoteFields, load_front, note_fields, split_front
from upstack.interop.vault_folder import NOTE_SUFFIXES, VaultFolder, read_regular
from upstack.limits import NOTE_MAX_BYTES
from upstack.store import queries
from upstack.store.db import Database
from upstack.store.ingest import id_taken
from upstack.timeutil import to_iso
from upstack.workspace import Workspace

__all__ = ["import_markdown", "read_daily_format", "read_attachment_folder", "NOTE_SUFFIXES", "VaultFolder", "Taken",
           "take_notes"]

_WIKI_EMBED = re.compile(r"!\[\[([^\[\]\n]+)\]\]")
# ![alt](target "title") and [text](target): group 1 is the target as written.
_MD_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*(<[^>\n]*>|[^)\s]+)(?:\s+[\"'][^\n]*?[\"'])?\s*\)")
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass
class _Note:
    path: Path
    rel: str  # vault-relative, with forward slashes
    text: str = ""
    crlf: bool = False  # its lines ended in CR LF
    bom: bool = False
    around: list[str] = field(default_factory=lambda: ["\n", "\n"])  # the blank space before and after the body
    front: str | None = None  # the front matter as written, between its --- lines
    body: str = ""
    body_line: int = 1  # the line of the file the (trimmed) body starts on
    meta: dict[str, Any] = field(default_factory=dict)
    fields: NoteFields | None = None
    sha256: str = ""
    readable: bool = False
    problems: list[Problem] = field(default_factory=list)
    warning: str = ""

    def key_line(self, key: str) -> int:
        pattern = re.compile(rf"^{re.escape(key)}\s*:")
        for number, line in enumerate((self.front or "").split("\n"), 2):
            if pattern.match(line):
                return number
        return 1

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(f"{self.rel}:{line}", message))


def read_attachment_folder(root: Path) -> str:
    """Where Obsidian puts new files in this vault (``.obsidian/app.json``'s ``attachmentFolderPath``),
    else a folder ``attachments`` beside each note."""
    try:
        settings = json.loads((root / ".obsidian" / "app.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "./attachments"
    wanted = settings.get("attachmentFolderPath") if isinstance(settings, dict) else None
    return wanted if isinstance(wanted, str) else "./attachments"


def read_daily_format(root: Path) -> DailyNames:
    """The vault's daily-note names (``.obsidian/daily-notes.json``'s ``format``), else ``YYYY-MM-DD``."""
    try:
        settings = json.loads((root / ".obsidian" / "daily-notes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DailyNames()
    wanted = settings.get("format") if isinstance(settings, dict) else None
    return DailyNames(wanted if isinstance(wanted, str) and wanted.strip() else "YYYY-MM-DD")


def _read_note(vault: VaultFolder, path: Path, daily: DailyNames) -> _Note:
    note = _Note(path, vault.rel(path))
    try:
        data = read_regular(path, NOTE_MAX_BYTES)
    except OSError as exc:
        note.problem(1, f"cannot read: {exc.strerror}")
        return note
    if data is None:
        note.problem(1, f"larger than {NOTE_MAX_BYTES // (1024 * 1024)} MB, the most a note may be "
                        "(attach a file this big to a note instead)")
        return note
    note.sha256 = hashlib.sha256(data).hexdigest()
    try:
        # Text as upstack keeps it (domain.text.clean_text): a NUL is no reason to refuse a note.
        decoded = data.decode("utf-8")
        note.bom, note.crlf = decoded.startswith("\ufeff"), "\r\n" in decoded
        note.text = clean_text(decoded.removeprefix("\ufeff").replace("\r\n", "\n"))
    except UnicodeDecodeError as exc:
        note.problem(data.count(b"\n", 0, exc.start) + 1, f"not UTF-8 text (byte {exc.start})")
        return note
    note.readable = True
    note.front, body, body_line = split_front(note.text)
    if note.front is not None:
        try:
            meta = load_front(note.front)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            note.problem(mark.line + 2 if mark else 1,
                         f"bad YAML front matter: {getattr(exc, 'problem', None) or exc}")
            meta = {}
        if meta is not None and not isinstance(meta, dict):
            note.problem(2, "front matter is not a list of 'key: value' lines")
            meta = {}
        note.meta = meta or {}
    lead = len(body) - len(body.lstrip("\n"))
    note.body, note.body_line = trim_block(body), body_line + lead
    if note.body:
        start = body.index(note.body)
        note.around = [body[:start], body[start + len(note.body):]]
    note.fields, problems = note_fields(note.meta, note.rel, daily)
    for key, message in problems:
        note.problem(note.key_line(key), message)
    return note


@dataclass
class _File:
    path: Path
    id: str
    known: bool  # already one of the entry's files (same bytes): nothing to store


class _Files:
    """The files a note holds: each found once, given an attachment id (the entry's own when it
    already holds those bytes), and where it was in the vault."""

    def __init__(self, vault: VaultFolder, note: _Note, held: dict[str, str], *, strict: bool = True) -> None:
        self.vault, self.note, self.held = vault, note, held  # held: sha256 -> attachment id
        self.strict = strict  # a missing embedded file is a problem (else a warning: the note is read)
        self.found: dict[Path, _File] = {}

    def get(self, target: str, line: int, *, embedded: bool) -> _File | None:
        path = self.vault.find(target, self.note.path) if target else None
        if path is not None and path.suffix.lower() in NOTE_SUFFIXES:
            return None  # a note linked or embedded in a note, not a file
        if path is None:
            if embedded and Path(target).suffix.lower() not in ("", *NOTE_SUFFIXES):
                if self.strict:
                    self.note.problem(line, f"embedded file {target!r} does not exist")
                else:
                    self.note.warning = (f"{self.note.rel}:{line}: embedded file {target!r} does not exist "
                                         "(the note is read without it)")
            return None
        if not self.vault.inside(path):
            self.note.problem(line, f"embedded file {target!r} is outside the folder")
            return None
        if path not in self.found:
            try:
                sha = hashlib.sha256(read_regular(path) or b"").hexdigest()
            except OSError as exc:
                self.note.problem(line, f"cannot read {target!r}: {exc.strerror}")
                return None
            known = self.held.get(sha)
            self.found[path] = _File(path, known or new_id(), known is not None)
        return self.found[path]


def _body_and_files(note: _Note, vault: VaultFolder, held: dict[str, str], *, strict: bool = True
                    ) -> tuple[str, _Files, dict[str, str]]:
    """The body with Markdown links to the vault's files as ``upstack:ID``; its files; how each
    such link was spelt where that is not the way export spells it."""
    files = _Files(vault, note, held, strict=strict)
    body, masked = note.body, mask_code(note.body)

    def line(offset: int) -> int:
        return note.body_line + body.count("\n", 0, offset)

    for match in _WIKI_EMBED.finditer(masked):
        files.get(match.group(1).split("|")[0].split("#")[0].strip(), line(match.start()), embedded=True)
    listed = note.meta.get("attachments")
    for item in listed if isinstance(listed, list) else []:
        files.get(str(item), note.key_line("attachments"), embedded=True)
    spelt: dict[str, str] = {}
    out, last = [], 0
    for match in _MD_LINK.finditer(masked):
        written = body[match.start(1):match.end(1)]
        target = unquote(written.strip("<>"))
        if _URL_SCHEME.match(target) or target.startswith("#"):
            continue
        found = files.get(target.split("#")[0], line(match.start()), embedded=match.group(0).startswith("!"))
        if found is None:
            continue
        if written != link_path(note.rel, vault.rel(found.path)):
            spelt[found.id] = written
        out += [body[last:match.start(1)], f"upstack:{short_id(found.id)}"]
        last = match.end(1)
    body = "".join(out) + body[last:]
    if isinstance(listed, list):
        body = _strip_listed_embeds(body, files, note)
    return body, files, spelt


def _strip_listed_embeds(body: str, files: _Files, note: _Note) -> str:
    """Drop the trailing ``![](file)`` lines an export adds for files its text does not show."""
    shorts = {f"upstack:{short_id(f.id)}" for f in files.found.values()}
    lines = body.rstrip().split("\n")
    while lines and re.fullmatch(r"!\[\]\((upstack:[0-9A-Za-z]+)\)", lines[-1].strip() or "-") \
            and lines[-1].strip()[4:-1] in shorts:
        lines.pop()
    return "\n".join(lines).rstrip()


def _refers_to(text: str, title: str, entry_id: str | None) -> bool:
    """Whether [[text]] finds the entry of this title and id by its title or its id (or a prefix of it)."""
    text = text.strip()
    if title_key(text) == title_key(title):
        return True
    return bool(entry_id) and (text.upper() == entry_id or (
        4 <= len(text) <= 16 and text.isalnum() and id_key(entry_id or "").startswith(text.lower())))


class _Links:
    """Undoes what export does to a link Obsidian would not follow (interop/markdown.py): the
    ``[[File name|Title]]`` it wrote for ``[[Title]]`` is ``[[Title]]`` again, so the entry reads
    as it did, and its export is the same file."""

    def __init__(self, notes: list[_Note], db: Database) -> None:
        self.db = db
        self.by_name: dict[str, _Note] = {}
        for note in notes:
            self.by_name.setdefault(note.rel.rsplit(".", 1)[0].casefold(), note)
        for note in notes:
            self.by_name.setdefault(note.path.stem.casefold(), note)

    def _refers(self, raw: str, alias: str) -> bool:
        """Whether ``alias`` names the note whose file ``raw`` names, by its title or id: among the
        notes read now, else among the entries the log has (a sync reads only the notes changed)."""
        if alias.strip().casefold() in (raw.casefold(), raw.rsplit("/", 1)[-1].removesuffix(".md").casefold()):
            return False  # it names the file itself: export wrote it so, or the person did
        note = self.by_name.get(raw.removesuffix(".md").casefold())
        if note is not None:
            return note.fields is not None and _refers_to(alias, note.fields.title, note.fields.id)
        found = queries.named_by_file(self.db, title_key(raw.removesuffix(".md")))
        return found is not None and _refers_to(alias, found[1], found[0])

    def undo(self, body: str) -> str:
        masked = mask_code(body)
        out, last = [], 0
        for match in WIKILINK.finditer(masked):
            if match.group(3) is None:
                continue
            raw, alias = body[match.start(1):match.end(1)].strip(), body[match.start(3):match.end(3)]
            if not self._refers(raw, alias):
                continue
            heading = body[match.start(2):match.end(2)] if match.group(2) else ""
            out += [body[last:match.start()], f"[[{alias}{heading}]]"]
            last = match.end()
        return "".join(out) + body[last:]


class _Known:
    """What this workspace already holds of a folder's notes: by id, and by the file each came from."""

    def __init__(self, db: Database, root: Path, daily: DailyNames) -> None:
        self.db, self.root, self.daily = db, root, daily
        self._layout: Layout | None = None

    def says_the_same(self, entry_id: str, note: _Note) -> bool:
        """Whether the note is what exporting the entry now writes (an export read back unedited)."""
        if self._layout is None:
            ids = queries.ids_oldest_first(self.db, Filters(include_private=True))
            self._layout = Layout(self.db, queries.load_entries(self.db, ids), daily=self.daily)
        entry = next(iter(queries.load_entries(self.db, [entry_id])), None)
        # Bytes against bytes: the rendering keeps a note's BOM and CR LF, note.text has neither.
        return entry is not None and entry.id in self._layout.paths and \
            hashlib.sha256(self._layout.render(entry).text.encode("utf-8")).hexdigest() == note.sha256

    def source(self, rel: str) -> str:
        return source_key("markdown-file", str(self.root), rel)

    def older_revision(self, found: dict[str, Any], title: str, body: str) -> int | None:
        """The number of an earlier revision (not the current one) with this very text, if any."""
        for revision in queries.revisions(self.db, found["id"]):
            if revision.id != found["revision_id"] and (revision.title, revision.body) == (title, body):
                return revision.number
        return None

    def find(self, note: _Note) -> dict[str, Any] | None:
        fields = note.fields
        assert fields is not None
        legacy = source_key("markdown", note.rel, note.text)  # how upstack keyed a note before issue 17
        return queries.imported_entry(self.db, fields.id, [self.source(note.rel), legacy])


def _markdown(found: dict[str, Any]) -> dict[str, Any]:
    note = found["meta"].get("markdown")
    return note if isinstance(note, dict) else {}


def _to_entry(note: _Note, vault: VaultFolder, known: _Known, links: _Links, *, older_is_stale: bool = False
              ) -> ImportedEntry | None:
    fields = note.fields
    assert fields is not None
    found = known.find(note)
    if found is not None and (found["purged_at"] or _markdown(found).get("sha256") == note.sha256
                              or known.says_the_same(found["id"], note)):
        return None  # as it was when last imported, or as the entry is now (or purged for good)
    held = {a.sha256: a.id for a in found["attachments"] if a.sha256} if found else {}
    body, files, spelt = _body_and_files(note, vault, held, strict=older_is_stale)
    occurred = fields.occurred_at or fields.created_at or \
        to_iso(datetime.fromtimestamp(note.path.stat().st_mtime, UTC))
    # Where the folder is on this machine stays out: meta travels with the entry (to a team server).
    markdown: dict[str, Any] = {"path": note.rel, "front": note.front, "sha256": note.sha256,
                                "files": {f.id: vault.rel(f.path) for f in files.found.values()}}
    if spelt:
        markdown["refs"] = spelt
    if note.around != ["\n", "\n"]:
        markdown["around"] = note.around
    if note.crlf:
        markdown["crlf"] = True
    if note.bom:
        markdown["bom"] = True
    body = links.undo(body)
    if found is not None and bool(found["private"]) != fields.private:
        note.warning = (f"{note.rel}: says private: {str(fields.private).lower()}, but whether entry "
                        f"{short_id(found['id'])} is private is fixed when it is first written (a team server "
                        "may hold it already); the note is read, the entry stays "
                        f"{'private' if found['private'] else 'shared'}")
    if found is not None and older_is_stale:
        older = known.older_revision(found, fields.title, body)
        if older is not None:  # an export made before the entry's last edit: reading it would undo that
            note.warning = (f"{note.rel}: the text of entry {short_id(found['id'])} as it was in revision "
                            f"{older}, before its last edit; not imported (`upstack history "
                            f"{short_id(found['id'])}`)")
            return None
    new = [f for f in files.found.values() if not f.known]
    return ImportedEntry(
        title=fields.title, body=body, occurred_at=occurred, source=known.source(note.rel),
        kind=fields.kind, tags=fields.tags, project=fields.project, private=fields.private, starred=fields.starred,
        files=[f.path for f in new], file_ids=[f.id for f in new],
        id=found["id"] if found else fields.id, revise_of=found["revision_id"] if found else None,
        created_at=fields.created_at, meta={"aliases": fields.aliases, "markdown": markdown}, name=note.rel)


@dataclass
class Taken:
    """What reading some of a vault's notes did: each note's entry (None if it had a problem) and
    the sha256 of the bytes read, and the import's result."""
    entries: dict[str, str | None]
    sha256: dict[str, str]
    result: ImportResult


def take_notes(ws: Workspace, vault: VaultFolder, paths: list[Path], *, skip_bad: bool = True,
               progress: Progress | None = None, older_is_stale: bool = False) -> Taken:
    """Read these notes of ``vault`` into the log: a new note is a new entry, a changed one a new
    revision of its entry, an unchanged one nothing. All or nothing when a note has a problem, unless
    ``skip_bad`` (then it is left out and listed in the result). `import markdown` and `vault sync`
    both read notes through this. ``older_is_stale``: a note holding an earlier revision's text is not
    read (an old export imported again would undo later edits); a sync reads it (an undo in Obsidian)."""
    daily = read_daily_format(vault.root)
    notes = [_read_note(vault, path, daily) for path in paths]
    warnings = []
    seen_ids: dict[str, str] = {}
    for note in notes:
        if note.fields and note.fields.id and seen_ids.setdefault(note.fields.id, note.rel) != note.rel:
            warnings.append(f"{note.rel}: id {note.fields.id} is also in {seen_ids[note.fields.id]}; "
                            "imported as a new entry")
            note.fields.id = None
    db = ws.store().db
    for note in notes:  # a node's or a run's id (ids are one space): the note is an entry of its own
        said = note.fields.id if note.fields else None
        if said and not queries.imported_entry(db, said, []) and id_taken(db, said):
            warnings.append(f"{note.rel}: id {said} is not an entry's (a node's or a run's); imported as a new entry")
            note.fields.id = None  # type: ignore[union-attr]
    known = _Known(db, vault.root, daily)
    links = _Links([n for n in notes if n.readable and n.fields is not None], db)
    items: list[ImportedEntry] = []
    entries: dict[str, str | None] = {}
    unchanged = 0
    for note in notes:
        entries[note.rel] = None
        if not note.readable or note.problems:
            continue
        item = _to_entry(note, vault, known, links, older_is_stale=older_is_stale)
        if note.warning:
            warnings.append(note.warning)
        if item is None:
            found = known.find(note)
            entries[note.rel] = found["id"] if found else None
            unchanged += 1
        elif not note.problems:
            item.id = item.id or new_id()
            entries[note.rel] = item.id
            items.append(item)
    problems = [p for note in notes for p in note.problems]
    result = commit(ws, items, problems, skip_bad=skip_bad, progress=progress)
    result.unchanged += unchanged
    result.warnings += warnings
    for note in notes:
        if note.problems:
            entries[note.rel] = None
    return Taken(entries, {n.rel: n.sha256 for n in notes}, result)


def import_markdown(ws: Workspace, directory: str | Path, skip_bad: bool = False,
                    progress: Progress | None = None) -> ImportResult:
    """Import every note (``*.md``) under ``directory``, skipping hidden folders.

    Nothing is written if any note has a problem, unless ``skip_bad`` (then the bad notes are
    skipped). Symbolic links to notes and folders are skipped, and listed in the warnings.
    """
    root = Path(directory)
    if root.is_file():
        raise BadInput(f"cannot import {root}: it is a file; `import markdown` takes a folder of notes "
                       f"(`upstack import markdown {root.parent}`)")
    if not root.is_dir():
        raise BadInput(f"cannot import {root}: no such folder")
    vault = VaultFolder(root)
    result = take_notes(ws, vault, vault.notes, skip_bad=skip_bad, progress=progress, older_is_stale=True).result
    result.warnings = vault.link_warnings() + result.warnings
    return result
