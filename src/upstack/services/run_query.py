"""Listing runs by what they found: filters and sorting on metrics, config and summary values, and
groups over seeds (`upstack runs --where 'best(loss)<0.1' --sort 'final(val/acc)' --group -seed`).

The runs a listing starts from are found in SQL (where they are filed, status, dates, who may see
them); each value a filter or the sort names is then read for all of them in one query, and only
the runs shown are loaded whole. See domain/run_filters.py for what a field may name.
"""

from __future__ import annotations

import difflib
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from upstack.domain.config import flatten
from upstack.domain.run import RUN_STATUSES, RunInfo, format_number, higher_is_better
from upstack.domain.run_filters import (
    Condition,
    Field,
    GroupBy,
    as_number,
    parse_condition,
    parse_group,
    parse_sort,
)
from upstack.domain.text import normalize_tag
from upstack.errors import BadInput
from upstack.store import run_search
from upstack.store import runs as store_runs
from upstack.store.db import Database
from upstack.workspace import Workspace

__all__ = ["Condition", "parse_condition", "list_runs", "group_runs", "RunGroup", "GroupStat", "Grouping"]


def list_runs(ws: Workspace, *, under: str | None = None, status: str | None = None,
              since: str | None = None, until: str | None = None, where: Sequence[str] = (),
              name: str | None = None, limit: int | None = None, sort: str | None = None,
              tags: Sequence[str] = (), deleted: bool = False) -> list[RunInfo]:
    """Runs, newest first (or by ``sort``), filtered by node (and below), status, start time, name,
    tags (all of them), and ``where`` conditions on config, metrics and summary values (all must
    hold); with ``deleted``, the deleted ones instead (`upstack run rm`)."""
    from upstack.services.tree import resolve_node

    conditions = [parse_condition(w) for w in where]
    order = parse_sort(sort) if sort else None
    if status is not None and status not in RUN_STATUSES:
        raise BadInput(f"unknown status {status!r}: choose one of {', '.join(RUN_STATUSES)}")
    db = ws.store().db
    node_id = resolve_node(db, under) if under else None
    wanted_tags = [normalize_tag(t) for t in tags]
    if "" in wanted_tags:
        raise BadInput("a tag to filter by is a word, as #baseline or baseline")
    found = run_search.find(db, under=node_id, status=status, since=since, until=until, name=name,
                            deleted=deleted)
    values = _Values(db, found)
    ids = found.ids
    if wanted_tags and ids:  # read here, not matched in SQL: SQLite's lower() knows ASCII alone
        held = {i: {normalize_tag(t) for t in tags} for i, tags in run_search.run_tags(db, found).items()}
        ids = [i for i in ids if held.get(i, set()).issuperset(wanted_tags)]
    for condition in conditions:
        if not ids:
            break
        got = values.of(values.resolve(condition.field, "filter"))
        ids = [i for i in ids if condition.matches(got.get(i))]
    if order is not None and ids:
        chosen = values.resolve(order.field, "sort")
        got = values.of(chosen)
        descending = order.descending
        if descending is None:  # a metric: best first, by its goal; anything else ascending
            descending = chosen.is_metric and values.goal(chosen.key) == "max"
        ids = _sorted(ids, got, descending)
    if limit is not None:
        ids = ids[:limit]
    return store_runs.load_runs(db, ids)


def _sorted(ids: list[str], got: dict[str, Any], descending: bool) -> list[str]:
    """Runs by a value; those without one (or with NaN) last, in the order they came (newest first)."""
    numbers = {i: v if type(v) is float else as_number(v) for i, v in got.items() if v is not None}
    if all(n is not None for n in numbers.values()):
        valued = [i for i in ids if i in numbers and not math.isnan(numbers[i] or 0.0)]
        valued.sort(key=lambda i: numbers[i] or 0.0, reverse=descending)
    else:  # text somewhere: everything compares as text
        valued = [i for i in ids if i in got and got[i] is not None]
        valued.sort(key=lambda i: str(got[i]), reverse=descending)
    kept = set(valued)
    return valued + [i for i in ids if i not in kept]


class _Values:
    """One value of every found run, per field, read once."""

    def __init__(self, db: Database, found: run_search.Found) -> None:
        self.db = db
        self.found = found
        self._columns: dict[str, dict[str, dict[str, Any]]] = {}  # config/summary: run id -> flattened
        self._whole: set[str] = set()  # columns read for every run
        self._asked: set[tuple[str, str]] = set()  # (column, key) read for the runs that may hold key
        self._metric_keys: list[str] | None = None
        self._goals: dict[str, str] = {}
        self._metrics: dict[str, dict[str, tuple[str, str | None, str | None]]] = {}

    def metric_keys(self) -> list[str]:
        if self._metric_keys is None:
            self._metric_keys = run_search.metric_keys(self.db, self.found)
        return self._metric_keys

    def _flat(self, column: str, key: str | None = None) -> dict[str, dict[str, Any]]:
        """Runs' config (or summary) flattened; with ``key``, only runs whose stored text could hold
        it are read and parsed (10,000 configs need not be read to learn that none has "val/acc")."""
        if key is None:
            if column not in self._whole:
                self._whole.add(column)
                self._parse(column, run_search.run_column(self.db, self.found, column))
            return self._columns.setdefault(column, {})
        if (column, key) not in self._asked and column not in self._whole:
            self._asked.add((column, key))
            needles = {json.dumps(part, ensure_ascii=False) for part in (key, key.rsplit(".", 1)[-1])}
            self._parse(column, run_search.run_column(self.db, self.found, column, sorted(needles)))
        return self._columns.setdefault(column, {})

    def _parse(self, column: str, texts: dict[str, str]) -> None:
        parsed = self._columns.setdefault(column, {})
        for run_id, text in texts.items():
            if run_id in parsed:
                continue
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = {}
            parsed[run_id] = flatten(loaded) if isinstance(loaded, dict) else {}

    def _has(self, column: str, key: str) -> bool:
        return any(key in flat for flat in self._flat(column, key).values())

    def resolve(self, wanted: Field, what: str) -> Field:
        """The field with its source decided (a bare name: config, else a metric's final value, else
        a summary value); BadInput naming the keys there are when nothing has it."""
        key = wanted.key
        if wanted.source == "config" or (not wanted.source and self._has("config", key)):
            found = self._has("config", key)
            chosen = Field("config", key)
        elif wanted.is_metric or (not wanted.source and self._metric(key)):
            found = bool(self._metric(key))
            chosen = Field(wanted.source or "final", key)
        else:
            found = self._has("summary", key)
            chosen = Field("summary", key)
        if not found:
            raise BadInput(self._unknown(wanted, what))
        return chosen

    def _unknown(self, wanted: Field, what: str) -> str:
        metrics = self.metric_keys()
        config = sorted({k for flat in self._flat("config").values() for k in flat})
        summary = sorted({k for flat in self._flat("summary").values() for k in flat} - {"learning_id"})
        kinds = {"config": config, "summary": summary, **{s: metrics for s in ("final", "best", "min", "max")}}
        pool = kinds.get(wanted.source, [*config, *metrics, *summary])
        close = difflib.get_close_matches(wanted.key, pool, n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        known = "; ".join(f"{name}: {_listed(keys)}" for name, keys in
                          (("metrics", metrics), ("config", config), ("summary", summary)) if keys)
        return f"{what} {wanted}: no run here has {wanted.key!r}{hint}; " + (known or "these runs have no values yet")

    def goal(self, key: str) -> str:
        """What "best" means for metric ``key``: a run's stated goal, else the one its name suggests."""
        if key not in self._goals:
            stated = run_search.stated_goals(self.db, self.found, key)
            self._goals[key] = next(iter(stated.values()), "") or ("max" if higher_is_better(key) else "min")
        return self._goals[key]

    def _metric(self, key: str) -> dict[str, tuple[str, str | None, str | None]]:
        if key not in self._metrics:
            self._metrics[key] = run_search.metric_values(self.db, self.found, key)
        return self._metrics[key]

    def of(self, chosen: Field) -> dict[str, Any]:
        """Each found run's value of the field (runs without one are missing)."""
        if chosen.source in ("config", "summary"):
            return {i: flat[chosen.key] for i, flat in self._flat(chosen.source, chosen.key).items()
                    if chosen.key in flat}
        stored = self._metric(chosen.key)
        if chosen.source == "best":
            stated = run_search.stated_goals(self.db, self.found, chosen.key)
            default = "max" if higher_is_better(chosen.key) else "min"
            picked = {i: v[2] if stated.get(i, default) == "max" else v[1] for i, v in stored.items()}
        else:
            column = ("final", "min", "max").index(chosen.source)
            picked = {i: v[column] for i, v in stored.items()}
        return {i: float(text) for i, text in picked.items() if text is not None}


def _listed(keys: list[str], most: int = 12) -> str:
    return ", ".join(keys[:most]) + (f" and {len(keys) - most} more" if len(keys) > most else "")


# -- groups ------------------------------------------------------------------------------------

@dataclass
class GroupStat:
    """A metric over a group's runs: how many have it, the mean and spread of their final and best."""

    count: int
    final_mean: float | None
    final_std: float | None
    best_mean: float | None
    best_std: float | None
    final_min: float | None = None
    final_max: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: _json(v) for k, v in self.__dict__.items()}


@dataclass
class RunGroup:
    values: dict[str, Any]  # the grouping keys' values (a run without a key: None)
    runs: list[RunInfo]
    stats: dict[str, GroupStat] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={format_number(v) if v is not None else '—'}" for k, v in self.values.items()) \
            or "all runs"

    def to_dict(self) -> dict[str, Any]:
        return {"values": self.values, "label": self.label, "runs": [r.id for r in self.runs],
                "count": len(self.runs), "metrics": {k: s.to_dict() for k, s in self.stats.items()}}


@dataclass
class Grouping:
    keys: list[str]  # the config keys the runs were grouped by
    groups: list[RunGroup]
    metric_keys: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"keys": self.keys, "metrics": self.metric_keys, "groups": [g.to_dict() for g in self.groups]}


def group_runs(runs: Sequence[RunInfo], by: GroupBy | str | Sequence[str]) -> Grouping:
    """Runs grouped by config keys (``lr,width``, or ``["lr", "width"]``), or by every config key that
    differs between them but some (``-seed``); nothing to group by: one group of them all. Each group
    has the mean and standard deviation (over its runs) of every metric's final and best value.
    Groups come in the order of their first run."""
    if not isinstance(by, GroupBy | str):
        by = ",".join(k.strip() for k in by if k.strip())
    grouping = (parse_group(by) if by.strip() else GroupBy()) if isinstance(by, str) else by
    flats = [flatten(r.config) for r in runs]
    missing = object()
    all_keys = sorted({k for flat in flats for k in flat})
    differing = [k for k in all_keys if len({repr(f.get(k, missing)) for f in flats}) > 1]
    keys = grouping.chosen(differing) if grouping.keys or grouping.all_but else []
    unknown = [k for k in keys if k not in all_keys]
    if runs and unknown:
        close = difflib.get_close_matches(unknown[0], all_keys, n=3, cutoff=0.6)
        raise BadInput(f"group by {unknown[0]}: no run here has that config key"
                       + (f" (did you mean {', '.join(close)}?)" if close else "")
                       + (f"; config: {_listed(all_keys)}" if all_keys else "; these runs have no config"))
    groups: dict[str, RunGroup] = {}
    for run, flat in zip(runs, flats, strict=True):
        values = {k: flat.get(k) for k in keys}
        label = json.dumps(values, sort_keys=True, default=str)
        groups.setdefault(label, RunGroup(values, [])).runs.append(run)
    metric_keys = sorted({m.key for r in runs for m in r.metrics})
    for group in groups.values():
        for key in metric_keys:
            found = [m for r in group.runs for m in r.metrics if m.key == key]
            if found:
                group.stats[key] = _stat(found)
    return Grouping(keys, list(groups.values()), metric_keys)


def _stat(metrics: list[Any]) -> GroupStat:
    finals = [m.last for m in metrics if math.isfinite(m.last)]
    bests = [m.best for m in metrics if m.best is not None and math.isfinite(m.best)]
    return GroupStat(count=len(metrics), final_mean=_mean(finals), final_std=_std(finals),
                     best_mean=_mean(bests), best_std=_std(bests),
                     final_min=min(finals) if finals else None, final_max=max(finals) if finals else None)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _std(values: list[float]) -> float | None:
    """The sample standard deviation; None for fewer than two values (a spread of one run is unknown)."""
    return statistics.stdev(values) if len(values) > 1 else None


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return format_number(value)
    return value
