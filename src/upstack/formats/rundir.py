"""A run's own folder: the only files a running experiment writes.

::

    <run id>/
        records.jsonl   journal records (start, provenance, figures, notes, summary, end)
        metrics.bin     metric chunks (see ``capture.metrics``)
        blobs/<sha256>  figures, tables, the diff, a traceback
        heartbeat       "<ISO time> <host> <boot id> <pid> <step>", rewritten while the run lives
        segment         only in a folder a resumed run made anew (its first folder was ingested and
                        retired): where its files begin in the run's whole record (see ``Segment``)

One process writes one folder, appending only, so a folder on a compute node's
local disk (or a shared scratch file system) is safe. Its forked children (data-loader
workers) may append to it too: each append holds a lock on the file while it writes, where
the file system has locks. An append that fails part-way (a full disk) is cut off again, so a
half-written chunk or record never stands in front of later ones.
The store ingests a folder as often as it likes: it remembers how far it read
each file, and record ids make replay harmless. Blobs are written before the
records that name them.
"""

from __future__ import annotations

import bisect
import errno
import fcntl
import itertools
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.files import fsync_dir, make_private_dirs, store_blob, write_atomically
from upstack.formats.journal import Journal, Record

__all__ = ["RunFiles", "RECORDS", "METRICS", "HEARTBEAT", "BLOBS", "SEGMENT", "Segment", "boot_id", "host_name",
           "process_alive",
           "read_heartbeat", "heartbeat_step", "read_segment", "is_run_dir", "run_dirs"]

_IOV_MAX = 512  # buffers per writev (Linux allows 1024)

RECORDS = "records.jsonl"
METRICS = "metrics.bin"
HEARTBEAT = "heartbeat"
BLOBS = "blobs"
SEGMENT = "segment"


@dataclass(frozen=True)
class Segment:
    """Where a run folder's files begin in its run's whole record.

    A run resumed after its first folder was ingested and retired writes a new folder whose
    files start empty; the store already holds ``records`` bytes of records and ``metrics``
    bytes of metric chunks, keyed by their offsets. Offsets in the new folder count on from
    there, so its chunks never take the keys of chunks already stored (which would drop them),
    and ``points`` (per metric) is where a live upload's point indexes go on from.
    """

    records: int = 0
    metrics: int = 0
    points: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"records": self.records, "metrics": self.metrics, "points": self.points})


def read_segment(directory: Path) -> Segment:
    """The folder's segment: all zeros for a run's first folder (which has no segment file)."""
    try:
        data = json.loads((directory / SEGMENT).read_text())
        return Segment(int(data["records"]), int(data["metrics"]),
                       {str(k): int(v) for k, v in dict(data.get("points") or {}).items()})
    except FileNotFoundError:
        return Segment()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{directory / SEGMENT} is damaged ({exc})") from None


def boot_id() -> str:
    """This machine's boot, so a pid is only compared with pids of the same boot."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def host_name() -> str:
    """This machine's name as a heartbeat says it (a pid is only looked for on the machine that wrote it)."""
    import socket  # a run's writer and the readers that check a pid, not every reader of run folders

    return socket.gethostname().split()[0] or "unknown"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine still runs: someone else's counts, a zombie (ended, not yet
    reaped) does not."""
    if not 0 < pid < 2**31:  # no process has it (os.kill would take 0 for this process group, or overflow)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def is_run_dir(path: Path) -> bool:
    return (path / RECORDS).is_file()


def run_dirs(folder: Path) -> list[Path]:
    """The run folders in ``folder`` (or ``folder`` itself if it is one), oldest first."""
    from upstack.ids import looks_like_full_id

    if is_run_dir(folder):
        return [folder]
    try:
        return sorted(Path(e.path) for e in os.scandir(folder)
                      if e.is_dir() and looks_like_full_id(e.name) and is_run_dir(Path(e.path)))
    except (FileNotFoundError, NotADirectoryError):
        return []


def read_heartbeat(directory: Path) -> tuple[str, str, str, int] | None:
    """(time, host, boot id, pid) of the last heartbeat, or None if there is none yet."""
    try:
        parts = (directory / HEARTBEAT).read_text().split()
        return parts[0], parts[1], parts[2], int(parts[3])
    except (OSError, IndexError, ValueError):
        return None


def heartbeat_step(directory: Path) -> int | None:
    """The step the run had reached at its last heartbeat (None: none yet, or an older upstack's)."""
    try:
        return int((directory / HEARTBEAT).read_text().split()[4])
    except (OSError, IndexError, ValueError):
        return None


def size(path: Path) -> int:
    """A run file's size (0 before it exists)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_records(directory: Path, offset: int) -> tuple[list[Record], int, list[str]]:
    """The whole records written to a folder since ``offset``: (records, the offset after
    them, problems). A line still being written waits for the next read."""
    try:
        with open(directory / RECORDS, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset, []
    complete = data.rfind(b"\n") + 1
    records, problems = Journal.parse(data[:complete].decode("utf-8", "replace"), f"{directory.name}/{RECORDS}")
    return records, offset + complete, problems


class RunFiles:
    """The writing side of a run folder: the run's own process, and any child it forks."""

    def __init__(self, directory: Path, *, resume: bool = False, segment: Segment | None = None) -> None:
        """A new folder; with ``resume``, the run's folder as it was left (appended to); with
        ``segment``, a new folder for a resumed run whose first folder is gone."""
        self.directory = directory
        self.blobs = directory / BLOBS
        if not resume:
            make_private_dirs(directory.parent)
            directory.mkdir(mode=0o700)
            self.blobs.mkdir(mode=0o700)
            if segment is not None:  # before any record: a reader must never see the files without it
                write_atomically(directory / SEGMENT, segment.to_json(), permissions=0o600)
        else:
            self.blobs.mkdir(mode=0o700, exist_ok=True)
        self._records, self._metrics = self._open_appending(os.O_CREAT)
        self._heartbeat = os.open(directory / HEARTBEAT, os.O_WRONLY | os.O_CREAT, 0o600)
        self._host = host_name()
        self._boot = boot_id()
        self._pid = os.getpid()
        self._torn_records = False  # a record line was cut short and could not be cut off
        fsync_dir(directory.parent)

    def _open_appending(self, create: int) -> tuple[int, int]:
        flags = os.O_WRONLY | os.O_APPEND | create
        return (os.open(self.directory / RECORDS, flags, 0o600),
                os.open(self.directory / METRICS, flags, 0o600))

    def _own_descriptors(self) -> None:
        """A forked child opens the files anew: descriptors it inherited share the parent's
        open file, and so the parent's lock, which would not keep the two apart."""
        if os.getpid() != self._pid:
            inherited = (self._records, self._metrics, self._heartbeat)
            self._records, self._metrics = self._open_appending(0)
            self._heartbeat = -1  # a child never speaks for the run
            self._pid = os.getpid()
            for fd in inherited:
                os.close(fd)

    @property
    def host(self) -> str:
        return self._host

    def append_records(self, records: Sequence[Record]) -> tuple[int, OSError | None]:
        """Append records, each a line: how many were written, and the error that stopped the rest."""
        self._own_descriptors()
        lines = [[(r.to_json() + "\n").encode("utf-8")] for r in records]
        if self._torn_records and lines:
            lines[0].insert(0, b"\n")  # the cut-short line stays a line of its own, never joined to this one
        written, error = self._append(self._records, lines)
        if written:
            self._torn_records = False
        return written, error

    def append_metrics(self, chunks: Sequence[Sequence[Any]]) -> tuple[int, OSError | None]:
        """Append metric chunks, each given as its buffers: how many chunks were written, and the
        error that stopped the rest."""
        self._own_descriptors()
        return self._append(self._metrics, chunks)

    def _append(self, fd: int, units: Sequence[Sequence[Any]]) -> tuple[int, OSError | None]:
        """Append whole units in order, with as few system calls and copies as the kernel allows.

        A write that fails part-way is cut back to the end of the last whole unit, so the file is
        as if the failed units had never been tried, and they can be tried again.
        """
        views = [memoryview(b).cast("B") for unit in units for b in unit]
        ends = list(itertools.accumulate(sum(memoryview(b).nbytes for b in unit) for unit in units))
        with _appending(fd) as start:
            written = 0
            try:
                for first in range(0, len(views), _IOV_MAX):
                    group = views[first:first + _IOV_MAX]
                    while group:
                        count = os.writev(fd, group)
                        written += count
                        while group and count >= len(group[0]):
                            count -= len(group[0])
                            group.pop(0)
                        if group and count:
                            group[0] = group[0][count:]
            except OSError as error:
                whole = bisect.bisect_right(ends, written)
                if written > (ends[whole - 1] if whole else 0):
                    self._cut(fd, start + (ends[whole - 1] if whole else 0))
                return whole, error
        return len(units), None

    def _cut(self, fd: int, size: int) -> None:
        try:
            os.ftruncate(fd, size)
        except OSError:
            # Left in place: a reader passes over a damaged chunk to the next whole one (see
            # capture.metrics), and a torn record line is ended before the next record.
            if fd == self._records:
                self._torn_records = True

    def sync(self) -> None:
        os.fsync(self._metrics)
        os.fsync(self._records)

    def put_blob(self, data: bytes) -> str:
        """Store a file with the run, once under its SHA-256 (as ``upstack.files.store_blob`` stores every blob)."""
        return store_blob(self.blobs, data, nested=False)[0]

    def put_file(self, source: Path) -> tuple[str, int]:
        """Store a file with the run by its SHA-256, read in chunks (never whole): (hash, size)."""
        return store_blob(self.blobs, source, nested=False)

    def beat(self, at: str, step: int = -1) -> None:
        line = f"{at} {self._host} {self._boot} {os.getpid()} {step}\n".encode()
        os.pwrite(self._heartbeat, line.ljust(160), 0)  # fixed width: a reader never sees a mix

    def close(self) -> None:
        for fd in (self._records, self._metrics, self._heartbeat):
            if fd >= 0:
                os.close(fd)


@contextmanager
def _appending(fd: int) -> Iterator[int]:
    """Hold the file's lock (against the run's forked children) while appending; the size at the start.

    On a file system without locks (Lustre mounted without flock) the lock is left out: a folder
    has one writer there, as it had before forked children could write.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        locked = True
    except OSError as error:
        if error.errno not in (errno.ENOSYS, errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            raise
        locked = False
    try:
        yield os.fstat(fd).st_size
    finally:
        if locked:
            fcntl.flock(fd, fcntl.LOCK_UN)
