"""The capture journal: each writer appends records to files of its own.

A command writes its records to a temporary file, fsyncs it and renames it into
``journal/``: a file there is complete or absent, never half-written. Record ids
make replay idempotent, so the ingester may read a file twice (after a crash
between committing and deleting it) without duplicating anything. Blobs are
stored before the records that point to them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    return Record(id=new_id(), op=op, workspace=workspace, at=now_iso(), data=data)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.quarantine = directory / "bad"

    def append(self, records: list[Record]) -> Path:
        """Write records durably as one new journal file; return its path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{records[0].id}-{os.getpid()}.jsonl"
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(record.to_json())
                handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        final = self.directory / name
        os.replace(tmp, final)
        fsync_dir(self.directory)
        return final

    def pending(self) -> list[Path]:
        """Complete journal files, oldest first (names start with a time-sortable id)."""
        try:
            names = [e.name for e in os.scandir(self.directory)
                     if e.name.endswith(".jsonl") and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        return [self.directory / n for n in sorted(names)]

    def has_pending(self) -> bool:
        try:
            with os.scandir(self.directory) as entries:
                return any(e.name.endswith(".jsonl") and not e.name.startswith(".")
                           for e in entries)
        except FileNotFoundError:
            return False

    @staticmethod
    def read(path: Path) -> Iterator[Record]:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    version = int(raw.get("v", 0))
                    record = Record(raw["id"], raw["op"], raw["workspace"], raw["at"], raw["data"])
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise JournalFileError(f"{path.name}:{number}: unreadable record ({exc})") from None
                if version > RECORD_VERSION:
                    raise UpstackError(
                        f"{path.name}:{number}: journal record version {version} is newer than this "
                        f"upstack understands ({RECORD_VERSION}); upgrade upstack"
                    )
                yield record

    def set_aside(self, path: Path) -> Path:
        """Move an unreadable file out of the way, keeping it for a person to inspect."""
        self.quarantine.mkdir(parents=True, exist_ok=True)
        target = self.quarantine / path.name
        os.replace(path, target)
        return target


class JournalFileError(UpstackError):
    pass
