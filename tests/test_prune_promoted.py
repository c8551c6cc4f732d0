"""Pruning an idea that was promoted closes what it was promoted to (or asks first)."""

from __future__ import annotations

import json
from typing import Any

from conftest import CLI, assert_refused_unchanged


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def _promoted(run: CLI, kind: str = "project") -> tuple[str, str, str]:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Tools.").strip()
    under = agenda if kind == "project" else run.ok(
        "add", "project", "Refusal", "--under", agenda, "--why", "a").strip()
    idea = run.ok("idea", "Steering with a refusal direction stops jailbreaks.").strip()
    node = as_json(run, "promote", idea, "--as", kind, "--under", under)["node"]["short"]
    return agenda, idea, node


def test_pruning_drops_the_node_it_was_promoted_to(run: CLI) -> None:
    agenda, idea, project = _promoted(run)
    pruned = as_json(run, "prune", idea, "--reason", "Published already.", "--override", "Scooped.")
    assert (pruned["state"], pruned["node"]["short"], pruned["node"]["status"]) == ("pruned", project, "dropped")
    history = as_json(run, "node", "show", project)["history"]
    assert history[-1]["reason"] == f"its idea {idea} was pruned: Published already; override: Scooped."
    tree = as_json(run, "tree", "--open-only")
    assert [n["short"] for n in tree] == [agenda] and tree[0]["children"] == []
    assert run.ok("review").count("Steering with a refusal direction") == 2  # its section, and once as pruned
    assert "Next steps" not in run.ok("review")


def test_an_open_question_is_dropped_and_an_active_one_asks_first(run: CLI) -> None:
    _, idea, question = _promoted(run, "question")
    run.ok("park", idea, "--reason", "Later.")
    run.ok("log")
    # Parked, the idea is out of its commitment, but the question it became is still active.
    assert_refused_unchanged(run, ["prune", idea, "--reason", "Published already."],
                             f"question {question} has been active for 0 of the 14 days of commitment")
    run.ok("node", "status", question, "open", "--reason", "Not now.")
    lines = run.ok("prune", idea, "--reason", "Published already.").splitlines()
    assert lines[1] == f"  question {question} [dropped]: Steering with a refusal direction stops jailbreaks."
    review = run.ok("review")
    assert review.count("Steering with a refusal direction") == 1 and "Open questions" not in review


def test_a_done_node_stays_done(run: CLI) -> None:
    _, idea, project = _promoted(run)
    run.ok("node", "status", project, "done", "--reason", "Shipped.", "--override", "Fast.")
    pruned = as_json(run, "prune", idea, "--reason", "It did not generalise.", "--override", "Clear.")
    assert pruned["node"]["status"] == "done"


def test_done_closes_the_project_it_was_promoted_to_and_frees_the_active_slot(run: CLI) -> None:
    """The README's walkthrough marks the promoted steering idea done; its project stayed active, and
    the one active project allowed was taken by finished work."""
    agenda, idea, project = _promoted(run)
    finished = as_json(run, "done", idea, "--reason", "Blocks 80% of jailbreaks; written up.")
    assert (finished["state"], finished["node"]["short"], finished["node"]["status"]) == ("done", project, "done")
    history = as_json(run, "node", "show", project)["history"]
    assert history[-1]["reason"] == f"its idea {idea} is done: Blocks 80% of jailbreaks; written up."
    lines = run.ok("done", run.ok("idea", "Another idea, never promoted.").strip()).splitlines()
    assert len(lines) == 1  # no node to close
    other = run.ok("add", "project", "Next project", "--under", agenda, "--why", "Next.").strip()
    assert "[active]" in run.ok("node", "status", other, "active")
