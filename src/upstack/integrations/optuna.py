"""Optuna: each trial of a study a run, all of them under the study's node.

    from upstack.integrations.optuna import UpstackCallback

    study = optuna.create_study(study_name="lr-sweep", direction="minimize")
    study.optimize(objective, n_trials=20, callbacks=[UpstackCallback(under="Q7")], catch=(Exception,))

Optuna calls its callbacks as each trial ends, and the callback writes the trial's run then: the
trial's parameters are its config, what the trial reported (``trial.report(value, step)``) and
its final value are the metric ``objective`` (the study's metric names, when set), the value and
the trial's number and duration its summary, and the study's direction the metric's goal. A
completed trial's run is finished; a pruned one's is interrupted ("pruned at step N"); a failed
one's is failed. Optuna gives callbacks no error text, so an objective may say it with
``trial.set_user_attr("error", ...)``; and it calls them for a failed trial only when
``catch=`` lets the study go on (otherwise the error stops ``optimize`` before any callback).

Every run goes under one node: ``under`` when given, otherwise an experiment node made for the
study ("Optuna study lr-sweep", under the focus when there is one), which the study remembers
(its user attribute ``upstack_node``), so a study resumed later files its trials there too.
"""

from __future__ import annotations

import threading
from typing import Unpack

import optuna
from optuna.trial import FrozenTrial, TrialState

from upstack.errors import BadInput
from upstack.integrations._run import RunOptions, check_options, start
from upstack.services.tree import add_node
from upstack.workspace import Workspace

__all__ = ["UpstackCallback", "NODE_ATTRIBUTE"]

NODE_ATTRIBUTE = "upstack_node"  # the study's user attribute naming the node its trials go under


class UpstackCallback:
    """An Optuna callback writing each trial as a run; takes the options of ``upstack.run`` (``name``
    is the start of each run's name, default the study's; ``config`` is added to the trial's
    parameters)."""

    def __init__(self, **options: Unpack[RunOptions]) -> None:
        self.options = check_options(options)
        self._node_lock = threading.Lock()  # trials run in threads with optimize(n_jobs=...): one node

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
            return
        metrics = _metric_names(study)
        goals = {m: "max" if d == optuna.study.StudyDirection.MAXIMIZE else "min"
                 for m, d in zip(metrics, study.directions, strict=True)}
        with self._node_lock:
            under = self.options.get("under") or self._study_node(study)
        options = {**self.options, "under": under,
                   "goals": {**goals, **(self.options.get("goals") or {})},
                   "name": f"{self.options.get('name') or study.study_name} trial {trial.number}"}
        run = start(options, trial.params)
        try:
            for step, value in sorted(trial.intermediate_values.items()):
                run.log({metrics[0]: value}, step=step)
            last = max(trial.intermediate_values, default=-1)
            final = dict(zip(metrics, trial.values or (), strict=False))
            if final and trial.state == TrialState.COMPLETE:  # (a pruned trial's value is its last report)
                run.log(final, step=last + 1)
            duration = trial.duration.total_seconds() if trial.duration is not None else None
            run.summary(**final, trial=trial.number, duration_seconds=duration)
        except BaseException as exc:
            run.finish("failed", error=f"recording trial {trial.number} failed: {exc}")
            raise
        if trial.state == TrialState.COMPLETE:
            run.finish()
        elif trial.state == TrialState.PRUNED:
            run.finish("interrupted", error=f"pruned at step {last}" if last >= 0 else "pruned")
        else:
            said = trial.user_attrs.get("error")
            run.finish("failed", error=str(said) if said else "the objective failed (Optuna tells its callbacks "
                       "no error; its log says which)")

    def _study_node(self, study: optuna.Study) -> str:
        """The node the study's trials go under: the one it remembers, or one made for it now."""
        known = study.user_attrs.get(NODE_ATTRIBUTE)
        if known:
            return str(known)
        ws = Workspace(home=self.options.get("home"), db=self.options.get("db"))
        try:
            node = add_node(ws, "experiment", f"Optuna study {study.study_name}",
                            why="The trials of an Optuna study, one run each.", under=ws.focus_node_id())
        except BadInput as exc:
            raise BadInput(f"cannot make a node for study {study.study_name!r} under the focus ({exc}): "
                           "give UpstackCallback(under=...)") from None
        finally:
            ws.close()
        study.set_user_attr(NODE_ATTRIBUTE, node.id)
        return node.id


def _metric_names(study: optuna.Study) -> list[str]:
    names = study.metric_names
    if names:
        return list(names)
    count = len(study.directions)
    return ["objective"] if count == 1 else [f"objective_{i}" for i in range(count)]
