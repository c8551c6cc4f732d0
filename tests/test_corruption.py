"""Corruption never passes quietly (issue 12, item 17).

Single bits are flipped where they land in real life: in a journal file and a run's records
file before they are taken in (every engine), and inside stored values afterwards. On SQLite
the flip is made in the real database file, at the byte that holds the value (found by trying
each place the bytes occur and keeping the one that changes what SQL reads back); PostgreSQL's
files belong to a shared server, so there the same one-bit change is written into the value
with SQL, which is what a flip under the engine looks like to upstack.

Afterwards a damaged journal line is refused and kept aside, never applied as altered text;
`doctor` names every damaged revision, entry and piece of run data and exits 1, and `--fix`
does not make it pass; `history` names a damaged revision in one line instead of crashing or
showing altered text.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import upstack
from conftest import CLI
from helpers_reliability import Finished, run, upstack_args
from upstack.formats.journal import Record, make_record
from upstack.store.db import connect


def _cli(home: Path, db_url: str | None, *args: str) -> Finished:
    """`upstack ARGS` as a real process; never a traceback, whatever it finds."""
    result = run(upstack_args(*args), home, db_url)
    assert "Traceback" not in result.stderr, result.describe()
    return result


def _ok(home: Path, db_url: str | None, *args: str) -> Any:
    result = _cli(home, db_url, *args, "--json")
    assert result.returncode == 0, result.describe()
    return json.loads(result.stdout)


def _doctor(home: Path, db_url: str | None, *extra: str) -> tuple[int, list[dict[str, str]]]:
    result = _cli(home, db_url, "doctor", "--json", *extra)
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["ok"] else 1), result.describe()
    return result.returncode, report["findings"]


def _flip(path: Path, offset: int, mask: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ mask]))


def _flip_in_sqlite_file(path: Path, needle: bytes, index: int, mask: int, read: Callable[[sqlite3.Connection], Any]
                         ) -> None:
    """Flip one bit of the database file: bit ``mask`` of byte ``index`` of the occurrence of
    ``needle`` that holds the value ``read`` returns (others, in index pages or free space, are
    tried and put back)."""
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    con.close()

    def value() -> Any:
        probe = sqlite3.connect(path)
        try:
            return read(probe)
        finally:
            probe.close()

    before = value()
    for found in re.finditer(re.escape(needle), path.read_bytes()):
        _flip(path, found.start() + index, mask)
        if value() != before:
            return
        _flip(path, found.start() + index, mask)
    raise AssertionError(f"no occurrence of {needle!r} in {path} holds the value")


def flip_bit(home: Path, db_url: str | None, table: str, column: str, key: str, key_value: str, needle: bytes,
             index: int, mask: int = 0x01) -> None:
    """Flip bit ``mask`` of byte ``index`` of ``needle`` inside ``table.column`` of the row whose
    ``key`` is ``key_value`` (several rows may match ``key``: the first that holds the needle)."""
    sql = f"SELECT {column} FROM {table} WHERE {key} = ?"
    if db_url is None:
        _flip_in_sqlite_file(home / "upstack.db", needle, index, mask,
                             lambda con: con.execute(sql, (key_value,)).fetchall())
        return
    db = connect(db_url, home / "upstack.db")
    try:
        for row in db.query(f"SELECT ctid::text AS ctid, {column} AS value FROM {table} WHERE {key} = ?",
                            (key_value,)):
            raw = bytearray(row["value"] if isinstance(row["value"], bytes | memoryview)
                            else row["value"].encode("utf-8"))
            at = raw.find(needle)
            if at < 0:
                continue
            raw[at + index] ^= mask
            changed: Any = bytes(raw) if not isinstance(row["value"], str) else raw.decode("utf-8")
            db.execute(f"UPDATE {table} SET {column} = ? WHERE ctid = ?::tid", (changed, row["ctid"]))
            return
    finally:
        db.close()
    raise AssertionError(f"{table}.{column} of {key_value} does not hold {needle!r}")


def _subjects(findings: list[dict[str, str]], severity: str = "error") -> list[tuple[str, str, str]]:
    return [(f["check"], f["subject"], f["message"]) for f in findings if f["severity"] == severity]


# -- journal records -------------------------------------------------------------------

def test_a_flipped_bit_in_a_journal_record_is_refused_never_ingested(engine: str, db_url: str | None,
                                                                      tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(home, db_url, "log")
    for text in ("first note x", "second note zqsecret x", "third note x"):
        assert _cli(home, db_url, "note", text).returncode == 0
    log = home / "journal" / "log.jsonl"
    _flip(log, log.read_bytes().index(b"zqsecret") + 1, 0x01)  # q -> p: still valid JSON, other text

    read = _cli(home, db_url, "log", "-n", "0", "--json")
    assert read.returncode == 0, read.describe()
    assert sorted(e["title"] for e in json.loads(read.stdout)) == ["first note x", "third note x"]
    assert "damaged in storage" in read.stderr  # the reader says so at once

    code, findings = _doctor(home, db_url)
    assert code == 1
    damaged = _subjects(findings)
    assert [(check, "damaged in storage" in message) for check, _, message in damaged] == [("journal", True)]
    kept = next(iter((home / "journal" / "bad").iterdir()))
    assert b"zpsecret" in kept.read_bytes() and str(kept) in damaged[0][1]
    assert _ok(home, db_url, "search", "zpsecret")["results"] == []


def test_a_flipped_bit_in_a_run_record_is_refused_never_ingested(engine: str, db_url: str | None,
                                                                  tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(home, db_url, "log")
    with upstack.run("flipped", home=home, db=db_url, capture="none") as r:
        r.log({"loss": 1.0})
        r.note("kept zqintact x")
        r.note("damaged zqaltered x")
    records = r.directory / "records.jsonl"
    _flip(records, records.read_bytes().index(b"zqaltered") + 1, 0x01)

    _ok(home, db_url, "log")  # takes the run in
    shown = _ok(home, db_url, "run", "show", r.short)
    notes = json.dumps(shown)
    assert "zqintact" in notes and "zqaltered" not in notes and "zpaltered" not in notes
    code, findings = _doctor(home, db_url)
    assert code == 1
    assert [(check, "damaged in storage" in message) for check, _, message in _subjects(findings)] == [
        ("journal", True)]
    assert (home / "journal" / "bad" / f"{r.id}.records.jsonl").exists()


def test_records_written_before_checksums_still_ingest(engine: str, db_url: str | None, tmp_path: Path) -> None:
    """A line as upstack wrote it before records carried a checksum (no "crc")."""
    home = tmp_path / "home"
    _ok(home, db_url, "log")
    old = make_record("entry.create", "01J0000000000000000000WKSP", {
        "id": "01J0000000000000000000ENTR", "revision_id": "01J0000000000000000000REVS", "kind": "note",
        "title": "written by an older upstack", "body": "", "extra_tags": [], "private": False, "project": None,
        "node_id": None, "occurred_at": "2024-01-01T00:00:00Z", "created_at": "2024-01-01T00:00:00Z",
        "attachments": [], "meta": {}})
    line = old.canonical_json()
    assert '"crc"' not in line and old.to_json() != line
    (home / "journal").mkdir(exist_ok=True)
    (home / "journal" / "old.jsonl").write_text(line + "\n", encoding="utf-8")
    read = _cli(home, db_url, "log", "-n", "0", "--json")
    assert read.returncode == 0 and not read.stderr, read.describe()
    assert [e["title"] for e in json.loads(read.stdout)] == ["written by an older upstack"]
    assert _doctor(home, db_url) == (0, [])


# -- stored values --------------------------------------------------------------------

def _damaged_workspace(home: Path, db_url: str | None) -> dict[str, Any]:
    """Entries, an edited entry and a run, all healthy; their ids."""
    _ok(home, db_url, "log")
    made = {}
    for name, text in (("edited", "alpha zqfirst words x"), ("tagged", "beta note #zqtag x"),
                       ("current", "gamma zqcurrent words x")):
        made[name] = _ok(home, db_url, "note", text)["id"]
    edited = _cli(home, db_url, "edit", made["edited"], "--text", "alpha second words x")
    assert edited.returncode == 0, edited.describe()
    history = _ok(home, db_url, "history", made["edited"])["revisions"]
    made["first_revision"] = history[0]["id"]
    with upstack.run("flipped", home=home, db=db_url, capture="none", config={"zqconfig": 1}) as r:
        for step in range(10):
            r.log({"loss": 1234.56789 if step == 5 else float(step)}, step=step)
    made["run"], made["run_short"] = r.id, r.short
    assert _ok(home, db_url, "run", "show", r.short)["status"] == "finished"
    assert _doctor(home, db_url) == (0, [])
    return made


def test_single_bit_flips_in_stored_values_are_found_by_doctor_and_history(
        engine: str, db_url: str | None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = _damaged_workspace(home, db_url)
    # Revision 1 of the edited entry (its text is no longer the entry's): q -> p.
    flip_bit(home, db_url, "revisions", "title", "id", made["first_revision"], b"zqfirst", 1)
    # The tags of the tagged entry's revision: '[' -> 'Z'.
    flip_bit(home, db_url, "revisions", "tags", "entry_id", made["tagged"], b'["zqtag"]', 0)
    # The current title of an entry, in the entries table only: q -> p.
    flip_bit(home, db_url, "entries", "title", "id", made["current"], b"zqcurrent", 1)
    # A run's config: '{' -> 'z'.
    flip_bit(home, db_url, "runs", "config", "id", made["run"], b'{"zqconfig"', 0)
    # The lowest bit of one stored metric value: 1234.56789 becomes its neighbour.
    flip_bit(home, db_url, "metric_chunks", "vals", "run_id", made["run"], struct.pack("<d", 1234.56789), 0)

    code, findings = _doctor(home, db_url)
    assert code == 1
    short = {name: _ok(home, db_url, "show", made[name])["short"] for name in ("edited", "tagged", "current")}
    found = {(check, subject): message for check, subject, message in _subjects(findings)}
    expected = {
        ("revisions", f"revision 1 of entry {short['edited']}"): "checksum",
        ("revisions", f"revision 1 of entry {short['tagged']}"): "tags are unreadable",
        ("revisions", f"entry {short['current']}"): "differs from its current revision",
        ("runs", f"run {made['run_short']}"): "config is unreadable",
        ("runs", f"metric 'loss' of run {made['run_short']} (the chunk at 0)"): "checksum",
    }
    for place, words in expected.items():
        assert place in found and words in found[place], (place, findings)
    assert {place for place in found if place[0] != "search"} == set(expected), findings

    for name, revision in (("edited", 1), ("tagged", 1)):
        history = _cli(home, db_url, "history", made[name])
        assert history.returncode == 1, history.describe()
        assert history.stderr.count("\n") == 1 and f"revision {revision} of entry {short[name]} is damaged" \
            in history.stderr, history.describe()
        assert "zpfirst" not in history.stdout
    assert _cli(home, db_url, "history", made["current"]).returncode == 0  # its revisions are intact
    shown = _cli(home, db_url, "run", "show", made["run_short"])
    assert shown.returncode == 1 and shown.stderr.count("\n") == 1, shown.describe()
    assert f"the config of run {made['run_short']} is damaged" in shown.stderr

    # Rebuilding the search index from the damaged entry does not make the damage pass.
    code, after_fix = _doctor(home, db_url, "--fix")
    assert code == 1 and ("revisions", f"entry {short['current']}") in {
        (check, subject) for check, subject, _ in _subjects(after_fix)}


def test_an_export_from_before_checksums_still_imports(run: CLI, tmp_path: Path, engine: str,
                                                       make_pg_url: Callable[[], str]) -> None:
    """Rows without the checksum columns (an older upstack's export) go in; they are left unchecked."""
    run.ok("note", "an entry from before x")
    export = tmp_path / "export.json"
    run.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    for table in ("revisions", "metric_chunks"):
        dump["tables"][table] = [{k: v for k, v in row.items() if k != "checksum"} for row in dump["tables"][table]]
    dump["schema"] = 9
    export.write_text(json.dumps(dump))
    target = CLI(tmp_path / "target", make_pg_url() if engine == "postgresql" else None)
    target.ok("import", str(export))
    assert [e["title"] for e in json.loads(target.ok("log", "--json"))] == ["an entry from before x"]
    assert json.loads(target.ok("doctor", "--json")) == {"ok": True, "findings": []}
    assert json.loads(target.ok("history", json.loads(target.ok("log", "--json"))[0]["id"], "--json"))


def test_a_record_line_is_checksummed_over_its_own_bytes() -> None:
    """The format: a record's line ends with the CRC32 of the line without it (so `jq` still reads it)."""
    import zlib

    record = Record("01J0000000000000000000RECD", "entry.delete", "w", "2024-01-01T00:00:00Z",
                    {"entry_id": "x", "text": "é\u2028"})
    line = record.to_json()
    body, crc = line[:-18] + "}", line[-10:-2]
    assert json.loads(line)["crc"] == crc == f"{zlib.crc32(body.encode('utf-8')):08x}"
    assert body == record.canonical_json()


def test_a_page_too_damaged_to_read_is_a_finding_not_a_traceback(engine: str, db_url: str | None,
                                                                 tmp_path: Path) -> None:
    """One bit of the revisions table's page header (its page type): SQLite cannot follow the page."""
    if engine != "sqlite":
        pytest.skip("a page of PostgreSQL's is the shared server's to damage")
    home = tmp_path / "home"
    _ok(home, db_url, "note", "a note whose page breaks x")
    _ok(home, db_url, "log")  # taken in
    path = home / "upstack.db"
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'revisions'").fetchone()[0]
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    _flip(path, (root - 1) * page_size, 0x01)  # leaf table page 0x0d -> 0x0c, no such page type

    code, findings = _doctor(home, db_url)
    assert code == 1
    assert ("database", "revisions") in {(f["check"], f["subject"]) for f in findings}, findings
