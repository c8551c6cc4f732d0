"""Runs drawn together: a group of runs as one line (the mean) with a band (std or min-max).

``group_series`` puts every run's series onto the same x buckets (equal widths over the
group's whole x range), takes each run's mean in each bucket, then the mean and the band
across runs per bucket. It has to draw 50 runs of 100,000 points in well under a second,
so it never loops over points in Python: the bucket edges are found by bisecting each
run's (ascending) x array, and a bucket's mean is C-speed ``sum()`` over an array slice.
A bucket holding NaN or infinity falls back to the finite points in it (rare: only there).
Which runs make a group is ``services.run_query.group_runs``'s to say.
"""

from __future__ import annotations

import math
import operator
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from upstack.domain.run import ENDED, RunInfo
from upstack.errors import BadInput
from upstack.memo import Memo
from upstack.services import runs as run_service
from upstack.store import runs as store_runs
from upstack.workspace import Workspace

__all__ = ["BANDS", "XS", "GroupSeries", "group_series", "bucket_means"]

BANDS = ("std", "minmax")
XS = ("step", "time")
DEFAULT_POINTS = 1000
MAX_RUNS = 200  # each request reads every point of each: bounded, as a panel's lines are


@dataclass
class GroupSeries:
    """A group's line: per bucket, its x, the mean across runs, the band's low and high, and how
    many runs had points there (None where none had)."""

    key: str
    band: str
    x: str
    runs: list[dict[str, str]]
    xs: list[float]
    mean: list[float | None]
    low: list[float | None]
    high: list[float | None]
    counts: list[int]
    total: int = 0  # points read, over every run
    missing: list[str] = field(default_factory=list)  # runs (short ids) that did not log the metric

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "band": self.band, "x": self.x, "runs": self.runs, "total": self.total,
                "missing": self.missing, "xs": self.xs, "mean": self.mean, "low": self.low, "high": self.high,
                "counts": self.counts}


def _regular(xs: array, seen: dict[tuple[int, int, int], bytes]) -> bool:
    """Whether integer steps go up evenly (0, 1, 2 ... or 0, 10, 20 ...), as a sweep's runs log them:
    compared as bytes with that range, made once for every run that shares it (``seen``)."""
    n = len(xs)
    if xs.typecode != "q" or n < 2:
        return n < 2
    span = xs[-1] - xs[0]
    if span <= 0 or span % (n - 1):
        return False
    shape = (xs[0], n, span // (n - 1))
    if shape not in seen:
        seen[shape] = array("q", range(xs[0], xs[-1] + 1, shape[2])).tobytes()
    return xs.tobytes() == seen[shape]


def _ascending(xs: array, seen: dict[tuple[int, int, int], bytes]) -> tuple[array, array | None]:
    """``xs`` sorted, and the order to read values in (None when already ascending: the usual case,
    found by a comparison of bytes for even steps, else a C-speed pairwise pass, no sort)."""
    if _regular(xs, seen) or all(map(operator.le, xs, islice(xs, 1, None))):
        return xs, None
    order = sorted(range(len(xs)), key=xs.__getitem__)
    return array(xs.typecode, [xs[i] for i in order]), array("q", order)


def bucket_means(xs: array, values: array, edges: Sequence[float]) -> list[float | None]:
    """The mean of ``values`` whose x falls in each bucket [edges[i], edges[i+1]) (the last one
    closed); None where a bucket holds no finite value. ``xs`` must be ascending."""
    isfinite = math.isfinite
    cuts = [bisect_left(xs, edge) for edge in edges[:-1]] + [len(xs)]
    means: list[float | None] = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        if hi <= lo:
            means.append(None)
            continue
        total = sum(values[lo:hi])
        if isfinite(total):
            means.append(total / (hi - lo))
            continue
        finite = [v for v in values[lo:hi] if isfinite(v)]
        means.append(sum(finite) / len(finite) if finite else None)
    return means


def group_series(ws: Workspace, run_ids: Sequence[str], key: str, *, band: str = "std", x: str = "step",
                 points: int = DEFAULT_POINTS) -> GroupSeries:
    """The runs' ``key`` as one line with a band: each run bucketed onto common x buckets, then
    the mean and the band (``std``: mean ± standard deviation; ``minmax``: lowest to highest run)
    across runs per bucket. ``x``: ``step``, or ``time`` (seconds since each run's first point).
    A run the reader may not see is a NotFound, as it is everywhere else."""
    if band not in BANDS:
        raise BadInput(f"unknown band {band!r}: choose {' or '.join(BANDS)}")
    if x not in XS:
        raise BadInput(f"unknown x axis {x!r}: choose {' or '.join(XS)}")
    refs = list(dict.fromkeys(r.strip() for r in run_ids if r.strip()))
    if not refs:
        raise BadInput("name at least one run")
    if len(refs) > MAX_RUNS:
        raise BadInput(f"a group chart takes at most {MAX_RUNS} runs (got {len(refs)})")
    points = max(2, min(int(points), 20_000))
    runs = [run_service.get_run(ws, ref) for ref in refs]  # each the reader's to see, or NotFound
    cache_key = None
    if all(run.status in ENDED for run in runs):  # ended runs cannot change: the same answer every time
        cache_key = (str(ws.home), ws.db_url, key, band, x, points, tuple(
            (r.id, r.status, r.ended_at, next(((m.count, m.last_step) for m in r.metrics if m.key == key), None))
            for r in runs))
        cached = _GROUPS.get(cache_key)
        if cached is not None:
            return cached
    found = _aggregate(ws, runs, key, band, x, points)
    if cache_key is not None:
        _GROUPS.put(cache_key, found)
    return found


# Group lines of ended runs, as computed: 50 runs of 100,000 points take a few tenths of a second to
# read and bucket, and a group page asks again on every visit. A few entries of ~50 KB each.
_GROUPS: Memo[GroupSeries] = Memo(16)


def _aggregate(ws: Workspace, runs: list[RunInfo], key: str, band: str, x: str, points: int) -> GroupSeries:
    db = ws.store().db
    regular: dict[tuple[int, int, int], bytes] = {}
    lines: list[tuple[array, array, float]] = []  # x ascending, values, where x 0 is (time: the first point)
    missing, total = [], 0
    for run in runs:
        if not any(m.key == key for m in run.metrics):
            missing.append(run.short)
            continue
        # The run was just checked as the reader's to see (get_run): its points straight from the store.
        xs, values = store_runs.read_xy(db, run.id, key, "steps" if x == "step" else "times")
        xs, order = _ascending(xs, regular)
        if order is not None:
            values = array("d", [values[i] for i in order])
        total += len(values)
        if len(values):
            lines.append((xs, values, float(xs[0]) if x == "time" else 0.0))
    shown_runs = [{"id": r.id, "short": r.short, "name": r.name} for r in runs]
    if not lines:
        return GroupSeries(key, band, x, shown_runs, [], [], [], [], [], total, missing)
    first = min(float(xs[0]) - zero for xs, _, zero in lines)
    last = max(float(xs[-1]) - zero for xs, _, zero in lines)
    buckets = max(1, min(points, int(last - first) + 1 if x == "step" else points))
    width = (last - first) / buckets or 1.0
    edges = [first + width * i for i in range(buckets)] + [last]
    # Each run's own x zero shifts the edges, not its points: no loop over points.
    per_run = [bucket_means(xs, values, [e + zero for e in edges]) for xs, values, zero in lines]
    centres = [first + width * (i + 0.5) for i in range(buckets)] if last > first else [first]
    mean: list[float | None] = []
    low: list[float | None] = []
    high: list[float | None] = []
    counts = []
    for column in zip(*per_run, strict=True):
        have = [v for v in column if v is not None]
        counts.append(len(have))
        if not have:
            mean.append(None)
            low.append(None)
            high.append(None)
            continue
        average = sum(have) / len(have)
        mean.append(average)
        if band == "minmax":
            low.append(min(have))
            high.append(max(have))
        else:
            spread = math.sqrt(sum((v - average) ** 2 for v in have) / (len(have) - 1)) if len(have) > 1 else 0.0
            low.append(average - spread)
            high.append(average + spread)
    return GroupSeries(key, band, x, shown_runs, centres[:len(mean)], mean, low, high, counts, total, missing)
