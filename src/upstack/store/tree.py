"""Reading the theory-of-change tree: nodes, their ancestors, children, history and counts."""

from __future__ import annotations

from typing import Any

from upstack.domain import access
from upstack.domain.tree import Node
from upstack.errors import NotFound
from upstack.store.db import Database
from upstack.store.queries import reader_sql

__all__ = ["load_node", "node_owner", "node_rows", "ancestors", "children", "history", "activity", "recent_entry_ids",
           "is_live", "became_active_at"]

_COLUMNS = "id, kind, title, why, status, parent_id, created_at, updated_at, deleted_at"


def _node(db: Database, row: dict[str, Any]) -> Node:
    """A node as its reader may know it: a parent they cannot open is no parent (its id is not theirs)."""
    node = Node(**{k: row[k] for k in ("id", "kind", "title", "why", "status", "parent_id",
                                       "created_at", "updated_at", "deleted_at")})
    if node.parent_id and not _visible(db, node.parent_id):
        node.parent_id = None
    return node


def _visible(db: Database, node_id: str) -> bool:
    """On a team server, whether the reader holds a role on the node (see domain/access.py)."""
    audience = access.current(team=db.team)
    return audience is None or audience.sees_node(node_id)


def load_node(db: Database, node_id: str) -> Node:
    row = db.one(f"SELECT {_COLUMNS} FROM nodes WHERE id = ?", (node_id,))
    if row is None or not _visible(db, node_id):
        raise NotFound(f"no node with id {node_id!r}")
    return _node(db, row)


def node_owner(db: Database, node_id: str) -> str | None:
    """Who made a node the reader may see (None: made before there were accounts)."""
    load_node(db, node_id)  # NotFound unless the reader may see it
    owner = db.scalar("SELECT owner_id FROM nodes WHERE id = ?", (node_id,))
    return str(owner) if owner is not None else None


def node_rows(db: Database, *, include_deleted: bool = False) -> list[Node]:
    where = "" if include_deleted else " WHERE deleted_at IS NULL"
    return [_node(db, r) for r in db.query(f"SELECT {_COLUMNS} FROM nodes{where} ORDER BY created_at, id")
            if _visible(db, r["id"])]


def ancestors(db: Database, node_id: str) -> list[Node]:
    """The node, its parent, and so on up to the root, or up to the first node the reader
    may not see (cycles cannot occur, but are cut)."""
    chain: list[Node] = []
    seen: set[str] = set()
    current: str | None = node_id
    while current and current not in seen and _visible(db, current):
        seen.add(current)
        node = load_node(db, current)
        chain.append(node)
        current = node.parent_id
    return chain


def children(db: Database, node_id: str) -> list[Node]:
    return [_node(db, r) for r in db.query(
        f"SELECT {_COLUMNS} FROM nodes WHERE parent_id = ? AND deleted_at IS NULL "
        "ORDER BY created_at, id", (node_id,)) if _visible(db, r["id"])]


def history(db: Database, node_id: str) -> list[dict[str, Any]]:
    """The node's changes, oldest first. A move names the parents it left and joined; one the
    reader may not open (or that is not in this store, as on a laptop that synced) is given as
    hidden (``old_hidden``/``new_hidden``, its value None), for its id is not theirs to know."""
    events = db.query("SELECT at, change, old_value, new_value, reason FROM node_events "
                      "WHERE node_id = ? ORDER BY at, id", (node_id,))
    return [_hide_parents(db, event) if event["change"] == "parent" else event for event in events]


def _hide_parents(db: Database, event: dict[str, Any]) -> dict[str, Any]:
    for side in ("old", "new"):
        parent_id = event[f"{side}_value"]
        hidden = bool(parent_id) and not (
            _visible(db, parent_id) and db.one("SELECT 1 AS found FROM nodes WHERE id = ?", (parent_id,)))
        event[f"{side}_hidden"] = hidden
        if hidden:
            event[f"{side}_value"] = None
    return event


def activity(db: Database) -> dict[str | None, dict[str, Any]]:
    """Per node (None: no node), its own live entries in one pass over an index.

    entries and learnings count everything; work leaves out what the tree does not answer for
    (``queries.work_sql``: ideas, takes, the job search's entries, a mentor's answers);
    last and last_learning are the latest times.
    """
    from upstack.domain.filters import Filters
    from upstack.store.queries import filter_sql, work_sql

    where, params = filter_sql(db, Filters())  # live entries; on a team server, those the reader may see
    rows = db.query(
        "SELECT e.node_id, count(*) AS entries, "
        "sum(CASE WHEN e.kind = 'learning' THEN 1 ELSE 0 END) AS learnings, "
        f"sum(CASE WHEN {work_sql()} THEN 1 ELSE 0 END) AS work, "
        "max(e.occurred_at) AS last, "
        "max(CASE WHEN e.kind = 'learning' THEN e.occurred_at END) AS last_learning "
        f"FROM entries e WHERE {where} GROUP BY e.node_id", params)
    return {r["node_id"]: {"entries": int(r["entries"]), "learnings": int(r["learnings"] or 0),
                           "work": int(r["work"] or 0), "last": r["last"],
                           "last_learning": r["last_learning"]} for r in rows}


def recent_entry_ids(db: Database, node_id: str, limit: int) -> list[str]:
    """The node's own live entries the reader may see, newest first. Filtered before the limit: else
    entries the reader may not see would take places in it and push theirs out (a leak by difference)."""
    visible, params = reader_sql(db)
    return [r["id"] for r in db.query(
        f"SELECT e.id FROM entries e WHERE e.node_id = ? AND e.deleted_at IS NULL AND {visible} "
        "ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?", [node_id, *params, limit])]


def is_live(db: Database, node_id: str) -> bool:
    """Whether a node has this id and is not deleted."""
    return db.one("SELECT id FROM nodes WHERE id = ? AND deleted_at IS NULL", (node_id,)) is not None


def became_active_at(db: Database, node_id: str) -> str | None:
    """When the node last became active (None: never since it was made)."""
    row = db.one("SELECT max(at) AS at FROM node_events WHERE node_id = ? AND new_value = 'active'", (node_id,))
    return row["at"] if row and row["at"] else None
