"""Reading a CSV file a person brings: a job board's export, a spreadsheet, a practice history.

What every CSV import shares (`upstack practice import`, `upstack opp import`): the encoding is
told from the bytes (UTF-8 with or without a BOM, UTF-16, Windows' cp1252 and its cousins), the
delimiter from the header (a comma, the semicolon a decimal-comma spreadsheet writes, a tab), each
row kept with the line it starts on so a bad one can be named, and each field found in a column
the file names as the field, a common name for it, or the one ``--map FIELD=COLUMN`` names.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from upstack.errors import BadInput
from upstack.files import read_at_most

__all__ = ["MAX_BYTES", "Table", "decode", "delimiter", "read_table", "parse_mapping", "columns"]

MAX_BYTES = 50 * 1024 * 1024  # a history or a list of openings is kilobytes; beyond this it is not one


@dataclass(frozen=True)
class Table:
    """A CSV file read whole: its header and its rows, each with the line it starts on (blank rows left out)."""

    name: str
    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


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


def delimiter(text: str) -> str:
    """What separates the columns: a comma, or the semicolon a spreadsheet in a language with
    decimal commas writes, or the tab of a tab-separated export; whichever the header has most."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)  # max keeps the first of equals: a comma


def read_table(path: Path, *, row_is: str, max_bytes: int = MAX_BYTES) -> Table:
    """The file at ``path`` read whole; ``row_is`` names what one row is ("attempt"), for the
    messages. An unreadable, empty or malformed file is refused, naming the line."""
    name = Path(path).name
    try:
        if Path(path).stat().st_size > max_bytes:
            raise BadInput(f"{name} is larger than {max_bytes // (1024 * 1024)} MB: too large for a list of "
                           f"{row_is}s")
        data = read_at_most(Path(path), max_bytes)
        if len(data) > max_bytes:
            raise BadInput(f"{name} is larger than {max_bytes // (1024 * 1024)} MB: too large for a list of "
                           f"{row_is}s")
        text, encoding = decode(data, name)
    except OSError as exc:
        raise BadInput(f"cannot read {name}: {exc.strerror or exc}") from None
    # strict: a quote left open is an error named by its line, not a row of whatever followed it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput(f"{name} is empty: it needs a header row, then one {row_is} a row") from None
    except csv.Error as exc:
        raise BadInput(f"{name} line 1: {exc}") from None
    rows: list[tuple[int, list[str]]] = []
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            said = "a quoted field is never closed" if "unexpected end of data" in str(exc) else str(exc)
            raise BadInput(f"{name} line {start}: {said}; nothing was imported") from None
        line = reader.line_num
        if any(cell.strip() for cell in row):
            rows.append((start, row))
    return Table(name=name, encoding=encoding, header=header, rows=rows)


def parse_mapping(pairs: Iterable[str], fields: Sequence[str], *, aliases: Mapping[str, str] | None = None,
                  example: str = "") -> dict[str, str]:
    """``--map FIELD=COLUMN`` options as {field: column}; ``aliases`` are other names for fields
    (``org`` for organisation)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field = field.strip().lower()
        field = (aliases or {}).get(field, field)
        if not sep or not column.strip():
            raise BadInput(f"--map {pair!r}: give FIELD=COLUMN, e.g. --map {example or fields[0] + '=column'}")
        if field not in fields:
            raise BadInput(f"--map {pair!r}: {field!r} is not a field (fields: {', '.join(fields)})")
        mapping[field] = column.strip()
    return mapping


def columns(header: Sequence[str], mapping: Mapping[str, str], name: str, *, fields: Sequence[str],
            required: Sequence[str] = (), common: Mapping[str, Sequence[str]] | None = None) -> dict[str, int]:
    """Each field's column index: the column --map names for it, else the one named as the field,
    else the first of its ``common`` names the header has. A mapped column the file lacks, or no
    column for a ``required`` field, is refused naming the file's columns."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        found.setdefault(" ".join(cell.strip().lower().split()), index)
    listed = ", ".join(cell.strip() for cell in header)
    taken: dict[str, int] = {}
    for field, column in mapping.items():
        named = found.get(" ".join(column.lower().split()))
        if named is None:
            raise BadInput(f"--map {field}={column}: {name} has no column {column!r} (its columns: {listed})")
        taken[field] = named
    for field in fields:
        if field in taken:
            continue
        for candidate in (field, *(common or {}).get(field, ())):
            common_index = found.get(candidate.lower())
            if common_index is not None and common_index not in taken.values():
                taken[field] = common_index
                break
    missing = [field for field in required if field not in taken]
    if missing:
        raise BadInput(f"{name} has no column for {', '.join(missing)} (its columns: {listed}); name one with "
                       f"--map {missing[0]}=COLUMN")
    return taken
