"""Managing runs after they ran (issue 20): rename, tag, note, move, delete and restore, with history;
the result entry follows and keeps what was written into it by hand; deleted runs are hidden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import upstack
from conftest import CLI, round_trip
from upstack.errors import BadInput, NotFound
from upstack.services import curate, recall, run_manage, tree
from upstack.services import runs as run_service
from upstack.workspace import Workspace


def _run(ws: Workspace, name: str = "sweep", under: str | None = None, tags: list[str] | None = None) -> str:
    with upstack.run(name, under=under, home=ws.home, db=ws.db_url, capture="none", tags=tags or []) as run:
        run.log({"loss": 0.5}, step=0)
        run.log({"loss": 0.25}, step=1)
    ws.ingest()
    return run.id


def test_rename_follows_into_the_result_title_and_keeps_a_hand_edited_body(workspace: Workspace) -> None:
    run_id = _run(workspace, "first-try")
    entry = recall.show(workspace, run_id)
    assert entry.title.startswith("Run first-try finished")
    curate.edit(workspace, run_id, entry.title + "\n\nWhat I make of it, written by hand.")
    renamed = run_manage.rename(workspace, run_id, "width-sweep")
    assert renamed.name == "width-sweep"
    entry = recall.show(workspace, run_id)
    assert entry.title.startswith("Run width-sweep finished") and entry.body == "What I make of it, written by hand."
    assert [r.title.split(" finished")[0] for r in recall.history(workspace, run_id)[1]] == \
        ["Run first-try", "Run first-try", "Run width-sweep"]
    # ending again (a pulled run re-finalised, a crashed one revived) leaves the edited text alone
    from upstack.store import runs as store_runs

    store = workspace.store()
    with store.lock(), store.db.transaction():
        store_runs.finalize(store.db, run_id, "w")
    assert recall.show(workspace, run_id).body == "What I make of it, written by hand."
    assert [(c.change, c.old, c.new) for c in run_manage.history(workspace, run_id)][1:] == \
        [("name", "first-try", "width-sweep")]
    assert run_service.list_runs(workspace, name="width-sweep")[0].id == run_id
    with pytest.raises(BadInput, match="already named"):
        run_manage.rename(workspace, run_id, "width-sweep")
    with pytest.raises(BadInput, match="empty"):
        run_manage.rename(workspace, run_id, "  ")


def test_tags_follow_into_the_result_entry(workspace: Workspace) -> None:
    run_id = _run(workspace, tags=["sae"])
    run = run_manage.retag(workspace, run_id, ["+baseline", "-sae", "#Layer5"])
    assert run.tags == ["baseline", "layer5"]
    assert set(recall.show(workspace, run_id).tags) >= {"baseline", "layer5"}
    assert "sae" not in recall.show(workspace, run_id).tags
    with pytest.raises(BadInput, match="no tag 'nope'"):
        run_manage.retag(workspace, run_id, ["-nope"])
    change = run_manage.history(workspace, run_id)[-1]
    assert change.change == "tags" and change.text == "tags +baseline, +layer5, -sae"
    as_given = _run(workspace, "other", tags=["Width-16k"])  # a tag the script wrote as it liked
    assert run_manage.retag(workspace, as_given, ["-width-16k"]).tags == []


def test_a_note_is_added_and_shows_in_history(workspace: Workspace) -> None:
    run_id = _run(workspace)
    run = run_manage.add_note(workspace, run_id, "Loss plateaus after step 1; try a warmup.")
    assert [i.data["text"] for i in run.items if i.kind == "note"] == ["Loss plateaus after step 1; try a warmup."]
    assert run_manage.history(workspace, run_id)[-1].text == "note: Loss plateaus after step 1; try a warmup."
    with pytest.raises(BadInput, match="empty"):
        run_manage.add_note(workspace, run_id, " ")


def test_move_files_the_run_and_its_result_elsewhere(workspace: Workspace) -> None:
    first = tree.add_node(workspace, "project", "SAE features")
    second = tree.add_node(workspace, "project", "Probing")
    run_id = _run(workspace, under=first.id)
    moved = run_manage.move(workspace, run_id, second.short)
    assert moved.node_id == second.id and recall.show(workspace, run_id).node_id == second.id
    assert [r.id for r in run_service.list_runs(workspace, under=second.id)] == [run_id]
    assert run_service.list_runs(workspace, under=first.id) == []
    assert run_manage.history(workspace, run_id)[-1].text == \
        f"moved from SAE features ({first.short}) to Probing ({second.short})"
    with pytest.raises(NotFound):
        run_manage.move(workspace, run_id, "zzzz9999")
    unfiled = _run(workspace)
    run_manage.move(workspace, unfiled, first.short)
    assert run_manage.history(workspace, unfiled)[-1].text == f"filed under SAE features ({first.short})"


def test_delete_hides_the_run_everywhere_and_restore_brings_it_back(workspace: Workspace) -> None:
    run_id = _run(workspace, "to-delete")
    other = _run(workspace, "kept")
    run_manage.delete(workspace, run_id)
    assert [r.id for r in run_service.list_runs(workspace)] == [other]
    assert [r.id for r in run_service.list_runs(workspace, deleted=True)] == [run_id]
    assert [h.entry.id for h in recall.search(workspace, "delete").hits] == []
    assert [h.entry.id for h in recall.search(workspace, "kept").hits] == [other]
    with pytest.raises(NotFound, match="deleted"):
        run_service.compare(workspace, [run_id, other])
    assert len(run_service.compare(workspace, [run_id, other], deleted=True).runs) == 2
    assert recall.show(workspace, run_id).deleted_at is not None  # its result entry is deleted with it
    with pytest.raises(BadInput, match="restore it first"):
        run_manage.rename(workspace, run_id, "x")
    run_manage.restore(workspace, run_id)
    assert {r.id for r in run_service.list_runs(workspace)} == {run_id, other}
    assert recall.show(workspace, run_id).deleted_at is None
    assert [c.change for c in run_manage.history(workspace, run_id)] == ["started", "deleted", "restored"]
    with pytest.raises(BadInput, match="not deleted"):
        run_manage.restore(workspace, run_id)


def test_a_run_deleted_while_running_has_its_result_deleted_when_it_ends(workspace: Workspace) -> None:
    with upstack.run("long", home=workspace.home, db=workspace.db_url, capture="none") as run:
        run.log({"loss": 1.0}, step=0)
        workspace.ingest()
        run_manage.delete(workspace, run.id)
    workspace.ingest()
    assert run_service.list_runs(workspace) == []
    assert run_service.get_run(workspace, run.id).status == "finished"
    assert recall.show(workspace, run.id).deleted_at is not None
    run_manage.restore(workspace, run.id)
    assert recall.show(workspace, run.id).title.startswith("Run long finished")


def test_the_cli_manages_a_run(run: CLI, home: Path) -> None:
    run.ok("add", "project", "Elsewhere")
    with upstack.run("cli-run", home=home, db=run.db_url, capture="none") as made:
        made.log({"loss": 0.5}, step=0)
    short = made.short
    assert "renamed" in run.ok("run", "rename", short, "better name").lower()
    assert "+good" in run.ok("run", "tag", short, "+good")
    run.ok("run", "note", short, "A note from the command line.")
    typed = run("run", "move", short, "Else where")  # a title where the node's id goes: @ is the way
    assert typed.exit_code == 1 and "or part of its title after an @: @'Else where'" in typed.stderr
    run.ok("run", "move", short, "@Elsewhere")
    history = json.loads(run.ok("run", "history", short, "--json"))
    assert [c["change"] for c in history] == ["started", "name", "tags", "note", "node"]
    run.ok("run", "rm", short)
    assert short not in run.ok("runs")
    assert short in run.ok("runs", "--deleted")
    run.ok("run", "restore", short)
    assert short in run.ok("runs")
    text = run.ok("run", "history", short)
    assert "renamed from 'cli-run' to 'better name'" in text and "restored" in text
    failed = run("run", "rename", "nonexistent", "x")
    assert failed.exit_code != 0 and "Traceback" not in failed.output


def test_run_tag_takes_a_tag_off_without_a_double_dash(run: CLI, home: Path) -> None:
    """`run tag ID -old` as the help shows it: a newcomer's -old is a tag, not an unknown option -o;
    `--` still works, and the command's own options (--json, -h) stay options."""
    with upstack.run("tagged", home=home, db=run.db_url, capture="none", tags=["old", "keep"]) as made:
        made.log({"loss": 0.5}, step=0)
    assert "now: keep, hard" in run.ok("run", "tag", made.short, "-old", "+hard")
    assert json.loads(run.ok("run", "tag", made.short, "-hard", "--json"))["tags"] == ["keep"]
    assert "now: none" in run.ok("run", "tag", made.short, "--", "-keep")
    assert "Usage:" in run.ok("run", "tag", "-h")
    refused = run("run", "tag", made.short, "-nothere")
    assert refused.exit_code == 1 and "has no tag 'nothere'" in refused.output


def test_a_managed_run_survives_export_and_import(run: CLI, home: Path, tmp_path: Path, engine: str,
                                                  make_pg_url: object) -> None:
    with upstack.run("exported", home=home, db=run.db_url, capture="none", tags=["a"]) as made:
        made.log({"loss": 0.5}, step=0)
    run.ok("run", "rename", made.short, "exported-renamed")
    run.ok("run", "tag", made.short, "+b")
    run.ok("run", "rm", made.short)
    copy = round_trip(run, tmp_path, engine, make_pg_url)  # every table, run_events among them, came back whole
    assert [c["change"] for c in json.loads(copy.ok("run", "history", made.short, "--json"))] == \
        ["started", "name", "tags", "deleted"]
    assert made.short in copy.ok("runs", "--deleted") and made.short not in copy.ok("runs")
