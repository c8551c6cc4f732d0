"""The capture journal: writers append records; the ingester takes them in batches.

Writers append whole lines to ``journal/log.jsonl`` with one ``write`` and an
fsync, holding a shared lock on the file. To ingest, the store renames the file
to ``ingesting-<id>.jsonl`` (new writers start a fresh log), then takes an
exclusive lock on it, which waits for any writer still finishing an append to
the old file. A writer that locked a file that was renamed under it sees so and
appends to the new one. So capture costs one append and one fsync, and an
ingest retires a thousand notes by deleting one file. (One file per note made
ingest pay an unlink per note, about 0.1 ms each on ext4.)

Record ids make replay idempotent: after a crash between committing and
deleting, a file is read again without duplicating anything. Blobs are stored
before the records that point to them. Other ``*.jsonl`` files dropped into the
folder (for instance by a long-running writer of its own) are ingested too.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain.text import clean_data
from upstack.errors import UpstackError
from upstack.ids import new_id
from upstack.timeutil import now_iso

__all__ = ["RECORD_VERSION", "Record", "Journal", "make_record"]

RECORD_VERSION = 1


@dataclass(frozen=True)
class Record:
    id: str
    op: str
    workspace: str
    at: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {"v": RECORD_VERSION, "id": self.id, "op": self.op, "workspace": self.workspace,
             "at": self.at, "data": self.data},
            ensure_ascii=False,
            separators=(",", ":"),
        )


def make_record(op: str, workspace: str, data: dict[str, Any]) -> Record:
    """A new record of this workspace; its text as upstack keeps it (``domain.text.clean_text``)."""
    return Record(id=new_id(), op=op, workspace=workspace, at=now_iso(), data=clean_data(data))


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    LOG = "log.jsonl"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.quarantine = directory / "bad"

    @property
    def log_path(self) -> Path:
        return self.directory / self.LOG

    def append(self, records: list[Record]) -> None:
        """Append records durably: when this returns, they survive a crash."""
        # Start on a fresh line: a writer killed mid-append may have left half a record,
        # which would otherwise swallow this one. Readers skip the blank lines.
        data = ("\n" + "".join(r.to_json() + "\n" for r in records)).encode("utf-8")
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
                try:
                    current = os.stat(self.log_path).st_ino
                except FileNotFoundError:
                    current = -1
                if os.fstat(fd).st_ino != current:
                    continue  # renamed for ingest while we waited: append to the new log
                view = memoryview(data)
                try:
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                except OSError:  # a full disk, say: take back what of these records reached the file
                    self._take_back(fd, len(data) - len(view))
                    raise
                if os.fstat(fd).st_size == len(data):
                    fsync_dir(self.directory)  # this append created the file
                return
            finally:
                os.close(fd)

    @staticmethod
    def _take_back(fd: int, written: int) -> None:
        """Cut off the part of a failed append that reached the file, so that the journal is as it
        was rather than holding half a record (which ingest would set aside as unreadable).

        Only if nobody appended after it: under the exclusive lock no writer is mid-append, and
        the file ends where this append's bytes end.
        """
        if not written:
            return
        end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: just past what this append wrote
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_size == end:
                os.ftruncate(fd, end - written)
                os.fsync(fd)
        except OSError:
            pass  # left as it is: the reader passes over a torn record, as after a crash

    def take(self) -> list[Path]:
        """For the ingester (holding the workspace lock): every file with records, oldest first.

        The live log is renamed out of the writers' way first, and only returned
        once no writer can still be appending to it.
        """
        try:
            if os.stat(self.log_path).st_size > 0:
                taken = self.directory / f"ingesting-{new_id()}.jsonl"
                os.replace(self.log_path, taken)
                fd = os.open(taken, os.O_RDONLY)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # waits for appends in progress
                finally:
                    os.close(fd)
        except FileNotFoundError:
            pass
        return self.pending()

    def pending(self) -> list[Path]:
        try:
            names = [e.name for e in os.scandir(self.directory)
                     if e.name.endswith(".jsonl") and e.name != self.LOG
                     and not e.name.startswith(".") and e.name != "rejected.jsonl"]
        except FileNotFoundError:
            return []
        return [self.directory / n for n in sorted(names)]

    def has_pending(self) -> bool:
        try:
            if os.stat(self.log_path).st_size > 0:
                return True
        except FileNotFoundError:
            pass
        return bool(self.pending())

    def count_pending(self) -> int:
        """How many records wait to be ingested (whole lines, not parsed: cheap, and possible
        on a read-only workspace, where they cannot be)."""
        count = 0
        for path in [self.log_path, *self.pending()]:
            try:
                with open(path, "rb") as handle:
                    count += sum(1 for line in handle if line.endswith(b"\n") and line.strip())
            except FileNotFoundError:
                continue
        return count

    @staticmethod
    def read(path: Path) -> tuple[list[Record], list[str]]:
        """The records of a journal file, and a description of each line that is not one."""
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            return Journal.parse(handle.read(), path.name)

    @staticmethod
    def parse(text: str, name: str) -> tuple[list[Record], list[str]]:
        """The records in journal text (``name`` is for messages), and what is wrong with the rest."""
        records: list[Record] = []
        problems: list[str] = []
        lines = text.split("\n")  # not splitlines(): JSON text may hold U+2028 and friends
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            if number == len(lines):
                # A writer died mid-append; it never reported success.
                problems.append(f"{name}:{number}: incomplete last record (a writer "
                                "was interrupted), ignored")
                continue
            try:
                raw = json.loads(line)
                version = int(raw.get("v", 0))
                data = raw["data"]
                if "\\u" in line:  # only an escape makes a NUL or a lone surrogate (an older upstack wrote it)
                    data = clean_data(data)
                records.append(Record(raw["id"], raw["op"], raw["workspace"], raw["at"], data))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                problems.append(f"{name}:{number}: unreadable record ({exc})")
                continue
            if version > RECORD_VERSION:
                raise UpstackError(
                    f"{name}:{number}: journal record version {version} is newer than "
                    f"this upstack understands ({RECORD_VERSION}); upgrade upstack")
        return records, problems

    def keep_aside(self, path: Path) -> Path:
        """Keep a copy of a file with unreadable lines for a person to inspect."""
        self.quarantine.mkdir(parents=True, exist_ok=True)
        target = self.quarantine / path.name
        target.write_bytes(path.read_bytes())
        return target
