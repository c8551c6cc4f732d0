"""Attack on issue 20's import and export paths others' data passes through: `upstack import mlflow` of a
hand-made (or hostile) mlruns folder. Each hole found is a test here: fixed, or a strict xfail saying
what is wrong."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from conftest import CLI, assert_refused_unchanged
from tracker_checks import MLRUNS


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
