"""What every integration shares: the options of ``upstack.run``, a run started with a framework's
config, and a training's run that is ended as failed when the training never reached its end.

Trainers call their callbacks when training begins and when it ends, but not when it raises
(Hugging Face's ``Trainer`` and Keras's ``fit`` have no such event), so a run left open is one
whose training did not finish: ended as failed when the process exits (with the uncaught error
when there is one), or at once with the error when the training runs inside ``with callback:``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from upstack.capture.run import SUMMARY_FIELDS
from upstack.domain.config import config_to_dict
from upstack.errors import BadInput

if TYPE_CHECKING:
    from types import TracebackType

    from upstack.capture.run import Run

__all__ = ["RunOptions", "check_options", "start", "end_with", "TrainingRun"]


class RunOptions(TypedDict, total=False):
    """The options of ``upstack.run`` an integration takes (``config`` is added to the framework's)."""

    name: str | None
    under: str | None
    config: Any
    tags: Iterable[str]
    capture: str | Iterable[str] | None
    goals: Mapping[str, str] | None
    home: str | Path | None
    db: str | None
    strict: bool
    predict: Any


def check_options(options: Mapping[str, Any], *, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """The options, refused at once (not at the first training step) when one is unknown."""
    known = [k for k in RunOptions.__annotations__ if k not in set(leave_out)]
    unknown = [k for k in options if k not in known]
    if unknown:
        raise BadInput(f"unknown option {unknown[0]!r}: an integration takes {', '.join(known)}")
    return dict(options)


def start(options: Mapping[str, Any], config: Any = None, *, name: str | None = None) -> Run:
    """Start a run as ``upstack.run(**options)`` would, its config the framework's with the
    options' ``config`` over it; ``name`` is the default when the options give none."""
    from upstack.services.runstart import start_run
    from upstack.workspace import Workspace

    chosen = dict(options)
    home, db = chosen.pop("home", None), chosen.pop("db", None)
    merged = {**config_to_dict(config), **config_to_dict(chosen.pop("config", None))}
    name = chosen.pop("name", None) or name
    ws = Workspace(home=home, db=db)
    try:
        return start_run(ws, name, config=merged, **chosen)
    finally:
        ws.close()


def end_with(run: Run, error: BaseException) -> None:
    """End ``run`` as ``with upstack.run(...)`` does when ``error`` leaves it: failed with the error
    and its traceback (interrupted for a KeyboardInterrupt)."""
    run.__exit__(type(error), error, error.__traceback__)


_OPEN: set[TrainingRun] = set()
_HOOKED = False


class TrainingRun:
    """The run of one training at a time, for a callback that hears when training begins and ends.

    Usable as a context manager around the training: an error that leaves the block ends the run
    as failed with that error at once.
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = check_options(options)
        self.run: Run | None = None
        self.last: dict[str, float] = {}  # each metric's latest value: the final numbers at the end

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.status == "running"

    def begin(self, config: Any = None, *, name: str | None = None, tags: Iterable[str] = ()) -> Run:
        """Start the run of a training that begins (one still open did not end: it failed), with
        ``tags`` besides the options' own."""
        global _HOOKED
        if self.running:
            self.unfinished("a new training began before this one ended")
        options = {**self.options, "tags": [*self.options.get("tags", ()), *tags]} if tags else self.options
        self.run = start(options, config, name=name)
        self.last = {}
        _OPEN.add(self)
        if not _HOOKED:
            import atexit

            # Registered after capture's own exit hook (made when the first run started), so it
            # runs before it: capture would end an open run as finished when nothing was raised.
            atexit.register(_end_unfinished)
            _HOOKED = True
        return self.run

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log at ``step`` while the run is open (what a trainer logs after its end has no run)."""
        if self.running:
            assert self.run is not None
            self.run.log(metrics, step=step)
            self.last.update((k, n) for k, v in metrics.items() if (n := _number(v)) is not None)

    def end(self, **summary: Any) -> None:
        """The training reached its end: each metric's last value and ``summary`` become the run's
        final numbers, and the run ends as finished."""
        _OPEN.discard(self)
        if not self.running:
            return
        assert self.run is not None
        values = {**{k: v for k, v in self.last.items() if k not in SUMMARY_FIELDS}, **summary}
        if values:
            self.run.summary(**values)
        self.run.finish()

    def fail(self, error: BaseException) -> None:
        """The training raised ``error``: the run ends as failed with it (interrupted for Ctrl-C)."""
        _OPEN.discard(self)
        if self.running:
            assert self.run is not None
            end_with(self.run, error)

    def unfinished(self, reason: str) -> None:
        """End a run whose training never reached its end (for ``reason``) as failed."""
        _OPEN.discard(self)
        if self.running:
            assert self.run is not None
            self.run.finish("failed", error=f"the training did not reach its end ({reason})")

    def __enter__(self) -> TrainingRun:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self.fail(exc)
        elif self.running:
            self.unfinished("the block ended without it")


def _end_unfinished() -> None:
    """At exit: the runs of trainings that never ended, failed with the error that ended the script
    (Python keeps it in ``sys.last_value``) or, when it ended without one, said so."""
    failed = getattr(sys, "last_value", None)
    for training in list(_OPEN):
        if isinstance(failed, BaseException) and not isinstance(failed, SystemExit):
            training.fail(failed)
        else:
            training.unfinished("the process ended during training")


def _number(value: Any) -> float | None:
    """A metric value as a number (a numpy or torch scalar too), None for anything else."""
    if isinstance(value, bool | str | bytes):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # RuntimeError: a tensor of more than one value
        return None
