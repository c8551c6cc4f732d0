"""What text upstack keeps (issue 12, and the jrnl indentation of issue 18).

The rule (domain/text.py, ``clean_text``): any Unicode text, but a NUL (PostgreSQL text cannot hold
one) or a lone surrogate (not Unicode; what Python makes of bytes that are not UTF-8 in a command line
or a file name) becomes U+FFFD wherever text comes in: capture, edits, runs, imports, and journal
records or run folders an older upstack wrote. So both engines keep the same text, and no record
stops any command. A record pushed or pulled over the network was cleaned where it was written, so the
sync door refuses one that still holds such a character, and takes the rest.

Real `upstack` processes on real SQLite and PostgreSQL, as a person would type the commands.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from array import array
from pathlib import Path
from typing import Any

import httpx
import pytest

from attack_common import Team, entry_create, rec
from helpers_reliability import env_for
from upstack.domain import access
from upstack.ids import new_id
from upstack.services import accounts, capture
from upstack.services import sync as sync_service
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

KEPT = "\ufffd"  # what a NUL or a lone surrogate becomes


# -- running upstack as a person does -------------------------------------------------------------

def upstack(home: Path, db_url: str | None, *args: str | bytes, stdin: bytes = b"",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """`upstack ARGS` as a process; arguments may be bytes (a shell passes bytes, UTF-8 or not)."""
    home.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "upstack", *args], env={**env_for(home, db_url), **(env or {})},
                          cwd=home.parent, input=stdin, capture_output=True, timeout=240, check=False)


def ok(home: Path, db_url: str | None, *args: str | bytes, stdin: bytes = b"") -> str:
    """The output of a command that must succeed, with nothing set aside and no traceback."""
    done = upstack(home, db_url, *args, stdin=stdin)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0, (args, err)
    assert "Traceback" not in err and "not applied" not in err and "warning" not in err, (args, err)
    return done.stdout.decode("utf-8")


def entries(home: Path, db_url: str | None) -> dict[str, dict[str, Any]]:
    """Every entry in the log, by title."""
    return {e["title"]: e for e in json.loads(ok(home, db_url, "log", "--json", "--limit", "500"))}


def assert_healthy(home: Path, db_url: str | None) -> None:
    """`doctor` finds nothing wrong, and no record was set aside."""
    report = json.loads(ok(home, db_url, "doctor", "--json"))
    assert report["ok"] and report["findings"] == [], report
    assert not (home / "journal" / "rejected.jsonl").exists()


# -- capture ----------------------------------------------------------------------------------------

def test_a_nul_piped_into_a_note_is_kept_as_u_fffd_on_both_engines(home: Path, db_url: str | None) -> None:
    """`printf 'a\\000b' | upstack note -` was acknowledged, then set aside at ingest on PostgreSQL (and
    at df9dac9 broke every later command there, `doctor` included) while SQLite kept the NUL."""
    ok(home, db_url, "note", "Before it.")
    short = ok(home, db_url, "note", "-", stdin=b"Probe a\x00b. Body c\x00d #t\x00ag").strip()
    ok(home, db_url, "note", "After it.")
    found = entries(home, db_url)
    assert set(found) == {"Before it.", f"Probe a{KEPT}b.", "After it."}
    probe = found[f"Probe a{KEPT}b."]
    assert probe["short"] == short and probe["body"] == f"Body c{KEPT}d #t{KEPT}ag" and probe["tags"] == ["t"]
    ok(home, db_url, "edit", short, "--text", "-", stdin=b"Edited e\x00f. More g\x00h")
    history = json.loads(ok(home, db_url, "history", short, "--json"))
    assert [r["title"] for r in history["revisions"]] == [f"Probe a{KEPT}b.", f"Edited e{KEPT}f."]
    assert json.loads(ok(home, db_url, "search", f"a{KEPT}b", "--json"))["total"] >= 0  # asking for it works too
    assert_healthy(home, db_url)


def test_bytes_that_are_not_utf8_on_the_command_line_become_u_fffd(home: Path, db_url: str | None,
                                                                  tmp_path: Path) -> None:
    """A shell passes bytes; Python makes a lone surrogate of each that is not UTF-8, which no journal
    file and no engine can hold: `upstack note` died with a UnicodeEncodeError traceback."""
    figure = tmp_path / "files"
    figure.mkdir()
    named = figure / os.fsdecode(b"fig\xff.txt")
    named.write_bytes(b"a file whose name is not UTF-8")
    ok(home, db_url, "note", b"Caf\xff argv.", "--tag", b"x\xffy", "--project", b"Pro\xffj", "--create",
       "--attach", bytes(named))
    project = ok(home, db_url, "add", "project", b"Tree \xfe node", "--why", b"Because \xfd.").strip()
    entry = entries(home, db_url)[f"Caf{KEPT} argv."]
    assert entry["tags"] == [f"x{KEPT}y"] and entry["project"] == f"Pro{KEPT}j"
    assert [a["filename"] for a in entry["attachments"]] == ["fig_.txt"]  # a file's name keeps less (domain/files)
    node = json.loads(ok(home, db_url, "node", "show", project, "--json"))
    assert (node["title"], node["why"]) == (f"Tree {KEPT} node", f"Because {KEPT}.")
    assert_healthy(home, db_url)


def test_a_run_with_nul_in_its_names_does_not_stop_the_workspace(home: Path, db_url: str | None) -> None:
    """A run named 'r\\0un' (or logging metric 'lo\\0ss') made every later command on PostgreSQL fail with
    psycopg.DataError, `doctor` included: run folders were taken in with no record set aside."""
    script = ("import upstack\n"
              "with upstack.run('r\\x00un', config={'l\\x00r': 'x\\x00'}, tags=['t\\x00']) as run:\n"
              "    run.log({'lo\\x00ss': 1.0, 'a\\udcffb': 2.0})\n"
              "    run.log({'lo\\x00ss': 0.5})\n"
              "    run.note('n\\x00ote')\n")
    done = subprocess.run([sys.executable, "-c", script], env=env_for(home, db_url), cwd=home.parent,
                          capture_output=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr.decode()
    ok(home, db_url, "note", "After the run.")
    (run,) = json.loads(ok(home, db_url, "runs", "--json"))
    assert run["name"] == f"r{KEPT}un" and run["config"] == {f"l{KEPT}r": f"x{KEPT}"}
    shown = json.loads(ok(home, db_url, "run", "show", run["id"], "--json"))
    assert {m["key"]: m["count"] for m in shown["metrics"]} == {f"lo{KEPT}ss": 2, f"a{KEPT}b": 1}
    ok(home, db_url, "plot", run["id"], b"lo\xffss", "--out", str(home.parent / "loss.png"))  # asked as typed
    assert "After the run." in entries(home, db_url)
    assert_healthy(home, db_url)


# -- what an older upstack wrote ---------------------------------------------------------------------

def _record(op: str, data: dict[str, Any], workspace: str = "older") -> str:
    """A journal line as upstack writes one (json escapes a NUL and a lone surrogate as \\u0000, \\ud800)."""
    return json.dumps({"v": 1, "id": new_id(), "op": op, "workspace": workspace, "at": now_iso(), "data": data})


def test_journal_records_an_older_upstack_wrote_with_a_nul_are_taken_in(home: Path, db_url: str | None) -> None:
    """Records with a NUL already in a journal (any upstack before this one wrote them) were set aside on
    PostgreSQL and kept with the NUL on SQLite; at df9dac9 they stopped every command."""
    ok(home, db_url, "note", "First.")
    at = now_iso()
    bad = entry_create(title="Old a\x00b.", body="body \x00 and \ud800", extra_tags=["o\x00ld"])
    good = entry_create(title="Old good.", body="fine")
    node = {"id": new_id(), "kind": "project", "title": "Node \x00", "why": "w\x00", "created_at": at}
    with open(home / "journal" / "log.jsonl", "a", encoding="utf-8") as journal:
        journal.write("\n".join(_record(op, data) for op, data in
                                (("entry.create", bad), ("node.create", node), ("entry.create", good))) + "\n")
    found = entries(home, db_url)
    assert set(found) == {"First.", f"Old a{KEPT}b.", "Old good."}
    assert found[f"Old a{KEPT}b."]["body"] == f"body {KEPT} and {KEPT}"
    assert found[f"Old a{KEPT}b."]["tags"] == [f"o{KEPT}ld"]
    shown = json.loads(ok(home, db_url, "node", "show", node["id"], "--json"))
    assert (shown["title"], shown["why"]) == (f"Node {KEPT}", f"w{KEPT}")
    assert_healthy(home, db_url)


def _chunk(key: bytes, values: list[float]) -> bytes:
    """A metric chunk as formats/metrics.py lays it out, its name bytes as given."""
    steps, times, vals = array("q", range(len(values))), array("d", [1.0] * len(values)), array("d", values)
    crc = zlib.crc32(vals, zlib.crc32(times, zlib.crc32(steps, zlib.crc32(key))))
    return struct.pack("<4sHII", b"UPM1", len(key), len(values), crc) + key + bytes(steps) + bytes(times) + bytes(vals)


def test_a_run_folder_an_older_upstack_wrote_with_a_nul_is_taken_in(home: Path, db_url: str | None) -> None:
    ok(home, db_url, "note", "First.")
    run_id = new_id()
    folder = home / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text(
        _record("run.start", {"run_id": run_id, "name": "old r\x00un", "config": {"k\x00": "v\x00"},
                              "tags": [], "goals": {}, "started_at": now_iso(), "host": "elsewhere"}) + "\n"
        + _record("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()}) + "\n")
    (folder / "metrics.bin").write_bytes(_chunk(b"lo\x00ss", [3.0, 2.0]))
    (run,) = json.loads(ok(home, db_url, "runs", "--json"))
    assert (run["name"], run["status"], run["config"]) == (f"old r{KEPT}un", "finished", {f"k{KEPT}": f"v{KEPT}"})
    shown = json.loads(ok(home, db_url, "run", "show", run_id, "--json"))
    assert [(m["key"], m["count"]) for m in shown["metrics"]] == [(f"lo{KEPT}ss", 2)]
    assert_healthy(home, db_url)


def _run_folder(home: Path, run_id: str, records: list[str], chunks: bytes = b"") -> None:
    folder = home / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text("".join(line + "\n" for line in records))
    (folder / "metrics.bin").write_bytes(chunks)


def test_a_run_record_that_cannot_be_applied_stops_no_other(home: Path, db_url: str | None) -> None:
    """One bad record in a run folder (a start record without its name, a record of a kind this upstack
    does not know) made every command fail with a traceback, on both engines: run folders were taken in
    with nothing set aside. Now the record is set aside (rejected.jsonl, as for the journal) or, for a
    start record, its folder is left as it is; everything else goes in, and `doctor` names both."""
    ok(home, db_url, "note", "First.")
    broken, kept = new_id(), new_id()
    _run_folder(home, broken, [_record("run.start", {"run_id": broken, "started_at": now_iso()})])
    bogus = _record("run.bogus", {"run_id": kept})
    _run_folder(home, kept, [
        _record("run.start", {"run_id": kept, "name": "kept", "started_at": now_iso(), "host": "elsewhere"}), bogus,
        _record("run.end", {"run_id": kept, "status": "finished", "ended_at": now_iso()})], _chunk(b"loss", [2.0, 1.0]))
    listed = upstack(home, db_url, "runs", "--json")
    err = listed.stderr.decode()
    assert listed.returncode == 0 and "Traceback" not in err, err
    assert f"{broken}: its start record cannot be applied" in err and "run.bogus" in err
    (run,) = json.loads(listed.stdout)
    assert (run["id"], run["status"]) == (kept, "finished")
    shown = upstack(home, db_url, "run", "show", kept, "--json")
    assert shown.returncode == 0
    assert [(m["key"], m["count"]) for m in json.loads(shown.stdout)["metrics"]] == [("loss", 2)]
    assert json.loads(bogus)["id"] in (home / "journal" / "rejected.jsonl").read_text()
    assert "First." in json.loads(upstack(home, db_url, "log", "--json").stdout)[-1]["title"]
    doctor = upstack(home, db_url, "doctor")
    said = doctor.stderr.decode() + doctor.stdout.decode()
    assert doctor.returncode == 1 and "Traceback" not in said and broken in said and "rejected.jsonl" in said, said


# -- imports ----------------------------------------------------------------------------------------

def test_imports_keep_a_nul_as_u_fffd_on_both_engines(home: Path, db_url: str | None, tmp_path: Path) -> None:
    """jrnl and Markdown entries with a NUL were set aside on PostgreSQL (the import said it had imported
    them) and kept with the NUL on SQLite; a JSON export holding one (from a SQLite store an older upstack
    let it into) could not be imported into PostgreSQL at all."""
    jrnl = tmp_path / "journal.json"
    jrnl.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "Jrnl a\x00b.", "body": "jb\x00", "date": "2025-01-02", "time": "10:00", "tags": ["#j\x00"],
         "starred": False},
        {"title": "Jrnl fine.", "body": "", "date": "2025-01-03", "time": "10:00", "tags": [], "starred": False}]}))
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Vault note.md").write_bytes(b"---\ntitle: Vault a\x00b\n---\n\nvb\x00\n")
    export = tmp_path / "export.json"
    source = tmp_path / "source" / "home"
    ok(source, None, "note", "Exported PROBE. body PROBE")
    ok(source, None, "export", "--out", str(export))
    dump = json.loads(export.read_text())
    for table, rows in dump["tables"].items():  # as an older upstack's export, before checksums, held them
        for row in rows:
            for column, value in row.items():
                if isinstance(value, str) and "PROBE" in value:
                    row[column] = value.replace("PROBE", "a\x00b")
            if table in ("revisions", "metric_chunks"):
                row.pop("checksum", None)
    export.write_text(json.dumps(dump))

    ok(home, db_url, "import", "jrnl", str(jrnl))
    ok(home, db_url, "import", "markdown", str(vault))
    ok(home, db_url, "import", str(export))
    found = entries(home, db_url)
    assert set(found) == {f"Jrnl a{KEPT}b.", "Jrnl fine.", f"Vault a{KEPT}b", f"Exported a{KEPT}b."}
    assert found[f"Jrnl a{KEPT}b."]["body"] == f"jb{KEPT}" and found[f"Jrnl a{KEPT}b."]["tags"] == [f"j{KEPT}"]
    assert found[f"Vault a{KEPT}b"]["body"] == f"vb{KEPT}"
    assert found[f"Exported a{KEPT}b."]["body"] == f"body a{KEPT}b"
    assert_healthy(home, db_url)


# -- the jrnl importer (issue 18) and every body: the first line keeps its indentation -------------------

CODE = "    def f():\n        return 1"


def test_a_body_keeps_the_indentation_of_its_first_line(home: Path, db_url: str | None, tmp_path: Path) -> None:
    """The jrnl importer stripped the first line of a body (and so did a note, an edit and a Markdown
    import): an indented code block lost its first line's indentation."""
    jrnl = tmp_path / "journal.json"
    jrnl.write_text(json.dumps({"tags": {}, "entries": [
        {"title": "Jrnl code.", "body": f"\n{CODE}\n\n", "date": "2025-01-02", "time": "10:00", "tags": [],
         "starred": False},
        {"title": "", "body": f"Jrnl untitled\n{CODE}", "date": "2025-01-03", "time": "10:00", "tags": [],
         "starred": False}]}))
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Vault code.md").write_text(f"---\ntitle: Vault code\n---\n\n{CODE}\n")
    ok(home, db_url, "import", "jrnl", str(jrnl))
    ok(home, db_url, "import", "markdown", str(vault))
    short = ok(home, db_url, "note", "-", stdin=f"Note code\n\n{CODE}\n".encode()).strip()
    ok(home, db_url, "note", "-", stdin=f"Same line. rest\n{CODE}".encode())
    found = entries(home, db_url)
    for title in ("Jrnl code.", "Jrnl untitled", "Vault code", "Note code"):
        assert found[title]["body"] == CODE, title
    assert found["Same line."]["body"] == f"rest\n{CODE}"
    ok(home, db_url, "edit", short, "--text", "-", stdin=f"Note code edited\n{CODE}".encode())
    assert entries(home, db_url)["Note code edited"]["body"] == CODE
    assert "imported 0 entries" in ok(home, db_url, "import", "jrnl", str(jrnl))  # not imported twice


# -- a team server -------------------------------------------------------------------------------------

def _token(team: Team, user: accounts.User) -> str:
    return accounts.create_token(team.ws, user.id, "laptop")[1]


def test_a_laptop_note_with_a_nul_reaches_the_team(team: Team, tmp_path: Path) -> None:
    """The laptop kept the NUL and the server refused its push of the note (at df9dac9 it took it, and
    then answered 500 to everyone until its journal file was removed by hand)."""
    laptop = tmp_path / "ada-laptop" / "home"
    ok(laptop, None, "login", team.server.url, "--token", _token(team, team.ada))
    ok(laptop, None, "sync")  # brings the project to file under
    ok(laptop, None, "note", "-", "--under", team.project, stdin=b"Laptop a\x00b. from ada")
    report = json.loads(ok(laptop, None, "sync", "--json"))
    assert report["refused"] == [] and report["pushed"] >= 1, report
    bob = team.api(team.bob)
    titles = [e["title"] for e in bob.get("/log.json").json()["entries"]]
    assert f"Laptop a{KEPT}b." in titles


def test_a_server_note_with_a_nul_reaches_a_collaborators_laptop(team: Team, tmp_path: Path) -> None:
    """A note written on the server (its web form, its command line) with a NUL was set aside on a
    PostgreSQL server and kept with the NUL on a SQLite one, whose collaborators' pulls then refused it."""
    with access.acting_as(team.as_user(team.ada)):
        capture.note(team.ws, "Server a\x00b. from the web", under=team.project)
    laptop = Workspace(home=tmp_path / "bob-laptop")
    try:
        sync_service.login(laptop, team.server.url, _token(team, team.bob))
        report = sync_service.sync(laptop)
        assert report.refused == [], report.refused
        assert f"Server a{KEPT}b." in entries(laptop.home, None)
    finally:
        laptop.close()


def test_a_pushed_record_still_holding_a_nul_is_refused_and_the_rest_lands(team: Team) -> None:
    """The sync door applies the same rule: a record another program sends with a NUL was not made by
    upstack as it is now; it is refused with the reason, the rest of the push lands, and the server
    goes on answering everyone, on both engines."""
    ada = team.api(team.ada)
    bad = rec("entry.create", entry_create(title="Pushed a\x00b.", node_id=team.project))
    good = rec("entry.create", entry_create(title="Pushed fine.", node_id=team.project))
    answer = ada.post("/api/sync/push", json={"records": [bad, good]})
    assert answer.status_code == 200
    (refused,) = answer.json()["refused"]
    assert refused["id"] == bad["id"] and "NUL" in refused["reason"]
    bob = team.api(team.bob)
    assert [e["title"] for e in bob.get("/log.json").json()["entries"]] == ["Pushed fine."]


@pytest.mark.parametrize("path", ["/log.json?tag=a%00", "/log.json?project=a%00", "/search.json?q=x&tag=a%00",
                                  "/a/a%00"])
def test_asking_with_a_nul_is_answered(team: Team, path: str) -> None:
    """A filter or a file link holding a NUL reached PostgreSQL, which answered with an error: a 500."""
    with access.acting_as(team.as_user(team.ada)):
        capture.note(team.ws, "Tagged. #a", under=team.project)
    answer = team.api(team.bob).get(path)
    assert answer.status_code < 500, answer.text
    assert httpx.codes.is_success(team.api(team.bob).get("/log.json").status_code)


def test_a_comment_and_a_sign_in_with_a_nul_are_answered(team: Team) -> None:
    """Comments and sign-ins write no journal record, so they clean their text themselves: a NUL in
    either was a 500 on PostgreSQL."""
    with access.acting_as(team.as_user(team.ada)):
        entry = capture.note(team.ws, "Commented.", under=team.project)
    assert team.api(team.ada).post(f"/e/{entry.id}/comments", data={"body": "c\x00d"}).status_code < 400
    assert [c["body"] for c in accounts.comments_for(team.ws, entry.id)] == [f"c{KEPT}d"]
    stranger = httpx.Client(base_url=team.server.url, timeout=30)
    team.server.clients.append(stranger)
    page = stranger.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    answer = stranger.post("/login", data={"login": "a\x00", "password": "p", "csrf": csrf.group(1) if csrf else ""})
    assert answer.status_code in (401, 403), answer.text
