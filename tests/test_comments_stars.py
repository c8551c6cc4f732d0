"""Comments and stars at the terminal, on both engines: `upstack comment`, `show` (and `--json`),
`star` / `unstar` and `--starred`, what a deleted or purged entry does to its comments, the JSON
export, and stars from before they were each person's. Team servers and sync: tests/test_sync_collab.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import CLI, assert_refused_unchanged, round_trip
from upstack.ids import id_key, new_id
from upstack.services.jsondump import dump_tables
from upstack.store import schema
from upstack.store.db import connect
from upstack.store.ingest import index_entry
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def note(run: CLI, *args: str) -> str:
    return run.ok("note", *args).strip()


def test_a_comment_shows_under_its_entry_in_show_and_its_json(run: CLI) -> None:
    entry = note(run, "Patching layer 5 kills the effect.")
    said = run.ok("comment", entry, "Does this hold for GPT-2 medium?")
    assert said.startswith(as_json(run, "show", entry)["comments"][0]["short"])
    run.ok("comment", entry, "-", input="Try head 5.1 too.\nAnd 5.5.\n")
    shown = run.ok("show", entry)
    assert shown.index("Comments") < shown.index("Does this hold for GPT-2 medium?") < shown.index("    And 5.5.")
    assert "  you  " in shown  # written here: the workspace's own user
    comments = as_json(run, "show", entry)["comments"]
    assert [c["body"] for c in comments] == ["Does this hold for GPT-2 medium?", "Try head 5.1 too.\nAnd 5.5."]
    assert all(c["login"] is None and c["created_at"] for c in comments)
    assert as_json(run, "comment", entry, "A third.")["entry_id"] == as_json(run, "show", entry)["id"]


def test_a_comment_that_cannot_be_made_is_one_line_and_changes_nothing(run: CLI) -> None:
    entry = note(run, "A result worth a question.")
    run.ok("log")  # taken in: what the refusals must leave as it is
    assert_refused_unchanged(run, ["comment", entry, "   "], "the comment is empty")
    assert_refused_unchanged(run, ["comment", "zzzzzzz", "Hello?"], "no entry with id")
    assert_refused_unchanged(run, ["comment", entry, "x" * 20_001], "longer than 20,000 characters")
    run.ok("rm", entry)
    assert_refused_unchanged(run, ["comment", entry, "Too late."], "is deleted")


def test_comments_follow_their_entry_deleted_restored_and_purged(run: CLI, home: Path, db_url: str | None) -> None:
    entry = note(run, "A note with a secret in it.")
    run.ok("comment", entry, "QUSECRETWORD in a comment.")
    run.ok("rm", entry)
    assert "QUSECRETWORD" not in run.ok("show", entry)
    assert as_json(run, "show", entry)["comments"] == []
    run.ok("restore", entry)
    assert "QUSECRETWORD" in run.ok("show", entry)
    run.ok("purge", entry, "--yes")
    with Workspace(home=home, db=db_url) as ws:
        assert "QUSECRETWORD" not in json.dumps(dump_tables(ws.store().db))  # gone for good, with the entry


def test_star_unstar_and_the_starred_filter(run: CLI) -> None:
    first = note(run, "Layer 9 heads copy names. #ioi")
    second = note(run, "Layer 10 heads suppress them. #ioi")
    note(run, "Unrelated: the GPU queue is long.")
    run.ok("log")
    assert as_json(run, "log", "--starred") == []
    assert "starred" in run.ok("star", first, second)
    assert "already starred" in run.ok("star", first)
    assert [e["id"] for e in as_json(run, "log", "--starred")] == [as_json(run, "show", s)["id"]
                                                                     for s in (second, first)]
    assert all(e["starred"] for e in as_json(run, "log", "--starred"))
    assert "★" in run.ok("log") and "★ starred" in run.ok("show", first)
    assert as_json(run, "search", "heads", "--starred")["total"] == 2
    run.ok("unstar", second)
    assert "was not starred" in run.ok("unstar", second)
    assert [e["title"] for e in as_json(run, "log", "--starred")] == ["Layer 9 heads copy names."]
    assert [h["title"] for h in as_json(run, "search", "heads", "--starred")["results"]] == [
        "Layer 9 heads copy names."]
    assert_refused_unchanged(run, ["star", first, "zzzzzzz"], "no entry with id")  # nothing starred by half


def test_comments_and_stars_survive_a_json_export_and_import(run: CLI, tmp_path: Path, engine: str,
                                                              make_pg_url: Any) -> None:
    entry = note(run, "A figure to discuss.")
    run.ok("comment", entry, "Label the axes.")
    run.ok("star", entry)
    copy = round_trip(run, tmp_path, engine, make_pg_url)
    assert [c["body"] for c in as_json(copy, "show", entry)["comments"]] == ["Label the axes."]
    assert [e["title"] for e in as_json(copy, "log", "--starred")] == ["A figure to discuss."]


def test_an_export_from_before_stars_were_each_persons_imports_its_stars(run: CLI, tmp_path: Path) -> None:
    entry = note(run, "Starred in an older upstack.")
    export = tmp_path / "export.json"
    run.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    # As schema 11 wrote it: the star a column of the entry, no stars table, comments without a login.
    dump["schema"] = 11
    dump["tables"].pop("stars")
    dump["tables"].pop("sync_held")
    dump["tables"]["entries"][0]["starred"] = 1
    export.write_text(json.dumps(dump))
    target = CLI(tmp_path / "target", None)
    target.ok("import", str(export))
    assert [e["id"] for e in as_json(target, "log", "--starred")] == [as_json(run, "show", entry)["id"]]


def test_a_workspace_with_starred_entries_keeps_its_stars_when_migrated(run: CLI, home: Path,
                                                                         db_url: str | None) -> None:
    db = connect(db_url, home / "upstack.db")
    try:
        schema.apply(db, target=12)  # the schema before stars were per person (migration 13)
        ids = {}
        with db.transaction():
            for starred in (1, 0):
                entry_id, revision_id, at = new_id(), new_id(), now_iso()
                ids[starred] = entry_id
                db.execute("INSERT INTO entries (id, key, kind, title, title_key, body, private, starred, "
                           "occurred_at, created_at, updated_at, revision_id, extra_tags, meta) "
                           "VALUES (?, ?, 'note', ?, ?, '', 0, ?, ?, ?, ?, ?, '[]', '{}')",
                           (entry_id, id_key(entry_id), f"Starred {starred}.", f"starred {starred}.", starred, at,
                            at, at, revision_id))
                db.execute("INSERT INTO revisions (id, entry_id, parent_id, number, kind, title, body, tags, "
                           "workspace_id, created_at) VALUES (?, ?, NULL, 1, 'note', ?, '', '[]', 'w', ?)",
                           (revision_id, entry_id, f"Starred {starred}.", at))
                index_entry(db, entry_id)
    finally:
        db.close()
    assert [e["id"] for e in as_json(run, "log", "--starred")] == [ids[1]]
    assert run.ok("unstar", ids[1]) and as_json(run, "log", "--starred") == []
