"""The Workspace: every option an interface can set, and lazy access to the store.

Capture needs only the journal and the blob store (no SQL, no heavy imports);
everything that reads opens the store, which migrates it if needed. Taking in what
other commands wrote (``ingest``) is a separate, explicit step, once per command or request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upstack.errors import NewerVersion
from upstack.files import make_private_dirs, write_atomically
from upstack.formats.journal import Journal, Record, make_record
from upstack.ids import new_id
from upstack.settings import Settings
from upstack.store import SCHEMA_MARK, SCHEMA_VERSION
from upstack.store.blobs import BlobStore
from upstack.timeutil import utc_offset

if TYPE_CHECKING:
    from upstack.store.store import IngestReport, Store

__all__ = ["Workspace"]


class Workspace:
    """A research log on disk (and optionally in PostgreSQL).

    Example:
        >>> ws = Workspace(home="/tmp/demo-log")          # doctest: +SKIP
        >>> from upstack.services import capture
        >>> capture.note(ws, "SAE width 16k saturates. #sae")  # doctest: +SKIP
    """

    def __init__(self, home: str | Path | None = None, db: str | None = None,
                 editor: str | None = None, *, team: bool = False, **settings: Any) -> None:
        """``team``: opened by a team server, where every read must say whom it answers for
        (domain/access.py), so a read that does not know who is asking fails instead of showing all.

        Every setting is checked here: a wrong one raises ``BadSetting`` (upstack.errors)."""
        self._open(Settings(home=home or None, db=db, editor=editor, **settings), team=team)

    def _open(self, settings: Settings, *, team: bool) -> None:
        self.settings = settings
        self.home: Path = settings.home_path
        self.journal = Journal(self.home / "journal")
        self.blobs = BlobStore(self.home / "blobs")
        self._store: Store | None = None
        self._unflushed = False  # this workspace journaled records its store has not taken in
        self._workspace_id: str | None = None
        self.last_ingest: IngestReport | None = None
        self.team = team
        # How to ask for the passphrase of sealed check-ins (services/wellbeing_seal.py): the CLI sets it
        # at a terminal; elsewhere (a script, a web server) it comes from UPSTACK_PASSPHRASE or not at all.
        self.ask_passphrase: Callable[[str], str] | None = None

    def sibling(self, *, team: bool) -> Workspace:
        """Another Workspace on the same log with the same settings, and a database connection of
        its own (a web server's threads each need one)."""
        other = Workspace.__new__(Workspace)
        other._open(self.settings, team=team)
        return other

    @property
    def db_url(self) -> str | None:
        return self.settings.db

    @property
    def workspace_id(self) -> str:
        """This workspace's own id, made once: revisions record where they were written."""
        if self._workspace_id is None:
            self._set_id_if_unset(new_id())
        assert self._workspace_id is not None
        return self._workspace_id

    def adopt_workspace_id(self, workspace_id: str) -> bool:
        """Take another workspace's identity (a restore into a new workspace), if none yet."""
        return self._set_id_if_unset(workspace_id)

    def _set_id_if_unset(self, candidate: str) -> bool:
        path = self.home / "workspace.id"
        created = False
        if not path.exists():
            make_private_dirs(self.home)
            try:
                write_atomically(path, candidate + "\n", overwrite=False)  # the first writer wins
                created = True
            except FileExistsError:
                pass
        self._workspace_id = path.read_text().strip()
        return created

    def record(self, op: str, data: dict[str, Any]) -> Record:
        """A journal record; on a team server it carries who made it (``by``, a user id)."""
        from upstack.domain.access import current

        acting = current(team=self.team)
        if acting is not None:
            data = {**data, "by": acting.user_id}
        return make_record(op, self.workspace_id, data)

    def writer_offset(self) -> dict[str, str]:
        """``{"utc_offset": "+05:30"}``: the zone something written now is written in, for a record
        that is written now (an entry, a run's start, a check-in), so that its time is read later in
        the writer's own time (`upstack pace`). Empty on a team server, whose clock's zone is not its
        members' (an entry from a web form there keeps none, and is read in the reader's zone)."""
        offset = None if self.team else utc_offset()
        return {"utc_offset": offset} if offset else {}

    def open_to_others(self) -> list[Path]:
        """What of this workspace other users of the machine can read: its folder, and a database
        kept outside it, where their mode lets group or others in (a folder made before upstack made
        its folders private, or by hand). `upstack doctor` names them and `doctor --fix` closes them."""
        paths = [self.home]
        url = self.db_url or ""
        if not url or url.startswith("sqlite:"):  # where the database file really is (a link, a '..' followed)
            db = Path(url.removeprefix("sqlite:///").removeprefix("sqlite:") if url else self.home / "upstack.db")
            db = db.resolve()
            if self.home.resolve() not in db.parents:
                paths += [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        found = []
        for path in paths:
            try:
                if path.stat().st_mode & 0o077:
                    found.append(path)
            except OSError:
                continue  # not made yet, or not ours to read: nothing of it to show
        return found

    def focus_node_id(self) -> str | None:
        """The node notes go under by default (`upstack focus`), read without the database."""
        try:
            return (self.home / "focus").read_text().strip() or None
        except FileNotFoundError:
            return None

    def run_folders(self) -> list[Path]:
        """Where runs write: runs/ in the workspace, and the run_dir setting if given."""
        folders = [self.home / "runs"]
        if self.settings.run_dir:
            folders.append(self.settings.run_dir)
        return folders

    def check_writable(self) -> None:
        """Refuse to capture into a workspace a newer upstack has written (cheap: one small file)."""
        try:
            seen = int((self.home / SCHEMA_MARK).read_text().strip() or 0)
        except (FileNotFoundError, ValueError):
            return
        if seen > SCHEMA_VERSION:
            raise NewerVersion(
                f"this workspace was written by a newer upstack (schema {seen}, this version "
                f"knows up to {SCHEMA_VERSION}); upgrade upstack to write to it")

    def append(self, records: list[Record]) -> None:
        """Journal records durably without opening the store (the capture path). This workspace's
        next ``store()`` takes them in first, so it reads its own writes; other processes see
        them at their next ``ingest``."""
        self.journal.append(records)
        self._unflushed = True

    def store(self) -> Store:
        """The SQL store, opened (and migrated) on first use.

        It takes in nothing others wrote (that is ``ingest``, once per command or request), only
        what this workspace itself journaled through ``append`` since, as an ORM session
        flushes before a query: a capture then a read through one workspace sees the capture.
        """
        if self._store is None:
            from upstack.store.store import Store  # keeps sqlite3/psycopg off the capture path

            self._store = Store(self.home, self.db_url, team=self.team, run_folders=self.run_folders(),
                                crashed_after=self.settings.run_crashed_after,
                                workspace_id=lambda: self.workspace_id)  # made on first use, not here
        if self._unflushed:
            self.ingest()
        return self._store

    def ingest(self, progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Take in what was written since the last read: pending journal records (notes captured
        by other commands) and run folders, and mark runs gone silent as crashed.

        Called once at the start of each command and each web request that reads the log (the
        CLI's ``pass_log``, the web's ``workspace`` dependency), so a read sees every earlier
        write; a script that reads through ``upstack.services`` calls it before reading too.
        Writes through ``Store.write`` are taken in at once and need no call.
        """
        self._unflushed = False  # before store(), which would otherwise ingest twice
        self.last_ingest = self.store().ingest(progress=progress)
        return self.last_ingest

    def catch_up_on(self, ops: Collection[str]) -> None:
        """``ingest``, if what waits in the journal holds a record of ``ops``: for a command that reads
        records of those ops only (a check-in reads check-ins), which need nothing else taken in first.
        Notes and the like that wait are taken in by the next command that reads the log."""
        if self.journal.waiting_ops() & set(ops):
            self.ingest()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
