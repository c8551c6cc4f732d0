"""Keeping a log healthy: purge, doctor, backup, lossless JSON export/import, migrations.

Store behaviour runs on SQLite and on PostgreSQL (the `engine` parametrisation);
faults are injected into real files and real tables.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from conftest import CLI, blob_files
from upstack.domain.text import KINDS, MADE_APART
from upstack.ids import id_key, new_id, short_id
from upstack.services.jsondump import DATA_TABLES, dump_tables
from upstack.store import ingest, schema
from upstack.store.db import Database, connect
from upstack.store.ingest import index_entry
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

SECRET = "sk-live-7Qz9SecretToken"
SECRET_TOKEN = b"7qz9secrettoken"  # how the search index spells it


# -- helpers -------------------------------------------------------------------------

def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def note(run: CLI, *args: str) -> str:
    return run.ok("note", *args).strip()


def open_db(home: Path, db_url: str | None) -> Database:
    return connect(db_url, home / "upstack.db")


def tables(home: Path, db_url: str | None) -> dict[str, list[dict[str, Any]]]:
    db = open_db(home, db_url)
    try:
        return dump_tables(db)
    finally:
        db.close()


def blob_path(home: Path, sha256: str) -> Path:
    return home / "blobs" / sha256[:2] / sha256[2:]


def write_file(folder: Path, name: str, data: bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return str(folder / name)


def titles(run: CLI, *args: str) -> list[str]:
    return [e["title"] for e in as_json(run, "log", "-n", "0", *args)]


def assert_refused(result: Result, *words: str) -> str:
    """Exit 1, an `upstack: error:` first line naming ``words``, no traceback."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    first = result.stderr.strip().splitlines()[0]
    assert first.startswith("upstack: error: ")
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    assert "Traceback" not in result.output
    return first


def process_env(home: Path, db_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"UPSTACK_DB", "UPSTACK_EDITOR", "EDITOR", "VISUAL", "PYTHONWARNINGS"}}
    env.update({"UPSTACK_HOME": str(home), "NO_COLOR": "1",
                "XDG_CONFIG_HOME": str(home.parent / "no-config")})
    if db_url:
        env["UPSTACK_DB"] = db_url
    return env


# -- purge ------------------------------------------------------------------------------

def every_byte_under(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def test_purge_removes_a_secret_for_good(run: CLI, home: Path, db_url: str | None,
                                         tmp_path: Path) -> None:
    files = tmp_path / "files"
    unique = write_file(files, "secret-plot.png", b"\x89PNG only in the secret entry")
    shared = write_file(files, "shared.csv", b"step,loss\n1,0.5\n")
    keeper = note(run, "-a", shared, "Loss table. Same CSV. #keep")
    secret = note(run, "-a", unique, "-a", shared, f"Pasted my key. It is {SECRET} oops #creds")
    run.ok("edit", secret, "--text", f"Pasted my key. It is {SECRET} (now rotated)")
    assert [h["short"] for h in as_json(run, "search", SECRET)["results"]] == [secret]
    entry = as_json(run, "show", secret)
    unique_sha, shared_sha = (a["sha256"] for a in entry["attachments"])
    if db_url is None:  # a meaningful "gone" check needs it to have been there
        assert SECRET_TOKEN in every_byte_under(home).lower()

    refused = run("purge", secret)  # no terminal to confirm, no --yes
    assert_refused(refused, "--yes")
    assert as_json(run, "show", secret)["title"] == "Pasted my key."

    assert "; 1 file deleted" in run.ok("purge", secret, "--yes")

    purged = as_json(run, "show", secret)
    assert purged["purged_at"] and (purged["title"], purged["body"], purged["tags"]) == ("", "", [])
    assert all(a["purged_at"] and a["sha256"] is None for a in purged["attachments"])
    assert "purged" in run.ok("show", secret) and "content is gone" in run.ok("show", secret)
    revisions = as_json(run, "history", secret)["revisions"]
    assert len(revisions) == 2 and all(r["purged_at"] and r["body"] == "" for r in revisions)
    assert as_json(run, "search", "7Qz9SecretToken")["results"] == []
    assert as_json(run, "search", "rotated")["results"] == []
    assert titles(run) == ["Loss table."]
    assert "creds" not in {t["tag"] for t in as_json(run, "tags")}
    assert_refused(run("restore", secret), "purged")
    assert_refused(run("edit", secret, "--text", "Back again."), "purged")

    assert not blob_path(home, unique_sha).exists()
    assert blob_path(home, shared_sha).read_bytes() == b"step,loss\n1,0.5\n"
    assert as_json(run, "show", keeper)["attachments"][0]["sha256"] == shared_sha

    db = open_db(home, db_url)
    try:
        stored = json.dumps([dump_tables(db), db.query("SELECT * FROM entry_search")]).lower()
    finally:
        db.close()
    assert SECRET.lower() not in stored and "7qz9secrettoken" not in stored
    # Every file of the workspace: database, WAL, journal, blobs, backups.
    assert SECRET_TOKEN not in every_byte_under(home).lower()
    if db_url is None:
        for name in ("upstack.db", "upstack.db-wal"):
            path = home / name
            assert not path.exists() or SECRET_TOKEN not in path.read_bytes().lower()
    assert run("doctor").exit_code == 0


def test_purge_one_attachment(run: CLI, home: Path, tmp_path: Path) -> None:
    files = tmp_path / "files"
    shared = write_file(files, "shared.csv", b"a,b\n1,2\n")
    own = write_file(files, "huge.ipynb", b'{"cells": ["a huge notebook"]}')
    first = note(run, "-a", shared, "-a", own, "Notebook run. Too big to keep.")
    other = note(run, "-a", shared, "Uses the same table.")
    shared_att, own_att = as_json(run, "show", first)["attachments"]

    assert "; 1 file deleted" in run.ok("purge", own_att["short"], "--yes")
    assert not blob_path(home, own_att["sha256"]).exists()
    entry = as_json(run, "show", first)
    assert entry["title"] == "Notebook run." and entry["purged_at"] is None
    assert [a["purged_at"] is not None for a in entry["attachments"]] == [False, True]
    assert "(purged" in run.ok("show", first)

    out = run.ok("purge", shared_att["short"], "--yes")
    assert "deleted" not in out  # still used by the other entry
    assert blob_path(home, shared_att["sha256"]).read_bytes() == b"a,b\n1,2\n"
    assert as_json(run, "show", other)["attachments"][0]["purged_at"] is None
    assert_refused(run("purge", own_att["short"], "--yes"), "already purged")
    assert run("doctor").exit_code == 0


# -- doctor ---------------------------------------------------------------------------------

@pytest.fixture
def healthy(run: CLI, tmp_path: Path) -> dict[str, Any]:
    """Two entries, one with a figure, all ingested; doctor finds nothing."""
    plot = write_file(tmp_path / "files", "plot.png", b"\x89PNG the heatmap")
    figure = note(run, "-a", plot, "Attention heatmap. Head 9.9 stands out. #ioi")
    text = note(run, "Residual sweep. Layers 7 to 9 carry the signal. #ioi")
    report = as_json(run, "doctor")
    assert report == {"ok": True, "findings": []}
    assert "ok:" in run.ok("doctor")
    entry = as_json(run, "show", figure)
    return {"figure": figure, "text": text, "id": as_json(run, "show", text)["id"],
            "attachment": entry["attachments"][0]}


def doctor_findings(run: CLI, *args: str) -> tuple[int, list[dict[str, str]]]:
    result = run("doctor", "--json", *args)
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_doctor_names_a_corrupted_blob(run: CLI, home: Path, healthy: dict[str, Any]) -> None:
    attachment = healthy["attachment"]
    blob_path(home, attachment["sha256"]).write_bytes(b"\x89PNG bit rot")
    code, findings = doctor_findings(run)
    assert code == 1
    assert [(f["check"], f["severity"]) for f in findings] == [("blobs", "error")]
    subject, message = findings[0]["subject"], findings[0]["message"]
    assert attachment["short"] in subject and "plot.png" in subject
    assert healthy["figure"] in subject and "corrupted" in message
    text = run("doctor")
    assert text.exit_code == 1 and "corrupted" in text.stdout and attachment["short"] in text.stdout
    assert run("doctor", "--fix").exit_code == 1  # a file cannot be rebuilt from the index


def test_doctor_names_a_missing_blob(run: CLI, home: Path, healthy: dict[str, Any]) -> None:
    blob_path(home, healthy["attachment"]["sha256"]).unlink()
    code, findings = doctor_findings(run)
    assert code == 1 and len(findings) == 1
    assert healthy["attachment"]["short"] in findings[0]["subject"]
    assert "missing" in findings[0]["message"]


def test_doctor_finds_and_fixes_a_stale_search_index(run: CLI, home: Path, db_url: str | None,
                                                     healthy: dict[str, Any]) -> None:
    db = open_db(home, db_url)
    try:  # a change behind the index's back (to the entry and its revision alike, which has no checksum,
        # as if stored before checksums: an entry changed alone is damage, store/integrity.py)
        db.execute("UPDATE entries SET title = 'Logit lens shows it' WHERE id = ?",
                   (healthy["id"],))
        db.execute("UPDATE revisions SET title = 'Logit lens shows it', checksum = NULL WHERE entry_id = ?",
                   (healthy["id"],))
    finally:
        db.close()
    code, findings = doctor_findings(run)
    assert code == 1
    assert [(f["check"], f["subject"]) for f in findings] == [
        ("search", f"entry {healthy['text']}")]
    assert "out of step" in findings[0]["message"]

    fixed = run("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert "rebuilt the search index" in fixed.stderr
    assert as_json(run, "doctor") == {"ok": True, "findings": []}
    assert [h["short"] for h in as_json(run, "search", "logit lens")["results"]] == [
        healthy["text"]]
    assert as_json(run, "search", "residual")["results"] == []


def test_doctor_finds_and_fixes_a_row_missing_from_fts5(run: CLI, home: Path, engine: str,
                                                        db_url: str | None,
                                                        healthy: dict[str, Any]) -> None:
    if engine != "sqlite":
        pytest.skip("entry_fts is SQLite's FTS5 table")
    db = open_db(home, db_url)
    try:
        db.execute("DELETE FROM entry_fts WHERE rowid = "
                   "(SELECT rowid FROM entry_search WHERE entry_id = ?)", (healthy["id"],))
    finally:
        db.close()
    assert as_json(run, "search", "residual")["results"] == []
    code, findings = doctor_findings(run)
    assert code == 1
    assert [(f["check"], f["subject"]) for f in findings] == [
        ("search", f"entry {healthy['text']}")]
    assert run("doctor", "--fix").exit_code == 0
    assert [h["short"] for h in as_json(run, "search", "residual")["results"]] == [healthy["text"]]
    assert as_json(run, "doctor")["ok"] is True


# -- backup -----------------------------------------------------------------------------------

WRITER = """
import pathlib, subprocess, sys
stop, done = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
number = 0
while not stop.exists():
    title = f"Background note {number}."
    subprocess.run([sys.executable, "-m", "upstack", "note", title + " #bg"], check=True,
                   stdout=subprocess.DEVNULL)
    with done.open("a") as handle:  # only after `note` returned: it is in the log
        handle.write(title + "\\n")
    number += 1
"""


def written(done: Path) -> set[str]:
    return set(done.read_text().splitlines()) if done.exists() else set()


def backup_process(home: Path, db_url: str | None, dest: Path) -> dict[str, int]:
    """`upstack backup DEST --json` as a real process; a hang fails instead of blocking."""
    finished = subprocess.run([sys.executable, "-m", "upstack", "backup", str(dest), "--json"],
                              env=process_env(home, db_url), capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)  # type: ignore[no-any-return]


def test_backup_while_another_process_writes(run: CLI, home: Path, db_url: str | None,
                                             tmp_path: Path) -> None:
    plot = write_file(tmp_path / "files", "plot.png", b"\x89PNG backed up")
    for number in range(5):
        note(run, "-a", plot, f"Before the backup {number}. #pre")
    stop, done = tmp_path / "stop", tmp_path / "done.txt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(stop), str(done)],
                              env=process_env(home, db_url), stderr=subprocess.PIPE, text=True)
    backups: list[tuple[Path, set[str], dict[str, int]]] = []
    try:
        deadline = time.monotonic() + 30
        while len(written(done)) < 2 and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.05)
        for number in range(3):  # each one while the writer keeps capturing
            confirmed = written(done)
            assert len(confirmed) >= 2, "the writer did not get going"
            dest = tmp_path / f"backup-{number}"
            backups.append((dest, confirmed, backup_process(home, db_url, dest)))
        while len(written(done)) < len(confirmed) + 2 and time.monotonic() < deadline + 30:
            time.sleep(0.05)
        assert len(written(done)) >= len(confirmed) + 2, "the writer stopped during the backups"
    finally:
        stop.touch()
        _, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0, errors

    for dest, confirmed, counts in backups:
        backup_run = CLI(dest, None)  # a backup is an SQLite workspace of its own
        assert as_json(backup_run, "doctor") == {"ok": True, "findings": []}
        in_backup = titles(backup_run)
        assert len(in_backup) == len(set(in_backup)) == counts["entries"]
        assert {f"Before the backup {n}." for n in range(5)} | confirmed <= set(in_backup)
        assert counts["files"] == 1 and blob_files(dest) == blob_files(home)
        assert (dest / "workspace.id").read_text() == (home / "workspace.id").read_text()
    assert len(titles(run)) == 5 + len(written(done))  # and the source lost nothing


def test_backup_refuses_a_non_empty_destination(run: CLI, tmp_path: Path) -> None:
    note(run, "Something to back up.")
    dest = tmp_path / "occupied"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    assert_refused(run("backup", str(dest)), "not an empty directory")
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    assert_refused(run("backup", str(a_file)), "not an empty directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run.ok("backup", str(empty)).startswith("backed up 1 ")
    assert titles(CLI(empty, None)) == ["Something to back up."]


# -- lossless JSON export and import ------------------------------------------------------------

def build_rich(run: CLI, files: Path) -> None:
    """A workspace with every kind of thing a log holds."""
    plot = write_file(files, "heatmap.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    table = write_file(files, "logits.csv", "layer,head,Δ\n9,9,3.1\n".encode())
    book = write_file(files, "sweep.ipynb", b'{"cells": [], "nbformat": 4}')
    diff = write_file(files, "fix.patch", b"-lr = 1e-3\n+lr = 3e-4\n")
    secret_file = write_file(files, "token.txt", b"a pasted token")
    made = {}
    made_apart = tuple(MADE_APART)  # `predict add` and `take add` make those
    for day, kind in enumerate((k for k in KINDS if k not in made_apart), 1):
        project = ["--project", "IOI circuit", "--create"] if day % 2 else []
        made[kind] = note(run, "-k", kind, "--at", f"2026-02-{day:02d}T09:30:00+00:00", *project,
                          f"A {kind} on day {day}. Café, naïve — #ioi #kind/{kind}")
    target = note(run, "-a", plot, "-a", table, "Heatmap of heads. Layer 9 lights up. #figure")
    note(run, "-a", table, f"Table reused. Compare [[{target}]] and [[Heatmap of heads.]] "
         "and [[Not written yet]].")
    run.ok("attach", made["result"], book, diff)
    run.ok("edit", made["note"], "--text", "A note, revised. Now with more detail. #ioi")
    run.ok("edit", made["note"], "--text", "A note, revised twice.\n\nFinal. #ioi #final")
    note(run, "--private", "--at", "yesterday 21:00", "Check-in: tired. #checkin")
    gone = note(run, "Deleted thought. Not worth it.")
    run.ok("rm", gone)
    run.ok("star", target)
    run.ok("comment", target, "Which layer? Label the axes.")
    purged = note(run, "-a", secret_file, "Pasted a token. Oops.")
    run.ok("comment", purged, "Purge it!")  # goes with it
    run.ok("purge", purged, "--yes")
    with_huge = note(run, "-a", book, "-a", diff, "Keeps one file.")
    run.ok("purge", as_json(run, "show", with_huge)["attachments"][1]["short"], "--yes")
    run.ok("path", "mentor", "add", "mentor-login", "--ladder")
    with Workspace(home=run.home, db=run.db_url) as ws:  # a person's path (issue 15), as its parts write it
        ws.store().write([ws.record(op, {"subject": subject, "at": f"2026-02-0{day}T10:00:00.000000Z", **data})
                          for day, (op, subject, data) in enumerate([
                              ("ladder.step", "learn-to-code", {"change": "done"}),
                              ("practice.attempt", "two-sum", {"minutes": 12.5, "outcome": "unaided"}),
                              ("portfolio.item", "ioi-writeup", {"title": "Café, naïve — IOI", "links": ["x"]})], 1)])
    run.ok("log")  # everything ingested


def export_file(run: CLI, path: Path) -> dict[str, Any]:
    assert as_json(run, "export", "--format", "json", "--out", str(path))["format"] == "json"
    return json.loads(path.read_text(encoding="utf-8"))


def without_times(export: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in export.items() if k not in {"exported_at", *keys}}


def assert_same_workspace(source: tuple[Path, str | None], target: tuple[Path, str | None]) -> None:
    expected, found = tables(*source), tables(*target)
    for table in expected:
        assert found[table] == expected[table], table
    assert blob_files(target[0]) == blob_files(source[0])


def check_round_trip(source: CLI, target: CLI, tmp_path: Path) -> None:
    first = export_file(source, tmp_path / "export.json")
    assert first["tables"]["entries"] and first["blobs"]
    assert len(first["tables"]["path_records"]) == 4  # the owner's path, a mentor named
    report = as_json(target, "import", str(tmp_path / "export.json"))
    assert report["imported"] == len(first["tables"]["entries"])
    assert_same_workspace((source.home, source.db_url), (target.home, target.db_url))
    assert titles(target, "--deleted") == titles(source, "--deleted")
    assert as_json(target, "doctor")["ok"] is True
    again = export_file(target, tmp_path / "again.json")
    # A restore into an empty workspace takes on the exported workspace's identity.
    assert without_times(again) == without_times(first)


def test_json_export_import_round_trip(run: CLI, engine: str, make_pg_url: Any,
                                       tmp_path: Path) -> None:
    build_rich(run, tmp_path / "files")
    target = CLI(tmp_path / "target", make_pg_url() if engine == "postgresql" else None)
    check_round_trip(run, target, tmp_path)
    # Search works on the imported copy just as on the original.
    for query in ("naive", "#ioi", "heads", "tired"):
        assert as_json(target, "search", query) == as_json(run, "search", query)


@pytest.mark.parametrize("direction", ["sqlite-to-postgresql", "postgresql-to-sqlite"])
def test_json_export_import_across_engines(direction: str, make_pg_url: Any,
                                           tmp_path: Path) -> None:
    pg_url = make_pg_url()
    sqlite_home, pg_home = tmp_path / "on-sqlite", tmp_path / "on-postgresql"
    source, target = CLI(sqlite_home, None), CLI(pg_home, pg_url)
    if direction == "postgresql-to-sqlite":
        source, target = target, source
    build_rich(source, tmp_path / "files")
    check_round_trip(source, target, tmp_path)


def test_reexport_differs_only_in_exported_at(run: CLI, engine: str, make_pg_url: Any,
                                              tmp_path: Path) -> None:
    note(run, "One entry.")
    first = export_file(run, tmp_path / "export.json")
    target = CLI(tmp_path / "target", make_pg_url() if engine == "postgresql" else None)
    target.ok("import", str(tmp_path / "export.json"))
    assert without_times(export_file(target, tmp_path / "again.json")) == without_times(first)


@pytest.fixture
def exported(run: CLI, tmp_path: Path) -> dict[str, Any]:
    plot = write_file(tmp_path / "files", "plot.png", b"\x89PNG exported")
    note(run, "-a", plot, "Exported figure. #x")
    note(run, "Exported text. #x")
    return export_file(run, tmp_path / "export.json")


@pytest.fixture
def target(engine: str, make_pg_url: Any, tmp_path: Path) -> CLI:
    """A separate workspace that already holds one entry of its own."""
    cli = CLI(tmp_path / "target", make_pg_url() if engine == "postgresql" else None)
    note(cli, "The target's own entry.")
    cli.ok("log")
    return cli


def corrupt_base64(dump: dict[str, Any]) -> str:
    sha = next(iter(dump["blobs"]))
    dump["blobs"][sha] = "!!!" + dump["blobs"][sha]
    return json.dumps(dump)


def corrupt_blob_bytes(dump: dict[str, Any]) -> str:
    sha = next(iter(dump["blobs"]))
    dump["blobs"][sha] = base64.b64encode(b"other bytes").decode()
    return json.dumps(dump)


def drop_a_column(dump: dict[str, Any]) -> str:
    del dump["tables"]["entries"][1]["title"]
    return json.dumps(dump)


def truncate(dump: dict[str, Any]) -> str:
    return json.dumps(dump)[:-40]


@pytest.mark.parametrize("corrupt, problem", [
    (corrupt_base64, "not valid base64"),
    (corrupt_blob_bytes, "does not match its hash"),
    (drop_a_column, "tables.entries[1]: missing ['title']"),
    (truncate, "invalid JSON"),
])
def test_a_corrupted_export_imports_nothing(exported: dict[str, Any], target: CLI, corrupt: Any,
                                            problem: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(corrupt(exported), encoding="utf-8")
    before = (tables(target.home, target.db_url), blob_files(target.home))
    first = assert_refused(target("import", str(bad)), problem, "bad.json")
    assert "nothing was imported" in first
    assert (tables(target.home, target.db_url), blob_files(target.home)) == before
    assert titles(target) == ["The target's own entry."]


def test_importing_twice_adds_nothing(run: CLI, exported: dict[str, Any], target: CLI,
                                      tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    assert as_json(target, "import", str(path)) == {
        "imported": 2, "updated": 0, "already_present": 0, "skipped": [], "warnings": []}
    after_first = (tables(target.home, target.db_url), blob_files(target.home))
    assert "imported 0 entries, 2 already present" in target.ok("import", str(path))
    assert (tables(target.home, target.db_url), blob_files(target.home)) == after_first
    assert sorted(titles(target)) == ["Exported figure.", "Exported text.",
                                      "The target's own entry."]
    assert as_json(target, "doctor")["ok"] is True


# -- migrations --------------------------------------------------------------------------------

def make_schema_1_workspace(home: Path, db_url: str | None) -> str:
    """A workspace as the first release left it: schema 1, one entry ingested."""
    db = open_db(home, db_url)
    try:
        schema.apply(db, target=1)
        assert schema.current_version(db) == 1
        entry_id, node_id, revision_id, at = new_id(), new_id(), new_id(), now_iso()
        title, body, tags = "Written by schema 1.", "Kept across the upgrade. #legacy", ["legacy"]
        # Schema 1's own columns, written directly: today's record handlers expect today's schema.
        with db.transaction():
            db.execute("INSERT INTO nodes (id, key, kind, title, title_key, created_at, updated_at) "
                       "VALUES (?, ?, 'project', 'Old project', 'old project', ?, ?)",
                       (node_id, id_key(node_id), at, at))
            db.execute("INSERT INTO entries (id, key, kind, title, title_key, body, node_id, private, starred, "
                       "occurred_at, created_at, updated_at, revision_id, extra_tags, meta) "
                       "VALUES (?, ?, 'result', ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, '[]', '{}')",
                       (entry_id, id_key(entry_id), title, title.lower(), body, node_id, at, at, at, revision_id))
            db.execute("INSERT INTO revisions (id, entry_id, parent_id, number, kind, title, body, tags, "
                       "workspace_id, created_at) VALUES (?, ?, NULL, 1, 'result', ?, ?, ?, 'old-workspace', ?)",
                       (revision_id, entry_id, title, body, json.dumps(tags), at))
            db.execute("INSERT INTO entry_tags (entry_id, tag) VALUES (?, 'legacy')", (entry_id,))
            # Schema 1 keeps no search_words (migration 12 fills it from the index): index as it did.
            saved, ingest.add_words = ingest.add_words, lambda *args: None  # type: ignore[assignment]
            try:
                index_entry(db, entry_id)
            finally:
                ingest.add_words = saved  # type: ignore[assignment]
    finally:
        db.close()
    return entry_id


def test_an_old_workspace_is_migrated_on_open(run: CLI, home: Path, db_url: str | None) -> None:
    entry_id = make_schema_1_workspace(home, db_url)
    db = open_db(home, db_url)
    try:  # what schema 1 holds: its tables, its columns
        before = {name: db.query(f"SELECT * FROM {name} ORDER BY {', '.join(DATA_TABLES[name])}")
                  for name in ("nodes", "entries", "revisions", "entry_tags", "attachments")}
    finally:
        db.close()

    entry = as_json(run, "show", short_id(entry_id))
    assert (entry["title"], entry["tags"], entry["project"]) == (
        "Written by schema 1.", ["legacy"], "Old project")
    db = open_db(home, db_url)
    try:
        assert [r["version"] for r in db.query(
            "SELECT version FROM schema_migrations ORDER BY version")] == list(
                range(1, schema.LATEST + 1))
        if db.dialect == "sqlite":
            assert db.scalar("PRAGMA user_version") == schema.LATEST
    finally:
        db.close()
    after = tables(home, db_url)
    for name, rows in before.items():  # data preserved as it was (new columns aside)
        assert [{k: row[k] for k in old} for row, old in zip(after[name], rows, strict=True)] == rows
    assert [h["id"] for h in as_json(run, "search", "upgrade")["results"]] == [entry_id]
    assert as_json(run, "search", "upgrdae")["suggestion"] == "upgrade"  # the index's words, kept by migration 12

    if db_url is None:
        backups = list((home / "backups").iterdir())
        assert [p.name.startswith("upstack.db.schema1.") for p in backups] == [True]
        saved = sqlite3.connect(backups[0])
        try:
            assert saved.execute("PRAGMA user_version").fetchone() == (1,)
            assert saved.execute("SELECT title FROM entries").fetchall() == [
                ("Written by schema 1.",)]
        finally:
            saved.close()
        run.ok("log")
        assert len(list((home / "backups").iterdir())) == 1  # migrated once, backed up once
