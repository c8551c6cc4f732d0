"""upstack: a research log that always knows why.

The scripting API, for experiment code::

    import upstack

    with upstack.run("sae-width-sweep", under="Q7", config=cfg) as run:
        run.log({"loss": loss, "l0": l0}, step=step)
        run.figure(fig, "Reconstruction loss vs width")

or in the functional style: ``upstack.init(...)``, ``upstack.log(...)``,
``upstack.finish()``. The package root stays import-light: capture must start
fast, so everything else is imported on use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from upstack.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

    from upstack.capture.run import Run

__all__ = ["__version__", "run", "init", "log", "figure", "table", "note", "summary", "finish",
           "current_run"]

_current: Run | None = None


def run(name: str | None = None, *, under: str | None = None, config: Any = None,
        tags: Iterable[str] = (), capture: str | Iterable[str] | None = None,
        goals: Mapping[str, str] | None = None, home: str | Path | None = None,
        db: str | None = None, strict: bool = False, predict: Any = None, resume: str | None = None,
        system_metrics: bool = True) -> Run:
    """Start a run; use it as a context manager, or call ``finish()`` when done.

    Args:
        name: what the run is called (default: the script's name).
        under: the tree node (an id or prefix) whose question the run answers; default the focus.
        config: a dict, dataclass, argparse namespace or OmegaConf/Hydra config.
        tags: tags for the result entry.
        capture: "all" (default: the run_capture setting), "none", or kinds such as ["git", "host"].
        goals: what "best" means per metric, e.g. {"recovered": "max"}; by default names with
            acc, score, reward, auc, f1, precision, recall, win, success or return are maximised,
            all others (losses, errors) minimised.
        home, db: the workspace (default: UPSTACK_HOME / UPSTACK_DB, as for the CLI).
        strict: ``run.log`` raises BadInput on a value that is not a number (by default it drops
            the value and says so on stderr, once per metric, so a training loop goes on).
        predict: what you expect of a metric, said before the run: e.g. {"metric": "loss",
            "below": 0.12, "probability": 0.7, "interval": (0.10, 0.15), "level": 0.8} (keys:
            metric, aggregate final/best/min/max, below or above, interval, level, probability,
            claim, criteria, by), or a list of them. Each becomes a prediction about this run,
            resolved from the metric when the run finishes (a failed run leaves it open).
        resume: a run's id (or short id) to go on with, as after a pre-emption: its series go on
            (steps from the last one logged), its status is running again, and its result entry
            is revised when it ends; its name, node and config stay as they were. ``"auto"``:
            the run ``UPSTACK_RUN_ID`` names (a full id that names no run yet starts one with it;
            unset, a new run). Without it, ``UPSTACK_RESUME`` (an id or auto) is used if set.
        system_metrics: sample CPU, memory and GPU as ``system/...`` metrics every
            ``run_system_seconds`` (False: none, and psutil is never imported).
    """
    from upstack.services.runstart import start_run
    from upstack.workspace import Workspace

    ws = Workspace(home=home, db=db)
    try:
        return start_run(ws, name, under=under, config=config, tags=tags, capture=capture, goals=goals,
                         strict=strict, predict=predict, resume=resume, system_metrics=system_metrics)
    finally:
        ws.close()


def init(name: str | None = None, **options: Any) -> Run:
    """Start the current run for ``upstack.log``, ``upstack.figure`` ... (ends the previous one)."""
    global _current
    if _current is not None:
        _current.finish()
    _current = run(name, **options)
    return _current


def current_run() -> Run:
    """The run ``upstack.init`` started; BadInput if there is none (or it has ended)."""
    if _current is None or _current.status != "running":
        from upstack.errors import BadInput

        raise BadInput("no run in progress: call upstack.init(...) first")
    return _current


def log(metrics: Mapping[str, Any], step: int | None = None) -> None:
    """Record metric values (numbers; NaN and inf are kept) at ``step`` of the current run.

    Without ``step``, the step after the last one logged (starting at 0). ``upstack.log({"loss":
    0.31, "l0": 42}, step=100)``. A value that is not a number is dropped, said once per metric
    on stderr (``init(..., strict=True)``: BadInput instead).
    """
    current_run().log(metrics, step=step)


def figure(figure: Any = None, title: str = "") -> None:
    """Store a figure with the current run: matplotlib, plotly, PIL, an image array or a file path;
    without one, the current matplotlib figure (what a notebook cell just drew)."""
    current_run().figure(figure, title)


def table(rows: Any, title: str = "") -> None:
    """Store a table with the current run: a list of dicts or lists, a dict of columns, or a
    pandas DataFrame."""
    current_run().table(rows, title)


def note(text: str) -> None:
    """A remark for the current run's result entry ("Width 16k looks saturated")."""
    current_run().note(text)


def summary(**values: Any) -> None:
    """The current run's final numbers (``best_loss=0.12``) and, for its result entry, what you
    ``expected``, what ``happened``, the ``outcome`` (as-expected, surprise, failed) and what you
    ``learned`` (a learning entry of its own)."""
    current_run().summary(**values)


def finish(status: str = "finished") -> None:
    """End the current run (``status``: finished, failed or interrupted) and write its result
    entry; without a current run, nothing."""
    global _current
    if _current is not None:
        _current.finish(status)
        _current = None


def __getattr__(name: str) -> Any:
    """``upstack.Run`` and ``upstack.Workspace``, imported when first named (``import upstack`` in a
    training script stays light)."""
    if name == "Run":
        from upstack.capture.run import Run

        return Run
    if name == "Workspace":
        from upstack.workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'upstack' has no attribute {name!r}")
