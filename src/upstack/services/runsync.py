"""Runs on a team server: logged there live by a training process, or sent by `upstack sync`.

A run always writes its own folder first: that is fast, and safe with the network down. In a
workspace linked to a server (`upstack login`), the run also sends what is new in its folder to
the server every few seconds (``services.live``), so collaborators watch its charts as it trains;
`upstack sync` later sends whatever the server still lacks, rebuilt from the laptop's store, and
takes the ended runs there that the user may see (a run logged from a cluster reaches the laptop).

Both directions send the same two things, and both are safe to send twice:

- **records** (``run.start`` ... ``run.end``): the server applies each record id once;
- **points**, per metric, numbered by their index in the series: a push says "these points,
  starting at #i"; the server skips the ones it holds and refuses a gap.

So a push repeated after a lost answer, or an upload resumed by `upstack sync`, adds nothing
twice. The server checks each push against the pusher's roles, as it does the rest of sync: a
run is its author's alone to push to, it goes under a node they may file under, and it names
only files they uploaded. Once a run has ended and its points are in, the server writes its
result entry; named by its content, it is the same entry the laptop wrote.
"""

from __future__ import annotations

import base64
import sys
from array import array
from collections.abc import Callable, Mapping
from typing import Any

from upstack.domain import access
from upstack.domain.access import Audience
from upstack.domain.text import unstorable
from upstack.domain.tracker import EARLIEST_EPOCH, LATEST_EPOCH
from upstack.errors import BadInput, NotFound, Refused
from upstack.formats.journal import Record
from upstack.services.remote import fetch_blob
from upstack.services.sync_records import parse_record, plain
from upstack.store.runs import CHANGE_OPS

__all__ = ["accept_run", "take", "give_run", "send", "push_runs", "pull_runs", "wire_points", "RUN_OPS",
           "PUSH_POINTS", "Series"]

RUN_OPS = ("run.start", "run.provenance", "run.figure", "run.table", "run.note", "run.summary", "run.predict",
           "run.artifact", "run.use_artifact", "run.end", "run.resume", *CHANGE_OPS)
PUSH_POINTS = 200_000  # points per request: 4.8 MB of numbers, 6.4 MB once in base64
NO_RUN = "no such run, or it is not yours to log to (a new run's start record comes first)"

# key -> (index of the first point, steps, times, values)
Series = dict[str, tuple[int, array, array, array]]


# -- the server's side ---------------------------------------------------------------------------

def accept_run(ws: Any, run_id: str, raw: list[Any], points: Mapping[str, Any], by: Audience) -> dict[str, Any]:
    """Apply a push to run ``run_id`` from ``by``; returns the run's status and how many points
    each of its metrics has."""
    from upstack.services.quota import check_run
    from upstack.services.record_shapes import problem
    from upstack.services.sync_door import TAKEN, may_attach
    from upstack.store import runs
    from upstack.store.run_sync import author_and_node
    from upstack.store.sync import id_named, part_of

    store = ws.store()
    db = store.db
    records = [parse_record(item, RUN_OPS) for item in raw]
    for record in records:
        reason = problem(record.op, record.data)
        if reason:
            raise BadInput(f"record {record.id[:40]}: {reason}")
    series = {str(key): _decode(key, value) for key, value in points.items()}
    if any(r.data.get("run_id") != run_id for r in records):
        raise BadInput(f"every record of a push to run {run_id} must name that run")
    row = author_and_node(db, run_id)
    if row is not None and not by.is_author(row["author_id"]):
        raise NotFound(NO_RUN)  # someone else's run answers as one that is not there
    if row is not None and not by.may_file_under(row["node_id"]):  # their role there ended since it started
        raise BadInput("you may no longer log to this run: its node is not shared with you as editor any more")
    if _predicts_late(db, run_id, records, exists=row is not None):
        from upstack.store.predictions import RUN_ENDED

        raise BadInput(RUN_ENDED.format(run=run_id))
    _check_changes(db, run_id, records, by)
    starts = [r for r in records if r.op == "run.start"]
    records = [r for r in records if r.op != "run.start"]  # a run's start, once it is here, changes nothing
    if row is None:
        if not starts:
            raise NotFound(NO_RUN)  # as someone else's: a run's id says nothing of whether it exists
        if id_named(db, run_id) and not runs.is_result_of(db, run_id, by.user_id):
            # The id is an entry's, a node's, a revision's, a file's, a comment's or a node change's: a run
            # never takes one over (its result entry would share it, as sync_door._id_clash refuses).
            raise NotFound(NO_RUN)
        starts[0].data.update(by=by.user_id, node_id=_node(db, starts[0].data, by))  # what they log is theirs
        starts[0].data.pop("node_ref", None)
        records.insert(0, starts[0])
    with ws.blobs.adding():  # from checking its files are here until its records are in (store/blobs.py)
        for record in records:
            for attachment in _attachments(record):
                if not may_attach(ws, by, str(attachment.get("sha256", ""))):
                    raise BadInput(f"record {record.id} names a file you did not upload first "
                                   f"({str(attachment.get('sha256'))[:12]})")
                file_id = str(attachment.get("id", ""))  # it becomes a file of the run's result entry
                if id_named(db, file_id) and not part_of(db, file_id, run_id):  # as sync_door._id_clash
                    raise BadInput(f"record {record.id}: {TAKEN}")
            if record.op == "run.predict" and _prediction_id_taken(db, str(record.data["entry_id"]), run_id):
                raise BadInput(f"record {record.id}: its prediction's {TAKEN}")
            if record.op == "run.use_artifact":
                _check_use(db, record, records, by)
        check_run(ws, by, run_id, new=row is None, counts={key: (s[0], len(s[3])) for key, s in series.items()})
        return take(store, run_id, records, series)


def _predicts_late(db: Any, run_id: str, records: list[Record], *, exists: bool) -> bool:
    """Whether a new ``run.predict`` comes once the run's result (or part of it) was in: the run ended or
    was resumed, here before this push or earlier in it. One this run made already is one sent again."""
    from upstack.store.predictions import about_run, predicts_no_more

    late = exists and predicts_no_more(db, run_id)
    for record in records:
        if record.op == "run.predict" and late and not about_run(db, str(record.data["entry_id"]), run_id):
            return True
        late = late or record.op in ("run.end", "run.resume")
    return False


def _check_changes(db: Any, run_id: str, records: list[Record], by: Audience) -> None:
    """A run's changes after the fact (rename, retag, move, delete, restore) are its author's (the push
    is refused before this for anyone else's run): each under an id that names nothing else (one of this
    run's own changes is one sent again), made by the pusher whatever it says, and a move only under a
    node they may file under, from one they may see; a node they may not see answers as one that is not there."""
    from upstack.services.sync_door import TAKEN
    from upstack.store.run_manage import change_of
    from upstack.store.sync import id_named

    for record in records:
        if record.op not in CHANGE_OPS:
            continue
        if id_named(db, record.id) and change_of(db, record.id) != run_id:
            raise BadInput(f"record {record.id[:40]}: {TAKEN}")
        record.data["by"] = by.user_id
        node = record.data.get("node_id")
        if record.op == "run.move" and node and not (by.sees_node(str(node)) and by.may_file_under(str(node))):
            raise BadInput(f"record {record.id[:40]}: no such node, or you may not file runs under it "
                           "(its owner can make you an editor)")
        came_from = record.data.get("from_node_id")
        if record.op == "run.move" and came_from and not by.sees_node(str(came_from)):
            # Where it was, as a pull sends it: never a node the pusher may not see (else anyone's history
            # would read 'moved from' a node they never filed it under). Left out, the store takes the run's.
            del record.data["from_node_id"]


def _check_use(db: Any, record: Record, records: list[Record], by: Audience) -> None:
    """A run may say it used only a version its pusher may see (or one it stores itself in this push):
    anything else is refused as not there, whether it exists or not."""
    from upstack.store.artifacts import check_usable

    data = record.data
    if data["producer"] == data["run_id"] and any(
            r.op == "run.artifact" and r.data.get("name") == data["name"] and r.data.get("digest") == data["digest"]
            for r in records):
        return
    with access.acting_as(by):
        try:
            check_usable(db, str(data["producer"]), str(data["name"]), str(data["digest"]))
        except NotFound:
            raise BadInput(f"record {record.id}: no artifact {data['name']!r} of that content that you may "
                           "see: a run may use only an artifact its pusher may see") from None


def _prediction_id_taken(db: Any, entry_id: str, run_id: str) -> bool:
    """Whether a ``run.predict``'s entry id names something other than a prediction this run made
    (sent again, it is the same prediction): the store would otherwise set it aside after the door
    said yes, or keep the other thing under it."""
    from upstack.store.sync import id_named

    if entry_id == run_id:
        return True  # the run's own result entry comes with the run
    if not id_named(db, entry_id):
        return False
    from upstack.store.predictions import about_run

    return not about_run(db, entry_id, run_id)


def take(store: Any, run_id: str, records: list[Record], series: Series, *, complete: bool = True) -> dict[str, Any]:
    """Apply a run's records and points to a store (the server's, or a laptop's pulling); then
    a run heard from is alive, and an ended run whose last points are in (``complete``) gets its
    result."""
    from upstack.store.run_sync import take_points

    store.write(records)  # a record that cannot apply is kept aside (the journal's rejected.jsonl)
    taken = take_points(store, run_id, series, ended=any(r.op == "run.end" for r in records), complete=complete)
    if taken is None:
        raise BadInput(f"run {run_id}: its start record could not be applied")
    status, counts = taken
    return {"run": run_id, "status": status, "metrics": counts}


def give_run(ws: Any, run_id: str, have: Mapping[str, Any]) -> dict[str, Any]:
    """An ended run the reader may see, for a laptop to pull: its records (the end among them,
    so a pull cut short leaves an ended run, not a silent one), and its points from where
    ``have`` (points per metric) says the laptop is, at most ``PUSH_POINTS`` of them. ``more``
    says to ask again; the laptop writes the result once it has every point."""
    from upstack.store import runs

    db = ws.store().db
    records = runs.run_records(db, run_id)  # NotFound if the reader may not see it
    piece: Series = {}
    room, more = PUSH_POINTS, False
    for metric in runs.load_run(db, run_id, details=False).metrics:
        start = have.get(metric.key, 0)
        start = start if isinstance(start, int) and start >= 0 else 0
        size = max(0, min(room, metric.count - start))
        if size:
            steps, times, values = runs.read_series(db, run_id, metric.key)
            piece[metric.key] = (start, steps[start:start + size], times[start:start + size],
                                 values[start:start + size])
            room -= size
        more = more or start + size < metric.count
    return {"records": [plain(r) for r in records],
            "points": {key: wire_points(*points) for key, points in piece.items()}, "more": more}


def _node(db: Any, start: dict[str, Any], by: Audience) -> str | None:
    """The node a pushed run goes under, named by id or (from a compute node) by a short id, as
    ``by`` sees the tree; refused unless they may file under it."""
    from upstack.errors import UpstackError
    from upstack.store.queries import resolve

    ref = start.get("node_id") or start.get("node_ref")
    if not ref:
        return None
    with access.acting_as(by):
        try:
            node_id = resolve(db, str(ref), table="nodes", what="node")
        except UpstackError:
            raise BadInput(f"you may not log runs under node {ref!r}: run `upstack sync` to send it "
                           "first, or ask its owner to share it with you as editor") from None
    if not by.may_file_under(node_id):
        raise BadInput(f"you may not log runs under node {ref!r}: ask its owner to share it with you as editor")
    return node_id


def _attachments(record: Record) -> list[dict[str, Any]]:
    data = record.data
    found = list(data.get("attachments") or [])
    found += [data[k] for k in ("diff", "traceback") if isinstance(data.get(k), dict)]
    return [a for a in found if isinstance(a, dict)]


# -- points on the wire: little-endian arrays in base64 ------------------------------------------

def wire_points(start: int, steps: array, times: array, values: array) -> dict[str, Any]:
    """Points as a push carries them: the index of the first, and the three arrays."""
    return {"from": start, "steps": _encode(steps), "times": _encode(times), "values": _encode(values)}


def _encode(part: array) -> str:
    if sys.byteorder == "big":
        part = array(part.typecode, part)
        part.byteswap()
    return base64.b64encode(part.tobytes()).decode("ascii")


def _storable_key(key: Any) -> bool:
    """A metric's name: 1 to 200 characters of text as upstack keeps it (no NUL, no lone surrogate:
    domain/text.py), as the run that logged it wrote it; one still holding such a character is refused
    like any record's text at the door (services/record_shapes.py)."""
    return isinstance(key, str) and 0 < len(key) <= 200 and not unstorable(key)


def _decode(key: Any, value: Any) -> tuple[int, array, array, array]:
    try:
        start = int(value["from"])
        arrays = []
        for name, code in (("steps", "q"), ("times", "d"), ("values", "d")):
            part = array(code)
            part.frombytes(base64.b64decode(value[name], validate=True))
            if sys.byteorder == "big":
                part.byteswap()
            arrays.append(part)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # Overflow: a "from" of 1e400 (infinity)
        raise BadInput(f"metric {str(key)[:60]!r}: points need from, steps, times and values (8-byte "
                       f"little-endian numbers in base64): {exc}") from None
    steps, times, values = arrays
    if not 0 <= start < 2**63 or not _storable_key(key) or not len(steps) == len(times) == len(values):
        raise BadInput(f"metric {str(key)[:60]!r}: a name of 1 to 200 characters, and as many steps, times "
                       "and values, from a point index ≥ 0")
    if not all(EARLIEST_EPOCH <= t <= LATEST_EPOCH for t in times):  # NaN compares false: refused too
        raise BadInput(f"metric {str(key)[:60]!r}: every point's time is seconds since 1970, from year 1 to "
                       "9999 (a value may be NaN or infinite, a time may not)")
    return start, steps, times, values



# -- the sending side --------------------------------------------------------------------------

def send(remote: Any, run_id: str, records: list[Record], series: Series, read_blob: Callable[[str], bytes],
         uploaded: set[str], *, timeout: float = 120, artifact_cap: float = 0) -> dict[str, Any]:
    """Push records and points of one run: files first, points in pieces of ``PUSH_POINTS``, and
    the end record with the last piece (so the server writes the result with every point in).
    ``uploaded`` holds the files sent already and is added to; an artifact's files go when it is at most
    ``artifact_cap`` bytes (its description always). Returns the server's last answer."""
    from upstack.services.artifact_sync import send_artifact_files

    send_artifact_files(remote, records, read_blob, uploaded, artifact_cap, timeout=timeout)
    for record in records:
        for attachment in _attachments(record):
            sha = str(attachment["sha256"])
            if sha not in uploaded:
                remote.call("PUT", f"/api/blobs/{sha}", read_blob(sha), content_type="application/octet-stream",
                            timeout=timeout)
                uploaded.add(sha)
    pieces = _pieces(series)
    answer: dict[str, Any] = {}
    # The run's end waits for the last piece; an earlier end (a run resumed since) keeps its place.
    final_end = records[-1] if records and records[-1].op == "run.end" else None
    for number, piece in enumerate(pieces):
        first, last = number == 0, number == len(pieces) - 1
        batch = [r for r in records if (first and r is not final_end) or (last and r is final_end)]
        answer = remote.json("POST", f"/api/runs/{run_id}/push", {
            "records": [plain(r) for r in batch],
            "points": {key: wire_points(*points) for key, points in piece.items()}}, timeout=timeout)
    return answer


def _pieces(series: Series) -> list[Series]:
    """Split series into requests of at most ``PUSH_POINTS`` points (at least one, maybe empty)."""
    pieces: list[Series] = [{}]
    room = PUSH_POINTS
    for key, (start, steps, times, values) in series.items():
        done = 0
        while done < len(values):
            if room == 0:
                pieces.append({})
                room = PUSH_POINTS
            size = min(room, len(values) - done)
            pieces[-1][key] = (start + done, steps[done:done + size], times[done:done + size],
                               values[done:done + size])
            done += size
            room -= size
    return pieces


def push_runs(ws: Any, remote: Any, progress: Callable[..., None] | None = None,
              uploaded: set[str] | None = None) -> tuple[int, list[dict[str, str]]]:
    """`upstack sync`'s push for runs: send every ended run the server lacks something of.
    Returns (runs sent, refusals); the files sent are added to ``uploaded``. A running run is
    left to its own process (or the next sync)."""
    from upstack.services.artifact_sync import artifact_cap
    from upstack.store import runs

    db = ws.store().db
    theirs: dict[str, Any] = remote.json("GET", "/api/sync/runs.json")
    mine = runs.run_state(db)
    outgoing = [r for r, state in mine.items() if state["status"] != "running" and _lacks(theirs.get(r), state)]
    sent, refused = 0, []
    uploaded = set() if uploaded is None else uploaded
    for number, run_id in enumerate(outgoing, 1):
        have = theirs.get(run_id, {}).get("metrics", {})
        series: Series = {}
        for key, count in mine[run_id]["metrics"].items():
            start = int(have.get(key, 0))
            if count > start:
                steps, times, values = runs.read_series(db, run_id, key)
                series[key] = (start, steps[start:], times[start:], values[start:])
        try:
            send(remote, run_id, runs.run_records(db, run_id), series, ws.blobs.read, uploaded,
                 artifact_cap=artifact_cap(ws))
            sent += 1
        except Refused as exc:  # not theirs to send (any other error stops the sync: the next resumes)
            refused.append({"id": run_id, "op": "run", "subject": run_id, "reason": exc.reason})
        if progress:
            progress("Sending runs", number, len(outgoing))
    return sent, refused


def pull_runs(ws: Any, remote: Any, progress: Callable[..., None] | None = None) -> int:
    """`upstack sync`'s pull for runs: take every ended run on the server (that the user may
    see) this workspace lacks something of, a piece at a time. Returns how many."""
    from upstack.services.record_shapes import problem
    from upstack.store import runs

    store = ws.store()
    theirs: dict[str, Any] = remote.json("GET", "/api/sync/runs.json")
    mine = runs.run_state(store.db)
    incoming = [r for r, state in theirs.items() if state["status"] != "running" and _lacks(mine.get(r), state)]
    taken = 0
    for number, run_id in enumerate(incoming, 1):
        more = True
        try:
            while more:
                counts = runs.run_state(store.db, [run_id]).get(run_id, {}).get("metrics", {})
                answer = remote.json("POST", f"/api/runs/{run_id}/pull", {"have": counts})
                records = [r for r in (parse_record(r, RUN_OPS) for r in answer["records"])
                           if not problem(r.op, r.data)]  # a malformed record stays on the server
                more = bool(answer["more"])
                with ws.blobs.adding():  # from fetching the files until the records naming them are in
                    for sha in sorted({str(a["sha256"]) for r in records for a in _attachments(r)}):
                        fetch_blob(ws, remote, sha)
                    take(store, run_id, records, {str(k): _decode(k, v) for k, v in answer["points"].items()},
                         complete=not more)
            taken += 1
        except BadInput:
            pass  # a run this workspace cannot take (malformed on the server): the others still come
        if progress:
            progress("Receiving runs", number, len(incoming))
    return taken


def _lacks(theirs: dict[str, Any] | None, mine: dict[str, Any]) -> bool:
    if theirs is None:
        return True
    return (theirs["status"] != mine["status"] or theirs["summary"] != mine["summary"]
            or bool(set(mine["items"]) - set(theirs["items"]))
            or bool(set(mine.get("changes", [])) - set(theirs.get("changes", [])))  # renamed, moved, deleted ...
            or any(count > int(theirs["metrics"].get(key, 0)) for key, count in mine["metrics"].items()))
