"""`upstack sweep`: a grid or random search run as local processes, N at a time, each trial a run
filed in one experiment node, resumable after a kill.

No service and no agent: the sweep is a loop in the process that started it. Each trial is the
sweep file's command with the trial's parameters (``sweep_spec.trial_argv``), started in a session
of its own (so a Ctrl-C at the terminal reaches the sweep, which stops its trials itself, and they
end their runs as interrupted), with ``UPSTACK_SWEEP`` telling ``upstack.run`` where to file the run
(``sweep_env``). The state is a file replaced whole after each trial starts and ends
(``sweep_state``), so a sweep killed at any point, even by SIGKILL, is resumed by running the
trials that did not finish. For several machines the same trials are run by a scheduler's job
array, one ``upstack sweep trial FILE INDEX`` each (``trial_command``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.errors import BadInput, NotFound, UpstackError
from upstack.formats.rundir import process_alive
from upstack.ids import new_id
from upstack.services import sweep_state
from upstack.services.sweep_env import SWEEP_VARIABLE, SweepTrial, trial_environment
from upstack.services.sweep_spec import SweepSpec, read_spec, trial_argv, trials
from upstack.services.sweep_state import SweepState, TrialState, trial_files
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["SweepEvent", "start_sweep", "resume_sweep", "prepare_sweep", "done_before", "trial_said", "run_sweep",
           "list_sweeps",
           "show_sweep", "SweepView", "trial_command", "launch_argv"]

POLL_SECONDS = 0.1  # how often the loop looks for trials that ended (a few syscalls each time)
STOP_GRACE_SECONDS = 30.0  # how long a trial has to end its run after SIGTERM before it is killed


@dataclass
class SweepEvent:
    kind: str  # "started" or "ended" (a trial), "stopping" (the sweep)
    state: SweepState
    trial: TrialState | None = None


Listener = Callable[[SweepEvent], None]


# -- starting -----------------------------------------------------------------------------------


def prepare_sweep(ws: Workspace, path: Path, *, under: str | None, jobs: int = 1) -> tuple[SweepState, bool]:
    """The sweep for the file at ``path`` (and whether it is one started before and left unfinished,
    which is then resumed): its node made, its trials listed, its state saved; nothing run yet."""
    from upstack.services.tree import get_node

    spec = read_spec(path)
    ref = under or ws.focus_node_id()
    if not ref:
        raise BadInput("a sweep needs --under NODE (the question or experiment its runs answer), or a focus "
                       "(upstack focus NODE)")
    parent = get_node(ws, ref)
    for earlier in sweep_state.all_states(ws):
        if earlier.key == spec.key and parent.id in (earlier.node_id, earlier.spec.get("under")) \
                and not earlier.complete:
            earlier.jobs = jobs
            return earlier, True
    node_id = parent.id if parent.kind == "experiment" else _experiment_for(ws, spec, parent.id, path)
    state = SweepState(id=new_id(), name=spec.name, file=str(path.resolve()), key=spec.key,
                       spec={**spec.to_dict(), "under": parent.id}, node_id=node_id, cwd=os.getcwd(),
                       created_at=now_iso(), jobs=jobs,
                       trials=[TrialState(index=t.index, params=t.params) for t in trials(spec)])
    sweep_state.save(ws, state)
    return state, False


def done_before(ws: Workspace, state: SweepState) -> SweepState | None:
    """The latest other sweep of the same file under the same node that ran to its end: starting the
    file again makes a new sweep then (only an unfinished one is resumed), which a newcomer who ran
    the command twice should hear about."""
    under = state.spec.get("under")
    earlier = [s for s in sweep_state.all_states(ws) if s.id != state.id and s.key == state.key
               and under in (s.node_id, s.spec.get("under")) and s.complete]
    return max(earlier, key=lambda s: s.created_at, default=None)


SAID_BYTES = 4096  # how much of the end of a trial's output is read for its last line
SAID_CHARS = 300  # the longest last line shown


def trial_said(ws: Workspace, sweep_id: str, index: int) -> str:
    """The last line a trial wrote (its output log's), to show beside a failed trial: usually the
    error ("train.py: error: unrecognized arguments: --wd=0"), without opening the log."""
    path = trial_files(ws, sweep_id, index)[0]
    try:
        with open(path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - SAID_BYTES))
            tail = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:SAID_CHARS] if lines else ""


def _experiment_for(ws: Workspace, spec: SweepSpec, parent_id: str, path: Path) -> str:
    from upstack.services.tree import add_node

    names = ", ".join(p.name for p in spec.parameters)
    why = f"A {spec.method} sweep over {names} ({path.name}): which setting works best, side by side."
    return add_node(ws, "experiment", spec.name, why=why, under=parent_id).id


def start_sweep(ws: Workspace, path: Path, *, under: str | None, jobs: int = 1, max_failures: int | None = None,
                gpus: list[str] | None = None, on_event: Listener | None = None) -> SweepState:
    state, _ = prepare_sweep(ws, path, under=under, jobs=jobs)
    return run_sweep(ws, state, jobs=jobs, max_failures=max_failures, gpus=gpus, on_event=on_event)


def resume_sweep(ws: Workspace, ref: str, *, jobs: int | None = None, max_failures: int | None = None,
                 retry_failed: bool = False, gpus: list[str] | None = None,
                 on_event: Listener | None = None) -> SweepState:
    """Run what the sweep ``ref`` did not finish; ``jobs`` and ``gpus`` default to what it ran with."""
    state = sweep_state.find(ws, ref)
    gpus = gpus if gpus is not None else state.gpus
    return run_sweep(ws, state, jobs=jobs or (len(gpus) if gpus and gpus != state.gpus else state.jobs),
                     max_failures=max_failures, retry_failed=retry_failed, gpus=gpus, on_event=on_event)


# -- the loop -----------------------------------------------------------------------------------


def launch_argv(command: list[str] | tuple[str, ...], params: dict[str, Any], arguments: str = "flags") -> list[str]:
    """A trial's command as it is started: a bare ``python`` is the Python upstack runs in."""
    argv = trial_argv(command, params, arguments)
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


def run_sweep(ws: Workspace, state: SweepState, *, jobs: int = 1, max_failures: int | None = None,
              retry_failed: bool = False, gpus: list[str] | None = None,
              on_event: Listener | None = None) -> SweepState:
    """Run the trials of ``state`` that have not finished, ``jobs`` at a time; return the state.

    With ``gpus`` (device ids), each running trial sees one of them as CUDA_VISIBLE_DEVICES: the
    trial in the k-th of the ``jobs`` places gets ``gpus[k % len(gpus)]``.

    A trial that fails is recorded and the sweep goes on, unless ``max_failures`` trials failed in
    this sweep (then no more start). SIGTERM or Ctrl-C stops the running trials (each gets SIGTERM,
    so its run ends as interrupted), saves the state and raises UpstackError saying how to resume.
    """
    if jobs < 1:
        raise BadInput("-j/--jobs must be at least 1")
    if gpus is not None and (not gpus or not all(g.strip() for g in gpus)):
        raise BadInput("--gpus takes device ids separated by commas, e.g. 0,1,2,3")
    notify = on_event or (lambda event: None)
    with sweep_state.holding_lock(ws, state.id):
        state = sweep_state.load(ws, state.id)  # as saved, now that no one else runs it
        state.jobs, state.gpus = jobs, gpus
        _reclaim(ws, state)
        todo = [t for t in state.trials
                if t.status in ("pending", "interrupted") or (retry_failed and t.status == "failed")]
        if todo:
            _check_program(state)
        state.message = ""
        sweep_state.save(ws, state)
        running: dict[int, subprocess.Popen[bytes]] = {}
        places: dict[int, int] = {}  # trial index -> the place (0 .. jobs-1) it runs in: its GPU
        failures = 0
        with _stop_signals() as stop, _no_orphans_on_error(running):
            while (todo and not stop.requested) or running:
                if stop.requested:
                    notify(SweepEvent("stopping", state))
                    _stop_all(ws, state, running, stop)
                    break
                while todo and len(running) < jobs and (max_failures is None or failures < max_failures):
                    trial = todo.pop(0)
                    places[trial.index] = min(set(range(jobs)) - set(places.values()))
                    device = gpus[places[trial.index] % len(gpus)] if gpus else None
                    running[trial.index] = _launch(ws, state, trial, device)
                    notify(SweepEvent("started", state, trial))
                ended = [index for index, process in running.items() if process.poll() is not None]
                for index in ended:
                    places.pop(index)
                    trial = _ended(ws, state, index, running.pop(index), stopping=False)
                    failures += trial.status == "failed"
                    notify(SweepEvent("ended", state, trial))
                if max_failures is not None and failures >= max_failures and todo and not running:
                    state.message = f"stopped after {failures} failed trials (--max-failures {max_failures})"
                    break
                if not ended and running:
                    time.sleep(POLL_SECONDS)
        stopped = stop.requested and not state.complete  # (a signal after the last trial ended stops nothing)
        if stopped:
            state.message = f"stopped by {stop.signal_name}"
        sweep_state.save(ws, state)
        if stopped:
            done = sum(t.status == "finished" for t in state.trials)
            raise UpstackError(f"sweep {state.short} stopped by {stop.signal_name}: {done} of {len(state.trials)} "
                               f"trials finished; `upstack sweep resume {state.short}` runs the rest")
    return state


def _launch(ws: Workspace, state: SweepState, trial: TrialState, device: str | None) -> subprocess.Popen[bytes]:
    log_path, runs_path = trial_files(ws, state.id, trial.index)
    env = trial_environment(SweepTrial(sweep_id=state.short, name=state.name, index=trial.index,
                                       params=trial.params, node=state.node_id, runs_file=str(runs_path)))
    env["UPSTACK_HOME"] = str(ws.home)  # the sweep's workspace, whether --home or the variable named it
    if ws.db_url:
        env["UPSTACK_DB"] = ws.db_url
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = device.strip()
    argv = launch_argv(state.spec["command"], trial.params, state.spec.get("arguments", "flags"))
    # Said running before it starts: a sweep killed between the start and the next line leaves a trial
    # its resume looks for (by its environment) rather than one it thinks never ran.
    trial.status, trial.pid, trial.exit_code = "running", None, None
    trial.attempts += 1
    trial.started_at, trial.ended_at = now_iso(), None
    sweep_state.save_trial(ws, state, trial)
    with open(log_path, "ab") as log:
        log.write(f"--- attempt {trial.attempts}, {now_iso()}: {' '.join(argv)}\n".encode())
        log.flush()
        # No shell: each parameter is one argument. A session of its own: the terminal's Ctrl-C
        # reaches the sweep only, which stops each trial (and the workers it started) with SIGTERM.
        try:
            process = subprocess.Popen(argv, cwd=state.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:  # not executable, a bad interpreter line: every trial would fail the same way
            trial.status, trial.attempts, trial.started_at = "pending", trial.attempts - 1, None
            sweep_state.save_trial(ws, state, trial)
            raise BadInput(f"cannot start the sweep's command {argv[0]!r}: {exc.strerror or exc}") from None
    trial.pid = process.pid
    sweep_state.save_trial(ws, state, trial)
    return process


def _ended(ws: Workspace, state: SweepState, index: int, process: subprocess.Popen[bytes], *,
           stopping: bool) -> TrialState:
    trial = state.trials[index]
    code = process.returncode
    trial.exit_code = code
    trial.status = "finished" if code == 0 else "interrupted" if stopping else "failed"
    trial.ended_at, trial.pid = now_iso(), None
    trial.run_ids = _reported_runs(ws, state.id, index, trial.run_ids)
    sweep_state.save_trial(ws, state, trial)
    return trial


def _reported_runs(ws: Workspace, sweep_id: str, index: int, known: list[str]) -> list[str]:
    _, runs_path = trial_files(ws, sweep_id, index)
    try:
        lines = runs_path.read_text(encoding="utf-8").split()
    except OSError:
        lines = []
    return list(dict.fromkeys([*known, *lines]))


def _stop_all(ws: Workspace, state: SweepState, running: dict[int, subprocess.Popen[bytes]],
              stop: _Stop) -> None:
    """SIGTERM to every running trial's process group; wait for each (a second signal, or the grace
    running out, kills them); each is then interrupted."""
    for process in running.values():
        _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while any(p.poll() is None for p in running.values()):
        if stop.count > 1 or time.monotonic() > deadline:
            for process in running.values():
                _signal_group(process.pid, signal.SIGKILL)
        time.sleep(POLL_SECONDS)
    for index, process in list(running.items()):
        _ended(ws, state, index, process, stopping=True)
        running.pop(index)


@contextlib.contextmanager
def _no_orphans_on_error(running: dict[int, subprocess.Popen[bytes]]) -> Iterator[None]:
    """On an error in the loop itself (a state file the disk refuses), the running trials are sent
    SIGTERM as the sweep goes: the state still says they run, and a resume takes it from there."""
    try:
        yield
    except BaseException:
        for process in running.values():
            _signal_group(process.pid, signal.SIGTERM)
        raise


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _check_program(state: SweepState) -> None:
    program = launch_argv(state.spec["command"], {})[0]
    found = shutil.which(program, path=os.environ.get("PATH")) if os.sep not in program else None
    if found is None and not (Path(state.cwd) / program).is_file():
        raise BadInput(f"cannot run the sweep's command: no program {program!r} (on PATH or in {state.cwd})")


# -- a sweep killed outright: its trials may live on --------------------------------------------


def _reclaim(ws: Workspace, state: SweepState) -> None:
    """Trials the state says are running belong to a sweep process that died (its lock is ours now).
    One still alive is stopped as a Ctrl-C would have stopped it. Then each whose last run finished
    (it ran to its end after the sweep died) is finished; the others are interrupted, to run again."""
    orphans = [t for t in state.trials if t.status == "running"]
    for trial in orphans:
        if trial.pid is not None and _is_trial_process(trial.pid, state.short, trial.index):
            pids = [trial.pid]
        else:  # killed before it said which pid the trial got (or the pid is another's now)
            pids = _trial_processes(state.short, trial.index)
        for pid in pids:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(process_alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                for pid in pids:
                    _signal_group(pid, signal.SIGKILL)
            time.sleep(POLL_SECONDS)
    if not orphans:
        return
    from upstack.services.runs import get_run

    ws.ingest()  # what their runs wrote after the sweep died
    for trial in orphans:
        trial.run_ids = _reported_runs(ws, state.id, trial.index, trial.run_ids)
        last = None
        if trial.run_ids:
            with contextlib.suppress(NotFound):
                last = get_run(ws, trial.run_ids[-1]).status
        trial.status = "finished" if last == "finished" else "interrupted"
        trial.pid, trial.exit_code, trial.ended_at = None, None, now_iso()




def _trial_processes(sweep_id: str, index: int) -> list[int]:
    """The processes (on Linux: from /proc) whose environment says they run this trial, that lead
    their own session (the trial itself, not a worker it started)."""
    found = []
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit() and _is_trial_process(int(name), sweep_id, index, missing_proc=False):
                with contextlib.suppress(OSError):
                    if os.getsid(int(name)) == int(name):
                        found.append(int(name))
    return found


def _is_trial_process(pid: int, sweep_id: str, index: int, *, missing_proc: bool = True) -> bool:
    """Whether ``pid`` is still that trial (not a new process that took its number): its environment
    names the sweep and the trial. Where /proc is missing, a live pid is taken to be it."""
    if not process_alive(pid):
        return False
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except FileNotFoundError:
        return missing_proc and not Path("/proc/self").exists()
    except OSError:
        return False
    prefix = SWEEP_VARIABLE.encode() + b"="
    for item in environ:
        if item.startswith(prefix):
            with contextlib.suppress(ValueError):
                data = json.loads(item[len(prefix):])
                return bool(data.get("id") == sweep_id and data.get("trial") == index)
    return False


# -- stopping on a signal -----------------------------------------------------------------------


class _Stop:
    """A signal handler that only counts (a handler runs between two bytecodes of the loop: it must
    take no lock); the loop looks at the count every POLL_SECONDS."""

    def __init__(self) -> None:
        self.count = 0
        self.signal_name = ""

    @property
    def requested(self) -> bool:
        return self.count > 0

    def __call__(self, signum: int, frame: Any) -> None:
        self.count += 1
        self.signal_name = self.signal_name or signal.Signals(signum).name


@contextlib.contextmanager
def _stop_signals() -> Iterator[_Stop]:
    """SIGTERM and SIGINT (and SIGHUP), while the sweep runs, ask it to stop (in the main thread;
    elsewhere the caller's own handling stands)."""
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    # SIGHUP too (the terminal closed), unless it is ignored already (nohup).
    hup = [signal.SIGHUP] if signal.getsignal(signal.SIGHUP) is signal.SIG_DFL else []
    before = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT, *hup)}
    try:
        yield stop
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


# -- reading back -------------------------------------------------------------------------------


def list_sweeps(ws: Workspace) -> list[dict[str, Any]]:
    """Every sweep, newest first: its name, node, status (running, done, stopped) and counts."""
    return [_summary(ws, state) for state in sweep_state.all_states(ws)]


def _summary(ws: Workspace, state: SweepState) -> dict[str, Any]:
    status = ("running" if sweep_state.is_running(ws, state.id) else "done" if state.complete else "stopped")
    return {"id": state.id, "short": state.short, "name": state.name, "status": status, "node_id": state.node_id,
            "file": state.file, "method": state.spec.get("method"), "created_at": state.created_at,
            "trials": len(state.trials), "counts": state.counts(), "message": state.message}


@dataclass
class SweepView:
    summary: dict[str, Any]
    metric: str | None
    trials: list[dict[str, Any]]  # each: index, status, params, exit_code, runs: [{id, short, status, metric ...}]
    best: dict[str, Any] | None = None  # the trial whose finished run did best on the metric
    logged: list[str] | None = None  # the metrics the runs logged, when none logged the file's metric

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary, "metric": self.metric, "best": self.best, "trial_list": self.trials,
                "metric_not_logged": self.logged is not None, "logged": self.logged}


def _best_trial(rows: list[dict[str, Any]], goal: str | None) -> dict[str, Any] | None:
    """The trial whose last finished run has the best value of the shown metric (by the sweep's goal,
    else the metric's own: a name with acc, reward ... is maximised); ties go to the earlier trial."""
    candidates = []
    for row in rows:
        done = [r for r in row["runs"] if r.get("status") == "finished" and _finite(r.get("best"))]
        if done:
            run = done[-1]
            candidates.append({"index": row["index"], "params": row["params"], "run_id": run["id"],
                               "metric": run["metric"], "value": run["best"], "goal": goal or run["goal"]})
    if not candidates:
        return None
    if candidates[0]["goal"] == "max":
        return max(candidates, key=lambda c: (c["value"], -c["index"]))
    return min(candidates, key=lambda c: (c["value"], c["index"]))


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def show_sweep(ws: Workspace, ref: str) -> SweepView:
    """A sweep's trials, each with its runs (their status and the chosen metric's final and best)."""
    from upstack.services.runs import get_run

    state = sweep_state.find(ws, ref)
    metric = state.spec.get("metric")
    rows = []
    logged: set[str] = set()  # every metric key the runs have, to name them when the file's metric is none
    for trial in state.trials:
        runs: list[dict[str, Any]] = []
        for run_id in _reported_runs(ws, state.id, trial.index, trial.run_ids):
            try:
                info = get_run(ws, run_id)
            except NotFound:
                runs.append({"id": run_id, "status": "not ingested yet"})
                continue
            logged.update(m.key for m in info.metrics)
            shown = next((m for m in info.metrics if m.key == metric), None) if metric else \
                (info.metrics[0] if info.metrics else None)
            goal = state.spec.get("goal") or (shown.goal if shown else None)
            best = (shown.max if goal == "max" else shown.min) if shown else None
            runs.append({"id": info.id, "short": info.short, "status": info.status,
                         "metric": shown.key if shown else metric, "goal": goal,
                         "final": shown.last if shown else None, "best": best})
        rows.append({"index": trial.index, "status": trial.status, "params": trial.params,
                     "exit_code": trial.exit_code, "pid": trial.pid, "attempts": trial.attempts, "runs": runs,
                     "log": str(trial_files(ws, state.id, trial.index)[0])})
    missing = bool(metric and logged and metric not in logged)  # a typo in the file's metric: say so
    return SweepView(_summary(ws, state), metric, rows, _best_trial(rows, state.spec.get("goal")),
                     sorted(logged) if missing else None)


# -- one trial, for a scheduler's job array -----------------------------------------------------


def trial_command(path: Path, index: int, *, under: str | None) -> tuple[list[str], dict[str, str]]:
    """Trial ``index`` of the sweep file at ``path``: its command and its environment, for a job
    array to run (``upstack sweep trial``). No state, no database: the runs are grouped by the node
    ``under`` (checked when they are ingested) and tagged with the file's key."""
    spec = read_spec(path)
    found = trials(spec)
    if not 0 <= index < len(found):
        raise BadInput(f"{path.name} has trials 0 to {len(found) - 1}; there is no trial {index}")
    trial = found[index]
    env = trial_environment(SweepTrial(sweep_id=spec.key, name=spec.name, index=index, params=trial.params,
                                       node=under))
    return launch_argv(spec.command, trial.params, spec.arguments), env
