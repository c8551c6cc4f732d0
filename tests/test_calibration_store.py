"""`upstack calibration` reads a long history in one pass (store/predictions.standing): the standing
resolution of each prediction and the forecast made last before its evidence, picked by SQL. The rule
is domain/calibration.py's; here the two are held to each other on a random history, on both engines:
forecasts updated, resolutions corrected, annulled, evidence older than every forecast, one deleted."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from upstack.domain import calibration as rule
from upstack.ids import new_id
from upstack.services import curate, predictions, tree
from upstack.workspace import Workspace


def _at(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _history(ws: Workspace, n: int, seed: int) -> None:
    """``n`` predictions written as services/predictions.py writes them, at chosen times."""
    chance = random.Random(seed)
    project = tree.add_node(ws, "project", "Probes", why="A project.")
    experiment = tree.add_node(ws, "experiment", "Layer sweep", why="A test.", under=project.id)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for i in range(n):
        made = start + timedelta(hours=chance.randrange(0, 5000))
        entry_id = new_id()
        records += [
            ws.record("entry.create", {"id": entry_id, "revision_id": new_id(), "kind": "prediction",
                                       "title": f"Claim {i}", "body": "", "extra_tags": [], "private": False,
                                       "node_id": chance.choice([experiment.id, project.id, None]),
                                       "occurred_at": _at(made), "created_at": _at(made), "attachments": []}),
            ws.record("prediction.make", {"entry_id": entry_id, "at": _at(made), "reason": "", "target_kind": None,
                                          "probability": chance.randint(1, 99) / 100, "target_id": None,
                                          "resolve_by": None})]
        last = made
        for _ in range(chance.randrange(0, 3)):
            last += timedelta(minutes=chance.randrange(1, 3000))
            records.append(ws.record("prediction.forecast", {"entry_id": entry_id, "at": _at(last),
                                                             "probability": chance.randint(1, 99) / 100, "reason": ""}))
        for _ in range(chance.choice([0, 1, 1, 1, 2])):  # none, one, or one corrected
            last += timedelta(minutes=chance.randrange(1, 3000))
            evidence = made + timedelta(minutes=chance.randrange(-600, 6000))  # sometimes before every forecast
            records.append(ws.record("prediction.resolve", {
                "entry_id": entry_id, "outcome": chance.choice(["true", "false", "true", "false", "annulled"]),
                "value": None, "evidence_id": None, "evidence_at": _at(evidence), "reason": "", "at": _at(last)}))
    ws.store().write(records)


def _by_rule(ws: Workspace) -> tuple[rule.Summary, int]:
    """The same report worked out one prediction at a time from its whole history (listing + rule.score)."""
    scored, made_after, annulled, still_open = [], 0, 0, 0
    for found in predictions.listing(ws):
        outcome = found.outcome()
        if outcome is None:
            still_open += 1
        elif outcome.came_true is None:
            annulled += 1
        elif (result := rule.score(found.id, found.forecasts, outcome)) is None:
            made_after += 1
        else:
            scored.append(result)
    return rule.summary(scored, made_after=made_after, annulled=annulled), still_open


def test_the_one_pass_read_scores_as_the_rule_does_one_prediction_at_a_time(workspace: Workspace) -> None:
    _history(workspace, 300, seed=19)
    gone = predictions.listing(workspace)[7]
    curate.remove(workspace, gone.id)  # a deleted prediction counts nowhere
    report = predictions.calibration(workspace)
    expected, still_open = _by_rule(workspace)
    assert report.summary == expected
    assert report.open == still_open
    assert expected.n > 100 and expected.made_after > 5 and expected.annulled > 5  # every path is taken
    assert sum(b.n for b in report.bins) == expected.n
    assert sum(s.n for s in report.by_month.values()) == sum(s.n for s in report.by_project.values()) == expected.n


def test_predictions_made_before_rows_kept_their_standing_are_filled_in_by_the_migration(
        home: Path, db_url: str | None) -> None:
    """Migration 21 sets how each earlier prediction stands: a workspace that had them scores the same."""
    from helpers_reliability import _undo_migrations_after

    with Workspace(home=home, db=db_url) as ws:
        _history(ws, 120, seed=21)
        expected = predictions.calibration(ws).to_dict()
    _undo_migrations_after(home, db_url, 20)
    with Workspace(home=home, db=db_url) as ws:
        assert predictions.calibration(ws).to_dict() == expected
        assert expected["n"] > 30
