"""A two-way vault: `upstack vault link DIR`, `vault sync`, `vault status`, `vault unlink`.

Sync decides what to do (interop/vault_plan.py), then does it one note at a time, each step
written to the log before the state records it: killed anywhere, the next sync finds the step done
on one side and only records it (an imported note reads back as unchanged, a written file as what
its entry renders to), so nothing is lost and nothing doubled. Every overwrite of a file keeps what
it replaced as a revision; a file changed between the scan and a write is not overwritten but read
as "both changed". One sync at a time (a lock file in the workspace: safe from cron).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from upstack.domain.text import plural
from upstack.errors import BadInput
from upstack.files import make_private_dirs
from upstack.interop.vault_plan import Plan, make_plan
from upstack.store import vault as state
from upstack.workspace import Workspace

__all__ = ["Report", "link", "unlink", "status", "sync", "DEFAULT_DELETE_LIMIT"]

DEFAULT_DELETE_LIMIT = 0.25
_MIN_DELETES = 5


@dataclass
class Report:
    root: str
    counts: dict[str, int]
    conflicts: list[str] = field(default_factory=list)  # conflict copies written
    problems: list[str] = field(default_factory=list)  # notes skipped, each with why
    warnings: list[str] = field(default_factory=list)  # notes read all the same, each with what was odd
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root, "dry_run": self.dry_run, **self.counts, "conflict_copies": self.conflicts,
                "problems": self.problems, "warnings": self.warnings}


@contextmanager
def _sync_lock(ws: Workspace) -> Iterator[None]:
    make_private_dirs(ws.home)
    fd = os.open(ws.home / "vault-sync.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BadInput("another `upstack vault sync` is running on this workspace; try again when it "
                           "ends") from None
        yield
    finally:
        os.close(fd)


def _link(ws: Workspace) -> state.Link:
    found = state.get_link(ws.store().db)
    if found is None:
        raise BadInput("no vault is linked: link one with `upstack vault link DIR`")
    return found


def link(ws: Workspace, directory: Path, include_private: bool) -> state.Link:
    root = directory.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise BadInput(f"cannot link {directory}: it is not a folder")
    linked = state.get_link(ws.store().db)
    if linked is not None and linked.root != str(root):
        raise BadInput(f"{linked.root} is linked already (one vault per workspace): `upstack vault unlink` "
                       "first, or every note would be copied into the second folder")
    root.mkdir(parents=True, exist_ok=True)
    state.set_link(ws.store().db, str(root), include_private)
    return _link(ws)


def unlink(ws: Workspace) -> state.Link:
    found = _link(ws)
    state.drop_link(ws.store().db)
    return found


def _scope(ws: Workspace, link: state.Link) -> tuple[dict[str, state.Head], set[str]]:
    heads = state.entry_heads(ws.store().db)
    return heads, {i for i, h in heads.items() if not h.deleted and not h.purged and h.own
                   and (link.include_private or not h.private)}


def _notes(root: Path) -> list[str]:
    from upstack.interop.vault import VaultFolder

    folder = VaultFolder(root)
    return [folder.rel(p) for p in folder.notes]


def _plan(ws: Workspace, link: state.Link) -> tuple[Plan, list[str], dict[str, state.FileState]]:
    root = Path(link.root)
    states = state.file_states(ws.store().db)
    notes = _notes(root) if root.is_dir() else []
    heads, in_scope = _scope(ws, link)
    return make_plan(root, notes, states, heads, in_scope), notes, states


def _guard(ws: Workspace, link: state.Link, plan: Plan, notes: list[str], states: dict[str, Any],
           force: bool) -> None:
    if force or not states:
        return
    if not Path(link.root).is_dir() or not notes:
        raise BadInput(f"the vault {link.root} is missing or empty (an unmounted drive?); syncing would delete "
                       f"{plural(len(states), 'entry', 'entries')}: run `upstack vault sync --force` to go ahead")
    limit = getattr(ws.settings, "vault_delete_limit", DEFAULT_DELETE_LIMIT)
    deletions = plan.deletions
    if len(deletions) > max(_MIN_DELETES, limit * len(states)):
        shown = ", ".join(deletions[:5]) + (f" and {len(deletions) - 5} more" if len(deletions) > 5 else "")
        raise BadInput(f"this sync would delete {len(deletions)} of {len(states)} notes ({shown}), more than "
                       f"vault_delete_limit ({limit:g}) allows: run `upstack vault sync --force` to go ahead")


def status(ws: Workspace) -> Report:
    """What a sync would do now, writing nothing."""
    link_ = _link(ws)
    plan, _, _ = _plan(ws, link_)
    return Report(link_.root, plan.counts(), dry_run=True)


def sync(ws: Workspace, *, force: bool = False, before_acting: Callable[[Plan], None] | None = None,
         progress: Callable[..., None] | None = None) -> Report:
    """Sync the linked vault both ways (see the module's doc). ``before_acting`` is called with the
    plan once it is made, before anything is written (a file watcher's hook, and the tests');
    ``progress(label, done, total)`` as notes are read and written."""
    from upstack.interop.vault_apply import Applier

    with _sync_lock(ws):
        link_ = _link(ws)
        plan, notes, states = _plan(ws, link_)
        _guard(ws, link_, plan, notes, states, force)
        if before_acting is not None:
            before_acting(plan)
        applier = Applier(ws, Path(link_.root), states, plan, today=date.today().isoformat(), progress=progress)
        applier.run()
        done = {key: applier.done[key] for key in plan.counts()}  # what was done, not what was planned
        return Report(link_.root, done, applier.conflict_copies, applier.problems, applier.warnings)

