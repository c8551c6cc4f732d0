"""Import a jrnl journal from its JSON export (``jrnl --format json``).

jrnl writes ``{"tags": {...}, "entries": [{"title", "body", "date": "YYYY-MM-DD",
"time": "HH:MM", "tags": ["#x", "@y"], "starred": bool}, ...]}``, with times in
the writer's local wall-clock time. Every bad entry is reported with the line
where it starts.

Example:
    >>> import_jrnl(ws, Path("journal.json")).imported   # doctest: +SKIP
    12
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from upstack.domain.text import TITLE_LIMIT, split_title, trim_block
from upstack.errors import BadInput
from upstack.interop.common import ImportedEntry, ImportResult, Problem, commit, source_key
from upstack.timeutil import to_iso
from upstack.workspace import Workspace

__all__ = ["import_jrnl", "read_jrnl"]

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


def _entry(raw: Any) -> tuple[ImportedEntry | None, str | None]:
    """One jrnl entry as an ImportedEntry, or the reason it cannot be imported."""
    if not isinstance(raw, dict):
        return None, "an entry must be a JSON object"
    title, body = raw.get("title", ""), raw.get("body", "")
    if not isinstance(title, str) or not isinstance(body, str):
        return None, "title and body must be text"
    if not title.strip() and not body.strip():
        return None, "the entry is empty"
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
    title, body = title.strip(), trim_block(body)  # an indented first line (code, a nested list) stays so
    if not title:
        title, body = split_title(body)
    elif len(title) > TITLE_LIMIT:
        title, rest = split_title(title)
        body = "\n\n".join(part for part in (rest, body) if part)
    meta = {"jrnl": {k: raw[k] for k in ("uuid", "creator") if k in raw}}
    return ImportedEntry(
        title=title, body=body, occurred_at=to_iso(moment),  # naive: local wall-clock time
        # Keyed on the body as upstack read it before it kept the first line's indentation, so that
        # a file imported then is not imported twice now.
        source=source_key("jrnl", f"{day} {clock}", title, body.strip()),
        tags=sorted({t.lstrip(_TAG_SYMBOLS) for t in tags} - {""}), starred=starred,
        meta=meta if meta["jrnl"] else {}), None


def read_jrnl(path: Path) -> tuple[list[ImportedEntry], list[Problem]]:
    """Every entry of a jrnl JSON export, and every problem with its line number.

    Raises:
        BadInput: the file is missing, not UTF-8, or not jrnl's JSON at all.
    """
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"cannot import {path}: no such file") from None
    except OSError as exc:
        raise BadInput(f"cannot import {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(f"{name}:{line}: not UTF-8 text (byte {exc.start}); "
                       "nothing was imported") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{name}:{exc.lineno}: not valid JSON: {exc.msg} (column {exc.colno}); "
                       "nothing was imported") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise BadInput(f"{name}:1: not a jrnl JSON export (no \"entries\" list; "
                       "make one with `jrnl --format json`); nothing was imported")
    items: dict[str, ImportedEntry] = {}
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
            items.setdefault(item.source, item)  # an exact repeat is one entry
    return list(items.values()), problems


def import_jrnl(ws: Workspace, path: str | Path, skip_bad: bool = False,
                progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Import a jrnl JSON export: all entries, or none if any is bad (unless skip_bad).

    Entries already imported (same date, time, title and body) are not duplicated.
    """
    items, problems = read_jrnl(Path(path))
    return commit(ws, items, problems, skip_bad=skip_bad, progress=progress)
