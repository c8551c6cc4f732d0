"""Capture and recall through the CLI: note, attach, links, log, show, edit, history,
rm/restore, tags, short ids, bad input, private entries.

Every test that touches the store runs on SQLite and on PostgreSQL (the `engine`
parametrisation of `run` and `workspace`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from conftest import CLI, blob_files
from upstack.cli.editing import SCISSORS
from upstack.domain.text import KINDS, MADE_APART
from upstack.ids import id_key, new_id, short_id
from upstack.services.jsondump import dump_tables
from upstack.store import SCHEMA_MARK, schema
from upstack.store.db import connect
from upstack.timeutil import local_display, now_iso, parse_iso, to_iso
from upstack.workspace import Workspace

FIRST = "Patching layer 5 kills the effect. Next: try head 5.1 #patching #ioi"

# Small files of each kind a researcher attaches: the bytes are what matters.
FILES = {
    "heatmap.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "circuit.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>\n',
    "paper.pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n",
    "logits.csv": b"layer,head,logit_diff\n5,1,-0.42\n9,9,3.1\n",
    "sweep.ipynb": json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5}).encode(),
    "fix.patch": b"--- a/run.py\n+++ b/run.py\n@@ -1 +1 @@\n-lr = 1e-3\n+lr = 3e-4\n",
}


# -- helpers -------------------------------------------------------------------------

def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def note(run: CLI, *args: str, input: str | None = None) -> str:
    """`upstack note ARGS` and the short id it prints."""
    return run.ok("note", *args, input=input).strip()


def assert_one_line_error(result: Result, *words: str) -> str:
    """Exit 1 with one line on stderr naming ``words``; no traceback anywhere."""
    assert result.exit_code == 1, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("upstack: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.output
    return lines[0]


def snapshot(home: Path, db_url: str | None) -> dict[str, Any]:
    """Everything the workspace holds: every data table, every blob, pending journal files."""
    db = connect(db_url, home / "upstack.db")
    try:
        tables = dump_tables(db)
    finally:
        db.close()
    journal = home / "journal"
    pending = sorted(p.name for p in journal.glob("*.jsonl")) if journal.exists() else []
    return {"tables": tables, "blobs": blob_files(home), "journal": pending}


def id_with_key(prefix: str) -> str:
    """A fresh, valid id whose key (what short ids are prefixes of) starts with ``prefix``."""
    base = new_id()
    tail = prefix.upper()[::-1]
    crafted = base[: 26 - len(tail)] + tail
    assert id_key(crafted).startswith(prefix)
    return crafted


def journal_note(ws: Workspace, entry_id: str, title: str) -> None:
    """Write an entry with a chosen id through the capture journal, as `note` would."""
    at = now_iso()
    ws.journal.append([ws.record("entry.create", {
        "id": entry_id, "revision_id": new_id(), "kind": "note", "title": title, "body": "",
        "extra_tags": [], "private": False, "project": None, "occurred_at": at,
        "created_at": at, "attachments": []})])


def terminal_env(home: Path, db_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"UPSTACK_DB", "UPSTACK_EDITOR", "EDITOR", "VISUAL", "PYTHONWARNINGS"}}
    env.update({"UPSTACK_HOME": str(home), "NO_COLOR": "1",
                "XDG_CONFIG_HOME": str(home.parent / "no-config"), **extra})
    if db_url:
        env["UPSTACK_DB"] = db_url
    return env


def run_in_terminal(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`upstack ARGS` as a real process whose standard input is a pseudo-terminal."""
    controller, terminal = os.openpty()
    try:
        return subprocess.run([sys.executable, "-m", "upstack", *args], stdin=terminal,
                              capture_output=True, text=True, env=env, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)


# A real editor program: types $EDITOR_TEXT above the scissors line and saves; keeps a
# copy of what it was shown in $EDITOR_SAW.
EDITOR_SCRIPT = f"""
import os, sys
path = sys.argv[1]
shown = open(path, encoding="utf-8").read()
open(os.environ["EDITOR_SAW"], "w", encoding="utf-8").write(shown)
_, scissors, below = shown.partition({SCISSORS!r})
open(path, "w", encoding="utf-8").write(os.environ["EDITOR_TEXT"] + "\\n" + scissors + below)
"""


# -- capture -------------------------------------------------------------------------

def test_note_takes_title_tags_and_prints_a_short_id(run: CLI) -> None:
    short = note(run, FIRST)
    assert len(short) == 7 and short.isalnum()
    entry = as_json(run, "show", short)
    assert entry["short"] == short and short_id(entry["id"]) == short
    assert entry["title"] == "Patching layer 5 kills the effect."
    assert entry["body"] == "Next: try head 5.1 #patching #ioi"
    assert sorted(entry["tags"]) == ["ioi", "patching"]
    assert entry["kind"] == "note" and entry["private"] is False and entry["project"] is None


def test_note_json_prints_the_created_entry(run: CLI) -> None:
    created = as_json(run, "note", FIRST)
    shown = as_json(run, "show", created["id"])
    for field in ("id", "short", "title", "body", "kind", "occurred_at", "created_at"):
        assert created[field] == shown[field], field
    assert sorted(created["tags"]) == sorted(shown["tags"]) == ["ioi", "patching"]


def test_note_reads_standard_input(run: CLI) -> None:
    short = note(run, "-", input="Read from stdin. Résumé of café results.\n#stdin\n")
    entry = as_json(run, "show", short)
    assert entry["title"] == "Read from stdin."
    assert entry["body"] == "Résumé of café results.\n#stdin"
    assert entry["tags"] == ["stdin"]


def test_kind_project_private_and_extra_tags(run: CLI) -> None:
    short = note(run, "--kind", "result", "--project", "IOI", "--create", "--private", "--tag", "heads",
                 "Head 9.9 copies the name. #ioi")
    entry = as_json(run, "show", short)
    assert (entry["kind"], entry["project"], entry["private"]) == ("result", "IOI", True)
    assert sorted(entry["tags"]) == ["heads", "ioi"]
    for kind in KINDS:
        if kind in MADE_APART:  # made by their own commands (tests/test_predict.py, tests/test_takes.py)
            continue
        assert as_json(run, "note", "-k", kind, f"A {kind} entry.")["kind"] == kind


def test_attachments_are_stored_once_by_content(run: CLI, home: Path, tmp_path: Path) -> None:
    paths = []
    for name, data in FILES.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    args = [arg for path in paths for arg in ("--attach", str(path))]
    first = note(run, *args, "Every kind of file. #files")
    # The same bytes under another name, attached to another entry: one blob file.
    copy = tmp_path / "heatmap-copy.png"
    copy.write_bytes(FILES["heatmap.png"])
    second = note(run, "-a", str(copy), "Same heatmap again.")

    attached = as_json(run, "show", first)["attachments"]
    assert [a["filename"] for a in attached] == list(FILES)
    assert [a["size"] for a in attached] == [len(d) for d in FILES.values()]
    assert attached[0]["media_type"] == "image/png"
    assert as_json(run, "show", second)["attachments"][0]["sha256"] == attached[0]["sha256"]
    blobs = blob_files(home)
    assert sorted(blobs.values()) == sorted(FILES.values())  # six files, not seven
    for item in attached:
        assert blobs[f"{item['sha256'][:2]}/{item['sha256'][2:]}"] == FILES[item["filename"]]
    shown = run.ok("show", first)
    assert all(name in shown for name in FILES)


def test_a_back_date_in_the_minute_it_was_recorded_is_not_said_twice(run: CLI) -> None:
    """`show` read "written 15:25 (recorded 15:25)" for a note from a vault file saved a moment before."""
    for _ in range(3):  # the minute may turn while the note is written: then once more
        moment = datetime.now().replace(second=0, microsecond=0)
        short = note(run, "--at", moment.isoformat(), "Written on paper a moment ago.")
        entry = as_json(run, "show", short)
        if local_display(entry["created_at"]) == local_display(entry["occurred_at"]):
            break
    assert entry["occurred_at"] != entry["created_at"]  # both kept, to the microsecond
    assert "recorded" not in run.ok("show", short)


def test_back_dated_note_keeps_both_times_and_creation_never_changes(run: CLI) -> None:
    before = now_iso()
    short = note(run, "--at", "yesterday 14:00", "Ran the width sweep. #sae")
    after = now_iso()
    entry = as_json(run, "show", short)
    yesterday_2pm = datetime.combine(date.today() - timedelta(days=1), time(14, 0))
    assert entry["occurred_at"] == to_iso(yesterday_2pm)
    assert before <= entry["created_at"] <= after
    assert "recorded" in run.ok("show", short)

    run.ok("edit", short, "--text", "Ran the width sweep twice. #sae")
    edited = as_json(run, "show", short)
    assert edited["title"] == "Ran the width sweep twice."
    assert (edited["created_at"], edited["occurred_at"]) == (entry["created_at"],
                                                             entry["occurred_at"])
    assert edited["updated_at"] > entry["created_at"]


def test_note_without_text_or_terminal_is_refused(run: CLI, home: Path) -> None:
    assert_one_line_error(run("note"), "no terminal")
    assert as_json(run, "log") == []


def test_note_in_editor(engine: str, db_url: str | None, home: Path, tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    saw = tmp_path / "saw.md"
    env = terminal_env(home, db_url, EDITOR=f"{sys.executable} {script}", EDITOR_SAW=str(saw),
                       EDITOR_TEXT="Written in my editor. With a body.\n#editor")
    done = run_in_terminal(["note"], env)
    assert done.returncode == 0, done.stderr
    short = done.stdout.strip()
    assert SCISSORS in saw.read_text()
    entry = as_json(CLI(home, db_url), "show", short)
    assert (entry["title"], entry["body"]) == ("Written in my editor.", "With a body.\n#editor")
    assert entry["tags"] == ["editor"]  # the help text below the scissors is not kept

    # Then edit it in the same editor: it is shown the current text.
    env["EDITOR_TEXT"] = "Rewritten in my editor.\n\nNew body."
    done = run_in_terminal(["edit", short], env)
    assert done.returncode == 0, done.stderr
    assert saw.read_text().startswith("Written in my editor.\n\nWith a body.\n#editor\n")
    entry = as_json(CLI(home, db_url), "show", short)
    assert (entry["title"], entry["body"]) == ("Rewritten in my editor.", "New body.")


def test_editor_closed_without_saving_saves_nothing(engine: str, db_url: str | None,
                                                    home: Path) -> None:
    done = run_in_terminal(["note"], terminal_env(home, db_url, EDITOR="true"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["upstack: error: empty note: nothing was saved"]
    assert as_json(CLI(home, db_url), "log") == []


# -- attach, links, backlinks -----------------------------------------------------------

def test_attach_to_an_existing_entry(run: CLI, tmp_path: Path) -> None:
    short = note(run, "Loss curve later.")
    for name in ("loss.csv", "fix.patch"):
        (tmp_path / name).write_bytes(FILES["logits.csv"] if name == "loss.csv" else
                                      FILES["fix.patch"])
    printed = run.ok("attach", short, str(tmp_path / "loss.csv"), str(tmp_path / "fix.patch"))
    entry = as_json(run, "show", short)
    assert [a["filename"] for a in entry["attachments"]] == ["loss.csv", "fix.patch"]
    for attachment in entry["attachments"]:
        assert f"{attachment['short']}  {attachment['filename']}" in printed
    shown = run.ok("show", short)
    assert "loss.csv" in shown and "fix.patch" in shown


def test_links_by_title_and_id_give_backlinks(run: CLI) -> None:
    target = note(run, "Head 5.1 is a name mover. It attends to the indirect object.")
    by_title = note(run, "Follow-up on heads. See [[Head 5.1 is a name mover.]] #ioi")
    by_id = note(run, f"Second follow-up. Compare [[{target}]] and [[Nowhere yet]].")

    links = as_json(run, "show", by_id)["links"]
    assert {(link["target"], link["short"]) for link in links} == {
        (target, target), ("Nowhere yet", None)}
    assert as_json(run, "show", by_title)["links"][0]["short"] == target
    backlinks = as_json(run, "show", target)["backlinks"]
    assert {link["short"] for link in backlinks} == {by_title, by_id}
    shown = run.ok("show", target)
    assert "Linked from" in shown and "Follow-up on heads." in shown and "Second follow-up." in shown
    assert "(no such entry yet)" in run.ok("show", by_id)


def test_link_to_a_title_written_later_resolves_then(run: CLI) -> None:
    early = note(run, "Plan for next week. Start with [[Layer sweep plan]].")
    assert as_json(run, "show", early)["links"][0]["id"] is None
    later = note(run, "Layer sweep plan\n\nSweep all 12 layers, 3 seeds.")
    assert as_json(run, "show", early)["links"][0]["short"] == later
    assert [b["short"] for b in as_json(run, "show", later)["backlinks"]] == [early]


def test_link_in_a_one_sentence_note(run: CLI) -> None:
    """The whole note is its title here; its link counts all the same (as its tags do)."""
    target = note(run, "Layer sweep plan")
    linking = note(run, "Follows [[Layer sweep plan]] #plan")
    assert as_json(run, "show", linking)["links"][0]["short"] == target
    edited = note(run, "Unrelated at first.")
    run.ok("edit", edited, "--text", f"Now it points at [[{target}]]")
    assert as_json(run, "show", edited)["links"][0]["short"] == target
    assert {b["short"] for b in as_json(run, "show", target)["backlinks"]} == {linking, edited}


# -- the timeline ----------------------------------------------------------------------

@pytest.fixture
def timeline(run: CLI) -> dict[str, str]:
    """Five entries on known days (noon UTC), two projects, several kinds and tags."""
    made = {}
    for day, kind, project, text in [
        (1, "note", "IOI", "Day one setup. #ioi #setup"),
        (5, "result", "IOI", "Day five result. #ioi"),
        (10, "question", "SAE", "Day ten question. #sae"),
        (15, "note", None, "Day fifteen musing. #ioi #sae"),
        (20, "learning", "SAE", "Day twenty learning. #sae"),
    ]:
        args = ["--kind", kind, "--at", f"2026-03-{day:02d}T12:00:00+00:00"]
        # The first note of a project makes it on purpose; the next finds it still in the journal.
        args += ["--project", project] + (["--create"] if day in (1, 10) else []) if project else []
        made[text.split(".")[0]] = note(run, *args, text)
    return made


def titles_of(run: CLI, *args: str) -> list[str]:
    return [e["title"] for e in as_json(run, "log", *args)]


def test_log_is_newest_first_and_filters(run: CLI, timeline: dict[str, str]) -> None:
    assert titles_of(run) == ["Day twenty learning.", "Day fifteen musing.", "Day ten question.",
                              "Day five result.", "Day one setup."]
    assert titles_of(run, "--project", "ioi") == ["Day five result.", "Day one setup."]
    assert titles_of(run, "--tag", "sae", "--tag", "ioi") == ["Day fifteen musing."]
    assert titles_of(run, "-k", "question", "-k", "learning") == ["Day twenty learning.",
                                                                  "Day ten question."]
    assert titles_of(run, "--since", "2026-03-04", "--until", "2026-03-12") == [
        "Day ten question.", "Day five result."]
    assert titles_of(run, "--until", "2026-03-05") == ["Day five result.", "Day one setup."]
    assert titles_of(run, "-n", "2") == ["Day twenty learning.", "Day fifteen musing."]
    text = run.ok("log", "-p", "SAE").splitlines()
    assert [line.split()[0] for line in text] == [timeline["Day twenty learning"],
                                                  timeline["Day ten question"]]
    assert "[SAE]" in text[0] and "#sae" in text[0]


def test_tags_are_counted(run: CLI, timeline: dict[str, str]) -> None:
    counted = {row["tag"]: row["entries"] for row in as_json(run, "tags")}
    assert counted == {"ioi": 3, "sae": 3, "setup": 1}
    assert as_json(run, "tags")[-1]["tag"] == "setup"  # most used first
    assert as_json(run, "tags", "-p", "IOI")[0] == {"tag": "ioi", "entries": 2,
                                                     "last_used": "2026-03-05T12:00:00.000000Z"}
    lines = run.ok("tags").splitlines()
    assert lines[-1].split()[:2] == ["#setup", "1"]


# -- show, edit, history, rm, restore -------------------------------------------------------

def test_edit_keeps_every_revision(run: CLI) -> None:
    short = note(run, "Probe accuracy is 91 percent. On layer 6. #probing")
    assert run.ok("edit", short, "--text", "Probe accuracy is 91 percent. On layer 6.").strip() \
        == short
    run.ok("edit", short, "--text", "-", input="Probe accuracy is 93 percent.\n\nAfter the fix.")
    assert run.ok("edit", short, "--text", "Probe accuracy is 93 percent.\n\nAfter the fix.") \
        .strip() == "No changes."
    assert as_json(run, "edit", short, "--kind", "result")["kind"] == "result"

    history = as_json(run, "history", short)
    revisions = history["revisions"]
    assert history["entry"] == as_json(run, "show", short)["id"]
    assert [r["number"] for r in revisions] == [1, 2, 3, 4]
    assert [r["title"] for r in revisions] == ["Probe accuracy is 91 percent."] * 2 + [
        "Probe accuracy is 93 percent."] * 2
    assert revisions[0]["tags"] == ["probing"] and revisions[1]["tags"] == []
    assert [r["kind"] for r in revisions] == ["note", "note", "note", "result"]
    assert revisions[0]["parent_id"] is None
    assert [r["parent_id"] for r in revisions[1:]] == [r["id"] for r in revisions[:-1]]
    assert len({r["workspace_id"] for r in revisions}) == 1

    entry = as_json(run, "show", short)
    assert (entry["title"], entry["body"], entry["tags"]) == (
        "Probe accuracy is 93 percent.", "After the fix.", [])
    text = run.ok("history", short)
    assert "revision 1" in text and "revision 4" in text
    assert "91 percent" in text and "93 percent" in text


def test_rm_hides_and_restore_brings_back(run: CLI) -> None:
    kept = note(run, "A kept entry. #x")
    gone = note(run, "A deleted entry. #x")
    assert "restore" in run.ok("rm", gone)
    assert titles_of(run) == ["A kept entry."]
    assert titles_of(run, "--deleted") == ["A deleted entry.", "A kept entry."]
    assert "deleted" in run.ok("log", "--deleted").splitlines()[0]
    assert as_json(run, "show", gone)["deleted_at"] is not None
    assert "restore" in run.ok("show", gone)
    assert {row["tag"]: row["entries"] for row in as_json(run, "tags")} == {"x": 1}
    assert_one_line_error(run("rm", gone), "already deleted")

    run.ok("restore", gone)
    assert titles_of(run) == ["A deleted entry.", "A kept entry."]
    assert as_json(run, "show", gone)["deleted_at"] is None
    assert_one_line_error(run("restore", kept), "not deleted")


# -- short ids -------------------------------------------------------------------------

def test_short_ids_and_prefixes(run: CLI, workspace: Workspace) -> None:
    first, second = id_with_key("abcde"), id_with_key("abcdf")
    journal_note(workspace, first, "First crafted entry")
    journal_note(workspace, second, "Second crafted entry")

    assert as_json(run, "show", "abcde")["id"] == first
    assert as_json(run, "show", "ABCDF")["id"] == second
    assert as_json(run, "show", short_id(first))["id"] == first
    assert as_json(run, "show", first)["id"] == first
    assert as_json(run, "show", first.lower())["id"] == first

    line = assert_one_line_error(run("show", "abcd"), "ambiguous")
    assert short_id(first) in line and short_id(second) in line
    assert_one_line_error(run("edit", "abcd", "--text", "x"), "ambiguous")
    assert_one_line_error(run("show", "abc"), "too short")
    assert_one_line_error(run("show", "ab-cd"), "malformed")
    assert_one_line_error(run("show", "zzzzzz"), "no entry", "zzzzzz")
    assert_one_line_error(run("rm", "zzzzzz"), "no entry")
    assert_one_line_error(run("attach", "zzzzzz", __file__), "no entry")


# -- bad input -----------------------------------------------------------------------------

def test_bad_input_is_one_line_and_writes_nothing(run: CLI, home: Path, db_url: str | None,
                                                  tmp_path: Path) -> None:
    existing = tmp_path / "ok.csv"
    existing.write_bytes(FILES["logits.csv"])
    kept = note(run, "-a", str(existing), "Already here. #kept")
    run.ok("log")  # ingest the journal, so that what follows would show as a change
    before = snapshot(home, db_url)

    assert_one_line_error(run("note", "--at", "blah", "Dated nonsense."), "cannot understand",
                          "blah")
    assert_one_line_error(run("log", "--since", "blah"), "--since")
    missing = tmp_path / "missing.png"
    assert_one_line_error(run("note", "-a", str(existing), "-a", str(missing), "With files."),
                          "no such file", "missing.png")
    assert_one_line_error(run("attach", kept, str(missing)), "no such file")
    assert_one_line_error(run("note", "-a", str(tmp_path), "A folder."), "not a regular file")
    assert_one_line_error(run("note", "-", input=b"Caf\xe9 latin-1 text.\n"), "not UTF-8")
    assert_one_line_error(run("edit", kept, "--text", "-", input=b"\xff\xfe"), "not UTF-8")
    assert_one_line_error(run("note", "   "), "empty")
    assert_one_line_error(run("note", "-", input=""), "empty")
    assert_one_line_error(run("edit", kept, "--text", " "), "empty")

    for args in (["note", "--kind", "bogus", "Unknown kind."], ["log", "-k", "bogus"]):
        result = run(*args)
        assert result.exit_code == 2
        assert "Usage:" in result.stderr and "bogus" in result.stderr
        assert "Traceback" not in result.output

    assert snapshot(home, db_url) == before
    assert titles_of(run) == ["Already here."]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode; the "
                    "unreadable case is covered by attaching a folder instead")
def test_unreadable_file_is_refused(run: CLI, tmp_path: Path) -> None:
    secret = tmp_path / "locked.csv"
    secret.write_bytes(b"a,b\n")
    secret.chmod(0)
    assert_one_line_error(run("note", "-a", str(secret), "Locked."), "cannot attach", "locked.csv")
    assert as_json(run, "log") == []


def make_newer(home: Path, db_url: str | None) -> None:
    """Mark the workspace as written by a future upstack (schema 999), as it would leave it."""
    db = connect(db_url, home / "upstack.db")
    try:
        db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                   (999, "from the future", now_iso()))
        if db.dialect == "sqlite":
            db.execute("PRAGMA user_version = 999")
    finally:
        db.close()
    (home / SCHEMA_MARK).write_text("999\n")  # as the newer upstack leaves it for capture


def test_workspace_from_a_newer_version_is_refused(run: CLI, home: Path,
                                                   db_url: str | None) -> None:
    short = note(run, "Written today. #x")
    run.ok("log")  # ingest, so the entry is in the store
    make_newer(home, db_url)
    before = snapshot(home, db_url)
    for args in (["log"], ["show", short], ["search", "written"], ["tags"], ["edit", short,
                 "--text", "Changed."], ["rm", short], ["doctor"], ["export"]):
        assert_one_line_error(run(*args), "newer upstack", "999")
    assert snapshot(home, db_url) == before


def test_note_on_a_workspace_from_a_newer_version_is_refused(run: CLI, home: Path,
                                                             db_url: str | None) -> None:
    run.ok("note", "Written today.")
    run.ok("log")
    make_newer(home, db_url)
    before = snapshot(home, db_url)
    assert_one_line_error(run("note", "Written by an old upstack."), "newer upstack")
    assert snapshot(home, db_url) == before


# -- private entries ---------------------------------------------------------------------------

def test_private_entries_are_the_owners_only(run: CLI, tmp_path: Path) -> None:
    note(run, "Public finding. Head 9.9 copies names. #ioi")
    private = note(run, "--private", "Check-in: slept badly, skipped lunch. #checkin")

    assert "Check-in: slept badly, skipped lunch." in titles_of(run)
    assert "private" in run.ok("log").splitlines()[0]
    assert as_json(run, "show", private)["private"] is True

    dump = json.loads(run.ok("export"))
    assert [bool(e["private"]) for e in dump["tables"]["entries"]].count(True) == 1
    assert "slept badly" in json.dumps(dump)

    def vault_text(folder: Path) -> str:
        return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.md")))

    shared = tmp_path / "shared"
    run.ok("export", "--format", "markdown", str(shared))
    assert "Head 9.9" in vault_text(shared)
    assert "slept badly" not in vault_text(shared) and "checkin" not in vault_text(shared)
    mine = tmp_path / "mine"
    run.ok("export", "--format", "markdown", "--include-private", str(mine))
    assert "slept badly" in vault_text(mine)


def test_created_at_is_stored_in_utc_iso(run: CLI) -> None:
    entry = as_json(run, "note", "Times are UTC.")
    for field in ("occurred_at", "created_at", "updated_at"):
        assert parse_iso(entry[field])  # fixed-width ISO 8601, Z
        assert entry[field].endswith("Z")


def test_schema_is_current_after_first_note(run: CLI, home: Path, db_url: str | None) -> None:
    note(run, "First ever.")
    run.ok("log")
    db = connect(db_url, home / "upstack.db")
    try:
        assert schema.current_version(db) == schema.LATEST
    finally:
        db.close()
    assert not (home / "backups").exists()  # a brand-new store has nothing to back up
