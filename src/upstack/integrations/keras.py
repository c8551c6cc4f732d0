"""Keras 3: a ``model.fit`` as an upstack run (any backend; the tests use PyTorch's).

    from upstack.integrations.keras import UpstackCallback

    model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[UpstackCallback(under="Q7")])

The run starts when training begins, with fit's parameters (epochs, steps), the optimizer's
config and the model's name and size as its config. Each epoch's logs (``loss``, ``val_loss``,
``accuracy`` ...) are logged at the epoch (counted from 0, as Keras does), and each batch's
running values as ``batch/loss`` ... at the batch counted over the whole fit (``batches=False``:
not those). When training ends, each metric's last value is the run's summary and the run is
finished. Keras tells its callbacks nothing when training raises: the run then ends as failed
when the process exits, or at once with the error when ``fit`` runs inside ``with callback:``.
"""

from __future__ import annotations

from typing import Any, Unpack

import keras

from upstack.integrations._run import RunOptions, TrainingRun

__all__ = ["UpstackCallback"]


class UpstackCallback(TrainingRun, keras.callbacks.Callback):  # type: ignore[misc]  # (Keras is untyped)
    """Each ``model.fit`` a run; takes the options of ``upstack.run`` (``config`` is added to fit's)."""

    def __init__(self, *, batches: bool = True, **options: Unpack[RunOptions]) -> None:
        keras.callbacks.Callback.__init__(self)
        TrainingRun.__init__(self, options)
        self.batches = batches
        self._batch = 0  # batches seen in this fit, over every epoch

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._batch = 0
        config: dict[str, Any] = {**(self.params or {})}
        model = self.model
        if model is not None:
            config["model"] = {"name": model.name, "parameters": model.count_params()}
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None:
                config["optimizer"] = optimizer.get_config()
        self.begin(config)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._batch += 1
        if self.batches and logs:
            self.log({f"batch/{key}": value for key, value in logs.items()}, step=self._batch)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs:
            self.log(logs, step=epoch)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.end(batches_seen=self._batch)
