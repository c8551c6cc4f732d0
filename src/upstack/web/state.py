"""Each server thread's workspace: one database connection per thread, reused across requests."""

from __future__ import annotations

import threading
from typing import Any

from upstack.workspace import Workspace

__all__ = ["Workspaces", "open_workspace"]


class Workspaces(threading.local):
    """One Workspace (one database connection) per server thread, reused across requests."""

    ws: Workspace | None = None


def open_workspace(state: Any) -> Workspace:
    """This server thread's workspace (one database connection per thread, reused)."""
    local: Workspaces = state.workspaces
    if local.ws is None:
        local.ws = state.workspace.sibling(team=state.team)
        with state.opened_lock:
            state.opened.append(local.ws)  # closed when the server stops
    return local.ws
