"""Attack 20e: what other people's data passes through, as changed today: the staging folders an
import sweeps (interop/trackers._sweep_staging), tracker folders of odd shapes, and pushed run changes
(services/runsync._check_changes)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from attack_common import Team, run_records, team  # noqa: F401  (a fixture)
from conftest import CLI, assert_refused_unchanged
from tracker_checks import MLRUNS
from upstack.ids import new_id
from upstack.services.runsync import wire_points


def _host() -> str:
    return "".join(c for c in socket.gethostname() if c.isalnum() or c == "-")[:64] or "host"


def _dead_pid() -> int:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    return gone.pid


def test_a_staging_name_no_process_can_have_is_left_not_a_traceback(run: CLI, tmp_path: Path) -> None:
    """Found (low): an import sweeps the workspace for staging folders of this host whose process is gone;
    one named with a process number no process can have (`.import-<host>.99999999999999999999.x`, past
    what os.kill takes) or with digits int() does not read (`²`, which str.isdigit calls one) stopped
    every import of the workspace with a traceback (OverflowError, ValueError). Fixed: a number that is
    not a process's is a folder upstack did not make, left as it is. Held: a link named like a dead
    process's staging folder is removed neither itself nor what it points to, nor is a file so named
    followed; the import goes on."""
    home = run.home
    home.mkdir(parents=True, exist_ok=True)
    host, dead = _host(), _dead_pid()
    odd = [home / f".import-{host}.99999999999999999999.x", home / f".import-{host}.\u00b2\u00b3.x"]
    for folder in odd:
        folder.mkdir()
        (folder / "keep").write_text("theirs")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    (home / f".import-{host}.{dead}.link").symlink_to(outside, target_is_directory=True)
    (home / f".import-{host}.{dead}.file").write_text("a file, not a folder")
    source = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, source)
    assert "imported 3 runs" in run.ok("import", "mlflow", str(source))
    assert all((folder / "keep").read_text() == "theirs" for folder in odd)
    assert (outside / "precious").read_text() == "keep me"


def _linked_mlruns(tmp_path: Path, plant: str) -> Path:
    folder = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, folder)
    run = sorted(folder.glob("*/*/meta.yaml"))[0].parent
    private = tmp_path / "private"  # ~/.aws, ~/.ssh: a folder of the importer's, with no link in it
    private.mkdir()
    (private / "credentials").write_text("QUSECRET-aws-key")
    if plant in ("params", "tags", "metrics"):
        shutil.rmtree(run / plant, ignore_errors=True)
        (run / plant).symlink_to(private, target_is_directory=True)
    else:  # the run's folder itself, a link to a folder of the importer's that holds a meta.yaml
        shutil.copytree(run, private / "run")
        shutil.copy(private / "credentials", private / "run" / "params" / "key")
        shutil.rmtree(run)
        run.symlink_to(private / "run", target_is_directory=True)
    return folder


@pytest.mark.parametrize("plant", ["params", "tags", "metrics", "run"])
def test_an_mlruns_folder_cannot_read_a_linked_folder_into_an_import(run: CLI, tmp_path: Path, plant: str) -> None:
    """Found (medium): attack 20c made an importer refuse a params/tags/metrics *file* that is a link, but
    a run's params/ (or tags/, metrics/, or the run's folder itself) that is a link to a folder was read
    through: a colleague's mlruns with params -> ../../../../.aws made every file there a param of the
    importer's run (its config, shown on its page and sent by `upstack sync` to the team server). Fixed:
    an importer reads no folder of a run that is a link, and says so in one line (interop/mlflow)."""
    folder = _linked_mlruns(tmp_path, plant)
    assert_refused_unchanged(run, ["import", "mlflow", str(folder)], "is a link")


@pytest.mark.parametrize("times", [[float("nan")], [float("inf")], [-float("inf")], [1e300]],
                         ids=["nan", "inf", "minus-inf", "past-year-9999"])
def test_a_push_whose_points_have_no_time_is_refused_and_the_chart_still_draws(team: Team, times: list[float]) -> None:  # noqa: F811
    """Found (medium): a push's points were checked for their count and index, not their times: eve pushed
    a run whose point times were NaN (or infinite), the push answered 200, and from then on the run's
    chart (/runs/{id}/series.json) answered 500 to everyone who may see the run (JSON holds no NaN).
    Fixed: the door refuses a point whose time is not one a datetime holds (services/runsync._decode),
    in one line; values may still be NaN or infinite (a diverged loss), and are drawn as gaps."""
    eve, ada = team.api(team.eve), team.api(team.ada)
    run_id = new_id()
    points = {"loss": wire_points(0, array("q", [0, 1]), array("d", [1.7e9, *times]), array("d", [1.0, 2.0]))}
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, team.project),
                                                        "points": points})
    assert answer.status_code == 400 and "time" in answer.json()["error"], answer.text
    assert ada.get(f"/runs/{run_id}").status_code == 404
    kept = new_id()  # a diverged loss is a point like any other
    points = {"loss": wire_points(0, array("q", [0, 1]), array("d", [1.7e9, 1.7e9 + 1]),
                                  array("d", [float("nan"), float("inf")]))}
    assert eve.post(f"/api/runs/{kept}/push", json={"records": run_records(kept, team.project),
                                                   "points": points}).status_code == 200
    drawn = ada.get(f"/runs/{kept}/series.json", params={"key": "loss"})
    assert drawn.status_code == 200 and drawn.json()["values"] == [None, None]
