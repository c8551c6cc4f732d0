"""`upstack sweep`: a grid or random search over a config space, as local processes, each trial a run."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from upstack.cli.hints import hinting_group
from upstack.cli.options import complete_nodes, json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.run import format_number
from upstack.domain.text import plural
from upstack.errors import UpstackError
from upstack.services import sweep as service
from upstack.services.sweep_env import SWEEP_VARIABLE
from upstack.services.sweep_spec import format_value, read_spec, trial_argv, trials
from upstack.services.sweep_state import trial_files
from upstack.timeutil import local_display
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_COLOURS = {"finished": "green", "failed": "red", "interrupted": "yellow", "running": "cyan", "done": "green",
            "stopped": "yellow"}


def _params(params: dict[str, Any]) -> str:
    return " ".join(f"{name}={format_value(value)}" for name, value in params.items())


class _Display:
    """What a person watching a sweep sees: a line as each trial ends and, on a terminal, a status
    line under them (on stderr: trials done, running, failed), cleared before each line is printed
    and drawn again after, so the two never share a line."""

    CLEAR = "\r\x1b[2K"

    def __init__(self, ws: Workspace, quiet: bool) -> None:
        self.ws = ws
        self.quiet = quiet
        self.live = not quiet and sys.stderr.isatty()  # the status line: only on a terminal
        self.drawn = False

    def __call__(self, event: service.SweepEvent) -> None:
        if self.quiet:
            return
        state = event.state
        self._clear()
        if event.kind == "ended" and event.trial is not None:
            trial = event.trial
            code = "" if trial.exit_code in (0, None) else f" (exit {trial.exit_code})"
            run = f"run {_short(trial.run_ids[-1])}" if trial.run_ids else "no run"
            echo(f"trial {trial.index:>3}  {style(trial.status + code, fg=_COLOURS.get(trial.status))}  "
                 f"{_params(trial.params)}  {style(run, dim=True)}")
            if trial.status == "failed":
                said = service.trial_said(self.ws, state.id, trial.index)
                if said:
                    echo(f"  it said: {said}")
                echo(style(f"  its output: {trial_files(self.ws, state.id, trial.index)[0]}", dim=True))
        elif event.kind == "stopping":
            echo("stopping: each running trial ends its run as interrupted ...", err=True)
        if self.live:
            counts = state.counts()
            done = counts["finished"] + counts["failed"]
            status = (f"sweep {state.name}: {done}/{len(state.trials)} done, {counts['running']} running"
                      + (f", {counts['failed']} failed" if counts["failed"] else ""))
            echo(style(status, dim=True), err=True, nl=False)
            sys.stderr.flush()
            self.drawn = True

    def _clear(self) -> None:
        if self.drawn:
            sys.stderr.write(self.CLEAR)
            sys.stderr.flush()
            self.drawn = False

    def close(self) -> None:
        self._clear()


def _short(run_id: str) -> str:
    from upstack.ids import short_id

    return short_id(run_id)


def _run(ws: Workspace, go: Any, as_json: bool) -> None:
    display = _Display(ws, quiet=as_json)
    try:
        state = go(display)
    finally:
        display.close()
    ws.ingest()
    view = service.show_sweep(ws, state.id)
    if as_json:
        print_json(view.to_dict())
    else:
        _summary_line(view.summary)
        if view.summary["counts"]["finished"] > 1:
            _next_steps(view)
    failed = view.summary["counts"]["failed"]
    if failed or state.message:
        reason = state.message or f"{failed} of {len(state.trials)} trials failed"
        raise UpstackError(f"sweep {state.short}: {reason} (see `upstack sweep show {state.short}`)")


def _next_steps(view: service.SweepView) -> None:
    """What to look at once trials are in: each setting's mean ± std over its seeds, and the curves."""
    node = _short(view.summary["node_id"])
    metric = view.metric if view.metric and view.logged is None else "METRIC"
    group = "-seed" if any("seed" in row["params"] for row in view.trials) else ",".join(
        next((row["params"] for row in view.trials), {})) or "-seed"
    echo(style(f"next: upstack runs --under {node} --group {group}; upstack compare --under {node} "
               f"--sort 'best({metric})' -n 5; upstack plot --under {node} --group {group} {metric} "
               f"--out {view.summary['name']}.png", dim=True))


def _summary_line(summary: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in summary["counts"].items() if n)
    echo(f"sweep {style(summary['short'], fg='yellow')}  {summary['name']}  "
         f"{style(summary['status'], fg=_COLOURS.get(summary['status']))}  "
         f"{plural(summary['trials'], 'trial')}: {counts}")


def _sweep_command_for(word: str) -> str:
    """`upstack sweep sweep.yaml` meant start; `upstack sweep ID` meant show."""
    return "start" if word.endswith((".yaml", ".yml", ".toml")) else "show"


@click.group(cls=hinting_group(_sweep_command_for))
def sweep() -> None:
    """A grid or random search: each trial a run, N at a time, resumable after a kill.

    \b
    Examples:
      upstack sweep start sweep.yaml --under QUESTION -j 2
      upstack sweep resume ID
      upstack sweep show ID
      upstack sweep plan sweep.yaml                      # the trials, without running them
      upstack sweep trial sweep.yaml 3 --under NODE      # one trial (a Slurm array task)
    """


@sweep.command("start")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--under", metavar="NODE", shell_complete=complete_nodes,
              help="The question (or experiment) the sweep answers; its runs go in one experiment node "
                   "there (default: the focus).")
@click.option("-j", "--jobs", type=click.IntRange(min=1),
              help="How many trials run at once (default 1, or one per --gpus device).")
@click.option("--max-failures", type=click.IntRange(min=1), metavar="N",
              help="Start no more trials once N have failed (default: run them all).")
@click.option("--gpus", metavar="IDS", help="Give each running trial one of these GPUs as CUDA_VISIBLE_DEVICES, "
                                            "e.g. 0,1,2,3.")
@json_option
@pass_log
def sweep_start(ws: Workspace, file: Path, under: str | None, jobs: int | None, max_failures: int | None,
                gpus: str | None, as_json: bool) -> None:
    """Run the sweep a file describes, N trials at a time.

    Each trial is a run, filed in one experiment node made under --under (or in --under itself, if
    it is an experiment). A sweep of the same file under the same node left unfinished is resumed
    instead. Ctrl-C stops the running trials (their runs end as interrupted)."""
    devices = _devices(gpus)
    jobs = jobs or (len(devices) if devices else 1)
    state, resumed = service.prepare_sweep(ws, file, under=under, jobs=jobs)
    if not as_json:
        todo = sum(t.status not in ("finished", "failed") for t in state.trials)
        echo(f"sweep {style(state.short, fg='yellow')}  {state.name}: "
             + (f"resuming, {todo} of {len(state.trials)} trials to run" if resumed
                else f"{plural(len(state.trials), 'trial')}, {jobs} at a time")
             + style(f"  (runs under node {_short(state.node_id)})", dim=True))
    before = None if resumed else service.done_before(ws, state)
    if before is not None:
        echo(f"upstack: warning: sweep {before.short} ran this file under this node to its end already; this is a "
             f"new sweep, its runs in a node of their own (`upstack sweep show {before.short}`: the earlier "
             "results)", err=True)
    _run(ws, lambda display: service.run_sweep(ws, state, jobs=jobs, max_failures=max_failures, gpus=devices,
                                               on_event=display), as_json)


@sweep.command("resume")
@click.argument("ref", metavar="ID")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="How many trials run at once (default: as before).")
@click.option("--max-failures", type=click.IntRange(min=1), metavar="N",
              help="Start no more trials once N have failed.")
@click.option("--retry-failed", is_flag=True, help="Run the trials that failed again too.")
@click.option("--gpus", metavar="IDS", help="Give each running trial one of these GPUs (default: as before).")
@json_option
@pass_log
def sweep_resume(ws: Workspace, ref: str, jobs: int | None, max_failures: int | None, retry_failed: bool,
                 gpus: str | None, as_json: bool) -> None:
    """Run what a stopped sweep did not finish.

    Trials that were running when it stopped run again; finished ones never do, failed ones only
    with --retry-failed."""
    _run(ws, lambda display: service.resume_sweep(ws, ref, jobs=jobs, max_failures=max_failures,
                                                 retry_failed=retry_failed, gpus=_devices(gpus), on_event=display),
         as_json)


def _devices(gpus: str | None) -> list[str] | None:
    return None if gpus is None else [g.strip() for g in gpus.split(",")]


@sweep.command("list")
@json_option
@pass_log
def sweep_list(ws: Workspace, as_json: bool) -> None:
    """Sweeps, newest first: status and how their trials stand."""
    found = service.list_sweeps(ws)
    if as_json:
        print_json(found)
        return
    if not found:
        echo("No sweeps yet: upstack sweep start sweep.yaml --under QUESTION")
    for summary in found:
        echo(f"{style(local_display(summary['created_at']), dim=True)}  ", nl=False)
        _summary_line(summary)


@sweep.command("show")
@click.argument("ref", metavar="ID")
@json_option
@pass_log
def sweep_show(ws: Workspace, ref: str, as_json: bool) -> None:
    """A sweep's trials: parameters, status, run and metric.

    Each trial's latest run is shown with the sweep file's metric (or its first), final and best;
    --json lists every run of every attempt."""
    view = service.show_sweep(ws, ref)
    if as_json:
        print_json(view.to_dict())
        return
    _summary_line(view.summary)
    echo(style(f"  runs under node {_short(view.summary['node_id'])}; file {view.summary['file']}", dim=True))
    if view.logged is not None:
        echo(f"  no run logged {view.metric!r}, the sweep file's metric; they logged {', '.join(view.logged)}")
    if view.best is not None:
        best = view.best
        echo(f"  best: trial {best['index']}  {_params(best['params'])}  {best['metric']} "
             f"{format_number(best['value'])}  {style('run ' + _short(best['run_id']), dim=True)}")
    for row in view.trials:
        code = "" if row["exit_code"] in (0, None) else f" (exit {row['exit_code']})"
        run = row["runs"][-1] if row["runs"] else None
        said = "no run"
        if run is not None:
            said = f"run {run.get('short', _short(run['id']))} {run['status']}"
            if run.get("final") is not None:
                said += f"  {run['metric']} {format_number(run['final'])} (best {format_number(run['best'])})"
        echo(f"{row['index']:>4}  {style(row['status'] + code, fg=_COLOURS.get(row['status']))}  "
             f"{_params(row['params'])}  {style(said, dim=True)}")
        last = service.trial_said(ws, view.summary["id"], row["index"]) if row["status"] == "failed" else ""
        if last:
            echo(f"        it said: {last}")


@sweep.command("plan")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def sweep_plan(file: Path, as_json: bool) -> None:
    """The trials a sweep file gives, each with its command (nothing runs).

    Trials are numbered from 0, as `upstack sweep trial FILE INDEX` and a job array count them."""
    spec = read_spec(file)
    found = trials(spec)
    if as_json:
        print_json({**spec.to_dict(), "key": spec.key, "trials": [
            {**t.to_dict(), "argv": trial_argv(spec.command, t.params, spec.arguments)} for t in found]})
        return
    echo(f"{spec.name}: {spec.method}, {plural(len(found), 'trial')} (0 to {len(found) - 1})")
    for trial in found:
        echo(f"{trial.index:>4}  {shlex.join(trial_argv(spec.command, trial.params, spec.arguments))}")


@sweep.command("trial")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("index", type=int)
@click.option("--under", metavar="NODE", help="The node its run is filed under (an experiment node made "
                                              "beforehand: every trial of the array the same).")
@click.option("--dry-run", is_flag=True, help="Print the command and its UPSTACK_SWEEP instead of running it.")
@click.pass_obj
def sweep_trial(ws: Workspace, file: Path, index: int, under: str | None, dry_run: bool) -> None:
    """Run one trial in place of this process (a job array's task).

    A scheduler's array task runs `upstack sweep trial FILE $SLURM_ARRAY_TASK_ID`: no sweep process,
    no database; with UPSTACK_RUN_DIR its run writes a folder for `upstack ingest`."""
    argv, env = service.trial_command(file, index, under=under)
    if dry_run:
        echo(f"{SWEEP_VARIABLE}={shlex.quote(env[SWEEP_VARIABLE])} {shlex.join(argv)}")
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        raise UpstackError(f"cannot run trial {index}'s command {argv[0]!r}: {exc.strerror or exc}") from None


COMMANDS = [sweep]
