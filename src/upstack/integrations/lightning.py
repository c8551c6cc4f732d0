"""Lightning: a ``Trainer``'s fit (or validate, test) as an upstack run, through its logger API.

    from upstack.integrations.lightning import UpstackLogger

    trainer = lightning.Trainer(max_epochs=3, logger=UpstackLogger(under="Q7"))
    trainer.fit(model, data)

The module's saved hyperparameters (``self.save_hyperparameters()``) are the run's config; what
``self.log`` logs is logged at the trainer's step; when the trainer finalizes its logger, each
metric's last value is the run's summary and the run ends: finished on success, failed (with the
error Lightning is handling) on an exception, interrupted on Ctrl-C. Each ``fit``, ``validate``
or ``test`` that logs is a run of its own. Only rank zero logs.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any, Unpack

from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

from upstack.capture.run import Run
from upstack.domain.config import config_to_dict
from upstack.integrations._run import RunOptions, TrainingRun

__all__ = ["UpstackLogger"]


class UpstackLogger(Logger):  # type: ignore[misc]  # (Lightning's classes are not typed for mypy here)
    """A Lightning logger writing upstack runs; takes the options of ``upstack.run`` (``config`` is
    added to the module's hyperparameters)."""

    def __init__(self, **options: Unpack[RunOptions]) -> None:
        super().__init__()
        self._training = TrainingRun(options)
        self._hyperparams: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return str(self._training.options.get("name") or "upstack")

    @property
    def version(self) -> str:
        """The current (or last) run's short id; empty before the first."""
        return self._training.run.short if self._training.run is not None else ""

    @property
    def experiment(self) -> Run | None:
        """The run being written (``self.logger.experiment.figure(fig)``); None before training has
        begun (Lightning reads this while setting up, before the hyperparameters arrive)."""
        return self._training.run if self._training.running else None

    @rank_zero_only  # type: ignore[untyped-decorator]
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        values = config_to_dict(params)
        if self._training.running:
            assert self._training.run is not None
            # A run's config is said when it starts: what comes later is kept as a note.
            self._training.run.note(f"hyperparameters logged after the run began: {values}")
        else:
            self._hyperparams.update(values)

    @rank_zero_only  # type: ignore[untyped-decorator]
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        self._begin()  # the hyperparameters (if any) have been logged by now: the run begins

    @rank_zero_only  # type: ignore[untyped-decorator]
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self._begin()
        self._training.log(metrics, step=step)

    @rank_zero_only  # type: ignore[untyped-decorator]
    def finalize(self, status: str) -> None:
        if status == "success":
            self._training.end()
            return
        error = sys.exc_info()[1]  # Lightning finalizes its loggers inside its `except` block
        if error is not None:
            self._training.fail(error)
        else:
            self._training.unfinished(f"Lightning ended it as {status}")

    def _begin(self) -> None:
        if not self._training.running:
            self._training.begin(self._hyperparams)
