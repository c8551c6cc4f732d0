"""The Optuna callback: a small study whose trials complete, get pruned and fail, each a run."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from framework_runs import runs_in, series

import upstack
from upstack.errors import BadInput
from upstack.integrations.optuna import NODE_ATTRIBUTE, UpstackCallback
from upstack.services import tree


def objective(trial: optuna.Trial) -> float:
    """A quadratic in x, "trained" for three steps; trial 2 is pruned after its first step, trial 3
    fails after its second."""
    x = trial.suggest_float("x", -4, 4)
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    for step in range(3):
        trial.report((x - 1) ** 2 + 1 / (step + 1), step)
        if trial.number == 2 and step == 0:
            raise optuna.TrialPruned()
        if trial.number == 3 and step == 1:
            trial.set_user_attr("error", "ValueError: the loss diverged")
            raise ValueError("the loss diverged")
    return (x - 1) ** 2 + (0.1 if optimizer == "sgd" else 0)


def study(name: str = "quadratic") -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    return optuna.create_study(study_name=name, direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0))


def test_each_trial_is_a_run_under_a_node_made_for_the_study(home: Path) -> None:
    searched = study()
    searched.optimize(objective, n_trials=5, callbacks=[UpstackCallback(home=home, tags=["sweep"])],
                      catch=(ValueError,))

    runs = runs_in(home)
    assert [r.name for r in runs] == [f"quadratic trial {n}" for n in range(5)]
    assert [r.status for r in runs] == ["finished", "finished", "interrupted", "failed", "finished"]
    assert len({r.node_id for r in runs}) == 1 and runs[0].node_id == searched.user_attrs[NODE_ATTRIBUTE]
    ws = upstack.Workspace(home=home)
    try:
        assert tree.get_node(ws, runs[0].node_id).title == "Optuna study quadratic"
    finally:
        ws.close()
    for run, trial in zip(runs, searched.trials, strict=True):
        assert run.config == trial.params and run.tags == ["sweep"] and run.summary["trial"] == trial.number
        assert run.goals == {"objective": "min"}
    done = runs[0]
    assert done.summary["objective"] == searched.trials[0].value
    assert series(home, done, "objective") == [*sorted(searched.trials[0].intermediate_values.items()),
                                               (3, searched.trials[0].value)]
    assert runs[2].error == "pruned at step 0" and [s for s, _ in series(home, runs[2], "objective")] == [0]
    assert runs[2].summary["objective"] == searched.trials[2].intermediate_values[0]  # Optuna's value for it
    assert runs[3].error == "ValueError: the loss diverged" and "objective" not in runs[3].summary
    assert [s for s, _ in series(home, runs[3], "objective")] == [0, 1]


def test_a_given_node_takes_every_trial_and_a_resumed_study_keeps_its_node(home: Path) -> None:
    ws = upstack.Workspace(home=home)
    try:
        question = tree.add_node(ws, "question", "Which learning rate?")
    finally:
        ws.close()
    study().optimize(objective, n_trials=2, callbacks=[UpstackCallback(home=home, under=question.short)])
    resumed = study("resumed")
    resumed.optimize(objective, n_trials=2, callbacks=[UpstackCallback(home=home, name="lr")])
    resumed.optimize(objective, n_trials=1, callbacks=[UpstackCallback(home=home, name="lr")], catch=(ValueError,))

    runs = runs_in(home)
    assert [r.node_id for r in runs[:2]] == [question.id] * 2
    assert [r.name for r in runs[2:]] == ["lr trial 0", "lr trial 1", "lr trial 2"]
    assert len({r.node_id for r in runs[2:]}) == 1 and runs[2].node_id != question.id


def test_an_unknown_option_is_refused_at_once() -> None:
    with pytest.raises(BadInput, match="unknown option 'direction'"):
        UpstackCallback(direction="minimize")  # type: ignore[call-arg]
