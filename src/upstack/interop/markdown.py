"""Markdown folders out: the log as an Obsidian-readable vault.

Export writes one note per live entry. A note that came from a vault goes back where it was, with its
front matter and text as they were (interop/notes.py) and its files where they were; an entry born in
upstack goes in a folder per node of its tree (agenda/project/question/experiment), named after its
title, its files in ``attachments/`` beside it. ``![..](upstack:ID)`` becomes the file's path relative
to the note, so any Markdown tool shows it (reading the folder back turns it into ``upstack:`` again).
A link an entry born in upstack makes to another by its title or id, which Obsidian would not find by
that name, is written ``[[File name|as written]]``. Reading such folders back (or any Obsidian vault)
is :mod:`upstack.interop.vault`: the export of what it read is what it read, so a second export is
byte for byte the first.

Example:
    >>> export_markdown(ws, Path("vault"))            # doctest: +SKIP
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.domain.entry import Entry
from upstack.domain.filters import Filters
from upstack.domain.text import find_tags, title_key
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.files import make_private_dirs, sync_all, write_atomically
from upstack.interop.notes import DailyNames, NoteFields, front_matter
from upstack.interop.vault_folder import linked_part
from upstack.store import queries
from upstack.store.db import Database
from upstack.store.tree import node_rows
from upstack.workspace import Workspace

__all__ = ["ATTACHMENTS_FOLDER", "Progress", "WIKILINK", "UPSTACK_REF", "PANEL_REF", "panel_pictures",
           "NoteOut", "Layout", "export_markdown",
           "safe_file_name", "safe_path", "link_path"]

Progress = Callable[[int, int], None]

ATTACHMENTS_FOLDER = "attachments"
# Mirrors domain.text's link syntax, with groups: target, #heading, |alias; not ![[embeds]].
WIKILINK = re.compile(r"(?<!!)\[\[([^\[\]|#\n]+)(#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")
# Characters Obsidian or some file system refuses in a file name or a wikilink.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f\x7f-\x9f]')
_NAME_BYTES = 150
_CHUNK = 500
# ![caption](upstack:SHORT) and [text](upstack:SHORT "title"): a file of the entry, by its short id.
UPSTACK_REF = re.compile(r"(\]\(\s*)upstack:([0-9A-Za-z]{4,26})(?=[\s)])")
# ![caption](upstack:panel/ID): a chart panel (services/panels.py); an export draws it as a PNG.
PANEL_REF = re.compile(r"!\[([^\]\n]*)\]\(\s*upstack:panel/([0-9A-Za-z]{4,26})\s*\)")
_EMBED_NAME = re.compile(r"!?\[\[([^\[\]|#\n]+)")
_LINK_ESCAPES = {"%": "%25", " ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"}


def safe_file_name(text: str) -> str:
    """A file name Obsidian and every OS accept, kept short; '' if nothing is left.

    >>> safe_file_name("Patching: layer 5 kills it?")
    'Patching layer 5 kills it'
    """
    name = _UNSAFE_NAME.sub(" ", unicodedata.normalize("NFC", text))
    name = " ".join(name.split()).strip(" .")
    while len(name.encode("utf-8")) > _NAME_BYTES:
        name = name[:-1].rstrip(" .")
    return name


def safe_path(path: Any) -> str | None:
    """A vault-relative path from stored data, if it can only name a file inside the vault."""
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path or path.startswith("/"):
        return None
    parts = path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    return path


def _relative(from_note: str, to_file: str) -> str:
    return posixpath.relpath(to_file, posixpath.dirname(from_note) or ".")


def link_path(from_note: str, to_file: str) -> str:
    """How a note links a file in Markdown: its path relative to the note's folder, escaped as
    Obsidian writes it (``%20`` for a space).

    >>> link_path("Projects/RMU.md", "Attachments/loss curve.png")
    '../Attachments/loss%20curve.png'
    """
    return "".join(_LINK_ESCAPES.get(c, c) for c in _relative(from_note, to_file))


class _NameBook:
    """Claims file names once per vault, ignoring case (Obsidian and macOS do too)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, stem: str, short: str, suffix: str) -> str:
        """``stem + suffix`` if free, else with the short id (and a number) added to the name."""
        for candidate in (stem, f"{stem} ({short})"):
            if candidate and self._take(candidate + suffix):
                return candidate + suffix
        number = 2
        while not self._take(f"{stem} ({short}-{number}){suffix}"):
            number += 1
        return f"{stem} ({short}-{number}){suffix}"

    def claim_path(self, path: str) -> bool:
        return self._take(path)

    def _take(self, name: str) -> bool:
        key = unicodedata.normalize("NFC", name).casefold()
        if key in self.taken:
            return False
        self.taken.add(key)
        return True


def _live_entries(db: Database, include_private: bool) -> Iterator[Entry]:
    ids = queries.ids_oldest_first(db, Filters(include_private=include_private))
    for start in range(0, len(ids), _CHUNK):
        yield from queries.load_entries(db, ids[start:start + _CHUNK])


@dataclass
class NoteOut:
    """One note as written: its path in the vault, its text, and its files (path, sha256)."""
    entry_id: str
    path: str
    text: str
    files: list[tuple[str, str]] = field(default_factory=list)


def _folder_names(nodes: list[Node]) -> dict[str, str]:
    """{node id: its folder}: the path of node titles from the root of the tree down to it."""
    by_id = {n.id: n for n in nodes}
    folders: dict[str, str] = {}

    def folder(node_id: str, depth: int = 0) -> str:
        if node_id not in folders:
            node = by_id[node_id]
            name = safe_file_name(node.title) or node.short
            parent = node.parent_id if node.parent_id in by_id and depth < 16 else None
            folders[node_id] = f"{folder(parent, depth + 1)}/{name}" if parent else name
        return folders[node_id]

    for node in nodes:
        folder(node.id)
    return folders


class Layout:
    """Where each entry and each of its files goes in a vault, every path claimed once."""

    def __init__(self, db: Database, entries: list[Entry], *, daily: DailyNames | None = None,
                 fixed: dict[str, str] | None = None, attachments: str = "./" + ATTACHMENTS_FOLDER,
                 occupied: Callable[[str, str], bool] | None = None) -> None:
        """``fixed``: {entry id: path} already decided (a linked vault's files stay where they are);
        ``attachments``: where an entry's new files go, as Obsidian's ``attachmentFolderPath`` says it
        ("./sub": a folder beside the note; "/" or "": the vault's top; "folder": that folder);
        ``occupied(path, sha256)``: whether the folder written into holds other bytes at that path (a
        file of the person's own, which a file of the log's must not be taken for)."""
        self.daily, self.attachments = daily, attachments
        self.occupied = occupied or (lambda path, sha256: False)
        self.book = _NameBook()
        self.links = queries.resolved_links(db)
        self.aliases = {e.id: {title_key(a) for a in e.meta.get("aliases") or [] if isinstance(a, str)}
                        for e in entries}
        folders = _folder_names(node_rows(db, include_deleted=True))
        self.paths: dict[str, str] = {}
        live = {e.id for e in entries}
        for entry_id, path in (fixed or {}).items():
            if entry_id in live and safe_path(path) and self.book.claim_path(path):
                self.paths[entry_id] = path
        for entry in entries:  # notes read from a vault first: they go back where they were
            if entry.id in self.paths:
                continue
            kept = safe_path(_markdown(entry).get("path"))
            if kept and kept.lower().endswith((".md", ".markdown")) and self.book.claim_path(kept):
                self.paths[entry.id] = kept
        for entry in entries:
            if entry.id not in self.paths:
                folder = folders.get(entry.node_id or "", "")
                name = self.book.claim((f"{folder}/" if folder else "") + (safe_file_name(entry.title) or entry.short),
                                       entry.short, ".md")
                self.paths[entry.id] = name
        self.files: dict[tuple[str, str], str] = {}  # (sha256, where it was asked for) -> path given

    def file_path(self, entry: Entry, attachment_id: str, sha256: str, filename: str, short: str) -> str:
        """Where a file goes: where the vault had it (shared by every note holding those bytes
        there), else ``attachments/`` beside the note."""
        wanted = safe_path(_mapping(_markdown(entry), "files").get(attachment_id))
        from_vault = wanted is not None  # a vault's own file: its path there, whatever is there now
        if wanted is None:
            original = Path(filename)
            suffix = safe_file_name(original.suffix)
            wanted = posixpath.join(self._attachment_folder(entry.id),
                                    (safe_file_name(original.stem) or short) + ("." + suffix if suffix else ""))
        given = self.files.get((sha256, wanted))
        if given is None:
            stem, dot, suffix = wanted.rpartition(".") if "." in wanted.rsplit("/", 1)[-1] else (wanted, "", "")
            given = wanted if self.book.claim_path(wanted) else self.book.claim(stem, short, dot + suffix)
            while not from_vault and self.occupied(given, sha256):  # another file of that name is there
                given = self.book.claim(stem, short, dot + suffix)
            self.files[(sha256, wanted)] = given
        return given

    def _attachment_folder(self, entry_id: str) -> str:
        setting = self.attachments.strip()
        note_folder = posixpath.dirname(self.paths[entry_id])
        if setting.startswith("./") or setting == ".":
            folder = posixpath.normpath(posixpath.join(note_folder, setting))
        else:
            folder = setting.strip("/")
        return "" if folder in (".", "") or safe_path(folder) is None else folder

    def render(self, entry: Entry) -> NoteOut:
        path = self.paths[entry.id]
        note = _markdown(entry)
        refs = _mapping(note, "refs")
        by_short, files, unshown = {}, [], []
        body = entry.body
        shown_names = {m.group(1).strip().rsplit("/", 1)[-1].casefold() for m in _EMBED_NAME.finditer(body)}
        referenced = {m.group(2).lower() for m in UPSTACK_REF.finditer(body)}
        for item in entry.attachments:
            if item.sha256 is None:
                continue
            where = self.file_path(entry, item.id, item.sha256, item.filename, item.short)
            files.append((where, item.sha256))
            by_short[item.short.lower()] = (where, item)
            if item.short.lower() not in referenced and where.rsplit("/", 1)[-1].casefold() not in shown_names:
                unshown.append(where)

        def to_path(match: re.Match[str]) -> str:
            found = by_short.get(match.group(2).lower())
            if found is None:
                return match.group(0)
            spelled = refs.get(found[1].id)
            return match.group(1) + (spelled if isinstance(spelled, str) else link_path(path, found[0]))

        body = UPSTACK_REF.sub(to_path, body)
        body = self._rewrite_links(entry.id, body)  # links by title or id name a file Obsidian finds
        if unshown:
            embeds = "\n".join(f"![]({link_path(path, p)})" for p in unshown)
            body = "\n\n".join(part for part in (body.rstrip(), embeds) if part)
        fields = NoteFields(title=entry.title, kind=entry.kind, tags=list(entry.tags),
                            aliases=[a for a in entry.meta.get("aliases") or [] if isinstance(a, str)],
                            occurred_at=entry.occurred_at, created_at=entry.created_at, private=entry.private,
                            starred=entry.starred, project=entry.project, id=entry.id)
        kept = note.get("front") if isinstance(note.get("front"), str) else ("" if note else None)
        front = front_matter(fields, path, kept=kept, inline_tags=find_tags(entry.body),
                             daily=self.daily, attachments=[_relative(path, p) for p in unshown] or None)
        around = note.get("around")
        lead, tail = around if isinstance(around, list) and len(around) == 2 and all(
            isinstance(a, str) and not a.strip() for a in around) else ("\n", "\n")
        text = f"---\n{front}---\n" + (f"{lead}{body}{tail}" if body.strip() else "")
        if note.get("crlf") is True:
            text = text.replace("\n", "\r\n")
        return NoteOut(entry.id, path, ("\ufeff" if note.get("bom") is True else "") + text, files)

    def _rewrite_links(self, entry_id: str, body: str) -> str:
        """[[target]] -> [[File name|target]] where ``target`` is neither the entry's file nor an alias."""
        targets = self.links.get(entry_id, {})

        def swap(match: re.Match[str]) -> str:
            raw, heading, alias = match.group(1), match.group(2) or "", match.group(3)
            target = targets.get(raw.strip(), "")
            target_path = self.paths.get(target)
            if target_path is None or title_key(raw) in self.aliases.get(target, set()):
                return match.group(0)
            stem = target_path.rsplit(".", 1)[0]
            name = stem.rsplit("/", 1)[-1]
            if raw.strip().casefold() in (name.casefold(), stem.casefold()):
                return match.group(0)
            return f"[[{name}{heading}|{raw.strip() if alias is None else alias}]]"

        return WIKILINK.sub(swap, body)


def _markdown(entry: Entry) -> dict[str, Any]:
    note = entry.meta.get("markdown")
    return note if isinstance(note, dict) else {}


def _mapping(note: dict[str, Any], key: str) -> dict[str, Any]:
    value = note.get(key)
    return value if isinstance(value, dict) else {}


def _make_dirs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def panel_pictures(ws: Workspace, text: str, note_path: str, *, shared_only: bool = True
                   ) -> tuple[str, dict[str, bytes]]:
    """``text`` with each embedded chart panel replaced by a PNG beside the note (``attachments/panel
    ID.png``), drawn from what the exporting user may see (``shared_only``: and no run whose result is
    private, for an export meant for others); a panel they may not see, or no matplotlib, leaves the
    caption as plain text. Returns the text and {vault path: PNG bytes}."""
    from upstack.errors import UpstackError
    from upstack.services import panels

    pictures: dict[str, bytes] = {}

    def picture(match: re.Match[str]) -> str:
        caption, ref = match.group(1), match.group(2)
        where = posixpath.join(posixpath.dirname(note_path), ATTACHMENTS_FOLDER, f"panel {ref.lower()}.png")
        if where not in pictures:
            try:
                pictures[where] = panels.png(ws, ref, shared_only=shared_only)
            except UpstackError:
                return f"*(chart panel {caption or ref}: not available here)*"
        return f"![{caption}]({link_path(note_path, where)})"

    return PANEL_REF.sub(picture, text), pictures


def export_markdown(ws: Workspace, directory: str | Path, include_private: bool = False, *,
                    progress: Progress | None = None) -> int:
    """Write every live entry as a note in ``directory``; return how many.

    Private entries only with ``include_private``; deleted and purged ones never.
    Each file is written atomically; existing files of the same name are replaced.
    """
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise BadInput(f"cannot export to {root}: it is not a folder")
    db = ws.store().db
    entries = list(_live_entries(db, include_private))
    layout = Layout(db, entries)
    # With private entries, its owner's alone to read, as the workspace is; else for sharing.
    folders, mode = (make_private_dirs, 0o600) if include_private else (_make_dirs, 0o666)
    folders(root)
    written: set[str] = set()
    try:
        for done, entry in enumerate(entries, 1):
            out = layout.render(entry)
            text, pictures = panel_pictures(ws, out.text, out.path, shared_only=not include_private)
            out = NoteOut(out.entry_id, out.path, text, out.files)
            for where, picture in pictures.items():
                folders((root / where).parent)
                write_atomically(root / where, picture, permissions=mode, sync=False)
            for where in (out.path, *(w for w, _ in out.files)):
                link = linked_part(root, where)
                if link is not None:
                    raise BadInput(f"cannot export {where} into {root}: the folder {link} is a symbolic link "
                                   "(upstack never writes through one)")
            for where, sha in out.files:
                if where not in written:
                    folders((root / where).parent)
                    write_atomically(root / where, ws.blobs.read(sha), permissions=mode, sync=False)
                    written.add(where)
            folders((root / out.path).parent)
            write_atomically(root / out.path, out.text, permissions=mode, sync=False)
            if progress:
                progress(done, len(entries))
        sync_all()  # once for thousands of files: each one is whole already (written aside, then renamed)
    except OSError as exc:
        raise BadInput(f"cannot write to {root}: {exc.strerror or exc}") from None
    return len(entries)
