"""Group charts: runs bucketed onto common x buckets, mean and band across them (both engines), over HTTP."""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator

import pytest

import upstack
from upstack.errors import BadInput, NotFound
from upstack.services import run_charts
from upstack.services import runs as run_service
from upstack.workspace import Workspace
from webserver import Server, serve


def _run(ws: Workspace, config: dict, values: list[float], steps: list[int] | None = None) -> str:
    with upstack.run("sweep", home=ws.home, db=ws.db_url, capture="none", config=config) as run:
        for step, value in zip(steps or range(len(values)), values, strict=True):
            run.log({"loss": value}, step=step)
    ws.ingest()
    return run.short


def test_bucket_means_average_each_bucket_and_skip_what_is_not_finite() -> None:
    xs = array("q", [0, 1, 2, 3, 4, 5])
    values = array("d", [1.0, 3.0, math.nan, 5.0, 7.0, 9.0])
    assert run_charts.bucket_means(xs, values, [0, 2, 4, 5]) == [2.0, 5.0, 8.0]
    assert run_charts.bucket_means(xs, values, [10, 20, 30]) == [None, None]


def test_a_group_is_the_mean_with_a_std_or_minmax_band(workspace: Workspace) -> None:
    shorts = [_run(workspace, {"lr": 0.1, "seed": s}, [float(s + 1)] * 100) for s in range(3)]
    line = run_charts.group_series(workspace, shorts, "loss", points=10)
    assert len(line.xs) == 10 and line.counts == [3] * 10 and line.total == 300
    assert all(m == pytest.approx(2.0) for m in line.mean)
    assert line.low == pytest.approx([1.0] * 10) and line.high == pytest.approx([3.0] * 10)
    minmax = run_charts.group_series(workspace, shorts, "loss", band="minmax", points=5)
    assert minmax.low == [1.0] * 5 and minmax.high == [3.0] * 5
    by_time = run_charts.group_series(workspace, shorts, "loss", x="time", points=4)
    # By seconds since each run's first point: every run starts at 0, so the first bucket holds all three.
    assert by_time.xs[0] >= 0 and by_time.counts[0] == 3 and by_time.mean[0] == pytest.approx(2.0)
    assert all(m == pytest.approx(2.0) for m, n in zip(by_time.mean, by_time.counts, strict=True) if n == 3)


def test_runs_of_different_lengths_count_only_where_they_have_points(workspace: Workspace) -> None:
    short = _run(workspace, {"seed": 0}, [1.0] * 10)
    long = _run(workspace, {"seed": 1}, [3.0] * 20)
    line = run_charts.group_series(workspace, [short, long], "loss", points=20)
    assert line.counts[:10] == [2] * 10 and line.counts[10:] == [1] * 10
    assert line.mean[0] == 2.0 and line.mean[-1] == 3.0 and line.low[-1] == line.high[-1] == 3.0


def test_bad_requests_are_one_line_refusals(workspace: Workspace) -> None:
    short = _run(workspace, {}, [1.0, 2.0])
    with pytest.raises(BadInput):
        run_charts.group_series(workspace, [short], "loss", band="iqr")
    with pytest.raises(BadInput):
        run_charts.group_series(workspace, [], "loss")
    with pytest.raises(NotFound):
        run_charts.group_series(workspace, [short, "zzzzzzz"], "loss")
    assert run_charts.group_series(workspace, [short], "acc").missing == [short]


def test_groups_split_by_keys_or_everything_but_some(workspace: Workspace) -> None:
    for lr in (0.1, 0.2):
        for seed in range(2):
            _run(workspace, {"lr": lr, "seed": seed, "opt": {"name": "adam"}}, [lr])
    runs = run_service.list_runs(workspace)
    assert sorted((g.label, len(g.runs)) for g in run_service.group_runs(runs, ["lr"]).groups) == \
        [("lr=0.1", 2), ("lr=0.2", 2)]
    assert sorted(len(g.runs) for g in run_service.group_runs(runs, ["-seed"]).groups) == [2, 2]
    assert [len(g.runs) for g in run_service.group_runs(runs, []).groups] == [4]


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def test_the_groups_page_plans_one_line_per_group_and_serves_its_aggregate(server: Server,
                                                                        workspace: Workspace) -> None:
    for lr in (0.1, 0.2):
        for seed in range(3):
            _run(workspace, {"lr": lr, "seed": seed}, [lr * 10 + seed] * 50)
    client = server.client()
    page = client.get("/runs/groups.json", params={"by": "lr", "band": "minmax"})
    assert page.status_code == 200, page.text
    body = page.json()
    assert sorted(g["label"] for g in body["groups"]) == ["lr=0.1", "lr=0.2"]
    (chart,) = body["plan"]["charts"]
    assert chart["key"] == "loss" and len(chart["lines"]) == 2
    data = client.get(chart["lines"][0]["url"]).json()
    assert data["band"] == "minmax" and data["total"] == 150 and set(data["counts"]) == {3}
    assert client.get("/runs/groups").status_code == 200
    assert "<h1>Runs grouped by lr</h1>" in client.get("/runs/groups", params={"by": "lr"}).text
    heading = "<h1>Runs grouped by every config value that differs but seed</h1>"
    assert heading in client.get("/runs/groups", params={"by": "-seed"}).text
    assert client.get("/runs/groups.json", params={"band": "nope"}).status_code == 400
    assert client.get("/runs/groups/series.json", params={"key": "loss", "id": "zzzzzzz"}).status_code == 404
    # A typo in a key or a filter: said above the form, which keeps what was typed (the JSON twin: 400)
    for params, said in [({"by": "seedd"}, "did you mean seed?"), ({"by": "lr", "where": "lrr=1"}, "did you mean lr?")]:
        typo = client.get("/runs/groups", params=params)
        assert typo.status_code == 400 and 'id="filter-error"' in typo.text and said in typo.text
        assert 'id="group-controls"' in typo.text and f'value="{params["by"]}"' in typo.text
        assert client.get("/runs/groups.json", params=params).status_code == 400


def test_the_runs_table_offers_result_columns_and_keeps_the_sort_asked_for(server: Server,
                                                                          workspace: Workspace) -> None:
    first = _run(workspace, {"lr": 0.1, "opt": {"name": "adam"}}, [3.0, 2.0, 1.0])
    second = _run(workspace, {"lr": 0.2}, [4.0, 0.5, 2.5])
    client = server.client()
    body = client.get("/runs.json", params={"sort": "best(loss)"}).json()
    assert body["filters"]["sort"] == "best(loss)"
    ids = {r["short"]: r["id"] for r in body["runs"]}
    columns = body["columns"]
    assert [c["id"] for c in columns["available"]] == ["lr", "opt.name", "final(loss)", "best(loss)"]
    assert columns["values"][ids[first]] == {"lr": "0.1", "opt.name": "adam", "final(loss)": "1",
                                             "best(loss)": "1"}
    assert columns["values"][ids[second]]["best(loss)"] == "0.5"
    html = client.get("/runs").text
    assert 'id="run-columns-data"' in html and 'name="sort"' in html


def test_compare_sends_config_against_results_for_its_charts(server: Server, workspace: Workspace) -> None:
    shorts = [_run(workspace, {"lr": lr, "opt": opt}, [lr, lr / 2]) for lr, opt in ((0.1, "adam"), (0.2, "sgd"))]
    views = server.client().get("/runs/compare.json", params=[("id", s) for s in shorts]).json()["views"]
    assert views["config"] == ["lr", "opt"]
    assert views["outcomes"] == ["best(loss)", "final(loss)"]
    assert [r["values"] for r in views["runs"]] == [
        {"lr": 0.1, "opt": "adam", "final(loss)": 0.05, "best(loss)": 0.05},
        {"lr": 0.2, "opt": "sgd", "final(loss)": 0.1, "best(loss)": 0.1}]
