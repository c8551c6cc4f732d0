"""A decision with a revisit day (issue 19): `note --kind decision --revisit WHEN` asks "was this right?"
in `upstack due` from that day, until a learning is recorded from the decision. Both engines."""

from __future__ import annotations

import json
from datetime import date, timedelta

from conftest import CLI, assert_refused_unchanged
from upstack.timeutil import today_local


def test_a_decision_comes_back_when_due_until_its_lesson_is_written(run: CLI) -> None:
    decision = run.ok("note", "--kind", "decision", "--revisit", "in 3 months",
                      "Drop the SAE baseline; probes first.").strip()
    assert json.loads(run.ok("due", "--json")) == []  # not yet
    [item] = json.loads(run.ok("due", "--days", "120", "--json"))
    assert (item["kind"], item["ref"], item["about"]) == ("revisit", decision, "decision")
    assert item["title"] == "was this right? Drop the SAE baseline; probes first."
    assert today_local() + timedelta(days=85) <= date.fromisoformat(item["day"])
    assert "was this right?" in run.ok("due", "--days", "120", "--kind", "revisit")
    run.ok("learned", decision, "Right call: the probes found the feature in a week.")
    assert json.loads(run.ok("due", "--days", "120", "--json")) == []


def test_a_revisit_day_belongs_to_a_decision_to_come(run: CLI) -> None:
    assert_refused_unchanged(run, ["note", "--revisit", "in 3 months", "Just a note."],
                             "--revisit belongs to a decision")
    assert_refused_unchanged(run, ["note", "--kind", "decision", "--revisit", "yesterday", "Too late."],
                             "is not to come")
