"""A thin, explicit connection over sqlite3 or psycopg: one SQL text, two engines.

SQL is written once with ``?`` placeholders and portable types; the few places
where the engines differ ask ``db.engine`` (``store.dialect``). Rows come back as dicts.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from upstack.errors import UpstackError
from upstack.files import make_private_dirs
from upstack.store.dialect import Dialect, PostgresDialect, SqliteDialect

__all__ = ["Database", "connect"]

Row = dict[str, Any]


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


class Database:
    """One connection. Writes happen inside ``transaction()``; nesting uses savepoints."""

    def __init__(self, raw: Any, engine: Dialect) -> None:
        self.raw = raw
        self.engine = engine  # every difference between the engines
        engine.prepare(raw)
        self._sql = engine.placeholders
        self._depth = 0
        # Opened read-only (an SQLite file in a folder this process cannot write): no ingest, no migration.
        self.read_only = False
        # What a person should know about how it was opened (said once, with the command's warnings).
        self.notices: list[str] = []
        # A team server's store: every read must say whom it answers for (domain/access.py).
        self.team = False
        # What a bad row raises (a constraint broken), as opposed to a broken connection.
        self.integrity_error: type[Exception] = engine.integrity_error
        # What a value the engine cannot hold raises (a NUL byte in PostgreSQL text, a huge integer).
        self.data_error: type[Exception] = engine.data_error
        # What a row too large for its index raises (a key of more than about 2,700 bytes in PostgreSQL).
        self.too_large_error: type[Exception] = engine.too_large_error
        # What the open transaction has written, for writers that skip repeating themselves within
        # it (store.vocabulary): emptied when it begins, commits, or any part of it rolls back.
        self.written: dict[str, set[Any]] = {}

    @property
    def writing(self) -> bool:
        """Whether a ``transaction()`` is open (``written`` then holds what it wrote)."""
        return self._depth > 0

    @property
    def dialect(self) -> str:
        """The engine's name, "sqlite" or "postgresql", for messages and the migrations that keep the
        SQL they ran (store/migrations/); a difference between the engines is ``engine``'s to know."""
        return self.engine.name

    # -- reading and writing -------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.engine.executemany(self.raw, sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self.execute(sql, params).fetchall())

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples: for a read of thousands of rows, where a dict per row would cost more
        than the query (store/predictions.standing)."""
        return self.engine.tuples(self.raw, self._sql(sql), tuple(params))

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self.execute(sql, params).fetchone()  # type: ignore[no-any-return]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else next(iter(row.values()))

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """All-or-nothing; an inner call becomes a savepoint of the outer one."""
        if self._depth == 0:
            self.written.clear()
            self.raw.execute(self.engine.begin_write)
        else:
            self.raw.execute(f"SAVEPOINT sp{self._depth}")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self.written.clear()
            self._depth -= 1
            if self._depth == 0:
                self.raw.execute("ROLLBACK")
            else:
                self.raw.execute(f"ROLLBACK TO SAVEPOINT sp{self._depth}")
                self.raw.execute(f"RELEASE SAVEPOINT sp{self._depth}")
            raise
        self._depth -= 1
        if self._depth == 0:
            self.written.clear()
            self.raw.execute("COMMIT")
        else:
            self.raw.execute(f"RELEASE SAVEPOINT sp{self._depth}")

    @contextmanager
    def snapshot(self) -> Iterator[Database]:
        """A read-only view that stays consistent while others write."""
        self.raw.execute(self.engine.begin_snapshot)
        try:
            yield self
        finally:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()


def connect(url: str | None, sqlite_path: Path) -> Database:
    if url and url.startswith(("postgresql://", "postgres://")):
        return _connect_postgresql(url)
    if url and not url.startswith("sqlite:"):
        raise UpstackError(f"unsupported database URL {url!r}: use postgresql://... or sqlite:///path")
    path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite:")) if url else sqlite_path
    if path.exists() and not writable(path.parent):
        return _connect_sqlite_read_only(path)
    return _connect_sqlite(path)


def writable(folder: Path) -> bool:
    """Can this process create files in ``folder`` (false on a read-only mount, or without
    permission)? A folder not made yet counts as writable: it is made on the first write."""
    return not folder.exists() or os.access(folder, os.W_OK)


BUSY_SECONDS = 30.0  # how long an SQLite connection waits for another process's lock


def _enter_wal(raw: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, waiting for other processes as every other statement does.

    Several processes opening a new workspace at once race to switch its database to WAL, and a
    loser can get SQLITE_BUSY at once, without SQLite's busy handler (seen in about 1 of 100
    processes when 8 start together: tests/test_reliability.py's migrators). Try again for as long
    as the busy timeout would have waited."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.001
    while True:
        try:
            raw.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _connect_sqlite(path: Path) -> Database:
    make_private_dirs(path.parent)
    try:
        if not path.exists():  # made for its owner only, as its folder is; its -wal and -shm take its mode
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        raw = sqlite3.connect(path, isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=False)
    except sqlite3.DatabaseError as exc:
        raise UpstackError(f"cannot open workspace database {path}: {exc}") from None
    try:
        raw.row_factory = _dict_row
        _enter_wal(raw)
        # FULL: each commit is on disk before it returns. An ingest deletes the journal files it applied
        # once it commits; with NORMAL a power cut could keep their deletion and lose the commit.
        raw.execute("PRAGMA synchronous=FULL")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        from upstack.faults import sqlite_fault

        raw.close()
        if sqlite_fault(exc):
            raise  # a full disk, say: the exit point names it and what became of the log
        raise UpstackError(f"cannot open workspace database {path}: {exc}") from None
    return Database(raw, SqliteDialect())


def _connect_sqlite_read_only(path: Path) -> Database:
    """A database whose folder cannot be written: a mounted backup, a snapshot, someone else's.

    A WAL database needs its shared-memory file to be read normally; SQLite opens it
    read-only when that file is there (it is while a writer has the database open, and
    then the write-ahead log is read too). Otherwise the file is opened as immutable,
    which is exact for a workspace closed cleanly (its log checkpointed and removed).
    """
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    unread_wal = wal.exists() and wal.stat().st_size > 0
    notices = []
    try:
        try:
            raw = _open_sqlite_uri(uri + "?mode=ro")
        except sqlite3.OperationalError:
            raw = _open_sqlite_uri(uri + "?mode=ro&immutable=1")
            if unread_wal:
                notices.append(f"read-only workspace: the last changes in {wal.name} cannot be read "
                               "without its shared-memory file; they are not shown")
    except sqlite3.DatabaseError as exc:
        raise UpstackError(f"cannot open workspace database {path} (read-only): {exc}") from None
    db = Database(raw, SqliteDialect())
    db.read_only = True
    db.notices = notices
    return db


def _open_sqlite_uri(uri: str) -> sqlite3.Connection:
    """A connection that has read the schema (so a file it cannot read fails here), or an error."""
    raw = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0, check_same_thread=False)
    try:
        raw.row_factory = _dict_row
        raw.execute("SELECT count(*) FROM sqlite_master")
        raw.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        raw.close()
        raise
    return raw


def _connect_postgresql(url: str) -> Database:
    import psycopg  # only for a PostgreSQL store
    from psycopg.rows import dict_row

    try:
        raw = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise UpstackError(f"cannot connect to PostgreSQL: {first}") from None
    # upstack's tables are read from memory or an SSD, where a page read out of order costs about what
    # the next one does. PostgreSQL's default (4, for spinning disks) had the planner read the whole
    # search table rather than its full-text index for a reader shown part of the log (60 ms, not 26).
    # A server whose administrator chose a value keeps theirs.
    raw.execute("SELECT set_config('random_page_cost', '1.1', false) "
                "WHERE current_setting('random_page_cost') = '4'")
    return Database(raw, PostgresDialect())
