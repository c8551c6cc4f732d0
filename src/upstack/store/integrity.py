"""Noticing data that changed in storage: checksums kept next to revisions and metric chunks,
and the checks `upstack doctor` runs over them and over the rest of what the store parses.

A revision's checksum covers what a person reads back (its title, body, tags, kind) and what
places it (its id, entry, parent, workspace and time), not its number, which a sync may make
differ between machines. A purged revision has none: its text is gone, and a checksum of a
pasted secret is no thing to keep. Revisions and chunks stored before checksums existed have
none either; they are still checked for what must parse.

SQLite checks its own pages (``PRAGMA integrity_check``) but not a flipped bit inside a value,
and PostgreSQL keeps page checksums only when its cluster was made with them; these catch
that, in the values upstack itself wrote.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from upstack.errors import UpstackError
from upstack.formats.journal import checksum
from upstack.ids import short_id
from upstack.store.db import Database

__all__ = ["Damage", "JSON_COLUMNS", "revision_checksum", "chunk_checksum", "revision_damage", "stored_json",
           "check_revisions", "check_runs"]

_PAGE = 1000


@dataclass(frozen=True)
class Damage:
    check: str  # revisions, runs
    subject: str
    message: str


def revision_checksum(revision_id: str, entry_id: str, parent_id: str | None, kind: str, title: str,
                      body: str, tags: str, workspace_id: str, created_at: str, meta: str | None = None) -> str:
    """The checksum stored with a revision (``tags`` and ``meta`` as the JSON text stored; a revision
    without meta sums as every revision did before there was any)."""
    fields = [revision_id, entry_id, parent_id, kind, title, body, tags, workspace_id, created_at]
    return checksum(json.dumps(fields + ([meta] if meta is not None else []), ensure_ascii=False,
                               separators=(",", ":")))


def chunk_checksum(steps: bytes, times: bytes, values: bytes) -> str:
    """The checksum stored with a metric chunk's three packed arrays."""
    return f"{zlib.crc32(values, zlib.crc32(times, zlib.crc32(steps))):08x}"


def stored_json(text: Any, what: str) -> Any:
    """A JSON value upstack stored, read back; one line naming ``what`` if it no longer parses
    (a reader is told, never shown a traceback)."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise UpstackError(f"{what} is damaged in storage (it no longer reads as it was written); "
                           "`upstack doctor` lists all such damage") from None


def revision_damage(row: dict[str, Any]) -> str | None:
    """What is wrong with a stored revision row, or None if it reads back as it was written."""
    try:
        tags = json.loads(row["tags"])
    except ValueError:
        tags = None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return "its tags are unreadable (damaged in storage)"
    stored = row.get("checksum")
    if stored and not row["purged_at"] and stored != revision_checksum(
            row["id"], row["entry_id"], row["parent_id"], row["kind"], row["title"], row["body"], row["tags"],
            row["workspace_id"], row["created_at"], row.get("meta")):
        return "its text no longer matches its checksum (changed in storage since it was written)"
    return None


def _pages(db: Database, sql: str, order: str = "id") -> Iterator[dict[str, Any]]:
    """Rows of ``sql`` (which selects ``id`` and ends in ``{order} > ?``) in pages: bounded memory."""
    after = ""
    while True:
        rows = db.query(f"{sql} ORDER BY {order} LIMIT {_PAGE}", (after,))
        yield from rows
        if len(rows) < _PAGE:
            return
        after = rows[-1]["id"]


def _json_of(text: Any, kind: type) -> bool:
    try:
        return isinstance(json.loads(text), kind)
    except (ValueError, TypeError):
        return False


def check_revisions(db: Database) -> list[Damage]:
    """Every revision parses and matches its checksum; every entry reads back (its tags and metadata
    parse) and says what its current revision says."""
    found = []
    for row in _pages(db, "SELECT * FROM revisions WHERE id > ?"):
        problem = revision_damage(row)
        if problem:
            found.append(Damage("revisions", f"revision {row['number']} of entry {short_id(row['entry_id'])}",
                                problem))
    for row in _pages(db, "SELECT e.id, e.extra_tags, e.meta, e.title = r.title AND e.body = r.body "
                          "AND e.kind = r.kind AS same FROM entries e JOIN revisions r ON r.id = e.revision_id "
                          "WHERE e.id > ?", "e.id"):
        subject = f"entry {short_id(row['id'])}"
        if not _json_of(row["extra_tags"], list) or not _json_of(row["meta"] or "{}", dict):
            found.append(Damage("revisions", subject, "its tags or metadata are unreadable (damaged in storage)"))
        if not row["same"]:
            found.append(Damage("revisions", subject, "its text differs from its current revision's "
                                                      "(one of them changed in storage)"))
    return found


_RUN_JSON = {"config": dict, "provenance": dict, "summary": dict, "goals": dict, "tags": list}
# (table, column) -> what the JSON text kept there holds; an import checks them as doctor does.
JSON_COLUMNS: dict[tuple[str, str], type] = {
    ("entries", "meta"): dict, ("entries", "extra_tags"): list, ("revisions", "tags"): list,
    ("run_items", "data"): dict, **{("runs", column): shape for column, shape in _RUN_JSON.items()}}


def check_runs(db: Database) -> list[Damage]:
    """Every run's stored settings, items and metric chunks parse, and each chunk matches its
    checksum and the run's point counts."""
    found = []
    for row in _pages(db, f"SELECT id, {', '.join(_RUN_JSON)} FROM runs WHERE id > ?"):
        bad = [column for column, kind in _RUN_JSON.items() if not _json_of(row[column], kind)]
        if bad:
            found.append(Damage("runs", f"run {short_id(row['id'])}",
                                f"its {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} unreadable "
                                "(damaged in storage)"))
    for row in _pages(db, "SELECT id, run_id, kind, data FROM run_items WHERE id > ?"):
        if not _json_of(row["data"], dict):
            found.append(Damage("runs", f"{row['kind']} {short_id(row['id'])} of run {short_id(row['run_id'])}",
                                "unreadable (damaged in storage)"))
    counted: dict[tuple[str, str], int] = {}
    for run_id in [r["id"] for r in db.query("SELECT DISTINCT run_id AS id FROM metric_chunks ORDER BY run_id")]:
        for chunk in db.query("SELECT key, file_offset, count, steps, times, vals, checksum FROM metric_chunks "
                              "WHERE run_id = ? ORDER BY key, file_offset", (run_id,)):
            steps, times, values = bytes(chunk["steps"]), bytes(chunk["times"]), bytes(chunk["vals"])
            counted[(run_id, chunk["key"])] = counted.get((run_id, chunk["key"]), 0) + int(chunk["count"])
            problem = None
            if not len(steps) == len(times) == len(values) == 8 * int(chunk["count"]):
                problem = "its arrays do not hold the number of points it says (damaged in storage)"
            elif chunk["checksum"] and chunk["checksum"] != chunk_checksum(steps, times, values):
                problem = "its points no longer match their checksum (changed in storage since they were written)"
            if problem:
                found.append(Damage("runs", f"metric {chunk['key']!r} of run {short_id(run_id)} "
                                            f"(the chunk at {chunk['file_offset']})", problem))
    for row in db.query("SELECT run_id, key, count FROM run_metrics ORDER BY run_id, key"):
        if int(row["count"]) != counted.get((row["run_id"], row["key"]), 0):
            found.append(Damage("runs", f"metric {row['key']!r} of run {short_id(row['run_id'])}",
                                f"its summary counts {row['count']} points, its chunks hold "
                                f"{counted.get((row['run_id'], row['key']), 0)}"))
    return found
