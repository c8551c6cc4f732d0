"""Check-ins sealed with a passphrase (issue 18, services/wellbeing_seal.py), on SQLite and PostgreSQL.

After `upstack checkin lock`, no wellbeing content (a note, a sign's name, a sleep value) is in the
database, the journal, a journal file kept aside, `upstack backup`'s copy or the JSON export; with the
passphrase, every reading (check-ins, signs, CSV, pace) is as before; a wrong or missing passphrase is
one line, exit 1, nothing changed; a lock killed half-way leaves the check-ins as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from conftest import CLI
from helpers_reliability import env_for, wait_for_line
from upstack.cli.main import cli
from upstack.formats.journal import Journal, make_record
from upstack.services import wellbeing, wellbeing_seal
from upstack.services.jsondump import dump_tables
from upstack.store import path as store_path
from upstack.workspace import Workspace

PASS = "correct horse battery"
NOTE = "ONION-NOTE about a bad week"
# What a person wrote, as it would show in stored bytes: a note, a sign of their own, a sign's score
# (its slug), and the name of the sleep field that goes with its value.
CONTENT = (b"ONION-NOTE", b"oomscrolling", b"snacking", b"sleep_hours")


def call(run: CLI, *args: str, passphrase: str | None = PASS, new: str | None = None) -> Result:
    """`upstack ARGS` as a command of its own (so with no key in memory yet), with UPSTACK_PASSPHRASE
    set to ``passphrase`` (None: unset) and UPSTACK_NEW_PASSPHRASE to ``new``."""
    wellbeing_seal.forget_keys()
    env = {**run.env, wellbeing_seal.PASSPHRASE_ENV: passphrase, wellbeing_seal.NEW_PASSPHRASE_ENV: new}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def ok(run: CLI, *args: str, passphrase: str | None = PASS, new: str | None = None) -> str:
    result = call(run, *args, passphrase=passphrase, new=new)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def _fill(run: CLI) -> None:
    """Check-ins, a sign of the person's own, and a journal file kept aside holding one (a file
    dropped in the journal with a damaged line: its good record is applied, the file kept)."""
    ok(run, "checkin", "--sleep", "6.25", "--energy", "2", "--sign", "snacking=2", "--note", NOTE)
    ok(run, "checkin", "signs", "add", "Doomscrolling")
    ok(run, "checkin", "--at", "yesterday", "--sleep", "5.75", "--sign", "doomscrolling=3")
    ok(run, "fit", "note", "--energised", "coding", "--text", NOTE + " in a fit note")  # every wellbeing op is sealed
    kept = make_record("checkin.log", "elsewhere", {"subject": "2020-01-02", "at": "2020-01-02T08:00:00.000000Z",
                                                    "note": NOTE + " kept aside", "local_only": True})
    journal = run.home / "journal"
    (journal / "dropped.jsonl").write_text(kept.to_json() + "\nnot a record\n", encoding="utf-8")
    ok(run, "checkin", "list")  # takes it in, and keeps the file aside
    assert list((journal / "bad").iterdir())


def _readings(run: CLI, passphrase: str | None = PASS) -> dict[str, str]:
    return {what: ok(run, *args, passphrase=passphrase) for what, args in (
        ("check-ins", ("checkin", "list", "--days", "100000", "--json")), ("signs", ("checkin", "signs", "--json")),
        ("csv", ("checkin", "export")), ("pace", ("pace", "--json")))}


def _stored_bytes(home: Path, db_url: str | None) -> bytes:
    """Every file of the workspace (database, WAL, journal, files kept aside, backups), and on
    PostgreSQL what its tables hold."""
    found = b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())
    if db_url:
        with Workspace(home=home, db=db_url) as ws:
            found += json.dumps(dump_tables(ws.store().db), ensure_ascii=False).encode("utf-8")
    return found


def _assert_no_content(found: bytes, where: str) -> None:
    assert not [c for c in CONTENT if c in found], f"{where} holds wellbeing content in clear"


def test_after_lock_nothing_stored_says_what_a_check_in_said(run: CLI, db_url: str | None, tmp_path: Path) -> None:
    _fill(run)
    before = _readings(run, passphrase=None)
    assert NOTE in before["check-ins"] and b"ONION-NOTE" in _stored_bytes(run.home, db_url)

    said = ok(run, "checkin", "lock")
    assert "check-ins locked: sealed 5 records" in said and "in journal files kept aside" in said
    _assert_no_content(_stored_bytes(run.home, db_url), "the workspace")
    assert _readings(run) == before  # with the passphrase, all as it was

    ok(run, "checkin", "--mood", "1", "--note", NOTE + " after")  # written sealed
    ok(run, "backup", str(tmp_path / "copy"))
    _assert_no_content(_stored_bytes(tmp_path / "copy", None), "the backup")
    _assert_no_content(ok(run, "export", "--include-wellbeing").encode("utf-8"), "the export")
    _assert_no_content(_stored_bytes(run.home, db_url), "the workspace")
    copy = CLI(tmp_path / "copy", None)
    assert _readings(copy) == _readings(run) != before  # the backup opens with the same passphrase
    assert call(copy, "checkin", "list", passphrase=None).exit_code == 1


def test_a_sealed_journal_line_holds_no_content(workspace: Workspace, tmp_path: Path, monkeypatch) -> None:
    """What write_record journals, sealed: the line that reaches the journal (and any copy of it)."""
    monkeypatch.setenv(wellbeing_seal.PASSPHRASE_ENV, PASS)
    wellbeing.check_in(workspace, sleep_hours=6, note=NOTE)
    wellbeing_seal.lock(workspace, PASS)
    record = workspace.record("checkin.sign", {"subject": "doomscrolling", "at": "2026-01-01T00:00:00.000000Z",
                                               "change": "add", "name": "Doomscrolling", "local_only": True})
    sealed = wellbeing_seal.seal_record(workspace, record)
    assert (sealed.id, sealed.op, sealed.data["at"]) == (record.id, record.op, record.data["at"])
    assert sealed.data["subject"] == wellbeing_seal.SEALED and sealed.data["local_only"] is True
    journal = Journal(tmp_path / "journal")
    journal.append([sealed])
    _assert_no_content(journal.log_path.read_bytes(), "the journal line")


def test_a_wrong_or_missing_passphrase_is_one_line_and_changes_nothing(run: CLI) -> None:
    _fill(run)
    ok(run, "checkin", "lock")
    for args, passphrase, message in (
            (["checkin", "list"], "not the passphrase", wellbeing_seal.WRONG_MESSAGE),
            (["checkin", "--sleep", "7"], "not the passphrase", wellbeing_seal.WRONG_MESSAGE),
            (["checkin", "unlock"], "not the passphrase", wellbeing_seal.WRONG_MESSAGE),
            (["checkin", "passphrase"], "not the passphrase", wellbeing_seal.WRONG_MESSAGE),
            (["checkin", "lock"], "not the passphrase", wellbeing_seal.WRONG_MESSAGE),
            (["checkin", "list"], None, wellbeing_seal.LOCKED_MESSAGE),
            (["checkin", "--sleep", "7"], None, wellbeing_seal.LOCKED_MESSAGE),
            (["checkin", "unlock"], None, wellbeing_seal.LOCKED_MESSAGE),
            (["pace"], None, wellbeing_seal.LOCKED_MESSAGE)):
        with Workspace(home=run.home, db=run.db_url) as ws:
            tables = dump_tables(ws.store().db)
        result = call(run, *args, passphrase=passphrase, new="a new long passphrase")
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        with Workspace(home=run.home, db=run.db_url) as ws:
            assert dump_tables(ws.store().db) == tables, args
    short = call(run, "checkin", "passphrase", new="short")
    assert short.exit_code == 1 and "too short" in short.stderr


def test_unlock_and_a_new_passphrase(run: CLI, db_url: str | None) -> None:
    _fill(run)
    before = _readings(run, passphrase=None)
    with Workspace(home=run.home, db=db_url) as ws:
        rows = dump_tables(ws.store().db)["path_records"]
    ok(run, "checkin", "lock")
    assert "sealed 5 records anew" in ok(run, "checkin", "passphrase", new="another long passphrase")
    assert call(run, "checkin", "list").exit_code == 1  # the old one no longer opens them
    assert _readings(run, passphrase="another long passphrase") == before
    assert "5 records kept in clear again" in ok(run, "checkin", "unlock", passphrase="another long passphrase")
    assert _readings(run, passphrase=None) == before
    with Workspace(home=run.home, db=db_url) as ws:
        assert dump_tables(ws.store().db)["path_records"] == rows  # exactly as they were
        assert store_path.seal_text(ws.store().db) is None
    assert b"a bad week kept aside" in b"".join(p.read_bytes() for p in (run.home / "journal" / "bad").iterdir())


def test_doctor_names_a_sealed_record_that_does_not_open(run: CLI, db_url: str | None) -> None:
    _fill(run)
    ok(run, "checkin", "lock")
    assert json.loads(ok(run, "doctor", "--json"))["ok"]
    unchecked = json.loads(ok(run, "doctor", "--json", passphrase=None))  # no passphrase: said, not failed
    assert unchecked["ok"] and any(f["check"] == "wellbeing" and "not checked" in f["message"]
                                   for f in unchecked["findings"])
    with Workspace(home=run.home, db=db_url) as ws:
        db = ws.store().db
        row = db.query("SELECT id, data FROM path_records WHERE op = 'checkin.log' ORDER BY at LIMIT 1")[0]
        data = json.loads(row["data"])
        token = data["sealed"]
        data["sealed"] = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]  # one character changed
        with db.transaction():
            db.execute("UPDATE path_records SET data = ? WHERE id = ?", (json.dumps(data), row["id"]))
    result = call(run, "doctor", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and not report["ok"]
    assert [f["subject"] for f in report["findings"] if f["severity"] == "error"] == [f"checkin.log record {row['id']}"]
    days = [c["day"] for c in json.loads(ok(run, "checkin", "list", "--days", "100000", "--json"))]
    assert data["at"].startswith("2020-01-02") and "2020-01-02" not in days and len(days) == 2  # the rest is read


def test_a_record_left_in_clear_is_sealed_by_locking_again(run: CLI, db_url: str | None) -> None:
    """A check-in another command wrote as the lock ran (it read the seal before) is kept in clear:
    doctor says so, and `checkin lock` again seals it."""
    _fill(run)
    ok(run, "checkin", "lock")
    with Workspace(home=run.home, db=db_url) as ws:
        ws.store().write([ws.record("checkin.log", {"subject": "2020-02-02", "at": "2020-02-02T08:00:00.000000Z",
                                                    "note": NOTE + " straggler", "local_only": True})])
    report = json.loads(ok(run, "doctor", "--json"))
    assert [f["severity"] for f in report["findings"] if "kept in clear" in f["message"]] == ["warning"]
    assert "sealed 1 record left in clear" in ok(run, "checkin", "lock")
    _assert_no_content(_stored_bytes(run.home, db_url), "the workspace")
    assert not [f for f in json.loads(ok(run, "doctor", "--json"))["findings"] if f["check"] == "wellbeing"]


def test_forget_needs_no_passphrase_and_takes_the_seal(run: CLI, db_url: str | None) -> None:
    _fill(run)
    ok(run, "checkin", "lock")
    assert "deleted 5 wellbeing records" in ok(run, "checkin", "forget", "--yes", passphrase=None)
    ok(run, "checkin", "--sleep", "7", passphrase=None)  # in clear again, as before any lock
    with Workspace(home=run.home, db=db_url) as ws:
        assert store_path.seal_text(ws.store().db) is None


def test_a_locked_reminder_without_passphrase_says_why_it_cannot_tell(home: Path, db_url: str | None,
                                                                      monkeypatch) -> None:
    """Without the passphrase `due` cannot tell whether today's check-in is done: it says so (one line,
    never what a check-in said), not leaves the reminder out as if there were none."""
    from upstack.services import due

    with Workspace(home=home, db=db_url, checkin_reminder=True) as ws:
        wellbeing.check_in(ws, mood=2, note=NOTE)
        wellbeing_seal.lock(ws, PASS)
        wellbeing_seal.forget_keys()
        monkeypatch.delenv(wellbeing_seal.PASSPHRASE_ENV, raising=False)
        [item] = [i for i in due.due(ws) if i.kind == "check-in"]
        assert "locked" in item.title and "UPSTACK_PASSPHRASE" in item.title and NOTE not in item.title
        monkeypatch.setenv(wellbeing_seal.PASSPHRASE_ENV, "not the passphrase")
        [item] = [i for i in due.due(ws) if i.kind == "check-in"]
        assert "does not open them" in item.title
        wellbeing_seal.forget_keys()
        monkeypatch.setenv(wellbeing_seal.PASSPHRASE_ENV, PASS)
        assert not [i for i in due.due(ws) if i.kind == "check-in" and "check in" in i.title]  # done today


def test_a_lock_killed_in_its_transaction_leaves_the_check_ins_as_they_were(run: CLI, db_url: str | None) -> None:
    """A real `upstack checkin lock` process is SIGKILLed once it has rewritten every row and the seal,
    before it commits: the check-ins read as before, without a passphrase, and locking again works."""
    _fill(run)
    before = _readings(run, passphrase=None)
    stall = ("import sys, time\n"
             "from upstack.store import path\n"
             "from upstack.cli.main import main\n"
             "real = path._set_seal\n"
             "def stalled(db, seal):\n"
             "    real(db, seal)\n"
             "    print('sealed, not committed', flush=True)\n"
             "    time.sleep(600)\n"
             "path._set_seal = stalled\n"
             "sys.argv = ['upstack', 'checkin', 'lock']\n"
             "main()\n")
    env = {**env_for(run.home, db_url), wellbeing_seal.PASSPHRASE_ENV: PASS}
    proc = subprocess.Popen([sys.executable, "-c", stall], env=env, cwd=run.home.parent, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(proc, "sealed, not committed")
    finally:
        proc.kill()
        proc.communicate()
    assert _readings(run, passphrase=None) == before
    assert b"ONION-NOTE" in _stored_bytes(run.home, db_url)  # the old state, whole
    assert json.loads(ok(run, "doctor", "--json", passphrase=None))["ok"]
    ok(run, "checkin", "lock")
    assert _readings(run) == before
    _assert_no_content(_stored_bytes(run.home, db_url), "the workspace")
    assert os.environ.get(wellbeing_seal.PASSPHRASE_ENV) is None  # nothing of the tests' own leaked


def _serve(run: CLI, db_url: str | None, *, typed: str | None, env: dict[str, str] | None = None
           ) -> tuple[subprocess.Popen[bytes], int | None]:
    """`upstack serve --port 0` as a real process, at a terminal it reads ``typed`` from (None: no terminal)."""
    import pty

    env = env or env_for(run.home, db_url)
    if typed is None:
        return subprocess.Popen([sys.executable, "-m", "upstack", "serve", "--port", "0"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE), None
    primary, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "upstack", "serve", "--port", "0"], env=env,
                               stdin=terminal, stdout=terminal, stderr=subprocess.PIPE,
                               start_new_session=True)  # no terminal of the test's own to ask at
    os.close(terminal)
    assert process.stderr is not None
    asked = b""
    while b"Passphrase" not in asked:  # typed once asked: getpass drops what was typed ahead
        more = process.stderr.read1(4096)
        assert more, asked
        asked += more
    os.write(primary, typed.encode())
    return process, primary


def _address(process: subprocess.Popen[bytes], primary: int | None) -> str:
    import re
    import select
    import time

    source = primary if primary is not None else process.stdout.fileno()  # type: ignore[union-attr]
    text, deadline = "", time.monotonic() + 120
    while not (found := re.search(r"^open: (http://127\.0\.0\.1:\d+/)\?token=(\S+?)\r?$", text, flags=re.M)):
        assert time.monotonic() < deadline and process.poll() is None, (text, process.stderr)
        if select.select([source], [], [], 1)[0]:
            text += os.read(source, 65536).decode()
    return f"{found.group(1)}pace?token={found.group(2)}"


def test_serve_opens_locked_check_ins_once_as_it_starts(run: CLI, db_url: str | None) -> None:
    """At a terminal `serve` asks for the passphrase as it starts, and /pace shows the check-ins; a
    wrong one stops it in one line; away from a terminal without UPSTACK_PASSPHRASE it says why /pace
    cannot open them and serves the rest."""
    import httpx

    ok(run, "checkin", "--mood", "2", "--note", NOTE)
    ok(run, "checkin", "lock")
    wellbeing_seal.forget_keys()
    env = {k: v for k, v in env_for(run.home, db_url).items() if k != wellbeing_seal.PASSPHRASE_ENV}
    process, primary = _serve(run, db_url, typed=PASS + "\n", env=env)
    try:
        page = httpx.get(_address(process, primary), follow_redirects=True, timeout=30)
        assert page.status_code == 200 and NOTE in page.text
    finally:
        process.terminate()
        process.communicate(timeout=20)
        if primary is not None:
            os.close(primary)
    process, primary = _serve(run, db_url, typed="not the passphrase\n", env=env)
    try:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 1 and "Traceback" not in err.decode()
        assert err.decode().strip().splitlines()[-1] == "upstack: error: wrong passphrase for your check-ins: " \
                                                         "nothing was changed"
    finally:
        if primary is not None:
            os.close(primary)
    process, _ = _serve(run, db_url, typed=None, env=env)
    try:
        page = httpx.get(_address(process, None), follow_redirects=True, timeout=30)
        assert NOTE not in page.text and "locked" in page.text
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "your check-ins are locked: /pace opens them" in err.decode()
