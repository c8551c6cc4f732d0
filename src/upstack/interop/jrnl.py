"""Import a jrnl journal: jrnl's own journal file, or its JSON export (``jrnl --format json``).

Which one a file is, is read from its content, not its name. The journal file is the plain
text jrnl writes (``[2024-03-02 02:30:00 PM] Title *`` then the body; see interop/jrnl_text.py),
its dates in the journal's ``timeformat``: the one given, else jrnl's config's, else jrnl's
default (interop/jrnl_config.py). The export is ``{"tags": {...}, "entries": [{"title",
"body", "date": "YYYY-MM-DD", "time": "HH:MM", "tags": ["#x", "@y"], "starred": bool}, ...]}``.
Both hold times in the writer's local wall-clock time. Every bad entry is reported with the
line where it starts. An entry's source key is made of its date to the minute, title and
body as the export holds them, so the journal file and an export of it are the same entries.

Example:
    >>> import_jrnl(ws, Path("journal.txt")).imported   # doctest: +SKIP
    12
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from upstack.domain.text import TITLE_LIMIT, split_title, trim_block
from upstack.errors import BadInput
from upstack.interop.common import ImportedEntry, ImportResult, Problem, commit, source_key
from upstack.interop.jrnl_config import jrnl_settings
from upstack.interop.jrnl_text import check_timeformat, read_text_journal
from upstack.timeutil import to_iso
from upstack.workspace import Workspace

__all__ = ["JrnlRead", "import_jrnl", "read_jrnl"]

_TAG_SYMBOLS = "#@"
_WHITESPACE = " \t\n\r"


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _entry_offsets(text: str) -> Iterator[tuple[int, Any]]:
    """(offset, value) of each element of the top-level "entries" array.

    Walks valid JSON (the caller has parsed it once already) with raw_decode,
    so each element's position in the file is known.
    """
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if text[pos:pos + 1] != "{":
        return
    pos = _skip_space(text, pos + 1)
    while text[pos] != "}":
        key, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, _skip_space(text, pos) + 1)  # past the ':'
        if key == "entries" and text[pos] == "[":
            pos = _skip_space(text, pos + 1)
            while text[pos] != "]":
                start = pos
                value, pos = decoder.raw_decode(text, pos)
                yield start, value
                pos = _skip_space(text, pos)
                pos = _skip_space(text, pos + 1) if text[pos] == "," else pos
            pos += 1
        else:
            _, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        pos = _skip_space(text, pos + 1) if text[pos] == "," else pos


def _built(title: str, body: str, moment: datetime, key_time: str, tags: Iterable[str], starred: bool,
           meta: dict[str, Any]) -> tuple[ImportedEntry | None, str | None]:
    """One jrnl entry as upstack keeps it, or the reason it cannot be imported.

    ``key_time`` is the date and time as the export writes them (``YYYY-MM-DD HH:MM``).
    """
    if not title.strip() and not body.strip():
        return None, "the entry is empty"
    title, body = title.strip(), trim_block(body)  # an indented first line (code, a nested list) stays so
    if not title:
        title, body = split_title(body)
    elif len(title) > TITLE_LIMIT:
        title, rest = split_title(title)
        body = "\n\n".join(part for part in (rest, body) if part)
    return ImportedEntry(
        title=title, body=body, occurred_at=to_iso(moment),  # naive: local wall-clock time
        # Keyed on the body as upstack read it before it kept the first line's indentation, so that
        # a file imported then is not imported twice now.
        source=source_key("jrnl", key_time, title, body.strip()),
        tags=sorted(set(tags) - {""}), starred=starred, meta=meta), None


def _entry(raw: Any) -> tuple[ImportedEntry | None, str | None]:
    """One entry of a JSON export as an ImportedEntry, or the reason it cannot be imported."""
    if not isinstance(raw, dict):
        return None, "an entry must be a JSON object"
    title, body = raw.get("title", ""), raw.get("body", "")
    if not isinstance(title, str) or not isinstance(body, str):
        return None, "title and body must be text"
    day, clock = raw.get("date"), raw.get("time", "00:00")
    try:
        moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return None, f"cannot read date {day!r} and time {clock!r} (want YYYY-MM-DD and HH:MM)"
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None, "tags must be a list of strings"
    starred = raw.get("starred", False)
    if not isinstance(starred, bool):
        return None, f"starred must be true or false, not {starred!r}"
    meta = {"jrnl": {k: raw[k] for k in ("uuid", "creator") if k in raw}}
    return _built(title, body, moment, f"{day} {clock}", (t.lstrip(_TAG_SYMBOLS) for t in tags), starred,
                  meta if meta["jrnl"] else {})


class JrnlRead(NamedTuple):
    """What a jrnl file holds: its entries, the problems with their places, and warnings."""

    items: list[ImportedEntry]
    problems: list[Problem]
    warnings: list[str]


def _text(path: Path) -> str:
    """The file's text, after telling an encrypted journal or a file that is not text."""
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"cannot import {path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {exc.strerror}") from None
    decrypt = ("decrypt a copy with jrnl first (`jrnl --decrypt plain.txt`, or `jrnl NAME --decrypt "
               "plain.txt` for a named journal) and import plain.txt; nothing was imported")
    if data.startswith((b"JRNLv3", b"gAAAAA")):  # jrnl's encryption: v3's magic, v2's Fernet token
        raise BadInput(f"{name} is an encrypted jrnl journal: {decrypt}")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        if _binary(data):
            if len(data) % 16 == 0:  # jrnl 1.x: AES-CBC, a 16-byte IV and whole blocks
                raise BadInput(f"{name} is not text: if it is an encrypted jrnl 1.x journal, {decrypt}") from None
            raise BadInput(f"{name} is not text: {_neither()}") from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(f"{name}:{line}: not UTF-8 text (byte {exc.start}); nothing was imported") from None


def _neither(dates: str = "") -> str:
    return (f"upstack reads jrnl's own journal file (each entry starts with a line `[DATE] title`{dates}) or "
            "its JSON export (`jrnl --format json`); nothing was imported")


def _binary(data: bytes) -> bool:
    controls = sum(1 for byte in data[:4096] if byte < 32 and byte not in b"\t\n\r\f")
    return b"\0" in data or controls > len(data[:4096]) / 20


def _is_json(text: str) -> bool:
    start = text.lstrip()[:1]
    if start == "{":
        return True
    if start != "[":  # a journal file starts with "[DATE] "; a JSON array is no jrnl export, but JSON
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _read_json(text: str, name: str) -> tuple[list[ImportedEntry], list[Problem]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{name}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno}); "
                       "nothing was imported") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise BadInput(f"{name}:1: not a jrnl JSON export (no \"entries\" list; "
                       "make one with `jrnl --format json`); nothing was imported")
    items: list[ImportedEntry] = []
    problems = []
    line, counted_to = 1, 0
    for offset, raw in _entry_offsets(text):
        line += text.count("\n", counted_to, offset)  # counted as we go: linear, not quadratic
        counted_to = offset
        item, reason = _entry(raw)
        if item is None:
            problems.append(Problem(f"{name}:{line}", reason or "bad entry"))
        else:
            item.name = f"{name}:{line}"
            items.append(item)
    return items, problems


def _read_text(text: str, path: Path, timeformat: str | None) -> JrnlRead:
    name = path.name
    settings = jrnl_settings(path, timeformat)
    check_timeformat(settings.timeformat, settings.origin)
    journal = read_text_journal(text, name, settings.timeformat, settings.tagsymbols, settings.origin)
    if journal is None:
        raise BadInput(f"{name} is not a jrnl journal: "
                       + _neither(f", DATE in timeformat {settings.timeformat!r}, {settings.origin}"))
    items: list[ImportedEntry] = []
    problems = [Problem(f"{name}:{line}", message) for line, message in journal.problems]
    for entry in journal.entries:
        item, reason = _built(entry.title, entry.body, entry.moment, entry.moment.strftime("%Y-%m-%d %H:%M"),
                              entry.tags, entry.starred, {})
        if item is None:
            problems.append(Problem(f"{name}:{entry.line}", reason or "bad entry"))
        else:
            item.name = f"{name}:{entry.line}"
            items.append(item)
    problems.sort(key=lambda p: int(p.where.rpartition(":")[2]))
    return JrnlRead(items, problems, list(settings.warnings))


def read_jrnl(path: Path, timeformat: str | None = None) -> JrnlRead:
    """Every entry of a jrnl journal file or JSON export, and every problem with its line number.

    ``timeformat`` is for a journal file (jrnl's config's, or jrnl's default, if None).

    Raises:
        BadInput: the file is missing, encrypted, not UTF-8, or in neither of jrnl's formats.
    """
    text = _text(path)
    if not text.strip():
        return JrnlRead([], [], [])  # jrnl makes a new journal as an empty file
    if _is_json(text):
        items, problems = _read_json(text, path.name)
        ignored = [f"--timeformat is for jrnl's own journal file; {path.name} is its JSON export, whose "
                   "dates are always YYYY-MM-DD and HH:MM"] if timeformat else []
        read = JrnlRead(items, problems, ignored)
    else:
        read = _read_text(text, path, timeformat)
    unique: dict[str, ImportedEntry] = {}
    for item in read.items:
        unique.setdefault(item.source, item)  # an exact repeat is one entry
    return read._replace(items=list(unique.values()))


def import_jrnl(ws: Workspace, path: str | Path, skip_bad: bool = False,
                progress: Callable[[int, int], None] | None = None,
                timeformat: str | None = None) -> ImportResult:
    """Import a jrnl journal file or JSON export: all entries, or none if any is bad (unless skip_bad).

    Entries already imported (same date and time to the minute, title and body), from either
    form of the same journal, are not duplicated.
    """
    items, problems, warnings = read_jrnl(Path(path), timeformat)
    result = commit(ws, items, problems, skip_bad=skip_bad, progress=progress)
    result.warnings[:0] = warnings
    return result
