"""Runs grouped by config: each group's metric drawn as its mean with a band (std or min-max).

``/runs/groups`` splits the runs a filter finds (or the runs named with ``id``) by the config
keys in ``by`` (``lr,width``; ``-seed`` for every key but seed) and plans one chart per metric
with a line and band per group; the browser (static/run_groups.js, uPlot ``bands``) fetches each
group's aggregate from ``/runs/groups/series.json``, which buckets every run's series onto common
x buckets on the server (services/run_charts.py), so 50 runs of 100,000 points arrive as a few
thousand numbers. Registered before ``/runs/{ref}``, which would take "groups".
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from upstack.errors import BadInput, NotFound
from upstack.services import run_charts
from upstack.services import runs as run_service
from upstack.timeutil import parse_when
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router", "chart_keys"]

router = APIRouter()
GROUP_LIMIT = 200  # runs a group page takes (run_charts.MAX_RUNS in one group)


def _split(values: list[str]) -> list[str]:
    """``by=lr,width`` or ``by=lr&by=width``: the keys, in order, once each."""
    return list(dict.fromkeys(part.strip() for value in values for part in value.split(",") if part.strip()))


def chart_keys(runs: list[Any], wanted: list[str]) -> tuple[list[str], list[str]]:
    """The metrics to chart (the ones asked for that some run logged, else every one) and the unknown."""
    keys = list(dict.fromkeys(m.key for run in runs for m in run.metrics))
    selected = [k for k in wanted if k in keys] or keys
    return selected, [k for k in wanted if k not in keys]


@page(router, "/runs/groups", name="run_groups",
      summary="Runs grouped by config keys, each group's metrics drawn as a mean with a band")
def groups_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                by: Annotated[list[str], Query(description="Config keys (lr,width; -seed: all but seed)")] = [],  # noqa: B006
                key: Annotated[list[str], Query(description="Metrics to chart (default: all)")] = [],  # noqa: B006
                band: Annotated[str, Query(description="std or minmax")] = "std",
                x: Annotated[str, Query(description="step or time")] = "step",
                id: Annotated[list[str], Query(description="Only these runs (default: the filter's)")] = [],  # noqa: B006
                under: Annotated[str | None, Query(description="A node: runs filed under it or below")] = None,
                status: str | None = None, name: str | None = None,
                since: Annotated[str | None, Query(description="Started from")] = None,
                where: Annotated[list[str], Query(description="Filter, e.g. lr=3e-4 (repeat)")] = [],  # noqa: B006
                points: Annotated[int, Query(ge=10, le=20_000)] = run_charts.DEFAULT_POINTS) -> Page:
    if band not in run_charts.BANDS or x not in run_charts.XS:
        raise BadInput(f"band is {' or '.join(run_charts.BANDS)}; x is {' or '.join(run_charts.XS)}")
    grouping = _split(by)
    refs = _split(id)
    conditions = [w.strip() for w in where if w.strip()]
    filters = {"under": under or "", "status": status or "", "name": name or "", "since": since or "",
               "where": conditions, "id": refs}
    try:
        if refs:
            runs = [run_service.get_run(ws, ref) for ref in refs[:GROUP_LIMIT]]
        else:
            runs = run_service.list_runs(ws, under=under or None, status=status or None, name=name or None,
                                         where=conditions, limit=GROUP_LIMIT,
                                         since=parse_when(since, what="since date") if since else None)
        groups = run_service.group_runs(runs, grouping).groups
    except (BadInput, NotFound) as refused:
        if request.url.path.endswith(".json"):
            raise
        # A typo in a key or a filter: said above the form, what was typed kept in it (as on /runs)
        return Page("run_groups.html", {
            "by": grouping, "band": band, "x": x, "points": points, "unknown": [], "filters": filters,
            "groups": [], "plan": {"band": band, "x": x, "charts": []}, "filter_error": str(refused)},
            status=refused.http_status)
    selected, unknown = chart_keys(runs, _split(key))
    charts = []
    for n, metric in enumerate(selected):
        lines = []
        for g, group in enumerate(groups):
            having = [r.short for r in group.runs if any(m.key == metric for m in r.metrics)]
            if having:
                query = urlencode([("key", metric), ("band", band), ("x", x), ("points", points),
                                   *(("id", s) for s in having)])
                lines.append({"group": g, "label": f"{group.label} (n={len(having)})", "runs": having,
                              "url": f"/runs/groups/series.json?{query}"})
        charts.append({"id": f"group-chart-{n}", "key": metric, "lines": lines})
    return Page("run_groups.html", {
        "by": grouping, "band": band, "x": x, "points": points, "unknown": unknown, "filters": filters,
        "groups": [{"label": g.label, "values": g.values, "runs": [r.short for r in g.runs]} for g in groups],
        "plan": {"band": band, "x": x, "charts": charts}})


@router.get("/runs/groups/series.json", name="run_group_series", response_model=None,
            summary="Runs' metric as one line: per common x bucket, the mean across runs and a band")
def group_series_json(ws: Annotated[Workspace, Depends(workspace)],
                      key: Annotated[str, Query(description="The metric, e.g. loss")],
                      id: Annotated[list[str], Query(description="The runs (repeat)")] = [],  # noqa: B006
                      band: Annotated[str, Query(description="std or minmax")] = "std",
                      x: Annotated[str, Query(description="step or time")] = "step",
                      points: Annotated[int, Query(ge=10, le=20_000)] = run_charts.DEFAULT_POINTS) -> JSONResponse:
    line = run_charts.group_series(ws, _split(id), key, band=band, x=x, points=points)
    return JSONResponse(line.to_dict())
