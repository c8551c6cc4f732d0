"""Faults of the machine, with real processes: a full disk (a small tmpfs as the workspace), a
read-only file system (a read-only bind mount of a workspace: a mounted backup, a snapshot) and
a PostgreSQL connection cut in the middle of an import (pg_terminate_backend).

Each fault is one line on stderr and exit code 1, never a traceback, and the log is as it was;
a read-only workspace can be read. Runs on SQLite and PostgreSQL; mounting needs root (a
skip elsewhere, a failure under CI).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers_reliability import (
    Finished,
    env_for,
    finish,
    make_workspace,
    pending_records,
    run,
    schema_version,
    upstack,
    upstack_args,
    wait_for_line,
)
from upstack.store import schema

Mount = Callable[..., Path]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """``mount("tmpfs", size)`` makes a small disk; ``mount("ro", folder)`` a read-only view of
    ``folder``. Both are unmounted after the test."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the fault tests mount file systems: run them as root")
        pytest.skip("mounting a tmpfs or a read-only view needs root")
    made: list[Path] = []

    def make(kind: str, arg: str | Path) -> Path:
        target = tmp_path / f"mount{len(made)}"
        target.mkdir()
        if kind == "tmpfs":
            commands = [["mount", "-t", "tmpfs", "-o", f"size={arg}", "tmpfs", str(target)]]
        else:
            commands = [["mount", "--bind", str(arg), str(target)],
                        ["mount", "-o", "remount,ro,bind", str(target)]]
        for command in commands:
            subprocess.run(command, check=True, capture_output=True)
            if command is commands[0]:
                made.append(target)
        return target

    yield make
    for target in reversed(made):
        if subprocess.run(["umount", str(target)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(target)], check=True)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; returns the file that holds them."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 1):  # big blocks, then the last partial block a byte at a time
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail == 0
    return filler


def assert_one_line(result: Finished, *words: str) -> None:
    """Exit 1, one line on stderr naming the fault, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.describe()
    errors = [line for line in lines if line.startswith("upstack: error:")]
    assert len(errors) == 1 and all(w in errors[0] for w in words), result.describe()
    assert all(line.startswith("upstack: ") for line in lines), result.describe()


def listing(home: Path, db_url: str | None) -> list[dict[str, object]]:
    """Every entry as `log --json` shows it, with its attachments (ingesting first)."""
    return [{k: e[k] for k in ("id", "short", "title", "body", "tags", "revision_id", "attachments")}
            for e in json.loads(upstack(home, db_url, "log", "-n", "0", "--json").stdout)]


def short(home: Path, db_url: str | None, title: str) -> str:
    found = json.loads(upstack(home, db_url, "log", "-n", "0", "--json").stdout)
    return next(str(e["short"]) for e in found if e["title"] == title)


def assert_healthy(home: Path, db_url: str | None) -> None:
    """Nothing waits, nothing was set aside, and doctor finds nothing at all."""
    report = json.loads(upstack(home, db_url, "doctor", "--json").stdout)
    assert report == {"ok": True, "findings": []}, report
    assert pending_records(home) == 0
    assert not (home / "journal" / "bad").exists()


# -- a full disk --------------------------------------------------------------------------------

def test_full_disk_is_one_line_and_the_log_is_as_it_was(engine: str, db_url: str | None,
                                                        tmp_path: Path, mount: Mount) -> None:
    """On a full disk `note`, `attach`, `edit` and (on SQLite, whose database is on that disk)
    `log` each fail in one line naming the full disk. A note written just before, still in the
    journal, survives; nothing half-written is left behind (the failed append of a long note
    is taken back); once there is space again, the log holds exactly what was acknowledged."""
    home = mount("tmpfs", "3m") / "home"
    for text in ("alpha x", "beta x #tag"):
        upstack(home, db_url, "note", text)
    attachment = tmp_path / "figure.bin"
    attachment.write_bytes(os.urandom(200_000))
    upstack(home, db_url, "attach", short(home, db_url, "alpha x"), str(attachment))
    before = listing(home, db_url)
    upstack(home, db_url, "note", "gamma x")  # acknowledged, still in the journal
    assert pending_records(home) == 1
    filler = fill(home.parent)

    failed = [
        run(upstack_args("note", "delta x\n" + "long " * 20_000), home, db_url),
        run(upstack_args("attach", str(before[0]["short"]), str(attachment)), home, db_url),
        run(upstack_args("edit", str(before[0]["short"]), "--text", "beta x edited " + "y" * 20_000),
            home, db_url),
    ]
    if engine == "sqlite":
        failed.append(run(upstack_args("log"), home, db_url))
    for result in failed:
        assert_one_line(result, "no space left on the disk", "the log is as it was")
    assert pending_records(home) == (1 if engine == "sqlite" else 0)  # PostgreSQL took it in, on its own disk

    filler.unlink()
    after = listing(home, db_url)
    assert [e["title"] for e in after] == ["gamma x"] + [e["title"] for e in before]
    assert after[1:] == before
    assert_healthy(home, db_url)


# -- a read-only workspace -----------------------------------------------------------------------

def test_read_only_workspace_is_read_as_it_is(engine: str, db_url: str | None, tmp_path: Path,
                                              mount: Mount) -> None:
    """A workspace on a read-only mount: log, search, show, export and doctor work, and say
    once that what waits in the journal is not shown; writing is one line; nothing is migrated
    or ingested there, and the change waiting is applied where the workspace can be written."""
    home = tmp_path / "home"
    upstack(home, db_url, "note", "alpha x #tag")
    upstack(home, db_url, "note", "beta x")
    attachment = tmp_path / "figure.bin"
    attachment.write_bytes(os.urandom(5000))
    upstack(home, db_url, "attach", short(home, db_url, "alpha x #tag"), str(attachment))
    before = listing(home, db_url)
    upstack(home, db_url, "note", "pending x")
    view = mount("ro", home)
    waiting = "upstack: warning: read-only workspace: 1 change waiting in its journal is not shown"

    def read(*args: str) -> str:
        result = run(upstack_args(*args), view, db_url)
        assert result.returncode == 0 and result.stderr.strip() == waiting, result.describe()
        return result.stdout

    shown = json.loads(read("log", "-n", "0", "--json"))
    assert [{k: e[k] for k in before[0]} for e in shown] == before
    found = read("search", "x")
    assert "alpha x" in found and "beta x" in found and "pending" not in found
    assert "alpha x" in read("show", str(shown[-1]["short"]))
    exported = tmp_path / "export.json"
    read("export", "--out", str(exported))
    exported_ids = sorted(e["id"] for e in json.loads(exported.read_text())["tables"]["entries"])
    assert exported_ids == sorted(str(e["id"]) for e in before)
    doctor = json.loads(read("doctor", "--json"))
    assert doctor["ok"] is True
    assert [f["severity"] for f in doctor["findings"]] == ["warning"], doctor

    for args in (("note", "gamma x"), ("edit", str(shown[0]["short"]), "--text", "changed")):
        assert_one_line(run(upstack_args(*args), view, db_url), "read-only")
    assert pending_records(home) == 1

    after = listing(home, db_url)  # the workspace itself, writable: the note waiting goes in
    assert [e["title"] for e in after] == ["pending x"] + [e["title"] for e in before]
    assert_healthy(home, db_url)


def test_read_only_snapshot_of_a_live_sqlite_workspace_reads_its_write_ahead_log(
        tmp_path: Path, mount: Mount) -> None:
    """A read-only view of an SQLite workspace another process has open (so its latest changes
    are in upstack.db-wal, not yet in upstack.db) shows those changes too; a copy of it without
    the shared-memory file that reading the write-ahead log needs says they are left out."""
    home = tmp_path / "home"
    upstack(home, None, "note", "alpha x")
    upstack(home, None, "log")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"db = sqlite3.connect({str(home / 'upstack.db')!r})\n"
         "db.execute('SELECT count(*) FROM entries').fetchall()\n"
         "print('open', flush=True)\ntime.sleep(600)"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(home, None))
    try:
        wait_for_line(holder, "open")
        upstack(home, None, "note", "beta x")
        upstack(home, None, "log")  # ingests into the write-ahead log; the holder keeps it there
        assert (home / "upstack.db-wal").stat().st_size > 0
        view = mount("ro", home)
        result = run(upstack_args("log", "-n", "0", "--json"), view, None)
        assert result.returncode == 0 and not result.stderr, result.describe()
        assert sorted(e["title"] for e in json.loads(result.stdout)) == ["alpha x", "beta x"]

        # A copy made without the shared-memory file: its write-ahead log cannot be read, and that is said.
        copy = tmp_path / "copy"
        copy.mkdir()
        for name in ("upstack.db", "upstack.db-wal", "workspace.id"):
            shutil.copyfile(home / name, copy / name)
        result = run(upstack_args("log", "-n", "0", "--json"), mount("ro", copy), None)
        assert result.returncode == 0, result.describe()
        assert [e["title"] for e in json.loads(result.stdout)] == ["alpha x"]
        assert result.stderr.splitlines() == [
            "upstack: warning: read-only workspace: the last changes in upstack.db-wal cannot be read without "
            "its shared-memory file; they are not shown"], result.describe()
    finally:
        holder.kill()
        finish(holder)


def test_read_only_workspace_that_needs_migrating_says_so(engine: str, db_url: str | None,
                                                         tmp_path: Path, mount: Mount) -> None:
    """An older workspace on a read-only mount is not migrated: one line says why, and how to
    read it."""
    home = tmp_path / "home"
    older = schema.LATEST - 1
    make_workspace(home, db_url, older, ingested=["alpha x"], pending=[])
    view = mount("ro", home)
    for command in ("log", "search", "doctor"):
        assert_one_line(run(upstack_args(command, *(["x"] if command == "search" else [])), view, db_url),
                        "read-only", f"schema {older}", "copy it")
    assert schema_version(home, db_url) == older


# -- PostgreSQL going away mid-import ----------------------------------------------------------------

BIG = 4000


@pytest.fixture(scope="module")
def big_imports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A jrnl file of 4,000 entries, and the same entries as an upstack JSON export."""
    folder = tmp_path_factory.mktemp("big")
    jrnl = folder / "big_jrnl.json"
    jrnl.write_text(json.dumps({"tags": {}, "entries": [
        {"title": f"imported {n} x", "body": f"entry {n} of a long import #t{n % 7}", "date": "2024-03-01",
         "time": "09:15", "tags": [f"#t{n % 7}"], "starred": False} for n in range(BIG)]}))
    source = folder / "source"
    upstack(source, None, "import", "jrnl", str(jrnl))
    export = folder / "big.json"
    upstack(source, None, "export", "--out", str(export))
    return {"json": export, "jrnl": jrnl}


@pytest.mark.parametrize("fmt", ["json", "jrnl"])
def test_postgresql_cut_off_mid_import_is_one_line(fmt: str, postgres: str, make_pg_url: Callable[[], str],
                                                   tmp_path: Path, big_imports: dict[str, Path]) -> None:
    """The import's connection is terminated while its transaction is writing: one line says the
    connection was lost; the import is all there or not at all once PostgreSQL answers again
    (a JSON import is one transaction; a jrnl import's records wait in the journal), and
    importing again leaves every entry there once."""
    import psycopg

    db_url = make_pg_url()
    home = tmp_path / "home"
    upstack(home, db_url, "note", "before x")
    before = listing(home, db_url)
    name = f"upstack-fault-{secrets.token_hex(4)}"
    args = ["import", str(big_imports["json"])] if fmt == "json" else ["import", "jrnl", str(big_imports["jrnl"])]
    proc = subprocess.Popen(upstack_args(*args), env={**env_for(home, db_url), "PGAPPNAME": name},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    terminated = False
    with psycopg.connect(postgres, autocommit=True) as watcher:
        while proc.poll() is None and not terminated:
            writing = watcher.execute(  # its transaction has written: the import is under way
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND backend_xid IS NOT NULL "
                "AND query ILIKE 'insert%%'", (name,)).fetchone()
            if writing:
                terminated = bool(watcher.execute("SELECT pg_terminate_backend(%s)", writing).fetchone()[0])
            else:
                time.sleep(0.002)
    result = finish(proc)
    assert terminated, f"the import finished before its connection could be cut:\n{result.describe()}"
    assert_one_line(result, "lost the connection to PostgreSQL", "nothing was half-written")

    after = listing(home, db_url)
    assert len(after) in (len(before), len(before) + BIG), len(after)
    assert [e for e in after if e["title"] == "before x"] == before
    upstack(home, db_url, *args)
    titles = [e["title"] for e in listing(home, db_url)]
    assert len(titles) == len(set(titles)) == BIG + 1
    assert_healthy(home, db_url)
