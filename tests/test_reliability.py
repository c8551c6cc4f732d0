"""Reliability with real processes: many writers, readers ingesting meanwhile, SIGKILL
at random moments (capture, ingest, migration), a writer killed in the middle of an
append, and eight processes migrating one workspace at once.

Each test runs on SQLite and on PostgreSQL. Randomness is seeded per engine, so a
failure names the same kill delays when it is run again.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from helpers_reliability import (
    Finished,
    assert_clean,
    assert_each_once,
    assert_store_healthy,
    finish,
    helper_args,
    journal_bytes,
    journal_torn,
    kill_after,
    make_workspace,
    note_text,
    pending_records,
    run,
    schema_version,
    spawn,
    store_facts,
    titles,
    upstack,
    upstack_args,
    wait_for_line,
)
from upstack.store import schema

WRITERS = 8
NOTES_PER_WRITER = 250
CLI_WRITERS = 4
CLI_NOTES_PER_WRITER = 3
NOTE = re.compile(r"\b(w|cli)\d+ note \d+ x\b")


# -- 1. many writers, readers ingesting while they write ---------------------------------

def test_concurrent_capture_while_readers_ingest(engine: str, db_url: str | None,
                                                 tmp_path: Path) -> None:
    """8 capture loops x 250 notes, real `upstack note` processes and `upstack log`/`search`
    readers all at once on a fresh workspace: every note lands exactly once, nobody fails."""
    home = tmp_path / "home"
    results: list[Finished] = []
    saw_entries_while_writing: list[bool] = []
    unseen: list[Finished] = []  # a `show` right after its `note` that did not find it
    writing = threading.Event()
    writing.set()

    def read_while_writing(*args: str) -> None:
        while writing.is_set():
            results.append(run(upstack_args(*args), home, db_url))
            if writing.is_set():
                saw_entries_while_writing.append(bool(NOTE.search(results[-1].stdout)))
        results.append(run(upstack_args(*args), home, db_url))

    def cli_notes(prefix: str) -> None:
        """`upstack note`, then at once `upstack show` of it: reads see every earlier write,
        even while other processes are ingesting."""
        for number in range(CLI_NOTES_PER_WRITER):
            text = note_text(prefix, number)
            written = run(upstack_args("note", "--json", text), home, db_url)
            results.append(written)
            if written.returncode == 0:
                shown = run(upstack_args("show", json.loads(written.stdout)["id"]), home, db_url)
                results.append(shown)
                if text not in shown.stdout:
                    unseen.append(shown)

    # Readers first: they also race to create and migrate the fresh workspace.
    readers = [threading.Thread(target=read_while_writing, args=args)
               for args in (("log", "-n", "5"), ("search", "x"), ("log", "-n", "5", "--json"))]
    for thread in readers:
        thread.start()
    writers = [spawn(helper_args("write", home, db_url or "-", f"w{k}", NOTES_PER_WRITER, 0.01),
                     home, db_url) for k in range(WRITERS)]
    note_threads = [threading.Thread(target=cli_notes, args=(f"cli{k}",))
                    for k in range(CLI_WRITERS)]
    for thread in note_threads:
        thread.start()
    try:
        results.extend(finish(p) for p in writers)
        for thread in note_threads:
            thread.join(timeout=240)
    finally:
        writing.clear()
        for thread in readers:
            thread.join(timeout=240)

    assert_clean(results)
    assert not unseen, unseen[0].describe()
    assert any(saw_entries_while_writing), "no reader ingested anything while writers wrote"
    expected = {note_text(f"w{k}", n) for k in range(WRITERS) for n in range(NOTES_PER_WRITER)}
    expected |= {note_text(f"cli{k}", n) for k in range(CLI_WRITERS)
                 for n in range(CLI_NOTES_PER_WRITER)}
    total = WRITERS * NOTES_PER_WRITER + CLI_WRITERS * CLI_NOTES_PER_WRITER
    assert len(expected) == total
    found = titles(home, db_url)
    assert sum(found.values()) == total
    assert_each_once(found, expected)
    assert_store_healthy(home, db_url, total)


# -- 2. SIGKILL at random moments ------------------------------------------------------

class Ledger:
    """What each workspace must hold: notes acknowledged (exit 0) and notes whose writer
    was killed (present at most once)."""

    def __init__(self) -> None:
        self.confirmed: set[str] = set()
        self.maybe: set[str] = set()
        self.kills = 0

    def note_finished(self, text: str, result: Finished) -> None:
        if result.killed:
            self.maybe.add(text)
        else:
            assert_clean([result])
            self.confirmed.add(text)

    def killed(self, result: Finished) -> None:
        self.kills += 1
        if result.killed:
            assert "Traceback" not in result.stderr, result.describe()
        else:
            assert_clean([result])


def _kill_notes(home: Path, db_url: str | None, rng: random.Random, ledger: Ledger,
                rounds: int) -> None:
    """`upstack note` processes, three at a time, one of them SIGKILLed at a random moment."""
    for round_number in range(rounds):
        texts = [note_text(f"kill-note{round_number}", k) for k in range(3)]
        procs = [spawn(upstack_args("note", t), home, db_url) for t in texts]
        victim = rng.randrange(3)
        delay = rng.uniform(0.0, 0.25)
        for k, (text, proc) in enumerate(zip(texts, procs, strict=True)):
            result = kill_after(proc, delay) if k == victim else finish(proc)
            if k == victim:
                ledger.killed(result)
            ledger.note_finished(text, result)


def _pile_up(home: Path, db_url: str | None, ledger: Ledger, label: str, notes: int) -> None:
    """Many pending journal records, written by four capture processes in parallel."""
    each = notes // 4
    writers = [spawn(helper_args("write", home, db_url or "-", f"{label}-{k}", each, 0), home,
                     db_url) for k in range(4)]
    results = [finish(p) for p in writers]
    assert_clean(results)
    ledger.confirmed |= {note_text(f"{label}-{k}", n) for k in range(4) for n in range(each)}


def _ingest_begun(home: Path, reader: subprocess.Popen[str]) -> float:
    """When ``reader`` took the journal's file to ingest it (or ended first): waited for, not slept."""
    journal = home / "journal"
    deadline = time.monotonic() + 300
    while reader.poll() is None and time.monotonic() < deadline:
        if any(path.name.startswith("ingesting-") for path in journal.glob("*.jsonl")):
            break
        time.sleep(0.001)
    return time.monotonic()


def _kill_ingests(home: Path, db_url: str | None, rng: random.Random, ledger: Ledger,
                  rounds: int) -> int:
    """`upstack log`/`search` SIGKILLed while ingesting a large pending journal, sometimes
    with an `upstack note` writing meanwhile; returns how many kills hit a running reader.

    A first reader, left to finish, times an ingest from the moment it takes the journal's
    file (renamed ``ingesting-...``) to its end; each later reader is killed at a random moment
    within that time after it takes the file: a condition, then a share of a measured span, so
    the kills land mid-ingest (or while committed files are being retired) on a loaded machine
    as on a quiet one (a kill timed from the reader's start landed 3 of 8 under load).
    """
    pile = 3000 if db_url is None else 600
    _pile_up(home, db_url, ledger, "calibrate", pile)
    calibrating = spawn(upstack_args("log", "-n", "1"), home, db_url)
    ingesting = _ingest_begun(home, calibrating)
    assert finish(calibrating).returncode == 0
    span = time.monotonic() - ingesting
    landed = 0
    for round_number in range(rounds):
        if pending_records(home) < pile // 2:
            _pile_up(home, db_url, ledger, f"pile{round_number}", pile)
        reader = spawn(upstack_args(*rng.choice([("log", "-n", "5"), ("search", "x")])), home,
                       db_url)
        writer_text = note_text(f"during-ingest{round_number}", 0)
        writer = (spawn(upstack_args("note", writer_text), home, db_url)
                  if round_number % 2 else None)
        _ingest_begun(home, reader)
        result = kill_after(reader, rng.uniform(0.0, 0.8) * span)
        ledger.killed(result)
        landed += result.killed
        if writer is not None:
            ledger.note_finished(writer_text, finish(writer))
    return landed


def _kill_migrations(tmp_path: Path, db_url: str | None, make_pg_url: Callable[[], str],
                     rng: random.Random) -> list[tuple[Path, str | None, Ledger]]:
    """A process opening a fresh or an older workspace, SIGKILLed while it migrates.

    Two kills are made certain to land inside a migration's transaction (the process says
    when its migration has done its work); two come after a random delay.
    """
    old = schema.LATEST - 1
    sizes = (300, 200) if db_url is None else (120, 80)
    # (the migration to stall in, or 0 to kill at random; the version the workspace starts at)
    plans = [(1, 0), (schema.LATEST, old), (0, old), (0, 0)]
    workspaces = []
    for number, (stall_version, version) in enumerate(plans):
        home = tmp_path / f"migrate{number}"
        url = make_pg_url() if db_url else None
        ledger = Ledger()
        ingested = [note_text(f"old{number}", n) for n in range(sizes[0] if version else 0)]
        pending = [note_text(f"pending{number}", n) for n in range(sizes[1])]
        make_workspace(home, url, version, ingested, pending)
        ledger.confirmed |= set(ingested) | set(pending)
        if stall_version:
            proc = spawn(helper_args("cli-stall-in-migration", stall_version, "log", "-n", "5"),
                         home, url)
            wait_for_line(proc, f"migrating {stall_version}")
            proc.kill()
            result = finish(proc)
            assert result.killed
            ledger.killed(result)
            # The migration was rolled back as a whole.
            assert schema_version(home, url) == stall_version - 1
        else:
            proc = spawn(upstack_args("search", "x"), home, url)
            ledger.killed(kill_after(proc, rng.uniform(0.05, 0.4)))
        workspaces.append((home, url, ledger))
    return workspaces


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
        engine: str, db_url: str | None, tmp_path: Path, make_pg_url: Callable[[], str]) -> None:
    """20 SIGKILLs: during capture, during ingest of a large journal, during migration.
    Afterwards every acknowledged note is there once, nothing twice, and doctor is happy."""
    rng = random.Random(f"upstack-reliability-{engine}")
    home = tmp_path / "home"
    ledger = Ledger()
    upstack(home, db_url, "log")  # migrated, empty

    _kill_notes(home, db_url, rng, ledger, rounds=8)
    ingest_kills_landed = _kill_ingests(home, db_url, rng, ledger, rounds=8)
    migrated = _kill_migrations(tmp_path, db_url, make_pg_url, rng)

    assert ledger.kills + sum(m.kills for _, _, m in migrated) == 20
    assert ingest_kills_landed >= 4, f"only {ingest_kills_landed} of 8 kills hit an ingest"
    for where, url, book in [(home, db_url, ledger), *migrated]:
        found = titles(where, url)
        assert_each_once(found, book.confirmed, book.maybe)
        assert_store_healthy(where, url, sum(found.values()), torn_journal=True)


def test_a_writer_killed_mid_append_swallows_no_later_note(engine: str, db_url: str | None,
                                                          tmp_path: Path) -> None:
    """A capture process SIGKILLed while appending a long note leaves half a record in the
    journal; the notes acknowledged after it must still arrive, each once."""
    home = tmp_path / "home"
    upstack(home, db_url, "note", note_text("before", 0))
    for attempt in range(20):
        size = journal_bytes(home)
        writer = spawn(helper_args("write-long", home, db_url or "-", f"long{attempt}", 16_000_000),
                       home, db_url)
        deadline = time.monotonic() + 60
        while journal_bytes(home) == size and writer.poll() is None and time.monotonic() < deadline:
            pass  # poll without sleeping: kill as soon as its append has begun
        writer.kill()
        assert finish(writer).killed
        if journal_torn(home):
            break
    assert journal_torn(home), "no writer was caught in the middle of an append"

    after = [note_text("after", n) for n in range(3)]
    for text in after:
        upstack(home, db_url, "note", text)
    read = run(upstack_args("log", "-n", "0", "--json"), home, db_url)
    assert read.returncode == 0, read.describe()  # it may warn about the torn record
    found = Counter(e["title"] for e in json.loads(read.stdout))
    assert_each_once(found, {note_text("before", 0), *after},
                     {t for t in found if t.startswith("long")})
    assert_store_healthy(home, db_url, sum(found.values()), torn_journal=True)


# -- 3. eight processes migrate an older workspace exactly once ----------------------------

def _open_at_once(home: Path, db_url: str | None) -> list[Finished]:
    """Eight reading commands that reach the store at the same moment."""
    start = time.time() + 1.5  # after every process has imported upstack
    commands = [("log", "-n", "1"), ("search", "x"), ("log", "-n", "0", "--json"), ("tags",)]
    procs = [spawn(helper_args("cli-at", start, *commands[k % len(commands)]), home, db_url)
             for k in range(8)]
    return [finish(p) for p in procs]


def test_eight_processes_migrate_an_old_workspace_once(
        engine: str, db_url: str | None, tmp_path: Path, make_pg_url: Callable[[], str]) -> None:
    """From the previous schema (one SQLite backup of it), and from a never-opened workspace
    (whose longer initial migration gives the race a wider window)."""
    old = schema.LATEST - 1
    assert old >= 1, "needs a schema with at least two migrations"
    for start_version in (old, 0):
        home = tmp_path / f"from{start_version}"
        url = db_url if start_version else (make_pg_url() if db_url else None)
        ingested = [note_text("old", n) for n in range(200 if start_version else 0)]
        pending = [note_text("pending", n) for n in range(50)]
        make_workspace(home, url, start_version, ingested, pending)

        assert_clean(_open_at_once(home, url))

        assert store_facts(home, url)["migrations"] == [m.version for m in schema.MIGRATIONS]
        backups = home / "backups"
        if url is None and start_version:
            made = sorted(p.name for p in backups.iterdir())
            assert len(made) == 1 and made[0].endswith(".bak"), made
            assert f"schema{start_version}" in made[0]
            copy = sqlite3.connect(f"file:{backups / made[0]}?mode=ro", uri=True)
            try:
                assert copy.execute("PRAGMA user_version").fetchone() == (start_version,)
                assert copy.execute("SELECT count(*) FROM entries").fetchone() == (len(ingested),)
            finally:
                copy.close()
        else:  # nothing to back up: a PostgreSQL store, or a new workspace
            assert not backups.exists() or not any(backups.iterdir())
        found = titles(home, url)
        assert_each_once(found, set(ingested) | set(pending))
        assert_store_healthy(home, url, len(ingested) + len(pending))


def test_an_sqlite_commit_is_on_disk_before_the_journal_files_it_applied_are_deleted(tmp_path: Path) -> None:
    """A power cut can keep a file's deletion and lose a write made before it, unless the write was
    fsync'd: with SQLite's synchronous=NORMAL a commit in WAL mode is not, and ingest deletes the
    journal files it applied right after committing them. FULL fsyncs the commit first."""
    from upstack.workspace import Workspace

    with Workspace(home=tmp_path / "home") as ws:
        assert ws.store().db.scalar("PRAGMA synchronous") == 2  # FULL
