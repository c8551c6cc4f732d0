"""What the terminal prints reads as English: no doubled punctuation, counts agree with their nouns."""

from __future__ import annotations

import json

import pytest

import upstack
from conftest import CLI
from upstack.workspace import Workspace


def test_counts_agree_with_their_nouns(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Tools.").strip()
    project = run.ok("add", "project", "IOI", "--under", agenda, "--why", "A known circuit.").strip()
    run.ok("add", "project", "SAE", "--under", agenda, "--why", "b")
    result = run.ok("note", "--kind", "result", "--under", project, "Head 5.1 is a name mover.").strip()
    run.ok("learned", result, "Patching finds real mechanisms.")
    lines = {line.split()[0]: line for line in run.ok("tree").splitlines()}
    assert "2 entries, 1 learning," in lines[project]
    assert "0 entries, 0 learnings" in lines[[k for k in lines if k not in (agenda, project)][0]]
    assert "last 1 day: 2 entries, 0 with no path to an agenda" in run.ok("check", "--days", "1")
    assert run.ok("progress", "--weeks", "1", "-p", "SAE") == "Nothing written in the last 1 week.\n"


def test_a_result_in_the_review_has_no_doubled_stops(run: CLI) -> None:
    run.ok("note", "--kind", "result", "--expected", "Ablating 5.1 halves the logit diff.",
           "--happened", "It barely moved.", "--outcome", "failed", "Ablating head 5.1 did nothing.")
    review = run.ok("review")
    assert "expected Ablating 5.1 halves the logit diff; happened It barely moved (failed)" in review
    assert ".;" not in review


def test_a_question_for_someone_is_asked_once(run: CLI) -> None:
    question = run.ok("add", "question", "Is head 5.1 a name mover?", "--why", "a").strip()
    asked = run.ok("ask", question, "--to", "Neel", "--no-edit").strip()
    entry = json.loads(run.ok("show", asked, "--json"))
    assert entry["title"] == 'Question for Neel about "Is head 5.1 a name mover?": what am I missing?'
    assert '?"?' not in entry["title"] + entry["body"]


def test_an_answered_question_says_answered_in_its_history(run: CLI) -> None:
    question = run.ok("add", "question", "Is head 5.1 a name mover?", "--why", "a").strip()
    run.ok("node", "status", question, "answered", "--reason", "Path patching confirms it.")
    shown = run.ok("node", "show", question)
    assert "status open → answered: Path patching confirms it." in shown
    assert "→ done" not in shown
    history = json.loads(run.ok("node", "show", question, "--json"))["history"]
    assert history[-1]["new_value"] == "done"  # the stored status is unchanged


def test_a_file_is_named_once(run: CLI, workspace: Workspace) -> None:
    with pytest.raises(ValueError), upstack.run("boom", home=workspace.home, db=workspace.db_url, capture="none"):
        raise ValueError("the loss went to NaN")
    shown = run.ok("run", "show", "last")
    assert "traceback: traceback.txt\n" in shown and shown.count("traceback.txt") == 1
