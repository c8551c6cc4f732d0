"""`upstack sweep` end to end: real trial processes running a small training script that logs through
`upstack.run`, N at a time, failures, a sweep killed (SIGTERM, Ctrl-C, SIGKILL) and resumed, and one
trial run as a Slurm array task would run it, then ingested."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI
from upstack.services import runs as run_service
from upstack.services import tree
from upstack.workspace import Workspace

# The sweep (upstack's own code) starts each trial as `python train.py ...`: the rule in tests/markers.py
# cannot see that in the tests' code, so the module says it.
pytestmark = pytest.mark.multiprocess

TRAIN = """
    import argparse, os, pathlib, sys, time
    import upstack

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--wd", type=float, default=0.0)
    args = parser.parse_args()
    marks = pathlib.Path(os.environ["MARKS"])

    def wait_for(ready, what):
        deadline = time.monotonic() + 120
        while not ready():
            if time.monotonic() > deadline:
                sys.exit(f"gave up waiting for {what}")
            time.sleep(0.02)

    if args.width == 999:
        sys.exit(3)  # fails before it starts a run
    (marks / "running").mkdir(exist_ok=True)
    me = marks / "running" / f"{os.getpid()}"
    me.touch()
    with open(marks / "at-once", "a") as out:
        out.write(f"{len(list((marks / 'running').iterdir()))}\\n")
    with open(marks / "devices", "a") as out:
        out.write(f"{os.environ.get('CUDA_VISIBLE_DEVICES')}\\n")
    if os.environ.get("PAIR"):  # wait for a second trial to be running beside this one
        wait_for(lambda: len(list((marks / "running").iterdir())) >= 2 or (marks / "paired").exists(), "a pair")
        (marks / "paired").touch()
    held = marks / "held"  # HOLD: the first two trials to start hold until the test lets them go
    held.mkdir(exist_ok=True)
    hold = os.environ.get("HOLD") and len(list(held.iterdir())) < 2
    (held / str(os.getpid())).touch()
    with upstack.run("probe", config=args, capture="none") as run:
        for step in range(5):
            run.log({"loss": args.lr / (step + 1), "acc": 0.5 + step / 10}, step=step)
        if args.width == 666:
            me.unlink()
            raise RuntimeError("diverged")
        if hold:
            wait_for(lambda: (marks / "go").exists(), "go")
    me.unlink()
"""


def _setup(tmp_path: Path, home: Path, db_url: str | None, sweep: str, monkeypatch: pytest.MonkeyPatch,
           **env: str) -> tuple[CLI, Path, str, Path]:
    """A workspace with a question, the training script and the sweep file in a folder of their own
    (the sweep's working folder), and the variables the script reads."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    (folder / "sweep.yaml").write_text(textwrap.dedent(sweep))
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MARKS", str(marks))
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with Workspace(home=home, db=db_url) as ws:
        question = tree.add_node(ws, "question", "Which learning rate?", why="Decides the next run.").short
    return CLI(home, db_url), folder / "sweep.yaml", question, marks


def _runs(home: Path, db_url: str | None, **filters: Any) -> list[Any]:
    with Workspace(home=home, db=db_url) as ws:
        ws.ingest()
        return run_service.list_runs(ws, **filters)


GRID = """
    name: lr-width
    command: python train.py
    metric: loss
    parameters:
      lr: [0.5, 0.05]
      width: [16, 32]
"""


def test_a_grid_runs_two_at_a_time_each_trial_a_run_in_one_experiment(
        tmp_path: Path, home: Path, db_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, path, question, marks = _setup(tmp_path, home, db_url, GRID, monkeypatch, PAIR="1")
    result = cli("sweep", "start", str(path), "--under", question, "-j", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("finished") >= 4 and "4 trials: 4 finished" in result.stdout
    # Two at a time: the first two trials waited for each other, and never more than two ran at once.
    assert (marks / "paired").exists()
    assert max(int(n) for n in (marks / "at-once").read_text().split()) == 2
    [summary] = json.loads(cli.ok("sweep", "list", "--json"))
    assert summary["status"] == "done" and summary["counts"]["finished"] == 4
    view = json.loads(cli.ok("sweep", "show", summary["short"], "--json"))
    runs = _runs(home, db_url, under=question)
    assert len(runs) == 4 and {r.status for r in runs} == {"finished"}
    # Every run in the one experiment node the sweep made under the question, tagged with the sweep.
    assert {r.node_id for r in runs} == {view["node_id"]}
    with Workspace(home=home, db=db_url) as ws:
        node = tree.get_node(ws, view["node_id"])
        assert (node.kind, node.title) == ("experiment", "lr-width")
        assert tree.get_node(ws, question).id == node.parent_id
    assert all(r.tags == [f"sweep/{summary['short']}"] for r in runs)
    by_params = {(r.config["lr"], r.config["width"]): r for r in runs}
    assert set(by_params) == {(0.5, 16), (0.5, 32), (0.05, 16), (0.05, 32)}
    for row in view["trial_list"]:
        [shown] = row["runs"]
        run = by_params[(row["params"]["lr"], row["params"]["width"])]
        assert shown["id"] == run.id and shown["status"] == "finished" and row["exit_code"] == 0
        assert shown["metric"] == "loss" and shown["final"] == pytest.approx(row["params"]["lr"] / 5)
        assert shown["best"] == pytest.approx(row["params"]["lr"] / 5)
    # The best trial by the file's metric (loss: lowest); of two equal, the earlier.
    best = view["best"]
    assert (best["index"], best["metric"], best["goal"]) == (2, "loss", "min")
    assert best["params"] == {"lr": 0.05, "width": 16}
    assert best["value"] == pytest.approx(0.01) and best["run_id"] == by_params[(0.05, 16)].id
    text = cli.ok("sweep", "show", summary["short"])
    assert "loss 0.1 (best 0.1)" in text and "lr=0.5 width=16" in text
    assert "best: trial 2  lr=0.05 width=16  loss 0.01" in text
    # Where to look next, with the sweep's node and metric filled in (no seed here: grouped by every key)
    with Workspace(home=home, db=db_url) as ws:
        node = tree.get_node(ws, view["node_id"]).short
    assert (f"next: upstack runs --under {node} --group lr,width; upstack compare --under {node} --sort "
            f"'best(loss)' -n 5; upstack plot --under {node} --group lr,width loss --out lr-width.png") in result.stdout


def test_a_random_sweep_runs_the_trials_plan_shows_one_gpu_each(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sweep = """
        command: python train.py --lr {lr}
        method: random
        count: 3
        seed: 11
        parameters:
          lr: {min: 0.001, max: 0.1, log: true}
          wd: {values: [0.0, 0.01]}
    """
    cli, path, question, marks = _setup(tmp_path, home, None, sweep, monkeypatch, PAIR="1")
    planned = json.loads(cli.ok("sweep", "plan", str(path), "--json"))["trials"]
    assert [t["argv"][2:4] for t in planned] == [["--lr", str(t["params"]["lr"])] for t in planned]
    result = cli("sweep", "start", str(path), "--under", question, "--gpus", "3,5", "--json")  # -j: one per GPU
    assert result.exit_code == 0, result.output
    # The first two ran at once, each with a GPU of its own; the third had the one freed.
    devices = (marks / "devices").read_text().split()
    assert sorted(devices[:2]) == ["3", "5"] and len(devices) == 3 and devices[2] in ("3", "5")
    shown = json.loads(result.stdout)
    assert [t["params"] for t in shown["trial_list"]] == [t["params"] for t in planned]
    runs = _runs(home, None)
    assert sorted((r.config["lr"], r.config["wd"]) for r in runs) == sorted(
        (t["params"]["lr"], t["params"]["wd"]) for t in planned)


def _widths(*widths: int) -> str:
    return f"command: python train.py\nparameters:\n  width: {list(widths)}\n"


def test_failed_trials_are_recorded_and_the_sweep_goes_on(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, path, question, _ = _setup(tmp_path, home, None, _widths(999, 16, 666, 32), monkeypatch)
    result = cli("sweep", "start", str(path), "--under", question, "-j", "2")
    assert result.exit_code == 1 and "2 of 4 trials failed" in result.stderr, result.output
    # Off a terminal, no status line: stderr is the one line.
    assert result.stderr.startswith("upstack: error: ") and result.stderr.count("\n") == 1
    short = json.loads(cli.ok("sweep", "list", "--json"))[0]["short"]
    view = json.loads(cli.ok("sweep", "show", short, "--json"))
    rows = {row["params"]["width"]: row for row in view["trial_list"]}
    assert (rows[999]["status"], rows[999]["exit_code"], rows[999]["runs"]) == ("failed", 3, [])
    assert rows[666]["status"] == "failed" and rows[666]["exit_code"] == 1
    assert [r["status"] for r in rows[666]["runs"]] == ["failed"]  # the run says it failed, with its traceback
    assert "RuntimeError: diverged" in Path(rows[666]["log"]).read_text()
    # The last line a failed trial wrote is shown beside it, as it ends and in `sweep show`: no log to open
    assert "it said: RuntimeError: diverged" in result.stdout
    assert "it said: RuntimeError: diverged" in cli.ok("sweep", "show", short)
    assert all(rows[w]["status"] == "finished" for w in (16, 32))
    assert {r.status for r in _runs(home, None)} == {"failed", "finished"}
    # Resumed: nothing left to run; --retry-failed runs the failed ones again (and they fail again).
    again = cli("sweep", "resume", short)
    assert again.exit_code == 1 and "2 of 4 trials failed" in again.stderr
    assert len(_runs(home, None)) == 3
    cli("sweep", "resume", short, "--retry-failed")
    assert len(_runs(home, None)) == 4  # 666 made a second failed run; 999 makes none
    attempts = {row["params"]["width"]: row["attempts"] for row in json.loads(
        cli.ok("sweep", "show", short, "--json"))["trial_list"]}
    assert attempts == {999: 2, 16: 1, 666: 2, 32: 1}


def test_max_failures_stops_starting_trials(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, path, question, _ = _setup(tmp_path, home, None, _widths(999, 999, 16, 32), monkeypatch)
    result = cli("sweep", "start", str(path), "--under", question, "--max-failures", "2")
    assert result.exit_code == 1 and "stopped after 2 failed trials" in result.stderr, result.output
    [summary] = json.loads(cli.ok("sweep", "list", "--json"))
    assert summary["status"] == "stopped" and summary["counts"] == {
        "pending": 2, "running": 0, "finished": 0, "failed": 2, "interrupted": 0}
    assert _runs(home, None) == []


def _wait(condition: Callable[[], bool], what: str, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process is None or process.poll() is None, f"the sweep ended before {what}: {process.communicate()}"
        assert time.monotonic() < deadline, f"waited two minutes for {what}"
        time.sleep(0.02)


def _run_folders(home: Path) -> list[Path]:
    folder = home / "runs"
    return [p for p in folder.iterdir() if p.is_dir()] if folder.exists() else []


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # ended, not yet reaped


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL", "SIGKILL, trials end meanwhile"])
def test_a_killed_sweep_resumes_and_every_trial_runs_to_completion_once(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    cli, path, question, marks = _setup(tmp_path, home, None, GRID, monkeypatch, HOLD="1")
    process = subprocess.Popen([sys.executable, "-m", "upstack", "sweep", "start", str(path), "--under", question,
                                "-j", "2"], env={**os.environ, "UPSTACK_HOME": str(home), "NO_COLOR": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Two trials are under way (their runs' folders exist), held until the test lets them go.
    _wait(lambda: len(_run_folders(home)) == 2, "two runs to start", process)
    [summary] = json.loads(cli.ok("sweep", "list", "--json"))
    assert summary["status"] == "running"
    busy = cli("sweep", "resume", summary["short"])
    assert busy.exit_code == 1 and "is running already" in busy.stderr
    process.send_signal(getattr(signal, how.split(",")[0]))
    out, err = process.communicate(timeout=120)
    if how.startswith("SIGKILL"):
        assert process.returncode == -signal.SIGKILL
        # Its trials live on. Held, the resumed sweep stops them (their runs end interrupted) and runs
        # them again; let go to their end first, it finds their runs finished and runs them no more.
        if how == "SIGKILL, trials end meanwhile":
            shown = json.loads(cli.ok("sweep", "show", summary["short"], "--json"))["trial_list"]
            pids = [t["pid"] for t in shown if t["status"] == "running"]
            assert len(pids) == 2
            (marks / "go").touch()
            _wait(lambda: all(_gone(pid) for pid in pids), "the trials to end")
    else:
        assert process.returncode == 1, (out, err)
        assert f"stopped by {how}" in err and f"upstack sweep resume {summary['short']}" in err
        stopped = _runs(home, None)
        assert sorted(r.status for r in stopped) == ["interrupted", "interrupted"]  # each run ended cleanly
        assert {r.error for r in stopped} == {"interrupted (SIGTERM)"}
        counts = json.loads(cli.ok("sweep", "list", "--json"))[0]["counts"]
        assert counts == {"pending": 2, "running": 0, "finished": 0, "failed": 0, "interrupted": 2}
    # Resumed (start on the same file again does the same).
    again = (cli("sweep", "start", str(path), "--under", question) if how == "SIGINT"
             else cli("sweep", "resume", summary["short"]))
    assert again.exit_code == 0, again.output
    view = json.loads(cli.ok("sweep", "show", summary["short"], "--json"))
    assert len(json.loads(cli.ok("sweep", "list", "--json"))) == 1
    runs = {r.id: r for r in _runs(home, None)}
    finished_per_trial = []
    for row in view["trial_list"]:
        assert row["status"] == "finished"
        statuses = [runs[r["id"]].status for r in row["runs"]]
        finished_per_trial.append(statuses.count("finished"))
        assert set(statuses) <= {"finished", "interrupted"}, (statuses, Path(row["log"]).read_text())
        assert all(runs[r["id"]].config["lr"] == row["params"]["lr"] for r in row["runs"])
    assert finished_per_trial == [1, 1, 1, 1]  # each trial ran to completion exactly once
    assert len(runs) == (4 if how == "SIGKILL, trials end meanwhile" else 6)
    # No run is lost: every run a trial started is in the store, and each is one of a trial's.
    assert sorted(runs) == sorted(r["id"] for row in view["trial_list"] for r in row["runs"])


def test_a_trial_run_as_a_job_array_task_then_ingested(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, path, question, _ = _setup(tmp_path, home, None, GRID, monkeypatch)
    with Workspace(home=home) as ws:
        experiment = tree.add_node(ws, "experiment", "lr-width on the cluster", under=question).short
    scratch = tmp_path / "scratch"
    for index in ("0", "3"):  # what two array tasks run, on a compute node: no database opened
        subprocess.run([sys.executable, "-m", "upstack", "sweep", "trial", str(path), index, "--under", experiment],
                       env={**os.environ, "UPSTACK_HOME": str(home), "UPSTACK_RUN_DIR": str(scratch)}, check=True)
    assert _runs(home, None) == []
    cli.ok("ingest", str(scratch))
    runs = _runs(home, None, under=experiment)
    assert sorted((r.config["lr"], r.config["width"]) for r in runs) == [(0.05, 32), (0.5, 16)]
    from upstack.services.sweep_spec import read_spec

    assert {tuple(r.tags) for r in runs} == {(f"sweep/{read_spec(path).key}",)}


def test_a_run_in_a_trial_starts_as_light_as_any_run(tmp_path: Path) -> None:
    # The sweep's variable costs a run one JSON read: no sweep file reader, no YAML, no pydantic.
    probe = ("import upstack, sys\nrun = upstack.run('light', capture='none')\nrun.log({'loss': 1.0})\n"
             "run.finish()\nprint(sorted(m for m in sys.modules if m in ('yaml', 'pydantic', 'sqlite3', 'psycopg')"
             " or m in ('upstack.services.sweep', 'upstack.services.sweep_spec', 'upstack.services.sweep_state')))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env["UPSTACK_HOME"] = str(tmp_path / "home")
    env["UPSTACK_SWEEP"] = json.dumps({"id": "s1", "trial": 0, "params": {"lr": 0.1}})
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_a_command_that_cannot_start_is_one_line_and_runs_nothing(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, path, question, _ = _setup(tmp_path, home, None, "command: ./train.py\nparameters: {lr: [0.1]}\n",
                                    monkeypatch)
    result = cli("sweep", "start", str(path), "--under", question)  # a script without its execute bit
    assert result.exit_code == 1 and "cannot start the sweep's command './train.py': Permission denied" in result.stderr
    path.write_text("command: no-such-program-here\nparameters: {lr: [0.1]}\n")
    result = cli("sweep", "start", str(path), "--under", question)
    assert result.exit_code == 1 and "no program 'no-such-program-here'" in result.stderr
    counts = [s["counts"] for s in json.loads(cli.ok("sweep", "list", "--json"))]
    assert counts == [{"pending": 1, "running": 0, "finished": 0, "failed": 0, "interrupted": 0}] * 2
    assert _runs(home, None) == []


def test_a_trial_the_sweep_died_before_naming_is_found_by_its_environment(
        tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.services import sweep_state
    from upstack.services.sweep import prepare_sweep
    from upstack.services.sweep_env import SweepTrial, trial_environment

    cli, path, question, _ = _setup(tmp_path, home, None, GRID, monkeypatch)
    with Workspace(home=home) as ws:
        state, _ = prepare_sweep(ws, path, under=question)
        trial = state.trials[0]
        trial.status, trial.attempts = "running", 1  # as saved just before its process started
        sweep_state.save_trial(ws, state, trial)
    env = trial_environment(SweepTrial(state.short, state.name, 0, trial.params))
    orphan = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(300)"],
                              env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert orphan.stdout is not None and orphan.stdout.readline() == "up\n"
    result = cli("sweep", "resume", state.short)
    assert result.exit_code == 0, result.output
    assert orphan.wait(timeout=60) == -signal.SIGTERM  # stopped before its trial ran again
    orphan.stdout.close()
    view = json.loads(cli.ok("sweep", "show", state.short, "--json"))
    assert [(row["status"], row["attempts"]) for row in view["trial_list"]] == [
        ("finished", 2), ("finished", 1), ("finished", 1), ("finished", 1)]


def test_a_sweep_started_again_after_its_end_says_so_and_a_metric_no_run_logged_is_named(
        tmp_path: Path, home: Path, db_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A newcomer's two slips: the same `sweep start` run twice (the first had finished, so this is a
    new sweep: a line on stderr names the earlier one) and a typo in the file's metric (`sweep show`
    names what the runs did log instead of showing no metric without a word)."""
    one = "name: once\ncommand: python train.py\nmetric: los\nparameters:\n  lr: [0.5]\n"
    cli, path, question, _ = _setup(tmp_path, home, db_url, one, monkeypatch)
    first = cli("sweep", "start", str(path), "--under", question)
    assert first.exit_code == 0, first.output
    assert "1 trial, 1 at a time" in first.stdout and "1 trial: 1 finished" in first.stdout
    assert "warning" not in first.stderr
    earlier = json.loads(cli.ok("sweep", "list", "--json"))[0]["short"]
    again = cli("sweep", "start", str(path), "--under", question)
    assert again.exit_code == 0, again.output
    assert f"sweep {earlier} ran this file under this node to its end already" in again.stderr
    assert len(json.loads(cli.ok("sweep", "list", "--json"))) == 2
    shown = cli.ok("sweep", "show", earlier)
    assert "no run logged 'los', the sweep file's metric; they logged acc, loss" in shown
    view = json.loads(cli.ok("sweep", "show", earlier, "--json"))
    assert view["metric_not_logged"] is True and view["logged"] == ["acc", "loss"]
