"""Real `upstack` processes against one workspace, for tests/test_reliability.py.

Imported by the tests, and also run as a script by the processes they start:

    python helpers_reliability.py write HOME DB PREFIX COUNT PACE
        a capture loop over the services API: COUNT notes, sleeping up to
        2*PACE seconds between them (DB is '-' for SQLite)
    python helpers_reliability.py write-long HOME DB PREFIX SIZE
        the same with notes of SIZE bytes, until killed
    python helpers_reliability.py cli-at T0 ARG...
        the upstack CLI, imported first and run at wall-clock time T0, so that
        several processes reach the store at the same moment
    python helpers_reliability.py cli-stall-in-migration VERSION ARG...
        the upstack CLI whose migration VERSION does its real work, prints
        "migrating VERSION" and then waits inside its transaction to be killed
"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HELPER = Path(__file__).resolve()


def note_text(prefix: str, number: int) -> str:
    """One note: a single sentence (so it is the title), unique, matching the query `x`."""
    return f"{prefix} note {number} x"


# -- running processes ------------------------------------------------------------

def env_for(home: Path, db_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"UPSTACK_DB", "EDITOR", "VISUAL", "PYTHONWARNINGS"}}
    env.update({"UPSTACK_HOME": str(home), "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
                "XDG_CONFIG_HOME": str(home.parent / "no-config")})  # no user config.toml
    if db_url:
        env["UPSTACK_DB"] = db_url
    return env


def upstack_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "upstack", *args]


def helper_args(*args: object) -> list[str]:
    return [sys.executable, str(HELPER), *(str(a) for a in args)]


@dataclass
class Finished:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.returncode == -9

    def describe(self) -> str:
        return (f"{' '.join(self.args[1:])!r} exited {self.returncode}\n"
                f"--- stderr ---\n{self.stderr}--- stdout (start) ---\n{self.stdout[:2000]}")


def spawn(args: Sequence[str], home: Path, db_url: str | None) -> subprocess.Popen[str]:
    return subprocess.Popen(list(args), env=env_for(home, db_url), cwd=home.parent,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 240) -> Finished:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args!r} still running after {timeout}s\n{err}") from None
    return Finished(list(proc.args), proc.returncode, out, err)  # type: ignore[arg-type]


def run(args: Sequence[str], home: Path, db_url: str | None, timeout: float = 240) -> Finished:
    return finish(spawn(args, home, db_url), timeout)


def upstack(home: Path, db_url: str | None, *args: str) -> Finished:
    """`upstack ARGS`, which must succeed silently on stderr."""
    result = run(upstack_args(*args), home, db_url)
    assert_clean([result])
    return result


def kill_after(proc: subprocess.Popen[str], delay: float) -> Finished:
    """SIGKILL ``proc`` after ``delay`` seconds (if it is still running then)."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(min(0.002, max(0.0, deadline - time.monotonic())))
    if proc.poll() is None:
        proc.kill()
    return finish(proc)


def wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout: float = 60) -> str:
    """Block until ``proc`` prints a line starting with ``prefix`` on stdout."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.05)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(prefix):
                return line
            if not line and proc.poll() is not None:
                break
    proc.kill()
    rest = finish(proc)
    raise AssertionError(f"never printed {prefix!r}:\n{rest.describe()}")


def assert_clean(results: Sequence[Finished]) -> None:
    """Every process exited 0 and wrote nothing on stderr ("database is locked" or else)."""
    bad = [r for r in results if r.returncode != 0 or r.stderr.strip()]
    assert not bad, f"{len(bad)} of {len(results)} processes failed; first:\n{bad[0].describe()}"


# -- looking at a workspace -----------------------------------------------------------

def titles(home: Path, db_url: str | None) -> Counter[str]:
    """Every entry's title, as `upstack log -n 0 --json` lists them (ingesting first)."""
    entries = json.loads(upstack(home, db_url, "log", "-n", "0", "--json").stdout)
    return Counter(e["title"] for e in entries)


def assert_each_once(found: Counter[str], confirmed: Set[str], maybe: Set[str] = frozenset()
                     ) -> None:
    """Confirmed notes are there exactly once; maybe-notes (their writer was killed) at most
    once; nothing else is there."""
    duplicated = {t: n for t, n in found.items() if n > 1}
    assert not duplicated, f"duplicated entries: {sorted(duplicated.items())[:10]}"
    missing = confirmed - set(found)
    assert not missing, f"{len(missing)} acknowledged notes lost, e.g. {sorted(missing)[:10]}"
    unknown = set(found) - confirmed - set(maybe)
    assert not unknown, f"entries nobody wrote: {sorted(unknown)[:10]}"


def store_facts(home: Path, db_url: str | None) -> dict[str, object]:
    """Integrity looked up directly in the SQL store (no upstack command involved)."""
    from upstack.store.db import connect

    db = connect(db_url, home / "upstack.db")
    try:
        facts: dict[str, object] = {
            "entries": db.scalar("SELECT count(*) FROM entries"),
            "revisions": db.scalar("SELECT count(*) FROM revisions"),
            "applied_creates": db.scalar(
                "SELECT count(*) FROM applied_records WHERE op = 'entry.create'"),
            "indexed": db.scalar("SELECT count(*) FROM entry_search"),
            # ranking totals: PostgreSQL's in search_stats, SQLite's kept by FTS5 itself
            "ranked_docs": db.scalar("SELECT docs FROM search_stats WHERE id = 1"
                                     if db.dialect == "postgresql" else
                                     "SELECT count(*) FROM entry_fts"),
            "migrations": [r["version"] for r in db.query(
                "SELECT version FROM schema_migrations ORDER BY version")],
        }
        if db.dialect == "sqlite":
            facts["integrity"] = [next(iter(r.values())) for r in db.query("PRAGMA integrity_check")]
            facts["foreign_keys"] = db.query("PRAGMA foreign_key_check")
            facts["user_version"] = db.scalar("PRAGMA user_version")
            db.execute("INSERT INTO entry_fts(entry_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        db.close()
    facts["pending_records"] = pending_records(home)
    quarantine = home / "journal" / "bad"
    facts["set_aside"] = sorted(p.name for p in quarantine.iterdir()) if quarantine.exists() \
        else []
    return facts


def journal_bytes(home: Path) -> int:
    journal = home / "journal"
    return sum(p.stat().st_size for p in journal.glob("*.jsonl")) if journal.exists() else 0


def journal_torn(home: Path) -> bool:
    """Does a journal file end in the middle of a record?"""
    for path in (home / "journal").glob("*.jsonl"):
        with open(path, "rb") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                continue
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                return True
    return False


def pending_records(home: Path) -> int:
    """Records waiting in the journal, however it lays them out in files."""
    journal = home / "journal"
    if not journal.exists():
        return 0
    return sum(1 for path in journal.glob("*.jsonl") if path.name != "rejected.jsonl"
               for line in path.read_bytes().splitlines() if line.strip())


def schema_version(home: Path, db_url: str | None) -> int:
    from upstack.store import schema
    from upstack.store.db import connect

    db = connect(db_url, home / "upstack.db")
    try:
        return schema.current_version(db)
    finally:
        db.close()


def assert_store_healthy(home: Path, db_url: str | None, entries: int,
                         torn_journal: bool = False) -> None:
    """The store holds ``entries`` entries, consistent with applied_records and the search
    index, the database passes its own checks, and `upstack doctor` finds nothing.

    With ``torn_journal`` (a writer was killed, so it may have left half a record), the
    journal may have a file set aside and doctor may warn about it, and only about it.
    """
    from upstack.store import schema

    facts = store_facts(home, db_url)
    expected: dict[str, object] = {
        "entries": entries, "revisions": entries, "applied_creates": entries, "indexed": entries,
        "ranked_docs": entries, "migrations": [m.version for m in schema.MIGRATIONS],
        "pending_records": 0, "set_aside": facts["set_aside"] if torn_journal else [],
    }
    if not db_url:
        expected.update(integrity=["ok"], foreign_keys=[], user_version=schema.LATEST)
    assert facts == expected, {k: (v, expected.get(k)) for k, v in facts.items()
                               if v != expected.get(k)}
    doctor = upstack(home, db_url, "doctor", "--json")
    report = json.loads(doctor.stdout)
    unexpected = [f for f in report["findings"]
                  if not (torn_journal and f["check"] == "journal" and f["severity"] == "warning")]
    assert report["ok"] is True and not unexpected, report


# -- making workspaces ---------------------------------------------------------------

@contextmanager
def schema_limited_to(version: int) -> Iterator[None]:
    """This process's upstack, as if its newest migration were ``version``."""
    from upstack.store import schema

    saved = schema.MIGRATIONS, schema.LATEST
    schema.MIGRATIONS = tuple(m for m in saved[0] if m.version <= version)
    schema.LATEST = version
    try:
        yield
    finally:
        schema.MIGRATIONS, schema.LATEST = saved


# How to take a workspace back from today's schema to an older one, for migrations whose columns
# today's record handlers write (like tests/test_maintenance.py's schema-1 workspace, such data cannot
# be ingested at the older schema by today's code): the data goes in at today's schema, and these
# migrations are undone after. Migrations not listed here are left out by ``schema_limited_to``.
UNDO_MIGRATION: dict[int, tuple[str, ...]] = {
    10: ("ALTER TABLE runs DROP COLUMN points_lost",),
    11: ("ALTER TABLE revisions DROP COLUMN checksum", "ALTER TABLE metric_chunks DROP COLUMN checksum"),
    12: ("DROP TABLE search_words",),
    13: ("DROP TABLE sync_held", "DROP TABLE stars", "ALTER TABLE comments DROP COLUMN author_login"),
    14: ("DROP TABLE path_records",),
    15: ("ALTER TABLE path_records DROP COLUMN local_only",),
    16: ("DROP TABLE entry_names", "ALTER TABLE revisions DROP COLUMN meta"),
    17: ("DROP TABLE vault_files", "DROP TABLE vault_link"),
    18: ("ALTER TABLE entries DROP COLUMN utc_offset", "ALTER TABLE runs DROP COLUMN utc_offset"),
    19: ("DROP TABLE prediction_events", "DROP TABLE predictions"),
    20: ("DROP TABLE take_events", "DROP TABLE takes"),
    21: tuple(f"ALTER TABLE predictions DROP COLUMN {c}" for c in (
        "outcome", "outcome_value", "evidence_at", "scored_by", "scored_by_at")),
    22: ("DROP TABLE run_events", "ALTER TABLE runs DROP COLUMN deleted_at"),
    23: ("DROP TABLE artifact_links", "DROP TABLE artifact_files", "DROP TABLE artifacts"),
    24: ("DROP TABLE panel_revisions", "DROP TABLE panels"),
}


def _undo_migrations_after(home: Path, db_url: str | None, version: int) -> None:
    from upstack.store import SCHEMA_MARK, schema
    from upstack.store.db import connect

    db = connect(db_url, home / "upstack.db")
    try:
        with db.transaction():
            for migration in reversed(schema.MIGRATIONS):
                if migration.version > version:
                    for statement in UNDO_MIGRATION[migration.version]:
                        db.execute(statement)
            db.execute("DELETE FROM schema_migrations WHERE version > ?", (version,))
            if db.dialect == "sqlite":
                db.execute(f"PRAGMA user_version = {version}")
    finally:
        db.close()
    (home / SCHEMA_MARK).write_text(f"{version}\n")


def make_workspace(home: Path, db_url: str | None, version: int, ingested: Sequence[str],
                   pending: Sequence[str]) -> None:
    """A workspace at schema ``version`` (0: never opened) holding ``ingested`` notes, with
    ``pending`` notes waiting in the journal.

    The older workspace is what this upstack leaves when it knows no newer migration: it
    is opened (migrated to ``version``) and reads its journal in as usual. Where a newer
    migration added columns that ingest writes, the notes go in at today's schema and that
    migration is undone after (``UNDO_MIGRATION``).
    """
    from contextlib import nullcontext

    from upstack.services.capture import note
    from upstack.store import schema
    from upstack.workspace import Workspace

    ws = Workspace(home=home, db=db_url)
    if version:
        undo = any(m.version > version and m.version in UNDO_MIGRATION for m in schema.MIGRATIONS)
        newest = schema.LATEST if undo else version
        with nullcontext() if undo else schema_limited_to(version):
            for text in ingested:
                note(ws, text)
            try:
                store = ws.store()
                assert ws.last_ingest is not None and not ws.last_ingest.problems
                assert schema.current_version(store.db) == newest
                assert store.db.scalar("SELECT count(*) FROM entries") == len(ingested)
            finally:
                ws.close()
        if undo:
            _undo_migrations_after(home, db_url, version)
    else:
        assert not ingested, "a never-opened workspace has nothing ingested"
    for text in pending:
        note(ws, text)
    assert pending_records(home) == len(pending)


# -- the scripts the tests start ----------------------------------------------------------

def _write(home: str, db: str, prefix: str, count: str, pace: str) -> None:
    from upstack.services.capture import note
    from upstack.workspace import Workspace

    ws = Workspace(home=home, db=None if db == "-" else db)
    rng = random.Random(prefix)
    for number in range(int(count)):
        note(ws, note_text(prefix, number))
        if float(pace):
            time.sleep(rng.uniform(0, 2 * float(pace)))


def _write_long(home: str, db: str, prefix: str, size: str) -> None:
    """Long notes (a title, then ``size`` bytes of body) until killed."""
    from upstack.services.capture import note
    from upstack.workspace import Workspace

    ws = Workspace(home=home, db=None if db == "-" else db)
    body = "y" * int(size)  # one long token: cheap to index
    number = 0
    while True:
        note(ws, note_text(prefix, number) + "\n" + body)
        number += 1


def _cli_at(start: str, *args: str) -> None:
    import importlib

    from upstack.cli.main import main

    # Import what opening the store needs now, so the processes reach it together.
    for module in ("upstack.store.store", "upstack.store.queries", "upstack.store.search",
                   "psycopg"):
        importlib.import_module(module)

    delay = float(start) - time.time()
    if delay > 0:
        time.sleep(delay)
    sys.argv = ["upstack", *args]
    main()


def _cli_stall_in_migration(version: str, *args: str) -> None:
    import dataclasses

    from upstack.cli.main import main
    from upstack.store import schema

    class Stalled(schema.Migration):
        def run(self, db: Any) -> None:
            super().run(db)
            print(f"migrating {self.version}", flush=True)
            time.sleep(600)

    schema.MIGRATIONS = tuple(Stalled(**dataclasses.asdict(m)) if m.version == int(version) else m
                              for m in schema.MIGRATIONS)
    sys.argv = ["upstack", *args]
    main()


if __name__ == "__main__":
    scripts: dict[str, Callable[..., None]] = {
        "write": _write, "write-long": _write_long, "cli-at": _cli_at,
        "cli-stall-in-migration": _cli_stall_in_migration,
    }
    command, *rest = sys.argv[1:]
    scripts[command](*rest)
