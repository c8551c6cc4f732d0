"""Durable file writes: a file is replaced whole or not at all, and a blob is stored once under its hash.

Every file upstack writes in one go goes through here (the journal and a run's own files are
appended to instead: ``store.journal``, ``capture.rundir``). The one way of doing it:

- write a temporary file of a name no other writer can take, in the target's folder (a rename
  is atomic only within one file system), starting with a dot so listings pass over it;
- flush and fsync it, ``os.replace`` it onto the target, then fsync the folder so the new name
  survives a crash too (skipped where the file system refuses to sync a folder);
- on any failure, remove the temporary file: the target is as it was, never half-written;
- let ``OSError`` through, naming the target rather than the temporary file (or no file, as a
  failed ``write`` or ``fsync`` would), so that ``upstack.faults`` says in one line what could
  not be written and why.

It imports nothing of upstack, so capture, store, services, interop and the interfaces can all use it.

Example::

    write_atomically(home / "focus", node_id + "\\n")
    with atomic_path(backups / "upstack.db.bak") as tmp:  # for a writer that wants a path
        sqlite3.connect(tmp).close()
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["make_private_dirs", "atomic_path", "atomic_dir", "write_atomically", "store_blob", "blob_path", "fsync_dir",
           "read_at_most"]

_CHUNK = 1 << 20
# A folder's fsync refused (some network and FUSE file systems, a folder this user may not
# open): the rename is done all the same, only not yet forced to the disk.
_SYNC_REFUSED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EACCES, errno.EPERM}


def make_private_dirs(path: Path) -> None:
    """Make the folder ``path`` and every missing folder above it, each new one for its owner only
    (0o700 whatever the umask; os.mkdir's mode can only lose bits to it). A workspace holds private
    entries and check-ins: every folder upstack makes for one, from the workspace's own down, is
    closed to the other users of a shared machine. A folder already there is left as it is
    (`upstack doctor` says when a workspace can be read by others)."""
    missing = []
    while not os.path.lexists(path):
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process: theirs is as private
            os.mkdir(folder, 0o700)


@contextmanager
def atomic_path(path: Path, *, permissions: int = 0o666, overwrite: bool = True, sync: bool = True
                ) -> Iterator[Path]:
    """A new, empty temporary file beside ``path`` to write; on leaving the block it becomes ``path``.

    For writers that open a file by name (SQLite's backup, matplotlib); ``write_atomically``
    is the short form for bytes or text in hand.

    Args:
        path: the file to write, replaced whole when the block ends without an exception.
        permissions: the new file's mode, less the umask (as ``open`` makes it); 0o600 for a secret.
        overwrite: False to leave a ``path`` that already exists as it is and raise
            ``FileExistsError`` (the first of several writers wins; needs hard links).
        sync: False to leave forcing it to the disk to the caller (a writer of thousands of files
            syncs once at the end: ``sync_all``); the file is replaced whole all the same.

    Raises:
        OSError: it could not be written; nothing is left of the temporary file.
    """
    try:
        tmp = _new_temp(path, permissions)
    except OSError as exc:  # the folder is missing, read-only, full: said of the file to be written
        exc.filename, exc.filename2 = str(path), None
        raise
    try:
        yield tmp
        if sync:
            with open(tmp, "rb") as written:  # whoever wrote it closed it: fsync reaches its data all the same
                os.fsync(written.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            tmp.unlink()
        if sync:
            fsync_dir(path.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        _name_target(exc, tmp, path)
        raise


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """A new, empty, private folder beside ``path`` to fill; on leaving the block it becomes ``path``
    whole (never merged into a folder already there: that is refused), or on an error it is removed.

    Raises:
        OSError: it could not be made or moved into place; nothing is left of the temporary folder.
    """
    tmp = path.with_name(f".{path.name[:40]}.{os.urandom(6).hex()}.tmp")
    os.mkdir(tmp, 0o700)
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if os.path.lexists(path):  # os.rename would replace an empty folder there
            raise FileExistsError(errno.EEXIST, "already exists", str(path))
        os.rename(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_atomically(path: Path, data: bytes | str, *, permissions: int = 0o666, overwrite: bool = True,
                     sync: bool = True) -> None:
    """Replace ``path`` with ``data`` (text as UTF-8) whole or not at all; options as ``atomic_path``."""
    with atomic_path(path, permissions=permissions, overwrite=overwrite, sync=sync) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def sync_all() -> None:
    """Force every write not yet on the disk to it (after ``write_atomically(..., sync=False)``)."""
    if hasattr(os, "sync"):
        os.sync()


def blob_path(directory: Path, sha256: str, *, nested: bool) -> Path:
    """Where a blob lives: ``ab/cdef…`` in the workspace's store (``nested``), ``abcdef…`` in a run's folder."""
    return directory / sha256[:2] / sha256[2:] if nested else directory / sha256


def store_blob(directory: Path, source: bytes | Path, *, nested: bool) -> tuple[str, int]:
    """Store bytes, or a file's content, once under its SHA-256 in ``directory``: (hash, size).

    A blob already there is left as it is (its name is its content). Writers of the same blob
    at once each write their own temporary file, and the last rename wins with the same bytes.
    Locking against a purge is the caller's (``store.blobs.BlobStore.adding``).
    """
    import hashlib  # here: every command imports this module (store.blobs), few of them store a file

    make_private_dirs(directory)
    if isinstance(source, bytes):
        sha256 = hashlib.sha256(source).hexdigest()
        if blob_path(directory, sha256, nested=nested).exists():
            return sha256, len(source)
    tmp = _new_temp(directory / "incoming", 0o666)
    try:
        with open(tmp, "wb") as out:
            if isinstance(source, bytes):
                out.write(source)
                size = len(source)
            else:
                sha256, size = _copy_hashing(source, out)
            out.flush()
            os.fsync(out.fileno())
        final = blob_path(directory, sha256, nested=nested)
        if not final.exists():
            made = not final.parent.exists()
            make_private_dirs(final.parent)
            os.replace(tmp, final)
            fsync_dir(final.parent)
            if made:
                fsync_dir(directory)
        return sha256, size
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()  # present only if it failed, or the blob was there already


def fsync_dir(directory: Path) -> None:
    """Make the names in a folder durable (a file made or renamed there); skipped where refused."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        if exc.errno in _SYNC_REFUSED:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _SYNC_REFUSED:
            raise
    finally:
        os.close(fd)


def _new_temp(beside: Path, permissions: int) -> Path:
    """A new empty file in ``beside``'s folder, named after it and for no one else."""
    while True:
        # A short stem: the temporary name must fit where the target's name just fits.
        tmp = beside.with_name(f".{beside.name[:40]}.{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, permissions)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def _copy_hashing(source: Path, out: BinaryIO) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _name_target(exc: BaseException, tmp: Path, path: Path) -> None:
    """An error writing the temporary file (one naming it, or no file: a write, an fsync) is said
    of the file being written, which is the one the person knows."""
    if isinstance(exc, OSError) and exc.filename in (None, tmp, str(tmp)):
        exc.filename, exc.filename2 = str(path), None


def read_at_most(path: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of ``path`` (one more says there was more): a size from ``stat`` is
    no bound for a device such as /dev/zero, or a file that grows while it is read."""
    with open(path, "rb") as handle:
        return handle.read(limit + 1)
