"""Predictions in the SQL store (migration 19): the journal handlers that write them and the reads.

The prediction itself is an entry of kind "prediction" (made by "entry.create" in the same batch); its
row in ``predictions`` says what it is about and how it resolves, and ``prediction_events`` keeps each
forecast and each resolution, never rewritten. Reads follow the entry: a prediction shows to whoever
may see its entry (``visible_sql``), so a private one is its author's alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from upstack.domain.calibration import Numeric
from upstack.errors import NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.ids import short_id
from upstack.store.db import Database
from upstack.store.queries import own_sql, reader_sql

__all__ = ["RUN_ENDED", "predicts_no_more", "HANDLERS", "rows", "events", "is_prediction", "purge", "from_run",
           "resolve_from_run"]

# A forecast sent once its answer is in would score as made before it (its time is the run's start).
RUN_ENDED = "run {run} has ended: a run predicts its metrics as it starts, not once its result is in"


def predicts_no_more(db: Database, run_id: str) -> bool:
    """Whether a run may no longer predict its metrics: it has ended, or it was taken up again after it
    stopped (``run.resume``: its series so far were in, and a resumed run writes no new prediction)."""
    run = db.one("SELECT status FROM runs WHERE id = ?", (run_id,))
    return run is None or run["status"] != "running" or db.one(
        "SELECT 1 FROM run_items WHERE run_id = ? AND kind = 'resume'", (run_id,)) is not None

_ROW = ("target_kind", "target_id", "resolve_by", "metric", "aggregate", "comparison", "threshold", "low",
        "high", "level")


def _make(db: Database, record: Record) -> None:
    data = record.data
    if db.scalar("SELECT kind FROM entries WHERE id = ?", (data["entry_id"],)) != "prediction":
        raise NotFound(f"cannot make entry {data['entry_id']} a prediction: no prediction entry of that id")
    _insert(db, record, {k: data.get(k) for k in _ROW}, str(data.get("at", record.at)))


def _insert(db: Database, record: Record, row: dict[str, Any], at: str) -> None:
    probability = _probability(record.data["probability"])
    if row.get("metric") is not None:
        _numeric(row)
    inserted = db.execute(
        f"INSERT INTO predictions (entry_id, {', '.join(_ROW)}, created_at) "
        f"VALUES (?, {', '.join('?' for _ in _ROW)}, ?) ON CONFLICT DO NOTHING",
        [record.data["entry_id"], *(row.get(k) for k in _ROW), at]).rowcount
    if inserted:
        _event(db, record, "forecast", probability=probability)


def _numeric(row: dict[str, Any]) -> Numeric:
    """A numeric prediction's fields as the rules take them, else the record is set aside."""
    from upstack.domain.calibration import numeric

    comparison, threshold = row.get("comparison"), row.get("threshold")
    if comparison not in (None, "below", "above") or (comparison is None) != (threshold is None):
        raise UpstackError(f"a numeric prediction is below or above a threshold, not {comparison!r}")
    for key in ("threshold", "low", "high", "level"):
        if row.get(key) is not None and (isinstance(row[key], bool) or not isinstance(row[key], int | float)):
            raise UpstackError(f"a numeric prediction's {key} is a number, not {row[key]!r}")
    if (row.get("low") is None) != (row.get("high") is None):
        raise UpstackError("a numeric prediction's interval has both ends")
    try:
        return numeric(str(row["metric"]), str(row.get("aggregate") or "final"),
                       below=threshold if comparison == "below" else None,
                       above=threshold if comparison == "above" else None,
                       interval=None if row.get("low") is None else (row["low"], row["high"]), level=row.get("level"))
    except UpstackError as exc:
        raise UpstackError(str(exc)) from None


def from_run(db: Database, record: Record) -> None:
    """``run.predict``: a numeric prediction a run made of itself as it started (``upstack.run(...,
    predict=...)``), written by the run so it travels with the run's folder: it becomes a prediction
    entry of the run's author under the run's node, about that run."""
    from upstack.ids import derived_id
    from upstack.store.ingest import create_entry
    from upstack.store.named import id_named

    data = record.data
    run = db.one("SELECT * FROM runs WHERE id = ?", (data["run_id"],))
    if run is None:
        raise NotFound(f"run {data['run_id']} has not started here")
    entry_id, at = str(data["entry_id"]), str(data["at"])
    if db.scalar("SELECT 1 FROM predictions WHERE entry_id = ?", (entry_id,)):
        return  # taken in already
    if predicts_no_more(db, run["id"]):
        raise UpstackError(RUN_ENDED.format(run=run["id"]))
    if id_named(db, entry_id):
        raise UpstackError(f"prediction {entry_id}: that id is taken")
    row = {k: data.get(k) for k in _ROW}
    row.update(target_kind="run", target_id=run["id"])
    _numeric(row)
    _probability(data["probability"])
    offset = {"utc_offset": str(run["utc_offset"])} if run.get("utc_offset") else {}
    create_entry(db, {
        "id": entry_id, "revision_id": derived_id(at, entry_id, "prediction"), "kind": "prediction",
        "title": str(data["claim"]), "body": str(data.get("criteria") or ""), "extra_tags": [], "private": False,
        "node_id": run["node_id"], "occurred_at": at, "created_at": at, "attachments": [],
        "by": run["author_id"], **offset}, record.workspace)
    _insert(db, Record(record.id, record.op, record.workspace, record.at, {**data, "by": run["author_id"]}), row, at)


def _forecast(db: Database, record: Record) -> None:
    """A forecast, at the time upstack wrote it (services/predictions.update: now, never a chosen date).
    Taken in whatever came before it here: the same person's other machine may have forecast offline
    before this one's last forecast reached it, or before its resolution did, and every copy must keep
    the same history. It cannot score itself: a score takes the last forecast made before the evidence
    (``_restand``), so one made after the answer was known is kept and counts for nothing. One dated
    before its prediction was made (or at that moment) is set aside."""
    made = db.scalar("SELECT created_at FROM predictions WHERE entry_id = ?", (record.data["entry_id"],))
    if made is None:
        raise NotFound(f"prediction {record.data['entry_id']} does not exist")
    if str(record.data.get("at", record.at)) <= str(made):  # after it: its making stays its first forecast
        raise UpstackError(f"a forecast of prediction {record.data['entry_id']} dated before the prediction")
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
    _restand(db, str(record.data["entry_id"]))


def _restand(db: Database, entry_id: str) -> None:
    """How the prediction stands, kept on its row for a score to read (migration 21): the resolution
    that stands (the last) and the forecast made last before its evidence (domain/calibration's
    ``forecast_before``: the one it is scored by), or none of them while it is open."""
    last = db.one("SELECT outcome, value, evidence_at FROM prediction_events WHERE entry_id = ? "
                  "AND kind = 'resolve' ORDER BY at DESC, id DESC LIMIT 1", (entry_id,))
    used = None if last is None else db.one(
        "SELECT at, probability FROM prediction_events WHERE entry_id = ? AND kind = 'forecast' AND at < ? "
        "ORDER BY at DESC, id DESC LIMIT 1", (entry_id, last["evidence_at"]))
    db.execute("UPDATE predictions SET outcome = ?, outcome_value = ?, evidence_at = ?, scored_by = ?, "
               "scored_by_at = ? WHERE entry_id = ?",
               (last and last["outcome"], last and last["value"], last and last["evidence_at"],
                used and used["probability"], used and used["at"], entry_id))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    "prediction.make": _make, "prediction.forecast": _forecast, "prediction.resolve": _resolve}


def about_run(db: Database, entry_id: str, run_id: str) -> bool:
    """Whether this entry is a prediction about that run (the run made it, or it was made --on it)."""
    return bool(db.scalar("SELECT 1 FROM predictions WHERE entry_id = ? AND target_kind = 'run' AND target_id = ?",
                          (entry_id, run_id)))


def is_prediction(db: Database, entry_id: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM predictions WHERE entry_id = ?", (entry_id,)))


ENTRY_COLUMNS = ("kind", "title", "body", "node_id", "private", "author_id", "occurred_at", "updated_at",
                 "revision_id")


def rows(db: Database, entry_ids: list[str] | None = None, *, resolved: bool | None = None,
         about: str | None = None, runs_under: bool = False) -> list[dict[str, Any]]:
    """The prediction rows the reader may see (of live entries; only ``entry_ids`` if given; only those
    resolved, or open, if ``resolved`` says; only those ``about`` a thing), oldest first, each with its entry's columns
    (``entry_created_at`` its creation): all a listing needs, in one read. Read from the predictions
    outward (CROSS JOIN keeps SQLite's planner from walking every entry of a long log to find the few
    that are predictions)."""
    visible, params = reader_sql(db, "e")
    unanchored, more = _unanchored(db)
    params = [*params, *more]
    only = "" if resolved is None else f" AND p.outcome IS {'NOT ' if resolved else ''}NULL"
    if about is not None:  # about this node, entry or run (and, ``runs_under`` it, about the runs filed there)
        only += " AND (p.target_id = ?" + (" OR (p.target_kind = 'run' AND e.node_id = ?))" if runs_under else ")")
        params = [*params, about, *([about] if runs_under else [])]
    if entry_ids is not None:
        if not entry_ids:
            return []
        only += f" AND p.entry_id IN ({', '.join('?' for _ in entry_ids)})"
        params = [*params, *entry_ids]
    columns = ", ".join(f"e.{c}" for c in ENTRY_COLUMNS)
    return db.query(f"SELECT p.*, {columns}, e.created_at AS entry_created_at FROM predictions p "
                    f"CROSS JOIN entries e WHERE e.id = p.entry_id AND e.deleted_at IS NULL "
                    f"AND e.purged_at IS NULL AND {visible} AND {unanchored}{only} ORDER BY p.created_at, p.entry_id",
                    params)


class Standing(NamedTuple):
    """What a score needs of one resolved prediction (``standing``)."""

    entry_id: str
    node_id: str | None
    target_kind: str | None
    target_id: str | None
    metric: str | None
    low: float | None
    high: float | None
    level: float | None
    outcome: str
    outcome_value: float | None
    evidence_at: str
    scored_by: float | None
    scored_by_at: str | None


def standing(db: Database, *, own: bool = True) -> tuple[list[Standing], list[str | None]]:
    """What a score needs of each visible resolved prediction (the reader's own if ``own``): where it is
    filed, what it is about, a numeric one's claim, and how it stands (kept on its row by ``_restand``);
    and the node each open one is filed under. Read as tuples: thousands of rows, where a dict each
    would cost more than the query."""
    visible, params = reader_sql(db, "e")
    unanchored, more = _unanchored(db)
    mine, theirs = own_sql(db, "e") if own else ("1 = 1", [])
    where = (f"e.id = p.entry_id AND e.deleted_at IS NULL AND e.purged_at IS NULL AND {visible} AND {unanchored} "
             f"AND {mine}")
    values = [*params, *more, *theirs]
    found = [Standing(*row) for row in db.tuples(
        "SELECT p.entry_id, e.node_id, p.target_kind, p.target_id, p.metric, p.low, p.high, p.level, p.outcome, "
        f"p.outcome_value, p.evidence_at, p.scored_by, p.scored_by_at FROM predictions p CROSS JOIN entries e "
        f"WHERE {where} AND p.outcome IS NOT NULL", values)]
    still = [row[0] for row in db.tuples(f"SELECT e.node_id FROM predictions p CROSS JOIN entries e WHERE {where} "
                                         "AND p.outcome IS NULL", values)]
    return found, still


def _question(p: str, e: str) -> str:
    """What a prediction is about, as one key: its target, else the node it is filed under."""
    return f"COALESCE({p}.target_kind || ':' || {p}.target_id, 'node:' || {e}.node_id)"


def _unanchored(db: Database) -> tuple[str, list[Any]]:
    """No anchoring: on a team server, another person's forecasts on a question show to a member only
    once they have made their own on it (or it is resolved, and the answer known). The owner's own view
    (a laptop, the server's command line) sees what it holds."""
    from upstack.domain import access

    audience = access.current(team=db.team)
    if audience is None:
        return "1 = 1", []
    own = "e.author_id = ?" + (" OR e.author_id IS NULL" if audience.owns_unattributed else "")
    mine = "e2.author_id = ?" + (" OR e2.author_id IS NULL" if audience.owns_unattributed else "")
    return (f"(({own}) OR EXISTS (SELECT 1 FROM prediction_events r WHERE r.entry_id = p.entry_id "
            f"AND r.kind = 'resolve') OR EXISTS (SELECT 1 FROM predictions p2 JOIN entries e2 ON e2.id = p2.entry_id "
            f"WHERE ({mine}) AND e2.deleted_at IS NULL AND {_question('p2', 'e2')} = {_question('p', 'e')}))",
            [audience.user_id, audience.user_id])


def events(db: Database, entry_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """{entry id: its events, oldest first}. Many ids are read in one pass over the table (a few
    belong to predictions the reader does not see, and are dropped here)."""
    found: dict[str, list[dict[str, Any]]] = {entry_id: [] for entry_id in entry_ids}
    if len(entry_ids) > 500:
        chunks: list[list[str] | None] = [None]
    else:
        chunks = [entry_ids] if entry_ids else []
    for chunk in chunks:
        where = "" if chunk is None else f" WHERE entry_id IN ({', '.join('?' for _ in chunk)})"
        for row in db.query(f"SELECT * FROM prediction_events{where} ORDER BY entry_id, at, id", chunk or []):
            held = found.get(row["entry_id"])
            if held is not None:
                held.append(row)
    return found


def purge(db: Database, entry_id: str) -> None:
    """A purged prediction keeps nothing of what was said about it."""
    db.execute("DELETE FROM prediction_events WHERE entry_id = ?", (entry_id,))
    db.execute("DELETE FROM predictions WHERE entry_id = ?", (entry_id,))


def resolve_from_run(db: Database, run: Any) -> None:
    """A finished run settles the open numeric predictions of its author about it, or about its node
    (made before it ended): each comes true or not by the metric's value, the run its evidence. A run
    that failed, crashed or was interrupted settles nothing; nor does one without the metric (the
    prediction waits, open, for a run that has it or for its maker). Of a node's runs, the first to end
    settles it: one taken in later that ended earlier (a cluster's folder, a push after a network cut)
    corrects a resolution another run made, never one made by hand. Named by what settles it, so ending
    or taking in the same run twice resolves nothing twice."""
    from upstack.ids import derived_id

    if run.status != "finished" or not run.ended_at:
        return
    ended = str(run.ended_at)
    candidates = db.query(
        "SELECT p.*, e.author_id AS maker FROM predictions p JOIN entries e ON e.id = p.entry_id "
        "WHERE p.metric IS NOT NULL AND e.deleted_at IS NULL AND e.purged_at IS NULL "
        "AND ((p.target_kind = 'run' AND p.target_id = ?) "
        "     OR (p.target_kind = 'node' AND p.target_id = ? AND p.created_at < ?)) "
        "ORDER BY p.created_at, p.entry_id", (run.id, run.node_id or "", ended))
    for row in candidates:
        entry_id = str(row["entry_id"])
        if row["maker"] != run.author_id:
            continue  # someone's run is evidence for their own predictions only
        standing = db.one("SELECT id, evidence_id, evidence_at FROM prediction_events WHERE entry_id = ? "
                          "AND kind = 'resolve' ORDER BY at DESC, id DESC LIMIT 1", (entry_id,))
        if standing is not None and not (
                row["target_kind"] == "node" and ended < str(standing["evidence_at"]) and standing["evidence_id"]
                and standing["id"] == derived_id(str(standing["evidence_at"]), entry_id, "resolve",
                                                 str(standing["evidence_id"]))):
            continue  # settled: by hand, by this run, or by a run under the node that ended first
        claim = _numeric(row)
        value = metric_value(run, claim.metric, claim.aggregate)
        if value is None:
            continue
        last = str(db.scalar("SELECT max(at) FROM prediction_events WHERE entry_id = ?", (entry_id,)) or "")
        why = f"{claim.aggregate} {claim.metric} was {value:g} in run {short_id(run.id)}"
        db.execute(
            "INSERT INTO prediction_events (id, entry_id, at, kind, outcome, value, evidence_id, evidence_at, "
            "reason, author_id) VALUES (?, ?, ?, 'resolve', ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (derived_id(ended, entry_id, "resolve", run.id), entry_id, ended if ended > last else _after(last),
             "true" if claim.came_true(value) else "false", value, run.id, ended,
             why if standing is None else f"{why}, which ended before run {short_id(str(standing['evidence_id']))}",
             row["maker"]))
        _restand(db, entry_id)


def _after(at: str) -> str:
    """A microsecond after ``at``: an event made from others' facts sorts after what came before it."""
    from datetime import timedelta

    from upstack.timeutil import parse_iso, to_iso

    return to_iso(parse_iso(at) + timedelta(microseconds=1))


def metric_value(run: Any, metric: str, aggregate: str) -> float | None:
    """A run's value of a metric: its final, best, min or max point, else a number in its summary."""
    import math

    for found in run.metrics:
        if found.key == metric:
            value = {"final": found.last, "best": found.best, "min": found.min, "max": found.max}[aggregate]
            return float(value) if value is not None and math.isfinite(value) else None
    summary = run.summary.get(metric) if isinstance(run.summary, dict) else None
    if isinstance(summary, int | float) and not isinstance(summary, bool) and math.isfinite(summary):
        return float(summary)
    return None
