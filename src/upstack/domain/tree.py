"""The theory-of-change tree: agenda → project → question → experiment, each with a why.

A research question here is a node of the tree; an entry of kind "question" is a
question to put to someone. The rules below are pure: no I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from upstack.errors import BadInput
from upstack.ids import short_id

__all__ = ["NODE_KINDS", "STATUSES", "Node", "check_parent", "check_status", "status_label"]

NODE_KINDS = ("agenda", "project", "question", "experiment")
# parked: set aside on purpose, to come back to (not stale, not stuck, not closed).
STATUSES = ("open", "active", "blocked", "parked", "done", "dropped")
_ALIASES = {"answered": "done", "finished": "done"}

# What each kind may sit under (None: at the top, which only an agenda should).
_PARENTS: dict[str, tuple[str, ...]] = {
    "agenda": (),
    "project": ("agenda",),
    "question": ("project", "question"),
    "experiment": ("question", "project"),
}


@dataclass
class Node:
    id: str
    kind: str
    title: str
    why: str
    status: str
    parent_id: str | None
    created_at: str
    updated_at: str
    deleted_at: str | None = None

    @property
    def short(self) -> str:
        return short_id(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {"short": self.short, **asdict(self)}


def check_parent(kind: str, parent_kind: str | None) -> None:
    """Refuse a parent that breaks agenda → project → question → experiment."""
    if parent_kind is None:
        return  # allowed; `upstack check` flags work with no path to an agenda
    allowed = _PARENTS[kind]
    if parent_kind not in allowed:
        where = " or ".join(_a(k) for k in allowed) if allowed else "nothing (an agenda is a root)"
        raise BadInput(f"{_a(kind)} cannot sit under {_a(parent_kind)}: put it under {where}")


def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def check_status(status: str) -> str:
    value = _ALIASES.get(status.lower(), status.lower())
    if value not in STATUSES:
        raise BadInput(f"unknown status {status!r}: choose one of {', '.join(STATUSES)} "
                       "(or 'answered' for a question)")
    return value


def status_label(node: Node) -> str:
    """'done' reads 'answered' on a question."""
    return "answered" if node.status == "done" and node.kind == "question" else node.status
