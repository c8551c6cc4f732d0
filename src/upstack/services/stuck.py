"""Being stuck is normal: notice stuck spells and turn them into a written question.

A stuck spell is an active project with no new learning for some days. `ask`
drafts a question for a mentor or collaborator from the context: what I am
trying to do and why (the trace), what I tried, what I expected, what happened.
Writing the question down often answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from upstack.domain.entry import Entry
from upstack.domain.text import plural
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import tree as tree_service
from upstack.store import periods, queries
from upstack.store import tree as store_tree
from upstack.timeutil import local_display, now_iso, to_iso
from upstack.timeutil import now as clock_now
from upstack.workspace import Workspace

__all__ = ["StuckSpell", "stuck_spells", "draft_question", "ask", "subtree"]


@dataclass
class StuckSpell:
    project: Node
    since: str  # the last learning, or when the project was created
    days: int


def subtree(nodes: dict[str, Node], root: str) -> set[str]:
    below: dict[str, list[str]] = {}
    for node in nodes.values():
        if node.parent_id:
            below.setdefault(node.parent_id, []).append(node.id)
    found, todo = set(), [root]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += below.get(current, [])
    return found


def stuck_spells(ws: Workspace, *, days: int | None = None, now: datetime | None = None,
                 nodes: dict[str, Node] | None = None,
                 activity: dict[str | None, dict[str, Any]] | None = None) -> list[StuckSpell]:
    """Active projects whose last learning is older than ``days`` (the stuck_days setting).

    ``nodes`` and ``activity`` may be passed in by a caller that has them already.
    """
    db = ws.store().db
    days = days if days is not None else ws.settings.stuck_days
    now = now or datetime.now(UTC)
    nodes = nodes if nodes is not None else {n.id: n for n in store_tree.node_rows(db)}
    activity = activity if activity is not None else store_tree.activity(db)
    last_learning = {node_id: a["last_learning"] for node_id, a in activity.items()
                     if node_id and a["last_learning"]}
    spells = []
    for project in nodes.values():
        if project.kind != "project" or project.status != "active":
            continue
        latest = max((last_learning[n] for n in subtree(nodes, project.id) if n in last_learning),
                     default=project.created_at)
        if latest < to_iso(now - timedelta(days=days)):
            age = (now - datetime.fromisoformat(latest.replace("Z", "+00:00"))).days
            spells.append(StuckSpell(project, latest, age))
    return spells


def draft_question(ws: Workspace, node_ref: str, *, to: str | None = None, days: int = 14,
                   keep: Callable[[Entry], bool] | None = None,
                   keep_node: Callable[[Node], bool] | None = None) -> tuple[Node, str]:
    """A question's text: the trace, what was tried, expected, happened; the ask left blank. ``keep``
    and ``keep_node`` choose the entries and nodes it may name (services/mentor, for a prompt that
    leaves the machine); a node left out is named by its kind only."""
    db = ws.store().db
    node_id = tree_service.resolve_node(db, node_ref)
    chain = store_tree.ancestors(db, node_id)
    nodes = {n.id: n for n in store_tree.node_rows(db)}
    under = sorted(subtree(nodes, node_id))
    since = to_iso(clock_now() - timedelta(days=days))
    tried = [e for e in queries.load_entries(db, periods.tried_entry_ids(db, under, since)) if keep is None or keep(e)]
    node = chain[0]
    lines = [f"Stuck on \"{node.title}\": what am I missing?" if not to
             else f"Question for {to} about \"{node.title}\": what am I missing?", ""]
    lines += ["## What I'm trying to do, and why", ""]
    for link in chain:
        if keep_node is not None and not keep_node(link):
            lines.append(f"- a {link.kind} of someone else's (left out)")
            continue
        lines.append(f"- {link.kind} \"{link.title}\" ({link.short}): "
                     f"{link.why or '(no why written yet)'}")
    lines += ["", f"## What I tried (last {plural(days, 'day')})", ""]
    lines += [f"- {local_display(e.occurred_at)} {e.kind}: {e.title} [[{e.short}]]" for e in tried] \
        or ["- (nothing written yet under this node)"]
    expected = [f"- {e.meta['expected']} ([[{e.short}]])" for e in tried if e.meta.get("expected")]
    happened = [f"- {e.meta['happened']} ([[{e.short}]])" for e in tried if e.meta.get("happened")]
    lines += ["", "## What I expected", ""] + (expected or ["- "])
    lines += ["", "## What happened", ""] + (happened or ["- "])
    lines += ["", "## My question", "", "(Write it here. Writing it down often answers it.)"]
    return node, "\n".join(lines)


def ask(ws: Workspace, node_ref: str, text: str, *, occurred_at: str | None = None) -> Entry:
    """Save the (edited) question as an entry of kind question, filed under the node;
    ``occurred_at`` (stored form) back-dates it."""
    if not text.strip():
        raise BadInput("the question is empty: nothing was saved")
    from upstack.domain.text import parse_note_text

    store = ws.store()
    node_id = tree_service.resolve_node(store.db, node_ref)
    parsed = parse_note_text(text)
    entry_id, created = new_id(), now_iso()
    store.write([ws.record("entry.create", {
        "id": entry_id, "revision_id": new_id(), "kind": "question", "title": parsed.title,
        "body": parsed.body, "extra_tags": ["ask"], "private": False, "node_id": node_id,
        "occurred_at": occurred_at or created, "created_at": created, "attachments": [],
        **ws.writer_offset()})])
    return queries.get_entry(store.db, entry_id)
