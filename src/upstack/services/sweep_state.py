"""A sweep's state: a JSON file in the workspace, and a line appended for each trial that starts or ends.

``<workspace>/sweeps/<id>.json`` says, for each trial, its parameters, where it stands (pending,
running, finished, failed, interrupted), its exit code, the pid it ran as and the runs it started.
It is replaced whole (``files.write_atomically``) when a sweep starts and stops; in between, each
trial's change is one line appended to ``<id>.trials`` and fsync'd, so that a sweep of thousands of
trials does not write its whole state twice per trial. Reading takes the file, then each line in
order (a line a crash cut short is left out: that change was never made); writing the file whole
again folds the lines in and removes them. ``<id>/`` beside them holds each trial's output
(``trial-3.log``) and the ids its runs reported (``trial-3.runs``). A sweep killed at any moment
leaves a state that says which trials finished, so ``upstack sweep resume`` reruns only the rest.
A lock file held while the sweep runs keeps a second ``resume`` from running the same trials at
once, and tells ``list`` which sweeps are running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from upstack.errors import BadInput, NotFound
from upstack.files import make_private_dirs, write_atomically
from upstack.ids import MIN_PREFIX, id_key, looks_like_full_id, short_id
from upstack.workspace import Workspace

__all__ = ["TRIAL_STATUSES", "TrialState", "SweepState", "sweeps_folder", "trial_files", "save", "save_trial",
           "load", "find", "all_states", "holding_lock", "is_running"]

TRIAL_STATUSES = ("pending", "running", "finished", "failed", "interrupted")
DONE = ("finished", "failed")  # a trial in one of these is not run again (failed: unless asked)


@dataclass
class TrialState:
    index: int
    params: dict[str, Any]
    status: str = "pending"
    exit_code: int | None = None
    pid: int | None = None
    run_ids: list[str] = field(default_factory=list)  # every run it started, over every attempt
    attempts: int = 0
    started_at: str | None = None
    ended_at: str | None = None


@dataclass
class SweepState:
    id: str
    name: str
    file: str
    key: str  # the spec's key (sweep_spec.SweepSpec.key): the same file gives the same key
    spec: dict[str, Any]
    node_id: str
    cwd: str
    created_at: str
    trials: list[TrialState]
    jobs: int = 1
    message: str = ""  # why it stopped last, if it did
    gpus: list[str] | None = None  # the devices its trials were given, one each (--gpus)

    @property
    def short(self) -> str:
        return short_id(self.id)

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(TRIAL_STATUSES, 0)
        for trial in self.trials:
            found[trial.status] += 1
        return found

    @property
    def complete(self) -> bool:
        return all(t.status in DONE for t in self.trials)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "short": self.short}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepState:
        data = {k: v for k, v in data.items() if k != "short"}
        data["trials"] = [TrialState(**t) for t in data["trials"]]
        return cls(**data)


def sweeps_folder(ws: Workspace) -> Path:
    return ws.home / "sweeps"


def trial_files(ws: Workspace, sweep_id: str, index: int) -> tuple[Path, Path]:
    """A trial's output log and the file its runs append their ids to."""
    folder = sweeps_folder(ws) / sweep_id
    return folder / f"trial-{index}.log", folder / f"trial-{index}.runs"


def save(ws: Workspace, state: SweepState) -> None:
    """Write the state whole, folding in (and then removing) the trials' appended changes."""
    make_private_dirs(sweeps_folder(ws) / state.id)
    write_atomically(sweeps_folder(ws) / f"{state.id}.json", json.dumps(state.to_dict(), indent=1))
    with contextlib.suppress(FileNotFoundError):  # what it held is in the file now (replaying it again is harmless)
        (sweeps_folder(ws) / f"{state.id}.trials").unlink()


def save_trial(ws: Workspace, state: SweepState, trial: TrialState) -> None:
    """One trial's change, durable before the sweep goes on: a line appended, whatever the sweep's size."""
    with open(sweeps_folder(ws) / f"{state.id}.trials", "a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(trial)) + "\n")
        out.flush()
        os.fsync(out.fileno())


def load(ws: Workspace, sweep_id: str) -> SweepState:
    path = sweeps_folder(ws) / f"{sweep_id}.json"
    try:
        state = SweepState.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise NotFound(f"no sweep {sweep_id}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise BadInput(f"the sweep's state {path} is damaged ({exc}); it was not changed") from None
    try:
        changes = (sweeps_folder(ws) / f"{sweep_id}.trials").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        changes = []
    for line in changes:
        try:
            trial = TrialState(**json.loads(line))
        except (ValueError, TypeError):
            continue  # cut short by a crash as it was written: that change never happened
        if 0 <= trial.index < len(state.trials):
            state.trials[trial.index] = trial
    return state


def all_states(ws: Workspace) -> list[SweepState]:
    """Every sweep of the workspace, newest first."""
    folder = sweeps_folder(ws)
    names = sorted((p.stem for p in folder.glob("*.json")), reverse=True) if folder.is_dir() else []
    return [load(ws, name) for name in names]


def find(ws: Workspace, ref: str) -> SweepState:
    """A sweep by its id, short id or a prefix of either; ``last`` is the newest."""
    if ref.strip().lower() == "last":
        newest = all_states(ws)[:1]
        if not newest:
            raise NotFound("no sweep yet: upstack sweep start FILE --under NODE")
        return newest[0]
    wanted = id_key(ref.strip()) if looks_like_full_id(ref.strip()) else ref.strip().lower()
    folder = sweeps_folder(ws)
    names = [p.stem for p in folder.glob("*.json")] if folder.is_dir() else []
    matches = [n for n in names if id_key(n).startswith(wanted)] if len(wanted) >= MIN_PREFIX else []
    if not matches:
        raise NotFound(f"no sweep {ref!r}" + ("" if names else " (none yet: upstack sweep start FILE --under NODE)"))
    if len(matches) > 1:
        raise BadInput(f"sweep {ref!r} is ambiguous: {', '.join(short_id(m) for m in sorted(matches))}")
    return load(ws, matches[0])


@contextmanager
def holding_lock(ws: Workspace, sweep_id: str) -> Iterator[None]:
    """Hold the sweep's lock while it runs; BadInput if another process holds it."""
    make_private_dirs(sweeps_folder(ws))
    fd = os.open(sweeps_folder(ws) / f"{sweep_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BadInput(f"sweep {short_id(sweep_id)} is running already, in another process") from None
        yield
    finally:
        os.close(fd)


def is_running(ws: Workspace, sweep_id: str) -> bool:
    """Whether a process holds the sweep's lock now."""
    path = sweeps_folder(ws) / f"{sweep_id}.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
