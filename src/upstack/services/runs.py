"""Runs, read back: list and filter, show, compare side by side, metric series (plots: services/run_plot.py)."""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from upstack.domain import access
from upstack.domain.config import flatten
from upstack.domain.run import RunInfo, format_number
from upstack.domain.text import clean_text
from upstack.errors import BadInput, NotFound
from upstack.services.run_query import Condition, Grouping, GroupStat, group_runs, list_runs, parse_condition
from upstack.store import queries, run_search
from upstack.store import runs as store_runs
from upstack.store.run_ingest import RunFolderReport
from upstack.store.run_ingest import run_dirs as find_run_dirs
from upstack.workspace import Workspace

__all__ = ["Condition", "parse_condition", "list_runs", "group_runs", "Grouping", "GroupStat", "get_run",
           "Series", "series", "compare", "Comparison", "ingest"]


def _resolve(ws: Workspace, ref: str) -> str:
    run_id = queries.resolve(ws.store().db, ref, table="runs", what="run")
    if access.current(team=ws.store().db.team) is not None:
        store_runs.load_run(ws.store().db, run_id, details=False)  # NotFound unless theirs to see
    return run_id


def get_run(ws: Workspace, ref: str) -> RunInfo:
    return store_runs.load_run(ws.store().db, _resolve(ws, ref))


@dataclass
class Series:
    run_id: str
    key: str
    steps: array
    times: array
    values: array

    def __len__(self) -> int:
        return len(self.values)


def series(ws: Workspace, ref: str, key: str) -> Series:
    """A metric's every point, in logging order (non-finite values included)."""
    key = clean_text(key)  # the name as upstack keeps it (domain.text): finds what the run logged under it
    run_id = _resolve(ws, ref)
    db = ws.store().db
    steps, times, values = store_runs.read_series(db, run_id, key)
    if not values and not run_search.has_metric(db, run_id, key):
        known = run_search.metric_keys(db, run_id)
        raise NotFound(f"run {ref} has no metric {key!r}" + (f" (it has {', '.join(known)})" if known
                                                              else " (it logged no metrics)"))
    return Series(run_id, key, steps, times, values)


@dataclass
class Comparison:
    runs: list[RunInfo]
    config_keys: list[str]  # keys whose values differ between the runs
    same_config: dict[str, Any]  # keys every run has with the same value
    metric_keys: list[str]
    summary_keys: list[str] = field(default_factory=list)  # values given to run.summary, by any of the runs

    def config_value(self, run: RunInfo, key: str) -> str:
        flat = flatten(run.config)
        return format_number(flat[key]) if key in flat else "—"

    def summary_value(self, run: RunInfo, key: str) -> str:
        flat = flatten(run.summary)
        return format_number(flat[key]) if key in flat else "—"

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.runs],
                "differences": {k: [flatten(r.config).get(k) for r in self.runs] for k in self.config_keys},
                "same": self.same_config,
                "summary": {k: [_json_value(flatten(r.summary).get(k)) for r in self.runs] for k in self.summary_keys},
                "metrics": {k: [next((m.to_dict() for m in r.metrics if m.key == k), None) for r in self.runs]
                            for k in self.metric_keys}}


_NOT_SUMMARY_VALUES = {"expected", "happened", "outcome", "learned", "learning_id"}  # the result entry's words


def _json_value(value: Any) -> Any:
    return format_number(value) if isinstance(value, float) and not math.isfinite(value) else value


def compare(ws: Workspace, refs: list[str], *, deleted: bool = False) -> Comparison:
    """Any number of runs side by side: the config that differs, summary values, final and best metrics;
    a deleted run only when ``deleted`` says so."""
    if len(refs) < 2:
        raise BadInput("compare needs at least two runs")
    runs = [get_run(ws, ref) for ref in refs]
    gone = next((r for r in runs if r.deleted_at), None)
    if gone is not None and not deleted:
        raise NotFound(f"run {gone.short} is deleted: restore it (upstack run restore {gone.short}) "
                       "or compare with --deleted")
    flats = [flatten(r.config) for r in runs]
    keys = sorted({k for flat in flats for k in flat})
    missing = object()
    differ = [k for k in keys if len({repr(f.get(k, missing)) for f in flats}) > 1]
    same = {k: flats[0][k] for k in keys if k not in differ}
    metric_keys = sorted({m.key for r in runs for m in r.metrics})
    summary_keys = sorted({k for r in runs for k in flatten(r.summary)} - _NOT_SUMMARY_VALUES)
    return Comparison(runs, differ, same, metric_keys, summary_keys)


def ingest(ws: Workspace, paths: list[Path],
           progress: Callable[[int, int], None] | None = None) -> RunFolderReport:
    """Take in run folders written elsewhere (a compute node's disk); safe to repeat."""
    folders = []
    for path in paths:
        if not path.exists():
            raise BadInput(f"no such folder: {path}")
        if not find_run_dirs(path):
            raise BadInput(f"{path} holds no upstack run folders")
        folders.append(path)
    return ws.store().ingest_runs(folders, progress)
