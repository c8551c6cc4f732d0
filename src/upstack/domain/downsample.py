"""Thinning a metric series for display: each bucket keeps its lowest and highest value.

A chart a few hundred pixels wide cannot show a million points, but it must
still show the one spike among them, and a NaN must still leave a gap. So the
series is cut into equal buckets, and each keeps the positions of its minimum
and maximum (in logging order), plus one non-finite point if it has any.

It works on ``array`` slices with C-level builtins (``sum``, ``min``, ``max``,
``array.index``): a million points take tens of milliseconds, not seconds.
"""

from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, islice

__all__ = ["Thinned", "thin", "keep_positions", "step_window"]


@dataclass(frozen=True)
class Thinned:
    """Which points of a series to draw.

    Attributes:
        positions: ascending positions into the full series.
        total: how many points the (windowed) series has.
        downsampled: whether points were left out.
    """

    positions: Sequence[int]
    total: int
    downsampled: bool


def thin(steps: Sequence[int], values: Sequence[float], limit: int, *,
         start: int | None = None, end: int | None = None) -> Thinned:
    """At most ``limit`` points of the series, optionally only steps ``start`` to ``end`` (inclusive).

    >>> thin([0, 1, 2, 3], [1.0, 5.0, 2.0, 0.5], 3).positions
    [1, 3]
    """
    window = step_window(steps, start, end)
    part = values[window.start:window.stop] if isinstance(window, range) else [values[i] for i in window]
    kept = keep_positions(part, limit)
    downsampled = len(kept) < len(window)
    if isinstance(window, range) and window.start == 0:
        return Thinned(kept, len(window), downsampled)
    return Thinned([window[k] for k in kept], len(window), downsampled)


def keep_positions(values: Sequence[float], limit: int) -> Sequence[int]:
    """Positions of at most ``limit`` values: every one if they fit, else each bucket's min and max.

    A bucket holding NaN or infinity also keeps its first such point, so the line
    shows a gap there; its min and max are then taken over its finite values.
    """
    count = len(values)
    if count <= limit:
        return range(count)
    if limit < 3:
        raise ValueError("keep at least 3 points")
    # A little room for buckets with gaps (three points each) spares a second pass in the usual case.
    buckets = max(1, limit // 2 - limit // 64)
    while True:
        kept = _min_max_pass(values, math.ceil(count / buckets))
        if len(kept) <= limit:
            return kept
        # Many buckets had gaps (3 points each): use fewer; limit // 3 buckets always fit.
        buckets = max(limit // 3, min(buckets - 1, buckets * limit // len(kept)))


def _min_max_pass(values: Sequence[float], size: int) -> list[int]:
    kept: list[int] = []
    isfinite = math.isfinite
    for start in range(0, len(values), size):
        chunk = values[start:start + size]
        # One C-level pass tells whether the bucket is all finite: NaN or inf poisons the sum
        # (a finite overflow to inf only sends the bucket down the slower, still correct path).
        if isfinite(sum(chunk)):
            low_at, high_at = chunk.index(min(chunk)), chunk.index(max(chunk))
            gap_at = None
        else:
            finite_flags = list(map(isfinite, chunk))
            gap_at = finite_flags.index(False) if False in finite_flags else None
            finite = list(compress(chunk, finite_flags))
            if finite:
                low_at, high_at = chunk.index(min(finite)), chunk.index(max(finite))
            else:
                assert gap_at is not None  # no finite value means every one is a gap
                low_at = high_at = gap_at
        chosen = {low_at, high_at} if gap_at is None else {low_at, high_at, gap_at}
        kept.extend(start + i for i in sorted(chosen))
    return kept


def step_window(steps: Sequence[int], start: int | None, end: int | None) -> Sequence[int]:
    """Positions whose step lies within ``start``..``end``: a ``range`` when steps only go up."""
    if start is None and end is None:
        return range(len(steps))
    low = -math.inf if start is None else start
    high = math.inf if end is None else end
    if all(map(operator.le, steps, islice(steps, 1, None))):
        return range(bisect_left(steps, low), bisect_right(steps, high))
    return [i for i, step in enumerate(steps) if low <= step <= high]
