"""Reading back what an integration wrote: through ``upstack.Workspace`` and ``upstack.services.runs``,
as a person's script would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import upstack
from upstack.domain.run import RunInfo
from upstack.services import runs


def runs_in(home: Path) -> list[RunInfo]:
    """Every run of the workspace at ``home``, oldest first, in full (metrics, summary, items)."""
    ws = upstack.Workspace(home=home)
    try:
        ws.ingest()
        return [runs.get_run(ws, r.id) for r in reversed(runs.list_runs(ws))]
    finally:
        ws.close()


def only_run(home: Path) -> RunInfo:
    found = runs_in(home)
    assert len(found) == 1, [(r.name, r.status) for r in found]
    return found[0]


def series(home: Path, run: RunInfo, key: str) -> list[tuple[int, float]]:
    """A metric's (step, value) points."""
    ws = upstack.Workspace(home=home)
    try:
        found = runs.series(ws, run.id, key)
        return list(zip(found.steps, found.values, strict=True))
    finally:
        ws.close()


REMOTE_CONNECTIONS: list[str] = []  # connections tried to anywhere but this machine (conftest.py fails a test on one)


def watch_connections(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook: every ``socket.connect`` to an address off this machine is noted."""
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            REMOTE_CONNECTIONS.append(repr(address))
