"""The SQL store opened on a workspace: migrated on open; journal and run folders ingested when asked."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from upstack.domain import access
from upstack.errors import NewerVersion, UpstackError
from upstack.files import atomic_path, make_private_dirs, write_atomically
from upstack.formats.journal import Journal, Record
from upstack.formats.rundir import run_dirs
from upstack.store import SCHEMA_MARK, artifacts, schema
from upstack.store.blobs import BlobStore
from upstack.store.db import Database, connect, writable
from upstack.timeutil import now_iso, to_iso

if TYPE_CHECKING:
    from upstack.store.run_ingest import RunFolderReport

__all__ = ["Store", "IngestReport", "workspace_lock"]


@contextmanager
def workspace_lock(home: Path) -> Iterator[None]:
    """One writer at a time per workspace for ingest, migration, restore and backup."""
    make_private_dirs(home)
    fd = os.open(home / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


BULK = 10_000  # records in one ingest that make it a bulk import


@dataclass
class IngestReport:
    """What an ingest did. ``problems`` speak of everything it took in, whoever wrote it; a team
    server tells a member only about their own records (``refused``)."""

    applied: int = 0
    problems: list[str] = field(default_factory=list)
    runs: RunFolderReport | None = None
    refused: dict[str, str] = field(default_factory=dict)  # record id -> why it was not applied
    # A read-only workspace is read as it is: what it says is left out (pending records, say).
    read_only: list[str] = field(default_factory=list)


class Store:
    """The database of one workspace, migrated when opened. Opening reads nothing in: ``ingest``
    takes in what the journal and run folders hold, and ``write`` journals records and takes them
    in at once.

    ``run_folders``: where runs write (see store.run_ingest; default the workspace's runs/).
    ``crashed_after``: seconds of silence after which a running run counts as crashed.
    ``workspace_id``: asked only when a run needs an entry (made on first use, so lazily).
    """

    def __init__(self, home: Path, db_url: str | None = None, *, team: bool = False,
                 run_folders: list[Path] | None = None, crashed_after: float = 120.0,
                 workspace_id: Callable[[], str] = lambda: "") -> None:
        self.home = home
        self.journal = Journal(home / "journal")
        self.blobs = BlobStore(home / "blobs")
        self.db: Database = connect(db_url, home / "upstack.db")
        self.db.team = team
        # A workspace on a read-only mount (a backup, a snapshot) is read, never written: nothing
        # is ingested or migrated, and no lock file is made.
        self.read_only = self.db.read_only or not writable(home)
        self.run_folders: list[Path] = run_folders if run_folders is not None else [home / "runs"]
        self.crashed_after = crashed_after
        self.workspace_id = workspace_id
        try:
            self._migrate()
        except BaseException:
            self.db.close()
            raise

    def lock(self) -> AbstractContextManager[None]:
        if self.db.read_only:  # nothing is written through it, and its folder may not take a lock file
            return nullcontext()
        return workspace_lock(self.home)

    # -- migrations --------------------------------------------------------------
    def _migrate(self) -> None:
        if self.read_only:
            self._check_readable_as_is()
            return
        try:
            self._migrate_if_needed()
        except NewerVersion:
            self._mark_schema(schema.current_version(self.db))
            raise
        self._mark_schema(schema.LATEST)

    def _check_readable_as_is(self) -> None:
        """A read-only workspace cannot be migrated: refuse in one line if it would need to be."""
        version = schema.current_version(self.db)
        schema.check_not_newer(version)
        if version != schema.LATEST:
            raise UpstackError(
                f"this workspace is read-only and has schema {version}, older than this upstack reads "
                f"({schema.LATEST}); migrating it means writing to it: copy it somewhere writable "
                f"(cp -a {self.home} COPY) and open the copy")

    def _mark_schema(self, version: int) -> None:
        """Tell capture (which never opens the database) what schema the workspace has."""
        mark = self.home / SCHEMA_MARK
        try:
            if mark.read_text().strip() == str(version):
                return
        except FileNotFoundError:
            pass
        write_atomically(mark, f"{version}\n")

    def _migrate_if_needed(self) -> None:
        stamped = self.db.engine.stamped_version(self.db)
        if stamped is not None:
            schema.check_not_newer(stamped)
            if stamped == schema.LATEST:
                return
        with self.lock():
            version = schema.current_version(self.db)
            schema.check_not_newer(version)
            if version == schema.LATEST:
                return
            if self.db.engine.copies_file and version > 0:
                self._backup_before_migration(version)
            schema.apply(self.db)

    def _backup_before_migration(self, version: int) -> None:
        folder = self.home / "backups"
        make_private_dirs(folder)
        stamp = now_iso().replace(":", "").replace("-", "").replace(".", "")
        target = folder / f"upstack.db.schema{version}.{stamp}.bak"
        # A half-made copy on a full disk would only take more of it: none is left. Its owner's only.
        with atomic_path(target, permissions=0o600) as tmp:
            self.db.engine.copy_to(self.db, tmp)

    # -- ingest ------------------------------------------------------------------
    def ingest(self, progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Apply every pending journal file, then retire the files it committed.

        ``progress(done, total)`` is called as records are applied, for long imports.
        """
        report = IngestReport()
        if self.read_only:
            return self._leave_as_is(report)
        if any(run_dirs(folder) for folder in self.run_folders):
            report.runs = self.ingest_runs(self.run_folders)
            report.problems += report.runs.problems
        silent = self._silent_runs()
        if silent:
            from upstack.store import runs  # only with runs to mark

            with self.lock(), access.acting_as(access.OWNER), self.db.transaction():
                for run_id in silent:
                    try:
                        with self.db.transaction():  # one run's damaged data never stops the others
                            runs.mark_crashed(self.db, run_id, runs.heard_last(self.db, run_id), self.workspace_id())
                    except self._bad_record_errors as exc:
                        self.db.execute("UPDATE runs SET status = 'crashed' WHERE id = ?", (run_id,))
                        report.problems.append(f"run {run_id} went silent; its result could not be written: {exc}")
        if not self.journal.has_pending():
            return report
        with self.lock():
            batches: list[tuple[Path, list[Record]]] = []
            for path in self.journal.take():
                records, problems = self.journal.read(path)
                if problems:
                    kept = self.journal.keep_aside(path)
                    report.problems += [f"{p} (file kept as {kept})" for p in problems]
                batches.append((path, records))
            records = [record for _, batch in batches for record in batch]
            try:
                # The usual case in one go; one savepoint per record only if something fails.
                with self.db.transaction():
                    self._apply_all(records, report, progress, isolate=False)
            except self._bad_record_errors:
                report.applied = 0
                with self.db.transaction():
                    self._apply_all(records, report, progress, isolate=True)
            done = [path for path, _ in batches]
            for path in done:
                path.unlink(missing_ok=True)
            if report.applied >= BULK:
                # A bulk import: the planner learns of its rows now (it may plan the first searches
                # as for empty tables otherwise).
                self.db.engine.analyze_after_bulk_load(self.db)
        return report

    def _leave_as_is(self, report: IngestReport) -> IngestReport:
        """Read a read-only workspace as it is, and say what that leaves out."""
        report.read_only += self.db.notices
        waiting = self.journal.count_pending()
        if waiting:
            report.read_only.append(
                f"read-only workspace: {waiting} change{'' if waiting == 1 else 's'} waiting in its journal "
                f"{'is' if waiting == 1 else 'are'} not shown")
        unread_runs = sum(len(run_dirs(folder)) for folder in self.run_folders)
        if unread_runs:
            report.read_only.append(
                f"read-only workspace: what {unread_runs} run folder{'' if unread_runs == 1 else 's'} "
                "hold since the last ingest is not shown")
        return report

    def ingest_runs(self, folders: list[Path],
                    progress: Callable[[int, int], None] | None = None) -> RunFolderReport:
        """Take in what runs wrote to their folders (see ``store.run_ingest``)."""
        with self.lock(), access.acting_as(access.OWNER):  # taking records in is never filtered by reader
            from upstack.store.run_ingest import ingest_run_folders  # only with run folders to read

            return ingest_run_folders(self.db, self.blobs, folders, crashed_after=self.crashed_after,
                                      retire=self.home / "runs", workspace=self.workspace_id,
                                      progress=progress, set_aside=self.set_aside,
                                      keep_aside=self.journal.keep_aside)

    def _silent_runs(self) -> list[str]:
        """Runs that log to this store from afar (pushed to a team server, so read from no folder:
        their folder offsets stay 0) and have not been heard from for ``crashed_after`` seconds."""
        from datetime import UTC, datetime, timedelta

        cutoff = to_iso(datetime.now(UTC) - timedelta(seconds=self.crashed_after))
        return [str(r["id"]) for r in self.db.query("SELECT id FROM runs WHERE status = 'running' "
                                                    "AND records_offset = 0 AND heartbeat_at < ?", (cutoff,))]

    @property
    def _bad_record_errors(self) -> tuple[type[Exception], ...]:
        from upstack.store.apply import bad_record_errors

        return bad_record_errors(self.db)

    def _apply_all(self, records: list[Record], report: IngestReport,
                   progress: Callable[[int, int], None] | None, isolate: bool) -> None:
        from upstack.store.apply import apply_record  # every handler's module: only when there is a record

        for count, record in enumerate(records, 1):
            if isolate:
                self._apply_isolated(record, report)
            elif apply_record(self.db, record):
                report.applied += 1
            if progress and (count % 500 == 0 or count == len(records)):
                progress(count, len(records))

    def _apply_isolated(self, record: Record, report: IngestReport) -> None:
        from upstack.store.apply import apply_record

        try:
            with self.db.transaction():
                if apply_record(self.db, record):
                    report.applied += 1
        except self._bad_record_errors as exc:
            report.refused[record.id] = str(exc)
            report.problems.append(self.set_aside(record, exc))

    def set_aside(self, record: Record, problem: Exception) -> str:
        """Keep a record that cannot be applied in the journal's rejected.jsonl (which `doctor` reports);
        one line saying so."""
        rejected = self.journal.directory / "rejected.jsonl"
        rejected.parent.mkdir(parents=True, exist_ok=True)
        with open(rejected, "a", encoding="utf-8") as handle:
            handle.write(record.to_json() + "\n")
        return f"record {record.id} ({record.op}) not applied: {problem}; kept in {rejected}"

    def write(self, records: list[Record]) -> IngestReport:
        """Journal records durably, then ingest them at once (for commands that hold the store)."""
        if records:
            self.journal.append(records)
        return self.ingest()

    def delete_unused_blobs(self, hashes: set[str]) -> list[str]:
        """Delete those of these files no attachment or artifact names any more; return them. The caller holds
        ``blobs.removing()`` and has ingested the journal since taking it, so every name a record
        gives is in the store."""
        removed = []
        with self.lock():  # run folders are copied in and committed under it
            for sha in sorted(hashes):
                if not self.db.scalar("SELECT 1 FROM attachments WHERE sha256 = ?", (sha,)) \
                        and not artifacts.blob_in_use(self.db, sha):
                    self.blobs.remove(sha)
                    removed.append(sha)
        return removed

    def prepare_scrub(self) -> None:
        """Before a purge: make SQLite overwrite freed pages instead of leaving them."""
        self.db.engine.overwrite_deleted(self.db)

    def scrub(self, tables: tuple[str, ...] = ("entries", "revisions", "entry_search", "search_words", "attachments",
                                               "entry_tags", "links", "runs", "run_items", "metric_chunks",
                                               "comments")) -> None:
        """After a purge (or rows rewritten: check-ins sealed): push the earlier text of ``tables`` out
        of index segments, WAL and dead tuples."""
        self.db.engine.scrub(self.db, tables, self.lock)

    def close(self) -> None:
        self.db.close()

