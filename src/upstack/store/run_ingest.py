"""Taking run folders into the store: new records, new metric chunks, and who has died.

A folder is read from where the last ingest stopped (the offsets are kept on the
run's row, committed in the same transaction as what was read), so ingesting it
again, or ingesting a copy of it, adds nothing. A run that never ended is marked
crashed when its heartbeat is older than ``run_crashed_after`` seconds, or at once
when it ran on this machine (same boot) and its process is gone. A run that is
still alive on another machine keeps beating, so it is never marked crashed.

A resumed run whose first folder was retired writes a new one with a ``segment`` file: the
offsets kept (and the metric chunks' keys) count on from where the first folder ended, so the
new folder's chunks never take the keys of those already stored (see ``formats.rundir.Segment``).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from upstack.formats.journal import Record
from upstack.formats.metrics import Merger, read_chunk_stream
from upstack.formats.rundir import (
    BLOBS,
    METRICS,
    RECORDS,
    boot_id,
    host_name,
    process_alive,
    read_heartbeat,
    read_records,
    read_segment,
    run_dirs,
    size,
)
from upstack.ids import looks_like_full_id
from upstack.store import runs
from upstack.store.apply import apply_record, bad_record_errors
from upstack.store.blobs import BlobStore
from upstack.store.db import Database
from upstack.timeutil import parse_iso

__all__ = ["RunFolderReport", "ingest_run_folders", "run_dirs"]


@dataclass
class RunFolderReport:
    runs_seen: int = 0
    records: int = 0
    points: int = 0
    crashed: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def ingest_run_folders(db: Database, blobs: BlobStore, folders: list[Path], *, crashed_after: float,
                       workspace: Callable[[], str], set_aside: Callable[[Record, Exception], str],
                       retire: Path | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       keep_aside: Callable[[Path, str], Path] | None = None) -> RunFolderReport:
    """Ingest every run folder found; the caller holds the workspace lock.

    Folders under ``retire`` (the workspace's own runs/) are deleted once their run
    has ended and everything in them is in the store. ``progress(done, total)``
    counts the bytes of the run folders' files. A record that cannot be applied stops no
    other: it goes to ``set_aside`` (the store keeps it in the journal's rejected.jsonl),
    and a folder whose start record cannot be applied is left as it is, said each time. A
    records file with lines that cannot be read (damaged ones included) is copied with
    ``keep_aside(path, name)`` first.
    """
    report = RunFolderReport()
    directories = [d for folder in folders for d in run_dirs(folder)]
    sizes = [size(d / RECORDS) + size(d / METRICS) for d in directories]
    for number, directory in enumerate(directories):
        report.runs_seen += 1
        with db.transaction():
            done = _ingest_one(db, blobs, directory, crashed_after, workspace, report, set_aside, keep_aside)
        if done and retire is not None and directory.parent == retire:
            shutil.rmtree(directory, ignore_errors=True)
        if progress:
            progress(sum(sizes[:number + 1]), sum(sizes))
    return report


def _ingest_one(db: Database, blobs: BlobStore, directory: Path, crashed_after: float,
                workspace: Callable[[], str], report: RunFolderReport,
                set_aside: Callable[[Record, Exception], str],
                keep_aside: Callable[[Path, str], Path] | None = None) -> bool:
    """Read what is new in one run folder; True when the run has ended (not crashed: it may yet
    speak again) and all of it is stored."""
    run_id = directory.name if looks_like_full_id(directory.name) else None
    row = db.one("SELECT status, records_offset, metrics_offset FROM runs WHERE id = ?",
                 (run_id,)) if run_id else None
    try:
        segment = read_segment(directory)
    except ValueError as exc:
        report.problems.append(f"run folder {directory}: {exc}; the folder is left as it is")
        return False
    # Offsets are the run's, across its folders: this folder's bytes start at the segment's.
    records_offset = max(int(row["records_offset"]) if row else 0, segment.records)
    metrics_offset = max(int(row["metrics_offset"]) if row else 0, segment.metrics)
    records_size = segment.records + size(directory / RECORDS)
    metrics_size = segment.metrics + size(directory / METRICS)
    if row and row["status"] != "running" and records_size <= records_offset \
            and metrics_size <= metrics_offset:
        if row["status"] != "crashed":
            return True  # ended, and nothing new since
        if not _heard_from_lately(directory, crashed_after):
            return False
    if records_size > records_offset:
        records, new_offset, problems = read_records(directory, records_offset - segment.records)
        new_offset += segment.records
        if problems and keep_aside is not None:
            kept = keep_aside(directory / RECORDS, f"{directory.name}.{RECORDS}")
            problems = [f"{p} (file kept as {kept})" for p in problems]
        report.problems += problems
        _copy_blobs(directory / BLOBS, blobs)  # blobs first: records point at them
        for record in records:
            try:
                with db.transaction():  # a savepoint: one record that cannot be applied stops no other
                    applied = apply_record(db, record)
            except bad_record_errors(db) as exc:
                if record.op == "run.start":  # nothing of the run can go in without it
                    report.problems.append(f"run folder {directory}: its start record cannot be applied "
                                           f"({exc}); the folder is left as it is")
                    return False
                report.problems.append(set_aside(record, exc))
                continue
            if applied:
                report.records += 1
                if record.op == "run.start":
                    run_id = record.data["run_id"]
                elif record.op == "run.end":
                    report.ended.append(record.data["run_id"])
        records_offset = new_offset
    if run_id is None or db.one("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None:
        return False  # no start record yet (a run just starting): next time
    if metrics_size > metrics_offset:
        metrics_offset = _ingest_metrics(db, directory, run_id, metrics_offset, segment.metrics, report)
    db.execute("UPDATE runs SET records_offset = ?, metrics_offset = ? WHERE id = ?",
               (records_offset, metrics_offset, run_id))
    if run_id in report.ended:
        runs.finalize(db, run_id, workspace())
    status = db.scalar("SELECT status FROM runs WHERE id = ?", (run_id,))
    if status == "crashed" and _heard_from_lately(directory, crashed_after):
        # Only out of touch (a suspended laptop, a stalled file system): running after all.
        db.execute("UPDATE runs SET status = 'running', ended_at = NULL, error = '' WHERE id = ?", (run_id,))
        status = "running"
    if status == "running" and records_offset < segment.records + size(directory / RECORDS):
        # It wrote more while this read (its end, as it exited): read next time, never taken for a crash.
        return False
    if status == "running":
        status = _check_alive(db, directory, run_id, crashed_after, workspace, report)
    # A crashed run's folder stays: a run that was only out of touch may still write to it.
    return status not in ("running", "crashed") and records_offset >= segment.records + size(directory / RECORDS) \
        and metrics_offset >= segment.metrics + size(directory / METRICS)


def _ingest_metrics(db: Database, directory: Path, run_id: str, offset: int, base: int,
                    report: RunFolderReport) -> int:
    """Store the new metric chunks, a bounded number of points at a time; the new offset (the
    run's: ``base`` is where this folder's file starts in it)."""
    merger = Merger()

    def damaged(what: str) -> None:
        report.problems.append(f"run {directory.name}: {what}; the metrics before and after it are kept")

    with open(directory / METRICS, "rb") as handle:
        for chunk in read_chunk_stream(handle, offset - base, damaged):
            if base:  # a copy: the reader goes on from the chunk's own end in this file
                chunk = dataclasses.replace(chunk, offset=chunk.offset + base, end=chunk.end + base)
            runs.add_chunks(db, run_id, merger.add(chunk))
            report.points += len(chunk)
            offset = chunk.end
    runs.add_chunks(db, run_id, merger.drain())
    return offset


def _check_alive(db: Database, directory: Path, run_id: str, crashed_after: float, workspace: Callable[[], str],
                 report: RunFolderReport) -> str:
    beat = read_heartbeat(directory)
    last = beat[0] if beat else str(db.scalar("SELECT started_at FROM runs WHERE id = ?", (run_id,)))
    db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (last, run_id))
    silent = (datetime.now(UTC) - parse_iso(last)).total_seconds()
    gone_here = beat is not None and beat[1] == host_name() and beat[2] == boot_id() \
        and not process_alive(beat[3])
    if silent > crashed_after or gone_here:
        runs.mark_crashed(db, run_id, last, workspace())
        report.crashed.append(run_id)
        return "crashed"
    return "running"


def _heard_from_lately(directory: Path, crashed_after: float) -> bool:
    beat = read_heartbeat(directory)
    return beat is not None and (datetime.now(UTC) - parse_iso(beat[0])).total_seconds() <= crashed_after




def _copy_blobs(folder: Path, blobs: BlobStore) -> None:
    try:
        names = [e.name for e in os.scandir(folder) if not e.name.startswith(".")]
    except FileNotFoundError:
        return
    for name in names:
        if not blobs.path(name).exists():
            blobs.put_file(folder / name)
