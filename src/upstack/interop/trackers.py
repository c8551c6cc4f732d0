"""Runs from other experiment trackers (MLflow, TensorBoard) made upstack runs: `upstack import mlflow|tensorboard`.

Each run read (``domain.tracker.TrackerRun``) is written as the folder an upstack run writes
(``formats/rundir.py``: its start, provenance and end records, and its metric chunks with every
point's step, wall time and value) and taken in by the same ingest as any run folder, so an imported
run is stored, shown, synced and exported as one upstack ran itself, and its result entry is written
the same way. Its id is derived from its tool and its id there (``ids.derived_id``), so importing the
same history again, from the same place or another copy (an ``mlruns`` folder and the database it
was migrated to), adds nothing. Its start gives only the id's time part: a run read again with
another start (its first points rewritten) is found by the rest, its key (``store.runs.same_run_id``).

Every run is read and written to a staging folder in the workspace before any is ingested: a
source that cannot be read whole (a damaged event file, a cut-short metric file, a database that is
not MLflow's) is one line, and nothing is imported. Ingest then commits run by run; an import stopped
there (a kill) is finished by importing again.

A run imported before that went on at its source since (more points, or it ended) is caught up the
way sync catches up a run (``services.runsync.take``: its end record, then the points after those the
store holds, by index), so a logdir or an ``mlruns`` folder of a job still running can be imported
again and again. One whose source now holds fewer points than were imported is left as it was, and
the report names it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.domain.run import RUN_NAME_CHARS, clipped
from upstack.domain.tracker import TrackerRun, iso_from_epoch, tag_words
from upstack.errors import BadInput, UpstackError
from upstack.formats.journal import Record
from upstack.formats.metrics import chunk_buffers
from upstack.formats.rundir import RunFiles, host_name, process_alive
from upstack.ids import derived_id, short_id
from upstack.services.runsync import take
from upstack.store import runs as store_runs
from upstack.workspace import Workspace

__all__ = ["TRACKERS", "TrackerImport", "import_tracker", "detect_tracker"]

Series = dict[str, tuple[int, Any, Any, Any]]  # as services.runsync.take takes points: from an index

TRACKERS = ("mlflow", "tensorboard")


@dataclass
class TrackerImport:
    """What an import did: runs imported (their ids), points stored, runs already present."""

    tool: str
    path: str
    imported: list[str] = field(default_factory=list)
    points: int = 0
    already_present: int = 0
    updated: list[str] = field(default_factory=list)  # ids of runs imported before, caught up now
    changed: list[str] = field(default_factory=list)  # "name (short id)": fewer points at the source than here
    not_imported: dict[str, int] = field(default_factory=dict)  # what the source holds that upstack left out

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.tool, "path": self.path, "runs": len(self.imported), "run_ids": self.imported,
                "points": self.points, "already_present": self.already_present, "updated": self.updated,
                "changed_since": self.changed,
                "not_imported": self.not_imported}


def detect_tracker(path: Path) -> str | None:
    """Which tracker wrote ``path`` (an ``mlruns`` folder or ``mlflow.db``; a TensorBoard logdir), if one."""
    from upstack.interop.mlflow import looks_like_mlflow
    from upstack.interop.tensorboard import looks_like_tensorboard

    if looks_like_mlflow(path):
        return "mlflow"
    if looks_like_tensorboard(path):
        return "tensorboard"
    return None


def _read(tool: str, path: Path) -> tuple[int, Iterator[TrackerRun]]:
    if tool == "mlflow":
        from upstack.interop.mlflow import mlflow_runs

        return mlflow_runs(path)
    from upstack.interop.tensorboard import tensorboard_runs  # only here: it loads TensorBoard's reader

    return tensorboard_runs(path)


def import_tracker(ws: Workspace, tool: str, path: Path, *, under: str | None = None,
                   progress: Callable[..., None] | None = None) -> TrackerImport:
    """Import every run of ``path`` (deleted ones left out) under node ``under``, else the focus, else none."""
    if tool not in TRACKERS:
        raise BadInput(f"unknown tracker {tool!r}: choose one of {', '.join(TRACKERS)}")
    ws.check_writable()
    total, runs = _read(tool, path)
    node: dict[str, Any] = {}
    if under:
        from upstack.services.capture import node_for

        node = {"node_id": node_for(ws, under)}
    elif ws.focus_node_id():
        node = {"node_id": ws.focus_node_id()}
    result = TrackerImport(tool, str(path))
    db = ws.store().db
    _sweep_staging(ws.home)
    # The workspace's disk (room, and private), named by the host and process importing into it.
    staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING}{_host()}.{os.getpid()}.", dir=ws.home))
    later: list[tuple[str, list[Record], Series]] = []  # runs imported before, to catch up once all is read
    try:
        for number, run in enumerate(runs, 1):
            run_id = store_runs.same_run_id(db, derived_id(run.started_at, run.tool, run.source_id,
                                                           *([run.source_key] if run.source_key else [])))
            for kind, count in run.not_imported.items():
                result.not_imported[kind] = result.not_imported.get(kind, 0) + count
            stored = store_runs.run_state(db, [run_id]).get(run_id)
            if stored is not None and store_runs.purged(db, run_id):
                result.already_present += 1  # purged: what it held stays gone
            elif stored is not None:
                more = _after(run, stored)
                if more is None:
                    result.changed.append(f"{run.name} ({short_id(run_id)})")
                elif more or stored["status"] != run.status:
                    later.append((run_id, [_end_record(ws, run_id, run)], more))
                    result.points += sum(len(values) for _, _, _, values in more.values())
                else:
                    result.already_present += 1
            else:
                _write_folder(ws, staging / run_id, run_id, run, node)
                result.imported.append(run_id)
                result.points += run.points
            if progress:
                progress("Reading", number, total)
        if result.imported:
            storing = (lambda done, of: progress("Storing", done, of)) if progress else None
            report = ws.store().ingest_runs([staging], storing)
            if report.problems:
                raise UpstackError("import stopped part-way: " + "; ".join(report.problems[:3])
                                   + f" ({report.records} records stored; import again to finish)")
        for run_id, records, more in later:
            take(ws.store(), run_id, records, more)
            result.updated.append(run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


_STAGING = ".import-"


def _host() -> str:
    """This machine's name as a staging folder's name takes it."""
    return "".join(c for c in host_name() if c.isalnum() or c == "-")[:64] or "host"


def _sweep_staging(home: Path) -> None:
    """Remove what imports killed part-way left (``finally`` never ran): their staged copies of every
    run they read, as large as the source, which nothing else reads or removes. Only folders of this
    host whose process is gone (the home may be shared by a cluster's machines); one of an upstack that
    named them by nothing (``.import-XXXX``) is stale too."""
    for folder in home.glob(f"{_STAGING}*"):
        host, _, rest = folder.name[len(_STAGING):].partition(".")
        pid = rest.partition(".")[0]
        ours = pid.isascii() and pid.isdigit() and 0 < int(pid) < 2**31  # a number no process has: not made here
        if rest and (host != _host() or not ours or process_alive(int(pid))):
            continue
        shutil.rmtree(folder, ignore_errors=True)


def _after(run: TrackerRun, stored: dict[str, Any]) -> Series | None:
    """The points the source has beyond those the store holds, by metric ({key: (index of the first,
    steps, times, values)}); None when the source has fewer than the store (rewritten since: left be)."""
    more: Series = {}
    for key, (steps, times, values) in run.metrics.items():
        have = int(stored["metrics"].get(key, 0))
        if have > len(values):
            return None
        if have < len(values):
            more[key] = (have, steps[have:], times[have:], values[have:])
    return more


def _record(ws: Workspace, op: str, at: str, *parts: str, data: dict[str, Any]) -> Record:
    """A record with an id made from what it says (the same run imported again makes the same records),
    carrying who wrote it as every record of this workspace does."""
    made = ws.record(op, data)
    return dataclasses.replace(made, id=derived_id(at, *parts), at=at)


def _write_folder(ws: Workspace, directory: Path, run_id: str, run: TrackerRun, node: dict[str, Any]) -> None:
    """The run's folder as upstack's own run would have left it: start, provenance, every point, end."""
    # The name cut to what a team server takes.
    start = {"run_id": run_id, "name": clipped(run.name, RUN_NAME_CHARS), **node, "config": run.config,
             "tags": tag_words(run.tool, run.experiment, run.tags), "goals": {}, "started_at": run.started_at,
             "host": ""}  # no utc_offset: the time comes from the file, not from a writer now (docs/architecture.md)
    imported = {"from": run.tool, "id": run.source_id.replace("\0", "/"), "path": run.where,
                **({"experiment": run.experiment} if run.experiment else {}),
                **({"tags": run.tags} if run.tags else {})}
    provenance: dict[str, Any] = {"run_id": run_id, "data": {"imported": imported, **_git(run.tags)}}
    if run.not_imported:
        provenance["skipped"] = {kind: f"{count} in {run.tool}, not imported"
                                 for kind, count in sorted(run.not_imported.items())}
    files = RunFiles(directory)
    try:
        _, error = files.append_records([
            _record(ws, "run.start", run.started_at, run_id, "start", data=start),
            _record(ws, "run.provenance", run.started_at, run_id, "provenance", data=provenance)])
        if error is None:
            _, error = files.append_metrics([chunk_buffers(key, *series) for key, series in run.metrics.items()
                                             if len(series[2])])
        if error is None:
            _, error = files.append_records([_end_record(ws, run_id, run)])
        if error is not None:
            raise UpstackError(f"cannot stage the import in {directory.parent}: {error.strerror or error}")
        files.sync()
    finally:
        files.close()


def _ended_at(run: TrackerRun) -> str:
    """When the run ended; one that never did stopped at its last point, as far as anyone knows."""
    if run.ended_at is not None:
        return max(run.ended_at, run.started_at)
    last = run.last_time()
    return max(iso_from_epoch(last), run.started_at) if last is not None else run.started_at


def _end_record(ws: Workspace, run_id: str, run: TrackerRun) -> Record:
    ended_at = _ended_at(run)
    end = {"run_id": run_id, "status": run.status, "ended_at": ended_at, "error": run.error}
    return _record(ws, "run.end", ended_at, run_id, "end", run.status, ended_at, data=end)


def _git(tags: dict[str, str]) -> dict[str, Any]:
    """What MLflow's own tags say of the code (``mlflow.source.git.*``), as upstack's provenance says it."""
    commit = tags.get("mlflow.source.git.commit")
    if not commit:
        return {}
    return {"git": {"commit": commit, "branch": tags.get("mlflow.source.git.branch") or None,
                    "remote": tags.get("mlflow.source.git.repoURL") or None}}
