"""The Lightning logger: a tiny ``LightningModule`` (one linear layer) fitted on synthetic data."""

from __future__ import annotations

import signal
from pathlib import Path

import lightning
import pytest
import torch
from framework_runs import only_run, runs_in, series
from torch.utils.data import DataLoader, TensorDataset

from upstack.integrations.lightning import UpstackLogger

# Warnings are errors (pyproject.toml); this one comes from inside the libraries, about each other, and
# is left to them: Lightning 2.6 asks torch 2.13's pytree in a way torch now deprecates.
pytestmark = pytest.mark.filterwarnings(r"ignore:.isinstance.treespec, LeafSpec.. is deprecated:FutureWarning")


class Regression(lightning.LightningModule):
    def __init__(self, lr: float = 0.05, width: int = 4, fail_at_step: int | None = None,
                 interrupt_at_step: int | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(width, 1)

    def training_step(self, batch: list[torch.Tensor], index: int) -> torch.Tensor:
        if self.hparams.fail_at_step is not None and self.global_step == self.hparams.fail_at_step:
            raise FloatingPointError(f"loss became nan at step {self.global_step}")
        if self.hparams.interrupt_at_step is not None and self.global_step == self.hparams.interrupt_at_step:
            raise KeyboardInterrupt  # as Ctrl-C would, in the middle of a step
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: list[torch.Tensor], index: int) -> None:
        x, y = batch
        self.log("val/loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def data() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=generator)
    return DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=8)


def trainer(tmp_path: Path, logger: UpstackLogger) -> lightning.Trainer:
    return lightning.Trainer(max_epochs=3, logger=logger, log_every_n_steps=2, accelerator="cpu", devices=1,
                             default_root_dir=tmp_path, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False)


def test_a_fit_is_a_run_with_the_hyperparameters_metrics_and_final_numbers(tmp_path: Path, home: Path) -> None:
    torch.manual_seed(0)
    logger = UpstackLogger(name="regression", home=home, goals={"val/loss": "min"})
    trainer(tmp_path, logger).fit(Regression(lr=0.05), data(), data())

    run = only_run(home)
    assert (run.name, run.status, run.error) == ("regression", "finished", "")
    assert run.config == {"lr": 0.05, "width": 4, "fail_at_step": None, "interrupt_at_step": None}
    assert logger.version == run.short
    losses = series(home, run, "train/loss")
    assert [step for step, _ in losses] == list(range(1, 24, 2))  # every 2nd of 24 steps (8 batches x 3 epochs)
    validation = series(home, run, "val/loss")
    assert len(validation) == 3 and validation[-1][1] < validation[0][1]  # it learns
    assert run.summary["val/loss"] == validation[-1][1] and run.summary["epoch"] == 2


def test_a_crash_in_training_step_ends_the_run_failed_with_the_error(tmp_path: Path, home: Path) -> None:
    with pytest.raises(FloatingPointError):
        trainer(tmp_path, UpstackLogger(home=home)).fit(Regression(fail_at_step=5), data(), data())

    run = only_run(home)
    assert run.status == "failed" and run.error == "FloatingPointError: loss became nan at step 5"
    assert [step for step, _ in series(home, run, "train/loss")] == [1, 3]
    assert run.summary == {} and any(item.kind == "traceback" for item in run.items)


def test_ctrl_c_ends_the_run_interrupted(tmp_path: Path, home: Path) -> None:
    sigint = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit):  # Lightning's graceful shutdown: finalize its loggers, then exit 1
            trainer(tmp_path, UpstackLogger(home=home)).fit(Regression(interrupt_at_step=3), data(), data())
    finally:
        signal.signal(signal.SIGINT, sigint)  # (Lightning ignores Ctrl-C from then on)

    run = only_run(home)
    assert (run.status, run.error) == ("interrupted", "interrupted (KeyboardInterrupt)")
    assert [step for step, _ in series(home, run, "train/loss")] == [1]


def test_fit_then_validate_are_two_runs(tmp_path: Path, home: Path) -> None:
    fitting = trainer(tmp_path, UpstackLogger(home=home))
    fitting.fit(Regression(), data(), data())
    fitting.validate(fitting.lightning_module, dataloaders=data(), verbose=False)

    fitted, validated = runs_in(home)
    assert fitted.status == validated.status == "finished"
    assert "train/loss" in fitted.summary and "train/loss" not in validated.summary
    assert validated.config == fitted.config and "val/loss" in validated.summary
