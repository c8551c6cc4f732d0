"""Sync's view of predictions and takes (issue 19): which of their changes a store holds, and each as
the record that makes it elsewhere.

A prediction's and a take's entry travels as any entry does (store/sync.py). What is said about it
travels here: every forecast and resolution of a prediction, every confidence, source, crux and
revisit of a take, each an event whose id is the id of the record that made it (a take's record
makes several events: the first has the record's id, the rest that id and a suffix). So the
manifest lists record ids, and a record rebuilt from its events carries the id it was made under:
applying it twice is a no-op, on either side.

Only what the reader may see: a prediction or take whose entry they may see, and, on a team server,
another person's forecasts only once the reader has made their own on the same question (or it is
resolved): store/predictions.py's ``rows`` answers for that.
"""

from __future__ import annotations

from typing import Any

from upstack.formats.journal import Record
from upstack.store import predictions, takes
from upstack.store.db import Database

__all__ = ["OPS", "manifest", "records", "event_owner"]

OPS = ("prediction.make", "prediction.forecast", "prediction.resolve", "take.make", "take.update")
_ID = 26  # a record's id; a take's later events add "-NNN"


def _visible(db: Database) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]],
                                    dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    shown = {str(r["entry_id"]): r for r in predictions.rows(db)}
    said = {str(r["entry_id"]): r for r in takes.rows(db)}
    return shown, predictions.events(db, list(shown)), said, takes.events(db, list(said))


def manifest(db: Database) -> list[str]:
    """The ids of the records behind every prediction and take change the reader may see."""
    _, forecasts, _, take_events = _visible(db)
    ids = {str(e["id"]) for events in forecasts.values() for e in events}
    ids |= {str(e["id"])[:_ID] for events in take_events.values() for e in events}
    return sorted(ids)


def records(db: Database, ids: list[str]) -> list[Record]:
    """The records that make these changes elsewhere (only those the reader may see), oldest first."""
    wanted = set(ids)
    if not wanted:
        return []
    rows, forecasts, take_rows, take_events = _visible(db)
    found: list[Record] = []
    for entry_id, events in forecasts.items():
        made = False
        for event in events:
            if event["kind"] == "forecast" and not made:
                made = True
                op, data = "prediction.make", {
                    "probability": event["probability"], "reason": event["reason"],
                    **{k: rows[entry_id][k] for k in ("target_kind", "target_id", "resolve_by", "metric", "aggregate",
                                                      "comparison", "threshold", "low", "high", "level")}}
            elif event["kind"] == "forecast":
                op, data = "prediction.forecast", {"probability": event["probability"], "reason": event["reason"]}
            else:
                op, data = "prediction.resolve", {k: event[k] for k in ("outcome", "value", "evidence_id",
                                                                         "evidence_at", "reason")}
            if event["id"] in wanted:
                found.append(_record(event, op, entry_id, data))
    for entry_id, events in take_events.items():
        groups: dict[str, list[dict[str, Any]]] = {}
        for event in events:
            groups.setdefault(str(event["id"])[:_ID], []).append(event)
        for n, (record_id, parts) in enumerate(sorted(groups.items(), key=lambda g: (str(g[1][0]["at"]), g[0]))):
            if record_id in wanted:
                found.append(_take_record(record_id, parts, entry_id, take_rows[entry_id], first=n == 0))
    return sorted(found, key=lambda r: (r.at, r.id))


def _record(event: dict[str, Any], op: str, entry_id: str, data: dict[str, Any]) -> Record:
    data = {k: v for k, v in data.items() if v is not None}
    data.update(entry_id=entry_id, at=str(event["at"]))
    if event["author_id"]:
        data["by"] = event["author_id"]
    return Record(id=str(event["id"]), op=op, workspace="sync", at=str(event["at"]), data=data)


def _take_record(record_id: str, parts: list[dict[str, Any]], entry_id: str, row: dict[str, Any], *,
                 first: bool) -> Record:
    """A take's record from the events it made: its making (with the take's row) or an update."""
    data: dict[str, Any] = {}
    if first:
        data.update(source=row["source"], place=row["place"], revisit_by=row["revisit_by"])
    for part in parts:
        kind = part["kind"]
        if kind == "confidence":
            data.update(confidence=part["confidence"], reason=part["text"])
        elif kind == "source":
            data.update(new_source=part["source"], place=part["text"])
        elif kind == "crux":
            data.setdefault("cruxes", []).append(part["text"])
        elif kind == "would_change":
            data["would_change"] = part["text"]
        elif kind == "node":
            data.setdefault("nodes", []).append(part["node_id"])
        elif kind == "revisit":
            data["revisit_by"] = part["revisit_by"]
            data.setdefault("reason", part["text"])
    data.update(entry_id=entry_id, at=str(parts[0]["at"]))
    if parts[0]["author_id"]:
        data["by"] = parts[0]["author_id"]
    return Record(id=record_id, op="take.make" if first else "take.update", workspace="sync",
                  at=str(parts[0]["at"]), data=data)


def event_owner(db: Database, record_id: str) -> dict[str, Any] | None:
    """The entry and author of the change a record of this id made here, whoever may see it."""
    return db.one("SELECT entry_id, author_id FROM prediction_events WHERE id = ? "
                  "UNION ALL SELECT entry_id, author_id FROM take_events WHERE id = ?", (record_id, record_id))
