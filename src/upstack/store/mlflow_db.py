"""MLflow's SQLite tracking database (``sqlite:///mlflow.db``), read for `upstack import mlflow`.

Read with sqlite3 alone, not through mlflow (a large install, and one that would migrate the file it
opens): the tables read here (experiments, runs, metrics, params, tags) have kept these columns
since MLflow 1.x. The file is opened read-only (``mode=ro``), so a database a tracking server
still writes to is never changed or locked for long. It is SQL, so it lives in store/ (the one place
upstack writes SQL), though the database is MLflow's.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from upstack.domain.tracker import MLFLOW_STATUS, NEVER_ENDED, TrackerRun, iso_from_epoch, param_value
from upstack.errors import BadInput

__all__ = ["is_mlflow_db", "mlflow_db_runs"]

_TABLES = {"experiments", "runs", "metrics", "params", "tags"}


def _open(path: Path) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a file that is not a database fails here
    except sqlite3.Error as exc:
        raise BadInput(f"cannot read {path} as an MLflow database: {exc}") from None
    return connection


def is_mlflow_db(path: Path) -> bool:
    """Whether ``path`` is a SQLite file with MLflow's tracking tables."""
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
    except OSError:
        return False
    connection = _open(path)
    try:
        names = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return False
    finally:
        connection.close()
    return names >= _TABLES


def mlflow_db_runs(path: Path) -> tuple[int, Iterator[TrackerRun]]:
    """How many runs the database holds (deleted ones left out), and the runs one at a time (a run's
    metrics are read when it is reached, so memory holds one run)."""
    if not is_mlflow_db(path):
        raise BadInput(f"{path} is not an MLflow tracking database (no experiments, runs, metrics, params "
                       "and tags tables)")
    connection = _open(path)
    try:
        rows = connection.execute(
            "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, e.name AS experiment "
            "FROM runs r LEFT JOIN experiments e ON e.experiment_id = r.experiment_id "
            "WHERE r.lifecycle_stage != 'deleted' AND (e.lifecycle_stage IS NULL OR e.lifecycle_stage != 'deleted') "
            "ORDER BY r.start_time, r.run_uuid").fetchall()
    except sqlite3.Error as exc:
        connection.close()
        raise BadInput(f"cannot read {path} as an MLflow database: {exc}") from None
    return len(rows), _runs(connection, path, rows)


def _runs(connection: sqlite3.Connection, path: Path, rows: list[sqlite3.Row]) -> Iterator[TrackerRun]:
    try:
        for row in rows:
            try:
                yield _run(connection, path, row)
            # A file made by hand (or by anyone) holds what SQLite lets it: a time as text, a step past 64
            # bits, a value that is no number. Each is the run's problem, said in one line.
            except (sqlite3.Error, ValueError, TypeError, OverflowError) as exc:
                raise BadInput(f"cannot read run {str(row['run_uuid'])[:60]} in {path}: {exc}") from None
    finally:
        connection.close()


def _run(connection: sqlite3.Connection, path: Path, row: sqlite3.Row) -> TrackerRun:
    run_id = str(row["run_uuid"])
    params = {str(r["key"]): param_value(str(r["value"]))
              for r in connection.execute("SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key", (run_id,))}
    tags = {str(r["key"]): str(r["value"] or "")
            for r in connection.execute("SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key", (run_id,))}
    status = str(row["status"] or "RUNNING").upper()
    if row["start_time"] is None:
        raise BadInput(f"run {run_id} in {path} has no start time")
    end = row["end_time"]
    run = TrackerRun(
        tool="mlflow", source_id=run_id, name=str(row["name"] or tags.get("mlflow.runName") or run_id),
        started_at=iso_from_epoch(int(row["start_time"]) / 1000),
        ended_at=iso_from_epoch(int(end) / 1000) if end is not None else None,
        status=MLFLOW_STATUS.get(status, "crashed"), experiment=str(row["experiment"] or ""),
        config=params, tags=tags, where=str(path.resolve()))
    if status not in ("FINISHED", "FAILED", "KILLED"):
        run.error = NEVER_ENDED.format(tool="MLflow", status=status)
    run.metrics = dict(_metrics(connection, run_id))
    return run


def _metrics(connection: sqlite3.Connection, run_id: str) -> Iterator[tuple[str, Any]]:
    """Each metric's every point, in the order it was logged (by time, then step, as MLflow lists them)."""
    current: str | None = None
    steps, times, values = array("q"), array("d"), array("d")
    for r in connection.execute("SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? "
                                "ORDER BY key, timestamp, step", (run_id,)):
        if r["key"] != current:
            if current is not None:
                yield current, (steps, times, values)
            current, steps, times, values = str(r["key"]), array("q"), array("d"), array("d")
        steps.append(int(r["step"] or 0))
        times.append(int(r["timestamp"]) / 1000)
        values.append(float("nan") if r["is_nan"] else float(r["value"]))
    if current is not None:
        yield current, (steps, times, values)
