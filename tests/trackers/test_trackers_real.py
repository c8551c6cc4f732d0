"""`upstack import mlflow|tensorboard` of histories the real libraries write here and now: MLflow's
SQLite store and file store (mlflow-skinny, with sqlalchemy and alembic for the database), and a
TensorBoard logdir (tensorboardX's writer; read with TensorBoard's own loader), on both engines.

These writers are not in `[test]` (about 165 MB more): the README's test command leaves this folder out
(tests/conftest.py), and `.ci/run` installs `.[trackers-test]` and runs it by name, where a missing library
fails the step. Each writer runs in a process of its own, as a training script would.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CLI, assert_refused_unchanged
from tracker_checks import check_mlflow_history
from upstack import Workspace
from upstack.services import runs as run_service
from upstack.services.jsondump import dump_tables

HERE = Path(__file__).resolve().parent
START = 1_767_225_600.0  # the writers' first point's wall time
_NEEDED = ("mlflow", "sqlalchemy", "alembic", "tensorboard", "tensorboardX")


def test_the_writers_are_installed() -> None:
    missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
    assert not missing, f"needs {', '.join(missing)}: pip install -e '.[trackers-test]'"


def _write(script: str, folder: Path, *args: str, **env: str) -> None:
    """Run a writer in ``folder`` (whatever it leaves beside its target stays in the test's folder)."""
    done = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def _same_again(run: CLI, *args: str) -> None:
    """Importing again adds nothing: no table changes."""
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        before = dump_tables(ws.store().db)
    again = json.loads(run.ok("import", *args, "--json"))
    assert again["runs"] == 0 and again["already_present"] > 0 and again["changed_since"] == [], again
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        assert dump_tables(ws.store().db) == before


def test_mlflows_sqlite_store(run: CLI, tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    _write("write_mlflow.py", tmp_path, f"sqlite:///{database}")
    said = run.ok("import", "mlflow", str(database))
    assert "imported 3 runs (107 points) from mlflow" in said, said
    with Workspace(home=run.home, db=run.db_url) as ws:
        check_mlflow_history(ws)
    _same_again(run, str(database))  # the file says what it is


def test_mlflows_file_store(run: CLI, tmp_path: Path) -> None:
    _write("write_mlflow.py", tmp_path, f"file:{tmp_path / 'mlruns'}", MLFLOW_ALLOW_FILE_STORE="true")
    run.ok("import", "mlflow", str(tmp_path / "mlruns"))
    with Workspace(home=run.home, db=run.db_url) as ws:
        check_mlflow_history(ws)
    _same_again(run, "mlflow", str(tmp_path))


def test_a_tensorboard_logdir(run: CLI, tmp_path: Path) -> None:
    logdir = tmp_path / "tb"
    _write("write_tensorboard.py", tmp_path, str(logdir))
    done = json.loads(run.ok("import", "tensorboard", str(logdir), "--json"))
    assert done["runs"] == 2 and done["points"] == 2 * 51 + 1, done  # the hparams' metric: one point
    assert done["not_imported"] == {"histograms": 2, "images": 2}, done
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        found = {r.name: run_service.get_run(ws, r.id) for r in run_service.list_runs(ws)}
        assert sorted(found) == ["lr-0.01", "lr-0.1"]  # add_hparams' folder is part of its run
        for name, lr in (("lr-0.1", 0.1), ("lr-0.01", 0.01)):
            loss = run_service.series(ws, found[name].id, "train/loss")
            assert list(loss.steps) == list(range(50))
            assert list(loss.times) == [START + step for step in range(50)]
            assert list(loss.values) == pytest.approx([lr / (step + 1) for step in range(50)], rel=1e-6)  # float32
            acc = run_service.series(ws, found[name].id, "val/acc")
            assert list(acc.steps) == [49] and math.isnan(acc.values[0])
            assert found[name].status == "finished" and "tensorboard" in found[name].tags
        assert found["lr-0.1"].config == {"lr": 0.1, "optimizer": "sgd", "layers": 2, "tied": True}
        assert found["lr-0.01"].config == {}
        assert list(run_service.series(ws, found["lr-0.1"].id, "hparam/final_loss").values) == pytest.approx([0.002])
    _same_again(run, str(logdir))  # a logdir says what it is too


def test_a_logdir_imported_while_its_job_runs_is_caught_up(run: CLI, tmp_path: Path) -> None:
    logdir = tmp_path / "tb"
    _write("write_tensorboard.py", tmp_path, str(logdir))
    run.ok("import", "tensorboard", str(logdir))
    _write("write_tensorboard.py", tmp_path, str(logdir), "--more")
    said = run.ok("import", "tensorboard", str(logdir))
    assert "imported 0 runs (10 points) from tensorboard, 1 run caught up, 1 already present" in said, said
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        [resumed] = [r for r in run_service.list_runs(ws) if r.name == "lr-0.01"]
        loss = run_service.series(ws, resumed.id, "train/loss")
        assert list(loss.steps) == list(range(60))
        assert list(loss.times) == [START + step for step in range(60)]
    _same_again(run, str(logdir))


def _resumed_file(tmp_path: Path) -> Path:
    """The event file the job lr-0.01 resumed writes (ten more steps), written to a logdir of its own."""
    elsewhere = tmp_path / "resumed"
    _write("write_tensorboard.py", tmp_path, str(elsewhere), "--more")
    [file] = (elsewhere / "lr-0.01").glob("events.out.tfevents.*")
    return file


def test_a_file_gained_in_the_same_second_whose_name_sorts_first_is_the_same_run(run: CLI, tmp_path: Path) -> None:
    """The job resumed in the second it was opened, on a host whose name sorts first: by name its file
    would be the run's first, and the run another run. Order is the order the files were opened."""
    logdir = tmp_path / "tb"
    _write("write_tensorboard.py", tmp_path, str(logdir))
    run.ok("import", "tensorboard", str(logdir))
    [first] = (logdir / "lr-0.01").glob("events.out.tfevents.*")
    second = "events.out.tfevents." + first.name.split(".")[3] + ".-other-node"  # no host name starts with "-"
    _resumed_file(tmp_path).rename(logdir / "lr-0.01" / second)
    assert sorted(f.name for f in (logdir / "lr-0.01").iterdir()) == [second, first.name]
    said = run.ok("import", "tensorboard", str(logdir))
    assert "imported 0 runs (10 points) from tensorboard, 1 run caught up, 1 already present" in said, said
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        [resumed] = [r for r in run_service.list_runs(ws) if r.name == "lr-0.01"]
        assert list(run_service.series(ws, resumed.id, "train/loss").steps) == list(range(60))
    _same_again(run, str(logdir))


def test_a_first_file_written_over_is_another_run_never_half_imported(run: CLI, tmp_path: Path) -> None:
    """tensorboardX opening a file in the second the run's first was opened writes over it (its name is
    the second and the host): the run's first points are gone at the source. What the folder holds now is
    another writer's file: imported as a run of its own, the one imported before kept whole."""
    logdir = tmp_path / "tb"
    _write("write_tensorboard.py", tmp_path, str(logdir))
    run.ok("import", "tensorboard", str(logdir))
    [first] = (logdir / "lr-0.01").glob("events.out.tfevents.*")
    _resumed_file(tmp_path).replace(first)
    said = run.ok("import", "tensorboard", str(logdir))
    assert "imported 1 run (10 points) from tensorboard, 1 already present" in said, said
    assert not (run.home / "journal" / "rejected.jsonl").exists()
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        runs = sorted((r for r in run_service.list_runs(ws) if r.name == "lr-0.01"), key=lambda r: r.started_at)
        assert [list(run_service.series(ws, r.id, "train/loss").steps) for r in runs] == \
            [list(range(50)), list(range(50, 60))]
    _same_again(run, str(logdir))


def test_two_jobs_opened_in_one_second_on_one_host_are_two_runs(run: CLI, tmp_path: Path) -> None:
    """Two logdirs, each its own run folder, whose first files have one name (tensorboardX's: the second
    and the host): told apart by when each file was opened, never one taken for the other."""
    _write("write_tensorboard.py", tmp_path, str(tmp_path / "tb"))
    [first] = (tmp_path / "tb" / "lr-0.01").glob("events.out.tfevents.*")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first.rename(tmp_path / "a" / first.name)
    _resumed_file(tmp_path).rename(tmp_path / "b" / first.name)
    run.ok("import", "tensorboard", str(tmp_path / "a"))
    said = run.ok("import", "tensorboard", str(tmp_path / "b"))
    assert "imported 1 run (10 points) from tensorboard, 0 already present" in said, said
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        found = {r.name: r.id for r in run_service.list_runs(ws)}
        assert sorted(found) == ["a", "b"]
        assert list(run_service.series(ws, found["b"], "train/loss").steps) == list(range(50, 60))


@pytest.mark.parametrize(("damage", "message"), [("flip", "damaged or cut-short record at byte"),
                                                 ("cut", "damaged or cut-short record at byte")])
def test_a_damaged_event_file_is_one_line_and_imports_nothing(run: CLI, tmp_path: Path, damage: str,
                                                               message: str) -> None:
    logdir = tmp_path / "tb"
    _write("write_tensorboard.py", tmp_path, str(logdir))
    [file] = sorted((logdir / "lr-0.01").glob("events.out.tfevents.*"))  # read after lr-0.1 is read whole
    data = bytearray(file.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[-3:]
    file.write_bytes(bytes(data))
    assert_refused_unchanged(run, ["import", "tensorboard", str(logdir)], message)


@pytest.mark.parametrize("wall_time", [float("nan"), float("inf"), 1e300], ids=["nan", "inf", "past-year-9999"])
def test_a_tensorboard_event_with_no_time_is_refused_in_one_line(run: CLI, tmp_path: Path, wall_time: float) -> None:
    """Found (medium): a TensorBoard event file whose scalar event's wall_time was NaN, between good ones, was
    imported with that time as the point's (the run's first and last times, checked, skip a NaN): the run's
    chart then answered 500 (JSON holds no NaN), and `upstack sync` could never send the run (a team server
    refuses such a time). Held: an infinite or too-late one was refused (it became the run's last time).
    Fixed: each point's time is checked as it is read (interop/tensorboard), in one line."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(tmp_path / "logs" / "run1"))
    for step, at in enumerate([1.7e9, wall_time, 1.7e9 + 2]):  # its first and last are fine
        scalar = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag="loss", simple_value=1.0)])
        writer.add_event(event_pb2.Event(wall_time=at, step=step, summary=scalar))
    writer.close()
    assert_refused_unchanged(run, ["import", "tensorboard", str(tmp_path / "logs")], "out of range")
