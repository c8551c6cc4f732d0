"""Starting a run: check what can be checked at once, write the start record, and go.

Provenance (git, packages, host ...) is collected by the run's background thread,
so ``upstack.run(...)`` returns in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from upstack.capture.run import Run, track
from upstack.capture.writer import say
from upstack.domain.config import config_to_dict
from upstack.domain.run import RUN_NAME_CHARS
from upstack.domain.text import clean_data
from upstack.errors import BadInput, NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.formats.rundir import RunFiles
from upstack.ids import looks_like_full_id, new_id
from upstack.services.runresume import resume_choice
from upstack.services.sweep_env import current_trial
from upstack.timeutil import epoch_clock, now_iso
from upstack.workspace import Workspace

__all__ = ["start_run", "runs_folder", "capture_kinds"]


def runs_folder(ws: Workspace) -> Path:
    """Where this workspace's runs write: the run_dir setting, else runs/ in the workspace."""
    return ws.run_folders()[-1]


def capture_kinds(choice: str | Iterable[str] | None) -> list[str]:
    from upstack.capture.provenance import KINDS

    if choice is None or choice == "all":
        return list(KINDS)
    if choice == "none":
        return []
    names = [n.strip() for n in (choice.split(",") if isinstance(choice, str) else choice)]
    unknown = [n for n in names if n and n not in KINDS]
    if unknown:
        raise BadInput(f"unknown capture kind {unknown[0]!r}: choose from {', '.join(KINDS)}, all or none")
    return [k for k in KINDS if k in names]


def _default_name() -> str:
    script = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
    return "notebook" if script in ("", "-c", "ipykernel_launcher") else script


def start_run(ws: Workspace, name: str | None = None, *, under: str | None = None,
              config: Any = None, tags: Iterable[str] = (), capture: str | Iterable[str] | None = None,
              goals: Mapping[str, str] | None = None, strict: bool = False, predict: Any = None,
              resume: str | None = None, system_metrics: bool = True) -> Run:
    """Start a run in workspace ``ws`` (or resume one); see ``upstack.run`` for the arguments."""
    from upstack.capture.redact import Redactor

    ws.check_writable()
    settings = ws.settings  # each cast and checked when the workspace was made
    wanted, may_be_new = resume_choice(resume)
    if wanted is not None:
        run = _resumed(ws, wanted, strict=strict, system_metrics=system_metrics)
        if run is not None:
            return run
        if not may_be_new or not looks_like_full_id(wanted):
            where = f" in {' or '.join(str(f) for f in ws.run_folders())}" if settings.run_dir else ""
            cut = wanted.isupper() and not looks_like_full_id(wanted)  # run.id cut short, as a git hash is
            raise NotFound(f"no run {wanted!r} to resume{where}" + (
                "; a short id is not the start of the full id: pass run.id whole, or run.short" if cut else ""))
    kinds = capture_kinds(capture if capture is not None else settings.run_capture)
    redactor = Redactor(settings.redact)
    run_config = config_to_dict(config)
    trial = current_trial()  # a sweep's trial: its node, its parameters, its tag (services/sweep_env.py)
    if trial is not None:
        under = trial.node or under
        run_config = trial.merged_config(run_config, say)
        tags = [*tags, trial.tag]
    run_config = redactor.mapping(run_config)
    name = (name or _default_name()).strip() or "run"
    if len(name) > RUN_NAME_CHARS:  # a team server takes no longer name (services/record_shapes.py)
        raise BadInput(f"a run's name is at most {RUN_NAME_CHARS} characters (this one has {len(name):,})")
    for key, goal in (goals or {}).items():
        if goal not in ("min", "max"):
            raise BadInput(f"goal for {key!r} must be 'min' or 'max', got {goal!r}")
    node: dict[str, Any] = {}
    if under:
        node = _node(ws, under)
    elif ws.focus_node_id():
        node = {"node_id": ws.focus_node_id()}
    run_id = wanted.upper() if wanted is not None else new_id()  # auto: the id the job was given, first time
    workspace_id = ws.workspace_id
    start = clean_data({"run_id": run_id, "name": name, **node, "config": run_config,
                        "tags": [str(t).lstrip("#") for t in tags], "goals": dict(goals or {}),
                        "started_at": now_iso(), **ws.writer_offset(), "pid": os.getpid(),
                        "capture": kinds})  # text as every record's (journal.make_record)
    predictions: list[dict[str, Any]] = []
    if predict is not None:  # checked whole before anything is written
        from upstack.services.predictions import run_predictions

        predictions = run_predictions(predict, run_id, start["started_at"])
    files = _start_folder(runs_folder(ws) / run_id, start, workspace_id, predictions)
    if trial is not None:
        trial.note_run(run_id)
    provenance = _provenance(kinds, redactor, settings.run_diff_limit, list(settings.run_env))
    run = Run(files=files, run_id=run_id, name=start["name"], workspace_id=workspace_id,
              flush_seconds=settings.run_flush_seconds, heartbeat_seconds=settings.run_heartbeat_seconds,
              most_unwritten_points=settings.run_unwritten_points, provenance=provenance if kinds else None,
              strict=strict, clock=epoch_clock(), system_seconds=_system_seconds(ws, system_metrics))
    if not kinds:  # nothing to look up: the record (all turned off) is written now, not by a thread later
        run.append(provenance(run))
    return _going(ws, run, {})


def _going(ws: Workspace, run: Run, points: dict[str, int]) -> Run:
    run.artifact_resolver = lambda ref: _use_artifact(ws, ref)
    live = _live(ws, run.directory, run.id, points)
    if live is not None:
        run.on_end.append(live.close)
    track(run)
    return run


def _system_seconds(ws: Workspace, wanted: bool) -> float:
    return float(ws.settings.run_system_seconds) if wanted else 0.0


def _resumed(ws: Workspace, ref: str, *, strict: bool, system_metrics: bool) -> Run | None:
    """Run ``ref`` going on where it stopped (None: there is no such run)."""
    from upstack.services.runresume import resume_run_files

    found = resume_run_files(ws, ref)
    if found is None:
        return None
    settings = ws.settings
    run = Run(files=found.files, run_id=found.run_id, name=found.name, workspace_id=ws.workspace_id,
              flush_seconds=settings.run_flush_seconds, heartbeat_seconds=settings.run_heartbeat_seconds,
              most_unwritten_points=settings.run_unwritten_points, strict=strict, clock=epoch_clock(),
              last_step=found.last_step, system_seconds=_system_seconds(ws, system_metrics))
    return _going(ws, run, found.points)


def _start_folder(directory: Path, start: dict[str, Any], workspace_id: str,
                  predictions: list[dict[str, Any]]) -> RunFiles:
    """The run's folder holding its start record (and the predictions it makes of itself), durable; a
    disk that refuses it is one line, and leaves no half-made folder behind."""
    files = None
    try:
        files = RunFiles(directory)
        start["host"] = files.host
        _, error = files.append_records(
            [Record(new_id(), "run.start", workspace_id, start["started_at"], start),
             *(Record(new_id(), "run.predict", workspace_id, start["started_at"], data) for data in predictions)])
        if error is not None:
            raise error
        files.sync()
        return files
    except OSError as exc:
        if files is not None:
            files.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise UpstackError(f"cannot start a run in {directory.parent}: {exc.strerror or exc}") from None


def _use_artifact(ws: Workspace, ref: str) -> tuple[dict[str, Any], Path]:
    # Imported here: the store is loaded only by a run that uses an artifact (capture stays light).
    from upstack.services.artifacts import resolver

    try:
        return resolver(ws)(ref)
    finally:
        ws.close()  # the store is opened for the look-up only: a training run holds no connection


def _live(ws: Workspace, directory: Path, run_id: str, points: dict[str, int]) -> Any:
    """In a workspace linked to a team server, the upload that sends the run there as it runs."""
    every = ws.settings.run_live_seconds
    if not every or not (ws.home / "remote.json").exists():  # (services.remote.REMOTE_FILE: not imported unless linked)
        return None
    from upstack.services.live import LiveUpload
    from upstack.services.remote import remote

    return LiveUpload(remote(ws), directory, run_id, every, points=points,
                      artifact_cap=ws.settings.sync_artifact_mb * 1_000_000)


def _node(ws: Workspace, ref: str) -> dict[str, Any]:
    """Check the node now when the workspace is at hand; a run writing elsewhere (a compute
    node) never opens the database, and its node is looked up when it is ingested."""
    if ws.settings.run_dir:
        return {"node_ref": ref}
    from upstack.services.capture import node_for

    return {"node_id": node_for(ws, ref)}


def _provenance(kinds: list[str], redactor: Any, diff_limit: int,
                env_names: list[str]) -> Callable[[Run], list[Record]]:
    def collect_for(run: Run) -> list[Record]:
        from upstack.capture.provenance import DEFAULT_ENV, collect

        found = collect(kinds, redactor, cwd=Path.cwd(), diff_limit=diff_limit,
                        env_names=(*DEFAULT_ENV, *env_names))
        diff = run.put_blob(found.diff, "uncommitted.diff", "text/x-diff") if found.diff else None
        return [run.record("run.provenance", {"data": found.data, "captured": found.captured,
                                              "skipped": found.skipped, "diff": diff})]

    return collect_for
