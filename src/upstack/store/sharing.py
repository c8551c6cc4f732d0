"""Who holds which role on which node of a team server's tree (the rules: domain/access.py)."""

from __future__ import annotations

from typing import Any

from upstack.store import audit
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["roles_of", "node_owners", "share", "unshare", "holders"]


def roles_of(db: Database, user_id: str) -> dict[str, str]:
    """{node id: role} for the nodes shared with the user (not those below them)."""
    return {r["node_id"]: r["role"] for r in db.query("SELECT node_id, role FROM shares WHERE user_id = ?",
                                                      (user_id,))}


def node_owners(db: Database) -> list[tuple[str, str | None, str | None]]:
    """(id, parent id, owner id) of every node, deleted ones too."""
    return [(r["id"], r["parent_id"], r["owner_id"]) for r in db.query("SELECT id, parent_id, owner_id FROM nodes")]


def share(db: Database, node_id: str, user_id: str, role: str, *, by: str | None, subject: str, address: str) -> None:
    """Give the user ``role`` on the node (in place of any they held there), audited."""
    with db.transaction():
        db.execute("DELETE FROM shares WHERE node_id = ? AND user_id = ?", (node_id, user_id))
        db.execute("INSERT INTO shares (node_id, user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?, ?)",
                   (node_id, user_id, role, by, now_iso()))
        audit.add(db, "share", actor=by, subject=subject, detail=role, address=address)


def unshare(db: Database, node_id: str, user_id: str, *, by: str | None, subject: str, address: str) -> bool:
    """Take the user's role on the node away, audited; False (nothing changed) if they held none there."""
    with db.transaction():
        if not db.execute("DELETE FROM shares WHERE node_id = ? AND user_id = ?", (node_id, user_id)).rowcount:
            return False
        audit.add(db, "unshare", actor=by, subject=subject, address=address)
    return True


def holders(db: Database, node_id: str) -> list[dict[str, Any]]:
    """Members holding a role on the node itself (role, granted_at, login, name), by login."""
    return db.query("SELECT s.role, s.granted_at, u.login, u.name FROM shares s JOIN users u "
                    "ON u.id = s.user_id WHERE s.node_id = ? AND u.removed_at IS NULL ORDER BY u.login", (node_id,))
