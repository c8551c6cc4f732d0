"""Writing a run's folder when the disk refuses: what could not be written waits in memory.

A write that fails (a full disk, a quota, a failing mount) leaves the file as it was
(``RunFiles`` cuts a half-written chunk or record off again), so a later write never lands
behind a torn one. What was not written waits here, in order, and is tried again: at the
next flush, then less often while the failure lasts (the wait doubles up to ``LONGEST_WAIT``
seconds), and always before points would have to be dropped. Records (notes, figures, the
end) always wait. Metric points wait up to a bound; beyond it the oldest are dropped and
counted, so that what is logged once the disk is back is kept, and the run's end says how
many points it lost.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Sequence

from upstack.formats.journal import Record
from upstack.formats.metrics import Columns, chunk_buffers
from upstack.formats.rundir import RunFiles

__all__ = ["RunWriter", "LONGEST_WAIT", "say"]

LONGEST_WAIT = 8.0  # seconds between tries while writing keeps failing

_Points = tuple[str, array, array, array]  # key, steps, times, values


class RunWriter:
    """The records and metric points of one run (or one forked child of it) on their way to its folder.

    Thread-safe: the run's background thread writes points, the caller's thread records.
    """

    def __init__(self, files: RunFiles, *, name: str, most_points: int, first_wait: float,
                 sync: bool = True) -> None:
        self._files = files
        self._name = name  # "run 3kq8x2a", for messages
        self._most_points = most_points
        self._first_wait = first_wait
        self._sync = sync  # fsync after writing (a forked child leaves that to the run's own process)
        self._lock = threading.RLock()  # an RLock for held_here(): see Run's SIGTERM handler
        self._records: deque[Record] = deque()
        self._points: deque[_Points] = deque()
        self.waiting_points = 0
        self.lost_points = 0  # dropped while writing failed (or still waiting when the run ended)
        self.error: OSError | None = None  # why writing fails, while it does
        self._wait = first_wait
        self._next_try = 0.0
        self._lost_before_outage = 0

    def add_points(self, columns: Columns) -> None:
        with self._lock:
            for key, column in columns.items():
                steps, times, values = _aligned(column)
                if values:
                    self._points.append((key, steps, times, values))
                    self.waiting_points += len(values)

    def add_records(self, records: Sequence[Record]) -> None:
        with self._lock:
            self._records.extend(records)

    def write(self, *, now: bool = False) -> bool:
        """Write what waits (and make it durable); True when all of it is written.

        While writing fails, a new try waits its turn unless ``now``, or unless more points wait
        than the bound allows: then it is tried first, and the oldest are dropped only if it fails.
        """
        with self._lock:
            due = now or self.error is None or time.monotonic() >= self._next_try \
                or self.waiting_points > self._most_points
            if not due:
                return False
            error = self._write_records() or self._write_points()
            if error is None and self._sync:
                try:
                    self._files.sync()
                except OSError as failed:
                    error = failed
            if error is not None:
                self._failed(error)
                return False
            if self.error is not None:
                self.error = None
                lost = f"; {self.lost_points:,} metric points were lost" if self.lost_points else ", nothing lost"
                say(f"upstack: {self._name}: writing again{lost}")
            return True

    def held_here(self) -> bool:
        """Whether this thread is in the middle of a write (a signal handler must not write then)."""
        return bool(self._lock._is_owned())  # type: ignore[attr-defined]

    def give_up(self) -> int:
        """At the run's end: the points still waiting count as lost. How many were lost in all."""
        with self._lock:
            self.lost_points += self.waiting_points
            self.waiting_points = 0
            self._points.clear()
            return self.lost_points

    def _write_records(self) -> OSError | None:
        if not self._records:
            return None
        written, error = self._files.append_records(list(self._records))
        for _ in range(written):
            self._records.popleft()
        return error

    def _write_points(self) -> OSError | None:
        if not self._points:
            return None
        written, error = self._files.append_metrics([chunk_buffers(*points) for points in self._points])
        for _ in range(written):
            self.waiting_points -= len(self._points.popleft()[3])
        return error

    def _failed(self, error: OSError) -> None:
        if self.error is None:
            self._lost_before_outage = self.lost_points
            self._wait = self._first_wait
            say(f"upstack: {self._name}: cannot write to {self._files.directory} ({error.strerror or error}); "
                 f"keeping up to {self._most_points:,} metric points in memory and trying again")
        else:
            self._wait = min(self._wait * 2, LONGEST_WAIT)
        self.error = error
        self._next_try = time.monotonic() + self._wait
        excess = self.waiting_points - self._most_points
        if excess > 0 and self.lost_points == self._lost_before_outage:  # the first drop of this outage
            say(f"upstack: {self._name}: more than {self._most_points:,} metric points wait to be written; "
                "dropping the oldest (the run's status will say how many)")
        while excess > 0:  # the oldest go: what is logged once the disk is back is what must be kept
            key, steps, times, values = self._points[0]
            if len(values) <= excess:
                self._points.popleft()
                dropped = len(values)
            else:
                self._points[0] = (key, steps[excess:], times[excess:], values[excess:])
                dropped = excess
            self.waiting_points -= dropped
            self.lost_points += dropped
            excess -= dropped


def _aligned(column: tuple[array, array, array]) -> tuple[array, array, array]:
    """A column whose last append was cut short (by a signal handler finishing the run in the
    middle of log()) loses that half-made point rather than misaligning the chunk."""
    steps, times, values = column
    if len(steps) == len(times) == len(values):
        return column
    size = min(len(steps), len(times), len(values))
    return steps[:size], times[:size], values[:size]


def say(line: str) -> None:
    """One line on stderr, which may itself be a file on the full disk: then it goes unsaid."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)
