"""Predictions in the SQL store (migration 19): the journal handlers that write them and the reads.

The prediction itself is an entry of kind "prediction" (made by "entry.create" in the same batch); its
row in ``predictions`` says what it is about and how it resolves, and ``prediction_events`` keeps each
forecast and each resolution, never rewritten. Reads follow the entry: a prediction shows to whoever
may see its entry (``visible_sql``), so a private one is its author's alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.errors import NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.store.queries import reader_sql

__all__ = ["HANDLERS", "rows", "events", "is_prediction", "purge"]

_ROW = ("target_kind", "target_id", "resolve_by", "metric", "aggregate", "comparison", "threshold", "low",
        "high", "level")


def _make(db: Database, record: Record) -> None:
    data = record.data
    if db.scalar("SELECT kind FROM entries WHERE id = ?", (data["entry_id"],)) != "prediction":
        raise NotFound(f"cannot make entry {data['entry_id']} a prediction: no prediction entry of that id")
    at = str(data.get("at", record.at))
    inserted = db.execute(
        f"INSERT INTO predictions (entry_id, {', '.join(_ROW)}, created_at) "
        f"VALUES (?, {', '.join('?' for _ in _ROW)}, ?) ON CONFLICT DO NOTHING",
        [data["entry_id"], *(data.get(k) for k in _ROW), at]).rowcount
    if inserted:
        _event(db, record, "forecast", probability=_probability(data["probability"]))


def _forecast(db: Database, record: Record) -> None:
    """A forecast after the last event (a forecast or a resolution) of a prediction still open: one dated
    before them, or after the answer is known, would score itself."""
    _live(db, record.data["entry_id"])
    last = db.one("SELECT max(at) AS at, sum(CASE WHEN kind = 'resolve' THEN 1 ELSE 0 END) AS resolved "
                  "FROM prediction_events WHERE entry_id = ?", (record.data["entry_id"],))
    if last is not None and last["resolved"]:
        raise UpstackError(f"prediction {record.data['entry_id']} is resolved: a forecast now would know the answer")
    if last is not None and last["at"] is not None and str(record.data.get("at", record.at)) <= str(last["at"]):
        raise UpstackError(f"a forecast of prediction {record.data['entry_id']} dated before its last one")
    _event(db, record, "forecast", probability=_probability(record.data["probability"]))


def _probability(value: Any) -> float:
    """A forecast's probability as a scorer can take it (1%-99%, a number), else the record is set aside."""
    from upstack.domain.calibration import MAX_PROBABILITY, MIN_PROBABILITY

    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not MIN_PROBABILITY <= float(value) <= MAX_PROBABILITY:  # NaN fails this too
        raise UpstackError(f"a forecast's probability is from 0.01 to 0.99, not {value!r}")
    return float(value)


def _resolve(db: Database, record: Record) -> None:
    _live(db, record.data["entry_id"])
    outcome = record.data["outcome"]
    if outcome not in ("true", "false", "annulled"):
        raise UpstackError(f"a prediction resolves true, false or annulled, not {outcome!r}")
    value = record.data.get("value")
    _event(db, record, "resolve", outcome=outcome, value=None if value is None else float(value),
           evidence_id=record.data.get("evidence_id"), evidence_at=record.data.get("evidence_at"))


def _live(db: Database, entry_id: str) -> None:
    if not db.scalar("SELECT 1 FROM predictions WHERE entry_id = ?", (entry_id,)):
        raise NotFound(f"prediction {entry_id} does not exist")


def _event(db: Database, record: Record, kind: str, **values: Any) -> None:
    db.execute("INSERT INTO prediction_events (id, entry_id, at, kind, probability, outcome, value, evidence_id, "
               "evidence_at, reason, author_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (record.id, record.data["entry_id"], str(record.data.get("at", record.at)), kind,
                values.get("probability"), values.get("outcome"), values.get("value"), values.get("evidence_id"),
                values.get("evidence_at"), str(record.data.get("reason") or ""), record.data.get("by")))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    "prediction.make": _make, "prediction.forecast": _forecast, "prediction.resolve": _resolve}


def is_prediction(db: Database, entry_id: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM predictions WHERE entry_id = ?", (entry_id,)))


def rows(db: Database, entry_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The prediction rows the reader may see (of live entries; only ``entry_ids`` if given), oldest first."""
    visible, params = reader_sql(db, "e")
    only = ""
    if entry_ids is not None:
        if not entry_ids:
            return []
        only = f" AND p.entry_id IN ({', '.join('?' for _ in entry_ids)})"
        params = [*params, *entry_ids]
    return db.query(f"SELECT p.* FROM predictions p JOIN entries e ON e.id = p.entry_id WHERE e.deleted_at IS NULL "
                    f"AND e.purged_at IS NULL AND {visible}{only} ORDER BY p.created_at, p.entry_id", params)


def events(db: Database, entry_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """{entry id: its events, oldest first}."""
    found: dict[str, list[dict[str, Any]]] = {entry_id: [] for entry_id in entry_ids}
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start:start + 500]
        for row in db.query(f"SELECT * FROM prediction_events WHERE entry_id IN ({', '.join('?' for _ in chunk)}) "
                            "ORDER BY at, id", chunk):
            found[row["entry_id"]].append(row)
    return found


def purge(db: Database, entry_id: str) -> None:
    """A purged prediction keeps nothing of what was said about it."""
    db.execute("DELETE FROM prediction_events WHERE entry_id = ?", (entry_id,))
    db.execute("DELETE FROM predictions WHERE entry_id = ?", (entry_id,))
