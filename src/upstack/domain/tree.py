"""The theory-of-change tree: agenda → project → question → experiment, each with a why.

A research question here is a node of the tree; an entry of kind "question" is a
question to put to someone. The rules below are pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from upstack.domain.text import title_key
from upstack.errors import Ambiguous, BadInput, NotFound
from upstack.ids import short_id

__all__ = ["NODE_KINDS", "NODE_TITLE_CHARS", "STATUSES", "Node", "check_parent", "check_status", "status_label",
           "match_project", "no_such_project"]

NODE_KINDS = ("agenda", "project", "question", "experiment")
NODE_TITLE_CHARS = 500  # a node's title is an indexed key (title_key): a team server takes no longer one
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


def match_project(name: str, titles: Iterable[str]) -> str | None:
    """The project title that ``name`` means: the one it spells (case, spacing and a closing
    stop aside), else the only one it begins; None if it names none.

    >>> match_project("ioi", ["IOI circuit in GPT-2 small", "SAE widths"])
    'IOI circuit in GPT-2 small'
    """
    key = title_key(name)
    if not key:
        raise BadInput(f"project name {name!r} is empty")
    known: dict[str, str] = {}
    for title in titles:
        known.setdefault(title_key(title), title)
    if key in known:
        return known[key]
    begun = [title for found, title in known.items() if found.startswith(key)]
    if len(begun) > 1:
        shown = ", ".join(f'"{t}"' for t in sorted(begun)[:5])
        raise Ambiguous(f"project {name!r} is ambiguous: it begins {shown}"
                        f"{' and more' if len(begun) > 5 else ''}; type more of its name")
    return begun[0] if begun else None


def no_such_project(name: str, titles: Iterable[str], *, hint: str = "") -> NotFound:
    """The error for a name that matches no project, saying which exist."""
    known = sorted(dict.fromkeys(titles), key=str.casefold)
    listed = ("; the projects are " + ", ".join(f'"{t}"' for t in known[:10])
              + (f" and {len(known) - 10} more" if len(known) > 10 else "")) if known else "; there are no projects yet"
    return NotFound(f"no project named {name!r}{listed}{hint}")
