"""Write an MLflow history with the real mlflow library: `python write_mlflow.py TRACKING_URI`.

Used by tests/trackers/ (a file store and a SQLite store, each made fresh) and to make
tests/fixtures/mlruns (`MLFLOW_ALLOW_FILE_STORE=true python tests/trackers/write_mlflow.py
file:tests/fixtures/mlruns`), which the main suite and the README import without mlflow installed.

Points have set timestamps (START_MS + 1000 * step), so a test can check every one. The last run is
left running: the process ends with os._exit, as a killed job does, and MLflow never hears it end.
"""

import math
import os
import sys

import mlflow

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def main(uri: str) -> None:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("sae sweep")
    with mlflow.start_run(run_name="width-16k"):
        mlflow.log_params({"lr": 3e-4, "width": 16384, "optim": "adam", "tied": True})
        mlflow.set_tags({"team": "interp", "mlflow.note.content": "first try at 16k"})
        for step in range(100):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=START_MS + 1000 * step)
        for step in (0, 50, 99):
            value = math.nan if step == 50 else step / 100
            mlflow.log_metric("val/acc", value, step=step, timestamp=START_MS + 1000 * step)
    with mlflow.start_run(run_name="diverged"):
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 3.5, step=0, timestamp=START_MS)
        mlflow.log_metric("loss", 9.0, step=1, timestamp=START_MS + 1000)
        mlflow.end_run(status="FAILED")
    with mlflow.start_run(run_name="deleted") as deleted:
        mlflow.log_metric("loss", 1.0, step=0)
    mlflow.delete_run(deleted.info.run_id)
    mlflow.start_run(run_name="killed")
    mlflow.log_param("lr", 0.01)
    mlflow.log_metric("loss", 2.0, step=0, timestamp=START_MS)
    mlflow.log_metric("loss", 1.5, step=1, timestamp=START_MS + 1000)
    sys.stdout.flush()
    os._exit(0)  # killed: no end_run, no atexit


if __name__ == "__main__":
    main(sys.argv[1])
