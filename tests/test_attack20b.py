"""Attack on issue 20's import and export paths others' data passes through: `upstack import mlflow` of a
hand-made (or hostile) mlruns folder. Each hole found is a test here: fixed, or a strict xfail saying
what is wrong."""

from __future__ import annotations

import json
import shutil
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from attack_common import Team, run_records, team  # noqa: F401  (a fixture)
from conftest import CLI, assert_refused_unchanged
from tracker_checks import MLRUNS
from upstack.ids import new_id
from upstack.services.runsync import wire_points


def _mlruns(tmp_path: Path, edit: Callable[[Path], None]) -> Path:
    folder = tmp_path / "mlruns"
    shutil.copytree(MLRUNS, folder)
    edit(sorted(folder.glob("*/*/meta.yaml"))[0].parent)
    return folder


def _meta(key: str, value: object) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        meta = yaml.safe_load((run / "meta.yaml").read_text())
        meta[key] = value
        (run / "meta.yaml").write_text(yaml.safe_dump(meta))
    return edit


def _metric(line: str) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        (run / "metrics").mkdir(exist_ok=True)
        (run / "metrics" / "hostile").write_text(line)
    return edit


@pytest.mark.parametrize("edit", [
    _meta("start_time", 10**20), _meta("start_time", -10**18), _meta("start_time", 1e300),
    _meta("end_time", 10**20), _metric("1 1.0 99999999999999999999999\n"),
], ids=["huge-start", "negative-start", "float-start", "huge-end", "huge-step"])
def test_an_mlruns_folder_with_out_of_range_times_or_steps_is_refused_in_one_line(
        run: CLI, tmp_path: Path, edit: Callable[[Path], None]) -> None:
    """Found: a meta.yaml start_time/end_time of 10**20 ms (or -10**18, or 1e300), a metric line whose step
    does not fit 64 bits, ended `upstack import mlflow` in a traceback
    (OSError "Value too large", ValueError "year out of range", OverflowError). Fixed: iso_from_epoch refuses
    a time out of range as BadInput, and a step past 64 bits is a line that cannot be read."""
    assert_refused_unchanged(run, ["import", "mlflow", str(_mlruns(tmp_path, edit))], "out of range")


# == Run pushes ====================================================================================

@pytest.mark.parametrize("start", ["1e400", "-1e400", str(2**70)], ids=["inf", "minus-inf", "past-64-bits"])
def test_a_push_whose_points_start_at_an_impossible_index_is_refused_not_a_500(team: Team, start: str) -> None:  # noqa: F811
    """Found: a push whose points "from" was 1e400 (JSON reads it as infinity) or 2**70 answered 500
    (OverflowError in runsync._decode, or past the 64-bit column). Fixed: _decode refuses both, 400, one line."""
    eve = team.api(team.eve)
    run_id = new_id()
    points = wire_points(0, array("q", [0]), array("d", [0.0]), array("d", [1.0]))
    body = json.dumps({"records": run_records(run_id, team.project), "points": {"loss": points}})
    body = body.replace('"from": 0', f'"from": {start}')
    answer = eve.post(f"/api/runs/{run_id}/push", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]
    assert "\n" not in answer.json()["error"]


@pytest.mark.parametrize("start", [{"name": "n" * 501}, {"tags": ["t" * 501]}, {"tags": ["t"] * 201}],
                         ids=["long-name", "long-tag", "many-tags"])
def test_a_new_run_with_an_endless_name_or_tags_is_refused_at_the_door(team: Team, start: dict[str, object]) -> None:  # noqa: F811
    """Found: a rename is held to a title's length at the door, a run's first name and tags were not (a
    10 MB name became an entry's title). Fixed: run.start holds both as run.rename and run.retag do."""
    eve = team.api(team.eve)
    run_id = new_id()
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, team.project, start=start),
                                                        "points": {}})
    assert answer.status_code == 400, answer.text[:300]
    assert "\n" not in answer.json()["error"]
    assert eve.get(f"/runs/{run_id}.json").status_code == 404


def test_a_run_started_with_a_name_longer_than_a_rename_takes_is_refused(run: CLI) -> None:
    import upstack
    from upstack.errors import BadInput

    with pytest.raises(BadInput, match="at most 500 characters"):
        upstack.run("n" * 501, home=run.home, db=run.db_url, capture="none")
    assert run.ok("runs", "--json").strip() == "[]"
