"""A run as another experiment tracker kept it (MLflow, TensorBoard), read before it becomes an upstack run.

The readers (``interop/mlflow.py``, ``store/mlflow_db.py``, ``interop/tensorboard.py``) each turn their
tool's files into these, and one writer (``interop/trackers.py``) turns these into run folders, so the
three sources file their runs the same way.
"""

from __future__ import annotations

import math
import re
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from upstack.domain.text import normalize_tag
from upstack.errors import BadInput
from upstack.timeutil import to_iso

__all__ = ["TrackerRun", "Series", "MLFLOW_STATUS", "param_value", "tag_words", "iso_from_epoch", "EARLIEST_EPOCH",
           "LATEST_EPOCH"]

Series = tuple[array, array, array]  # steps ('q'), wall times in epoch seconds ('d'), values ('d')

# MLflow's RunStatus names, as upstack's. RUNNING and SCHEDULED are a run that never ended: in a history
# being imported it was killed (or still goes on); it is imported as crashed and the error says so.
MLFLOW_STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "interrupted",
                 "RUNNING": "crashed", "SCHEDULED": "crashed"}
NEVER_ENDED = "{tool} had it as {status} when it was imported: it never ended (killed, or still running)"


@dataclass
class TrackerRun:
    """One run of another tracker: everything upstack keeps of it, in upstack's units (UTC ISO times,
    epoch seconds for points)."""

    tool: str  # "mlflow" or "tensorboard"
    source_id: str  # the run's id in its tool (MLflow's run uuid; a TensorBoard run's folder and first file)
    name: str
    started_at: str
    ended_at: str | None
    status: str  # one of domain.run.ENDED
    error: str = ""
    experiment: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Series] = field(default_factory=dict)
    where: str = ""  # the file or database it was read from, for messages
    not_imported: dict[str, int] = field(default_factory=dict)  # what it holds that upstack leaves out: how many
    source_key: str = ""  # what tells it from another run of the same source_id, when that can happen

    @property
    def points(self) -> int:
        return sum(len(values) for _, _, values in self.metrics.values())

    def last_time(self) -> float | None:
        """The newest point's wall time (a run that never ended ended then, as far as anyone knows)."""
        times = [max(t) for _, t, _ in self.metrics.values() if len(t)]
        return max(times) if times else None


def param_value(text: str) -> Any:
    """A parameter as MLflow keeps it (text): a number when it reads back as the same number, so that
    `upstack runs --where lr<0.01` and compare treat it as one; any other text as it is."""
    try:
        number = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return text
        return value if math.isfinite(value) else text
    return number if str(number) == text.strip() else text


_NOT_IN_TAG = re.compile(r"[\s#]+")


def tag_words(tool: str, experiment: str, tags: dict[str, str]) -> list[str]:
    """The run's upstack tags: its tool, its experiment, and each of its own tags (``key=value``, or the
    key alone when its value is empty), leaving out the tool's own (``mlflow.*``). All of them, values
    as written, are kept in the run's provenance too."""
    words = [tool, *([experiment] if experiment else [])]
    words += [key if not value else f"{key}={value}" for key, value in sorted(tags.items())
              if not key.startswith("mlflow.") and len(key) + len(value) < 80]
    found: dict[str, None] = {}
    for word in words:
        tag = normalize_tag(_NOT_IN_TAG.sub("-", word))
        if tag:
            found[tag] = None
    return list(found)


# Seconds since 1970 a datetime holds (years 1 to 9999): a point's time outside them (NaN, infinite) is no
# time any clock gave, and would answer every reader of the run's chart with a 500 (JSON holds no NaN).
EARLIEST_EPOCH, LATEST_EPOCH = -62_135_596_800.0, 253_402_300_799.0


def iso_from_epoch(seconds: float) -> str:
    """UTC ISO text as every upstack time (``2026-01-31T09:30:00.000000Z``). A time another tool wrote
    past what a datetime holds (a hand-edited meta.yaml, a corrupt event file) is the user's input, so it
    is refused as BadInput rather than left to end an import in a traceback."""
    try:
        return to_iso(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError):
        raise BadInput(f"a time of {seconds!r} seconds since 1970 is out of range") from None
