"""A run's own folder: the only files a running experiment writes.

::

    <run id>/
        records.jsonl   journal records (start, provenance, figures, notes, summary, end)
        metrics.bin     metric chunks (see ``capture.metrics``)
        blobs/<sha256>  figures, tables, the diff, a traceback
        heartbeat       "<ISO time> <host> <boot id> <pid>", rewritten while the run lives

One process writes one folder, appending only, so runs need no locks and a
folder on a compute node's local disk (or a shared scratch file system) is safe.
The store ingests a folder as often as it likes: it remembers how far it read
each file, and record ids make replay harmless. Blobs are written before the
records that name them.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from typing import Any

from upstack.store.journal import Journal, Record, fsync_dir

__all__ = ["RunFiles", "RECORDS", "METRICS", "HEARTBEAT", "BLOBS", "boot_id", "read_heartbeat",
           "is_run_dir"]

_IOV_MAX = 512  # buffers per writev (Linux allows 1024)

RECORDS = "records.jsonl"
METRICS = "metrics.bin"
HEARTBEAT = "heartbeat"
BLOBS = "blobs"


def boot_id() -> str:
    """This machine's boot, so a pid is only compared with pids of the same boot."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def is_run_dir(path: Path) -> bool:
    return (path / RECORDS).is_file()


def read_heartbeat(directory: Path) -> tuple[str, str, str, int] | None:
    """(time, host, boot id, pid) of the last heartbeat, or None if there is none yet."""
    try:
        parts = (directory / HEARTBEAT).read_text().split()
        return parts[0], parts[1], parts[2], int(parts[3])
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
    """The writing side of a run folder (one writer: the run's own process)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.blobs = directory / BLOBS
        directory.mkdir(parents=True, exist_ok=False)
        self.blobs.mkdir()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        self._records = os.open(directory / RECORDS, flags, 0o600)
        self._metrics = os.open(directory / METRICS, flags, 0o600)
        self._heartbeat = os.open(directory / HEARTBEAT, os.O_WRONLY | os.O_CREAT, 0o600)
        self._host = socket.gethostname().split()[0] or "unknown"
        self._boot = boot_id()
        fsync_dir(directory.parent)

    @property
    def host(self) -> str:
        return self._host

    def append_records(self, records: list[Record], sync: bool = True) -> None:
        data = "".join(r.to_json() + "\n" for r in records).encode("utf-8")
        _write_all(self._records, data)
        if sync:
            os.fsync(self._records)

    def append_metrics(self, buffers: list[Any]) -> None:
        """Append buffers in order, with as few system calls and copies as the kernel allows."""
        for start in range(0, len(buffers), _IOV_MAX):
            group = [memoryview(b).cast("B") for b in buffers[start:start + _IOV_MAX]]
            while group:
                written = os.writev(self._metrics, group)
                while group and written >= len(group[0]):
                    written -= len(group[0])
                    group.pop(0)
                if group and written:
                    group[0] = group[0][written:]

    def sync(self) -> None:
        os.fsync(self._metrics)
        os.fsync(self._records)

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        final = self.blobs / sha
        if not final.exists():
            tmp = self.blobs / f".{sha}.tmp"
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
            fsync_dir(self.blobs)
        return sha

    def beat(self, at: str) -> None:
        line = f"{at} {self._host} {self._boot} {os.getpid()}\n".encode()
        os.pwrite(self._heartbeat, line.ljust(160), 0)  # fixed width: a reader never sees a mix

    def close(self) -> None:
        for fd in (self._records, self._metrics, self._heartbeat):
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
