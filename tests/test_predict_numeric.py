"""Numeric predictions (issue 19) on both engines: a prediction of a run's metric, made with
`upstack predict add --metric ...` on a node or with `upstack.run(..., predict=...)`, resolves itself
from the metric when the run finishes (the run its evidence); a failed, interrupted or crashed run, or
one without the metric, leaves it open; a prediction made after the run, someone else's run, or one
resolved by hand is left alone; bad input is one line and keeps nothing; a run push carrying a bad
``run.predict`` is refused at the door; `calibration` counts interval coverage, filters by project and
draws its diagram."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import upstack
from attack_common import Team, rec, run_records
from conftest import CLI, assert_refused_unchanged
from upstack.domain import access
from upstack.errors import BadInput
from upstack.ids import new_id, short_id
from upstack.services import predictions, tree
from upstack.services.jsondump import dump_tables
from upstack.workspace import Workspace


def _project(run: CLI, title: str = "Probe deception") -> str:
    return run.ok("add", "project", title, "--why", "find the features that lie").strip().split()[-1]


def _experiment(run: CLI, under: str, title: str = "Width sweep") -> str:
    return run.ok("add", "experiment", title, "--under", under, "--why", "decides the width").strip().split()[-1]


def _show(run: CLI, ref: str) -> dict[str, Any]:
    return json.loads(run.ok("predict", "show", ref, "--json"))  # type: ignore[no-any-return]


def _run(run: CLI, name: str, **options: Any) -> upstack.Run:
    return upstack.run(name, home=run.home, db=run.db_url, capture="none", **options)


def _predict_on(run: CLI, node: str, *args: str) -> str:
    return run.ok("predict", "add", "--on", node, *args).strip()


# == 1. A node's prediction, resolved by the next run under it ====================================

def test_a_node_prediction_resolves_from_the_next_run_under_it(run: CLI) -> None:
    project = _project(run)
    node = _experiment(run, project)
    below = _predict_on(run, node, "--metric", "val/loss", "--below", "0.12", "-p", "70%",
                        "--interval", "0.10-0.15")
    above = _predict_on(run, node, "--metric", "val/loss", "--above", "0.2", "-p", "0.4")
    inside = _predict_on(run, node, "--metric", "val/loss", "--interval", "0.2-0.3", "--level", "90%")
    assert _show(run, below)["state"] == "open"
    with _run(run, "sweep-16k", under=node) as r:
        for step, loss in enumerate([0.5, 0.3, 0.11]):
            r.log({"val/loss": loss}, step=step)
    shown = _show(run, below)
    assert shown["state"] == "true" and shown["numeric"] == {
        "metric": "val/loss", "aggregate": "final", "comparison": "below", "threshold": 0.12, "low": 0.1,
        "high": 0.15, "level": 0.8}
    [resolution] = shown["resolutions"]
    assert resolution["value"] == pytest.approx(0.11) and resolution["evidence_id"] == r.id
    assert resolution["evidence_at"] >= shown["made_at"]
    assert _show(run, above)["state"] == "false"
    inside_shown = _show(run, inside)
    assert inside_shown["state"] == "false" and inside_shown["probability"] == pytest.approx(0.9)
    text = run.ok("predict", "show", below)
    assert "resolved true at 0.11" in text and "final val/loss below 0.12" in text
    listed = {p["short"]: p for p in json.loads(run.ok("predict", "list", "--json"))}
    assert listed[below]["resolutions"][0]["value"] == pytest.approx(0.11)
    assert {p["short"] for p in json.loads(run.ok("predict", "list", "--resolved", "--json"))} == \
        {below, above, inside}
    report = json.loads(run.ok("calibration", "--json"))
    assert (report["n"], report["open"]) == (3, 0)
    # below's interval is at the default 80% (0.11 inside), inside's at 90% (0.11 outside)
    assert report["coverage"] == [{"level": 0.8, "n": 1, "covered": 1, "rate": 1.0},
                                  {"level": 0.9, "n": 1, "covered": 0, "rate": 0.0}]
    assert "80% intervals: 1 of 1 held" in run.ok("calibration")


def test_the_evidence_is_the_run_and_its_end_time(run: CLI, workspace: Workspace) -> None:
    node = _experiment(run, _project(run))
    made = _predict_on(run, node, "--metric", "loss", "--above", "1", "-p", "20%")
    with _run(run, "one", under=node) as r:
        r.log({"loss": 2.0})
    workspace.ingest()
    from upstack.services import runs as run_service

    ended = run_service.get_run(workspace, r.short).ended_at
    [resolution] = _show(run, made)["resolutions"]
    assert (resolution["outcome"], resolution["evidence_id"], resolution["evidence_at"]) == ("true", r.id, ended)


# == 2. upstack.run(predict=...) ==================================================================

def test_a_run_predicts_itself_and_resolves_at_its_end(run: CLI, workspace: Workspace) -> None:
    node = _experiment(run, _project(run))
    with _run(run, "self", under=node, predict={"metric": "loss", "below": 0.12, "probability": 0.7,
                                                 "interval": (0.10, 0.15), "level": 0.8}) as r:
        assert (r.directory / "records.jsonl").read_text().count('"run.predict"') == 1
        made = json.loads(run.ok("predict", "list", "--json"))
        [item] = made
        assert item["state"] == "open" and item["about"] == {"kind": "run", "id": r.id}
        assert item["node_id"] == workspace.store().db.scalar("SELECT id FROM nodes WHERE title = 'Width sweep'")
        assert item["claim"] == "final loss below 0.12, interval 0.1-0.15"  # its level is a forecast: not in a title
        r.log({"loss": 0.13})
    shown = _show(run, item["short"])
    assert shown["state"] == "false" and shown["resolutions"][0]["value"] == pytest.approx(0.13)
    entry = json.loads(run.ok("show", item["short"], "--json"))
    assert entry["kind"] == "prediction"
    report = json.loads(run.ok("calibration", "--json"))
    assert report["n"] == 1 and report["coverage"] == [{"level": 0.8, "n": 1, "covered": 1, "rate": 1.0}]
    assert report["by_kind"] == {"run": pytest.approx(report["by_kind"]["run"])} and "run" in report["by_kind"]
    assert shown["resolutions"][0]["reason"] == f"final loss was 0.13 in run {short_id(r.id)}"  # an id one can type


def test_two_predictions_aggregates_and_a_summary_value(run: CLI) -> None:
    node = _experiment(run, _project(run))
    specs = [{"metric": "loss", "aggregate": "best", "below": 0.2, "probability": 0.6},
             {"metric": "loss", "aggregate": "max", "above": 5, "probability": 0.3},
             {"metric": "loss", "aggregate": "min", "interval": "0.05-0.15", "level": "50%"},
             {"metric": "acc", "above": 0.9, "probability": 0.55, "claim": "accuracy clears 90%"}]
    with _run(run, "agg", under=node, goals={"loss": "min"}, predict=specs) as r:
        for step, loss in enumerate([4.0, 0.1, 0.7]):
            r.log({"loss": loss}, step=step)
        r.summary(acc=0.93)
    found = {p["numeric"]["aggregate"] + " " + p["numeric"]["metric"]: p
             for p in json.loads(run.ok("predict", "list", "--json"))}
    assert len(found) == 4
    assert (found["best loss"]["state"], found["best loss"]["resolutions"][0]["value"]) == ("true", 0.1)
    assert (found["max loss"]["state"], found["max loss"]["resolutions"][0]["value"]) == ("false", 4.0)
    assert (found["min loss"]["state"], found["min loss"]["probability"]) == ("true", 0.5)
    assert found["final acc"]["claim"] == "accuracy clears 90%"
    assert (found["final acc"]["state"], found["final acc"]["resolutions"][0]["value"]) == ("true", 0.93)
    assert all(p["resolutions"][0]["evidence_id"] == r.id for p in found.values())


def test_best_follows_the_goal(run: CLI) -> None:
    node = _experiment(run, _project(run))
    with _run(run, "acc", under=node, goals={"acc": "max"},
              predict={"metric": "acc", "aggregate": "best", "above": 0.8, "probability": 0.5}) as r:
        for step, acc in enumerate([0.5, 0.85, 0.6]):
            r.log({"acc": acc}, step=step)
    [item] = json.loads(run.ok("predict", "list", "--json"))
    assert (item["state"], item["resolutions"][0]["value"]) == ("true", 0.85)


# == 3. What leaves it open ========================================================================

def _open_after(run: CLI, node: str) -> None:
    for item in json.loads(run.ok("predict", "list", "--json")):
        assert item["state"] == "open", item
        assert item["resolutions"] == []


def test_a_failed_or_interrupted_run_leaves_it_open(run: CLI) -> None:
    node = _experiment(run, _project(run))
    _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%")
    spec = {"metric": "loss", "below": 1, "probability": 0.6}
    with pytest.raises(ZeroDivisionError), _run(run, "fails", under=node, predict=spec) as r:
        r.log({"loss": 0.5})
        1 / 0  # noqa: B018
    with pytest.raises(KeyboardInterrupt), _run(run, "stopped", under=node, predict=spec) as r:
        r.log({"loss": 0.5})
        raise KeyboardInterrupt
    statuses = {r["status"] for r in json.loads(run.ok("runs", "--json"))}
    assert statuses == {"failed", "interrupted"}
    assert len(json.loads(run.ok("predict", "list", "--json"))) == 3
    _open_after(run, node)


def test_a_crashed_run_leaves_it_open_and_its_later_end_resolves(run: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.formats.rundir import HEARTBEAT
    from upstack.services import runs as run_service

    monkeypatch.setenv("UPSTACK_RUN_FLUSH_SECONDS", "3600")
    monkeypatch.setenv("UPSTACK_RUN_HEARTBEAT_SECONDS", "3600")
    node = _experiment(run, _project(run))
    made = _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%")
    r = _run(run, "elsewhere", under=node, predict={"metric": "loss", "below": 1, "probability": 0.6})
    r.log({"loss": 0.5})
    (r.directory / HEARTBEAT).write_text("2020-01-01T00:00:00.000000Z gpu-node-17 other-boot 1\n")
    with Workspace(home=run.home, db=run.db_url, run_crashed_after=5) as reader:
        reader.ingest()
        assert run_service.get_run(reader, r.short).status == "crashed"
        assert {p.state for p in predictions.listing(reader)} == {"open"}
    (r.directory / HEARTBEAT).write_text("2999-01-01T00:00:00.000000Z gpu-node-17 other-boot 1\n")
    r.finish()  # it was alive after all
    assert _show(run, made)["state"] == "true"
    assert {p["state"] for p in json.loads(run.ok("predict", "list", "--json"))} == {"true"}


def test_a_run_without_the_metric_leaves_it_open_for_the_next(run: CLI) -> None:
    node = _experiment(run, _project(run))
    made = _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%")
    with _run(run, "other-metric", under=node) as r:
        r.log({"acc": 0.5})
        r.summary(loss="not a number")
    assert _show(run, made)["state"] == "open"
    with _run(run, "has-it", under=node) as second:
        second.log({"loss": 3.0})
    shown = _show(run, made)
    assert shown["state"] == "false" and shown["resolutions"][0]["evidence_id"] == second.id


def test_a_prediction_resolved_by_hand_is_left_alone(run: CLI) -> None:
    node = _experiment(run, _project(run))
    made = _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%")
    r = _run(run, "slow", under=node, predict={"metric": "loss", "below": 1, "probability": 0.6})
    own = json.loads(run.ok("predict", "list", "--json"))
    by_run = next(p["short"] for p in own if p["about"]["kind"] == "run")
    run.ok("predict", "resolve", made, "annulled", "--why", "the data changed")
    run.ok("predict", "resolve", by_run, "false", "--why", "saw the loss diverge")
    r.log({"loss": 0.5})
    r.finish()
    for ref, outcome in ((made, "annulled"), (by_run, "false")):
        shown = _show(run, ref)
        assert [x["outcome"] for x in shown["resolutions"]] == [outcome]


def test_ingesting_and_finalizing_twice_resolves_once(run: CLI, workspace: Workspace) -> None:
    from upstack.store import runs as store_runs

    node = _experiment(run, _project(run))
    made = _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%")
    with _run(run, "once", under=node, predict={"metric": "loss", "below": 1, "probability": 0.6}) as r:
        r.log({"loss": 0.5})
    workspace.ingest()
    before = dump_tables(workspace.store().db)
    store = workspace.store()
    with store.db.transaction():
        store_runs.finalize(store.db, r.id, "again")
        store_runs.finalize(store.db, r.id, "again")
    workspace.ingest()
    assert dump_tables(workspace.store().db)["prediction_events"] == before["prediction_events"]
    assert len(_show(run, made)["resolutions"]) == 1


# == 4. Made after the run ended ==================================================================

def test_a_node_prediction_made_after_a_run_ended_waits_for_the_next(run: CLI, workspace: Workspace) -> None:
    from upstack.store import runs as store_runs

    node = _experiment(run, _project(run))
    with _run(run, "earlier", under=node) as old:
        old.log({"loss": 0.5})
    workspace.ingest()
    made = _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%")
    store = workspace.store()
    with store.db.transaction():
        store_runs.finalize(store.db, old.id, "again")  # the old run, taken in again
    assert _show(run, made)["state"] == "open"
    with _run(run, "later", under=node) as new:
        new.log({"loss": 0.4})
    assert _show(run, made)["resolutions"][0]["evidence_id"] == new.id


# == 5. Someone else's run ========================================================================

def test_someone_elses_run_does_not_resolve_my_node_prediction(team: Team) -> None:
    from upstack.services import accounts

    accounts.share(team.ws, team.project, "ada", "editor", by=None)
    with access.acting_as(access.OWNER):
        node = tree.add_node(team.ws, "experiment", "Shared sweep", under=team.project, why="Both of us run it.")
    claim = predictions.numeric_claim("loss", below=1, probability=0.7)[0]
    made = {}
    for user in (team.ada, team.eve):
        with access.acting_as(team.as_user(user)):
            made[user.name] = predictions.make(team.ws, "", 0.7, on=node.id, numeric=claim).id
    eve = team.api(team.eve)
    run_id = new_id()
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, node.id, extra=[rec("run.summary", {"run_id": run_id, "values": {"loss": 0.5}})])})
    assert answer.status_code == 200 and answer.json()["status"] == "finished", answer.text
    with access.acting_as(team.as_user(team.ada)):
        assert predictions.get(team.ws, made["ada"]).state == "open"
    with access.acting_as(team.as_user(team.eve)):
        assert predictions.get(team.ws, made["eve"]).state == "true"
    ada = team.api(team.ada)
    adas_run = new_id()
    answer = ada.post(f"/api/runs/{adas_run}/push", json={"records": run_records(
        adas_run, node.id, extra=[rec("run.summary", {"run_id": adas_run, "values": {"loss": 2.0}})])})
    assert answer.status_code == 200, answer.text
    with access.acting_as(team.as_user(team.ada)):
        shown = predictions.get(team.ws, made["ada"])
        assert shown.state == "false" and shown.resolutions[0]["evidence_id"] == adas_run


# == 6. Bad input =================================================================================

@pytest.mark.parametrize("args, said", [
    (["--metric", "loss", "--below", "0.1", "--above", "0.2", "-p", "0.5"], "not both"),
    (["--metric", "loss", "--interval", "0.15-0.10"], "upside down"),
    (["--metric", "loss", "--interval", "0.10-0.15", "--level", "150%"], "level is between 0 and 1"),
    (["--metric", "loss", "--below", "low", "-p", "0.5"], "a threshold is a number"),
    (["--metric", "loss", "--below", "nan", "-p", "0.5"], "a threshold is a number"),
    (["--metric", "loss", "--below", "inf", "-p", "0.5"], "a threshold is a number"),
    (["--metric", "loss"], "say what you expect of loss"),
    (["--metric", "loss", "--below", "0.1"], "give a probability"),
    (["--below", "0.1", "-p", "0.5"], "give --metric KEY"),
    (["--metric", "loss", "--interval", "0.1-0.2", "--level", "100%"], "(0.8 for 80%), not 100%"),
    (["--metric", "loss", "--interval", "0.1-0.2", "--level", "80"], "did you mean 80%?"),
    (["--metric", "loss", "--interval", "a-b"], "is not an interval"),
    (["--metric", "loss", "--level", "80%", "--below", "1", "-p", "0.5"], "a level goes with an interval"),
    (["--metric", "loss", "--interval", "0.1-0.2", "--level", "inf"], "level"),
    (["--metric", "loss", "--interval", "0.1-1e999"], "ends and level are numbers"),
])
def test_bad_numeric_input_is_one_line_and_keeps_nothing(run: CLI, args: list[str], said: str) -> None:
    node = _experiment(run, _project(run))
    assert_refused_unchanged(run, ["predict", "add", "--on", node, *args], said)


def test_a_numeric_prediction_on_an_idea_or_entry_or_nothing_is_refused(run: CLI) -> None:
    idea = run.ok("idea", "Probes transfer across layers").strip().split()[0]
    note = run.ok("note", "Just a note.").strip()
    run.ok("log")
    for on in (["--on", idea], ["--on", note], []):
        assert_refused_unchanged(run, ["predict", "add", *on, "--metric", "loss", "--below", "1", "-p", "0.5"],
                                 "is --on a run, or on a node")


@pytest.mark.parametrize("spec, said", [
    ({"metrik": "loss", "below": 0.1, "probability": 0.5}, "does not take 'metrik'"),
    ({"metric": "loss", "below": 0.1, "probability": 1.5}, "from 1% to 99%"),
    ({"metric": "loss", "below": 0.1}, "give a probability"),
    ({"metric": "loss", "interval": (0.2, 0.1)}, "upside down"),
    ({"metric": "loss", "interval": (0.1, None)}, "two numbers"),
    ({"metric": "loss", "below": True, "probability": 0.5}, "a threshold is a number"),
    ({"metric": "loss", "below": float("inf"), "probability": 0.5}, "a threshold is a number"),
    ({"metric": "", "below": 0.1, "probability": 0.5}, "names the run's metric"),
    ({"metric": "loss", "aggregate": "median", "below": 0.1, "probability": 0.5}, "not 'median'"),
    ({"metric": "loss", "below": 0.1, "probability": 0.5, "by": "whenever"}, "resolve-by day"),
    ("loss below 0.1", "predict= takes a dict"),
    ([{"metric": "loss", "below": 0.1, "probability": 0.5}, {"metric": "loss"}], "say what you expect"),
])
def test_a_bad_predict_spec_raises_before_any_run_folder(run: CLI, spec: Any, said: str) -> None:
    node = _experiment(run, _project(run))
    with pytest.raises(BadInput, match=said.replace("(", r"\(")):
        _run(run, "never", under=node, predict=spec)
    runs = run.home / "runs"
    assert not runs.exists() or not any(runs.iterdir())
    assert json.loads(run.ok("runs", "--json")) == []


# == 7. The run push door =========================================================================

def _predict_record(run_id: str, **over: Any) -> dict[str, Any]:
    from upstack.timeutil import now_iso

    data = {"run_id": run_id, "entry_id": new_id(), "at": now_iso(), "claim": "QUPREDICT loss below 1",
            "probability": 0.6, "metric": "loss", "comparison": "below", "threshold": 1.0, **over}
    return rec("run.predict", {k: v for k, v in data.items() if v is not None})


def _predictions_of(team: Team) -> list[dict[str, Any]]:
    return team.ws.store().db.query("SELECT * FROM predictions")


def test_a_good_run_predict_in_a_push_becomes_the_pushers_prediction(team: Team) -> None:
    eve = team.api(team.eve)
    run_id = new_id()
    record = _predict_record(run_id)
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, team.project, extra=[
        record, rec("run.summary", {"run_id": run_id, "values": {"loss": 0.5}})])})
    assert answer.status_code == 200, answer.text
    with access.acting_as(team.as_user(team.eve)):
        made = predictions.get(team.ws, record["data"]["entry_id"])
    assert made.state == "true" and made.row["target_id"] == run_id and made.entry.node_id == team.project
    assert made.entry.author_id == team.eve.id


@pytest.mark.parametrize("over, said", [
    ({"probability": 1.5}, "probability"),
    ({"threshold": "NaN"}, "threshold"),
    ({"comparison": "sideways"}, "comparison"),
    ({"low": 0.2, "high": 0.1, "comparison": None, "threshold": None}, "upside down"),
    ({"metric": ""}, "metric"),
])
def test_a_malformed_run_predict_is_refused_at_the_door(team: Team, over: dict[str, Any], said: str) -> None:
    eve = team.api(team.eve)
    run_id = new_id()
    record = _predict_record(run_id, **over)
    if over.get("threshold") == "NaN":
        body = json.dumps({"records": run_records(run_id, team.project, extra=[record])}).replace(
            '"threshold": "NaN"', '"threshold": NaN')
        answer = eve.post(f"/api/runs/{run_id}/push", content=body, headers={"Content-Type": "application/json"})
    else:
        answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, team.project,
                                                                                   extra=[record])})
    assert answer.status_code == 400, answer.text
    assert said in answer.json()["error"].lower() or said in answer.text.lower(), answer.text
    assert _predictions_of(team) == []
    assert not team.ws.store().db.scalar("SELECT count(*) FROM runs WHERE id = ?", (run_id,))


def test_a_run_predict_cannot_take_another_entrys_id(team: Team) -> None:
    with access.acting_as(team.as_user(team.ada)):
        from upstack.services import capture

        note = capture.note(team.ws, "QUADA a note of ada's", under=team.project)
        adas = predictions.make(team.ws, "QUADA a prediction", 0.3, under=team.project)
    eve = team.api(team.eve)
    before = dump_tables(team.ws.store().db)
    for taken in (note.id, adas.id, team.project, None):
        run_id = new_id()
        taken = taken or run_id  # the run's own result entry's id
        answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
            run_id, team.project, extra=[_predict_record(run_id, entry_id=taken),
                                         rec("run.summary", {"run_id": run_id, "values": {"loss": 0.5}})])})
        assert answer.status_code == 400 and "taken" in answer.text, answer.text
    after = dump_tables(team.ws.store().db)
    for table in ("predictions", "prediction_events", "entries", "revisions", "nodes"):
        kept = [row for row in after.get(table, []) if row in before.get(table, [])]
        assert kept == before.get(table, []), table
    with access.acting_as(team.as_user(team.ada)):
        assert predictions.get(team.ws, adas.id).state == "open"
        assert predictions.get(team.ws, adas.id).row["target_kind"] is None


def test_a_run_predict_naming_someone_elses_run_is_refused(team: Team) -> None:
    ada = team.api(team.ada)
    adas_run = new_id()
    assert ada.post(f"/api/runs/{adas_run}/push", json={"records": run_records(
        adas_run, team.project, end=False)}).status_code == 200
    eve = team.api(team.eve)
    answer = eve.post(f"/api/runs/{adas_run}/push", json={"records": [_predict_record(adas_run)]})
    assert answer.status_code == 404, answer.text
    own = new_id()
    answer = eve.post(f"/api/runs/{own}/push", json={"records": run_records(own, team.project, extra=[
        _predict_record(adas_run)])})
    assert answer.status_code == 400 and "must name that run" in answer.text
    assert _predictions_of(team) == []


# == 8. Calibration: the diagram and a project ====================================================

def test_calibration_draws_a_png_and_filters_by_project(run: CLI, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    first, second = _project(run, "Probes"), _project(run, "Saes")
    for project, loss in ((first, 0.5), (second, 2.0)):
        node = _experiment(run, project)
        _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "80%")
        with _run(run, f"under-{project}", under=node) as r:
            r.log({"loss": loss})
    out = tmp_path / "figs" / "reliability.png"
    assert run.ok("calibration", "--out", str(out)).strip().splitlines()[0] == str(out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "r.svg"
    run.ok("calibration", "--out", str(svg), "--json")
    assert b"<svg" in svg.read_bytes()[:500]
    assert_refused_unchanged(run, ["calibration", "--out", str(tmp_path / "x.txt")], "use a .png, .svg or .pdf")
    assert not (tmp_path / "x.txt").exists()
    whole = json.loads(run.ok("calibration", "--json"))
    assert whole["n"] == 2 and set(whole["by_project"]) == {"Probes", "Saes"}
    only = json.loads(run.ok("calibration", "--project", first, "--json"))
    assert (only["n"], only["came_true"], list(only["by_project"])) == (1, 1.0, ["Probes"])
    assert_refused_unchanged(run, ["calibration", "--project", "nothing-here"], "nothing-here")
    by_name = json.loads(run.ok("calibration", "--project", "probe", "--json"))  # as `note --project` takes it
    assert (by_name["n"], list(by_name["by_project"])) == (1, ["Probes"])


# == Attacks: each hole found is a test =============================================================

def test_huge_negative_and_odd_claims_resolve_or_wait(run: CLI) -> None:
    """Held: a threshold of 1e308, an interval of negative numbers, a metric name with spaces, slashes,
    colons and non-ASCII; a run whose metric is only infinite leaves it open (no value to judge by)."""
    node = _experiment(run, _project(run))
    huge = _predict_on(run, node, "--metric", "loss", "--below", "1e308", "-p", "0.5")
    negative = _predict_on(run, node, "--metric", "margin", "--interval", "-0.2--0.1")
    odd = _predict_on(run, node, "--metric", "eval/acc: held-out ✓", "--above", "0.5", "-p", "0.5")
    infinite = _predict_on(run, node, "--metric", "grad", "--above", "0", "-p", "0.5")
    with _run(run, "odd", under=node) as r:
        r.log({"loss": 1e300, "margin": -0.15, "eval/acc: held-out ✓": 0.75, "grad": float("inf")})
    assert [_show(run, ref)["state"] for ref in (huge, negative, odd, infinite)] == ["true", "true", "true", "open"]
    assert _show(run, negative)["numeric"]["low"] == -0.2
    assert _show(run, negative)["claim"] == "final margin in interval -0.2 to -0.1"  # not "-0.2--0.1"


def test_a_metric_name_no_run_can_log_is_refused(run: CLI) -> None:
    """A metric's name longer than a run may log (200 characters) would wait for ever: refused."""
    node = _experiment(run, _project(run))
    assert_refused_unchanged(run, ["predict", "add", "--on", node, "--metric", "x" * 201, "--above", "0", "-p",
                                   "0.5"], "at most 200 characters")
    with pytest.raises(BadInput, match="at most 200 characters"):
        _run(run, "never", under=node, predict={"metric": "x" * 201, "above": 0, "probability": 0.5})


def test_a_numeric_prediction_on_a_deleted_node_is_refused(run: CLI, workspace: Workspace) -> None:
    node = _experiment(run, _project(run))
    tree.remove_node(workspace, node)
    assert_refused_unchanged(run, ["predict", "add", "--on", node, "--metric", "loss", "--below", "1", "-p", "0.5"],
                             "was deleted")


def test_a_hand_written_run_predict_cannot_claim_another_author(run: CLI, workspace: Workspace) -> None:
    """A run.predict line added by hand to a run's folder, saying it is someone else's (``by``): the
    prediction is the run's author's, as the run's own records are."""
    from upstack.formats.journal import Record
    from upstack.formats.rundir import RECORDS
    from upstack.timeutil import now_iso

    node = _experiment(run, _project(run))
    r = _run(run, "hand", under=node)
    entry_id = new_id()
    line = Record(new_id(), "run.predict", "hand", now_iso(), {
        "run_id": r.id, "entry_id": entry_id, "at": now_iso(), "claim": "QUHAND loss below 1", "probability": 0.6,
        "metric": "loss", "comparison": "below", "threshold": 1.0, "by": "someone-else", "author_id": "x"})
    with open(r.directory / RECORDS, "a", encoding="utf-8") as handle:
        handle.write(line.to_json() + "\n")
    r.log({"loss": 0.5})
    r.finish()
    workspace.ingest()
    author = workspace.store().db.scalar("SELECT author_id FROM entries WHERE id = ?", (r.id,))
    assert workspace.store().db.scalar("SELECT author_id FROM entries WHERE id = ?", (entry_id,)) == author
    assert _show(run, entry_id)["state"] == "true"


def test_purging_a_prediction_before_its_run_ends_keeps_it_purged(run: CLI, workspace: Workspace) -> None:
    node = _experiment(run, _project(run))
    made = _predict_on(run, node, "--metric", "loss", "--below", "1", "-p", "60%", "--why", "QUSECRET why")
    r = _run(run, "purged", under=node, predict={"metric": "loss", "below": 1, "probability": 0.6,
                                                "claim": "QUSECRET claim"})
    own = [p["short"] for p in json.loads(run.ok("predict", "list", "--json"))]
    assert len(own) == 2
    for ref in own:
        run.ok("purge", ref, "--yes")
    r.log({"loss": 0.5})
    r.finish()
    assert json.loads(run.ok("predict", "list", "--json")) == []
    assert "QUSECRET" not in run.ok("export")
    assert not workspace.store().db.scalar("SELECT count(*) FROM prediction_events")
    assert made in own


def test_a_run_predict_pushed_after_the_run_ended_is_refused(team: Team) -> None:
    """A run.predict sent once the run's result is in, back-dated to the run's start: a forecast
    made knowing the answer would score as made before it (the rule is never a back-dated time)."""
    from upstack.timeutil import now_iso

    eve = team.api(team.eve)
    run_id, started = new_id(), now_iso()
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, team.project, start={"started_at": started},
        extra=[rec("run.summary", {"run_id": run_id, "values": {"loss": 0.5}})])})
    assert answer.status_code == 200, answer.text
    late = eve.post(f"/api/runs/{run_id}/push", json={"records": [_predict_record(run_id, at=started)]})
    assert late.status_code == 400 and "ended" in late.text, late.text
    assert _predictions_of(team) == []


def test_a_node_prediction_is_resolved_by_the_run_that_ended_first(team: Team) -> None:
    from upstack.timeutil import now_iso

    with access.acting_as(team.as_user(team.eve)):
        made = predictions.make(team.ws, "", 0.7, on=team.project, numeric=predictions.numeric_claim(
            "loss", below=1, probability=0.7)[0]).id
    eve = team.api(team.eve)
    first, second = new_id(), new_id()
    first_started = now_iso()
    first_ended = now_iso()
    assert eve.post(f"/api/runs/{second}/push", json={"records": run_records(
        second, team.project, extra=[rec("run.summary", {"run_id": second, "values": {"loss": 2.0}})])}
    ).status_code == 200
    records = run_records(first, team.project, start={"started_at": first_started},
                          extra=[rec("run.summary", {"run_id": first, "values": {"loss": 0.5}})])
    records[-1]["data"]["ended_at"] = first_ended
    assert eve.post(f"/api/runs/{first}/push", json={"records": records}).status_code == 200
    with access.acting_as(team.as_user(team.eve)):
        assert predictions.get(team.ws, made).resolutions[-1]["evidence_id"] == first


def test_a_run_synced_later_brings_its_prediction(team: Team, tmp_path: Path) -> None:
    """A run logged offline and sent by `upstack sync` afterwards: its prediction reaches the server."""
    from upstack.services import accounts
    from upstack.services import sync as sync_service
    from upstack.services.runstart import start_run

    laptop = Workspace(home=tmp_path / "laptop", run_capture="none")
    with start_run(laptop, "offline", predict={"metric": "loss", "below": 1, "probability": 0.6}) as r:
        r.log({"loss": 0.5})
    laptop.ingest()
    [made] = predictions.listing(laptop)
    assert made.state == "true"
    sync_service.login(laptop, team.server.url, accounts.create_token(team.ws, team.eve.id, "laptop")[1])
    report = sync_service.sync(laptop)
    assert report.runs_sent == 1, report
    with access.acting_as(team.as_user(team.eve)):
        found = predictions.get(team.ws, made.id)
    assert found.state == "true" and found.row["target_id"] == r.id
    laptop.close()
