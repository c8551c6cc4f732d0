"""`upstack import mlflow`: an mlruns folder written by the real mlflow (tests/fixtures/mlruns, made by
tests/trackers/write_mlflow.py) becomes upstack runs, on both engines, without mlflow installed.
The SQLite tracking store and TensorBoard are tested with their writers in tests/trackers/."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml

from conftest import CLI, assert_refused_unchanged
from tracker_checks import MLRUNS, check_mlflow_history
from upstack import Workspace
from upstack.domain.tracker import iso_from_epoch
from upstack.services import runs as run_service
from upstack.services.jsondump import dump_tables


def _meta(name: str) -> dict[str, object]:
    for path in MLRUNS.glob("*/*/meta.yaml"):
        meta = yaml.safe_load(path.read_text())
        if meta.get("run_name") == name:
            return meta
    raise AssertionError(f"no run {name} in {MLRUNS}")


def test_an_mlruns_folder_becomes_runs_and_importing_again_adds_nothing(run: CLI) -> None:
    said = run.ok("import", "mlflow", str(MLRUNS))
    assert said.strip() == "imported 3 runs (107 points) from mlflow, 0 already present", said
    with Workspace(home=run.home, db=run.db_url) as ws:
        ids = check_mlflow_history(ws)
        wide = run_service.get_run(ws, ids["width-16k"])
        meta = _meta("width-16k")
        assert wide.started_at == iso_from_epoch(int(meta["start_time"]) / 1000)  # type: ignore[call-overload]
        assert wide.ended_at == iso_from_epoch(int(meta["end_time"]) / 1000)  # type: ignore[call-overload]
        before = dump_tables(ws.store().db)
    again = json.loads(run.ok("import", str(MLRUNS), "--json"))  # the folder says what it is
    assert again["runs"] == 0 and again["already_present"] == 3 and again["changed_since"] == []
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        assert dump_tables(ws.store().db) == before
    results = json.loads(run.ok("log", "--kind", "result", "--json"))
    assert {e["id"] for e in results} == set(ids.values())  # each run has its result entry, as a run of upstack's


def test_imported_runs_file_under_the_node_given(run: CLI, tmp_path: Path) -> None:
    node = run.ok("add", "agenda", "SAE widths").split()[0]
    parent = tmp_path / "history"
    shutil.copytree(MLRUNS, parent / "mlruns")
    run.ok("import", "mlflow", str(parent), "--under", node)  # the folder holding mlruns/ is found too
    listed = json.loads(run.ok("runs", "--under", node, "--json"))
    assert sorted(r["name"] for r in listed) == ["diverged", "killed", "width-16k"]


def test_without_under_imported_runs_file_under_the_focus(run: CLI) -> None:
    node = run.ok("add", "agenda", "SAE widths").split()[0]
    run.ok("focus", node)
    run.ok("import", "mlflow", str(MLRUNS))
    listed = json.loads(run.ok("runs", "--under", node, "--json"))
    assert sorted(r["name"] for r in listed) == ["diverged", "killed", "width-16k"]


def _run_folder(mlruns: Path, name: str) -> Path:
    [found] = [p.parent for p in mlruns.glob("*/*/meta.yaml") if yaml.safe_load(p.read_text())["run_name"] == name]
    return found


def test_a_run_that_went_on_since_its_import_is_caught_up(run: CLI, tmp_path: Path) -> None:
    copy = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, copy)
    run.ok("import", "mlflow", str(copy))
    killed = _run_folder(copy, "killed")
    with open(killed / "metrics" / "loss", "a") as handle:  # it was resumed, logged on, and ended
        handle.write("1767225602000 1.25 2\n")
    meta = yaml.safe_load((killed / "meta.yaml").read_text())
    ended = int(meta["start_time"]) + 5000
    (killed / "meta.yaml").write_text(yaml.safe_dump({**meta, "status": 3, "end_time": ended}))
    said = run.ok("import", "mlflow", str(copy))
    assert said.strip() == "imported 0 runs (1 point) from mlflow, 1 run caught up, 2 already present", said
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        [caught] = [r for r in run_service.list_runs(ws) if r.name == "killed"]
        caught = run_service.get_run(ws, caught.id)
        assert caught.status == "finished" and caught.error == ""
        assert caught.ended_at == iso_from_epoch(ended / 1000)
        loss = run_service.series(ws, caught.id, "loss")
        assert list(loss.steps) == [0, 1, 2] and list(loss.values) == [2.0, 1.5, 1.25]
        result = json.loads(run.ok("show", caught.id, "--json"))
        assert "finished" in result["title"], result["title"]  # its result entry says so too
        before = dump_tables(ws.store().db)
    again = json.loads(run.ok("import", "mlflow", str(copy), "--json"))
    assert again["updated"] == [] and again["already_present"] == 3
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        assert dump_tables(ws.store().db) == before


def test_a_run_with_fewer_points_than_imported_is_named_and_kept(run: CLI, tmp_path: Path) -> None:
    copy = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, copy)
    run.ok("import", "mlflow", str(copy))
    loss = _run_folder(copy, "width-16k") / "metrics" / "loss"
    loss.write_text("".join(loss.read_text().splitlines(keepends=True)[:10]))
    result = run("import", "mlflow", str(copy))
    assert result.exit_code == 0 and "0 runs" in result.stdout and "2 already present" in result.stdout
    assert "fewer points in mlflow than when imported, kept as imported: width-16k (" in result.stderr


def test_a_run_whose_start_moved_at_its_source_is_still_the_run_imported_before(run: CLI, tmp_path: Path) -> None:
    """Its id's time part comes from its start; its key from its tool and its id there. Read again with
    another start (its first points rewritten), it is found by that key: never a second run of the same
    key whose start the store drops while its other records are tried one by one."""
    copy = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, copy)
    run.ok("import", "mlflow", str(copy))
    killed = _run_folder(copy, "killed")
    with open(killed / "metrics" / "loss", "a") as handle:
        handle.write("1767225602000 1.25 2\n")
    meta = yaml.safe_load((killed / "meta.yaml").read_text())
    (killed / "meta.yaml").write_text(yaml.safe_dump({**meta, "start_time": int(meta["start_time"]) + 1000}))
    said = run.ok("import", "mlflow", str(copy))
    assert said.strip() == "imported 0 runs (1 point) from mlflow, 1 run caught up, 2 already present", said
    assert not (run.home / "journal" / "rejected.jsonl").exists()
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        [caught] = [r for r in run_service.list_runs(ws) if r.name == "killed"]
        assert list(run_service.series(ws, caught.id, "loss").values) == [2.0, 1.5, 1.25]


def test_a_run_start_whose_key_another_run_holds_is_one_line_and_nothing_of_it_is_tried(run: CLI,
                                                                                        tmp_path: Path) -> None:
    import dataclasses

    from upstack.formats.rundir import RunFiles

    run.ok("import", "mlflow", str(MLRUNS))
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        [stored] = [r for r in run_service.list_runs(ws) if r.name == "killed"]
        before = dump_tables(ws.store().db)
        other = "01KDVDPTTG" + stored.id[10:]  # another time, the same key
        assert other != stored.id
        files = RunFiles(tmp_path / "staged" / other)
        records = [ws.record("run.start", {"run_id": other, "name": "again", "config": {}, "tags": [],
                                           "goals": {}, "started_at": "2026-01-01T00:00:50Z", "host": ""}),
                   ws.record("run.provenance", {"run_id": other, "data": {}}),
                   ws.record("run.end", {"run_id": other, "status": "finished",
                                         "ended_at": "2026-01-01T00:01:00Z", "error": ""})]
        files.append_records([dataclasses.replace(r, id=f"{other[:10]}{n:016d}") for n, r in enumerate(records)])
        files.close()
        report = ws.store().ingest_runs([tmp_path / "staged"])
        assert len(report.problems) == 1 and "its start record cannot be applied" in report.problems[0] \
            and f"its key is taken by run {stored.id}" in report.problems[0], report.problems
        assert report.records == 0
        assert dump_tables(ws.store().db) == before
    assert not (run.home / "journal" / "rejected.jsonl").exists()


def test_an_imported_runs_records_fit_what_a_team_servers_door_takes(run: CLI) -> None:
    from upstack.services.record_shapes import envelope_problem, problem
    from upstack.store.runs import run_records

    run.ok("import", "mlflow", str(MLRUNS))
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        for imported in run_service.list_runs(ws):
            records = run_records(ws.store().db, imported.id)  # what sync pushes of a run
            assert [r.op for r in records] == ["run.start", "run.provenance", "run.end"]
            for record in records:
                assert problem(record.op, record.data) == "", record
                assert envelope_problem(record.id, record.workspace, record.at) == ""
            assert records[1].data["data"]["imported"]["from"] == "mlflow"


def test_a_purged_run_stays_purged_when_imported_again(run: CLI) -> None:
    run.ok("import", "mlflow", str(MLRUNS))
    wide = next(r for r in json.loads(run.ok("runs", "--json")) if r["name"] == "width-16k")
    run.ok("purge", wide["id"], "--yes")
    again = json.loads(run.ok("import", "mlflow", str(MLRUNS), "--json"))
    assert again["runs"] == 0 and again["updated"] == [] and again["already_present"] == 3, again
    with Workspace(home=run.home, db=run.db_url) as ws:
        ws.ingest()
        assert run_service.get_run(ws, wide["id"]).metrics == []  # its points do not come back


@pytest.mark.parametrize(("damage", "message"), [
    ("empty", "is not an MLflow file store"),
    ("metric", "not 'timestamp value step'"),
    ("meta", "cannot read"),
    ("sqlite", "is not an MLflow tracking database"),
    ("garbage", "as an MLflow database: file is not a database"),
])
def test_bad_input_is_one_line_and_imports_nothing(run: CLI, tmp_path: Path, damage: str, message: str) -> None:
    target = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, target)
    runs = sorted(p.parent for p in target.glob("*/*/meta.yaml"))
    if damage == "empty":
        target = tmp_path / "nothing"
        target.mkdir()
    elif damage == "metric":  # a cut-short line in the last run read: the runs read before it go in neither
        (runs[-1] / "metrics" / "loss").write_text("1767225600000 2.0 0\n17672256")
    elif damage == "meta":
        (runs[0] / "meta.yaml").write_text("run_id: [unclosed\n")
    elif damage == "sqlite":
        target = tmp_path / "other.db"
        with sqlite3.connect(target) as db:
            db.execute("CREATE TABLE notes (text TEXT)")
        db.close()
    else:
        target = tmp_path / "mlflow.db"
        target.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert_refused_unchanged(run, ["import", "mlflow", str(target)], message)


def test_under_is_for_runs_and_skip_bad_is_not(run: CLI) -> None:
    result = run("import", "jrnl", str(MLRUNS), "--under", "x")
    assert result.exit_code == 2 and "--under files imported runs" in result.output
    result = run("import", "mlflow", str(MLRUNS), "--skip-bad")
    assert result.exit_code == 2 and "runs are imported whole" in result.output


def test_tensorboard_without_its_reader_says_what_to_install(run: CLI, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    logdir = tmp_path / "logs"
    logdir.mkdir()
    (logdir / "events.out.tfevents.1767225600.host.1.0").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # not installed, as without the extra
    assert_refused_unchanged(run, ["import", "tensorboard", str(logdir)],
                             "pip install 'upstack[tensorboard]'")
