"""Results record expected/happened/outcome; learnings are linked entries; progress counts them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from conftest import CLI
from upstack.services import capture, ideas, learning, progress, tree
from upstack.timeutil import to_iso
from upstack.workspace import Workspace


def test_a_result_with_expected_happened_outcome_and_learning(run: CLI) -> None:
    result = run("note", "--kind", "result", "--expected", "Logit diff halves.",
                 "--happened", "It barely moved.", "--outcome", "failed",
                 "--learned", "Backup heads compensate.", "Ablating 5.1 did nothing.")
    assert result.exit_code == 0 and "learning" in result.stderr
    short = result.stdout.strip()
    shown = json.loads(run.ok("show", short, "--json"))
    assert shown["meta"] == {"expected": "Logit diff halves.", "happened": "It barely moved.",
                             "outcome": "failed"}
    assert [b["title"] for b in shown["backlinks"]] == ["Backup heads compensate."]
    text = run.ok("show", short)
    assert "expected: Logit diff halves." in text and "outcome: failed" in text

    later = run.ok("learned", short, "Use path patching for heads with backups.").strip()
    lesson = json.loads(run.ok("show", later, "--json"))
    assert lesson["kind"] == "learning" and lesson["links"][0]["short"] == short


def test_result_fields_need_a_result_and_a_known_outcome(run: CLI) -> None:
    wrong_kind = run("note", "--expected", "x", "Just a note.")
    assert wrong_kind.exit_code == 1 and "--kind result" in wrong_kind.stderr
    wrong_outcome = run("note", "--kind", "result", "--outcome", "meh", "x")
    assert wrong_outcome.exit_code == 2
    assert run("learned", "zzzz", "x").exit_code == 1
    assert json.loads(run.ok("log", "--json")) == []


def test_learning_goes_where_its_source_is(workspace: Workspace) -> None:
    project = tree.add_node(workspace, "project", "IOI", why="A known circuit.")
    source = capture.note(workspace, "Patching layer 5 kills it.", kind="result",
                          under=project.id, meta={"outcome": "surprise"})
    lesson = learning.learned(workspace, source.id, "Layer 5 carries the name information.")
    assert lesson.node_id == project.id and lesson.project == "IOI"


def test_progress_counts_learnings_per_week_and_project(workspace: Workspace) -> None:
    now = datetime.now(UTC)
    project = tree.add_node(workspace, "project", "IOI", why="A known circuit.")
    tree.add_node(workspace, "experiment", "Path-patch 5.1", under=project.id)
    last_week = to_iso(now - timedelta(days=7))
    failed = capture.note(workspace, "Ablation did nothing.", kind="result", under=project.id,
                          meta={"outcome": "failed"}, occurred_at=last_week)
    capture.note(workspace, "Failed and unexamined.", kind="result", under=project.id,
                 meta={"outcome": "failed"}, occurred_at=last_week)
    learning.learned(workspace, failed.id, "Backups compensate.")
    capture.note(workspace, "Loose thought.")
    idea = ideas.capture_idea(workspace, "Steer with SAE features instead of probes.")
    ideas.set_state(workspace, idea.id, "pruned", reason="Feature steering is already published.")
    rows = {(r.week, r.project): r for r in progress.progress(workspace, now=now)}
    this_week, previous = progress.week_of(to_iso(now)), progress.week_of(last_week)
    ioi_now = rows[(this_week, "IOI")]
    assert (ioi_now.learnings, ioi_now.experiments, ioi_now.entries) == (1, 1, 1)
    ioi_before = rows[(previous, "IOI")]
    assert (ioi_before.results, ioi_before.failed_but_learned) == (2, 1)
    assert rows[(this_week, progress.NO_PROJECT)].entries == 2  # the thought and the idea
    assert rows[(this_week, progress.NO_PROJECT)].ideas_pruned == 1
    only = progress.progress(workspace, now=now, project="ioi")
    assert {r.project for r in only} == {"IOI"}
