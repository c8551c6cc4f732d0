"""MLflow's history, read for `upstack import mlflow`: its file store (an ``mlruns`` folder) or its SQLite
tracking database (read in ``store/mlflow_db.py``, where upstack's SQL lives).

Both are read without importing mlflow: the file store is YAML and text files, the database plain
SQLite, and mlflow itself is a large install (and refuses the file store from 3.x on unless told
otherwise). The file store::

    mlruns/<experiment id>/meta.yaml                     name, lifecycle_stage
    mlruns/<experiment id>/<run id>/meta.yaml            run_name, status (1-5), start_time, end_time (ms)
    mlruns/<experiment id>/<run id>/metrics/<key>        "timestamp value step" a line, as logged
    mlruns/<experiment id>/<run id>/params/<key>         the value
    mlruns/<experiment id>/<run id>/tags/<key>           the value

A key with ``/`` in it is a folder path. Deleted experiments and runs (lifecycle_stage ``deleted``,
or under ``.trash``) are left out. Artifacts are not imported.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from upstack.domain.tracker import MLFLOW_STATUS, NEVER_ENDED, TrackerRun, iso_from_epoch, param_value
from upstack.errors import BadInput
from upstack.interop.common import readable_file
from upstack.store.mlflow_db import is_mlflow_db, mlflow_db_runs

__all__ = ["mlflow_runs", "looks_like_mlflow"]

# The file store writes RunStatus as its number.
_STATUS_NUMBERS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


def looks_like_mlflow(path: Path) -> bool:
    """An ``mlruns`` folder (or a folder holding one), or MLflow's SQLite database."""
    if path.is_file():
        return is_mlflow_db(path)
    return bool(_experiments(path)) or (path / "mlruns").is_dir()


def mlflow_runs(path: Path) -> tuple[int, Iterator[TrackerRun]]:
    """How many runs there are, and the runs one at a time (each read whole, with every point)."""
    if not path.exists():
        raise BadInput(f"no such file or folder: {path}")
    if path.is_file():
        return mlflow_db_runs(path)
    if not _experiments(path) and (path / "mlruns").is_dir():
        path = path / "mlruns"
    experiments = _experiments(path)
    if not experiments:
        raise BadInput(f"{path} is not an MLflow file store: no experiment folders with a meta.yaml "
                       "(give the mlruns folder, or the mlflow.db file)")
    found = [(run, name) for folder, name in experiments for run in _run_folders(folder)]
    return len(found), (_run(run, name) for run, name in found)


def _yaml(path: Path) -> dict[str, Any]:
    try:
        value = yaml.safe_load(readable_file(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadInput(f"cannot read {path}: {exc}".splitlines()[0]) from None
    if not isinstance(value, dict):
        raise BadInput(f"cannot read {path}: not MLflow's meta.yaml (no keys)")
    return value


def _experiments(path: Path) -> list[tuple[Path, str]]:
    """(folder, name) of each experiment that is not deleted."""
    try:
        folders = sorted(Path(e.path) for e in os.scandir(path) if e.is_dir() and not e.name.startswith(".")
                         and (Path(e.path) / "meta.yaml").is_file())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for folder in folders:
        meta = _yaml(folder / "meta.yaml")
        if "experiment_id" not in meta:
            continue  # a folder of something else (the model registry's models/ has meta.yaml files too)
        if meta.get("lifecycle_stage") != "deleted":
            found.append((folder, str(meta.get("name") or meta["experiment_id"])))
    return found


def _run_folders(experiment: Path) -> list[Path]:
    """The experiment's runs that are not deleted, oldest first."""
    kept = []
    for run in sorted(Path(e.path) for e in os.scandir(experiment)
                      if e.is_dir() and (Path(e.path) / "meta.yaml").is_file()):
        meta = _yaml(run / "meta.yaml")
        # (an experiment's models/ and datasets/ hold meta.yaml files too, and are not runs)
        if ("run_id" in meta or "run_uuid" in meta) and meta.get("lifecycle_stage") != "deleted":
            kept.append((_number(meta.get("start_time"), run / "meta.yaml"), run.name, run))
    return [run for _, _, run in sorted(kept)]


def _number(value: Any, where: Path) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(f"cannot read {where}: start_time {value!r} is not a time in milliseconds") from None


def _not_linked(folder: Path) -> Path:
    """``folder`` if it is not a link: as ``common.readable_file`` for a file, a run's folder (or its params/,
    tags/, metrics/) that links elsewhere (``params -> ../../../../.aws``) would read every file there into the
    import, its config that sync shares. MLflow makes no such link; the mlruns folder given may be one."""
    if folder.is_symlink():
        raise BadInput(f"cannot read {folder}: it is a link (to {os.readlink(folder)[:200]}); an import reads "
                       "only the files of the folder it is given")
    return folder


def _run(folder: Path, experiment: str) -> TrackerRun:
    meta = _yaml(_not_linked(folder) / "meta.yaml")
    run_id = str(meta.get("run_id") or meta.get("run_uuid"))
    status_value = meta.get("status", 1)
    status = _STATUS_NUMBERS.get(status_value, str(status_value)) if isinstance(status_value, int) \
        else str(status_value).upper()
    tags = _key_files(folder / "tags")
    end = meta.get("end_time")
    run = TrackerRun(
        tool="mlflow", source_id=run_id,
        name=str(meta.get("run_name") or tags.get("mlflow.runName") or run_id),
        started_at=iso_from_epoch(_number(meta.get("start_time"), folder / "meta.yaml") / 1000),
        ended_at=iso_from_epoch(_number(end, folder / "meta.yaml") / 1000) if end else None,
        status=MLFLOW_STATUS.get(status, "crashed"), experiment=experiment,
        config={k: param_value(v) for k, v in _key_files(folder / "params").items()}, tags=tags,
        where=str(folder.resolve()))
    artifacts = sum(len(names) for _, _, names in os.walk(folder / "artifacts"))
    if artifacts:
        run.not_imported["artifact files"] = artifacts
    if status not in ("FINISHED", "FAILED", "KILLED"):
        run.error = NEVER_ENDED.format(tool="MLflow", status=status)
    for key, file in sorted(_files(folder / "metrics").items()):
        run.metrics[key] = _metric(file)
    return run


def _files(folder: Path) -> dict[str, Path]:
    """Each file under ``folder`` by its key (its path below ``folder``, ``/`` between folders)."""
    found: dict[str, Path] = {}
    if not _not_linked(folder).is_dir():
        return found
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            found[path.relative_to(folder).as_posix()] = path
    return found


def _key_files(folder: Path) -> dict[str, str]:
    values = {}
    for key, path in _files(folder).items():
        try:
            values[key] = readable_file(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read {path}: {exc}") from None
    return values


def _metric(path: Path) -> tuple[array, array, array]:
    """A metric file's every point, in the order it was logged."""
    steps, times, values = array("q"), array("d"), array("d")
    try:
        lines = readable_file(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        try:
            timestamp, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0  # MLflow before 1.0 wrote no step
        except (ValueError, IndexError):
            raise BadInput(f"cannot read {path} (line {number}): not 'timestamp value step': {line[:60]!r}") from None
        try:
            steps.append(step)
        except OverflowError:
            raise BadInput(f"cannot read {path} (line {number}): step {step} is out of range "
                           "(more than 64 bits)") from None
        times.append(timestamp / 1000)
        values.append(value)
    return steps, times, values
