"""The runs pages over real HTTP: the list and its filters, one run, series data for charts, compare."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import upstack
from upstack.domain.downsample import keep_positions, step_window, thin
from upstack.services import runs as run_service
from upstack.services import tree
from upstack.workspace import Workspace
from webserver import Server, serve

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 50


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def _run(ws: Workspace, name: str, config: dict[str, Any], points: int = 20, fail: bool = False,
         under: str | None = None, **metrics: Any) -> str:
    """A finished (or failed) run logging ``loss`` (and ``acc``) at ``points`` steps; its short id."""
    made = upstack.run(name, home=ws.home, db=ws.db_url, capture="none", config=config, under=under)
    try:
        with made as run:
            for step in range(points):
                run.log({"loss": 1.0 / (step + 1), "acc": step / points, **metrics}, step=step)
            if fail:
                raise RuntimeError("diverged at step 12")
    except RuntimeError:
        pass
    return made.short


def _spiky(step: int) -> float:
    if step == 54_321:
        return 1000.0  # the one spike: the global max
    if step == 77_777:
        return -500.0  # the global min
    if 1000 <= step < 1010 or step == 60_000:
        return math.nan
    return math.sin(step / 500)


# -- the list ---------------------------------------------------------------------------------

def test_the_runs_list_filters_by_status_name_and_config(server: Server, workspace: Workspace) -> None:
    project = tree.add_node(workspace, "project", "SAE features", why="Features we can trust.")
    question = tree.add_node(workspace, "question", "Does width saturate?", under=project.id, why="Next sweep.")
    first = _run(workspace, "sae-sweep", {"lr": 3e-4, "optim": {"name": "adam"}}, under=question.short)
    second = _run(workspace, "sae-sweep", {"lr": 1e-3, "optim": {"name": "sgd"}})
    failed = _run(workspace, "probe", {"lr": 3e-4}, fail=True)
    client = server.client()

    everything = client.get("/runs.json").json()
    assert [r["short"] for r in everything["runs"]] == [failed, second, first]  # newest first
    row = everything["runs"][0]
    assert row["status"] == "failed" and row["error"] == "RuntimeError: diverged at step 12"
    assert row["duration"] >= 0 and row["last_heard"] is None and "provenance" not in row
    assert {m["key"]: m["last"] for m in row["metrics"]} == {"acc": 19 / 20, "loss": 1 / 20}

    def shorts(**params: Any) -> list[str]:
        response = client.get("/runs.json", params=params)
        assert response.status_code == 200, response.text
        return [r["short"] for r in response.json()["runs"]]

    assert shorts(status="failed") == [failed]
    assert shorts(name="sae-sweep") == [second, first]
    assert shorts(where="lr=3e-4") == [failed, first]
    assert shorts(where=["lr=3e-4", "optim.name=adam"]) == [first]
    assert shorts(where=["optim.name!=adam", ""]) == [second]  # an empty form field is no filter
    assert shorts(since="2000-01-01", until="2999-01-01") == [failed, second, first]
    assert shorts(until="2000-01-01") == []
    assert shorts(under=project.short) == [first]  # filed under its question, below the project
    assert client.get("/runs.json", params={"under": "nosuchnode"}).status_code == 404
    assert client.get("/runs.json", params={"status": "exploded"}).status_code == 400
    assert "cannot read the filter" in client.get("/runs.json", params={"where": "lr"}).json()["error"]

    html = client.get("/runs", params={"where": "lr=3e-4"}).text
    assert f'href="/runs/{first}"' in html and f'href="/runs/{second}"' not in html
    assert 'action="/runs/compare"' in html and f'name="id" value="{first}"' in html
    assert 'name="where" value="lr=3e-4"' in html and "diverged at step 12" in html
    # A typo in a filter: the line above the form, the form kept with what was typed, to correct it there
    typo = client.get("/runs", params={"where": "lrr=3e-4", "sort": "lr"})
    assert typo.status_code == 400 and 'id="filter-error"' in typo.text and "did you mean lr?" in typo.text
    assert 'id="run-filters"' in typo.text and 'name="where" value="lrr=3e-4"' in typo.text
    assert 'id="run-sort"' in typo.text and 'value="lr"' in typo.text
    assert client.get("/runs", params={"under": "nosuchnode"}).status_code == 404


def test_the_runs_table_shows_the_scripts_metrics_not_the_machines(server: Server, workspace: Workspace) -> None:
    """A run's line in the table is what the script found; system/... metrics are counted in "more"
    while the script logged its own, and shown when it logged none."""
    _run(workspace, "with-system", {}, points=2, **{"system/cpu_percent": 50.0, "system/memory_percent": 9.0})
    with upstack.run("machine-only", home=workspace.home, db=workspace.db_url, capture="none") as alone:
        alone.log({"system/cpu_percent": 40.0}, step=0)
    rows = {r["name"]: r["shown"]["metrics"] for r in server.client().get("/runs.json").json()["runs"]}
    assert rows["with-system"] == "acc 0.5, loss 0.5, +2 more"
    assert rows["machine-only"] == "system/cpu_percent 40"


def test_a_running_run_says_when_it_was_last_heard_from(server: Server, workspace: Workspace) -> None:
    with upstack.run("live", home=workspace.home, db=workspace.db_url, capture="none") as run:
        run.log({"loss": 0.5}, step=0)
        client = server.client()
        (row,) = client.get("/runs.json").json()["runs"]
        assert row["status"] == "running" and row["last_heard"] is not None and row["ended_at"] is None
        assert "last heard" in client.get("/runs").text
        page = client.get(f"/runs/{run.short}")
        assert "last heard" in page.text and "written when the run ends" in page.text


# -- one run ----------------------------------------------------------------------------------

def test_a_run_page_shows_config_metrics_figures_tables_notes_and_provenance(
        server: Server, workspace: Workspace, tmp_path: Path) -> None:
    figure = tmp_path / "curve.png"
    figure.write_bytes(PNG)
    with upstack.run("width-sweep", home=workspace.home, db=workspace.db_url, capture="none",
                     config={"lr": 3e-4, "optim": {"name": "adam"}}) as run:
        for step in range(30):
            run.log({"loss": 1.0 / (step + 1), "l0": float(step % 7)}, step=step)
        run.figure(figure, "Loss <curve>")
        run.table([{"feature": 12, "density": 0.01}, {"feature": 7, "density": 0.2}], "Top features")
        run.note("Width 16k saturates. <script>alert(1)</script>")
        run.summary(best_loss=0.002, expected="Saturation at 32k.")
    client = server.client()
    html = client.get(f"/runs/{run.short}").text
    assert "width-sweep" in html and "finished" in html
    assert "<th scope=\"row\">optim.name</th><td>adam</td>" in html and "0.0003" in html
    assert re.search(r'<img src="/a/[0-9A-Za-z]+" alt="Loss &lt;curve&gt;"', html)
    assert "<th>feature</th><th>density</th>" in html and "<td>0.01</td>" in html
    assert "top-features.csv" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "best_loss" in html and "Saturation at 32k." in html
    assert f'href="/e/{run.short}"' in html
    assert "<li>started " in html  # provenance, rendered from Markdown
    assert f'href="/runs/{run.short}/series.csv?key=loss"' in html  # the data without JavaScript
    assert "<noscript>" in html and 'id="charts"' in html
    plan = json.loads(re.search(r'<script type="application/json" id="chart-plan">(.*?)</script>', html, re.S)[1])
    assert [c["keys"] for c in plan["charts"]] == [["l0"], ["loss"]]
    assert plan["charts"][1]["series"][0]["url"] == f"/runs/{run.id}/series.json?key=loss&points=2000"

    page = client.get(f"/runs/{run.short}.json").json()
    assert page["run"]["config"] == {"lr": 3e-4, "optim": {"name": "adam"}}
    assert page["config"] == {"lr": 3e-4, "optim.name": "adam"}
    assert page["figures"][0]["image"]["media_type"] == "image/png"
    assert page["tables"][0]["rows"] == [["12", "0.01"], ["7", "0.2"]]
    assert page["notes"][0]["text"].startswith("Width 16k saturates.")
    assert page["entry_url"] == f"/e/{run.short}"
    assert page["charts"]["selected"] == ["l0", "loss"]


def test_charts_overlay_keys_and_other_runs(server: Server, workspace: Workspace) -> None:
    first = _run(workspace, "a", {"lr": 1e-3})
    second = _run(workspace, "b", {"lr": 3e-4}, extra=1.0)
    client = server.client()
    plan = client.get(f"/runs/{first}.json", params={"with": [second, ""], "key": ["loss", "extra"]}).json()["charts"]
    assert [c["keys"] for c in plan["charts"]] == [["loss"], ["extra"]]
    assert [s["short"] for s in plan["charts"][0]["series"]] == [first, second]
    assert plan["charts"][1]["missing"] == [first]
    one = client.get(f"/runs/{first}.json", params={"with": second, "key": ["loss", "acc"],
                                                    "overlay": "true"}).json()["charts"]
    (chart,) = one["charts"]
    assert [(s["short"], s["key"]) for s in chart["series"]] == [(first, "loss"), (first, "acc"),
                                                                 (second, "loss"), (second, "acc")]
    html = client.get(f"/runs/{first}", params={"key": "nope"}).text
    assert "No metric nope" in html
    assert client.get(f"/runs/{first}", params={"with": "zzzzzzzz"}).status_code == 404


def test_unknown_runs_and_metrics_are_404_with_a_clear_error(server: Server, workspace: Workspace) -> None:
    short = _run(workspace, "a", {})
    client = server.client()
    assert client.get("/runs/zzzzzzzz").status_code == 404
    missing = client.get("/runs/zzzzzzzz.json")
    assert missing.status_code == 404 and "error" in missing.json()
    assert client.get("/runs/zzzzzzzz/series.json", params={"key": "loss"}).status_code == 404
    unknown = client.get(f"/runs/{short}/series.json", params={"key": "lost"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == f"run {short} has no metric 'lost' (it has acc, loss)"
    assert client.get(f"/runs/{short}/series.csv", params={"key": "lost"}).status_code == 404
    assert client.get(f"/runs/{short}/series.json").status_code == 422  # key is required


def test_the_runs_api_is_in_the_openapi_schema(server: Server) -> None:
    paths = server.client().get("/openapi.json").json()["paths"]
    for path in ("/runs.json", "/runs/{ref}.json", "/runs/compare.json", "/runs/{ref}/series.json",
                 "/runs/{ref}/series.csv"):
        assert "get" in paths[path], path
    assert "SeriesData" in json.dumps(paths["/runs/{ref}/series.json"])


# -- series data ------------------------------------------------------------------------------

def test_series_json_downsamples_keeping_spikes_extremes_and_gaps(server: Server, workspace: Workspace) -> None:
    with upstack.run("long", home=workspace.home, db=workspace.db_url, capture="none") as run:
        for step in range(100_000):
            run.log({"loss": _spiky(step)}, step=step)
    client = server.client()
    data = client.get(f"/runs/{run.short}/series.json", params={"key": "loss", "points": 500}).json()
    assert data["total"] == 100_000 and data["downsampled"] is True and data["points"] == 500
    assert 400 <= data["count"] == len(data["steps"]) == len(data["values"]) == len(data["times"]) <= 500
    assert data["run"] == run.id and data["key"] == "loss"
    values = data["values"]
    assert 1000.0 in values and -500.0 in values  # the spike, the global max and min
    assert data["steps"][values.index(1000.0)] == 54_321 and data["steps"][values.index(-500.0)] == 77_777
    gaps = [step for step, value in zip(data["steps"], values, strict=True) if value is None]
    assert gaps and all(1000 <= s < 1010 or s == 60_000 for s in gaps)
    assert any(s == 60_000 for s in gaps)
    assert data["steps"] == sorted(data["steps"])
    assert all(v is None or v == _spiky(s) for s, v in zip(data["steps"], values, strict=True))
    assert data["csv"] == f"/runs/{run.id}/series.csv?key=loss"

    default = client.get(f"/runs/{run.short}/series.json", params={"key": "loss"}).json()
    assert default["points"] == 2000 and default["count"] <= 2000 and 1000.0 in default["values"]

    zoomed = client.get(f"/runs/{run.short}/series.json",
                        params={"key": "loss", "points": 100, "start": 54_000, "end": 54_399}).json()
    assert zoomed["total"] == 400 and zoomed["downsampled"] is True and zoomed["count"] <= 100
    assert zoomed["steps"][0] >= 54_000 and zoomed["steps"][-1] <= 54_399 and 1000.0 in zoomed["values"]
    exact = client.get(f"/runs/{run.short}/series.json",
                       params={"key": "loss", "start": 54_000, "end": 54_399}).json()
    assert exact["steps"] == list(range(54_000, 54_400)) and exact["downsampled"] is False


def test_an_ended_runs_thinned_series_is_kept_but_never_outlives_its_data(
        server: Server, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.services import curate

    short = _run(workspace, "kept", {}, points=50)
    reads: list[str] = []
    read = run_service.series
    monkeypatch.setattr(run_service, "series", lambda ws, ref, key: reads.append(key) or read(ws, ref, key))
    client = server.client()
    first = client.get(f"/runs/{short}/series.json", params={"key": "loss", "points": 10})
    assert first.status_code == 200 and first.json()["total"] == 50 and reads == ["loss"]
    again = client.get(f"/runs/{short}/series.json", params={"key": "loss", "points": 10})
    assert again.content == first.content and reads == ["loss"]  # the run has ended: kept
    other = client.get(f"/runs/{short}/series.json", params={"key": "loss", "points": 20}).json()
    assert other["points"] == 20 and reads == ["loss", "loss"]  # another question
    exact = client.get(f"/runs/{short}/series.csv", params={"key": "loss"}).text  # never from the cache
    assert len(exact.splitlines()) == 51 and reads == ["loss", "loss", "loss"]

    curate.purge(workspace, curate.purge_target(workspace, short))  # removes what the run captured
    gone = client.get(f"/runs/{short}/series.json", params={"key": "loss", "points": 10})
    assert gone.status_code == 404


def test_small_series_come_back_exactly_and_csv_has_every_point(server: Server, workspace: Workspace) -> None:
    odd = [0.1, math.nan, math.inf, -math.inf, 1e-300, 2.5e300, -0.0, 1 / 3]
    with upstack.run("small", home=workspace.home, db=workspace.db_url, capture="none") as run:
        for step, value in enumerate(odd):
            run.log({"odd": value}, step=step * 10)
    client = server.client()
    data = client.get(f"/runs/{run.short}/series.json", params={"key": "odd"}).json()
    assert data["downsampled"] is False and data["total"] == data["count"] == len(odd)
    assert data["steps"] == [n * 10 for n in range(len(odd))]
    assert data["values"] == [v if math.isfinite(v) else None for v in odd]

    stored = run_service.series(workspace, run.short, "odd")
    response = client.get(f"/runs/{run.short}/series.csv", params={"key": "odd"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["step", "time", "value"]
    assert [int(r[0]) for r in rows[1:]] == list(stored.steps)
    assert [float(r[1]) for r in rows[1:]] == list(stored.times)
    assert [r[2] for r in rows[1:]] == [repr(v) for v in stored.values]  # nan, inf, -inf written as such


def test_csv_streams_a_long_series_exactly(server: Server, workspace: Workspace) -> None:
    with upstack.run("long", home=workspace.home, db=workspace.db_url, capture="none") as run:
        for step in range(50_000):
            run.log({"loss": _spiky(step) / 3}, step=step)
    workspace.ingest()
    stored = run_service.series(workspace, run.short, "loss")
    text = server.client().get(f"/runs/{run.short}/series.csv", params={"key": "loss"}).text
    lines = text.splitlines()
    assert len(lines) == 50_001
    for line, step, time, value in zip(lines[1:], stored.steps, stored.times, stored.values, strict=True):
        s, t, v = line.split(",")
        assert int(s) == step and float(t) == time and (float(v) == value or (math.isnan(value) and v == "nan"))


# -- compare ----------------------------------------------------------------------------------

def test_compare_shows_only_the_config_that_differs(server: Server, workspace: Workspace) -> None:
    first = _run(workspace, "a", {"lr": 3e-4, "width": 16384, "seed": 1})
    second = _run(workspace, "b", {"lr": 1e-3, "width": 16384, "seed": 1, "warmup": 100}, points=10)
    client = server.client()
    data = client.get("/runs/compare.json", params={"id": [first, second]}).json()
    assert data["differences"] == {"lr": [3e-4, 1e-3], "warmup": [None, 100]}
    assert data["same"] == {"seed": 1, "width": 16384}
    assert [r["short"] for r in data["runs"]] == [first, second]
    assert [m["last"] for m in data["metrics"]["loss"]] == [1 / 20, 1 / 10]
    assert data["overlay_url"] == f"/runs/{first}?with={second}"
    html = client.get("/runs/compare", params={"id": [first, second]}).text
    assert '<tr data-key="lr">' in html and '<tr data-key="warmup">' in html
    assert '<tr data-key="seed">' not in html and "2 config keys identical in every run" in html
    assert f'href="/runs/{first}?with={second}"' in html
    # One run is not a comparison: the page helps pick another (tests/test_web_entry.py).
    assert client.get("/runs/compare.json", params={"id": first}).json()["picked"] == [first]
    assert client.get("/runs/compare", params={"id": [first, "zzzzzzzz"]}).status_code == 404


# -- the thinning itself ----------------------------------------------------------------------

def test_thinning_keeps_bucket_extremes_in_order_within_the_limit() -> None:
    values = [math.sin(i / 50) for i in range(10_000)]
    values[4321] = 99.0
    for index in range(0, 10_000, 7):  # a gap in every bucket: three points each must still fit
        values[index] = math.nan
    kept = keep_positions(values, 300)
    assert len(kept) <= 300 and list(kept) == sorted(set(kept)) and 4321 in kept
    assert any(math.isnan(values[i]) for i in kept)
    assert keep_positions([1.0, 2.0], 300) == range(2)
    assert 0 < len(keep_positions([math.nan] * 1000, 10)) <= 10  # nothing but gaps
    assert list(step_window([0, 5, 10, 15], 5, 10)) == [1, 2]
    assert step_window([0, 5, 3, 15], 4, 15) == [1, 3]  # steps that go back: still found
    assert thin([0, 1, 2, 3], [1.0, 5.0, 2.0, 0.5], 3, start=1).positions == [1, 2, 3]
