"""Content-addressed blob store: each file stored once under its SHA-256, verified on read.

A file is stored once however many records name it, so storing one that is already
there writes nothing, and a purge deletes a file only when nothing names it. The two
would race (a capture finds the file present, a purge deletes it, the capture's record
lands naming it), so they take one lock, ``blobs/.lock``: whoever stores files holds it
shared until the records naming them are durable (``adding``), and a purge holds it
exclusively while it looks for names and deletes (``removing``). Take it before the
workspace lock, never while holding that.

Files are written as every blob is (``upstack.files.store_blob``, which a run's folder uses
too). hashlib and shutil are imported where they are used here: every command builds a
BlobStore, few of them touch a file (together they cost ~7 ms of start-up).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from upstack.errors import UpstackError
from upstack.files import blob_path, make_private_dirs, store_blob

__all__ = ["BlobStore", "BlobError"]

_CHUNK = 1 << 20


class BlobError(UpstackError):
    pass


class BlobStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, sha256: str) -> Path:
        return blob_path(self.directory, sha256, nested=True)

    @contextmanager
    def adding(self) -> Iterator[None]:
        """Hold from storing files until the records that name them are journaled or committed.

        Many adders at once; a purge waits for them, and they for it.
        """
        with self._locked(fcntl.LOCK_SH):
            yield

    @contextmanager
    def removing(self) -> Iterator[None]:
        """Hold while deciding which files nothing names and deleting them: meanwhile no record
        naming a file is on its way, so the journal and the store hold every name there is."""
        with self._locked(fcntl.LOCK_EX):
            yield

    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        make_private_dirs(self.directory)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # releases the lock

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy a file in (durably) and return its hash and size."""
        return store_blob(self.directory, source, nested=True)

    def put_bytes(self, data: bytes) -> str:
        return store_blob(self.directory, data, nested=True)[0]

    def read(self, sha256: str) -> bytes:
        """The blob's bytes, after checking they still hash to their name."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobError(f"blob {sha256[:12]} is missing from {self.directory}") from None
        if _sha256(data) != sha256:
            raise BlobError(f"blob {sha256[:12]} is corrupted (its content no longer matches its hash)")
        return data

    def verify(self, sha256: str) -> str | None:
        """None if the blob is present and intact, else what is wrong with it."""
        import hashlib

        path = self.path(sha256)
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return "missing"
        return None if digest.hexdigest() == sha256 else "corrupted"

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def all_hashes(self) -> list[str]:
        if not self.directory.exists():
            return []
        found: list[str] = []
        for sub in sorted(self.directory.iterdir()):
            if sub.is_dir() and len(sub.name) == 2:
                found.extend(sub.name + p.name for p in sorted(sub.iterdir())
                             if not p.name.startswith("."))
        return found

    def copy_tree_to(self, target: Path, hashes: list[str]) -> None:
        import shutil

        for sha in hashes:
            dest = blob_path(target, sha, nested=True)
            make_private_dirs(dest.parent)
            shutil.copyfile(self.path(sha), dest)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
