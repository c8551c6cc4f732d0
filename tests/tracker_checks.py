"""What an imported MLflow history must be in upstack: the runs tests/trackers/write_mlflow.py wrote
with the real mlflow, checked point by point (shared by the main suite, which imports the committed
tests/fixtures/mlruns, and tests/trackers/, which writes a file store and a SQLite store afresh)."""

from __future__ import annotations

import math
from pathlib import Path

from upstack import Workspace
from upstack.services import runs as run_service

ROOT = Path(__file__).resolve().parents[1]
MLRUNS = ROOT / "tests" / "fixtures" / "mlruns"
START = 1_767_225_600.0  # write_mlflow.START_MS, in seconds


def check_mlflow_history(ws: Workspace) -> dict[str, str]:
    """Every run write_mlflow.py wrote, as upstack holds it; its ids by name."""
    ws.ingest()
    found = {r.name: r for r in run_service.list_runs(ws)}
    assert sorted(found) == ["diverged", "killed", "width-16k"], sorted(found)  # the deleted run stays out
    wide = run_service.get_run(ws, found["width-16k"].id)
    assert wide.status == "finished" and wide.error == ""
    assert wide.config == {"lr": 0.0003, "width": 16384, "optim": "adam", "tied": "True"}
    assert {"mlflow", "sae-sweep", "team=interp"} <= set(wide.tags), wide.tags
    imported = wide.provenance["data"]["imported"]
    assert imported["from"] == "mlflow" and imported["experiment"] == "sae sweep"
    assert imported["tags"]["mlflow.note.content"] == "first try at 16k"
    assert wide.started_at <= wide.ended_at  # type: ignore[operator]
    loss = run_service.series(ws, wide.id, "loss")
    assert list(loss.steps) == list(range(100))
    assert list(loss.times) == [START + step for step in range(100)]
    assert list(loss.values) == [1.0 / (step + 1) for step in range(100)]
    acc = run_service.series(ws, wide.id, "val/acc")
    assert list(acc.steps) == [0, 50, 99]
    assert acc.values[0] == 0.0 and math.isnan(acc.values[1]) and acc.values[2] == 0.99
    diverged = run_service.get_run(ws, found["diverged"].id)
    assert diverged.status == "failed" and diverged.config == {"lr": 0.1}
    assert list(run_service.series(ws, diverged.id, "loss").values) == [3.5, 9.0]
    killed = run_service.get_run(ws, found["killed"].id)
    assert killed.status == "crashed" and "RUNNING" in killed.error and "never ended" in killed.error
    assert killed.ended_at is not None and killed.ended_at >= killed.started_at
    assert list(run_service.series(ws, killed.id, "loss").steps) == [0, 1]
    return {name: run.id for name, run in found.items()}
