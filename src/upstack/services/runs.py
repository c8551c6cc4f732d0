"""Runs, read back: list and filter, show, compare side by side, metric series, plots."""

from __future__ import annotations

import operator
import re
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain import access
from upstack.domain.config import flatten
from upstack.domain.downsample import keep_positions
from upstack.domain.run import RUN_STATUSES, RunInfo, format_number
from upstack.domain.text import clean_text
from upstack.errors import BadInput, NotFound
from upstack.files import atomic_path
from upstack.store import queries, run_search
from upstack.store import runs as store_runs
from upstack.store.run_ingest import RunFolderReport
from upstack.store.run_ingest import run_dirs as find_run_dirs
from upstack.workspace import Workspace

__all__ = ["Condition", "parse_condition", "list_runs", "get_run", "Series", "series", "compare",
           "Comparison", "plot", "ingest"]


@dataclass(frozen=True)
class Condition:
    """A ``--where`` filter on a config value: ``lr=3e-4``, ``optim.name!=adam``, ``width>=16384``."""

    key: str
    op: str
    value: str

    def matches(self, config: dict[str, Any]) -> bool:
        if self.key not in config:
            return False
        found = config[self.key]
        compare = _OPS[self.op]
        wanted = _as_number(self.value)
        have = _as_number(found)
        if wanted is not None and have is not None:
            return bool(compare(have, wanted))
        if self.op in ("=", "!="):
            return bool(compare(_as_text(found), self.value))
        return False


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge,
    "<": operator.lt, ">": operator.gt}
_CONDITION = re.compile(r"^\s*([^=!<>\s]+)\s*(!=|<=|>=|=|<|>)\s*(.*?)\s*$")


def parse_condition(text: str) -> Condition:
    match = _CONDITION.match(text)
    if not match:
        raise BadInput(f"cannot read --where {text!r}: write KEY=VALUE, KEY!=VALUE, KEY<VALUE or KEY>VALUE")
    return Condition(*match.groups())


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def list_runs(ws: Workspace, *, under: str | None = None, status: str | None = None,
              since: str | None = None, until: str | None = None, where: Sequence[str] = (),
              name: str | None = None, limit: int | None = None, sort: str | None = None) -> list[RunInfo]:
    """Runs, newest first, filtered by node (and below), status, start time, name and config.

    ``sort`` (``best(loss)``, ``lr desc``): taken and not yet used; issue 20's service side orders by it."""
    from upstack.services.tree import resolve_node

    conditions = [parse_condition(w) for w in where]
    if status is not None and status not in RUN_STATUSES:
        raise BadInput(f"unknown status {status!r}: choose one of {', '.join(RUN_STATUSES)}")
    store = ws.store()
    node_id = resolve_node(store.db, under) if under else None
    found = []
    for run_id in run_search.run_ids(store.db, under=node_id, status=status, since=since, until=until, name=name):
        try:
            run = store_runs.load_run(store.db, run_id, details=False)
        except NotFound:
            continue  # on a team server: not this reader's to see

        if all(c.matches(flatten(run.config)) for c in conditions):
            found.append(run)
            if limit is not None and len(found) >= limit:
                break
    return found


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

    def config_value(self, run: RunInfo, key: str) -> str:
        flat = flatten(run.config)
        return format_number(flat[key]) if key in flat else "—"

    def to_dict(self) -> dict[str, Any]:
        return {"runs": [r.to_dict() for r in self.runs],
                "differences": {k: [flatten(r.config).get(k) for r in self.runs] for k in self.config_keys},
                "same": self.same_config,
                "metrics": {k: [next((m.to_dict() for m in r.metrics if m.key == k), None) for r in self.runs]
                            for k in self.metric_keys}}


def compare(ws: Workspace, refs: list[str]) -> Comparison:
    if len(refs) < 2:
        raise BadInput("compare needs at least two runs")
    runs = [get_run(ws, ref) for ref in refs]
    flats = [flatten(r.config) for r in runs]
    keys = sorted({k for flat in flats for k in flat})
    missing = object()
    differ = [k for k in keys if len({repr(f.get(k, missing)) for f in flats}) > 1]
    same = {k: flats[0][k] for k in keys if k not in differ}
    metric_keys = sorted({m.key for r in runs for m in r.metrics})
    return Comparison(runs, differ, same, metric_keys)


def plot(ws: Workspace, refs: list[str], keys: list[str], out: Path, *, max_points: int = 5000) -> Path:
    """Draw metric curves of one or more runs on one chart (needs matplotlib)."""
    if not keys:
        raise BadInput("name at least one metric to plot")
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise BadInput(f"cannot write a plot to {out.name}: use a .png, .svg or .pdf file name")
    loaded = [(get_run(ws, ref), key) for ref in refs for key in keys]
    curves = [(run, series(ws, run.id, key)) for run, key in loaded]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise BadInput("upstack plot needs matplotlib: pip install 'upstack[plot]'") from None
    figure, axes = plt.subplots(figsize=(8, 4.5))
    try:
        for run, line in curves:
            kept = keep_positions(line.values, max_points)  # each bucket's min and max: spikes stay
            steps, values = [line.steps[i] for i in kept], [line.values[i] for i in kept]
            label = f"{run.name} ({run.short}) {line.key}" if len(refs) > 1 else line.key
            axes.plot(steps, values, label=label, linewidth=1.2)
        axes.set_xlabel("step")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # a step is a count: no 2.5
        axes.set_ylabel(curves[0][1].key if len(keys) == 1 else "value")  # the name as kept
        axes.grid(alpha=0.3)
        axes.legend()
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:  # its name does not end in the suffix: the format is said
            figure.savefig(tmp, format=suffix[1:], dpi=120, bbox_inches="tight")
    finally:
        plt.close(figure)
    return out


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
