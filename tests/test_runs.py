"""Experiment capture end to end: a run's metrics, figures, notes and provenance reach the log."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import upstack
from conftest import CLI, round_trip
from upstack.errors import BadInput
from upstack.ids import short_id
from upstack.services import recall, run_plot, tree
from upstack.services import runs as run_service
from upstack.workspace import Workspace


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


def _env(ws: Workspace, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env.update({"UPSTACK_HOME": str(ws.home), "PYTHONUNBUFFERED": "1", **extra})
    if ws.db_url:
        env["UPSTACK_DB"] = ws.db_url
    return env


def _question(ws: Workspace) -> str:
    project = tree.add_node(ws, "project", "SAE features", why="Features we can trust.")
    return tree.add_node(ws, "question", "Does width 16k saturate?", under=project.id,
                         why="Decides the next sweep.").id


def test_a_run_becomes_a_result_under_its_question(workspace: Workspace, tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    question = _question(workspace)
    cfg = {"lr": 3e-4, "width": 16384, "optim": {"name": "adam", "betas": (0.9, 0.99)}}
    with upstack.run("sae-width-sweep", under=short_id(question), config=cfg, home=workspace.home,
                     db=workspace.db_url, capture="none") as run:
        for step in range(500):
            run.log({"loss": 1.0 / (step + 1), "l0": float(step % 7)}, step=step)
        figure, axes = plt.subplots()
        axes.plot([1, 2, 3], [3, 1, 2])
        run.figure(figure, "Reconstruction loss vs width")
        plt.close(figure)
        run.table([{"feature": 12, "density": 0.01}, {"feature": 7, "density": 0.2}], "Top features")
        run.note("Width 16k looks saturated; expected it at 32k.")
        run.summary(best_loss=0.002, expected="Saturation at 32k.", learned="16k is enough for layer 5.")
    workspace.ingest()  # the run wrote to its folder; a reader takes it in
    info = run_service.get_run(workspace, run.short)
    assert info.status == "finished" and info.node_id == question and info.name == "sae-width-sweep"
    assert info.config["optim"] == {"name": "adam", "betas": [0.9, 0.99]}
    loss = next(m for m in info.metrics if m.key == "loss")
    assert (loss.count, loss.last_step, loss.last, loss.min, loss.max) == (500, 499, 1 / 500, 1 / 500, 1.0)
    entry = recall.show(workspace, run.short)
    assert entry.kind == "result" and entry.id == run.id and entry.node_id == question
    assert entry.meta["expected"] == "Saturation at 32k." and entry.meta["run"] == run.id
    names = sorted(a.filename for a in entry.attachments)
    assert names == ["reconstruction-loss-vs-width.png", "reconstruction-loss-vs-width.svg", "top-features.csv"]
    assert "Width 16k looks saturated" in entry.body and "| loss |" in entry.body
    assert "| optim.name | adam |" in entry.body
    learning = [e for e in recall.timeline(workspace, _filters(), None) if e.kind == "learning"]
    assert [e.title for e in learning] == ["16k is enough for layer 5."]
    assert learning[0].meta["learned_from"] == run.id
    chain = tree.trace_why(workspace, run.short)
    assert [n.title for n in chain.chain][:2] == ["Does width 16k saturate?", "SAE features"]
    points = run_service.series(workspace, run.short, "loss")
    assert list(points.steps) == list(range(500)) and list(points.values) == [1 / (s + 1) for s in range(500)]
    assert not (workspace.home / "runs" / run.id).exists()  # ingested and retired


def _filters() -> Any:
    from upstack.domain.filters import Filters

    return Filters()


def test_non_finite_values_are_kept_and_shown(workspace: Workspace, run: CLI) -> None:
    with upstack.run("nan-run", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.log({"loss": 1.0, "grad": math.inf}, step=0)
        r.log({"loss": math.nan, "grad": -math.inf}, step=1)
        r.log({"loss": 0.5, "grad": 2.0}, step=2)
    workspace.ingest()
    values = run_service.series(workspace, r.short, "loss").values
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2] == 0.5
    info = run_service.get_run(workspace, r.short)
    grad = next(m for m in info.metrics if m.key == "grad")
    assert (grad.min, grad.max, grad.last) == (-math.inf, math.inf, 2.0)
    shown = json.loads(run.ok("run", "show", r.short, "--json"))
    assert {m["key"]: (m["min"], m["max"]) for m in shown["metrics"]}["grad"] == ("-inf", "inf")
    nan_only = upstack.run("all-nan", home=workspace.home, db=workspace.db_url, capture="none")
    nan_only.log({"loss": math.nan})
    nan_only.finish()
    assert "nan" in run.ok("run", "show", nan_only.short)


def test_a_value_that_is_not_a_number_is_dropped_said_once_per_metric(
        workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    """A training loop never dies of a metric: the value goes, the rest of the call is logged, and
    stderr says so once per metric (a None every step would otherwise flood it)."""
    r = upstack.run("lenient", home=workspace.home, db=workspace.db_url, capture="none")
    for step in range(3):
        r.log({"loss": 1.0 / (step + 1), "acc": "high", "n": None, 7: 1.0, "l0": 40 + step}, step=step)
    r.log({"acc": 0.9}, step=3)
    with pytest.raises(BadInput, match="step must be a whole number"):
        r.log({"loss": 1.0}, step=1.5)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="step must fit in 64 bits"):
        r.log({"loss": 1.0, "acc": "x"}, step=1 << 64)
    r.finish()
    said = capsys.readouterr().err.splitlines()
    assert said == [
        f"upstack: run {r.short}: metric 'acc' must be a number, got str 'high'; not logged (said once per "
        "metric; upstack.run(..., strict=True) raises instead)",
        f"upstack: run {r.short}: metric 'n' must be a number, got NoneType None; not logged (said once per "
        "metric; upstack.run(..., strict=True) raises instead)",
        f"upstack: run {r.short}: metric names must be non-empty text, got 7; not logged (said once per "
        "metric; upstack.run(..., strict=True) raises instead)"]
    workspace.ingest()
    assert list(run_service.series(workspace, r.short, "loss").values) == [1.0, 0.5, 1 / 3]
    assert list(run_service.series(workspace, r.short, "l0").values) == [40, 41, 42]
    assert list(run_service.series(workspace, r.short, "acc").steps) == [3]
    assert {m.key for m in run_service.get_run(workspace, r.short).metrics} == {"loss", "l0", "acc"}
    assert run_service.get_run(workspace, r.short).status == "finished"


def test_run_log_as_another_tracker_writes_it_says_how_upstack_takes_it(workspace: Workspace) -> None:
    """MLflow's log_metric("loss", 0.5) written as run.log("loss", 0.5) is named as such (it was read
    as a step: "step must be a whole number, got 0.5"); a float step that is whole (3.0) is step 3."""
    with upstack.run("habits", home=workspace.home, db=workspace.db_url, capture="none") as r:
        with pytest.raises(BadInput, match=re.escape("run.log({'loss': 0.5}), not run.log('loss', 0.5)")):
            r.log("loss", 0.5)  # type: ignore[arg-type]
        with pytest.raises(BadInput, match=re.escape("got str: run.log({'loss': value})")):
            r.log("loss", 5)  # type: ignore[arg-type]
        r.log({"loss": 0.5}, step=3.0)  # type: ignore[arg-type]
        with pytest.raises(BadInput, match="step must be a whole number, got 3.5"):
            r.log({"loss": 0.5}, step=3.5)  # type: ignore[arg-type]
    workspace.ingest()
    assert list(run_service.series(workspace, r.short, "loss").steps) == [3]


def test_init_strict_keeps_the_exception(workspace: Workspace) -> None:
    upstack.init("strict", home=workspace.home, db=workspace.db_url, capture="none", strict=True)
    with pytest.raises(BadInput, match="metric 'acc' must be a number, got str 'high'"):
        upstack.log({"loss": 2.0, "acc": "high"}, step=1)
    upstack.log({"loss": 1.0}, step=2)
    short = upstack.current_run().short
    upstack.finish()
    workspace.ingest()
    assert list(run_service.series(workspace, short, "loss").steps) == [2]  # nothing of the refused call


def test_bad_input_is_refused_at_the_call_and_the_run_goes_on(workspace: Workspace) -> None:
    r = upstack.run("careful", home=workspace.home, db=workspace.db_url, capture="none", strict=True)
    r.log({"loss": 1.0, "acc": 0.1}, step=0)
    with pytest.raises(BadInput, match="metric 'acc' must be a number, got str 'high'"):
        r.log({"loss": 2.0, "acc": "high"}, step=1)
    with pytest.raises(BadInput, match="metric 'loss' must be a number, got NoneType"):
        r.log({"loss": None}, step=1)
    with pytest.raises(BadInput, match="step must be a whole number"):
        r.log({"loss": 1.0}, step=1.5)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="takes a dict"):
        r.log([1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="run.figure\\(\\) takes a matplotlib"):
        r.figure(object(), "what")
    r.log({"loss": 0.5, "acc": 0.9}, step=2)
    r.finish()
    workspace.ingest()
    assert list(run_service.series(workspace, r.short, "loss").values) == [1.0, 0.5]
    assert list(run_service.series(workspace, r.short, "acc").steps) == [0, 2]
    assert run_service.get_run(workspace, r.short).status == "finished"
    with pytest.raises(BadInput, match="has ended"):
        r.log({"loss": 1.0})


def test_an_unknown_node_is_refused_before_the_run_starts(workspace: Workspace) -> None:
    _question(workspace)
    with pytest.raises(upstack.errors.UpstackError, match="no node with id 'zzzzzz'"):
        upstack.run("lost", under="zzzzzz", home=workspace.home, db=workspace.db_url, capture="none")
    assert not list((workspace.home / "runs").glob("*")) if (workspace.home / "runs").exists() else True


def test_a_failed_run_keeps_its_traceback(workspace: Workspace) -> None:
    with pytest.raises(ZeroDivisionError), \
            upstack.run("diverges", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.log({"loss": 1.0})
        1 / 0  # noqa: B018
    workspace.ingest()
    info = run_service.get_run(workspace, r.short)
    assert info.status == "failed" and info.error == "ZeroDivisionError: division by zero"
    entry = recall.show(workspace, r.short)
    (traceback_file,) = [a for a in entry.attachments if a.filename == "traceback.txt"]
    text = workspace.blobs.read(traceback_file.sha256 or "").decode()
    assert "Traceback" in text and "1 / 0" in text
    assert "failed" in entry.title


def test_an_interrupted_run_says_so(workspace: Workspace) -> None:
    with pytest.raises(KeyboardInterrupt), \
            upstack.run("stopped", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.log({"loss": 1.0})
        raise KeyboardInterrupt
    workspace.ingest()
    assert run_service.get_run(workspace, r.short).status == "interrupted"


def test_functional_style_and_an_uncaught_exception_in_a_script(workspace: Workspace, tmp_path: Path) -> None:
    script = _script(tmp_path, """
        import upstack
        upstack.init("functional", config={"seed": 1}, capture="none")
        for step in range(10):
            upstack.log({"loss": 10 - step})
        upstack.note("ten steps")
        if __import__("sys").argv[1:] == ["crash"]:
            raise RuntimeError("boom")
        upstack.finish()
    """)
    ok = subprocess.run([sys.executable, str(script)], env=_env(workspace), capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, str(script), "crash"], env=_env(workspace), capture_output=True,
                         text=True)
    assert bad.returncode == 1 and "RuntimeError: boom" in bad.stderr
    workspace.ingest()
    by_status = {r.status: r for r in run_service.list_runs(workspace)}
    assert set(by_status) == {"finished", "failed"}
    assert by_status["failed"].error == "RuntimeError: boom"
    assert list(run_service.series(workspace, by_status["finished"].short, "loss").steps) == list(range(10))


def test_a_killed_run_loses_at_most_the_last_flush_and_is_marked_crashed(
        workspace: Workspace, tmp_path: Path) -> None:
    script = _script(tmp_path, """
        import sys, time, upstack
        run = upstack.run("doomed", capture="none")
        step = 0
        while True:
            run.log({"loss": float(step)}, step=step)
            if step % 1000 == 0:
                print(step, time.time(), flush=True)
            step += 1
            if step % 100 == 0:
                time.sleep(0.001)
    """)
    process = subprocess.Popen([sys.executable, str(script)], env=_env(workspace, UPSTACK_RUN_FLUSH_SECONDS="0.2"),
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    printed: list[tuple[int, float]] = []
    started = time.time()
    while time.time() - started < 2.5:
        step, at = process.stdout.readline().split()
        printed.append((int(step), float(at)))
    killed_at = time.time()
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stdout.close()
    workspace.ingest()
    (info,) = run_service.list_runs(workspace)
    assert info.status == "crashed"  # same machine, process gone: no need to wait for the heartbeat
    steps = run_service.series(workspace, info.short, "loss")
    assert len(steps) > 0 and list(steps.steps) == list(range(len(steps)))  # intact, in order
    # What was logged more than a flush interval (0.2 s, plus 0.3 s for a busy machine) before
    # the kill is there.
    must_have = max(step for step, at in printed if at <= killed_at - 0.5)
    assert steps.steps[-1] >= must_have
    entry = recall.show(workspace, info.short)
    assert entry.kind == "result" and "crashed" in entry.title


def test_a_run_alive_on_another_machine_is_never_marked_crashed(workspace: Workspace,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.formats.rundir import HEARTBEAT
    from upstack.timeutil import now_iso

    # The run's own ticks would write its heartbeat over the ones written here (a busy machine lets
    # one land between a write and the read after it): an hour between them.
    monkeypatch.setenv("UPSTACK_RUN_FLUSH_SECONDS", "3600")
    monkeypatch.setenv("UPSTACK_RUN_HEARTBEAT_SECONDS", "3600")
    r = upstack.run("elsewhere", home=workspace.home, db=workspace.db_url, capture="none")
    r.log({"loss": 1.0})
    # Pretend the run lives on another host: a fresh heartbeat from a machine we cannot see into.
    beat = r.directory / HEARTBEAT
    beat.write_text(f"{now_iso()} gpu-node-17 other-boot 1\n")
    with Workspace(home=workspace.home, db=workspace.db_url, run_crashed_after=5) as reader:
        reader.ingest()
        assert run_service.get_run(reader, r.short).status == "running"
    beat.write_text("2020-01-01T00:00:00.000000Z gpu-node-17 other-boot 1\n")
    with Workspace(home=workspace.home, db=workspace.db_url, run_crashed_after=5) as reader:
        reader.ingest()
        assert run_service.get_run(reader, r.short).status == "crashed"
    beat.write_text(f"{now_iso()} gpu-node-17 other-boot 1\n")  # it speaks again: not crashed after all
    with Workspace(home=workspace.home, db=workspace.db_url, run_crashed_after=5) as reader:
        reader.ingest()
        assert run_service.get_run(reader, r.short).status == "running"
    r.finish()  # it was alive after all: the end is recorded and the entry revised
    with Workspace(home=workspace.home, db=workspace.db_url) as reader:
        reader.ingest()
        assert run_service.get_run(reader, r.short).status == "finished"
        assert len(recall.history(reader, r.short)) == 2


def test_eight_processes_log_at_once(workspace: Workspace, tmp_path: Path) -> None:
    script = _script(tmp_path, """
        import sys, upstack
        rank = int(sys.argv[1])
        with upstack.run(f"rank-{rank}", config={"rank": rank}, capture="none") as run:
            for step in range(20000):
                run.log({"loss": rank + step / 1e5, "acc": step % 3}, step=step)
                if step % 5000 == 0:
                    run.note(f"rank {rank} at {step}")
    """)
    processes = [subprocess.Popen([sys.executable, str(script), str(rank)], env=_env(workspace),
                                  stderr=subprocess.PIPE, text=True) for rank in range(8)]
    # A reader ingests while they run.
    while any(p.poll() is None for p in processes):
        workspace.ingest()  # taking in while they write
        time.sleep(0.05)
    for process in processes:
        assert process.stderr is not None
        errors = process.stderr.read()
        process.stderr.close()
        assert process.returncode == 0, errors
    workspace.ingest()
    found = run_service.list_runs(workspace)
    assert sorted(r.name for r in found) == [f"rank-{k}" for k in range(8)]
    for info in found:
        rank = info.config["rank"]
        loss = run_service.series(workspace, info.short, "loss")
        assert list(loss.steps) == list(range(20000))
        assert loss.values[123] == rank + 123 / 1e5
        assert info.status == "finished"
        assert recall.show(workspace, info.short).body.count(f"rank {rank} at ") == 4


def test_runs_written_elsewhere_are_ingested_once(workspace: Workspace, tmp_path: Path, run: CLI) -> None:
    from upstack.services.jsondump import dump_tables

    question = _question(workspace)
    scratch = tmp_path / "scratch"
    script = _script(tmp_path, f"""
        import upstack
        with upstack.run("offline", under="{short_id(question)}", capture="none") as run:
            for step in range(3000):
                run.log({{"loss": 1 / (step + 1)}}, step=step)
    """)
    env = _env(workspace, UPSTACK_RUN_DIR=str(scratch))
    env["UPSTACK_HOME"] = str(tmp_path / "unreachable-home")  # the compute node cannot see the log
    subprocess.run([sys.executable, str(script)], env=env, check=True)
    assert not (tmp_path / "unreachable-home" / "upstack.db").exists()
    first = json.loads(run.ok("ingest", str(scratch), "--json"))
    assert first["records"] >= 2 and first["points"] == 3000 and len(first["ended"]) == 1
    before = dump_tables(workspace.store().db)
    again = json.loads(run.ok("ingest", str(scratch), "--json"))
    assert again["records"] == 0 and again["points"] == 0
    assert dump_tables(workspace.store().db) == before
    workspace.ingest()
    (info,) = run_service.list_runs(workspace)
    assert info.node_id == question and info.status == "finished"
    assert (scratch / info.id).is_dir()  # someone else's folder: read, never deleted


def test_cli_lists_filters_compares_and_plots(workspace: Workspace, run: CLI, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    question = _question(workspace)
    made = []
    for lr in (3e-4, 1e-3):
        with upstack.run("sweep", under=question, config={"lr": lr, "width": 16384}, home=workspace.home,
                         db=workspace.db_url, capture="none") as r:
            for step in range(100):
                r.log({"loss": lr * 1000 / (step + 1), "acc": step / 100}, step=step)
        made.append(r)
    listed = json.loads(run.ok("runs", "--json"))
    assert [r["id"] for r in listed] == [made[1].id, made[0].id]
    only = json.loads(run.ok("runs", "--where", "lr=3e-4", "--json"))
    assert [r["id"] for r in only] == [made[0].id]
    assert json.loads(run.ok("runs", "--where", "lr>0.0005", "--where", "width=16384", "--json"))[0]["id"] == made[1].id
    assert json.loads(run.ok("runs", "--under", short_id(question), "--status", "finished", "--json"))
    assert json.loads(run.ok("runs", "--status", "crashed", "--json")) == []
    text = run.ok("compare", made[0].short, made[1].short)
    differs, _, same = text.partition("the same in every run:")
    assert "lr" in differs and "0.0003" in differs and "0.001" in differs and "width" not in differs
    assert same.strip() == "width=16384"  # the config they share is named under the table
    assert "acc" in text and "best 0.99" in text
    out = tmp_path / "loss.png"
    assert run.ok("plot", made[0].short, made[1].short, "loss", "acc", "--out", str(out)).strip() == str(out)
    assert out.read_bytes().startswith(b"\x89PNG")
    bad = run("plot", made[0].short, "nope", "--out", str(out))
    assert bad.exit_code == 1 and "has no metric 'nope'" in bad.stderr
    shown = run.ok("run", "show", made[0].short)
    assert "loss" in shown and "lr = 0.0003" in shown
    assert run("runs", "--where", "lr").exit_code == 1


def test_plot_labels_steps_as_whole_numbers(workspace: Workspace, tmp_path: Path) -> None:
    """Twenty epochs were labelled 0.0, 2.5, 5.0, 7.5 ...: a step is a count, never a fraction."""
    pytest.importorskip("matplotlib")
    with upstack.run("probe", home=workspace.home, db=workspace.db_url, capture="none") as r:
        for step in range(20):
            r.log({"acc": 0.8 + step / 100}, step=step)
    workspace.ingest()
    out = run_plot.plot(workspace, [r.id], ["acc"], tmp_path / "acc.svg")
    texts = re.findall(r"<!-- (.*?) -->", out.read_text())  # matplotlib's SVG names each text it draws
    ticks = texts[:texts.index("step")]
    assert len(ticks) >= 3 and all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks


def test_runs_survive_a_json_round_trip(workspace: Workspace, run: CLI, tmp_path: Path, engine: str,
                                        make_pg_url: Any) -> None:
    with upstack.run("exported", home=workspace.home, db=workspace.db_url, capture="none",
                     config={"lr": 0.1}) as r:
        for step in range(50):
            r.log({"loss": step * 0.5, "odd": math.nan if step % 2 else 1.0}, step=step)
        r.table([{"a": 1}], "numbers")
    workspace.ingest()
    target = round_trip(run, tmp_path, engine, make_pg_url)
    with Workspace(home=target.home, db=target.db_url) as copy:
        assert list(run_service.series(copy, r.short, "loss").values) == [s * 0.5 for s in range(50)]


def test_purging_a_run_removes_what_it_captured(workspace: Workspace, run: CLI) -> None:
    with upstack.run("leaky", home=workspace.home, db=workspace.db_url, capture="none",
                     config={"token_note": "hf_this-is-not-caught-by-any-pattern"}) as r:
        r.log({"loss": 1.0})
    workspace.ingest()
    run.ok("purge", r.short, "--yes")
    info = run_service.get_run(workspace, r.short)
    assert info.config == {} and info.metrics == []


def test_sigterm_ends_a_run_as_interrupted(workspace: Workspace, tmp_path: Path) -> None:
    # A hot loop: the signal lands inside run.log() itself most of the time.
    script = _script(tmp_path, """
        import upstack
        run = upstack.run("pre-empted", capture="none")
        step = 0
        while True:
            run.log({"loss": 1.0, "acc": 0.5, "lr": 3e-4}, step=step)
            step += 1
            if step == 100_000:
                print("ready", flush=True)
    """)
    process = subprocess.Popen([sys.executable, str(script)], env=_env(workspace), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.terminate()
    assert process.wait() == -signal.SIGTERM  # it still dies of the signal, as the scheduler expects
    process.stdout.close()
    workspace.ingest()
    (info,) = run_service.list_runs(workspace)
    assert info.status == "interrupted" and info.error == "interrupted (SIGTERM)"
    series = {key: run_service.series(workspace, info.short, key) for key in ("loss", "acc", "lr")}
    assert len(series["loss"]) >= 100_000
    for key, values in series.items():  # every stored point intact, in order
        assert list(values.steps) == list(range(len(values))), key
        assert set(values.values) == {{"loss": 1.0, "acc": 0.5, "lr": 3e-4}[key]}


def test_a_deleted_result_hides_its_run(workspace: Workspace, run: CLI) -> None:
    with upstack.run("hidden", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.log({"loss": 1.0})
    run.ok("rm", r.short)
    assert json.loads(run.ok("runs", "--json")) == []
    run.ok("restore", r.short)
    assert [x["id"] for x in json.loads(run.ok("runs", "--json"))] == [r.id]


def test_figures_are_in_the_markdown_export(workspace: Workspace, run: CLI, tmp_path: Path) -> None:
    from PIL import Image

    with upstack.run("pictured", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.figure(Image.new("RGB", (4, 3), "red"), "A red square")
    run.ok("export", "--format", "markdown", str(tmp_path / "vault"))
    exported = {p.name: p for p in (tmp_path / "vault").rglob("*") if p.is_file()}
    assert "a-red-square.png" in exported and exported["a-red-square.png"].read_bytes().startswith(b"\x89PNG")
    page = next(p for p in exported.values() if p.suffix == ".md" and "pictured" in p.read_text())
    assert "A red square" in page.read_text()


def test_progress_counts_runs_per_week_and_project(workspace: Workspace, run: CLI) -> None:
    question = _question(workspace)
    for seed in range(3):
        with upstack.run("seeded", under=question, config={"seed": seed}, home=workspace.home,
                         db=workspace.db_url, capture="none") as r:
            r.log({"loss": 1.0})
    (row,) = json.loads(run.ok("progress", "--json"))
    assert (row["project"], row["runs"], row["results"]) == ("SAE features", 3, 3)


@pytest.mark.parametrize("code", [
    # `upstack note`: capture appends to the journal, it never opens the database.
    "from upstack.cli.main import main\nimport sys\nsys.argv = ['upstack', 'note', 'light']\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n",
    # A run that logs and ends: no database, no heavy library.
    "import upstack\nrun = upstack.run('light', capture='none')\nrun.log({'loss': 1.0})\nrun.finish()\n",
])
def test_capture_paths_stay_light(tmp_path: Path, code: str) -> None:
    probe = code + ("import sys\nprint(sorted(m for m in sys.modules if m in ('sqlite3', 'psycopg', 'numpy', "
                    "'pandas', 'matplotlib', 'PIL', 'plotly', 'fastapi', 'rich') or m.startswith('upstack.store.')"
                    " and m not in ('upstack.formats.journal', 'upstack.store.blobs')))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env["UPSTACK_HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_a_duration_reads_as_people_say_it() -> None:
    from upstack.domain.run import format_duration

    # The demo's runs read "finished after 43 min 0 s"; a zero at the end is left unsaid.
    assert [format_duration(s) for s in (0.4, 59, 60, 2580, 2581, 3600, 7800, 25800)] == [
        "0 s", "59 s", "1 min", "43 min", "43 min 1 s", "1 h", "2 h 10 min", "7 h 10 min"]
