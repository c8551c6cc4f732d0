"""Run analysis: filters and sorting on metrics and summary values, groups over seeds, compare."""

from __future__ import annotations

import base64
import json
import math
import re
import statistics
from array import array
from pathlib import Path
from typing import Any

import pytest

import upstack
from attack_common import rec, run_records
from conftest import CLI
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import runs as run_service
from upstack.workspace import Workspace


def _run(ws: Workspace, name: str, config: dict[str, Any], series: dict[str, list[float]],
         summary: dict[str, Any] | None = None, goals: dict[str, str] | None = None) -> upstack.Run:
    with upstack.run(name, config=config, home=ws.home, db=ws.db_url, capture="none", goals=goals) as r:
        for step in range(max(len(v) for v in series.values())):
            r.log({k: v[step] for k, v in series.items() if step < len(v)}, step=step)
        if summary:
            r.summary(**summary)
    return r


@pytest.fixture
def sweep(workspace: Workspace) -> dict[tuple[float, int], upstack.Run]:
    """Three learning rates, three seeds each: loss falls to lr*10 + seed/100; acc rises to 1 - loss."""
    made = {}
    for lr in (0.1, 0.2, 0.3):
        for seed in (0, 1, 2):
            final = lr * 10 + seed / 100
            loss = [final + 1.0, final - 0.5, final]  # its best (lowest) is in the middle
            made[(lr, seed)] = _run(workspace, "sweep", {"lr": lr, "seed": seed, "model": {"width": 64}},
                                    {"loss": loss, "val/acc": [1 - v for v in loss]},
                                    summary={"tokens": int(lr * 1000) + seed})
    workspace.ingest()
    return made


def _ids(runs: list[Any]) -> list[str]:
    return [r.id for r in runs]


def test_where_reads_metrics_config_and_summary(workspace: Workspace, sweep: dict) -> None:
    def found(*where: str, **options: Any) -> set[tuple[float, int]]:
        ids = set(_ids(run_service.list_runs(workspace, where=list(where), **options)))
        return {k for k, r in sweep.items() if r.id in ids}

    assert found("loss<2.005") == {(0.1, 0), (0.1, 1), (0.1, 2), (0.2, 0)}  # a bare metric: its final value
    assert found("final(loss)<2.005") == found("loss<2.005")
    assert found("best(loss)<1") == {(0.1, 0), (0.1, 1), (0.1, 2)}  # best of a loss: its lowest, final - 0.5
    assert found("min(loss)<1") == found("best(loss)<1")
    assert found("max(loss)>=4") == {(0.3, 0), (0.3, 1), (0.3, 2)}
    assert found("best(val/acc)>0", "seed=2") == {(0.1, 2)}  # best of an accuracy: its highest
    assert found("tokens=201") == {(0.2, 1)}  # a summary value
    assert found("summary(tokens)>300") == {(0.3, 1), (0.3, 2)}
    assert found("model.width=64", "config(lr)=0.2", "loss>=2.01") == {(0.2, 1), (0.2, 2)}
    assert found("loss<0") == set()


def test_a_key_no_run_has_names_the_keys_there_are(workspace: Workspace, sweep: dict) -> None:
    with pytest.raises(BadInput) as error:
        run_service.list_runs(workspace, where=["val/accuracy>0.5"])
    said = str(error.value)
    assert "no run here has 'val/accuracy'" in said and "did you mean val/acc" in said
    assert "metrics: loss, val/acc" in said and "config: lr, model.width, seed" in said and "tokens" in said
    with pytest.raises(BadInput, match=r"best\(los\).*did you mean loss"):
        run_service.list_runs(workspace, where=["best(los)<1"])
    with pytest.raises(BadInput, match="^sort nope: "):
        run_service.list_runs(workspace, sort="nope")
    with pytest.raises(BadInput, match="cannot read the filter"):
        run_service.list_runs(workspace, where=["lr"])
    assert run_service.list_runs(workspace, where=["lr=0.1"], under=None, status="crashed") == []  # nothing to name


def test_sort_puts_the_best_first_and_says_direction(workspace: Workspace, sweep: dict) -> None:
    by_loss = run_service.list_runs(workspace, sort="best(loss)")  # a loss: lowest first
    bests = [next(m.best for m in r.metrics if m.key == "loss") for r in by_loss]
    assert bests == sorted(bests) and len(bests) == 9
    by_acc = run_service.list_runs(workspace, sort="final(val/acc)")  # an accuracy: highest first
    finals = [next(m.last for m in r.metrics if m.key == "val/acc") for r in by_acc]
    assert finals == sorted(finals, reverse=True)
    assert _ids(run_service.list_runs(workspace, sort="val/acc asc")) == _ids(by_acc)[::-1]
    by_lr = run_service.list_runs(workspace, sort="lr desc", limit=3)
    assert {r.config["lr"] for r in by_lr} == {0.3}
    assert [r.config["seed"] for r in by_lr] == [2, 1, 0]  # ties keep newest first


def test_runs_without_the_value_or_with_nan_sort_last(workspace: Workspace) -> None:
    low = _run(workspace, "low", {"lr": 1}, {"loss": [0.1]})
    nan = _run(workspace, "nan", {"lr": 2}, {"loss": [math.nan]})
    none = _run(workspace, "none", {"lr": 3}, {"acc": [0.5]})
    high = _run(workspace, "high", {"lr": 4}, {"loss": [0.9]})
    workspace.ingest()
    assert _ids(run_service.list_runs(workspace, sort="loss")) == [low.id, high.id, none.id, nan.id]
    assert _ids(run_service.list_runs(workspace, sort="loss desc"))[:2] == [high.id, low.id]
    assert _ids(run_service.list_runs(workspace, where=["loss!=0.1"])) == [high.id, nan.id]


def test_a_stated_goal_decides_best(workspace: Workspace) -> None:
    a = _run(workspace, "a", {}, {"recovered": [0.2, 0.9, 0.5]}, goals={"recovered": "max"})
    b = _run(workspace, "b", {}, {"recovered": [0.1, 0.6, 0.7]}, goals={"recovered": "max"})
    workspace.ingest()
    assert _ids(run_service.list_runs(workspace, sort="best(recovered)")) == [a.id, b.id]
    assert _ids(run_service.list_runs(workspace, where=["best(recovered)>0.8"])) == [a.id]


def test_groups_over_seeds_give_mean_and_std(workspace: Workspace, sweep: dict, run: CLI) -> None:
    grouping = run_service.group_runs(run_service.list_runs(workspace), "-seed")
    assert grouping.keys == ["lr"] and len(grouping.groups) == 3
    for group in grouping.groups:
        lr = group.values["lr"]
        finals = [lr * 10 + s / 100 for s in (0, 1, 2)]
        stat = group.stats["loss"]
        assert stat.count == 3 and len(group.runs) == 3
        assert stat.final_mean == pytest.approx(statistics.fmean(finals))
        assert stat.final_std == pytest.approx(statistics.stdev(finals))
        assert stat.best_mean == pytest.approx(statistics.fmean(finals) - 0.5)
        assert stat.final_min == pytest.approx(min(finals)) and stat.final_max == pytest.approx(max(finals))
    same = run_service.group_runs(run_service.list_runs(workspace), "lr")
    assert [g.values for g in same.groups] == [g.values for g in grouping.groups]
    text = run.ok("runs", "--group", "-seed", "--metric", "loss")
    assert "lr=0.3" in text and "3.01 ± 0.01 / 2.51 ± 0.01" in text and "3 groups by lr" in text
    data = json.loads(run.ok("runs", "--group", "lr,seed", "--where", "lr=0.1", "--json"))
    assert data["keys"] == ["lr", "seed"] and len(data["groups"]) == 3
    assert all(g["count"] == 1 and g["metrics"]["loss"]["final_std"] is None for g in data["groups"])
    missing = run("runs", "--group", "sed")
    assert missing.exit_code == 1 and "did you mean seed" in missing.stderr
    assert "no such metric" in run("runs", "--group", "lr", "--metric", "nope").stderr


def test_cli_filters_sorts_and_compares_summary_values(workspace: Workspace, sweep: dict, run: CLI) -> None:
    listed = json.loads(run.ok("runs", "--where", "best(loss)<1", "--sort", "final(loss) desc", "--json"))
    assert [r["config"]["seed"] for r in listed] == [2, 1, 0]
    text = run.ok("runs", "--sort", "val/acc", "-n", "1")
    assert text.count("\n") == 1 and "val/acc" in text.split("  ")[-1].split(",")[0]
    bad = run("runs", "--where", "los<1")
    assert bad.exit_code == 1 and "did you mean loss" in bad.stderr and "Traceback" not in bad.stderr
    three = [sweep[(0.1, 0)], sweep[(0.2, 1)], sweep[(0.3, 2)]]
    compared = run.ok("compare", *(r.short for r in three))
    assert "summary" in compared and "tokens" in compared and "100" in compared and "302" in compared
    data = json.loads(run.ok("compare", *(r.short for r in three), "--json"))
    assert data["summary"]["tokens"] == [100, 201, 302] and data["differences"]["lr"] == [0.1, 0.2, 0.3]


def test_two_conditions_joined_by_a_comma_get_a_hint_to_repeat_where(sweep: dict, run: CLI) -> None:
    """`--where lr=0.1,seed=1` (as W&B's and MLflow's filters join them) is one condition whose value
    matches nothing: the empty answer says to repeat --where, quoted for the shell."""
    text = run.ok("runs", "--where", "lr=0.1,seed=1")
    assert "No runs match" in text and "repeat it: --where lr=0.1 --where seed=1" in text
    text = run.ok("runs", "--where", "lr=0.1, val/acc>0.9")
    assert "--where lr=0.1 --where 'val/acc>0.9'" in text
    assert "repeat it" not in run.ok("runs", "--where", "lr=0.4")
    assert len(json.loads(run.ok("runs", "--where", "lr=0.1", "--where", "seed=1", "--json"))) == 1


def test_compare_chooses_runs_by_filter_and_names_the_config_they_share(sweep: dict, run: CLI) -> None:
    """`compare --where ... --sort ... -n` compares a sweep's best without copying ids; the config
    every run shares is named (it was a count: "2 config values are the same in every run")."""
    best = json.loads(run.ok("compare", "--where", "lr=0.1", "--sort", "best(loss)", "-n", "2", "--json"))
    assert [r["id"] for r in best["runs"]] == [sweep[(0.1, 0)].id, sweep[(0.1, 1)].id]
    assert best["differences"] == {"seed": [0, 1]} and best["same"] == {"lr": 0.1, "model.width": 64}
    text = run.ok("compare", sweep[(0.3, 2)].short, "--where", "lr=0.1", "-n", "2")
    assert sweep[(0.3, 2)].short in text.splitlines()[0]
    assert "the same in every run: model.width=64" in text
    for args, said in [(["compare", "--where", "lr=9"], "no runs match --where lr=9"),
                       (["compare"], "compare needs runs: give their ids, or choose them with --under, --where"),
                       (["compare", sweep[(0.1, 0)].short, "--sort", "loss"], "--sort orders the runs"),
                       (["compare", "lr=0.1", "seed>0"], "'lr=0.1' is a filter, not a run: --where lr=0.1")]:
        refused = run(*args)
        assert refused.exit_code == 1 and said in refused.stderr, refused.output


def test_a_team_server_names_no_key_of_a_run_the_reader_cannot_see(team) -> None:  # noqa: ANN001
    """The "which keys exist" hint is drawn from the runs the reader may see, never another's."""
    ada = team.api(team.ada)
    secret = new_id()
    start = {"name": "QUSECRETRUN", "config": {"QUSECRETCONF": 1}}
    records = run_records(secret, None, start=start,  # filed under no node: ada's alone
                          extra=[rec("run.summary", {"run_id": secret, "values": {"QUSECRETSUMMARY": 1}})])
    def enc(a: array) -> str:
        return base64.b64encode(a.tobytes()).decode()

    points = {"QUSECRETMETRIC": {"from": 0, "steps": enc(array("q", [0])), "times": enc(array("d", [1.0])),
                                 "values": enc(array("d", [0.5]))}}
    answer = ada.post(f"/api/runs/{secret}/push", json={"records": records, "points": points})
    assert answer.status_code == 200, answer.text
    assert "QUSECRETMETRIC" in ada.get("/runs.json?where=nothing%3E1").text  # its author is told
    shared = new_id()  # one run bob may see, so that his filters have keys to name
    points = {"loss": {**points["QUSECRETMETRIC"]}}
    answer = ada.post(f"/api/runs/{shared}/push", json={"records": run_records(shared, team.project), "points": points})
    assert answer.status_code == 200, answer.text
    bob = team.api(team.bob)
    for query, asked in (("nothing%3E1", "nothing"), ("QUSECRETMETRI%3E0", "QUSECRETMETRI"),
                         ("best(QUSECRETMETRIC)%3C1", "QUSECRETMETRIC"), ("QUSECRETCONF%3D1", "QUSECRETCONF"),
                         ("QUSECRETSUMMARY%3D1", "QUSECRETSUMMARY")):
        answer = bob.get(f"/runs.json?where={query}")
        assert answer.status_code == 400, (query, answer.text)  # as if there were no such key anywhere
        text = answer.text.replace(asked, "")
        assert "loss" in text
        for word in ("QUSECRETRUN", "QUSECRETCONF", "QUSECRETSUMMARY", "QUSECRETMETRIC"):
            assert word not in text, (query, text)


def test_plot_draws_each_group_as_a_mean_with_a_band(workspace: Workspace, sweep: dict, run: CLI,
                                                     tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "seeds.svg"
    said = run.ok("plot", "--where", "lr<0.25", "--group", "-seed", "loss", "--out", str(out))
    assert said.strip() == str(out)
    svg = out.read_text()
    labels = re.findall(r"<!-- (lr=[^ ]+ \(n=\d\)) -->", svg)  # matplotlib's SVG names each text it draws
    assert sorted(labels) == ["lr=0.1 (n=3)", "lr=0.2 (n=3)"]
    assert svg.count('id="FillBetweenPolyCollection') + svg.count('id="PolyCollection') == 2  # two bands
    ids = [sweep[(0.3, s)].short for s in (0, 1, 2)]
    minmax = tmp_path / "minmax.png"
    run.ok("plot", *ids, "loss", "val/acc", "--group", "lr", "--band", "minmax", "--out", str(minmax))
    assert minmax.read_bytes().startswith(b"\x89PNG")
    assert "logged no metric 'nope'" in run("plot", *ids, "nope", "--group", "lr", "--out", str(minmax)).stderr
    assert "no runs match" in run("plot", "--where", "lr>5", "loss", "--out", str(minmax)).stderr


def test_tags_choose_runs_whole_and_case_aside(workspace: Workspace, run: CLI) -> None:
    """`--tag` (W&B's tag filter): every tag given, a whole tag (never part of one), case aside; LIKE's
    wildcards in a tag are only characters."""
    made = {}
    for name, tags in (("base", ["Baseline", "sae"]), ("both", ["baseline", "sweep_1"]), ("part", ["baselines"]),
                       ("wild", ["sweepX1"]), ("umlaut", ["Ärger"]), ("none", [])):
        with upstack.run(name, tags=tags, home=workspace.home, db=workspace.db_url, capture="none") as r:
            r.log({"loss": 1.0})
        made[name] = r.id
    workspace.ingest()

    def names(*tags: str) -> set[str]:
        return {r.name for r in run_service.list_runs(workspace, tags=tags)}

    assert names("baseline") == {"base", "both"} == names("#BASELINE")
    assert names("baseline", "sweep_1") == {"both"} and names("sweep_1") == {"both"}  # "_" is no wildcard
    assert names("sae", "sweep_1") == set() and names("base") == set()
    assert names("ärger") == {"umlaut"} == names("ÄRGER")  # case aside beyond ASCII too (SQLite's lower() is not)
    with pytest.raises(BadInput, match="a tag to filter by is a word"):
        run_service.list_runs(workspace, tags=["#"])
    listed = json.loads(run.ok("runs", "--tag", "baseline", "--tag", "sae", "--json"))
    assert [r["name"] for r in listed] == ["base"]
    assert "No runs match --tag nothing." in run.ok("runs", "--tag", "nothing")
    compared = json.loads(run.ok("compare", "--tag", "baseline", "--json"))
    assert sorted(r["name"] for r in compared["runs"]) == ["base", "both"]
    from webserver import serve

    with serve(workspace.home, workspace.db_url) as server:
        body = server.client().get("/runs.json", params=[("tag", "baseline"), ("tag", "sweep_1")]).json()
    assert [r["name"] for r in body["runs"]] == ["both"] and body["filters"]["tag"] == ["baseline", "sweep_1"]
