"""`upstack practice import`: an attempt history from a CSV file, all of it or nothing.

Every row is checked before anything is written; the first bad one is named by its line and
nothing is imported. The rows that pass are written in one write (applied
whole or not at all). A row the reader's log holds already is skipped, so importing the same file
again adds nothing twice.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain import practice as rules
from upstack.errors import BadInput, UpstackError
from upstack.services.practice import OP, check_happened, records
from upstack.timeutil import parse_moment
from upstack.workspace import Workspace

__all__ = ["FIELDS", "REQUIRED", "ImportResult", "parse_mapping", "decode", "import_csv"]

FIELDS = ("problem", "at", "minutes", "outcome", "difficulty", "topics", "title", "url", "first")
REQUIRED = ("problem", "at", "minutes", "outcome")
MAX_BYTES = 50 * 1024 * 1024  # a practice history is kilobytes; beyond this it is not one
_OUTCOMES = {**{word: "unaided" for word in ("unaided", "solved", "yes", "y", "true", "1", "ok", "pass")},
             **{word: "hints" for word in ("hints", "hint", "hinted", "partial")},
             **{word: "failed" for word in ("failed", "fail", "unsolved", "no", "n", "false", "0")}}
_DECIMAL_COMMA = re.compile(r"\d+,\d+")
_FIRST = {**{word: True for word in ("first", "yes", "y", "true", "1")},
          **{word: False for word in ("review", "no", "n", "false", "0")}}


@dataclass(frozen=True)
class ImportResult:
    imported: int
    already: int
    encoding: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parse_mapping(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--map FIELD=COLUMN`` options as {field: column}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field = field.strip().lower()
        if not sep or not column.strip():
            raise BadInput(f"--map {pair!r}: give FIELD=COLUMN, e.g. --map minutes=time_taken")
        if field not in FIELDS:
            raise BadInput(f"--map {pair!r}: {field!r} is not a field (fields: {', '.join(FIELDS)})")
        mapping[field] = column.strip()
    return mapping


def decode(data: bytes, name: str) -> tuple[str, str]:
    """The file's text and its encoding: a byte-order mark (UTF-8, UTF-16) if there is one, then
    UTF-8, then what charset-normalizer makes of it. Windows' cp1252 (what Excel writes on a Western
    machine) wins when it reads the bytes as well as the best guess: on a few lines of text
    charset-normalizer cannot tell it from its cousins (mac_latin2, cp1250), which would turn
    "naïve" into "naďve" without a word."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                raise BadInput(f"{name} starts as {encoding} but is not: save it as UTF-8 and import again") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # ~40 ms to import: only for a file that is not UTF-8

    matches = from_bytes(data)
    best = matches.best()
    if best is None or best.encoding is None:
        raise BadInput(f"cannot tell what encoding {name} is in: save it as UTF-8 and import again")
    if any(match.chaos <= best.chaos and "cp1252" in match.could_be_from_charset for match in matches):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), best.encoding


def import_csv(ws: Workspace, path: Path, mapping: dict[str, str] | None = None) -> ImportResult:
    """Import attempts from a CSV file (a header row, then one attempt a row); refused whole, with
    the line of the first bad row, if any row is bad."""
    name = Path(path).name
    try:
        if Path(path).stat().st_size > MAX_BYTES:
            raise BadInput(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB: not a practice history")
        text, encoding = decode(Path(path).read_bytes(), name)
    except OSError as exc:
        raise BadInput(f"cannot read {name}: {exc.strerror or exc}") from None
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(rows)
    except StopIteration:
        raise BadInput(f"{name} is empty: it needs a header row, then one attempt a row") from None
    except csv.Error as exc:
        raise BadInput(f"{name} line 1: {exc}") from None
    columns = _columns(header, mapping or {}, name)
    from upstack.services.record_shapes import problem  # pydantic: only once a file is read
    attempts: list[dict[str, Any]] = []
    line = rows.line_num
    while True:
        start = line + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise BadInput(f"{name} line {start}: {exc}; nothing was imported") from None
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            attempts.append(_attempt(row, columns))
            wrong = problem(OP, attempts[-1])  # a record a team server would refuse could never sync
            if wrong:
                raise BadInput(wrong.removeprefix(f"{OP} the record: ").replace("Value error, ", ""))
        except UpstackError as exc:
            raise BadInput(f"{name} line {start}: {exc}; nothing was imported") from None
    if not attempts:
        raise BadInput(f"{name} has a header but no attempts")
    # A row the reader's practice log holds already (the same file imported again) adds nothing. Each
    # attempt's id is drawn at random: one made from the row alone was the same for every member who
    # imported that row, and a team server refusing the second one's push as taken told them the
    # first one had practised that problem then.
    known = {_same(event.data) for event in records(ws)}
    fresh: dict[str, Any] = {}
    for data in attempts:
        if _same(data) not in known:
            fresh.setdefault(_same(data), ws.record(OP, data))
    ws.store().write(list(fresh.values()))
    return ImportResult(imported=len(fresh), already=len(attempts) - len(fresh), encoding=encoding)


def _same(data: dict[str, Any]) -> str:
    """What makes two attempts one: everything they say (not who made them)."""
    return json.dumps({k: v for k, v in data.items() if k != "by"}, sort_keys=True)


def _delimiter(text: str) -> str:
    """What separates the columns: a comma, or the semicolon a spreadsheet in a language with
    decimal commas writes, or the tab of a tab-separated export; whichever the header has most."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)  # max keeps the first of equals: a comma


def _columns(header: list[str], mapping: dict[str, str], name: str) -> dict[str, int]:
    """Each field's column index: the column --map names for it, else the one named as the field."""
    found = {cell.strip().lower(): index for index, cell in enumerate(header)}
    columns: dict[str, int] = {}
    for field in FIELDS:
        column = mapping.get(field, field)
        if column.lower() in found:
            columns[field] = found[column.lower()]
        elif field in mapping:
            raise BadInput(f"--map {field}={column}: {name} has no column {column!r} "
                           f"(its columns: {', '.join(cell.strip() for cell in header)})")
    missing = [field for field in REQUIRED if field not in columns]
    if missing:
        raise BadInput(f"{name} has no column for {', '.join(missing)} (its columns: "
                       f"{', '.join(cell.strip() for cell in header)}); name one with --map "
                       f"{missing[0]}=COLUMN")
    return columns


def _attempt(row: list[str], columns: dict[str, int]) -> dict[str, Any]:
    cell = {field: (row[index].strip() if index < len(row) else "") for field, index in columns.items()}
    for field in REQUIRED:
        if not cell[field]:
            raise BadInput(f"no {field}")
    outcome = _OUTCOMES.get(cell["outcome"].lower())
    if outcome is None:
        raise BadInput(f"outcome {cell['outcome']!r} is not one of unaided (solved, yes), hints, failed (unsolved, no)")
    first = None
    if cell.get("first"):
        first = _FIRST.get(cell["first"].lower())
        if first is None:
            raise BadInput(f"first {cell['first']!r} is neither first (yes) nor review (no)")
    if _DECIMAL_COMMA.fullmatch(cell["minutes"]):  # 12,5: a spreadsheet in a decimal-comma language
        cell["minutes"] = cell["minutes"].replace(",", ".")
    at = check_happened(parse_moment(cell["at"], what="date"), "date")
    topics = [part for part in cell.get("topics", "").replace(";", ",").replace("|", ",").split(",")]
    return rules.attempt_data(cell["problem"], at=at, minutes=cell["minutes"], outcome=outcome,
                              difficulty=cell.get("difficulty") or None, topics=topics,
                              title=cell.get("title") or None, url=cell.get("url") or None, first=first)
