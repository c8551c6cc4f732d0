"""Resuming a pre-empted run: the same run goes on, its series continue, its result is revised."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import upstack
from conftest import CLI, script_env
from upstack.errors import BadInput, NotFound
from upstack.services import runs as run_service
from upstack.workspace import Workspace

TRAIN = """
    import sys
    import upstack

    run = upstack.run("pre-empted", capture="none", config={"lr": 3e-4})  # UPSTACK_RESUME: no code for it
    print(run.id, flush=True)
    first = run._step + 1
    for number in range(first, first + int(sys.argv[1])):
        run.log({"loss": float(number), "acc": number / 2})
        if number == first + 2_000:
            print("ready", flush=True)  # the test kills it from here on
    run.finish()
    print("done", flush=True)
"""


def _env(ws: Workspace, **extra: str) -> dict[str, str]:
    return script_env(ws, **{"UPSTACK_RESUME": "auto", **extra})


def _train(tmp_path: Path, ws: Workspace, steps: int, **env: str) -> subprocess.Popen[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(TRAIN))
    return subprocess.Popen([sys.executable, str(script), str(steps)], env=_env(ws, **env),
                            stdout=subprocess.PIPE, text=True)


def _revisions(ws: Workspace, entry_id: str) -> int:
    return int(ws.store().db.scalar("SELECT COUNT(*) FROM revisions WHERE entry_id = ?", (entry_id,)))


@pytest.mark.parametrize("ingest_between", [False, True], ids=["folder-kept", "folder-retired"])
def test_a_run_killed_by_sigterm_goes_on_when_resumed(workspace: Workspace, tmp_path: Path,
                                                      ingest_between: bool) -> None:
    killed = _train(tmp_path, workspace, 10**9)
    assert killed.stdout is not None
    run_id = killed.stdout.readline().strip()
    assert killed.stdout.readline().strip() == "ready"
    killed.terminate()  # Slurm's pre-emption
    assert killed.wait() == -signal.SIGTERM
    killed.stdout.close()
    if ingest_between:  # the workspace takes the interrupted run in and retires its folder
        workspace.ingest()
        info = run_service.get_run(workspace, run_id)
        assert info.status == "interrupted"
        assert not (workspace.home / "runs" / run_id).exists()
        before = info.metrics[0].count
    resumed = _train(tmp_path, workspace, 500, UPSTACK_RUN_ID=run_id)  # the requeued job, same script
    out, _ = resumed.communicate()
    assert resumed.returncode == 0, out
    assert out.split() == [run_id, "done"]
    workspace.ingest()
    info = run_service.get_run(workspace, run_id)
    assert info.status == "finished" and info.error == ""
    loss = run_service.series(workspace, run_id, "loss")
    total = len(loss)
    # Every point once, in order: the steps go on from the last one the killed process logged.
    assert list(loss.steps) == list(range(total)) and list(loss.values) == [float(s) for s in range(total)]
    assert total > 2_000 + 500
    if ingest_between:
        assert total == before + 500
    assert list(run_service.series(workspace, run_id, "acc").steps) == list(range(total))
    (resumed_at,) = [i for i in info.items if i.kind == "resume"]  # kept on the run: when, where, from which step
    assert resumed_at.data["host"] and resumed_at.data["at"] and resumed_at.data["step"] >= 2_000
    (found,) = [e for e in run_service.list_runs(workspace) if e.id == run_id]
    assert found.config == {"lr": 3e-4}
    entries = workspace.store().db.query("SELECT id FROM entries WHERE kind = 'result'")
    assert [e["id"] for e in entries] == [run_id]  # one result entry ...
    # ... revised when the resumed run ended, if the store had taken in how the first attempt ended
    assert _revisions(workspace, run_id) == (2 if ingest_between else 1)


SIGTERM_MID_LOG = """
    import os
    import signal
    import upstack

    run = upstack.run("pre-empted", capture="none")
    print(run.id, flush=True)
    for number in range(5):
        run.log({"loss": float(number)})
    ticking = run._clock

    def clock():  # called by log() after it chose the step, before its values are in
        os.kill(os.getpid(), signal.SIGTERM)  # the handler ends the run right there
        return ticking()

    run._clock = clock
    run.log({"loss": 5.0})
    print("not reached", flush=True)
"""


def test_a_sigterm_before_a_steps_values_are_in_does_not_take_the_step(workspace: Workspace,
                                                                         tmp_path: Path) -> None:
    from upstack.formats.rundir import heartbeat_step

    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(SIGTERM_MID_LOG))
    killed = subprocess.run([sys.executable, str(script)], env=_env(workspace), capture_output=True, text=True)
    assert killed.returncode == -signal.SIGTERM, killed.stderr
    run_id = killed.stdout.split()[0]
    assert "not reached" not in killed.stdout
    assert heartbeat_step(workspace.home / "runs" / run_id) == 4  # the last step whose values were in
    with upstack.run(home=workspace.home, db=workspace.db_url, resume=run_id) as again:
        again.log({"loss": 5.0})
    workspace.ingest()
    loss = run_service.series(workspace, run_id, "loss")
    assert list(loss.steps) == [0, 1, 2, 3, 4, 5] and list(loss.values) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_a_resume_goes_on_after_the_last_step_written_not_the_heartbeats(workspace: Workspace) -> None:
    from upstack.formats.rundir import HEARTBEAT, heartbeat_step

    first = upstack.run("pre-empted", home=workspace.home, db=workspace.db_url, capture="none")
    for number in range(3):
        first.log({"loss": float(number)})
    first.finish("interrupted")
    beat = workspace.home / "runs" / first.id / HEARTBEAT
    fields = beat.read_text().split()
    beat.write_text(" ".join([*fields[:4], "7"]).ljust(159) + "\n")  # a beat ahead of the points written
    assert heartbeat_step(beat.parent) == 7
    with upstack.run(home=workspace.home, db=workspace.db_url, resume=first.id) as again:
        again.log({"loss": 3.0})
    workspace.ingest()
    assert list(run_service.series(workspace, first.id, "loss").steps) == [0, 1, 2, 3]
    (resumed_at,) = [i for i in run_service.get_run(workspace, first.id).items if i.kind == "resume"]
    assert resumed_at.data["step"] == 2


def test_a_folder_whose_points_cannot_be_read_goes_on_from_its_heartbeats_step(workspace: Workspace) -> None:
    from upstack.formats.rundir import METRICS

    first = upstack.run("pre-empted", home=workspace.home, db=workspace.db_url, capture="none")
    first.log({"loss": 1.0}, step=41)
    first.finish("interrupted")
    (workspace.home / "runs" / first.id / METRICS).write_bytes(b"")  # its points lost with its disk
    with upstack.run(home=workspace.home, db=workspace.db_url, resume=first.id) as again:
        again.log({"loss": 0.5})
    workspace.ingest()
    assert list(run_service.series(workspace, first.id, "loss").steps) == [42]


def test_a_crashed_run_is_resumed_in_its_folder(workspace: Workspace, tmp_path: Path) -> None:
    crashed = _train(tmp_path, workspace, 10**9)
    assert crashed.stdout is not None
    run_id = crashed.stdout.readline().strip()
    assert crashed.stdout.readline().strip() == "ready"
    metrics = workspace.home / "runs" / run_id / "metrics.bin"
    while not metrics.exists() or metrics.stat().st_size == 0:  # until its first flush is on disk
        assert crashed.poll() is None
    crashed.kill()  # no chance to say how it ended
    crashed.wait()
    crashed.stdout.close()
    workspace.ingest()
    assert run_service.get_run(workspace, run_id).status == "crashed"  # its process is gone from this machine
    kept = sum(m.count for m in run_service.get_run(workspace, run_id).metrics if m.key == "loss")
    resumed = _train(tmp_path, workspace, 100, UPSTACK_RESUME=run_id[-7:].lower()[::-1])  # a prefix, typed
    out, _ = resumed.communicate()
    assert resumed.returncode == 0 and out.split() == [run_id, "done"]
    workspace.ingest()
    info = run_service.get_run(workspace, run_id)
    assert info.status == "finished"
    steps = list(run_service.series(workspace, run_id, "loss").steps)
    assert steps == sorted(set(steps)) and len(steps) >= kept + 100  # on from the last step, none twice
    assert _revisions(workspace, run_id) == 2


def test_a_run_writing_to_run_dir_is_resumed_from_its_folder_alone(tmp_path: Path, home: Path) -> None:
    scratch = tmp_path / "scratch"
    env = {"UPSTACK_RUN_DIR": str(scratch)}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        first = upstack.run("on-a-compute-node", home=home, capture="none")
        first.log({"loss": 1.0}, step=10)
        first.finish("interrupted")
        again = upstack.run(home=home, resume=first.short)  # never opens the database
        assert not (home / "upstack.db").exists()
        again.log({"loss": 0.5})
        again.finish()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    with Workspace(home=home) as ws:
        ws.store().ingest_runs([scratch])
        series = run_service.series(ws, first.short, "loss")
        assert list(series.steps) == [10, 11] and list(series.values) == [1.0, 0.5]
        assert run_service.get_run(ws, first.short).status == "finished"


def test_resuming_what_cannot_be_resumed_is_one_line(workspace: Workspace) -> None:
    with pytest.raises(NotFound, match="no run 'zzzzzzz' to resume"):
        upstack.run(home=workspace.home, db=workspace.db_url, resume="zzzzzzz")
    live = upstack.run("busy", home=workspace.home, db=workspace.db_url, capture="none")
    try:
        with pytest.raises(BadInput, match=f"run {live.short} is still running on "):
            upstack.run(home=workspace.home, db=workspace.db_url, resume=live.short)
    finally:
        live.finish()
    with pytest.raises(BadInput, match="too short"):
        upstack.run(home=workspace.home, db=workspace.db_url, resume="ab")
    # run.id cut short as a git hash is (a newcomer's habit): the start of a full id is no short id
    with pytest.raises(NotFound, match="a short id is not the start of the full id: pass run.id whole"):
        upstack.run(home=workspace.home, db=workspace.db_url, resume=live.id[:8])
    workspace.ingest()
    with pytest.raises(NotFound, match=f"that is the start of a full id.*{live.short}"):
        run_service.get_run(workspace, live.id[:12])


def test_auto_without_an_id_starts_a_new_run_and_with_a_new_id_starts_that_run(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.ids import new_id

    monkeypatch.delenv("UPSTACK_RUN_ID", raising=False)
    with upstack.run("fresh", home=workspace.home, db=workspace.db_url, capture="none", resume="auto") as run:
        run.log({"loss": 1.0})
    chosen = new_id()
    monkeypatch.setenv("UPSTACK_RUN_ID", chosen)
    with upstack.run("first attempt", home=workspace.home, db=workspace.db_url, capture="none",
                     resume="auto") as named:
        named.log({"loss": 2.0})
    assert named.id == chosen and named.id != run.id
    with upstack.run(home=workspace.home, db=workspace.db_url, resume="auto") as again:
        assert again.id == chosen and again.name == "first attempt"
        again.log({"loss": 3.0})
    workspace.ingest()
    assert list(run_service.series(workspace, chosen, "loss").steps) == [0, 1]


def test_someone_elses_run_is_not_resumed(workspace: Workspace) -> None:
    from upstack.formats.journal import make_record
    from upstack.ids import new_id

    user = new_id()  # someone on the team server this run was pulled from
    run_id = new_id()
    workspace.store().write([
        make_record("run.start", workspace.workspace_id, {
            "run_id": run_id, "name": "theirs", "config": {}, "tags": [], "goals": {},
            "started_at": "2026-01-01T00:00:00.000Z", "by": user}),
        make_record("run.end", workspace.workspace_id, {
            "run_id": run_id, "status": "interrupted", "ended_at": "2026-01-01T01:00:00.000Z"})])
    with pytest.raises(BadInput, match="pulled from a team server"):
        upstack.run(home=workspace.home, db=workspace.db_url, resume=run_id)


def test_run_show_says_when_and_where_a_run_was_resumed(workspace: Workspace, run: CLI) -> None:
    first = upstack.run("pre-empted", home=workspace.home, db=workspace.db_url, capture="none")
    first.log({"loss": 1.0}, step=41)
    first.finish("interrupted")
    with upstack.run(home=workspace.home, db=workspace.db_url, resume=first.id) as again:
        again.log({"loss": 0.5})
    shown = run.ok("run", "show", first.short)
    assert "finished" in shown and re.search(r"\nresumed \d{4}-\d\d-\d\d \d\d:\d\d on \S+, after step 41\n", shown)
    assert "## Resumed" in run.ok("show", first.short)  # in the result entry too
