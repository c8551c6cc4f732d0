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

One append is one line, and one line is one durable unit: a single record is a
line of its own; several records appended together (an import, a sync batch) are
one ``batch`` line, so a writer killed or stopped by a full disk half-way leaves
an incomplete line that is ignored as a whole, never the first part of an import.
Each line ends with a CRC32 of its own bytes (``"crc"``), so a line damaged in
storage is refused, never applied as altered text; lines written before
checksums (no ``"crc"``) are read as they are.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain.text import clean_data
from upstack.errors import UpstackError
from upstack.files import fsync_dir, make_private_dirs, write_atomically
from upstack.ids import new_id
from upstack.timeutil import now_iso

__all__ = ["RECORD_VERSION", "Record", "Journal", "LineProblem", "make_record", "checksum", "journal_line",
           "rewrite_records"]

# The newest line format this upstack reads: 1, a record; 2, a batch of records in one line.
RECORD_VERSION = 2
_BATCH_START = '{"v":2,"batch":['
_CRC_FIELD = ',"crc":"'
_CRC_TAIL = len(_CRC_FIELD) + 8 + 2  # ,"crc":"xxxxxxxx"}


def checksum(text: str) -> str:
    """The CRC32 of a text's UTF-8 bytes, as eight hex digits: what the journal (and the store,
    for revisions and metric chunks) keeps next to data to notice a flipped bit later."""
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


def _with_checksum(body: str) -> str:
    """A JSON object's text with its own checksum added as the last member."""
    return f'{body[:-1]}{_CRC_FIELD}{checksum(body)}"}}'


def _sealed(line: str) -> bool:
    """Whether a line ends as a whole line with a checksum does (a line cut short does not)."""
    return len(line) >= _CRC_TAIL and line.endswith('"}') and line[-_CRC_TAIL:-10] == _CRC_FIELD


def _checksum_holds(line: str) -> bool:
    return checksum(line[:-_CRC_TAIL] + "}") == line[-10:-2]


def journal_line(records: list[Record]) -> str:
    """The line (without its newline) that journals ``records`` as one durable unit."""
    if len(records) == 1:
        return records[0].to_json()
    return _with_checksum(_BATCH_START + ",".join(r.canonical_json() for r in records) + "]}")


@dataclass(frozen=True)
class LineProblem:
    """A journal line that was not applied: where, why, and whether it is damage (a line that
    was whole once and changed since) rather than an interrupted write."""

    where: str
    message: str
    damaged: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Record:
    id: str
    op: str
    workspace: str
    at: str
    data: dict[str, Any]

    def canonical_json(self) -> str:
        """The record as compact JSON, without a checksum (inside a batch line, which has one)."""
        return json.dumps(
            {"v": 1, "id": self.id, "op": self.op, "workspace": self.workspace,
             "at": self.at, "data": self.data},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def to_json(self) -> str:
        """The record as one journal line, with its checksum."""
        return _with_checksum(self.canonical_json())


def make_record(op: str, workspace: str, data: dict[str, Any]) -> Record:
    """A new record of this workspace; its text as upstack keeps it (``domain.text.clean_text``)."""
    return Record(id=new_id(), op=op, workspace=workspace, at=now_iso(), data=clean_data(data))


class Journal:
    LOG = "log.jsonl"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.quarantine = directory / "bad"

    @property
    def log_path(self) -> Path:
        return self.directory / self.LOG

    def append(self, records: list[Record]) -> None:
        """Append records durably and as a whole: when this returns, they survive a crash; if
        it fails or is killed half-way, none of them will ever be applied.

        Raises:
            OSError: the journal cannot be written (a full disk, a read-only file system); nothing of
                these records is in it. upstack.faults says so in one line at the exit points.
        """
        # Start on a fresh line: a writer killed mid-append may have left half a line,
        # which would otherwise swallow this one. Readers skip the blank lines.
        self._append(("\n" + journal_line(records) + "\n").encode("utf-8"))

    def _append(self, data: bytes) -> None:
        make_private_dirs(self.directory)
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

    def waiting_ops(self) -> set[str]:
        """The operations of the records waiting to be taken in (read where they wait, not taken:
        no lock needed)."""
        ops: set[str] = set()
        for path in [self.log_path, *self.pending()]:
            try:
                records, _ = self.read(path)
            except FileNotFoundError:  # taken meanwhile by an ingester
                continue
            ops.update(record.op for record in records if isinstance(record.op, str))  # others: set aside later
        return ops

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
        records, problems = Journal.scan(text, name)
        return records, [str(p) for p in problems]

    @staticmethod
    def scan(text: str, name: str) -> tuple[list[Record], list[LineProblem]]:
        """The records in journal text, and each line that is not applied, with why.

        A line whose checksum does not match is refused whole: its text changed after it was
        written (a flipped bit on disk), and applying it would store that altered text.
        """
        records: list[Record] = []
        problems: list[LineProblem] = []
        lines = text.split("\n")  # not splitlines(): JSON text may hold U+2028 and friends
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{name}:{number}"
            what = ("a batch of records written together (an import or a sync)"
                    if line.startswith(_BATCH_START) else "a record")
            if number == len(lines):
                # A writer died mid-append; it never reported success.
                problems.append(LineProblem(where, f"{what} left incomplete (its writer was "
                                            "interrupted and never reported success): none of it applied"))
                continue
            sealed = _sealed(line)
            if sealed and not _checksum_holds(line):
                problems.append(LineProblem(where, f"{what} damaged in storage (its checksum does not "
                                            "match its bytes): refused, none of it applied", damaged=True))
                continue
            try:
                raw = json.loads(line)
                version = int(raw.get("v", 0))
            except (ValueError, TypeError, AttributeError, RecursionError) as exc:
                # A later append starts on a fresh line, so a writer killed mid-append leaves this.
                problems.append(LineProblem(where, f"{what} cut short or unreadable ({exc}; a writer "
                                            "interrupted mid-append leaves one): none of it applied"))
                continue
            if version > RECORD_VERSION:
                raise UpstackError(
                    f"{where}: journal record version {version} is newer than "
                    f"this upstack understands ({RECORD_VERSION}); upgrade upstack")
            if "crc" in raw and not sealed:
                problems.append(LineProblem(where, f"{what} damaged in storage (its checksum is): refused, "
                                            "none of it applied", damaged=True))
                continue
            try:
                # Only an escape makes a NUL or a lone surrogate (an older upstack wrote it): domain.text.
                escaped = "\\u" in line
                records += [Record(r["id"], r["op"], r["workspace"], r["at"],
                                   clean_data(r["data"]) if escaped else r["data"])
                            for r in raw.get("batch", [raw])]
            except (KeyError, TypeError, AttributeError) as exc:
                problems.append(LineProblem(where, f"unreadable record ({exc!r})"))
        return records, problems

    def forget_kept(self, ops: tuple[str, ...]) -> int:
        """Take every record of these ops out of the copies kept aside (the files of ``keep_aside`` and
        rejected.jsonl), for good: the person asked for them to be gone. A line is found by its op as a
        record spells it, so a line cut short after its op goes too (its data comes after the op); the
        other lines stay. (A line batching records of several ops goes whole: upstack batches none of
        these.) A file left with nothing is removed. How many lines went."""
        if not ops:
            return 0
        names = "|".join(re.escape(op) for op in ops)
        # Unescaped quotes only: the same text inside a JSON string (a note quoting a record) has them escaped.
        naming = re.compile(rf'"id":"[0-9A-Za-z]*","op":"(?:{names})"')
        kept = [self.directory / "rejected.jsonl"]
        if self.quarantine.is_dir():
            kept += sorted(p for p in self.quarantine.iterdir() if p.is_file())
        gone = 0
        for path in kept:
            try:
                lines = path.read_bytes().decode("utf-8", errors="surrogateescape").split("\n")
            except FileNotFoundError:
                continue
            left = [line for line in lines if not naming.search(line)]
            if len(left) == len(lines):
                continue
            gone += len(lines) - len(left)
            if not "".join(left).strip():
                path.unlink()
            else:
                write_atomically(path, "\n".join(left).encode("utf-8", errors="surrogateescape"), permissions=0o600)
        return gone

    def keep_aside(self, path: Path, name: str | None = None) -> Path:
        """Keep a copy of a file with unreadable lines for a person to inspect (and doctor to report)."""
        make_private_dirs(self.quarantine)
        target = self.quarantine / (name or path.name)
        write_atomically(target, path.read_bytes(), permissions=0o600)  # it may hold sealed or private records
        return target


def rewrite_records(path: Path, change: Callable[[Record], Record]) -> int:
    """Rewrite a journal file kept aside (``Journal.keep_aside``, rejected.jsonl) with ``change``
    applied to each record of its whole lines (each line written again, with its checksum); lines
    that are not whole records stay as they are. Replaced whole or not at all; how many records changed."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines, changed = text.split("\n"), 0
    for number, line in enumerate(lines):
        records, problems = Journal.scan(line + "\n", path.name) if line.strip() else ([], [])
        if problems or not records:
            continue
        new = [change(r) for r in records]
        if new != records:
            changed += sum(a != b for a, b in zip(records, new, strict=True))
            lines[number] = journal_line(new)
    if changed:
        write_atomically(path, "\n".join(lines), permissions=0o600)
    return changed
