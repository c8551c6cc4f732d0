"""`upstack practice import`: an attempt history from a CSV file, all of it or nothing.

Every row is checked before anything is written; the first bad one is named by its line and
nothing is imported. The rows that pass are written in one write (applied
whole or not at all). A row the reader's log holds already is skipped, so importing the same file
again adds nothing twice.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain import practice as rules
from upstack.errors import BadInput, UpstackError
from upstack.services import csvfile
from upstack.services.practice import OP, check_happened, records
from upstack.timeutil import parse_moment
from upstack.workspace import Workspace

__all__ = ["FIELDS", "REQUIRED", "ImportResult", "parse_mapping", "import_csv"]

FIELDS = ("problem", "at", "minutes", "outcome", "difficulty", "topics", "title", "url", "first")
REQUIRED = ("problem", "at", "minutes", "outcome")
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
    return csvfile.parse_mapping(pairs, FIELDS, example="minutes=time_taken")


def import_csv(ws: Workspace, path: Path, mapping: dict[str, str] | None = None) -> ImportResult:
    """Import attempts from a CSV file (a header row, then one attempt a row); refused whole, with
    the line of the first bad row, if any row is bad."""
    table = csvfile.read_table(Path(path), row_is="attempt")
    name = table.name
    columns = csvfile.columns(table.header, mapping or {}, name, fields=FIELDS, required=REQUIRED)
    from upstack.services.record_shapes import problem  # pydantic: only once a file is read
    attempts: list[dict[str, Any]] = []
    for start, row in table.rows:
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
    return ImportResult(imported=len(fresh), already=len(attempts) - len(fresh), encoding=table.encoding)


def _same(data: dict[str, Any]) -> str:
    """What makes two attempts one: everything they say (not who made them)."""
    return json.dumps({k: v for k, v in data.items() if k != "by"}, sort_keys=True)


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
