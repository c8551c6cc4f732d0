"""Experiment runs: the filtered list, one run with its metric charts, runs side by side, series data.

The run page draws its charts in the browser (uPlot) from ``/runs/{ref}/series.json``,
which thins a series to a few thousand points, keeping every bucket's min and max;
``/runs/{ref}/series.csv`` streams every point exactly. The thinned series of a
run that has ended is kept in memory (a few of them), since it can no longer change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from upstack.domain.config import flatten
from upstack.domain.downsample import thin
from upstack.domain.run import (
    ENDED,
    RUN_STATUSES,
    SYSTEM_PREFIX,
    RunInfo,
    format_duration,
    format_number,
    provenance_lines,
    ran_for,
)
from upstack.errors import BadInput, NotFound
from upstack.ids import short_id
from upstack.memo import Memo
from upstack.services import artifacts as artifact_service
from upstack.services import run_manage
from upstack.services import runs as run_service
from upstack.timeutil import local_display, parse_iso, parse_when
from upstack.web.markdown import render
from upstack.web.pages import Page, page, workspace
from upstack.web.routes.artifacts import version_row
from upstack.workspace import Workspace

__all__ = ["router", "DEFAULT_POINTS"]

router = APIRouter()
DEFAULT_POINTS = 2000
_HIDDEN_SUMMARY = ("learning_id",)


# -- the list ----------------------------------------------------------------------------

@page(router, "/runs", name="runs", summary="Experiment runs, newest first (or sorted), filtered by status, node, "
      "date, config and results; any config key, metric (final, best) or summary value as a column")
def runs_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
              status: str | None = None, name: str | None = None,
              under: Annotated[str | None, Query(description="A node: runs filed under it or below")] = None,
              since: Annotated[str | None, Query(description="Started from (e.g. 'last monday')")] = None,
              until: Annotated[str | None, Query(description="Started up to")] = None,
              where: Annotated[list[str], Query(description="Filter on config or results, e.g. lr=3e-4, "
                                                            "val/acc>0.9, best(loss)<0.1 (repeat)")] = [],  # noqa: B006
              sort: Annotated[str | None, Query(description="best(loss), final(acc) desc, lr ...")] = None,
              tag: Annotated[list[str], Query(description="Runs with this tag (repeat: all of them)")] = [],  # noqa: B006
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              deleted: Annotated[bool, Query(description="The deleted runs instead")] = False) -> Page:
    conditions = [w.strip() for w in where if w.strip()]
    tags = [t.strip() for t in tag if t.strip()]
    filters = {"status": status or "", "name": name or "", "under": under or "", "since": since or "",
               "until": until or "", "where": conditions, "sort": sort or "", "limit": limit, "deleted": deleted,
               "tag": tags}
    try:
        found = run_service.list_runs(
            ws, under=under or None, status=status or None, name=name or None, where=conditions, limit=limit,
            deleted=deleted, tags=tags,
            since=parse_when(since, what="since date") if since else None,
            until=parse_when(until, what="until date") if until else None, sort=(sort or "").strip() or None)
    except (BadInput, NotFound) as refused:
        if request.url.path.endswith(".json"):
            raise
        # A typo in a filter: the line above the form, with what was typed still in it to correct
        # (a page of its own lost the form: the way back was the browser's back button).
        return Page("runs.html", {"runs": [], "columns": run_columns([]), "filters": filters,
                                  "statuses": list(RUN_STATUSES), "filter_error": str(refused)},
                    status=refused.http_status)
    now = datetime.now(UTC)
    return Page("runs.html", {
        "runs": [_row(run, now) for run in found],
        "columns": run_columns(found),
        "filters": filters,
        "statuses": list(RUN_STATUSES)})


MAX_COLUMNS = 300


def run_columns(runs: list[RunInfo]) -> dict[str, Any]:
    """Every column the runs table can add, named as ``--where`` and ``--sort`` name them (``lr``,
    ``final(loss)``, ``best(loss)``, ``summary(acc)``), and each run's value in each, as shown. The
    browser keeps which ones its user chose (static/run_columns.js)."""
    config_keys: dict[str, None] = {}
    metric_keys: dict[str, None] = {}
    summary_keys: dict[str, None] = {}
    values: dict[str, dict[str, str]] = {}
    for run in runs:
        cells = {}
        for k, v in flatten(run.config).items():
            config_keys.setdefault(k)
            cells[k] = format_number(v)
        for m in run.metrics:
            metric_keys.setdefault(m.key)
            cells[f"final({m.key})"] = format_number(m.last)
            cells[f"best({m.key})"] = format_number(m.best)
        for k, v in run.summary.items():
            if k not in _HIDDEN_SUMMARY:
                summary_keys.setdefault(k)
                cells[f"summary({k})"] = format_number(v)
        values[run.id] = cells
    columns = ([{"id": k, "label": k, "kind": "config"} for k in sorted(config_keys)]
               + [{"id": f"{how}({k})", "label": f"{k} ({how})", "kind": "metric"}
                  for k in sorted(metric_keys) for how in ("final", "best")]
               + [{"id": f"summary({k})", "label": f"{k} (summary)", "kind": "summary"} for k in sorted(summary_keys)])
    return {"available": columns[:MAX_COLUMNS], "values": values}


def _row(run: RunInfo, now: datetime) -> dict[str, Any]:
    """A run as the list shows it: no provenance or items (the run page has those)."""
    data = run.to_dict()
    del data["provenance"], data["items"]
    timing = _timing(run, now)
    own = [m for m in run.metrics if not m.key.startswith(SYSTEM_PREFIX)] or run.metrics  # the machine's: if alone
    finals = [f"{m.key} {format_number(m.last)}" for m in own[:3]]
    if len(run.metrics) > len(finals):
        finals.append(f"+{len(run.metrics) - len(finals)} more")
    shown = {**timing.pop("shown"), "metrics": ", ".join(finals)}
    return {**data, **timing, "shown": shown}


def _timing(run: RunInfo, now: datetime) -> dict[str, Any]:
    """How long it ran (so far) and, while running, how long since it was last heard from."""
    started = parse_iso(run.started_at)
    duration = ((parse_iso(run.ended_at) if run.ended_at else now) - started).total_seconds()
    last_heard = None
    if run.status == "running" and run.heartbeat_at:
        last_heard = max(0.0, (now - parse_iso(run.heartbeat_at)).total_seconds())
    return {"duration": duration, "last_heard": last_heard, "shown": {
        "started": local_display(run.started_at), "ended": local_display(run.ended_at) if run.ended_at else "",
        "duration": ran_for(run.status, duration) if run.ended_at else format_duration(duration),
        "last_heard": format_duration(last_heard) if last_heard is not None else ""}}


# -- runs side by side (registered before /runs/{ref}, which would take "compare") ----------

@page(router, "/runs/compare", name="compare_runs", summary="Runs side by side: config differences and metrics")
def compare_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                 id: Annotated[list[str], Query(description="Run ids (two or more)")] = []) -> Page:  # noqa: B006
    refs = list(dict.fromkeys(ref.strip() for ref in id if ref.strip()))
    if len(refs) < 2:
        return _pick_runs(ws, refs)
    comparison = run_service.compare(ws, refs)
    runs = comparison.runs
    overlay = f"/runs/{runs[0].short}?" + urlencode([("with", r.short) for r in runs[1:]])
    return Page("compare.html", {
        **comparison.to_dict(),
        "overlay_url": overlay,
        "shown": {
            "differences": [{"key": k, "values": [comparison.config_value(r, k) for r in runs]}
                            for k in comparison.config_keys],
            "same": [{"key": k, "value": format_number(v)} for k, v in comparison.same_config.items()],
            "summary": [{"key": k, "values": [comparison.summary_value(r, k) for r in runs]}
                        for k in comparison.summary_keys],
            "metrics": [{"key": k, "chart": overlay + "&" + urlencode({"key": k}), "values": [
                _metric_cell(r, k) for r in runs]} for k in comparison.metric_keys]},
        "views": compare_views(runs, comparison.config_keys)})


def compare_views(runs: list[RunInfo], config_keys: list[str]) -> dict[str, Any]:
    """What the compare page's parallel coordinates and scatter draw (static/compare.js): the config
    keys that differ, every metric's final and best and every summary value, per run (numbers as
    numbers; a config value that is not a number is a category, placed in order of first use)."""
    outcomes = sorted({f"{how}({m.key})" for r in runs for m in r.metrics for how in ("final", "best")}
                      | {f"summary({k})" for r in runs for k, v in r.summary.items()
                         if k not in _HIDDEN_SUMMARY and _plain_number(v) is not None})
    rows = []
    for run in runs:
        flat = flatten(run.config)
        values: dict[str, Any] = {k: (_plain_number(flat[k]) if _plain_number(flat[k]) is not None
                                      else format_number(flat[k])) if k in flat else None for k in config_keys}
        for m in run.metrics:
            values[f"final({m.key})"] = _plain_number(m.last)
            values[f"best({m.key})"] = _plain_number(m.best)
        for k, v in run.summary.items():
            if f"summary({k})" in outcomes:
                values[f"summary({k})"] = _plain_number(v)
        rows.append({"short": run.short, "name": run.name, "values": values})
    return {"config": config_keys, "outcomes": outcomes, "runs": rows}


def _plain_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


PICK_LIMIT = 30


def _pick_runs(ws: Workspace, refs: list[str]) -> Page:
    """Fewer than two runs named: how to choose them, with the newest runs to tick (a given one ticked)."""
    picked = [run_service.get_run(ws, ref) for ref in refs]  # an unknown id is a 404, as it is with two
    ticked = {run.id for run in picked}
    newest = [run for run in run_service.list_runs(ws, limit=PICK_LIMIT) if run.id not in ticked]
    now = datetime.now(UTC)
    choices = [{**_row(run, now), "picked": run.id in ticked} for run in picked + newest]
    return Page("compare.html", {
        "runs": [], "picked": [run.short for run in picked], "choices": choices, "limit": PICK_LIMIT,
        "choose": "Compare needs two or more runs: tick them below (or on the Runs page) and press Compare, "
                  "or give their ids, as in /runs/compare?id=ID&id=ID (`upstack compare ID ID` at a "
                  "terminal)."})


def _metric_cell(run: RunInfo, key: str) -> dict[str, str] | None:
    metric = next((m for m in run.metrics if m.key == key), None)
    if metric is None:
        return None
    return {"final": format_number(metric.last), "best": format_number(metric.best), "goal": metric.goal}


# -- series data ---------------------------------------------------------------------------

class SeriesData(BaseModel):
    """A metric series as drawn: thinned to at most ``points`` points, NaN and infinity as null."""

    run: str = Field(description="The run's id")
    key: str
    total: int = Field(description="Points in the series (within start..end, if given)")
    count: int = Field(description="Points returned")
    downsampled: bool = Field(description="Whether points were left out (each bucket keeps its min and max)")
    points: int = Field(description="The most points asked for")
    start: int | None = None
    end: int | None = None
    steps: list[int]
    times: list[float] = Field(description="Unix time of each point, in seconds")
    values: list[float | None] = Field(description="null where the value was NaN or infinite (a gap)")
    csv: str = Field(description="Where every point can be downloaded exactly")


# Thinned series of ended runs, as sent: reading and thinning 1,000,000 points takes 0.1-0.3 s,
# and a chart asks again on every visit. A few entries of ~100 KB each.
_SERIES: Memo[bytes] = Memo(8)


@router.get("/runs/{ref}/series.json", name="run_series", response_model=None,
            summary="A metric series for a chart, thinned keeping each bucket's min and max",
            responses={200: {"model": SeriesData}})
def series_json(ref: str, ws: Annotated[Workspace, Depends(workspace)],
                key: Annotated[str, Query(description="The metric, e.g. loss")],
                points: Annotated[int, Query(ge=3, le=200_000, description="At most this many")] = DEFAULT_POINTS,
                start: Annotated[int | None, Query(description="Only steps from this one")] = None,
                end: Annotated[int | None, Query(description="Only steps up to this one")] = None) -> Response:
    run = run_service.get_run(ws, ref)  # also what says whether the reader may see it
    metric = next((m for m in run.metrics if m.key == key), None)
    cache_key = None
    if run.status in ENDED and metric is not None:
        # An ended run's series cannot change; a chunk arriving late would change its count.
        cache_key = (str(ws.home), ws.db_url, run.id, key, metric.count, metric.last_step, run.status,
                     run.ended_at, points, start, end)
        cached = _SERIES.get(cache_key)
        if cached is not None:
            return Response(cached, media_type="application/json")
    line = run_service.series(ws, ref, key)
    thinned = thin(line.steps, line.values, points, start=start, end=end)
    steps, times, values = line.steps, line.times, line.values
    isfinite = math.isfinite
    picked = [values[i] for i in thinned.positions]
    body = bytes(JSONResponse({
        "run": line.run_id, "key": key, "total": thinned.total, "count": len(picked),
        "downsampled": thinned.downsampled, "points": points, "start": start, "end": end,
        "steps": [steps[i] for i in thinned.positions], "times": [times[i] for i in thinned.positions],
        "values": [v if isfinite(v) else None for v in picked],
        "csv": f"/runs/{line.run_id}/series.csv?" + urlencode({"key": key})}).body)
    if cache_key is not None:
        _SERIES.put(cache_key, body)
    return Response(body, media_type="application/json")


@router.get("/runs/{ref}/series.csv", name="run_series_csv", response_class=StreamingResponse,
            summary="Every point of a metric as CSV: step,time,value (time in Unix seconds; nan and inf as such)")
def series_csv(ref: str, ws: Annotated[Workspace, Depends(workspace)],
               key: Annotated[str, Query(description="The metric, e.g. loss")]) -> StreamingResponse:
    line = run_service.series(ws, ref, key)

    def lines(batch: int = 20_000) -> Iterator[str]:
        yield "step,time,value\n"
        for at in range(0, len(line), batch):
            part = slice(at, at + batch)
            # repr: the shortest text that reads back as the same float (nan, inf, -inf as such).
            yield "".join(map("{},{!r},{!r}\n".format, line.steps[part], line.times[part], line.values[part]))

    filename = f"{short_id(line.run_id)}-{_file_safe(key)}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _file_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "series"


# -- one run -------------------------------------------------------------------------------

@page(router, "/runs/{ref}", name="run", summary="One run: status, metric charts, config, figures, provenance")
def run_page(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
             with_: Annotated[list[str], Query(alias="with", description="Other runs to overlay")] = [],  # noqa: B006
             key: Annotated[list[str], Query(description="Metrics to chart (default: all)")] = [],  # noqa: B006
             overlay: Annotated[bool, Query(description="All chosen metrics on one chart")] = False,
             log: Annotated[bool, Query(description="Logarithmic value axis")] = False,
             points: Annotated[int, Query(ge=3, le=200_000)] = DEFAULT_POINTS) -> Page:
    run = run_service.get_run(ws, ref)
    others = []
    for other_ref in dict.fromkeys(w.strip() for w in with_ if w.strip()):
        other = run_service.get_run(ws, other_ref)
        if other.id != run.id:
            others.append(other)
    timing = _timing(run, now=datetime.now(UTC))
    shown = timing.pop("shown")
    config = flatten(run.config)
    summary = {k: v for k, v in run.summary.items() if k not in _HIDDEN_SUMMARY}
    provenance = provenance_lines(run)
    lineage = artifact_service.for_run(ws, run.id)
    return Page("run.html", {
        "artifacts": {role: [version_row(ws, v) for v in versions] for role, versions in lineage.items()},
        "run": run, **timing, "may_manage": run_manage.may_manage(ws, run),
        "history": [{**c.to_dict(), "shown_at": local_display(c.at)} for c in run_manage.history(ws, run.id)],
        "config": config, "summary": summary, **_items(run),
        "provenance": provenance, "provenance_html": render("\n".join(provenance)),
        "entry_url": f"/e/{run.short}" if run.status != "running" else None,
        "with_runs": [{"id": o.id, "short": o.short, "name": o.name, "status": o.status} for o in others],
        "charts": _chart_plan([run, *others], [k.strip() for k in key if k.strip()], overlay, log, points),
        **_panels(ws, run),
        "shown": {**shown,
                  "config": [{"key": k, "value": format_number(v)} for k, v in config.items()],
                  "summary": [{"key": k, "value": format_number(v)} for k, v in summary.items()],
                  "metrics": [{"key": m.key, "final": format_number(m.last), "best": format_number(m.best),
                               "min": format_number(m.min), "max": format_number(m.max), "count": m.count,
                               "last_step": m.last_step, "goal": m.goal,
                               "csv": f"/runs/{run.short}/series.csv?" + urlencode({"key": m.key})}
                              for m in run.metrics]}})


def _panels(ws: Workspace, run: RunInfo) -> dict[str, Any]:
    """The panels of the run's project, each drawing this run where it names none (static/panels.js)."""
    from upstack.services import panels

    project = panels.project_of(ws, run.node_id)
    return {"panels": [p.to_dict() for p in panels.list_panels(ws, project)] if project else [],
            "panels_under": short_id(project) if project else None}


def _items(run: RunInfo) -> dict[str, list[dict[str, Any]]]:
    """Figures, tables, notes and files (diff, traceback), each with what the page needs."""
    figures, tables, notes, files = [], [], [], []
    for item in run.items:
        data = item.data
        attachments = data.get("attachments") or []
        if item.kind == "note" and data.get("text"):
            notes.append({"text": data["text"], "at": item.at})
        elif item.kind == "figure" and attachments:
            image = next((a for a in attachments if str(a.get("media_type", "")).startswith("image/")), None)
            figures.append({"title": data.get("title") or attachments[0]["filename"], "image": image,
                            "attachments": attachments, "at": item.at})
        elif item.kind == "table":
            tables.append({"title": data.get("title") or "Table", "columns": data.get("columns") or [],
                           "rows": data.get("rows") or [], "row_count": int(data.get("row_count") or 0),
                           "attachments": attachments, "at": item.at})
        elif item.kind in ("diff", "traceback"):
            files += [{"kind": item.kind, **a} for a in attachments]
    return {"figures": figures, "tables": tables, "notes": notes, "files": files}


def _chart_plan(runs: list[RunInfo], wanted: list[str], overlay: bool, log: bool, points: int) -> dict[str, Any]:
    """Which charts to draw, and which (run, metric) series each one overlays.

    One chart per metric by default; with ``overlay``, every chosen metric on one chart.
    Every run given is drawn on each chart whose metric it logged.
    """
    keys = list(dict.fromkeys(m.key for run in runs for m in run.metrics))
    selected = [k for k in dict.fromkeys(wanted) if k in keys] or keys
    unknown = [k for k in dict.fromkeys(wanted) if k not in keys]

    def lines(chart_keys: list[str]) -> list[dict[str, Any]]:
        found = []
        for run in runs:
            logged = {m.key: m for m in run.metrics}
            for k in chart_keys:
                if k in logged:
                    label = k if len(runs) == 1 else f"{run.name} ({run.short})"
                    if len(runs) > 1 and len(chart_keys) > 1:
                        label += f" {k}"
                    query = urlencode({"key": k})
                    found.append({"run": run.id, "short": run.short, "name": run.name, "key": k, "label": label,
                                  "count": logged[k].count,
                                  "url": f"/runs/{run.id}/series.json?{query}&points={points}",
                                  "csv": f"/runs/{run.short}/series.csv?{query}"})
        return found

    groups = [selected] if overlay and selected else [[k] for k in selected]
    charts = [{"id": f"chart-{n}", "title": ", ".join(group), "keys": group, "series": lines(group),
               "missing": [r.short for r in runs if not any(m.key in group for m in r.metrics)]}
              for n, group in enumerate(groups)]
    return {"keys": keys, "selected": selected, "unknown": unknown, "overlay": overlay, "log": log,
            "points": points,
            "runs": [{"id": r.id, "short": r.short, "name": r.name} for r in runs], "charts": charts}
