"""Faults of the machine, not of the person: a full disk, a read-only file system, a database
server that went away. Each becomes one line that names what failed and what became of the log.

These errors come from deep inside (an ``os.write`` in the journal, a commit in SQLite, a
query on a PostgreSQL connection that was cut) and can strike any command, so they are not
wrapped where they happen: the CLI's one exit point asks :func:`describe` about whatever
escaped, prints the line, and exits 1. Anything it does not recognise is a bug and keeps
its traceback.

The line is true whatever the command was, because of how upstack writes: a record reaches
the journal whole and durable or is not acknowledged; the SQL store changes in transactions
that a failure rolls back; blobs settle by rename. So the log is as it was, and what waits in
the journal (counted here, not guessed) is applied by the next command that can write.

Example (``upstack note`` on a workspace mounted read-only, one line):
    upstack: error: cannot write /mnt/log/journal/log.jsonl: the file system is read-only;
    the log is as it was; a read-only workspace can be read, not written
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["describe", "sqlite_fault"]

_OS_REASONS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "the file is larger than the file system allows",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EIO: "the disk reported an input/output error",
}
_WRITES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
_NO_ROOM = "free some space and run the command again"
_READ_ONLY = "a read-only workspace can be read, not written"
_ADVICE = {errno.ENOSPC: _NO_ROOM, errno.EDQUOT: _NO_ROOM, errno.EFBIG: _NO_ROOM, errno.EROFS: _READ_ONLY}


def describe(exc: BaseException, home: Path | None) -> str | None:
    """One line for a fault of the disk or the database, or None if ``exc`` is not one.

    ``home`` is the workspace, to say what waits in its journal.
    """
    fault = _what_failed(exc, home)
    if fault is None:
        return None
    return "; ".join(part for part in (fault.failure, _state(home, fault.cut_off), fault.advice) if part)


@dataclass(frozen=True)
class _Fault:
    failure: str  # what failed, and why
    advice: str = ""
    # A connection cut off: its last commit may or may not have reached the server (either whole).
    cut_off: bool = False


def _what_failed(exc: BaseException, home: Path | None) -> _Fault | None:
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        verb = "write" if exc.errno in _WRITES else "use"
        place = f" {exc.filename}" if exc.filename else f" in {home}" if home else ""  # os.write names no file
        return _Fault(f"cannot {verb}{place}: {_OS_REASONS[exc.errno]}", _ADVICE.get(exc.errno, ""))
    import sqlite3  # loaded already if an SQLite error is on its way out

    if isinstance(exc, sqlite3.Error) and sqlite_fault(exc):
        database = home / "upstack.db" if home else "the workspace database"
        reason = _sqlite_reason(exc, home)
        advice = _NO_ROOM if "space" in reason else _READ_ONLY if "read-only" in reason else ""
        return _Fault(f"cannot use {database}: {reason}", advice)
    psycopg = sys.modules.get("psycopg")  # not imported means not a PostgreSQL error
    if psycopg is not None and isinstance(exc, psycopg.Error):
        return _postgresql(exc, psycopg)
    return None


# -- SQLite -------------------------------------------------------------------------------

_SQLITE_REASONS = {
    "SQLITE_FULL": "no space left on the disk",
    "SQLITE_READONLY": "it is read-only here (a read-only file system, or no write permission)",
    "SQLITE_CANTOPEN": "it cannot be opened (a missing folder, or no permission)",
    "SQLITE_BUSY": "another process kept it locked for too long",
    "SQLITE_LOCKED": "another process kept it locked for too long",
    "SQLITE_IOERR": "the disk reported an input/output error",
}


def sqlite_fault(exc: BaseException) -> bool:
    """Is this SQLite error the disk's or the file system's (not the database file's content)?"""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return any(name.startswith(prefix) for prefix in _SQLITE_REASONS)


def _sqlite_reason(exc: BaseException, home: Path | None) -> str:
    """Why SQLite failed, in words; an I/O error on a full disk is said to be the full disk.

    (SQLite reports a file it cannot grow, such as the shared-memory index it makes on
    opening, as a plain I/O error.)
    """
    name = getattr(exc, "sqlite_errorname", "") or ""
    family = next((prefix for prefix in _SQLITE_REASONS if name.startswith(prefix)), "")
    if family == "SQLITE_IOERR" and home is not None and _disk_full(home):
        family = "SQLITE_FULL"
    reason = _SQLITE_REASONS.get(family)
    return reason if reason else str(exc)


def _disk_full(path: Path) -> bool:
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024 or (stats.f_files > 0 and stats.f_favail == 0)


# -- PostgreSQL ---------------------------------------------------------------------------

def _postgresql(exc: BaseException, psycopg: Any) -> _Fault | None:
    """Connection lost, the server's disk full, a read-only server: not a record's fault."""
    cause = exc  # a rollback on a cut connection fails too ("the connection is closed"): say why it was cut
    while isinstance(cause.__context__, psycopg.Error):
        cause = cause.__context__
    state = getattr(exc, "sqlstate", None) or getattr(cause, "sqlstate", None) or ""
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()), "no reason given")
    if state == "53100":
        return _Fault(f"PostgreSQL cannot write: its disk is full ({first})", "free space on the database server")
    if state == "25006":
        return _Fault(f"PostgreSQL refused to write: the database is read-only ({first})")
    if not isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return None
    if state.startswith(("08", "57P")) or not state:
        return _Fault(f"lost the connection to PostgreSQL ({first})", "run the command again when it is back",
                      cut_off=True)
    return _Fault(f"PostgreSQL failed ({first})")


# -- what became of the log ---------------------------------------------------------------

def _state(home: Path | None, cut_off: bool) -> str:
    """The log is as it was (writes are atomic); say what waits in the journal, if anything."""
    lead = "nothing was half-written, a transaction cut off is rolled back whole" if cut_off else \
        "the log is as it was"
    if home is None:
        return lead
    from upstack.formats.journal import Journal

    try:
        waiting = Journal(home / "journal").count_pending()
    except OSError:
        waiting = 0
    if not waiting:
        return lead
    waits = "1 change waits" if waiting == 1 else f"{waiting} changes wait"
    return f"{lead}; {waits} in its journal to be applied"
