"""Takes in the SQL store (migration 20): the journal handlers that write them and the reads.

The take itself is an entry of kind "take" (made by "entry.create" in the same batch); its row in
``takes`` says who said it, where, and the day to revisit it, and ``take_events`` keeps each
confidence the person gave it, each source, crux, "what would change my mind", related node and
revisit, never rewritten. Reads follow the entry: a take shows to whoever may see its entry, and a
take is private unless made ``--shared``, so by default it is its author's alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.errors import NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.store.queries import reader_sql

__all__ = ["HANDLERS", "rows", "events", "purge"]


def _make(db: Database, record: Record) -> None:
    data = record.data
    if db.scalar("SELECT kind FROM entries WHERE id = ?", (data["entry_id"],)) != "take":
        raise NotFound(f"cannot make entry {data['entry_id']} a take: no take entry of that id")
    at = str(data.get("at", record.at))
    inserted = db.execute(
        "INSERT INTO takes (entry_id, source, place, revisit_by, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (data["entry_id"], _text(data["source"], "who said it", required=True), _text(data.get("place")),
         _day(data.get("revisit_by")), at)).rowcount
    if inserted:
        _events(db, record)


def _update(db: Database, record: Record) -> None:
    """What changed about a take, each part an event; a revisit day given (even none: cleared) is the
    row's from now on."""
    if not db.scalar("SELECT 1 FROM takes WHERE entry_id = ?", (record.data["entry_id"],)):
        raise NotFound(f"take {record.data['entry_id']} does not exist")
    _events(db, record)
    if "revisit_by" in record.data:
        db.execute("UPDATE takes SET revisit_by = ? WHERE entry_id = ?",
                   (_day(record.data["revisit_by"]), record.data["entry_id"]))


def _events(db: Database, record: Record) -> None:
    """One event per part of the record, in a fixed order: the first is the record's id, the rest
    that id and a suffix, so applying the record again makes the same ones."""
    data = record.data
    reason = _text(data.get("reason"))
    parts: list[dict[str, Any]] = []
    if data.get("confidence") is not None:
        parts.append({"kind": "confidence", "confidence": _confidence(data["confidence"]), "text": reason})
    if data.get("new_source") is not None:
        parts.append({"kind": "source", "source": _text(data["new_source"], "who said it", required=True),
                      "text": _text(data.get("place"))})
    parts += [{"kind": "crux", "text": _text(crux, "a crux", required=True)} for crux in data.get("cruxes") or []]
    if data.get("would_change") is not None:
        parts.append({"kind": "would_change", "text": _text(data["would_change"])})
    parts += [{"kind": "node", "node_id": _text(node, "a node", required=True)} for node in data.get("nodes") or []]
    if record.op == "take.update" and "revisit_by" in data:
        parts.append({"kind": "revisit", "revisit_by": _day(data["revisit_by"]), "text": reason})
    at = str(data.get("at", record.at))
    for n, part in enumerate(parts):
        db.execute("INSERT INTO take_events (id, entry_id, at, kind, confidence, text, source, node_id, revisit_by, "
                   "author_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (record.id if n == 0 else f"{record.id}-{n:03d}", data["entry_id"], at, part["kind"],
                    part.get("confidence"), part.get("text", ""), part.get("source"), part.get("node_id"),
                    part.get("revisit_by"), data.get("by")))


def _confidence(value: Any) -> float:
    """A confidence as the person gave it (1%-99%, a number), else the record is set aside."""
    from upstack.domain.calibration import MAX_PROBABILITY, MIN_PROBABILITY

    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not MIN_PROBABILITY <= float(value) <= MAX_PROBABILITY:  # NaN fails this too
        raise UpstackError(f"a take's confidence is from 0.01 to 0.99, not {value!r}")
    return float(value)


def _text(value: Any, what: str = "text", *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise UpstackError(f"a take's {what} is text{' and not empty' if required else ''}, not {value!r}")
    return value


def _day(value: Any) -> str | None:
    from datetime import date

    if value is None:
        return None
    return date.fromisoformat(str(value)).isoformat()  # ValueError: the record is set aside


HANDLERS: dict[str, Callable[[Database, Record], None]] = {"take.make": _make, "take.update": _update}


def rows(db: Database, entry_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The take rows the reader may see (of live entries; only ``entry_ids`` if given), oldest first."""
    visible, params = reader_sql(db, "e")
    only = ""
    if entry_ids is not None:
        if not entry_ids:
            return []
        only = f" AND t.entry_id IN ({', '.join('?' for _ in entry_ids)})"
        params = [*params, *entry_ids]
    return db.query(f"SELECT t.* FROM takes t JOIN entries e ON e.id = t.entry_id WHERE e.deleted_at IS NULL "
                    f"AND e.purged_at IS NULL AND {visible}{only} ORDER BY t.created_at, t.entry_id", params)


def events(db: Database, entry_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """{entry id: its events, oldest first}."""
    found: dict[str, list[dict[str, Any]]] = {entry_id: [] for entry_id in entry_ids}
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start:start + 500]
        for row in db.query(f"SELECT * FROM take_events WHERE entry_id IN ({', '.join('?' for _ in chunk)}) "
                            "ORDER BY at, id", chunk):
            found[row["entry_id"]].append(row)
    return found


def purge(db: Database, entry_id: str) -> None:
    """A purged take keeps nothing of what was said about it: who said it, the reasons, the cruxes."""
    db.execute("DELETE FROM take_events WHERE entry_id = ?", (entry_id,))
    db.execute("DELETE FROM takes WHERE entry_id = ?", (entry_id,))
