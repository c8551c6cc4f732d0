"""What a workspace linked to a team server knows of its rights there, so that it can say at once
what the server will not take (a viewer's note under a shared project, a commenter's edit of a
mentor's entry), not only at the next `upstack sync`.

Each sync keeps the server's answer to "who am I here": the user's id, whether they own what was
written with nobody signed in, and their role on every node they see (``server-roles.json`` in
the workspace). The checks are the server's own (domain/access.py), asked of that answer. Nothing
here stops a change: the workspace is the user's; the change stays on it, and sync says so again.
"""

from __future__ import annotations

import json
from typing import Any

from upstack.domain.access import ROLES, Audience
from upstack.domain.entry import Entry
from upstack.files import write_atomically
from upstack.ids import short_id
from upstack.workspace import Workspace

__all__ = ["ROLES_FILE", "save_roles", "server_audience", "note_warning", "edit_warning", "comment_warning"]

ROLES_FILE = "server-roles.json"


def save_roles(ws: Workspace, server: str, you: dict[str, Any]) -> None:
    """Keep what the server said of the user (at login, and at each sync). An answer of another shape
    (an older server) keeps no roles: then nothing is said ahead of a sync."""
    try:
        roles = {str(k): str(v) for k, v in dict(you.get("roles") or {}).items() if v in ROLES}
        kept = {"server": server, "id": str(you.get("id") or ""), "login": str(you.get("login") or ""),
                "owns_unattributed": bool(you.get("owns_unattributed")), "roles": roles}
    except (TypeError, ValueError, AttributeError):
        (ws.home / ROLES_FILE).unlink(missing_ok=True)
        return
    if not kept["id"]:
        (ws.home / ROLES_FILE).unlink(missing_ok=True)
        return
    write_atomically(ws.home / ROLES_FILE, json.dumps(kept, sort_keys=True))
    from upstack.store.accounts import has_users, set_linked_id

    db = ws.store().db
    if not has_users(db):  # a laptop (a workspace with accounts is a server: its people are its own)
        set_linked_id(db, str(kept["id"]))


def server_audience(ws: Workspace) -> tuple[str, Audience] | None:
    """(the server's address, the user as it sees them) after a sync; None if this workspace never
    synced with one (or its link is gone)."""
    if not (ws.home / "remote.json").exists():
        return None
    try:
        kept = json.loads((ws.home / ROLES_FILE).read_text())
        return str(kept["server"]), Audience(user_id=str(kept["id"]), login=str(kept["login"]),
                                             owns_unattributed=bool(kept["owns_unattributed"]),
                                             roles={str(k): str(v) for k, v in dict(kept["roles"]).items()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not synced yet, or the file is damaged: the next sync writes it again


def _known_above(ws: Workspace, node_id: str, audience: Audience) -> str | None:
    """The node itself if the server knows it, else its nearest ancestor the server knows: a node made
    here goes where its parent is, with the rights held there. None: the top, and all of it new."""
    if node_id in audience.roles:
        return node_id
    from upstack.store.tree import ancestors  # only a linked workspace filing under a node of its own

    for node in ancestors(ws.store().db, node_id)[1:]:
        if node.id in audience.roles:
            return node.id
    return None


def _role(audience: Audience, node_id: str) -> str:
    return audience.role(node_id) or "no role"


def note_warning(ws: Workspace, node_id: str | None) -> str:
    """'' if the server will take a new note filed under ``node_id``; else a line saying why not."""
    linked = server_audience(ws) if node_id else None
    if linked is None or node_id is None:
        return ""
    server, audience = linked
    known = _known_above(ws, node_id, audience)
    if known is None or audience.may_file_under(known):
        return ""
    return (f"{server} will not take this note: you are {_role(audience, known)} on node {short_id(known)} there "
            "(an editor may add notes); it stays on this workspace, and `upstack sync` lists it")


def edit_warning(ws: Workspace, entry: Entry) -> str:
    """'' if the server will take a change to ``entry``; else a line saying why not."""
    linked = server_audience(ws)
    if linked is None or entry.author_id is None:  # written here: the user's own
        return ""
    server, audience = linked
    if audience.may_edit_entry(author_id=entry.author_id, private=entry.private, node_id=entry.node_id):
        return ""
    return (f"{server} will not take this change: entry {entry.short} is someone else's and you are "
            f"{_role(audience, entry.node_id or '')} where it is there (an editor may change it); it stays on "
            f"this workspace, and `upstack sync` lists it")


def comment_warning(ws: Workspace, entry: Entry) -> str:
    """'' if the server will take a comment on ``entry``; else a line saying why not."""
    linked = server_audience(ws)
    if linked is None or entry.author_id is None:
        return ""
    server, audience = linked
    if audience.may_comment(author_id=entry.author_id, private=entry.private, node_id=entry.node_id):
        return ""
    return (f"{server} will not take this comment: you are {_role(audience, entry.node_id or '')} where entry "
            f"{entry.short} is there (a commenter may comment); it stays on this workspace")
