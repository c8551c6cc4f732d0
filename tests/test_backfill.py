"""Back-filling a week from paper notes: every command that creates something takes --at."""

from __future__ import annotations

import json
from typing import Any

from conftest import CLI, assert_refused_unchanged
from upstack.timeutil import parse_when

MONDAY = "2026-03-02 10:00"
TUESDAY = "2026-03-03 16:30"


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def test_ideas_learnings_nodes_and_questions_take_at(run: CLI) -> None:
    monday, tuesday = parse_when(MONDAY), parse_when(TUESDAY)
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Tools.", "--at", MONDAY).strip()
    node = as_json(run, "node", "show", agenda)
    assert node["created_at"] == monday
    assert [(e["change"], e["at"]) for e in node["history"]] == [("created", monday)]

    idea = as_json(run, "idea", "Probe for deception.", "--at", MONDAY)
    assert idea["created_at"] == monday and idea["events"][0]["at"] == monday
    shown = as_json(run, "show", idea["short"])
    assert shown["occurred_at"] == monday and shown["created_at"] > monday  # the real time is kept

    result = run.ok("note", "--kind", "result", "--under", agenda, "The probe tracks topic.",
                    "--at", MONDAY).strip()
    lesson = as_json(run, "learned", result, "Probes find what is easy to find.", "--at", TUESDAY)
    assert lesson["occurred_at"] == tuesday and lesson["created_at"] > tuesday

    asked = run.ok("ask", agenda, "--no-edit", "--at", TUESDAY).strip()
    assert as_json(run, "show", asked)["occurred_at"] == tuesday
    # The timeline reads as the week happened.
    assert [e["occurred_at"] for e in as_json(run, "log")] == [tuesday, tuesday, monday, monday]


def test_a_date_that_cannot_be_read_changes_nothing(run: CLI) -> None:
    run.ok("note", "Something to learn from.")
    run.ok("log")  # taken in, so that only the refused commands could change anything
    for args in (["idea", "An idea.", "--at", "the day after never"],
                 ["add", "agenda", "A goal", "--at", "the day after never"],
                 ["learned", "last", "A lesson.", "--at", "the day after never"]):
        assert_refused_unchanged(run, args, "cannot understand --at date")


def test_a_date_yet_to_come_is_refused_and_changes_nothing(run: CLI) -> None:
    """--at back-dates: a node dated next week had been "active for -7 of the 14 days of
    commitment", its later changes were stamped after next week, and notes sat atop the timeline."""
    run.ok("note", "Something to learn from.")
    run.ok("log")
    for args in (["note", "Planned already.", "--at", "tomorrow"],
                 ["idea", "An idea.", "--at", "next week"],
                 ["add", "project", "A project", "--why", "Because.", "--at", "in 2 days"],
                 ["learned", "last", "A lesson.", "--at", "2099-01-01"]):
        assert_refused_unchanged(run, args, "has not happened yet")
    assert run.ok("note", "Just now.", "--at", "1 minute ago").strip()


def test_note_kind_idea_is_a_real_idea(run: CLI) -> None:
    short = run.ok("note", "--kind", "idea", "Steer with the refusal direction.", "--at", MONDAY).strip()
    ideas = as_json(run, "ideas")
    assert [(i["short"], i["state"], i["created_at"]) for i in ideas] == [
        (short, "candidate", parse_when(MONDAY))]
    triaged = as_json(run, "triage", short, "--test", "50 known jailbreaks", "--cost", "2")
    assert triaged["cheapest_test"] == "50 known jailbreaks"
    assert as_json(run, "derisk", short)["state"] == "de-risking"


def test_an_entry_does_not_become_half_an_idea_by_its_kind(run: CLI) -> None:
    note = run.ok("note", "Steer with the refusal direction.").strip()
    idea = run.ok("idea", "Probe the residual stream.").strip()
    run.ok("log")
    assert_refused_unchanged(run, ["edit", note, "--kind", "idea"], "cannot become an idea by its kind")
    assert_refused_unchanged(run, ["edit", idea, "--kind", "note"], "cannot become a note by its kind")
