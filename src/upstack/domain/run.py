"""Runs as plain types, and the result entry a run becomes when it ends."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain.config import flatten
from upstack.ids import short_id

__all__ = ["RunInfo", "MetricSummary", "RunItem", "higher_is_better", "format_number", "tick_labels",
           "format_duration", "ran_for", "result_title", "result_body", "provenance_lines", "RUN_STATUSES", "ENDED",
           "SYSTEM_PREFIX", "metric_order", "RUN_NAME_CHARS", "clipped"]

RUN_STATUSES = ("running", "finished", "failed", "interrupted", "crashed")
ENDED = ("finished", "failed", "interrupted", "crashed")
SYSTEM_PREFIX = "system/"  # CPU, memory and GPU, sampled by the run's thread (capture/system.py)


def metric_order(key: str) -> tuple[bool, str]:
    """A run's metrics by name, the machine's (system/...) after the script's: a list that shows the
    first few, and the result entry's title, show what the run learned, not the CPU it used."""
    return key.startswith(SYSTEM_PREFIX), key


# Metrics whose names say "more is better"; everything else (losses, errors) is minimised.
_HIGHER = re.compile(r"acc|score|reward|auc|f1|precision|recall|win|success|return", re.IGNORECASE)


def higher_is_better(key: str) -> bool:
    return bool(_HIGHER.search(key))


def format_number(value: Any) -> str:
    """Numbers as people read them: 6 significant digits; NaN and inf shown as such."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return format(value, ".6g") if isinstance(value, float) else str(value)


def tick_labels(values: Sequence[float]) -> list[str]:
    """Labels for a linear axis's ticks, never two alike (as the web app's charts, static/ticks.js).

    Every tick gets as many decimals as the finest one needs; very small or very large numbers
    are written as 1.5e-06 is, shorter. A label that would still repeat one before it is left
    empty.

    >>> tick_labels([0, 0.0005, 0.001, 0.0015, 0.002])
    ['0.0000', '0.0005', '0.0010', '0.0015', '0.0020']
    >>> tick_labels([0, 0.2, 0.4])
    ['0.0', '0.2', '0.4']
    >>> tick_labels([0, 5e-06, 1e-05])
    ['0', '5e-6', '1e-5']
    """
    largest = max((abs(v) for v in values), default=0.0)
    if largest >= 1e9 or 0 < largest < 1e-4:
        shown = [_scientific(v) for v in values]
    else:
        digits = max((_decimals(v) for v in values), default=0)
        shown = [f"{v + 0.0:.{digits}f}" for v in values]  # + 0.0: -0.0 reads 0
    seen: set[str] = set()
    labels = []
    for label in shown:
        labels.append("" if label in seen else label)
        seen.add(label)
    return labels


_DIGITS = 15  # about what a double holds


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= abs(b) * 1e-9


def _decimals(value: float) -> int:
    return next((d for d in range(_DIGITS) if _close(round(value, d), value)), _DIGITS)


def _scientific(value: float) -> str:
    if value == 0:
        return "0"
    text = next((t for t in (f"{value:.{d}e}" for d in range(_DIGITS)) if _close(float(t), value)),
                f"{value:.{_DIGITS}e}")
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def ran_for(status: str, seconds: float) -> str:
    """How long a run ran, as people read it.

    A crashed run's end is the last time it was heard from, so it ran at least that long
    ("at least 4 s"); heard from last as it started, how long it ran is not known.
    """
    if status != "crashed":
        return format_duration(seconds)
    if seconds < 1:
        return "an unknown time"
    return "at least " + format_duration(math.floor(seconds))


@dataclass
class MetricSummary:
    key: str
    count: int
    last_step: int
    last: float
    min: float | None
    max: float | None
    goal: str = ""  # "min" or "max": what "best" means; by default guessed from the name

    def __post_init__(self) -> None:
        self.goal = self.goal or ("max" if higher_is_better(self.key) else "min")

    @property
    def best(self) -> float | None:
        return self.max if self.goal == "max" else self.min

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "count": self.count, "last_step": self.last_step,
                "last": _json_number(self.last), "min": _json_number(self.min),
                "max": _json_number(self.max), "best": _json_number(self.best), "goal": self.goal}


@dataclass
class RunItem:
    kind: str  # figure, table, note, diff, traceback, resume
    at: str
    data: dict[str, Any]


@dataclass
class RunInfo:
    id: str
    name: str
    status: str
    node_id: str | None
    started_at: str
    ended_at: str | None
    heartbeat_at: str | None
    host: str
    error: str
    config: dict[str, Any]
    provenance: dict[str, Any]
    summary: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    goals: dict[str, str] = field(default_factory=dict)
    metrics: list[MetricSummary] = field(default_factory=list)
    items: list[RunItem] = field(default_factory=list)
    author_id: str | None = None  # a team server's user; None: the workspace's own user
    points_lost: int = 0  # metric points its disk refused for longer than memory could hold them
    deleted_at: str | None = None  # deleted (`upstack run rm`): hidden from lists, restorable

    @property
    def short(self) -> str:
        return short_id(self.id)

    @property
    def status_text(self) -> str:
        """The status as people read it: "finished", or "finished, 1,234 points lost to write errors"."""
        return self.status + (f", {self.points_lost:,} points lost to write errors" if self.points_lost else "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["short"] = self.short
        data["metrics"] = [m.to_dict() for m in self.metrics]
        data["summary"] = {k: _json_number(v) for k, v in self.summary.items()}
        return data


def _json_number(value: Any) -> Any:
    """JSON has no NaN or infinity: such values travel as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return format_number(value)
    return value


RUN_NAME_CHARS = 500  # a run's name (a start or a rename): a team server takes no longer one
TITLE_NAME_CHARS = 200  # of a run's name in its result entry's title (the whole name is on the run)
TITLE_KEY_CHARS = 100  # of each metric's name there


def result_title(run: RunInfo, seconds: float | None) -> str:
    """"Run sae-sweep finished after 12 min: loss 0.0312, l0 41." (two metrics at most).

    A long name or metric key is cut short (with "…"): the title is an indexed key of the entries
    table, and PostgreSQL refuses an index row of more than about 2,700 bytes, so a run named by a
    script, an import or a push with a few thousand characters would otherwise never get its result
    entry (and, stuck in the journal, stop every later ingest)."""
    took = f" after {ran_for(run.status, seconds)}" if seconds is not None else ""
    lost = f", {run.points_lost:,} points lost to write errors" if run.points_lost else ""
    shown = ", ".join(f"{clipped(m.key, TITLE_KEY_CHARS)} {format_number(m.last)}" for m in run.metrics[:2])
    return f"Run {clipped(run.name, TITLE_NAME_CHARS)} {run.status}{took}{lost}" + (f": {shown}." if shown else ".")


def clipped(text: str, most: int) -> str:
    """``text`` of at most ``most`` characters, a cut one ending in "…"."""
    return text if len(text) <= most else text[:most - 1] + "…"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(map(cell, row)) + " |" for row in rows)]


def result_body(run: RunInfo, attachment_short: dict[str, str]) -> str:
    """The result entry's Markdown: metrics, summary, notes, figures, tables, config, provenance.

    ``attachment_short`` maps attachment ids to their short ids, for inline figures.
    """
    lines: list[str] = []
    if run.error:
        lines += [f"**Error:** `{run.error}`", ""]
    if run.points_lost:
        lines += [f"**Points lost:** {run.points_lost:,} metric points could not be written (the disk refused "
                  "them for longer than memory could hold them); the series have gaps there.", ""]
    summary = {k: v for k, v in run.summary.items()
               if k not in ("expected", "happened", "outcome", "learned", "learning_id")}
    if run.metrics:
        lines += ["## Metrics", ""]
        lines += _table(["metric", "final", "best", "min", "max", "points", "last step"], [
            [m.key, format_number(m.last), format_number(m.best), format_number(m.min),
             format_number(m.max), str(m.count), str(m.last_step)] for m in run.metrics])
        lines.append("")
    if summary:
        lines += ["## Summary", ""]
        lines += [f"- {key}: {format_number(value)}" for key, value in summary.items()]
        lines.append("")
    notes = [i for i in run.items if i.kind == "note"]
    if notes:
        lines += ["## Notes", ""] + [f"- {i.data['text']}" for i in notes] + [""]
    resumes = [i for i in run.items if i.kind == "resume"]
    if resumes:  # a pre-empted run taken up again: when, where, from which step
        lines += ["## Resumed", ""] + [
            f"- {i.data.get('at') or i.at} on {i.data.get('host') or 'an unknown host'}, after step "
            f"{i.data.get('step', '?')}" for i in resumes] + [""]
    for item in run.items:
        if item.kind == "figure":
            first = item.data["attachments"][0]
            title = item.data.get("title") or first["filename"]
            lines += [f"## Figure: {title}", ""]
            if first["media_type"].startswith("image/"):
                # A paragraph of its own: the Files line goes under the figure, not beside it.
                lines += [f"![{title}](upstack:{attachment_short.get(first['id'], '')})", ""]
            lines += ["Files: " + ", ".join(a["filename"] for a in item.data["attachments"]), ""]
        elif item.kind == "table":
            title = item.data.get("title") or "Table"
            lines += [f"## Table: {title}", ""]
            lines += _table(item.data["columns"], item.data["rows"])
            more = int(item.data.get("row_count", 0)) - len(item.data["rows"])
            if more > 0:
                lines.append(f"\n… and {more} more rows (full table attached)")
            lines.append("")
    if run.config:
        lines += ["## Config", ""]
        lines += _table(["key", "value"], [[k, format_number(v)] for k, v in flatten(run.config).items()])
        lines.append("")
    lines += ["## Provenance", "", *provenance_lines(run)]
    return "\n".join(lines).rstrip() + "\n"


def provenance_lines(run: RunInfo) -> list[str]:
    """Where the run came from, one Markdown bullet a line, ending with what was not captured."""
    prov = run.provenance.get("data", {})
    lines = []
    git = prov.get("git")
    if git:
        state = "uncommitted changes (diff attached)" if git.get("dirty") else "clean"
        branch = git.get("branch") or "detached"
        lines.append(f"- git: {str(git.get('commit', ''))[:12]} on {branch}, {state}"
                     + (f"; remote {git['remote']}" if git.get("remote") else ""))
        if git.get("diff_truncated"):
            lines.append(f"- diff cut to the run_diff_limit setting (it was {git.get('diff_bytes')} bytes)")
    command = prov.get("command")
    if command:
        lines.append(f"- command: `{' '.join(command.get('argv', []))}` in {command.get('cwd', '')}")
    python = prov.get("python")
    if python:
        lines.append(f"- Python {python.get('version', '')} ({python.get('executable', '')})")
    packages = prov.get("packages")
    if packages:
        lines.append(f"- {len(packages)} installed packages recorded")
    host = prov.get("host")
    if host:
        lines.append(f"- host: {host.get('hostname') or run.host}, {host.get('cpu_available')} CPUs "
                     f"({host.get('cpu') or 'unknown model'})")
    for gpu in prov.get("gpu") or []:
        lines.append(f"- GPU: {gpu.get('name', gpu)}")
    imported = prov.get("imported")
    if isinstance(imported, dict):  # a run from another tracker (`upstack import mlflow|tensorboard`)
        experiment = f", experiment {imported['experiment']}" if imported.get("experiment") else ""
        lines.append(f"- imported from {imported.get('from')} (its run {imported.get('id')}{experiment}) "
                     f"in {imported.get('path')}")
        if isinstance(imported.get("tags"), dict) and imported["tags"]:
            lines.append("- its tags: " + ", ".join(f"{k}={v}" for k, v in imported["tags"].items()))
    lines.append(f"- started {run.started_at}" + (f", ended {run.ended_at}" if run.ended_at else ""))
    captured = run.provenance.get("captured")
    if captured is not None:
        lines.append("- captured: " + (", ".join(captured) or "nothing"))
    skipped = run.provenance.get("skipped") or {}
    if skipped:
        lines.append("- not captured: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()))
    return lines


# -- what was stored, as readers may rely on it ------------------------------------------------------
# Records are checked at the door (services/record_shapes.py) before they are applied; what was
# stored before that check, or by an older upstack, is read through these, so one malformed field
# leaves out that field, never the page.

def _str(value: Any) -> bool:
    return isinstance(value, str)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _attachment(value: Any) -> bool:
    return isinstance(value, dict) and all(_str(value.get(k)) for k in ("id", "filename", "media_type")) \
        and (value.get("sha256") is None or _str(value.get("sha256")))


_PROVENANCE_PARTS: dict[str, Any] = {
    "git": lambda v: isinstance(v, dict) and all(v.get(k) is None or _str(v[k]) for k in ("commit", "branch",
                                                                                          "remote")),
    "command": lambda v: isinstance(v, dict) and _strings(v.get("argv", [])) and _str(v.get("cwd", "")),
    "python": lambda v: isinstance(v, dict) and all(_str(v.get(k, "")) for k in ("version", "executable")),
    "packages": lambda v: isinstance(v, dict | list),
    "host": lambda v: isinstance(v, dict),
    "gpu": lambda v: isinstance(v, list),
}


def stored_provenance(value: Any) -> dict[str, Any]:
    """A run's stored provenance, keeping only the parts that have the shape readers expect."""
    if not isinstance(value, dict) or not value:
        return {}
    data: dict[str, Any] = value["data"] if isinstance(value.get("data"), dict) else {}
    kept: dict[str, Any] = {"data": {k: v for k, v in data.items()
                                     if k not in _PROVENANCE_PARTS or _PROVENANCE_PARTS[k](v)}}
    if _strings(value.get("captured")):
        kept["captured"] = value["captured"]
    skipped = value.get("skipped")
    if isinstance(skipped, dict):
        kept["skipped"] = {str(k): str(v) for k, v in skipped.items()}
    return kept


def stored_item(kind: str, data: Any) -> dict[str, Any] | None:
    """A run item's stored data if it has the shape its kind needs (None: leave it out)."""
    if not isinstance(data, dict):
        return None
    attachments = data.get("attachments", [])
    if not isinstance(attachments, list) or not all(_attachment(a) for a in attachments):
        return None
    if kind == "note":
        return data if _str(data.get("text")) else None
    if kind == "table":
        rows = data.get("rows")
        good = _strings(data.get("columns")) and isinstance(rows, list) and all(_strings(r) for r in rows) \
            and isinstance(data.get("row_count", 0), int)
        return data if good else None
    if kind in ("figure", "diff", "traceback"):
        return data if attachments and _str(data.get("title", "")) else None
    return data
