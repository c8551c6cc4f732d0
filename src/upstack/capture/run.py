"""A run: an experiment's metrics, figures, notes and provenance, filed under its node.

Everything a run records goes into its own folder (``capture.rundir``) and
reaches the log when the store next ingests; the result entry appears when the
run ends. ``log`` appends to in-memory columns and returns; a background thread
makes them durable every ``run_flush_seconds`` (through ``capture.writer``, which
keeps them in memory while the disk refuses them) and, as often, says the run is
alive, so that a run that dies is known to have lived until then. The same thread samples
the machine (``capture.system``) every ``run_system_seconds``, logged as ``system/...`` metrics.
A resumed run (``services.runresume``) is a Run made with its last step, on its old folder
or a new segment of it.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import os
import sys
import threading
import time
from array import array
from collections.abc import Callable, Mapping
from typing import Any

from upstack.capture.writer import RunWriter, say
from upstack.domain.config import config_to_dict
from upstack.domain.entry import OUTCOMES
from upstack.errors import BadInput, UpstackError
from upstack.formats import metrics as metric_chunks
from upstack.formats.journal import Record, make_record
from upstack.formats.rundir import RunFiles
from upstack.ids import new_id, short_id
from upstack.timeutil import now_iso

__all__ = ["Run", "STATUSES", "SUMMARY_FIELDS"]

STATUSES = ("running", "finished", "failed", "interrupted", "crashed")
SUMMARY_FIELDS = ("expected", "happened", "outcome", "learned")
_FLUSH_POINTS = 1 << 20  # flush early past this many buffered points (24 MB), keeping memory flat
_END_PATIENCE = 10.0  # seconds the end of a run waits for a refusing disk before it gives up


class Run:
    """One experiment run. Made by ``upstack.run(...)`` or ``upstack.init(...)``.

    Example:
        >>> with upstack.run("sae-width-sweep", under="Q7", config=cfg) as run:  # doctest: +SKIP
        ...     run.log({"loss": 0.31, "l0": 42}, step=100)
    """

    def __init__(self, *, files: RunFiles, run_id: str, name: str, workspace_id: str,
                 flush_seconds: float, heartbeat_seconds: float, most_unwritten_points: int = 4_000_000,
                 provenance: Any = None, strict: bool = False, clock: Callable[[], float] = time.time,
                 last_step: int = -1, system_seconds: float = 0.0) -> None:
        self.id = run_id
        self.name = name
        self.directory = files.directory
        self._files = files
        self._workspace_id = workspace_id
        self._flush_seconds = flush_seconds
        self._tick = min(flush_seconds, heartbeat_seconds)
        self._most_unwritten = most_unwritten_points
        self._writer = self._new_writer(sync=True)
        # Re-entrant: a SIGTERM handler (which finishes the run) may interrupt log() mid-call.
        self._lock = threading.RLock()
        self._columns: metric_chunks.Columns = {}
        self._pending = 0
        self._flush_at = _FLUSH_POINTS  # buffered points that make log() flush before the next tick
        self._step = last_step  # a resumed run goes on from the step it had reached
        self._system = None
        if system_seconds > 0:
            from upstack.capture.system import SystemSampler  # psutil itself: on the background thread

            self._system = SystemSampler(system_seconds, say)
        self._strict = strict  # a value that is not a number raises BadInput, instead of being dropped
        self._dropped: set[str] = set()  # metrics already said to have had a value dropped
        self._clock = clock  # the points' times (a simulated clock in the demo)
        self._status: str | None = None  # set once the run has ended
        self._error: BaseException | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._background, name=f"upstack-run-{self.short}",
                                        daemon=True)
        # Provenance (git, packages ...) can take seconds: collected beside the writer, never in its way.
        self._collector = threading.Thread(target=self._collect, args=(provenance,), daemon=True,
                                           name=f"upstack-provenance-{self.short}") if provenance else None
        self._forked = False
        self._signalled = False  # SIGTERM came while log() held the lock (see _hook_sigterm)
        self.on_end: list[Callable[[], None]] = []  # called once the run has ended (a live upload's last push)
        # NAME[:vN] -> (the version's run.use_artifact data, its local path): set by whoever started the
        # run (services/runstart.py), which can read the workspace's store; capture cannot.
        self.artifact_resolver: Callable[[str], tuple[dict[str, Any], Any]] | None = None
        files.beat(now_iso(), self._step)
        self._thread.start()
        if self._collector is not None:
            self._collector.start()

    def _new_writer(self, *, sync: bool) -> RunWriter:
        return RunWriter(self._files, name=f"run {self.short}", most_points=self._most_unwritten,
                         first_wait=self._flush_seconds, sync=sync)

    @property
    def short(self) -> str:
        return short_id(self.id)

    @property
    def status(self) -> str:
        return self._status or "running"

    # -- metrics: the hot path -------------------------------------------------------
    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Record metric values (numbers; NaN and inf are kept) at a step.

        Without ``step``, the step after the last one logged (starting at 0). A value that is not
        a number (or a name that is not text) is dropped and said on stderr, once per metric, so a
        training loop goes on; a run started with ``strict=True`` raises BadInput instead, and
        logs nothing of that call.
        """
        if self._status is not None:
            raise BadInput(f"run {self.short} has ended; start a new run to log more")
        if step is None:
            step = self._step + 1
        elif type(step) is not int:
            if isinstance(metrics, str):  # MLflow's log_metric("loss", 0.5): the value taken for a step
                raise BadInput(f"run.log() takes a dict of metric names to numbers: "
                               f"run.log({{{metrics!r}: {step!r}}}), not run.log({metrics!r}, {step!r})")
            step = _as_step(step)
        now = self._clock()
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
                if self._strict or _step_failed(columns, metrics, done):
                    _undo(columns, metrics, done)
                    if not isinstance(exc, BadInput):
                        exc = BadInput(_not_a_number(metrics, done, step))
                    raise exc from None
                done += self._log_each(columns, metrics, done, step, now)
            except AttributeError:
                raise BadInput(f"run.log() takes a dict of metric names to numbers, got "
                               f"{type(metrics).__name__}"
                               + (f": run.log({{{metrics!r}: value}})" if isinstance(metrics, str) else "")) from None
            # Only now, under the lock, with the step's values in the columns: a SIGTERM that ends the
            # run before this line (the handler finishes it at once when the lock is free) or a flush
            # on the writer thread never sees a step whose values are not there to be written. A
            # refused call (strict) takes no step.
            self._step = step
            self._pending += done
            full = self._pending >= self._flush_at
            if full and not self._forked:
                # Under the lock: a SIGTERM landing inside set() (which holds the event's own lock)
                # finds the run busy and waits for this call's end, rather than set() again and hang.
                self._wake.set()
        if full and self._forked:
            self._flush()  # a forked child has no writer thread: it writes as it logs
        if self._signalled:
            _terminate()  # a SIGTERM arrived while this call held the lock: act on it now

    def _log_each(self, columns: metric_chunks.Columns, metrics: Mapping[str, Any], start: int, step: int,
                  now: float) -> int:
        """The rest of a call, from the value at ``start`` that failed, one metric at a time: what
        cannot be logged is dropped (and said, once per metric). How many values were logged."""
        logged = 0
        for key, value in itertools.islice(metrics.items(), start, None):
            column = columns.get(key)
            if column is not None and not column[0]:
                column = None  # made by the fast path for the value that failed: made again if it logs
            try:
                if column is None:
                    column = columns[_as_key(key)] = (array("q"), array("d"), array("d"))
                column[2].append(value)
            except (TypeError, OverflowError, BadInput) as exc:
                if key in columns and not columns[key][0]:
                    del columns[key]
                self._drop(key, value, exc)
                continue
            column[0].append(step)  # a step that fits: the fast path's first value took it
            column[1].append(now)
            logged += 1
        return logged

    def _drop(self, key: Any, value: Any, error: BaseException) -> None:
        said = repr(key)
        if said in self._dropped:
            return
        self._dropped.add(said)
        problem = str(error) if isinstance(error, BadInput) else _not_a_number({key: value}, 0)
        say(f"upstack: run {self.short}: {problem}; not logged (said once per metric; "
            "upstack.run(..., strict=True) raises instead)")

    # -- the background thread -------------------------------------------------------
    def _background(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(self._tick)
                self._wake.clear()
                if self._system is not None and self._system.due():
                    self._log_system(self._system.sample())
                self._flush()  # says the run is alive, too
        except BaseException as exc:  # noqa: BLE001 - reported by finish(), never lost silently
            self._error = exc

    def _log_system(self, values: dict[str, float]) -> None:
        """System metrics at the step the run is at, without moving it (they are not a step)."""
        step, now = max(self._step, 0), self._clock()
        with self._lock:  # held for a few appends: log() never waits on the sampling itself
            for key, value in values.items():
                column = self._columns.get(key)
                if column is None:
                    column = self._columns[key] = (array("q"), array("d"), array("d"))
                column[2].append(value)
                column[0].append(step)
                column[1].append(now)
            self._pending += len(values)

    def _collect(self, provenance: Callable[[Run], list[Record]]) -> None:
        try:
            self.append(provenance(self))
        except OSError as exc:  # a blob (the diff) on a full disk: the run goes on without it
            say(f"upstack: run {self.short}: its provenance was not recorded ({exc.strerror or exc})")
        except BaseException as exc:  # noqa: BLE001 - reported by finish(), never lost silently
            self._error = exc

    def _flush(self, now: bool = False) -> bool:
        """Hand what was logged to the writer and write; False while writing fails."""
        with self._lock:
            columns, self._columns = self._columns, {}
            self._pending = 0
            step = self._step
        if not self._forked:
            # Every tick, not only every run_heartbeat_seconds: a run that dies is then known to
            # have lived until a tick before (its end, if it is found crashed). With the step
            # reached: a resume goes on from the points on disk, and from this only where it has none.
            with contextlib.suppress(OSError):  # tried again at the next tick
                self._files.beat(now_iso(), step)
        self._writer.add_points(columns)
        return self._writer.write(now=now)

    def _continue_in_child(self) -> None:
        """After a fork (a DataLoader worker): what the child logs goes to the run's folder too.

        Threads do not survive a fork, so the child writes each call before it returns (its own
        file descriptions take turns with the parent's, see ``RunFiles``). What the parent had
        not written yet is the parent's to write; the child never says the run is alive, and
        never ends it.
        """
        self._forked = True
        self._lock = threading.RLock()  # the parent's may have been held by a thread the child lacks
        self._columns = {}
        self._pending = 0
        self._flush_at = 1
        self._writer = self._new_writer(sync=False)  # the parent's fsync at its end covers the child's writes

    # -- records ---------------------------------------------------------------------
    def record(self, op: str, data: dict[str, Any]) -> Record:
        return make_record(op, self._workspace_id, {"run_id": self.id, **data})

    def append(self, records: list[Record]) -> None:
        """Write records now; while the disk refuses them, they wait in memory (in order) for the
        writer to try again."""
        if self._status is not None:
            raise BadInput(f"run {self.short} has ended")
        self._writer.add_records(records)
        self._writer.write(now=True)
        if self._signalled:
            _terminate()  # a SIGTERM arrived in the middle of that write: act on it now

    def put_blob(self, data: bytes, filename: str, media_type: str) -> dict[str, Any]:
        """Store a file with the run (before any record names it); its attachment fields."""
        sha = self._files.put_blob(data)
        return {"id": new_id(), "sha256": sha, "filename": filename, "media_type": media_type,
                "size": len(data), "created_at": now_iso()}

    # -- artifacts -------------------------------------------------------------------
    def artifact(self, path: Any, name: str, kind: str = "model") -> dict[str, Any]:
        """Store a file or a folder as a version of artifact ``name`` (v0, v1, ...; the same content
        is the same version), read in chunks, never whole. Returns its name, kind, digest, size and files,
        and ``ref``, ``NAME@DIGEST``, which names this version everywhere (its number is given when the
        workspace reads the run).

        Example:
            >>> run.artifact("checkpoints/final", name="sae-16k", kind="model")  # doctest: +SKIP
        """
        from pathlib import Path

        from upstack.capture.artifacts import build_manifest
        from upstack.domain.artifact import check_kind, check_name, manifest_digest

        check_name(name)
        check_kind(kind)
        if self._status is not None:
            raise BadInput(f"run {self.short} has ended; start a new run to store an artifact")
        files, folder = build_manifest(Path(path), self._files.put_file)
        digest = manifest_digest(files, folder)
        data = {"name": name, "kind": kind, "digest": digest, "folder": folder, "files": files, "at": now_iso()}
        self.append([self.record("run.artifact", data)])
        return {k: data[k] for k in ("name", "kind", "digest", "folder", "files")} | {
            "size": sum(int(f["size"]) for f in files), "ref": f"{name}@{digest[:12]}"}

    def use_artifact(self, ref: str) -> Any:
        """Record that this run uses artifact ``NAME``, ``NAME:latest`` or ``NAME:vN``; the local path of
        its file or folder (a read-only copy in the workspace's cache) for the script to load."""
        if self.artifact_resolver is None:
            raise BadInput("this run cannot look artifacts up (it was not started from a workspace)")
        if self._status is not None:
            raise BadInput(f"run {self.short} has ended")
        data, local = self.artifact_resolver(ref)
        self.append([self.record("run.use_artifact", {**data, "at": now_iso()})])
        return local

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
        fields = {k: str(values.pop(k)).strip() for k in SUMMARY_FIELDS if values.get(k) is not None}
        if "outcome" in fields and fields["outcome"] not in OUTCOMES:
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
        if self._system is not None:
            self._system.stop()
        if self._collector is not None:
            self._collector.join()
        written = False
        try:
            deadline = time.monotonic() + _END_PATIENCE
            if not self._flush(now=True):
                _write_until(self._writer, deadline)
            end: dict[str, Any] = {"status": status, "ended_at": now_iso(), "error": error}
            lost = self._writer.give_up()
            if lost:
                end["points_lost"] = lost
            if traceback_text:
                with contextlib.suppress(OSError):  # on a full disk the error line has to do
                    end["traceback"] = self.put_blob(traceback_text.encode("utf-8"), "traceback.txt",
                                                     "text/plain")
            if self._error is not None:
                end["writer_error"] = repr(self._error)
            self._writer.add_records([self.record("run.end", end)])
            written = _write_until(self._writer, deadline)
        finally:
            self._status = status
            with contextlib.suppress(OSError):  # the step it ended at, for a resume
                self._files.beat(now_iso(), self._step)
            self._files.close()
            _forget(self)
            for hook in self.on_end:
                hook()
        if not written:
            assert self._writer.error is not None
            raise UpstackError(f"run {self.short}: cannot write its end to {self.directory} "
                               f"({self._writer.error.strerror or self._writer.error}); it will show as crashed")
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
    # A forked child (a data-loader worker) logs to its parent's runs; it must never end them
    # on the parent's behalf.
    for run in _LIVE:
        run._continue_in_child()
    _LIVE.clear()


def _hook_sigterm() -> None:
    import signal

    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return  # someone else handles SIGTERM (a framework, the user): leave it to them

    def on_sigterm(signum: int, frame: Any) -> None:
        # The handler runs between two bytecodes of the main thread, perhaps inside log() with
        # a run's lock held (finishing then would wait for a writer thread that waits for that
        # lock), or inside append() in the middle of a write (finishing would write it twice).
        # So such a run is only marked, and log() or append() finishes it as it returns.
        busy = [run for run in _LIVE
                if run._lock._is_owned() or run._writer.held_here()]  # type: ignore[attr-defined]
        for run in busy:
            run._signalled = True
        if not busy:
            _terminate()

    signal.signal(signal.SIGTERM, on_sigterm)


def _terminate() -> None:
    """End every live run as interrupted, then die of SIGTERM as the process would have."""
    import signal

    for run in list(_LIVE):
        try:
            run.finish("interrupted", error="interrupted (SIGTERM)")
        except UpstackError as exc:  # its folder refused the end: said, and the process still goes
            say(f"upstack: {exc}")
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _finish_all() -> None:
    for run in list(_LIVE):
        failed = getattr(sys, "last_value", None)  # set by an uncaught exception in a script
        try:
            if failed is not None and not isinstance(failed, SystemExit):
                import traceback

                run.finish("failed", error=_one_line(failed),
                           traceback_text="".join(traceback.format_exception(failed)))
            else:
                run.finish()
        except UpstackError as exc:  # at exit there is no caller to tell but stderr
            say(f"upstack: {exc}")


def _write_until(writer: RunWriter, deadline: float) -> bool:
    """At the run's end: keep trying (a disk full for a moment) until the deadline."""
    while not writer.write(now=True):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _as_step(step: Any) -> int:
    if isinstance(step, float) and step.is_integer():  # 3.0, as `global_step / 1` or an epoch count gives it
        return int(step)
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


def _step_failed(columns: metric_chunks.Columns, metrics: Mapping[str, Any], done: int) -> bool:
    """Whether the value at ``done`` went in and its step did not: a step beyond 64 bits."""
    column = columns.get(next(itertools.islice(metrics, done, None)))
    return column is not None and len(column[2]) > len(column[0])


def _not_a_number(metrics: Mapping[str, Any], done: int, step: int | None = None) -> str:
    key, value = list(metrics.items())[done]
    if step is not None and not -(1 << 63) <= step < 1 << 63:
        return f"step must fit in 64 bits, got {step}"
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
