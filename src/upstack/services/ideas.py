"""Idea triage: capture ideas, find the cheapest test that could kill each, prune fast.

An idea is an entry of kind "idea" (so search, revisions, export and history work
on it) with a triage row: hypothesis, cheapest disqualifying test, kill criteria,
cost, value, and a state: candidate → de-risking → active → parked / pruned / done.
Pruned ideas never disappear: their reason is written into the entry, so
`upstack search` answers "have I tried this before?".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upstack.domain import access
from upstack.domain.access import require_edit
from upstack.domain.entry import Entry
from upstack.domain.idea import IDEA_STATES, Idea, check_state, check_triage, rank_ideas
from upstack.domain.similar import Closeness, closeness, stems
from upstack.domain.text import parse_note_text
from upstack.domain.tree import Node
from upstack.errors import BadInput, NotFound
from upstack.ids import new_id
from upstack.services import commitment, curate
from upstack.services import tree as tree_service
from upstack.store import ideas as store_ideas
from upstack.store import queries
from upstack.store.db import Database
from upstack.store.tree import load_node
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["capture_idea", "triage", "set_state", "promote", "get_idea", "list_ideas",
           "close_ideas", "CloseIdea", "PRUNED_PREFIX"]

PRUNED_PREFIX = "Pruned: "
# "Have I tried this before?" looks at ideas that were set aside.
_SET_ASIDE = ("pruned", "parked")


def capture_idea(ws: Workspace, text: str, *, occurred_at: str | None = None,
                 **triage_fields: Any) -> Entry:
    """Capture an idea (an entry of kind "idea") with whatever triage is known already;
    ``occurred_at`` (stored form) back-dates it to when it was had.

    Example:
        >>> capture_idea(ws, "Probe for deception in the residual stream.",
        ...              cheapest_test="Linear probe on 200 labelled prompts", cost_hours=4)  # doctest: +SKIP
    """
    ws.check_writable()
    if not text.strip():
        raise BadInput("the idea is empty")
    fields = check_triage(triage_fields)
    parsed = parse_note_text(text)
    created = now_iso()
    entry_id = new_id()
    entry_data: dict[str, Any] = {
        "id": entry_id, "revision_id": new_id(), "kind": "idea", "title": parsed.title,
        "body": parsed.body, "extra_tags": [], "private": False, "project": None,
        "node_id": None, "occurred_at": occurred_at or created, "created_at": created,
        "attachments": [], **ws.writer_offset(),
    }
    store = ws.store()
    # One append: the entry and its triage row arrive together or not at all.
    store.write([ws.record("entry.create", entry_data),
                 ws.record("idea.create", {"entry_id": entry_id, "at": occurred_at or created,
                                           "triage": fields})])
    return queries.get_entry(store.db, entry_id)


def _idea_id(db: Database, ref: str) -> str:
    entry_id = queries.resolve(db, ref, what="idea")
    if not store_ideas.is_idea(db, entry_id):
        raise BadInput(f"entry {ref!r} is not an idea (capture one with `upstack idea`)")
    return entry_id


def get_idea(ws: Workspace, ref: str) -> Idea:
    db = ws.store().db
    entry_id = _idea_id(db, ref)
    idea = store_ideas.load_ideas(db, entry_ids=(entry_id,), include_deleted=True)[0]
    idea.events = store_ideas.idea_events(db, entry_id)
    return idea


def triage(ws: Workspace, ref: str, **triage_fields: Any) -> Idea:
    """Set triage fields (those given; None leaves a field as it is)."""
    fields = check_triage(triage_fields)
    store = ws.store()
    entry_id = _idea_id(store.db, ref)
    require_edit(queries.get_entry(store.db, entry_id))
    if not fields:
        raise BadInput("nothing to triage: give --hypothesis, --test, --kill, --cost, "
                       "--compute, --value or --score")
    store.write([ws.record("idea.triage", {"entry_id": entry_id, "at": now_iso(),
                                           "triage": fields})])
    return get_idea(ws, entry_id)


def set_state(ws: Workspace, ref: str, state: str, reason: str = "",
              evidence: list[str] | None = None, *, node_id: str | None = None,
              override: str = "") -> Idea:
    """Move an idea to another state; pruning needs a reason, and may cite evidence entries."""
    value = check_state(state)
    reason = " ".join(reason.split())
    store = ws.store()
    entry_id = _idea_id(store.db, ref)
    idea = get_idea(ws, entry_id)
    if value == idea.state:
        raise BadInput(f"idea {idea.short} is already {value}")
    entry = queries.get_entry(store.db, entry_id)
    require_edit(entry)
    if entry.purged_at:
        raise BadInput(f"idea {idea.short} was purged; its state cannot change")
    if value == "pruned" and not reason:
        raise BadInput(f"pruning needs a reason: upstack prune {idea.short} --reason \"...\"")
    if value == "pruned" and idea.state == "active" and not override:
        activated = store_ideas.last_activated_at(store.db, entry_id)
        commitment.check_recent(ws, activated or entry.created_at, f"idea {idea.short}")
    # Pruning (or finishing) closes what the idea was promoted to: its node would stay active in
    # the tree, holding one of the active projects allowed.
    closing = _promoted_node(ws, store.db, idea) if value in _CLOSES else None
    status, said = _CLOSES.get(value, ("", ""))
    closed = [tree_service.status_change(ws, store.db, closing, status,
                                         f"its idea {idea.short} {said}" + (f": {reason}" if reason else ""),
                                         override)] if closing else []
    reason = tree_service.with_override(reason, override)
    cited = [queries.resolve(store.db, e, what="evidence entry") for e in evidence or []]
    record: dict[str, Any] = {"entry_id": entry_id, "state": value, "reason": reason,
                              "evidence": cited, "at": queries.change_stamp(store.db, entry_id)}
    if node_id:
        record["node_id"] = node_id
    store.write([ws.record("idea.state", record), *closed])
    if value == "pruned":
        curate.edit(ws, entry_id, curate.edit_text(entry).rstrip() + f"\n\n{PRUNED_PREFIX}{reason}")
    return get_idea(ws, entry_id)


# An idea's state -> (the status its promoted node takes, what the node's history says of the idea).
_CLOSES = {"pruned": ("dropped", "was pruned"), "done": ("done", "is done")}


def _promoted_node(ws: Workspace, db: Database, idea: Idea) -> Node | None:
    """The node an idea was promoted to, if it is still open and the reader may change it."""
    if not idea.node_id:
        return None
    try:
        node = load_node(db, idea.node_id)
    except NotFound:
        return None  # not theirs to see
    audience = access.current(team=ws.team)
    if node.deleted_at or node.status in ("done", "dropped") or (
            audience is not None and not audience.has(node.id, "editor")):
        return None
    return node


def promote(ws: Workspace, ref: str, *, kind: str = "project", under: str | None = None,
            link: str | None = None, reason: str = "", override: str = "") -> tuple[Idea, Node]:
    """Make an idea active: create a project (or question) node for it, or link an existing one."""
    store = ws.store()
    idea = get_idea(ws, _idea_id(store.db, ref))
    if idea.state == "active":
        raise BadInput(f"idea {idea.short} is already active")
    if link and under:
        raise BadInput("give --link NODE or --under NODE, not both")
    if link:
        node = load_node(store.db, tree_service.resolve_node(store.db, link))
    elif idea.node_id and not load_node(store.db, idea.node_id).deleted_at:
        node = load_node(store.db, idea.node_id)  # promoted before: the same node again
    else:
        if kind not in ("project", "question"):
            raise BadInput(f"an idea becomes a project or a question, not {kind!r}")
        node = tree_service.add_node(ws, kind, idea.title, why=idea.value or idea.hypothesis,
                                     under=under, status="active", override=override)
    return set_state(ws, idea.entry_id, "active", reason, node_id=node.id), node


def list_ideas(ws: Workspace, *, states: tuple[str, ...] = (), order: str = "value-per-cost") -> list[Idea]:
    """Ideas in the given states (default: all but pruned and done), ranked by ``order``."""
    wanted = tuple(check_state(s) for s in states) if states else \
        tuple(s for s in IDEA_STATES if s not in ("pruned", "done"))
    return rank_ideas(store_ideas.load_ideas(ws.store().db, states=wanted), order)


@dataclass
class CloseIdea:
    idea: Idea
    closeness: Closeness

    def to_dict(self) -> dict[str, Any]:
        return {**self.idea.to_dict(), "score": round(self.closeness.score, 3),
                "shared": list(self.closeness.shared)}


def close_ideas(ws: Workspace, text: str, *, exclude: str | None = None) -> list[CloseIdea]:
    """Pruned and parked ideas close to ``text``, closest first."""
    mine = stems(text)
    found = []
    for idea, other in store_ideas.idea_bodies(ws.store().db, _SET_ASIDE):
        if idea.entry_id == exclude:
            continue
        score = closeness(mine, stems(other))
        if score.close:
            found.append(CloseIdea(idea, score))
    return sorted(found, key=lambda c: (-c.closeness.score, c.idea.entry_id))
