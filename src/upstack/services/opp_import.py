"""`upstack opp import`: opportunities from a CSV file (a job board's export, a spreadsheet) or a
JSON file, all of them or none.

Every row is checked before anything is kept; a bad one is named by its file and line (a JSON
file's by its item) and nothing is imported, unless ``skip_bad``: then the good rows are imported
and the bad ones named. The rows that pass are written in one write. Importing the same file again
adds nothing: the same link is the same opportunity (services/opportunities.py), and the same
organisation and role under another link or deadline is added as a possible duplicate, reported.

A feed's postings are proposed rather than imported (services/opp_feed.py); both end in ``keep``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.domain.imports import ImportFailed, Problem
from upstack.errors import BadInput, UpstackError
from upstack.files import read_at_most
from upstack.services import csvfile
from upstack.services import opportunities as opps
from upstack.workspace import Workspace

__all__ = ["FIELDS", "ALIASES", "COMMON", "Row", "ImportReport", "parse_mapping", "format_of", "read_csv",
           "read_json", "keep", "import_file"]

FIELDS = (*opps.FIELDS, "posting")  # posting: the text of the posting, kept apart (postings vanish)
ALIASES = {"org": "organisation", "organization": "organisation", "company": "organisation", "title": "role",
           "url": "link", "type": "kind", "area": "areas", "tags": "areas", "description": "posting"}
# The headers job boards and spreadsheets use, beside the field's own name (case and spacing ignored).
COMMON: dict[str, tuple[str, ...]] = {
    "organisation": ("organization", "org", "company", "company name", "employer", "organisation name",
                     "organization name", "funder", "lab"),
    "role": ("title", "job title", "position", "position title", "role title", "job", "opportunity"),
    "link": ("url", "job url", "job link", "apply url", "application url", "application link", "posting url",
             "link to apply"),
    "deadline": ("application deadline", "closing date", "closes", "apply by", "due", "due date",
                 "deadline date"),
    "location": ("locations", "city", "office", "place"),
    "remote": ("remote?", "remote ok", "remote friendly", "is remote"),
    "kind": ("type", "category", "opportunity type"),
    "source": ("board", "job board"),
    "areas": ("area", "research areas", "research area", "tags", "topics", "fields"),
    "notes": ("note", "comments", "comment"),
    "found": ("found via", "found on", "where found", "via"),
    "posting": ("description", "job description", "posting text", "details"),
}
_YES = {"yes", "y", "true", "1", "remote", "fully remote", "remote ok", "x", "✓"}
_NO = {"no", "n", "false", "0", "", "onsite", "on-site", "on site", "in person", "in-person", "office"}
MAX_ITEMS = 10_000  # a board's export is hundreds of rows; beyond this it is not one


@dataclass(frozen=True)
class Row:
    """One opportunity read from a file: where it was (``jobs.csv line 7``), its fields, its posting."""

    where: str
    fields: dict[str, Any]
    posting: dict[str, str] | None = None


@dataclass
class ImportReport:
    """What an import did: slugs added and merged (the same link, filling in what was missing),
    how many said nothing new, which were added as possible duplicates of which, what was skipped."""

    source: str
    encoding: str = ""
    added: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    unchanged: int = 0
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # a CSV's columns no field took (--map names them)
    differs: list[tuple[str, str, str, str]] = field(default_factory=list)  # (slug, field, kept, in the file)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "encoding": self.encoding, "added": self.added, "merged": self.merged,
                "ignored_columns": self.ignored,
                "differs": [{"slug": s, "field": f, "kept": k, "given": g} for s, f, k, g in self.differs],
                "unchanged": self.unchanged,
                "duplicates": [{"slug": slug, "duplicate_of": of} for slug, of in self.duplicates],
                "skipped": [{"where": p.where, "message": p.message} for p in self.skipped]}


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``--map FIELD=COLUMN`` options as {field: column}; org, company, title, url and type name fields too."""
    return csvfile.parse_mapping(pairs, FIELDS, aliases=ALIASES, example="org=Company")


def format_of(path: Path, data: bytes) -> str:
    """csv, json or feed: by the file's suffix, else by how it starts."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".json":
        return "json"
    if suffix in (".xml", ".rss", ".atom"):
        return "feed"
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "feed" if start == b"<" else "json" if start in (b"[", b"{") else "csv"


def _remote(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = " ".join(str(value).lower().split())
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise BadInput(f"remote {str(value)!r} is neither yes nor no")


def _row(where: str, values: dict[str, Any], default_kind: str | None) -> Row:
    """A row's fields, checked as adding them would check them (BadInput says what is wrong)."""
    fields = {k: v for k, v in values.items() if k != "posting" and v not in (None, "", [])}
    if isinstance(fields.get("areas"), str):  # a cell: "evals; control", "evals|control" or "evals, control"
        fields["areas"] = fields["areas"].replace(";", ",").replace("|", ",").split(",")
    if "remote" in values:
        fields["remote"] = _remote(values["remote"])
    if default_kind and not fields.get("kind"):
        fields["kind"] = default_kind
    text = str(values.get("posting") or "").strip()
    if len(text) > opps.MAX_POSTING:
        raise BadInput(f"the posting is {len(text):,} characters; upstack keeps up to {opps.MAX_POSTING:,}")
    opps.check(fields)
    return Row(where, fields, {"text": text, "html": "", "url": str(fields.get("link") or "")} if text else None)


def _checked(items: Iterable[tuple[str, dict[str, Any]]], default_kind: str | None,
             progress: Callable[[int, int], None] | None, total: int) -> tuple[list[Row], list[Problem]]:
    rows: list[Row] = []
    problems: list[Problem] = []
    for done, (where, values) in enumerate(items, 1):
        try:
            rows.append(_row(where, values, default_kind))
        except UpstackError as exc:
            problems.append(Problem(where, str(exc)))
        if progress is not None:
            progress(done, total)
    return rows, problems


def read_csv(path: Path, mapping: dict[str, str], *, default_kind: str | None = None,
             progress: Callable[[int, int], None] | None = None
             ) -> tuple[list[Row], list[Problem], str, list[str]]:
    """The rows of a CSV file, each checked; the problems, each with its line; the file's encoding;
    the columns no field took (said, so that a link under a header upstack did not know is not lost
    without a word)."""
    table = csvfile.read_table(path, row_is="opportunity")
    columns = csvfile.columns(table.header, mapping, table.name, fields=FIELDS, required=("organisation",),
                              common=COMMON)
    if len(table.rows) > MAX_ITEMS:
        raise BadInput(f"{table.name} has {len(table.rows):,} rows; upstack imports up to {MAX_ITEMS:,} at once")
    items = ((f"{table.name} line {line}",
              {name: (row[index].strip() if index < len(row) else "") for name, index in columns.items()})
             for line, row in table.rows)
    rows, problems = _checked(items, default_kind, progress, len(table.rows))
    if not rows and not problems:
        raise BadInput(f"{table.name} has a header but no opportunities")
    taken = set(columns.values())
    ignored = [cell.strip() for index, cell in enumerate(table.header) if index not in taken and cell.strip()]
    return rows, problems, table.encoding, ignored


def read_json(path: Path, data: bytes, mapping: dict[str, str], *, default_kind: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> tuple[list[Row], list[Problem]]:
    """The items of a JSON file: a list of objects with the field names (or common names, or those
    --map names), or {"opportunities": [...]}."""
    name = path.name
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{name} is not JSON: {exc}") from None
    except RecursionError:  # json's decoder recurses once a level: a list of openings is two or three deep
        raise BadInput(f"{name} is nested too deeply to be a list of opportunities") from None
    if isinstance(value, dict) and isinstance(value.get("opportunities"), list):
        value = value["opportunities"]
    if not isinstance(value, list):
        raise BadInput(f"{name} holds no list of opportunities: give a list of objects, or "
                       '{"opportunities": [...]}')
    if len(value) > MAX_ITEMS:
        raise BadInput(f"{name} has {len(value):,} items; upstack imports up to {MAX_ITEMS:,} at once")
    keys = sorted({str(k) for item in value if isinstance(item, dict) for k in item})
    csvfile.columns(keys, mapping, name, fields=FIELDS)  # a key --map names that no item has is refused
    items: list[tuple[str, dict[str, Any]]] = []
    problems: list[Problem] = []
    for number, item in enumerate(value, 1):
        where = f"{name} item {number}"
        if not isinstance(item, dict):
            problems.append(Problem(where, f"is {type(item).__name__}, not an object with the opportunity's fields"))
            continue
        own = list(map(str, item))  # each item's own keys: JSON leaves out what an item lacks
        columns = csvfile.columns(own, {f: k for f, k in mapping.items() if k.lower() in map(str.lower, own)},
                                  name, fields=FIELDS, common=COMMON)
        items.append((where, {f: item[own[index]] for f, index in columns.items() if item[own[index]] is not None}))
    if not value:
        raise BadInput(f"{name} holds an empty list: no opportunities to import")
    rows, more = _checked(items, default_kind, progress, len(items))
    return rows, [*problems, *more]


def keep(ws: Workspace, rows: Sequence[Row], problems: Sequence[Problem], *, source: str, skip_bad: bool,
         encoding: str = "") -> ImportReport:
    """Keep the rows in one write: all of them, or none when there are problems and ``skip_bad`` is off."""
    if problems and not skip_bad:
        if len(problems) == 1:
            raise BadInput(f"{problems[0]}; nothing was imported (--skip-bad imports the rest)")
        raise ImportFailed(list(problems))
    report = ImportReport(source=source, encoding=encoding, skipped=list(problems))
    if not rows:
        return report
    for done in opps.add_many(ws, [(row.fields, row.posting) for row in rows]):
        slug = done.opportunity.slug
        report.differs += [(slug, name, str(kept), str(given)) for name, (kept, given) in done.differs.items()]
        if done.outcome == "added":
            report.added.append(slug)
        elif done.outcome == "duplicate":
            report.added.append(slug)
            report.duplicates.append((slug, done.opportunity.duplicate_of))
        elif done.outcome == "merged":
            report.merged.append(slug)
        else:
            report.unchanged += 1
    return report


def import_file(ws: Workspace, path: Path, mapping: dict[str, str] | None = None, *, skip_bad: bool = False,
                default_kind: str | None = None, fmt: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import a CSV or JSON file of opportunities (a feed is proposed instead: services/opp_feed.py)."""
    path = Path(path)
    try:
        if path.stat().st_size > csvfile.MAX_BYTES:
            raise BadInput(f"{path.name} is larger than {csvfile.MAX_BYTES // (1024 * 1024)} MB: not a list of "
                           "opportunities")
        data = read_at_most(path, csvfile.MAX_BYTES) if fmt != "csv" else b""
        if len(data) > csvfile.MAX_BYTES:
            raise BadInput(f"{path.name} is larger than {csvfile.MAX_BYTES // (1024 * 1024)} MB: not a list of "
                           "opportunities")
    except OSError as exc:
        raise BadInput(f"cannot read {path.name}: {exc.strerror or exc}") from None
    fmt = fmt or format_of(path, data)
    if fmt == "feed":
        raise BadInput(f"{path.name} is a feed: its postings are proposed, not imported whole "
                       f"(`upstack opp import {path.name} --accept all` adds every one proposed)")
    if default_kind:
        default_kind = opps.check({"organisation": "-", "kind": default_kind})["kind"]
    if fmt == "json":
        rows, problems = read_json(path, data, mapping or {}, default_kind=default_kind, progress=progress)
        encoding = "utf-8"
    else:
        rows, problems, encoding, ignored = read_csv(path, mapping or {}, default_kind=default_kind,
                                                     progress=progress)
        report = keep(ws, rows, problems, source=path.name, skip_bad=skip_bad, encoding=encoding)
        report.ignored = ignored
        return report
    return keep(ws, rows, problems, source=path.name, skip_bad=skip_bad, encoding=encoding)
