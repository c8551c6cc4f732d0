"""Commitment: juggle few problems at once, and give an active one a real shot.

Two rules, each with an explicit override that is recorded with its reason:
at most ``active_projects`` projects active at once (default 1), and an active
project, question or idea is not dropped or pruned within ``min_commitment_days``
(default 14) of becoming active.
"""

from __future__ import annotations

from datetime import UTC, datetime

from upstack.domain.text import plural
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.store import tree as store_tree
from upstack.store.db import Database
from upstack.timeutil import parse_iso
from upstack.workspace import Workspace

__all__ = ["check_active_limit", "check_commitment", "days_since"]


def days_since(iso: str, now: datetime | None = None) -> float:
    return ((now or datetime.now(UTC)) - parse_iso(iso)).total_seconds() / 86400


def check_active_limit(ws: Workspace, db: Database, kind: str, *, exclude: str | None = None,
                       override: str = "") -> None:
    """Refuse one active project too many, unless overridden with a reason."""
    if kind != "project" or override:
        return
    limit = ws.settings.active_projects
    active = [n for n in store_tree.node_rows(db)
              if n.kind == "project" and n.status == "active" and n.id != exclude]
    if len(active) >= limit:
        names = ", ".join(f"{n.short} \"{n.title}\"" for n in active)
        raise BadInput(f"already {plural(len(active), 'active project')} ({names}) and the limit is "
                       f"{limit}: park one first (upstack node status ID parked) or give "
                       "--override \"why\"")


def _active_since(db: Database, node: Node) -> str:
    return store_tree.became_active_at(db, node.id) or node.created_at


def check_commitment(ws: Workspace, db: Database, node: Node, new_status: str,
                     override: str = "") -> None:
    """Refuse dropping an active node before it had a real shot, unless overridden."""
    if node.status != "active" or new_status != "dropped" or override:
        return
    check_recent(ws, _active_since(db, node), f"{node.kind} {node.short}")


def check_recent(ws: Workspace, active_since: str, what: str) -> None:
    minimum = ws.settings.min_commitment_days
    age = days_since(active_since)
    if age < minimum:
        raise BadInput(f"{what} has been active for {age:.0f} of the {minimum:.0f} days of "
                       "commitment: give it a real shot, or give --override \"why\"")
