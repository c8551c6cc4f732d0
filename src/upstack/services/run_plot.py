"""`upstack plot`: metric curves of runs on one chart, or of groups of runs as a mean with a band.

Drawn with matplotlib (the `plot` extra), written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from upstack.domain.downsample import keep_positions
from upstack.domain.text import clean_text
from upstack.errors import BadInput
from upstack.files import atomic_path
from upstack.services import run_charts
from upstack.services import runs as run_service
from upstack.workspace import Workspace

__all__ = ["plot"]

GROUP_POINTS = 1000  # x buckets of a group's line: as many as a chart this size can show


def plot(ws: Workspace, refs: list[str], keys: list[str], out: Path, *, group: str | None = None,
         band: str = "std", max_points: int = 5000) -> Path:
    """Draw metric curves of one or more runs on one chart; with ``group`` (config keys, as
    ``upstack runs --group`` takes them), each group of the runs as its mean with a band (``std``
    or ``minmax``) across its runs."""
    keys = [clean_text(k) for k in keys]  # the names as upstack keeps them (domain.text): drawable text
    if not keys:
        raise BadInput("name at least one metric to plot")
    if not refs:
        raise BadInput("name the runs to plot")
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise BadInput(f"cannot write a plot to {out.name}: use a .png, .svg or .pdf file name")
    if band not in run_charts.BANDS:
        raise BadInput(f"unknown band {band!r}: choose {' or '.join(run_charts.BANDS)}")
    runs = [run_service.get_run(ws, ref) for ref in refs]
    with _figure(out, suffix) as axes:
        if group is None:
            for run in runs:
                for key in keys:
                    line = run_service.series(ws, run.id, key)
                    kept = keep_positions(line.values, max_points)  # each bucket's min and max: spikes stay
                    label = f"{run.name} ({run.short}) {line.key}" if len(runs) > 1 else line.key
                    axes.plot([line.steps[i] for i in kept], [line.values[i] for i in kept], label=label,
                              linewidth=1.2)
        else:
            grouping = run_service.group_runs(runs, group)
            for key in keys:
                _known(key, grouping.metric_keys)
                for members in grouping.groups:
                    having = [r.id for r in members.runs if any(m.key == key for m in r.metrics)]
                    if not having:
                        continue
                    mean = run_charts.group_series(ws, having, key, band=band, points=GROUP_POINTS)
                    label = f"{members.label} (n={len(having)})" + (f" {key}" if len(keys) > 1 else "")
                    drawn = axes.plot(mean.xs, [_gap(v) for v in mean.mean], label=label, linewidth=1.4)
                    axes.fill_between(mean.xs, [_gap(v) for v in mean.low], [_gap(v) for v in mean.high],
                                      color=drawn[0].get_color(), alpha=0.2, linewidth=0)
        axes.set_ylabel(keys[0] if len(keys) == 1 else "value")
    return out


def _known(key: str, keys: list[str]) -> None:
    if key not in keys:
        raise BadInput(f"these runs logged no metric {key!r}" + (f" (they have {', '.join(keys)})" if keys else ""))


def _gap(value: float | None) -> float:
    return float("nan") if value is None else value  # matplotlib leaves a gap at NaN


@contextmanager
def _figure(out: Path, suffix: str) -> Iterator[Any]:
    """Axes to draw on, saved to ``out`` when the block ends without an error."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise BadInput("upstack plot needs matplotlib: pip install 'upstack[plot]'") from None
    # Run names and metric keys are text, never TeX: '$\\x$' in one would stop the drawing with an error.
    with matplotlib.rc_context({"text.parse_math": False}):
        figure, axes = plt.subplots(figsize=(8, 4.5))
        try:
            yield axes
            axes.set_xlabel("step")
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # a step is a count: no 2.5
            axes.grid(alpha=0.3)
            axes.legend()
            out.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(out) as tmp:  # its name does not end in the suffix: the format is said
                figure.savefig(tmp, format=suffix[1:], dpi=120, bbox_inches="tight")
        finally:
            plt.close(figure)
