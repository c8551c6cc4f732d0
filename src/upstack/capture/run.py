"""A run: an experiment's metrics, figures, notes and provenance, filed under its node.

Everything a run records goes into its own folder (``capture.rundir``) and
reaches the log when the store next ingests; the result entry appears when the
run ends. ``log`` appends to in-memory columns and returns; a background thread
makes them durable every ``run_flush_seconds`` and says the run is alive every
``run_heartbeat_seconds``.
"""

from __future__ import annotations

import operator
import os
import sys
import threading
import time
from array import array
from collections.abc import Callable, Mapping
from typing import Any

from upstack.capture import metrics as metric_chunks
from upstack.capture.rundir import RunFiles
from upstack.errors import BadInput, UpstackError
from upstack.ids import new_id, short_id
from upstack.store.journal import Record, make_record
from upstack.timeutil import now_iso

__all__ = ["Run", "STATUSES", "SUMMARY_FIELDS"]

STATUSES = ("running", "finished", "failed", "interrupted", "crashed")
SUMMARY_FIELDS = ("expected", "happened", "outcome", "learned")
_FLUSH_POINTS = 1 << 20  # flush early past this many buffered points (24 MB), keeping memory flat


class Run:
    """One experiment run. Made by ``upstack.run(...)`` or ``upstack.init(...)``.

    Example:
        >>> with upstack.run("sae-width-sweep", under="Q7", config=cfg) as run:  # doctest: +SKIP
        ...     run.log({"loss": 0.31, "l0": 42}, step=100)
    """

    def __init__(self, *, files: RunFiles, run_id: str, name: str, workspace_id: str,
                 flush_seconds: float, heartbeat_seconds: float,
                 provenance: Any = None) -> None:
        self.id = run_id
        self.name = name
        self.directory = files.directory
        self._files = files
        self._workspace_id = workspace_id
        self._flush_seconds = flush_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._provenance = provenance  # run -> records, called by the background thread
        # Re-entrant: a SIGTERM handler (which finishes the run) may interrupt log() mid-call.
        self._lock = threading.RLock()
        self._columns: metric_chunks.Columns = {}
        self._pending = 0
        self._step = -1
        self._status: str | None = None  # set once the run has ended
        self._error: BaseException | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._background, name=f"upstack-run-{self.short}",
                                        daemon=True)
        self._forked = False
        self._signalled = False  # SIGTERM came while log() held the lock (see _hook_sigterm)
        self.on_end: list[Callable[[], None]] = []  # called once the run has ended (a live upload's last push)
        files.beat(now_iso())
        self._thread.start()

    @property
    def short(self) -> str:
        return short_id(self.id)

    @property
    def status(self) -> str:
        return self._status or "running"

    # -- metrics: the hot path -------------------------------------------------------
    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Record metric values (numbers; NaN and inf are kept) at a step.

        Without ``step``, the step after the last one logged (starting at 0).
        """
        if self._status is not None:
            raise BadInput(f"run {self.short} has ended; start a new run to log more")
        if step is None:
            step = self._step + 1
        elif type(step) is not int:
            step = _as_step(step)
        self._step = step
        now = time.time()
        with self._lock:
            columns = self._columns
            done = 0
            try:
                for key, value in metrics.items():
                    column = columns.get(key)
                    if column is None:
                        column = columns[_as_key(key)] = (array("q"), array("d"), array("d"))
                    column[2].append(value)  # first: a non-number fails before anything is added
                    column[0].append(step)
                    column[1].append(now)
                    done += 1
            except (TypeError, OverflowError, BadInput) as exc:
                _undo(columns, metrics, done)
                raise exc if isinstance(exc, BadInput) else BadInput(_not_a_number(metrics, done)) from None
            except AttributeError:
                raise BadInput(f"run.log() takes a dict of metric names to numbers, got "
                               f"{type(metrics).__name__}") from None
            self._pending += done
        if self._pending >= _FLUSH_POINTS:
            self._wake.set()
        if self._signalled:
            _terminate()  # a SIGTERM arrived while this call held the lock: act on it now

    # -- the background thread -------------------------------------------------------
    def _background(self) -> None:
        try:
            if self._provenance is not None:
                self.append(self._provenance(self))
            next_beat = time.monotonic() + self._heartbeat_seconds
            while not self._stop.is_set():
                self._wake.wait(min(self._flush_seconds, self._heartbeat_seconds))
                self._wake.clear()
                self._flush()
                if time.monotonic() >= next_beat:
                    self._files.beat(now_iso())
                    next_beat = time.monotonic() + self._heartbeat_seconds
        except BaseException as exc:  # noqa: BLE001 - reported by finish(), never lost silently
            self._error = exc

    def _flush(self) -> None:
        with self._lock:
            columns, self._columns = self._columns, {}
            self._pending = 0
        if columns:
            self._files.append_metrics([part for key, column in columns.items()
                                        for part in metric_chunks.chunk_buffers(key, *_aligned(column))])
        self._files.sync()

    # -- records ---------------------------------------------------------------------
    def record(self, op: str, data: dict[str, Any]) -> Record:
        return make_record(op, self._workspace_id, {"run_id": self.id, **data})

    def append(self, records: list[Record], sync: bool = True) -> None:
        if self._status is not None:
            raise BadInput(f"run {self.short} has ended")
        self._files.append_records(records, sync=sync)

    def put_blob(self, data: bytes, filename: str, media_type: str) -> dict[str, Any]:
        """Store a file with the run (before any record names it); its attachment fields."""
        sha = self._files.put_blob(data)
        return {"id": new_id(), "sha256": sha, "filename": filename, "media_type": media_type,
                "size": len(data), "created_at": now_iso()}

    # -- figures, tables, notes, summary ---------------------------------------------
    def figure(self, figure: Any = None, title: str = "") -> None:
        """Store a figure: matplotlib, plotly, PIL, an image array or a file path.

        Without a figure, the current matplotlib figure (what a notebook cell just drew).
        """
        from upstack.capture.figures import render_figure

        rendered = render_figure(figure)
        stem = _file_stem(title or "figure")
        attachments = [self.put_blob(r.data, stem + r.suffix, r.media_type) for r in rendered]
        self.append([self.record("run.figure", {"title": title, "attachments": attachments})])

    def table(self, rows: Any, title: str = "") -> None:
        """Store a table: a list of dicts or lists, a dict of columns, or a pandas DataFrame."""
        from upstack.capture.figures import render_table

        files, columns, display = render_table(rows)
        stem = _file_stem(title or "table")
        attachments = [self.put_blob(r.data, stem + r.suffix, r.media_type) for r in files]
        self.append([self.record("run.table", {
            "title": title, "columns": columns, "rows": display[:20], "row_count": len(display),
            "attachments": attachments})])

    def note(self, text: str) -> None:
        """A remark for the run's entry ("Width 16k looks saturated; expected it at 32k.")."""
        if not str(text).strip():
            raise BadInput("the note is empty")
        self.append([self.record("run.note", {"text": str(text).strip(), "at": now_iso()})])

    def summary(self, **values: Any) -> None:
        """Final numbers (``best_loss=0.12``) and what you ``expected``, what ``happened``, the
        ``outcome`` (as-expected, surprise, failed) and what you ``learned``."""
        from upstack.capture.config import config_to_dict

        fields = {k: str(values.pop(k)).strip() for k in SUMMARY_FIELDS if values.get(k) is not None}
        if "outcome" in fields:
            from upstack.services.learning import OUTCOMES

            if fields["outcome"] not in OUTCOMES:
                raise BadInput(f"unknown outcome {fields['outcome']!r}: choose one of {', '.join(OUTCOMES)}")
        data: dict[str, Any] = {"values": config_to_dict(values), **fields}
        if "learned" in fields:
            data["learning_id"] = new_id()  # made here, so ingesting twice cannot make two
        self.append([self.record("run.summary", data)])

    # -- the end -----------------------------------------------------------------------
    def finish(self, status: str = "finished", error: str = "", traceback_text: str = "") -> None:
        """End the run: flush everything, record how it ended. Calling it again does nothing."""
        if self._status is not None or self._forked:
            return
        if status not in STATUSES[1:4]:
            raise BadInput(f"unknown status {status!r}: choose finished, failed or interrupted")
        self._stop.set()
        self._wake.set()
        self._thread.join()
        try:
            self._flush()
            end: dict[str, Any] = {"status": status, "ended_at": now_iso(), "error": error}
            if traceback_text:
                end["traceback"] = self.put_blob(traceback_text.encode("utf-8"), "traceback.txt",
                                                 "text/plain")
            if self._error is not None:
                end["writer_error"] = repr(self._error)
            self._files.append_records([self.record("run.end", end)])
        finally:
            self._status = status
            self._files.close()
            _forget(self)
            for hook in self.on_end:
                hook()
        if self._error is not None:
            raise UpstackError(f"run {self.short}: writing in the background failed: {self._error}")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: Any) -> None:
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("interrupted", error="interrupted (KeyboardInterrupt)")
        else:
            import traceback

            assert exc is not None
            self.finish("failed", error=_one_line(exc),
                        traceback_text="".join(traceback.format_exception(exc_type, exc, tb)))

    def __repr__(self) -> str:
        return f"<upstack.Run {self.short} {self.name!r} {self.status}>"


# -- helpers -----------------------------------------------------------------------------

_LIVE: set[Run] = set()


def _forget(run: Run) -> None:
    _LIVE.discard(run)


_HOOKED = False


def track(run: Run) -> None:
    """Runs still open at interpreter exit are finished (scripts that never call finish), and a
    SIGTERM (a batch scheduler's pre-emption, `kill`) ends them as interrupted before the process goes."""
    global _HOOKED
    if not _HOOKED:
        import atexit

        atexit.register(_finish_all)
        _hook_sigterm()
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _HOOKED = True
    _LIVE.add(run)


def _after_fork_in_child() -> None:
    # A forked child (a data-loader worker) shares the parent's runs but not their writer
    # threads; it must never end them on the parent's behalf.
    for run in _LIVE:
        run._forked = True
    _LIVE.clear()


def _hook_sigterm() -> None:
    import signal

    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # someone else handles SIGTERM (a framework, the user): leave it to them

    def on_sigterm(signum: int, frame: Any) -> None:
        # The handler runs between two bytecodes of the main thread, perhaps inside log() with
        # a run's lock held; finishing then would wait for a writer thread that waits for that
        # lock. So such a run is only marked, and log() finishes it as it returns.
        busy = [run for run in _LIVE if run._lock._is_owned()]  # type: ignore[attr-defined]
        for run in busy:
            run._signalled = True
        if not busy:
            _terminate()

    signal.signal(signal.SIGTERM, on_sigterm)


def _terminate() -> None:
    """End every live run as interrupted, then die of SIGTERM as the process would have."""
    import signal

    for run in list(_LIVE):
        run.finish("interrupted", error="interrupted (SIGTERM)")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _finish_all() -> None:
    for run in list(_LIVE):
        failed = getattr(sys, "last_value", None)  # set by an uncaught exception in a script
        if failed is not None and not isinstance(failed, SystemExit):
            import traceback

            run.finish("failed", error=_one_line(failed),
                       traceback_text="".join(traceback.format_exception(failed)))
        else:
            run.finish()


def _aligned(column: tuple[array, array, array]) -> tuple[array, array, array]:
    """A column whose last append was cut short (by a signal handler finishing the run in the
    middle of log()) loses that half-made point rather than misaligning the chunk."""
    steps, times, values = column
    size = min(len(steps), len(times), len(values))
    if len(steps) == len(times) == len(values):
        return column
    return steps[:size], times[:size], values[:size]


def _as_step(step: Any) -> int:
    try:
        return operator.index(step)
    except TypeError:
        raise BadInput(f"step must be a whole number, got {step!r}") from None


def _as_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip():
        raise BadInput(f"metric names must be non-empty text, got {key!r}")
    return key


def _undo(columns: metric_chunks.Columns, metrics: Mapping[str, Any], done: int) -> None:
    """Take back the values of a call that failed part-way, so a call is all or nothing."""
    keys = list(metrics)
    if done < len(keys) and keys[done] in columns:
        steps, times, values = columns[keys[done]]
        del values[len(steps):]  # the failing key may have got its value but not its step
    for key in keys[:done]:
        for part in columns[key]:
            part.pop()


def _not_a_number(metrics: Mapping[str, Any], done: int) -> str:
    key, value = list(metrics.items())[done]
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"metric {key!r} must be a number, got {type(value).__name__} {shown}"


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _file_stem(title: str) -> str:
    import re

    stem = re.sub(r"[^\w.-]+", "-", title.strip().lower()).strip("-.")
    return stem[:60] or "file"
