"""Runs in the SQL store: their record handlers and their result entries.

A run's records (``run.start`` ... ``run.end``) arrive from its folder (see
``store.run_ingest``) and are applied here like any other record. Metric chunks
are stored as they were written: three packed arrays per row, so a million-point
series is read back in a few rows. When a run ends (or is found crashed) its
result entry is written, with the run's id, under the run's node.
"""

from __future__ import annotations

import contextlib
import json
from array import array
from collections.abc import Mapping
from typing import Any

from upstack.domain import access
from upstack.domain.files import attachment_name
from upstack.domain.run import (
    ENDED,
    MetricSummary,
    RunInfo,
    RunItem,
    metric_order,
    result_body,
    result_title,
    stored_item,
    stored_provenance,
)
from upstack.errors import NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.formats.metrics import Chunk, series_stats
from upstack.ids import derived_id, id_key, looks_like_full_id, short_id
from upstack.store import artifacts
from upstack.store.accounts import attributed
from upstack.store.artifacts import HANDLERS as ARTIFACT_HANDLERS
from upstack.store.db import Database
from upstack.store.ingest import create_entry, revise_entry, unindex_entry, with_offset
from upstack.store.integrity import chunk_checksum, stored_json
from upstack.store.queries import resolve, visible_runs_sql
from upstack.store.sync import id_named, zone_for_reader
from upstack.timeutil import parse_iso

__all__ = ["HANDLERS", "stored_tags", "add_chunks", "add_points", "read_series", "read_xy", "load_run", "load_runs",
           "run_state", "run_records", "mark_crashed", "heard_last", "finalize", "purge", "purged",
           "same_run_id", "is_deleted"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: float | None) -> str | None:
    return None if value is None else repr(float(value))


# -- record handlers -------------------------------------------------------------------

def _start(db: Database, record: Record) -> None:
    data = record.data
    if not is_result_of(db, data["run_id"], data.get("by"), missing=True) or \
            db.scalar("SELECT 1 FROM nodes WHERE id = ?", (data["run_id"],)):
        raise UpstackError(f"run {data['run_id']}: that id is taken by something that is not its result")
    other = db.scalar("SELECT id FROM runs WHERE key = ? AND id <> ?", (id_key(data["run_id"]), data["run_id"]))
    if other is not None:  # refused, never dropped unsaid: its other records would have no run to go to
        raise UpstackError(f"run {data['run_id']}: its key is taken by run {other} (the same run, "
                           "started at another time?)")
    node_id = data.get("node_id")
    if not node_id and data.get("node_ref"):
        node_id = _resolve_node_ref(db, data["node_ref"])
    columns, values = attributed(
        ["id", "key", "name", "node_id", "status", "started_at", "heartbeat_at", "host", "tags", "goals", "config"],
        [data["run_id"], id_key(data["run_id"]), data["name"], node_id, "running", data["started_at"],
         data["started_at"], data.get("host", ""), _dumps(data.get("tags", [])),
         _dumps(data.get("goals", {})), _dumps(data.get("config", {}))], "author_id", data)
    columns, values = with_offset(columns, values, data)
    db.execute(f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in values)}) "
               "ON CONFLICT DO NOTHING", values)


def is_result_of(db: Database, run_id: str, author_id: str | None, *, missing: bool = False) -> bool:
    """Whether the entry with run ``run_id``'s id is that run's result, written for its author (or, with
    ``missing``, there is no such entry yet). A run never touches an entry it did not write."""
    entry = db.one("SELECT author_id, meta FROM entries WHERE id = ?", (run_id,))
    if entry is None:
        return missing
    return entry["author_id"] == author_id and json.loads(entry["meta"] or "{}").get("run") == run_id


def _resolve_node_ref(db: Database, ref: str) -> str:
    """A node named when the run could not look it up; kept as given if it names nothing."""
    try:
        return resolve(db, ref, table="nodes", what="node")
    except UpstackError:
        return ref  # the result entry says where the run was meant to go


def _run_row(db: Database, run_id: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM runs WHERE id = ?", (run_id,))
    if row is None:
        raise NotFound(f"run {run_id} has no start record")
    return row


def _provenance(db: Database, record: Record) -> None:
    data = record.data
    _run_row(db, data["run_id"])
    db.execute("UPDATE runs SET provenance = ? WHERE id = ?",
               (_dumps({k: data.get(k) for k in ("data", "captured", "skipped")}), data["run_id"]))
    if data.get("diff"):
        _add_item(db, record, "diff", {"attachments": [data["diff"]]})


def _add_item(db: Database, record: Record, kind: str, data: dict[str, Any]) -> None:
    attachments = data.get("attachments")
    if isinstance(attachments, list):  # names from someone else: never a path (domain/files.py)
        data = {**data, "attachments": [{**a, "filename": attachment_name(a.get("filename", ""))}
                                        if isinstance(a, dict) else a for a in attachments]}
    db.execute("INSERT INTO run_items (id, run_id, kind, at, data) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT DO NOTHING", (record.id, record.data["run_id"], kind, record.at, _dumps(data)))


def _item(kind: str) -> Any:
    def handler(db: Database, record: Record) -> None:
        _run_row(db, record.data["run_id"])
        _add_item(db, record, kind, {k: v for k, v in record.data.items() if k != "run_id"})
    return handler


def _summary(db: Database, record: Record) -> None:
    run = _run_row(db, record.data["run_id"])
    summary = json.loads(run["summary"])
    values = record.data.get("values", {})
    summary.update(values)
    summary.update({k: v for k, v in record.data.items() if k not in ("run_id", "values")})
    db.execute("UPDATE runs SET summary = ? WHERE id = ?", (_dumps(summary), run["id"]))


def _end(db: Database, record: Record) -> None:
    data = record.data
    _run_row(db, data["run_id"])
    if data.get("traceback"):
        _add_item(db, record, "traceback", {"attachments": [data["traceback"]]})
    db.execute("UPDATE runs SET status = ?, ended_at = ?, error = ?, points_lost = ? WHERE id = ?",
               (data["status"], data["ended_at"], data.get("error", ""), int(data.get("points_lost") or 0),
                data["run_id"]))
    # The result entry is written by the ingester once the last metrics are in too.


def _resume(db: Database, record: Record) -> None:
    """A run taken up again (``upstack.run(..., resume=ID)``): running once more, its end and error
    cleared until it ends again; when and where it was resumed is kept as one of its items."""
    data = record.data
    _run_row(db, data["run_id"])
    _add_item(db, record, "resume", {k: v for k, v in data.items() if k != "run_id"})
    db.execute("UPDATE runs SET status = 'running', ended_at = NULL, error = '', heartbeat_at = ? WHERE id = ?",
               (data.get("at") or record.at, data["run_id"]))


HANDLERS = {
    "run.start": _start,
    "run.provenance": _provenance,
    "run.figure": _item("figure"),
    "run.table": _item("table"),
    "run.note": _item("note"),
    "run.summary": _summary,
    "run.end": _end,
    "run.resume": _resume,
    "run.predict": lambda db, record: _predict(db, record),
    **ARTIFACT_HANDLERS,  # run.artifact, run.use_artifact
}


def _predict(db: Database, record: Record) -> None:
    from upstack.store import predictions

    predictions.from_run(db, record)


# -- metrics -------------------------------------------------------------------------------

def add_chunks(db: Database, run_id: str, chunks: list[Chunk]) -> None:
    """Store merged chunks and fold them into the run's per-metric summary."""
    for chunk in chunks:
        steps, times, values = chunk.steps.tobytes(), chunk.times.tobytes(), chunk.values.tobytes()
        inserted = db.execute(
            "INSERT INTO metric_chunks (run_id, key, file_offset, count, steps, times, vals, checksum) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (run_id, chunk.key, chunk.offset, len(chunk), steps, times, values,
             chunk_checksum(steps, times, values))).rowcount
        if not inserted:
            continue
        low, high = series_stats(chunk.values)
        found = db.one("SELECT * FROM run_metrics WHERE run_id = ? AND key = ?", (run_id, chunk.key))
        if found is None:
            db.execute("INSERT INTO run_metrics (run_id, key, count, last_step, last_value, min_value, "
                       "max_value) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (run_id, chunk.key, len(chunk), chunk.steps[-1], _text(chunk.values[-1]),
                        _text(low), _text(high)))
            continue
        old_low = _number(found["min_value"])
        old_high = _number(found["max_value"])
        lows = [v for v in (old_low, low) if v is not None]
        highs = [v for v in (old_high, high) if v is not None]
        db.execute("UPDATE run_metrics SET count = count + ?, last_step = ?, last_value = ?, "
                   "min_value = ?, max_value = ? WHERE run_id = ? AND key = ?",
                   (len(chunk), chunk.steps[-1], _text(chunk.values[-1]),
                    _text(min(lows)) if lows else None, _text(max(highs)) if highs else None,
                    run_id, chunk.key))


def add_points(db: Database, run_id: str, key: str, start: int, steps: array, times: array,
               values: array) -> int:
    """Append points to a run's series where ``start`` is the index of the first of them; points
    the store already holds are skipped, so sending the same points again adds nothing. Returns
    how many points the series has. (Used for runs that log to a team server: there the point
    index, not a byte offset in a run folder, names a chunk.)"""
    have = int(db.scalar("SELECT count FROM run_metrics WHERE run_id = ? AND key = ?", (run_id, key)) or 0)
    if start > have:
        raise UpstackError(f"metric {key!r} of run {run_id}: points from #{start} sent, but only "
                           f"{have} are here; send from #{have}")
    skip = have - start
    if skip < len(values):
        add_chunks(db, run_id, [Chunk(key, steps[skip:], times[skip:], values[skip:], offset=have)])
    return max(have, start + len(values))


def _number(text: str | None) -> float | None:
    return None if text is None else float(text)


def read_xy(db: Database, run_id: str, key: str, x: str = "steps") -> tuple[array, array]:
    """A series' x (``steps`` or ``times``) and values only: a third less to read than ``read_series``
    where the other is not drawn (a group chart of 50 runs reads 5,000,000 points)."""
    column = {"steps": "steps", "times": "times"}[x]
    xs, values = array("q" if column == "steps" else "d"), array("d")
    for row in db.query(f"SELECT {column} AS x, vals FROM metric_chunks WHERE run_id = ? AND key = ? "
                        "ORDER BY file_offset", (run_id, key)):
        xs.frombytes(row["x"])
        values.frombytes(row["vals"])
    return xs, values


def read_series(db: Database, run_id: str, key: str) -> tuple[array, array, array]:
    steps, times, values = array("q"), array("d"), array("d")
    for row in db.query("SELECT steps, times, vals FROM metric_chunks WHERE run_id = ? AND key = ? "
                        "ORDER BY file_offset", (run_id, key)):
        steps.frombytes(row["steps"])
        times.frombytes(row["times"])
        values.frombytes(row["vals"])
    return steps, times, values


# -- whole runs ----------------------------------------------------------------------------

def _visible_ids(db: Database, run_ids: list[str] | None = None) -> set[str] | None:
    """Which of these runs (None: all) the reader may see; None for the owner's full view."""
    audience = access.current(team=db.team)
    if audience is None:
        return None
    visible, params = visible_runs_sql(audience)
    wanted = f" AND r.id IN ({', '.join('?' for _ in run_ids)})" if run_ids else ""
    return {str(r["id"]) for r in db.query(f"SELECT r.id FROM runs r WHERE {visible}{wanted}",
                                           [*params, *(run_ids or [])])}


def load_run(db: Database, run_id: str, *, details: bool = True) -> RunInfo:
    row = _run_row(db, run_id)
    visible = _visible_ids(db, [run_id])
    if visible is not None and run_id not in visible:
        raise NotFound(f"no run with id {run_id!r}")  # on a team server, not theirs to see
    info = _info(row, db.query("SELECT * FROM run_metrics WHERE run_id = ? ORDER BY key", (run_id,)))
    if details:
        items = [(i, stored_item(i["kind"], stored_json(i["data"], f"{i['kind']} {short_id(i['id'])} of run "
                                                                   f"{short_id(run_id)}")))
                 for i in db.query("SELECT * FROM run_items WHERE run_id = ? ORDER BY id", (run_id,))]
        info.items = [RunItem(kind=i["kind"], at=i["at"], data=data) for i, data in items if data is not None]
    return info


def load_runs(db: Database, run_ids: list[str]) -> list[RunInfo]:
    """Many runs at once, without their items, in the order given; those the reader may not see
    (and ids that name no run) are left out. Two queries, however many runs."""
    if not run_ids:
        return []
    visible = _visible_ids(db, run_ids)
    wanted = [i for i in run_ids if visible is None or i in visible]
    rows: dict[str, dict[str, Any]] = {}
    metrics: dict[str, list[dict[str, Any]]] = {}
    for part in _batches(wanted):
        marks = ", ".join("?" for _ in part)
        rows.update((r["id"], r) for r in db.query(f"SELECT * FROM runs WHERE id IN ({marks})", part))
        for m in db.query(f"SELECT * FROM run_metrics WHERE run_id IN ({marks}) ORDER BY run_id, key", part):
            metrics.setdefault(m["run_id"], []).append(m)
    return [_info(rows[i], metrics.get(i, [])) for i in wanted if i in rows]


def _batches(ids: list[str], size: int = 900) -> list[list[str]]:
    """Ids in slices that stay under SQLite's limit on parameters in one statement."""
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def _info(row: dict[str, Any], metric_rows: Any) -> RunInfo:
    info = RunInfo(
        id=row["id"], name=row["name"], status=row["status"], node_id=row["node_id"],
        started_at=row["started_at"], ended_at=row["ended_at"], heartbeat_at=row["heartbeat_at"],
        host=row["host"], error=row["error"], config=_object(row, "config"),
        provenance=stored_provenance(_stored(row, "provenance")), summary=_object(row, "summary"),
        tags=[str(t) for t in _list(row, "tags")],
        goals={str(k): str(v) for k, v in _object(row, "goals").items()}, author_id=row.get("author_id"),
        points_lost=int(row.get("points_lost") or 0), deleted_at=row.get("deleted_at"))
    info.metrics = [
        MetricSummary(key=m["key"], count=int(m["count"]), last_step=int(m["last_step"]),
                      last=float(m["last_value"]), min=_number(m["min_value"]),
                      max=_number(m["max_value"]), goal=info.goals.get(m["key"], ""))
        for m in sorted(metric_rows, key=lambda m: metric_order(m["key"]))]
    return info


def _stored(row: dict[str, Any], column: str) -> Any:
    return stored_json(row[column], f"the {column} of run {short_id(row['id'])}")


def _object(row: dict[str, Any], column: str) -> dict[str, Any]:
    value = _stored(row, column)
    return value if isinstance(value, dict) else {}


def _list(row: dict[str, Any], column: str) -> list[Any]:
    value = _stored(row, column)
    return value if isinstance(value, list) else []


def run_state(db: Database, run_ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """What sync compares for each run: its status, its items, its summary (as a hash) and how
    many points each metric has. Only runs the reader may see (everything, with no one signed in)."""
    import hashlib

    if run_ids == []:
        return {}
    marks = ", ".join("?" for _ in run_ids or [])
    params = list(run_ids or [])
    visible = _visible_ids(db, run_ids)
    states: dict[str, dict[str, Any]] = {}
    for row in db.query("SELECT id, status, summary FROM runs" + (f" WHERE id IN ({marks})" if run_ids else ""),
                        params):
        if visible is None or row["id"] in visible:
            summary = json.dumps(json.loads(row["summary"]), sort_keys=True)  # the same, however it was built
            states[row["id"]] = {"status": row["status"], "items": [], "metrics": {}, "changes": [],
                                 "summary": hashlib.sha256(summary.encode()).hexdigest()[:16]}
    of_runs = f" WHERE run_id IN ({marks})" if run_ids else ""
    for row in db.query(f"SELECT run_id, id FROM run_items{of_runs} ORDER BY id", params):
        if row["run_id"] in states:
            states[row["run_id"]]["items"].append(row["id"])
    for run_id, record_ids in artifacts.link_record_ids(db, run_ids).items():
        if run_id in states:
            states[run_id]["items"] += record_ids
    for row in db.query(f"SELECT run_id, key, count FROM run_metrics{of_runs}", params):
        if row["run_id"] in states:
            states[row["run_id"]]["metrics"][row["key"]] = int(row["count"])
    audience = access.current(team=db.team)
    for row in db.query(f"SELECT run_id, id, change, new_value FROM run_events{of_runs} ORDER BY id", params):
        if row["run_id"] in states and _change_shown(audience, row):
            states[row["run_id"]]["changes"].append(row["id"])
    return states


def run_records(db: Database, run_id: str) -> list[Record]:
    """Records that rebuild a run elsewhere from what the store holds (start, provenance, items,
    summary, end, in that order). An item keeps its id, so sending it twice adds it once."""
    run = load_run(db, run_id)
    workspace = "sync"
    # The name and tags it started with (its changes, sent after it, make it what it is now), so that
    # a rename's history reads "from X" on the machine that pulls it too. Its node stays the one it is
    # under now: a push is checked against it, and an earlier node may be one the reader cannot see.
    first = {e["change"]: e["old_value"] for e in reversed(events(db, run.id)) if e["change"] in ("name", "tags")}
    start = {"run_id": run.id, "name": first.get("name") or run.name, "node_id": run.node_id, "config": run.config,
             "tags": first.get("tags", run.tags),
             "goals": run.goals, "started_at": run.started_at, "host": run.host,
             **zone_for_reader(db, run.author_id, _offset_of(db, run.id).get("utc_offset")),
             **({"by": run.author_id} if run.author_id else {})}  # a pulled run stays its author's
    records = [Record(f"{run.id}.start", "run.start", workspace, run.started_at, start)]
    items = [{**i, "data": stored_item(i["kind"], json.loads(i["data"]))}
             for i in db.query("SELECT * FROM run_items WHERE run_id = ? ORDER BY id", (run_id,))]
    items = [i for i in items if i["data"] is not None]  # what does not have its shape stays here
    diff = next((i for i in items if i["kind"] == "diff"), None)
    if run.provenance:
        data = {"run_id": run.id, **run.provenance}
        if diff is not None:
            data["diff"] = diff["data"]["attachments"][0]
        records.append(Record(diff["id"] if diff else f"{run.id}.provenance", "run.provenance", workspace,
                              diff["at"] if diff else run.started_at, data))
    records += [Record(i["id"], f"run.{i['kind']}", workspace, i["at"], {"run_id": run.id, **i["data"]})
                for i in items if i["kind"] in ("figure", "table", "note", "resume")]
    records += _change_records(db, run.id)
    if run.summary:
        summary = _dumps(run.summary)
        records.append(Record(derived_id(run.started_at, run.id, "summary", summary), "run.summary", workspace,
                              run.started_at, {"run_id": run.id, "values": run.summary}))
    records += artifacts.artifact_records(db, run_id)  # after the items, before the end
    if run.status in ENDED and run.ended_at:
        traceback = next((i for i in items if i["kind"] == "traceback"), None)
        end: dict[str, Any] = {"run_id": run.id, "status": run.status, "ended_at": run.ended_at, "error": run.error}
        if run.points_lost:
            end["points_lost"] = run.points_lost
        if traceback is not None:
            end["traceback"] = traceback["data"]["attachments"][0]
        records.append(Record(traceback["id"] if traceback else derived_id(run.ended_at, run.id, "end", run.status),
                              "run.end", workspace, run.ended_at, end))
    return records


# A run's changes after the fact (store/run_manage.py applies them): op -> the change its event keeps.
# A delete and a restore are one family: the newest of the two decides.
CHANGE_OPS = {"run.rename": "name", "run.retag": "tags", "run.move": "node", "run.delete": "deleted",
              "run.restore": "restored"}
_OP_OF = {change: op for op, change in CHANGE_OPS.items()}


def events(db: Database, run_id: str) -> list[dict[str, Any]]:
    """Every change of a run, oldest first: ``id``, ``at``, ``change``, ``old_value``, ``new_value``,
    ``author_id`` (tags as lists)."""
    found = []
    for row in db.query("SELECT id, at, change, old_value, new_value, author_id FROM run_events "
                        "WHERE run_id = ? ORDER BY at, id", (run_id,)):
        event = dict(row)
        if event["change"] == "tags":
            event["old_value"], event["new_value"] = stored_tags(event["old_value"]), stored_tags(event["new_value"])
        found.append(event)
    return found


def stored_tags(text: str | None) -> list[str]:
    """A stored JSON list of tags as a list of text (anything else: none)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(t) for t in value] if isinstance(value, list) else []


def _change_records(db: Database, run_id: str) -> list[Record]:
    """The records that make a run's changes again elsewhere (sync), each under its own id: the change,
    not who made it (on a team server, whoever pushes it; only a run's author may)."""
    records = []
    audience = access.current(team=db.team)
    for event in events(db, run_id):
        if not _change_shown(audience, event):
            continue
        data: dict[str, Any] = {"run_id": run_id, "at": event["at"]}
        field = {"name": "name", "tags": "tags", "node": "node_id"}.get(event["change"])
        if field:
            data[field] = event["new_value"]
        came_from = event["old_value"]
        if event["change"] == "node" and (audience is None or came_from is None or audience.role(came_from)):
            data["from_node_id"] = came_from  # never a node the reader may not see, not even its id
        records.append(Record(event["id"], _OP_OF[event["change"]], "sync", event["at"], data))
    return records


def _change_shown(audience: access.Audience | None, event: Mapping[str, Any]) -> bool:
    """Whether sync sends the reader this change of a run they may see: not a move into a node they may not
    see (its id is sent nowhere else; the run's next move, from there, comes without where it was)."""
    node = event["new_value"] if event["change"] == "node" else None
    return audience is None or node is None or audience.role(str(node)) is not None


def result_title_now(db: Database, run_id: str) -> str:
    """The title the run's result entry gets from what the store holds of the run now."""
    run = load_run(db, run_id, details=False)
    return result_title(run, _seconds(run))


def _seconds(run: RunInfo) -> float | None:
    if not run.ended_at:
        return None
    with contextlib.suppress(ValueError):  # a time stored before times were checked at the door
        return (parse_iso(run.ended_at) - parse_iso(run.started_at)).total_seconds()
    return None


def _offset_of(db: Database, run_id: str) -> dict[str, str]:
    """``{"utc_offset": ...}`` as the run's start recorded it (the zone it was started in), or empty."""
    offset = db.scalar("SELECT utc_offset FROM runs WHERE id = ?", (run_id,))
    return {"utc_offset": str(offset)} if offset else {}


def heard_last(db: Database, run_id: str) -> str:
    """When a run that logs from afar was last heard from."""
    return str(db.scalar("SELECT heartbeat_at FROM runs WHERE id = ?", (run_id,)))



def mark_crashed(db: Database, run_id: str, last_heard: str, workspace: str) -> None:
    db.execute("UPDATE runs SET status = 'crashed', ended_at = ?, "
               "error = 'stopped without ending (killed, or its machine went down)' WHERE id = ?",
               (last_heard, run_id))
    finalize(db, run_id, workspace)


def finalize(db: Database, run_id: str, workspace: str) -> None:
    """Write (or revise) the run's result entry from everything the store holds about it."""
    run = load_run(db, run_id)
    if run.status not in ENDED:
        return
    attachments = [a for item in run.items for a in item.data.get("attachments", [])]
    shorts = {a["id"]: id_key(a["id"])[:7] for a in attachments}
    title, body = result_title(run, _seconds(run)), result_body(run, shorts)
    meta: dict[str, Any] = {"run": run.id, "run_status": run.status}
    meta.update({k: run.summary[k] for k in ("expected", "happened", "outcome") if run.summary.get(k)})
    existing = db.one("SELECT e.revision_id, e.title, e.body, e.purged_at, v.created_at AS revised_at FROM entries e "
                      "LEFT JOIN revisions v ON v.id = e.revision_id WHERE e.id = ?", (run_id,))
    now = run.ended_at or run.started_at
    author = run.author_id  # the result is theirs
    if existing is not None and not is_result_of(db, run_id, author):
        return  # an entry the run did not write (a run cannot start under a taken id; kept safe anyway)
    # Named by its content: a laptop and its team server that finalize the same run make the
    # same revision, so syncing them finds nothing to exchange (and ending twice adds nothing).
    revision = derived_id(now, run_id, "result", title, body)
    offset = _offset_of(db, run_id)  # its result and learning are read in the zone the run was started in
    if existing is None:
        create_entry(db, {
            "id": run_id, "revision_id": revision, "kind": "result", "title": title, "body": body,
            "extra_tags": run.tags, "private": False, "node_id": run.node_id,
            "occurred_at": now, "created_at": now, "attachments": attachments, "meta": meta, "by": author,
            **offset}, workspace)
    elif not existing["purged_at"] and _written_by_run(existing, run_id):
        revise_entry(db, {"entry_id": run_id, "revision_id": revision, "title": title, "body": body,
                          "created_at": now, "attachments": attachments, "meta": meta}, workspace)
    if run.deleted_at:  # deleted while it ran: its result is deleted with it (store/run_manage.py)
        db.execute("UPDATE entries SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", (run.deleted_at, run_id))
        unindex_entry(db, run_id)
    learned = run.summary.get("learned")
    learning_id = run.summary.get("learning_id")
    # Its id names nothing else (store/sync.py's id_named: a comment's, a revision's, ...): a laptop takes in
    # pulled records by id, so one id for two things would keep one of them out for good.
    if learned and isinstance(learning_id, str) and looks_like_full_id(learning_id) \
            and not id_named(db, learning_id):
        from upstack.domain.text import parse_note_text

        parsed = parse_note_text(learned)
        create_entry(db, {
            "id": run.summary["learning_id"], "revision_id": derived_id(now, run.summary["learning_id"], learned),
            "kind": "learning", "title": parsed.title,
            "body": (parsed.body + "\n\n" if parsed.body else "") + f"Learned from [[{id_key(run_id)[:7]}]].",
            "extra_tags": [], "private": False, "node_id": run.node_id, "occurred_at": now,
            "created_at": now, "attachments": [], "meta": {"learned_from": run_id}, "by": author, **offset},
            workspace)
    from upstack.store import predictions

    predictions.resolve_from_run(db, run)


def _written_by_run(entry: dict[str, Any], run_id: str) -> bool:
    """Whether the result entry's current text is one the run wrote (finalize names its revision by its
    time and content). One edited by hand, renamed or retagged since is someone's word: finalize leaves
    it as it is."""
    return bool(entry["revision_id"] == derived_id(str(entry["revised_at"]), run_id, "result", entry["title"],
                                                   entry["body"]))


def purge(db: Database, run_id: str) -> None:
    """Purging a run's result entry removes what the run captured too (a leaked secret)."""
    db.execute("UPDATE runs SET config = '{}', provenance = '{}', summary = '{}', error = '', tags = '[]' "
               "WHERE id = ?", (run_id,))
    db.execute("UPDATE run_items SET data = '{}' WHERE run_id = ?", (run_id,))
    db.execute("UPDATE run_events SET old_value = NULL, new_value = NULL WHERE run_id = ? AND change = 'tags'",
               (run_id,))  # its tags went above: their history goes with them
    db.execute("DELETE FROM metric_chunks WHERE run_id = ?", (run_id,))
    db.execute("DELETE FROM run_metrics WHERE run_id = ?", (run_id,))


def same_run_id(db: Database, run_id: str) -> str:
    """The id of the run stored with ``run_id``'s key, else ``run_id``. A derived id's key is the hash of
    what it was made from (``ids.derived_id``), its time part only orders it: a run of another tracker
    read again with a different start (its first points rewritten) is still the run stored before."""
    found = db.scalar("SELECT id FROM runs WHERE key = ?", (id_key(run_id),))
    return run_id if found is None else str(found)


def purged(db: Database, run_id: str) -> bool:
    """Whether the run's result entry was purged: what the run captured went with it, and nothing (an
    import of its history again, say) brings it back."""
    return db.scalar("SELECT 1 FROM entries WHERE id = ? AND purged_at IS NOT NULL", (run_id,)) is not None


def is_deleted(db: Database, run_id: str) -> bool:
    """Whether there is a run with this id, deleted (its result entry, of the same id, went with it)."""
    return db.scalar("SELECT 1 FROM runs WHERE id = ? AND deleted_at IS NOT NULL", (run_id,)) is not None
