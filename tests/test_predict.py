"""Predictions and calibration (issue 19) through the CLI, on both engines: a prediction before a
result, updated and resolved by the result's evidence; the forecast that counts is the last one made
before the evidence existed; a correction keeps the earlier resolution; bad input is one line and keeps
nothing; a JSON export round-trips them; a purge takes them; due lists one to resolve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged, round_trip


def _project(run: CLI) -> str:
    return run.ok("add", "project", "Probe deception", "--why", "find the features that lie").strip().split()[-1]


def test_a_prediction_is_scored_by_its_last_forecast_before_the_evidence(run: CLI) -> None:
    project = _project(run)
    made = run.ok("predict", "add", "The probe beats chance on held-out prompts", "-p", "70%", "--on", project,
                  "--by", "in 2 weeks", "--criteria", "held-out accuracy above 0.6").strip()
    run.ok("predict", "update", made, "-p", "0.4", "--why", "the pilot was noisy")
    result = run.ok("note", "--kind", "result", "--under", project, "--expected", "above 0.6", "--happened", "0.58",
                    "The probe reaches 0.58.").strip()
    late = run.ok("predict", "add", "Made after the result", "-p", "0.9").strip()
    run.ok("predict", "resolve", made, "false", "--evidence", result)
    run.ok("predict", "resolve", late, "true", "--evidence", result)
    shown = json.loads(run.ok("predict", "show", made, "--json"))
    assert [f["probability"] for f in shown["forecasts"]] == [0.7, 0.4]
    assert shown["forecasts"][1]["reason"] == "the pilot was noisy" and shown["state"] == "false"
    assert shown["about"]["kind"] == "node" and shown["node_id"] is not None
    assert "held-out accuracy above 0.6" in shown["criteria"]
    report = json.loads(run.ok("calibration", "--json"))
    assert (report["n"], report["made_after"], report["annulled"]) == (1, 1, 0)
    assert report["brier"] == pytest.approx(0.16) and report["came_true"] == 0  # scored by the 40%, not the 70%
    assert "last forecast made before its evidence" in report["rule"]


def test_a_resolution_corrected_keeps_the_first_and_annulled_ones_are_left_out(run: CLI) -> None:
    sure = run.ok("predict", "add", "Sure thing", "-p", "95%").strip()
    run.ok("predict", "resolve", sure, "false")
    assert_refused_unchanged(run, ["predict", "resolve", sure, "true"], "give its reason with --why")
    run.ok("predict", "resolve", sure, "true", "--why", "misread the table")
    shown = json.loads(run.ok("predict", "show", sure, "--json"))
    assert [r["outcome"] for r in shown["resolutions"]] == ["false", "true"] and shown["state"] == "true"
    vague = run.ok("predict", "add", "Vague claim", "-p", "0.6").strip()
    run.ok("predict", "resolve", vague, "annulled", "--why", "the criteria did not say")
    wrong = run.ok("predict", "add", "Overconfident claim", "-p", "0.9").strip()
    run.ok("predict", "resolve", wrong, "false")
    report = json.loads(run.ok("calibration", "--json"))
    assert (report["n"], report["annulled"]) == (2, 1)
    assert [s["short"] for s in report["surprises"]] == [wrong]
    assert "Confident and wrong" in run.ok("calibration")


@pytest.mark.parametrize("args, said", [
    (["predict", "add", "Claim", "-p", "1"], "from 1% to 99%"),
    (["predict", "add", "Claim", "-p", "150%"], "from 1% to 99%"),
    (["predict", "add", "Claim", "-p", "likely"], "is not a probability"),
    (["predict", "add", "", "-p", "0.5"], "claim is empty"),
    (["predict", "add", "Claim", "-p", "0.5", "--by", "whenever"], "resolve-by day"),
    (["predict", "add", "Claim", "-p", "0.5", "--by", "yesterday"], "has passed"),
    (["predict", "add", "Claim", "-p", "70"], "did you mean 70%?"),
    (["predict", "add", "Claim", "-p", "0.5", "--on", "nothing-here"], "nothing-here"),
    (["note", "--kind", "prediction", "A prediction without a probability"], "make one with `upstack predict add"),
])
def test_bad_input_is_one_line_and_keeps_nothing(run: CLI, args: list[str], said: str) -> None:
    assert_refused_unchanged(run, args, said)


def test_a_forecast_after_the_result_is_refused_and_so_is_a_result_not_in(run: CLI) -> None:
    made = run.ok("predict", "add", "Claim", "-p", "0.5").strip()
    run.ok("predict", "resolve", made, "true")
    assert_refused_unchanged(run, ["predict", "update", made, "-p", "0.9"], "would know the answer")
    note = run.ok("note", "Just a note.").strip()
    run.ok("log")  # the note taken in
    assert_refused_unchanged(run, ["predict", "update", note, "-p", "0.9"], "is not a prediction")


def test_a_prediction_on_a_run_still_running_is_about_that_run(run: CLI) -> None:
    import upstack

    project = _project(run)
    running = upstack.run("sweep", under=project, home=run.home, db=run.db_url, capture="none")
    running.log({"loss": 0.5})
    made = json.loads(run.ok("predict", "add", "The loss ends below 0.12", "-p", "0.3", "--on", running.short,
                             "--json"))
    assert made["about"] == {"kind": "run", "id": running.id} and made["node_id"] is not None
    assert_refused_unchanged(run, ["predict", "resolve", made["short"], "true", "--evidence", running.short],
                             "has not ended")
    running.finish()


def test_the_cli_says_what_it_shows(run: CLI) -> None:
    """A first session's wording (issue 19's walk): an empty filter is not "no predictions yet", a
    resolved one drops its resolve-by day from the list, show says its id, state and evidence and marks a
    corrected resolution, and the reliability table's columns line up with its header."""
    project = _project(run)
    made = run.ok("predict", "add", "Claim to check", "-p", "0.6", "--by", "today", "--on", project,
                  "--criteria", "the held-out accuracy").strip()
    assert run.ok("predict", "list", "--resolved").strip() == "no resolved predictions: `upstack predict list` " \
        "shows them all"
    result = run.ok("note", "--kind", "result", "--under", project, "It came out.").strip()
    run.ok("predict", "resolve", made, "true", "--evidence", result)
    run.ok("predict", "resolve", made, "false", "--why", "misread it")
    assert " by " not in run.ok("predict", "list")
    shown = run.ok("predict", "show", made).splitlines()
    assert shown[1].startswith(f"{made}  false  by ") and f"about node {project}" in shown[1]
    assert shown[2] == "Criteria: the held-out accuracy"
    assert shown[-2].endswith(f"resolved true  (evidence {result})  corrected below")
    assert shown[-1].endswith("resolved false  (misread it)")
    table = run.ok("calibration").splitlines()
    header = next(line for line in table if line.startswith("said"))
    [row] = [line for line in table if line.startswith("60%-70%")]
    assert header.index("n") == row.index("1") and len(header) == len(row)  # each column ends where its name does


def test_due_lists_an_open_prediction_to_resolve(run: CLI) -> None:
    made = run.ok("predict", "add", "Claim to check", "-p", "0.5", "--by", "in 3 days").strip()
    [item] = json.loads(run.ok("due", "--json"))
    assert (item["kind"], item["ref"], item["title"]) == ("resolve", made, "resolve: Claim to check")
    run.ok("predict", "resolve", made, "true")
    assert json.loads(run.ok("due", "--json")) == []


def test_predictions_round_trip_through_a_json_export(run: CLI, tmp_path: Path, engine: str,
                                                      make_pg_url: Any) -> None:
    made = run.ok("predict", "add", "Claim", "-p", "0.3", "--why", "a hunch").strip()
    run.ok("predict", "update", made, "-p", "0.6")
    run.ok("predict", "resolve", made, "true")
    copy = round_trip(run, tmp_path, engine, make_pg_url)  # every table as it was, the predictions' too
    assert json.loads(copy.ok("predict", "show", made, "--json"))["state"] == "true"


def test_a_purged_prediction_keeps_nothing_of_what_was_said(run: CLI) -> None:
    made = run.ok("predict", "add", "QUSECRET claim", "-p", "0.3", "--why", "QUSECRET reason").strip()
    run.ok("predict", "resolve", made, "false", "--why", "QUSECRET outcome")
    run.ok("purge", made, "--yes")
    assert json.loads(run.ok("predict", "list", "--json")) == []
    assert "QUSECRET" not in run.ok("export")
