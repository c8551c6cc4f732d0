"""Hugging Face ``transformers``: a ``Trainer``'s training as an upstack run.

    from upstack.integrations.transformers import UpstackCallback

    trainer = Trainer(model, args, train_dataset=data, callbacks=[UpstackCallback(under="Q7")])
    trainer.train()

The run starts when training begins, with the ``TrainingArguments`` (and the model's config
under ``model``) as its config; what the trainer logs is logged at its global step; when
training ends, each metric's last value is the run's summary and the run is finished. An
evaluation outside training (``trainer.evaluate()`` after ``train()``, or alone) is a run of its
own, tagged ``evaluate``, as Lightning's ``test`` after ``fit`` is. The
trainer tells its callbacks nothing when training raises: the run then ends as failed when the
process exits (with the error, when it was not caught), or at once with the error when the
training runs inside ``with callback:``. Only the main process (``is_world_process_zero``) logs.
"""

from __future__ import annotations

from typing import Any, Unpack

from transformers import TrainerCallback

from upstack.integrations._run import RunOptions, TrainingRun

__all__ = ["UpstackCallback"]


class UpstackCallback(TrainingRun, TrainerCallback):  # type: ignore[misc]  # (transformers is untyped)
    """Each ``trainer.train()`` a run; takes the options of ``upstack.run`` (``config`` is added
    to the trainer's)."""

    def __init__(self, **options: Unpack[RunOptions]) -> None:
        TrainingRun.__init__(self, options)
        self._evaluation = False  # the open run is an evaluation's outside training, ended by on_evaluate

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self._evaluation = False
        self.begin(_config(args, model))

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None,
               **kwargs: Any) -> None:
        if not (state.is_world_process_zero and logs):
            return
        if not self.running:  # trainer.evaluate() outside training: it logs, then calls on_evaluate
            self.begin(_config(args, kwargs.get("model")), tags=["evaluate"])
            self._evaluation = True
        self.log(logs, step=state.global_step)

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero and self._evaluation:
            self._evaluation = False
            self.end(global_step=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        final: dict[str, Any] = {"global_step": state.global_step}
        if state.best_metric is not None:
            final["best_metric"] = state.best_metric
        self.end(**final)


def _config(args: Any, model: Any) -> dict[str, Any]:
    """The ``TrainingArguments`` (secrets such as hub_token masked by transformers), and the model's
    config under ``model``."""
    config: dict[str, Any] = args.to_dict()
    model_config = getattr(model, "config", None)
    if model_config is not None and hasattr(model_config, "to_dict"):
        config["model"] = model_config.to_dict()
    return config
