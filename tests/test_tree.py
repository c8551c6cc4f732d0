"""The theory-of-change tree: nodes with a why, filing work under them, tracing why it matters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged, round_trip
from upstack.services import capture, tree
from upstack.workspace import Workspace


def ids(run: CLI) -> dict[str, str]:
    made = {}
    made["agenda"] = run.ok("add", "agenda", "Make interpretability useful for oversight",
                            "--why", "Overseers need tools that see inside models.").strip()
    made["project"] = run.ok("add", "project", "IOI circuit", "--under", made["agenda"],
                             "--why", "A known circuit tests our patching.").strip()
    made["question"] = run.ok("add", "question", "Is head 5.1 a name mover?", "--under",
                              made["project"], "--why", "Decides the circuit diagram.").strip()
    made["sub"] = run.ok("add", "question", "Does 5.1 copy the IO token?", "--under",
                         made["question"], "--why", "The name-mover story predicts it.").strip()
    made["experiment"] = run.ok("add", "experiment", "Path-patch 5.1", "--under",
                                made["sub"]).strip()
    return made


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def test_why_traces_an_entry_up_to_its_agenda(run: CLI) -> None:
    made = ids(run)
    entry = run.ok("note", "--under", made["experiment"], "Logit diff drops 60%. #ioi").strip()
    trace = as_json(run, "why", entry)
    assert [n["kind"] for n in trace["chain"]] == ["experiment", "question", "question",
                                                   "project", "agenda"]
    assert trace["chain"][1]["why"] == "The name-mover story predicts it."
    assert trace["reaches_agenda"] is True
    text = run.ok("why", entry)
    assert "Overseers need tools that see inside models." in text and "warning" not in text

    orphan = run.ok("note", "A stray thought.").strip()
    assert as_json(run, "why", orphan)["reaches_agenda"] is False
    assert "spinning your wheels" in run.ok("why", orphan)
    assert as_json(run, "why", made["question"])["chain"][0]["title"] == "Is head 5.1 a name mover?"


def test_focus_files_notes_until_cleared(run: CLI) -> None:
    made = ids(run)
    run.ok("focus", made["question"])
    first = run.ok("note", "Filed by focus.").strip()
    other = run.ok("note", "--under", made["project"], "Filed explicitly.").strip()
    run.ok("focus", "--clear")
    loose = run.ok("note", "Filed nowhere.").strip()
    assert as_json(run, "show", first)["node_id"] == as_json(run, "node", "show",
                                                             made["question"])["id"]
    assert as_json(run, "show", other)["project"] == "IOI circuit"
    assert as_json(run, "show", loose)["node_id"] is None
    both = run("note", "--under", made["project"], "--project", "X", "Both.")
    assert both.exit_code == 1 and "not both" in both.stderr


def test_tree_rolls_counts_up(run: CLI) -> None:
    made = ids(run)
    run.ok("note", "--under", made["experiment"], "--kind", "learning", "Padding matters.")
    run.ok("note", "--under", made["question"], "A note on the question.")
    roots = as_json(run, "tree")
    assert len(roots) == 1 and roots[0]["kind"] == "agenda"
    assert (roots[0]["entries"], roots[0]["learnings"]) == (2, 1)
    question = roots[0]["children"][0]["children"][0]
    assert (question["entries"], question["learnings"]) == (2, 1)
    assert question["last_activity"] is not None
    lines = run.ok("tree").splitlines()
    assert lines[0].startswith(made["agenda"]) and "2 entries, 1 learning," in lines[0]
    assert lines[4].startswith("        " + made["experiment"])


def test_status_changes_and_moves_keep_history(run: CLI) -> None:
    made = ids(run)
    run.ok("node", "status", made["question"], "answered", "--reason", "Path patching says so.")
    run.ok("node", "move", made["experiment"], "--under", made["question"])
    run.ok("node", "edit", made["experiment"], "--why", "Cheapest test that could kill it.")
    view = as_json(run, "node", "show", made["question"])
    assert view["status"] == "done"
    assert [(h["change"], h["new_value"]) for h in view["history"]][:2] == [
        ("created", "open"), ("status", "done")]
    assert view["history"][1]["reason"] == "Path patching says so."
    assert {c["title"] for c in view["children"]} == {"Does 5.1 copy the IO token?",
                                                      "Path-patch 5.1"}
    assert "[answered]" in run.ok("node", "show", made["question"])
    experiment = as_json(run, "node", "show", made["experiment"])
    assert [h["change"] for h in experiment["history"]] == ["created", "parent", "why"]


@pytest.mark.parametrize("args, message", [
    (["node", "move", "{question}", "--under", "{sub}"], "descendants"),
    (["node", "move", "{question}", "--under", "{question}"], "itself"),
    (["node", "move", "{experiment}", "--under", "{agenda}"], "cannot sit under an agenda"),
    (["add", "experiment", "Bad", "--under", "{agenda}"], "cannot sit under an agenda"),
    (["node", "status", "{question}", "finishedish"], "unknown status"),
    (["node", "status", "{question}", "open"], "already open"),
    (["node", "show", "zzzz"], "no node"),
    (["why", "zzzz"], "no entry or node"),
    (["note", "--under", "zzzz", "Lost?"], "no node"),
    (["node", "edit", "{question}"], "nothing to change"),
    (["focus", "zzzz"], "no node"),
])
def test_bad_tree_input_is_one_line_and_changes_nothing(run: CLI, home: Path, db_url: str | None,
                                                        args: list[str], message: str) -> None:
    made = ids(run)
    assert_refused_unchanged(run, [a.format(**made) for a in args], message)


def test_a_note_for_a_vanished_node_is_kept(workspace: Workspace) -> None:
    question = tree.add_node(workspace, "question", "Will it stay?")
    workspace.home.joinpath("focus").write_text("01ZZZZZZZZZZZZZZZZZZZZZZZZ\n")  # not a node
    entry = capture.note(workspace, "Written while focused on a node that is gone.")
    assert tree.show_node(workspace, question.id).node.title == "Will it stay?"
    kept = workspace.store().db.one("SELECT node_id, meta FROM entries WHERE id = ?", (entry.id,))
    assert kept is not None and kept["node_id"] is None
    assert json.loads(kept["meta"])["under_missing_node"] == "01ZZZZZZZZZZZZZZZZZZZZZZZZ"


def test_the_tree_survives_export_and_import(run: CLI, tmp_path: Path, engine: str,
                                             make_pg_url: Any) -> None:
    made = ids(run)
    run.ok("node", "status", made["sub"], "blocked", "--reason", "Waiting on compute.")
    run.ok("note", "--under", made["sub"], "Queued the run.")
    target = round_trip(run, tmp_path, engine, make_pg_url)
    assert as_json(target, "tree") == as_json(run, "tree")


def test_deleted_nodes_refuse_changes_until_restored(run: CLI) -> None:
    made = ids(run)
    refused = run("node", "rm", made["sub"])
    assert refused.exit_code == 1 and "has children" in refused.stderr
    run.ok("node", "rm", made["experiment"], "--reason", "Folded into the sub-question.")
    changed = run("node", "status", made["experiment"], "active")
    assert changed.exit_code == 1 and "was deleted" in changed.stderr
    assert made["experiment"] not in run.ok("tree")
    run.ok("node", "restore", made["experiment"])
    assert made["experiment"] in run.ok("tree")
    history = as_json(run, "node", "show", made["experiment"])["history"]
    assert [h["change"] for h in history] == ["created", "deleted", "restored"]


def test_project_filter_includes_work_filed_below_it(run: CLI) -> None:
    made = ids(run)
    run.ok("note", "--under", made["experiment"], "Deep in the tree.")
    run.ok("note", "--under", made["agenda"], "Above the project.")
    titles = [e["title"] for e in as_json(run, "log", "--project", "IOI circuit")]
    assert titles == ["Deep in the tree."]
    assert [h["title"] for h in as_json(run, "search", "deep", "--project", "ioi circuit")[
        "results"]] == ["Deep in the tree."]


def test_an_id_naming_an_entry_and_a_node_is_refused(run: CLI, home: Path,
                                                      db_url: str | None) -> None:
    short = run.ok("note", "An entry whose id a node will nearly share.").strip()
    with Workspace(home=home, db=db_url) as ws:
        ws.ingest()
        entry = ws.store().db.one("SELECT id, created_at FROM entries")
        assert entry is not None
        # Same key but its last character (the id's eleventh): the short ids collide.
        twin = entry["id"][:10] + ("0" if entry["id"][10] != "0" else "1") + entry["id"][11:]
        ws.journal.append([ws.record("node.create", {
            "id": twin, "kind": "agenda", "title": "Twin", "why": "", "parent_id": None,
            "status": "open", "created_at": entry["created_at"]})])
    result = run("why", short)
    assert result.exit_code == 1 and "more than one kind (entry and node)" in result.stderr
    assert as_json(run, "why", entry["id"])["entry"]["short"] == short  # the full id is exact
