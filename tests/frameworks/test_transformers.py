"""The Hugging Face ``Trainer`` callback: a two-layer GPT-2 built from its config (random weights, no
download) trained on synthetic tokens for ten steps."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from framework_runs import only_run, runs_in, series
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

from upstack.integrations.transformers import UpstackCallback

STEPS = 10


class Diverges(TrainerCallback):
    """Training that blows up part-way: an error raised inside the training loop at step 6 (after
    its optimizer step, before the trainer logs it)."""

    def on_step_end(self, args, state, control, **kwargs):  # type: ignore[no-untyped-def]
        if state.global_step == 6:
            raise FloatingPointError("loss became nan at step 6")


def tiny_trainer(out: Path, *callbacks: TrainerCallback) -> Trainer:
    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=64, n_positions=16)
    tokens = torch.randint(0, 64, (48, 16))
    data = [{"input_ids": row, "labels": row} for row in tokens]
    args = TrainingArguments(output_dir=str(out), max_steps=STEPS, per_device_train_batch_size=4,
                             learning_rate=3e-3, logging_steps=2, eval_strategy="steps", eval_steps=5,
                             save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True, seed=0)
    return Trainer(model=GPT2LMHeadModel(config), args=args, train_dataset=data, eval_dataset=data[:8],
                   callbacks=list(callbacks))


def test_a_training_is_a_run_with_its_arguments_metrics_and_final_numbers(tmp_path: Path, home: Path) -> None:
    callback = UpstackCallback(name="gpt2-tiny", home=home, tags=["hf"], config={"data": "synthetic"})
    tiny_trainer(tmp_path / "out", callback).train()

    run = only_run(home)
    assert (run.name, run.status, run.error, run.tags) == ("gpt2-tiny", "finished", "", ["hf"])
    assert run.config["max_steps"] == STEPS and run.config["learning_rate"] == 3e-3
    assert run.config["model"]["n_layer"] == 2 and run.config["model"]["model_type"] == "gpt2"
    assert run.config["data"] == "synthetic"
    losses = series(home, run, "loss")
    assert [step for step, _ in losses] == [2, 4, 6, 8, 10]
    assert all(0 < value < 10 for _, value in losses)
    assert [step for step, _ in series(home, run, "eval_loss")] == [5, 10]
    assert run.summary["global_step"] == STEPS
    assert run.summary["loss"] == losses[-1][1]
    assert run.summary["train_loss"] > 0 and run.summary["eval_loss"] > 0


def test_an_evaluation_after_training_is_a_run_of_its_own(tmp_path: Path, home: Path) -> None:
    """What `trainer.evaluate()` logs after `train()` was dropped (the training's run had ended): it is a
    finished run of its own, tagged evaluate, with the evaluation's numbers as its summary."""
    callback = UpstackCallback(name="gpt2-tiny", home=home, tags=["hf"])
    trainer = tiny_trainer(tmp_path / "out", callback)
    trainer.train()
    metrics = trainer.evaluate()
    trained, evaluated = runs_in(home)
    assert (trained.status, trained.tags) == ("finished", ["hf"])
    assert (evaluated.name, evaluated.status, evaluated.tags) == ("gpt2-tiny", "finished", ["hf", "evaluate"])
    assert evaluated.config["max_steps"] == STEPS and evaluated.config["model"]["n_layer"] == 2
    assert series(home, evaluated, "eval_loss") == [(STEPS, pytest.approx(metrics["eval_loss"]))]
    assert evaluated.summary["eval_loss"] == pytest.approx(metrics["eval_loss"])
    assert evaluated.summary["global_step"] == STEPS
    assert [step for step, _ in series(home, trained, "eval_loss")] == [5, 10]  # the training's own evaluations


def test_a_crash_inside_the_with_block_ends_the_run_failed_with_the_error(tmp_path: Path, home: Path) -> None:
    callback = UpstackCallback(home=home)
    with pytest.raises(FloatingPointError), callback:
        tiny_trainer(tmp_path / "out", callback, Diverges()).train()

    run = only_run(home)
    assert run.status == "failed"
    assert run.error == "FloatingPointError: loss became nan at step 6"
    # Step 6 raised in a callback before the trainer logged it: what came before is kept.
    assert [step for step, _ in series(home, run, "loss")] == [2, 4]
    assert [step for step, _ in series(home, run, "eval_loss")] == [5]
    assert "train_runtime" not in run.summary and any(i.kind == "traceback" for i in run.items)


def test_a_script_that_crashes_in_training_leaves_a_failed_run_not_a_finished_one(tmp_path: Path, home: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_transformers import Diverges, tiny_trainer
        from upstack.integrations.transformers import UpstackCallback

        callback = UpstackCallback(name="diverging", home={str(home)!r})
        tiny_trainer({str(tmp_path / "out")!r}, callback, Diverges()).train()
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "FloatingPointError" in done.stderr, done.stderr[-2000:]

    run = only_run(home)
    assert (run.name, run.status) == ("diverging", "failed")
    assert run.error == "FloatingPointError: loss became nan at step 6"


def test_a_caught_crash_is_failed_when_the_process_ends(tmp_path: Path, home: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_transformers import Diverges, tiny_trainer
        from upstack.integrations.transformers import UpstackCallback

        try:
            tiny_trainer({str(tmp_path / "out")!r}, UpstackCallback(home={str(home)!r}), Diverges()).train()
        except FloatingPointError:
            print("caught")
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip().endswith("caught"), done.stderr[-2000:]

    run = only_run(home)
    assert run.status == "failed"
    assert run.error == "the training did not reach its end (the process ended during training)"


def test_training_again_after_a_caught_crash_fails_the_first_run_and_finishes_the_second(tmp_path: Path,
                                                                                         home: Path) -> None:
    callback = UpstackCallback(home=home)
    with pytest.raises(FloatingPointError):
        tiny_trainer(tmp_path / "first", callback, Diverges()).train()
    tiny_trainer(tmp_path / "second", callback).train()

    first, second = runs_in(home)
    assert first.status == "failed"
    assert first.error == "the training did not reach its end (a new training began before this one ended)"
    assert second.status == "finished" and second.summary["global_step"] == STEPS
