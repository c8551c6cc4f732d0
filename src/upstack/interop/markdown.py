"""Markdown folders out: the log as an Obsidian-readable vault.

Export writes one note per live entry, named after its title, with YAML front
matter, links as wikilinks to note file names, and attachments in
``attachments/`` embedded as ``![[file]]``. Reading such folders back (or any
Obsidian vault) is :mod:`upstack.interop.vault`, which shares this module's
wikilink syntax.

Example:
    >>> export_markdown(ws, Path("vault"))            # doctest: +SKIP
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from upstack.domain.entry import Entry
from upstack.domain.filters import Filters
from upstack.errors import BadInput
from upstack.files import write_atomically
from upstack.store import queries
from upstack.store.db import Database
from upstack.workspace import Workspace

__all__ = ["ATTACHMENTS_FOLDER", "Progress", "WIKILINK", "export_markdown", "safe_file_name"]

Progress = Callable[[int, int], None]

ATTACHMENTS_FOLDER = "attachments"
# Mirrors domain.text's link syntax, with groups: target, #heading, |alias; not ![[embeds]].
WIKILINK = re.compile(r"(?<!!)\[\[([^\[\]|#\n]+)(#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")
# Characters Obsidian or some file system refuses in a file name or a wikilink.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f]')
_NAME_BYTES = 150
_CHUNK = 500


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


class _NameBook:
    """Claims file names once per vault, ignoring case (Obsidian and macOS do too)."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, stem: str, short: str, suffix: str) -> str:
        for candidate in (stem, f"{stem} ({short})"):
            if candidate and self._take(candidate + suffix):
                return candidate + suffix
        number = 2
        while not self._take(f"{stem} ({short}-{number}){suffix}"):
            number += 1
        return f"{stem} ({short}-{number}){suffix}"

    def _take(self, name: str) -> bool:
        key = unicodedata.normalize("NFC", name).casefold()
        if key in self.taken:
            return False
        self.taken.add(key)
        return True


def _attachment_name(book: _NameBook, filename: str, short: str) -> str:
    original = Path(filename)
    suffix = safe_file_name(original.suffix)
    return book.claim(safe_file_name(original.stem) or short, short,
                      "." + suffix if suffix else "")


def _live_entries(db: Database, include_private: bool) -> Iterator[Entry]:
    ids = queries.ids_oldest_first(db, Filters(include_private=include_private))
    for start in range(0, len(ids), _CHUNK):
        yield from queries.load_entries(db, ids[start:start + _CHUNK])


def _rewrite_links(body: str, targets: dict[str, str], names: dict[str, str]) -> str:
    """[[target]] -> [[Note name|target]] for links to exported entries."""
    def swap(match: re.Match[str]) -> str:
        raw, heading, alias = match.group(1), match.group(2) or "", match.group(3)
        name = names.get(targets.get(raw.strip(), ""))
        if name is None or name == raw:
            return match.group(0)
        return f"[[{name}{heading}|{raw.strip() if alias is None else alias}]]"

    return WIKILINK.sub(swap, body)


def _render_note(entry: Entry, body: str, files: list[str]) -> str:
    meta: dict[str, Any] = {
        "id": entry.id, "short": entry.short, "title": entry.title, "kind": entry.kind,
        "tags": list(entry.tags)}
    if entry.project:
        meta["project"] = entry.project
    meta.update(date=entry.occurred_at, created=entry.created_at, updated=entry.updated_at)
    if entry.private:
        meta["private"] = True
    if entry.starred:
        meta["starred"] = True
    meta["attachments"] = [f"{ATTACHMENTS_FOLDER}/{name}" for name in files]
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    content = "\n\n".join(part for part in (
        body, "\n".join(f"![[{name}]]" for name in files)) if part)
    return f"---\n{front}---\n" + (f"\n{content}\n" if content else "")


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
    book = _NameBook()
    names = {e.id: book.claim(safe_file_name(e.title) or e.short, e.short, ".md")[:-3]
             for e in entries}
    links = queries.resolved_links(db)
    root.mkdir(parents=True, exist_ok=True)
    written: dict[tuple[str, str], str] = {}
    for done, entry in enumerate(entries, 1):
        files = []
        for item in entry.attachments:
            if item.sha256 is None:
                continue
            name = written.get((item.sha256, item.filename))
            if name is None:
                name = _attachment_name(book, item.filename, item.short)
                (root / ATTACHMENTS_FOLDER).mkdir(exist_ok=True)
                write_atomically(root / ATTACHMENTS_FOLDER / name, ws.blobs.read(item.sha256))
                written[(item.sha256, item.filename)] = name
            files.append(name)
        body = _rewrite_links(entry.body, links.get(entry.id, {}), names)
        text = _render_note(entry, body, files)
        write_atomically(root / f"{names[entry.id]}.md", text)
        if progress:
            progress(done, len(entries))
    return len(entries)
