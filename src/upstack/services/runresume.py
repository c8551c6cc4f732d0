"""Resuming a run: a pre-empted job (Slurm requeue) goes on as the same run.

``upstack.run(..., resume=ID)`` finds the run and continues it: its series go on (steps from
the last one logged, unless the script passes its own), its status is running again, and when
it ends its result entry is revised. The run's folder is the truth where it still exists (a
compute node writing to run_dir never opens the database): the run goes on appending to it,
so every offset in it only grows. Where it is gone (the workspace ingested the ended run and
retired its folder), the store says where the run had got to, and a new folder is made whose
``segment`` file makes its offsets count on from there (``formats.rundir.Segment``): its
metric chunks never take the keys of the chunks already stored.

``resume="auto"`` resumes the run named by ``UPSTACK_RUN_ID`` when there is one (and starts
a run with that id when it names none yet); ``UPSTACK_RESUME`` (an id, or auto) does the same
for a script that passes no ``resume`` at all.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from upstack.errors import BadInput, NotFound
from upstack.formats.rundir import RunFiles, Segment, heartbeat_step, read_heartbeat, read_records, run_dirs
from upstack.ids import id_key, looks_like_full_id, short_id
from upstack.timeutil import now_iso, parse_iso
from upstack.workspace import Workspace

__all__ = ["Resumed", "resume_choice", "resume_run_files"]

MIN_PREFIX = 4


@dataclass
class Resumed:
    run_id: str
    name: str
    files: RunFiles
    last_step: int
    points: dict[str, int] = field(default_factory=dict)  # where a live upload's point indexes go on from


def resume_choice(resume: str | None) -> tuple[str | None, bool]:
    """(the run to resume, whether it may not exist yet) for ``upstack.run``'s ``resume``.

    None (and no ``UPSTACK_RESUME``): a new run. ``"auto"``: the run ``UPSTACK_RUN_ID`` names, or a
    new run when it is unset; a full id there that names no run yet starts the run under that id.
    """
    if resume is None:
        resume = os.environ.get("UPSTACK_RESUME") or None
        if resume is None:
            return None, False
    text = str(resume).strip()
    if text.lower() == "auto":
        wanted = os.environ.get("UPSTACK_RUN_ID", "").strip()
        return (wanted or None), True
    if not text:
        raise BadInput("resume= needs a run id (or \"auto\")")
    return text, False


def resume_run_files(ws: Workspace, ref: str) -> Resumed | None:
    """Find run ``ref`` and open where it goes on, with its ``run.resume`` record written there
    first (under the workspace lock, so an ingest never retires a folder the run is taking up
    again). None when no such run exists (the caller decides whether that is an error)."""
    crashed_after = ws.settings.run_crashed_after
    remote = ws.settings.run_dir is not None  # a compute node: the folders are the truth, no database
    with _lock(ws, remote):
        directory = _folder_of(ws, ref)
        if directory is not None:
            name, step = _check_folder(directory, crashed_after)
            files = RunFiles(directory, resume=True)
            _write_resume(ws, directory.name, files, step)
            return Resumed(directory.name, name, files, step)
        if remote:
            return None
        stored = _stored(ws, ref)
        if stored is None:
            return None
        _check_stored(ws, stored, crashed_after)
        segment = Segment(stored.records_offset, stored.metrics_offset, stored.points)
        files = RunFiles(ws.run_folders()[-1] / stored.id, segment=segment)  # where new runs write
        _write_resume(ws, stored.id, files, stored.last_step)
        return Resumed(stored.id, stored.name, files, stored.last_step, dict(stored.points))


def _lock(ws: Workspace, remote: bool) -> AbstractContextManager[None]:
    return nullcontext() if remote else ws.store().lock()


def _folder_of(ws: Workspace, ref: str) -> Path | None:
    """The run folder ``ref`` names (a full id, a short id or a prefix of one), in any of the
    workspace's run folders; a prefix that names two is refused."""
    text = ref.strip()
    directories = [d for folder in ws.run_folders() for d in run_dirs(folder)]
    if looks_like_full_id(text):
        found = [d for d in directories if d.name == text.upper()]
    else:
        key = text.lower()
        if len(key) < MIN_PREFIX or not key.isalnum():
            raise BadInput(f"run id {ref!r} is too short or malformed: give at least {MIN_PREFIX} characters "
                           "of its id")
        found = [d for d in directories if id_key(d.name).startswith(key)]
    if len({d.name for d in found}) > 1:
        raise BadInput(f"run id {ref!r} is ambiguous: it could be "
                       f"{', '.join(sorted({short_id(d.name) for d in found})[:5])}")
    return found[-1] if found else None


def _check_folder(directory: Path, crashed_after: float) -> tuple[str, int]:
    """The run's name and last step, read from its folder; refused while it still runs."""
    records, _, _ = read_records(directory, 0)
    start = next((r for r in records if r.op == "run.start"), None)
    if start is None:
        raise BadInput(f"run folder {directory} has no start record: it cannot be resumed")
    ended = False
    for record in records:
        if record.op == "run.end":
            ended = True
        elif record.op == "run.resume":
            ended = False
    if not ended:
        beat = read_heartbeat(directory)
        if beat is not None and _still_alive(beat, crashed_after):
            raise BadInput(f"run {short_id(directory.name)} is still running on {beat[1]} (heard from "
                           f"{_seconds_since(beat[0]):.0f} s ago); resume it once it has stopped")
    return str(start.data.get("name") or "run"), _resume_step(directory)


def _resume_step(directory: Path) -> int:
    """The step a resumed run goes on after: the last one whose points are on disk.

    The points are the truth: a step is taken only once its values are in, and they are what the
    store ingests, so going on after them neither repeats a step nor leaves one out. The
    heartbeat's step is only for a folder with no points to read (none logged yet, or a new
    segment whose points are all in the store already: its beat says where the store had got to).
    """
    for step in (_last_step(directory), heartbeat_step(directory)):
        if step is not None:
            return step
    return -1


def _still_alive(beat: tuple[str, str, str, int], crashed_after: float) -> bool:
    from upstack.formats.rundir import boot_id, host_name, process_alive

    if _seconds_since(beat[0]) > crashed_after:
        return False
    here = beat[1] == host_name() and beat[2] == boot_id()
    if not here:
        return True  # heard from lately, on another machine: it may well be running there
    return process_alive(beat[3])


def _seconds_since(at: str) -> float:
    try:
        return (datetime.now(UTC) - parse_iso(at)).total_seconds()
    except ValueError:
        return float("inf")


def _last_step(directory: Path) -> int | None:
    """The last step logged in a folder's metrics file (None: none there): the greatest of its
    metrics' last steps, as the store reckons a run's (``store.run_resume``)."""
    from upstack.formats.metrics import read_chunk_stream
    from upstack.formats.rundir import METRICS

    last: dict[str, int] = {}
    try:
        with open(directory / METRICS, "rb") as handle:
            for chunk in read_chunk_stream(handle, 0):
                if chunk.steps:
                    last[chunk.key] = chunk.steps[-1]
    except FileNotFoundError:
        pass
    return max(last.values(), default=None)


def _stored(ws: Workspace, ref: str) -> Any:
    from upstack.store.queries import resolve
    from upstack.store.run_resume import stored_run

    db = ws.store().db
    try:
        run_id = resolve(db, ref, table="runs", what="run")
    except NotFound:
        return None
    return stored_run(db, run_id)


def _check_stored(ws: Workspace, stored: Any, crashed_after: float) -> None:
    if stored.author_id is not None:
        mine = None
        if (ws.home / "remote.json").exists():
            from upstack.services.remote import remote

            mine = remote(ws).login
        if stored.author_login is None or stored.author_login != mine:
            who = stored.author_login or "someone else"
            raise BadInput(f"run {short_id(stored.id)} is {who}'s (pulled from a team server): only its "
                           "author resumes it")
    if stored.status == "running" and _seconds_since(stored.heartbeat_at) <= crashed_after:
        raise BadInput(f"run {short_id(stored.id)} is still running (heard from "
                       f"{_seconds_since(stored.heartbeat_at):.0f} s ago); resume it once it has stopped")


def _write_resume(ws: Workspace, run_id: str, files: RunFiles, step: int) -> None:
    """The ``run.resume`` record (when, on which host, from which step), durable before the run goes on."""
    from upstack.errors import UpstackError
    from upstack.formats.journal import Record
    from upstack.ids import new_id

    at = now_iso()
    data = {"run_id": run_id, "at": at, "host": files.host, "pid": os.getpid(), "step": step}
    try:
        _, error = files.append_records([Record(new_id(), "run.resume", ws.workspace_id, at, data)])
        if error is not None:
            raise error
        files.sync()
        files.beat(at, step)  # alive from now: a second job resuming it at once is refused
    except OSError as exc:
        files.close()
        raise UpstackError(f"cannot resume run {short_id(run_id)} in {files.directory}: "
                           f"{exc.strerror or exc}") from None
