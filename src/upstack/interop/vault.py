"""Markdown folders in: any folder of notes (an Obsidian vault, or an export) into the log.

Each note becomes an entry: YAML front matter gives its fields (an export's ids
are kept), #tags and wikilinks are read from the body, and embedded files become
attachments. Files are found the way Obsidian finds them; see :func:`import_markdown`.

Example:
    >>> import_markdown(ws, Path("vault")).imported    # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from upstack.domain.text import KINDS, clean_text, title_key, trim_block
from upstack.errors import BadInput
from upstack.ids import id_key, looks_like_full_id, new_id
from upstack.interop.common import ImportedEntry, ImportResult, Problem, commit, source_key
from upstack.interop.markdown import WIKILINK, Progress
from upstack.timeutil import parse_when, to_iso
from upstack.workspace import Workspace

__all__ = ["import_markdown"]

NOTE_SUFFIXES = (".md", ".markdown")
_WIKI_EMBED = re.compile(r"!\[\[([^\[\]\n]+)\]\]")
_MD_EMBED = re.compile(r"!\[[^\]\n]*\]\(\s*(<[^>\n]*>|[^)\s]+)(?:\s+[\"'][^\n]*?[\"'])?\s*\)")
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|`[^`\n]+`", re.M | re.S)


@dataclass
class _Note:
    path: Path
    rel: str  # vault-relative, with forward slashes
    text: str = ""
    body: str = ""
    body_offset: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    front_lines: list[str] = field(default_factory=list)
    title: str = ""
    id: str | None = None
    from_upstack: bool = False  # its id came from an upstack export
    readable: bool = False
    problems: list[Problem] = field(default_factory=list)

    def key_line(self, key: str) -> int:
        pattern = re.compile(rf"^{re.escape(key)}\s*:")
        for number, line in enumerate(self.front_lines, 2):
            if pattern.match(line):
                return number
        return 1

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(f"{self.rel}:{line}", message))


class _Vault:
    """The files of a folder, found the way Obsidian finds them: by path or by name.

    A symbolic link to a note or a folder is never followed. One that leads outside would
    import whatever it points at (a file anywhere on this machine); one that stays inside
    points at a note or folder that is imported under its own path already, so following
    it would only import the same notes twice. Embedded files may be links, but only to
    files inside the folder (see ``inside``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.notes: list[Path] = []
        self.by_name: dict[str, list[Path]] = {}
        self.links_out: list[str] = []  # vault-relative names of skipped links, folders with "/"
        self.links_in: list[str] = []
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = [d for d in sorted(subfolders) if not d.startswith(".")
                             and not self._skip_link(Path(folder) / d, "/")]
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = Path(folder) / name
                self.by_name.setdefault(name.casefold(), []).append(path)
                if path.suffix.lower() in NOTE_SUFFIXES and not self._skip_link(path):
                    self.notes.append(path)

    def _skip_link(self, path: Path, suffix: str = "") -> bool:
        """Whether ``path`` is a symbolic link (then it is noted as skipped)."""
        if not path.is_symlink():
            return False
        leads_out = not self.inside(path.resolve())
        (self.links_out if leads_out else self.links_in).append(self.rel(path) + suffix)
        return True

    def link_warnings(self) -> list[str]:
        """One line for each kind of skipped link, naming them."""
        lines = []
        if self.links_out:
            lines.append(f"skipped {_links(self.links_out)} leading outside the folder "
                         f"(never followed): {', '.join(sorted(self.links_out))}")
        if self.links_in:
            lines.append(f"skipped {_links(self.links_in)} to notes inside the folder (imported "
                         f"under their own paths): {', '.join(sorted(self.links_in))}")
        return lines

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def find(self, target: str, near: Path) -> Path | None:
        """A file for an embed: relative to the note, to the vault, then by name."""
        for candidate in (near.parent / target, self.root / target.lstrip("/")):
            if candidate.is_file():
                return candidate.resolve()
        if "/" in target:
            return None
        found = self.by_name.get(target.casefold(), [])
        best = min(found, key=lambda p: (p.parent != near.parent, len(p.parts), p), default=None)
        return best.resolve() if best else None

    def inside(self, path: Path) -> bool:
        return path.is_relative_to(self.root)


def _links(names: list[str]) -> str:
    return f"{len(names)} symbolic link{'s' if len(names) != 1 else ''}"


def _read_note(vault: _Vault, path: Path) -> _Note:
    note = _Note(path, vault.rel(path), title=path.stem)
    try:
        data = path.read_bytes()
    except OSError as exc:
        note.problem(1, f"cannot read: {exc.strerror}")
        return note
    try:
        # Text as upstack keeps it (domain.text.clean_text): a NUL is no reason to refuse a note.
        note.text = clean_text(data.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n"))
    except UnicodeDecodeError as exc:
        note.problem(data.count(b"\n", 0, exc.start) + 1,
                     f"not UTF-8 text (byte {exc.start})")
        return note
    note.readable = True
    lines = note.text.split("\n")
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")),
               None) if lines[0].rstrip() == "---" else None
    if end is not None:
        note.front_lines = lines[1:end]
        note.body_offset = sum(len(line) + 1 for line in lines[:end + 1])
        try:
            meta = yaml.safe_load("\n".join(note.front_lines))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            note.problem(mark.line + 2 if mark else 1,
                         f"bad YAML front matter: {getattr(exc, 'problem', None) or exc}")
            meta = {}
        if meta is not None and not isinstance(meta, dict):
            note.problem(2, "front matter is not a list of 'key: value' lines")
            meta = {}
        note.meta = meta or {}
    note.body = note.text[note.body_offset:]
    title = note.meta.get("title")
    note.title = " ".join(str(title).split()) if title not in (None, "") else path.stem
    raw_id = str(note.meta.get("id") or "").strip()
    if looks_like_full_id(raw_id):
        note.id, note.from_upstack = raw_id.upper(), True
    return note


def _when(note: _Note, key: str) -> str | None:
    value = note.meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return to_iso(datetime.combine(value, time()))
    try:
        return parse_when(str(value), what=key if key == "date" else f"{key} date")
    except BadInput as exc:
        note.problem(note.key_line(key), str(exc))
        return None


def _flag(note: _Note, key: str) -> bool:
    value = note.meta.get(key, False)
    if isinstance(value, bool) or value is None:
        return bool(value)
    if str(value).strip().lower() in ("true", "yes", "false", "no"):
        return str(value).strip().lower() in ("true", "yes")
    note.problem(note.key_line(key), f"{key} must be true or false, not {value!r}")
    return False


def _tags(note: _Note) -> list[str]:
    value = note.meta.get("tags", note.meta.get("tag"))
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value or ""))
    return [str(t).strip().lstrip("#") for t in items if t is not None and str(t).strip()]


def _mask_code(text: str) -> str:
    """Code spans and fences blanked out (same offsets), so their [[...]] are ignored."""
    return _CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _embeds(note: _Note, vault: _Vault, declared: set[Path]) -> list[Path]:
    """Files embedded in the note (plus those its front matter lists), problems noted."""
    found: dict[Path, None] = {}
    masked = _mask_code(note.text)
    refs = [(m.group(1).split("|")[0].split("#")[0].strip(), m.start())
            for m in _WIKI_EMBED.finditer(masked, note.body_offset)]
    refs += [(unquote(m.group(1).strip("<>")), m.start())
             for m in _MD_EMBED.finditer(masked, note.body_offset)
             if not _URL_SCHEME.match(m.group(1).strip("<>"))]
    listed = note.meta.get("attachments")
    refs += [(str(item), -1) for item in (listed if isinstance(listed, list) else [])]
    for target, offset in refs:
        line = note.text.count("\n", 0, offset) + 1 if offset >= 0 else \
            note.key_line("attachments")
        path = vault.find(target, note.path) if target else None
        if path is not None and path.suffix.lower() in NOTE_SUFFIXES and path not in declared:
            continue  # a note embedded in a note, not an attachment
        if path is None:
            if offset >= 0 and Path(target).suffix.lower() in ("", *NOTE_SUFFIXES):
                continue  # an embed of a note not written yet
            note.problem(line, f"embedded file {target!r} does not exist")
        elif not vault.inside(path):
            note.problem(line, f"embedded file {target!r} is outside the folder")
        else:
            found.setdefault(path)
    return list(found)


def _strip_exported_embeds(body: str, files: list[Path]) -> str:
    """Drop the trailing ![[file]] lines an upstack export appends for attachments."""
    names = {p.name.casefold() for p in files}
    lines = body.rstrip().split("\n")
    while lines and (m := _WIKI_EMBED.fullmatch(lines[-1].strip())) \
            and m.group(1).casefold() in names:
        lines.pop()
    return "\n".join(lines).rstrip()


def _refers_to(text: str, note: _Note) -> bool:
    """Whether [[text]] would find this note by its title or by its id."""
    text = text.strip()
    if title_key(text) == title_key(note.title):
        return True
    return bool(note.id) and (text.upper() == note.id or (
        4 <= len(text) <= 16 and text.isalnum() and id_key(note.id or "").startswith(text.lower())))


class _Linker:
    """Rewrites vault links so the store resolves them (it finds [[Title]] or [[id]])."""

    def __init__(self, notes: list[_Note]) -> None:
        self.by_key: dict[str, _Note] = {}
        for note in notes:
            self.by_key.setdefault(note.rel.rsplit(".", 1)[0].casefold(), note)
        for note in notes:
            self.by_key.setdefault(note.path.stem.casefold(), note)
        self.targeted_by_id: set[str] = set()

    def rewrite(self, body: str) -> str:
        masked = _mask_code(body)
        out, last = [], 0
        for match in WIKILINK.finditer(masked):
            raw = body[match.start(1):match.end(1)]
            heading = body[match.start(2):match.end(2)] if match.group(2) else ""
            alias = body[match.start(3):match.end(3)] if match.group(3) is not None else None
            out += [body[last:match.start()], self._link(raw, heading, alias)
                    or body[match.start():match.end()]]
            last = match.end()
        return "".join(out) + body[last:]

    def _link(self, raw: str, heading: str, alias: str | None) -> str | None:
        note = self.by_key.get(raw.strip().removesuffix(".md").casefold())
        if note is None:
            return None
        if note.from_upstack and alias is not None and _refers_to(alias, note):
            if title_key(alias) != title_key(note.title):
                self.targeted_by_id.add(note.rel)
            return f"[[{alias}{heading}]]"  # undoes the export's [[File name|text]]
        if title_key(raw) == title_key(note.title):
            return None
        if re.search(r"[\[\]|#\n]", note.title):  # cannot be written in a wikilink
            note.id = note.id or new_id()
            self.targeted_by_id.add(note.rel)
            return f"[[{note.id}{heading}|{raw if alias is None else alias}]]"
        return f"[[{note.title}{heading}|{raw if alias is None else alias}]]"


def _to_entry(note: _Note, vault: _Vault, linker: _Linker, declared: set[Path]) -> ImportedEntry:
    files = _embeds(note, vault, declared)
    kind = str(note.meta.get("kind") or "note")
    if kind not in KINDS:
        note.problem(note.key_line("kind"),
                     f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    occurred = _when(note, "date")
    created = _when(note, "created")
    private, starred = _flag(note, "private"), _flag(note, "starred")
    if occurred is None:
        occurred = created or to_iso(datetime.fromtimestamp(note.path.stat().st_mtime, UTC))
    body = trim_block(note.body)  # an indented first line (code, a nested list) stays so
    if isinstance(note.meta.get("attachments"), list):
        body = _strip_exported_embeds(body, files)
    elif not note.from_upstack:
        first, _, rest = body.partition("\n")
        if first.strip() == f"# {note.title}":
            body = trim_block(rest)
    project = note.meta.get("project")
    return ImportedEntry(
        title=note.title, body=linker.rewrite(body), occurred_at=occurred,
        source=source_key("markdown", note.rel, note.text), kind=kind, tags=_tags(note),
        project=str(project).strip() if project not in (None, "") else None,
        private=private, starred=starred, files=files, id=note.id, created_at=created,
        meta={"markdown_file": note.rel}, name=note.rel)


def import_markdown(ws: Workspace, directory: str | Path, skip_bad: bool = False,
                    progress: Progress | None = None) -> ImportResult:
    """Import every note (``*.md``) under ``directory``, skipping hidden folders.

    Front matter may give title, tags, date or created, kind, project, private,
    starred and id; embedded files become attachments; nothing is written if any
    note has a problem, unless ``skip_bad`` (then the bad notes are skipped).
    Symbolic links to notes and folders are skipped, and listed in the warnings.
    """
    root = Path(directory)
    if not root.is_dir():
        raise BadInput(f"cannot import {root}: no such folder")
    vault = _Vault(root)
    notes = [_read_note(vault, path) for path in vault.notes]
    declared: set[Path] = set()
    for note in notes:
        listed = note.meta.get("attachments")
        for item in listed if isinstance(listed, list) else []:
            found = vault.find(str(item), note.path)
            if found is not None:
                declared.add(found)
    notes = [n for n in notes if n.path not in declared]
    warnings = []
    seen_ids: dict[str, str] = {}
    for note in notes:
        if note.id and seen_ids.setdefault(note.id, note.rel) != note.rel:
            warnings.append(f"{note.rel}: id {note.id} is also in {seen_ids[note.id]}; "
                            "imported as a new entry")
            note.id, note.from_upstack = None, False
    linker = _Linker([n for n in notes if n.readable])
    items = {n.rel: _to_entry(n, vault, linker, declared) for n in notes if n.readable}
    for note in notes:  # ids given to link targets while rewriting later notes
        if note.rel in items:
            items[note.rel].id = note.id
    problems = [p for note in notes for p in note.problems]
    good = [items[n.rel] for n in notes if n.rel in items and not n.problems]
    good.sort(key=lambda item: item.name not in linker.targeted_by_id)  # id targets first
    result = commit(ws, good, problems, skip_bad=skip_bad, progress=progress)
    result.warnings += vault.link_warnings() + warnings
    return result
