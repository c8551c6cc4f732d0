"""Stuck spells are noticed, and `upstack ask` drafts the question from the context."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from conftest import CLI
from upstack.services import capture, checks, learning, stuck, tree
from upstack.timeutil import to_iso
from upstack.workspace import Workspace


def test_an_active_project_without_learnings_is_a_stuck_spell(workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Oversight", why="See inside models.")
    busy = tree.add_node(workspace, "project", "Busy", under=agenda.id, why="a", status="active")
    quiet = tree.add_node(workspace, "project", "Quiet", under=agenda.id, why="b", status="active",
                          override="a second active project, for this test")
    parked = tree.add_node(workspace, "project", "Parked", under=agenda.id, why="c")
    question = tree.add_node(workspace, "question", "Q", under=busy.id, why="d")
    later = datetime.now(UTC) + timedelta(days=10)
    result = capture.note(workspace, "Tried it.", kind="result", under=question.id)
    lesson = learning.learned(workspace, result.id, "It taught me something.")
    workspace.store().db.execute("UPDATE entries SET occurred_at = ? WHERE id = ?",
                                 (to_iso(later - timedelta(days=1)), lesson.id))
    spells = stuck.stuck_spells(workspace, days=7, now=later)
    assert [s.project.title for s in spells] == ["Quiet"]
    assert spells[0].days >= 9
    flags = {(f.check, f.subject) for f in checks.check(workspace, now=later).flags}
    assert ("stuck", quiet.short) in flags and ("stuck", busy.short) not in flags
    assert ("stuck", parked.short) not in flags


def test_ask_drafts_from_the_trace_and_what_happened(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "See inside models.").strip()
    project = run.ok("add", "project", "IOI circuit", "--under", agenda, "--why",
                     "A known circuit tests our tools.", "--status", "active").strip()
    run.ok("note", "--under", project, "--kind", "result", "--expected", "Logit diff halves.",
           "--happened", "It barely moved.", "--outcome", "failed", "Ablation did nothing.")
    asked = run("ask", project, "--to", "Neel", "--no-edit")
    assert asked.exit_code == 0 and "upstack edit" in asked.stderr
    question = json.loads(run.ok("show", asked.stdout.strip(), "--json"))
    assert question["kind"] == "question" and question["project"] == "IOI circuit"
    assert question["title"].startswith("Question for Neel")
    body = question["body"]
    for expected in ("A known circuit tests our tools.", "See inside models.",
                     "Ablation did nothing.", "Logit diff halves.", "It barely moved.",
                     "## My question"):
        assert expected in body
    assert run("ask", "zzzz", "--no-edit").exit_code == 1
