"""The Keras 3 callback, on Keras's PyTorch backend (tests/frameworks/conftest.py sets KERAS_BACKEND): a
small dense classifier fitted on synthetic data."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import pytest
from framework_runs import only_run, series

from upstack.integrations.keras import UpstackCallback

# Warnings are errors (pyproject.toml); this one comes from inside Keras 3.15 (its optimizer's
# get_config turns a variable into a NumPy array the way NumPy 2 deprecates), and is left to it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

EPOCHS, BATCHES = 3, 4  # 64 examples, 48 for training in batches of 12


class Diverges(keras.callbacks.Callback):
    """An error raised inside fit, in the second epoch's third batch."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.seen == BATCHES + 2:
            raise FloatingPointError("loss became nan in epoch 2")
        self.seen += 1

    seen = 0


def fitted(*callbacks: keras.callbacks.Callback) -> keras.Model:
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")], name="tiny")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=EPOCHS, batch_size=12, validation_split=0.25, verbose=0, callbacks=list(callbacks))
    return model


def test_keras_runs_on_pytorch() -> None:
    assert os.environ["KERAS_BACKEND"] == "torch" and keras.backend.backend() == "torch"


def test_a_fit_is_a_run_with_its_parameters_metrics_and_final_numbers(home: Path) -> None:
    fitted(UpstackCallback(name="keras-tiny", home=home))

    run = only_run(home)
    assert (run.name, run.status, run.error) == ("keras-tiny", "finished", "")
    assert run.config["epochs"] == EPOCHS and run.config["steps"] == BATCHES
    assert run.config["model"]["name"] == "tiny" and run.config["model"]["parameters"] == 4 * 8 + 8 + 8 * 2 + 2
    assert run.config["optimizer"]["name"] == "adam" and run.config["optimizer"]["learning_rate"] == pytest.approx(0.01)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [step for step, _ in series(home, run, key)] == [0, 1, 2], key
    assert [step for step, _ in series(home, run, "batch/loss")] == list(range(1, EPOCHS * BATCHES + 1))
    assert run.summary["val_loss"] == series(home, run, "val_loss")[-1][1]
    assert run.summary["batches_seen"] == EPOCHS * BATCHES


def test_without_batches_only_epochs_are_logged(home: Path) -> None:
    fitted(UpstackCallback(home=home, batches=False))

    assert {m.key for m in only_run(home).metrics} == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_a_crash_inside_the_with_block_ends_the_run_failed_with_the_error(home: Path) -> None:
    callback = UpstackCallback(home=home)
    with pytest.raises(FloatingPointError), callback:
        fitted(callback, Diverges())

    run = only_run(home)
    assert run.status == "failed" and run.error == "FloatingPointError: loss became nan in epoch 2"
    assert [step for step, _ in series(home, run, "loss")] == [0]
    assert [step for step, _ in series(home, run, "batch/loss")] == list(range(1, BATCHES + 3))
    assert run.summary == {}
