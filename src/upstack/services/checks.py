"""`upstack check`: the warning flags of the method, computed from the tree and the log.

- work (entries, experiments) with no path up to an agenda;
- nodes whose why is empty;
- active work under a parent that is parked, done or dropped;
- spinning your wheels: how much of the last days' writing traces to no agenda;
- projects with no activity for some weeks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from upstack.domain.filters import Filters
from upstack.domain.text import plural
from upstack.domain.tree import Node
from upstack.services.stuck import stuck_spells
from upstack.services.tree import asks_why
from upstack.store import periods, queries
from upstack.store import tree as store_tree
from upstack.timeutil import to_iso
from upstack.workspace import Workspace

__all__ = ["Flag", "CheckReport", "check", "orphan_places"]


@dataclass(frozen=True)
class Flag:
    check: str  # orphan, no-why, closed-parent, spinning, stale
    subject: str  # a short id, or "recent entries"
    message: str
    # The entries it is about, newest first ({"id", "short", "title"}), as many as were asked for.
    entries: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "entries": list(self.entries)}


@dataclass
class CheckReport:
    flags: list[Flag] = field(default_factory=list)
    recent_entries: int = 0
    recent_untraceable: int = 0
    days: int = 7

    def to_dict(self) -> dict[str, Any]:
        return {"flags": [f.to_dict() for f in self.flags], "days": self.days,
                "recent_entries": self.recent_entries,
                "recent_untraceable": self.recent_untraceable}


def _roots(nodes: dict[str, Node]) -> dict[str, Node]:
    """Each node's root: follow parents up (a parent outside the live tree ends the chain)."""
    roots: dict[str, Node] = {}

    def root_of(node_id: str, seen: frozenset[str]) -> Node:
        if node_id not in roots:
            parent_id = nodes[node_id].parent_id
            if parent_id in nodes and parent_id not in seen:
                roots[node_id] = root_of(parent_id, seen | {node_id})  # type: ignore[arg-type]
            else:
                roots[node_id] = nodes[node_id]
        return roots[node_id]

    for node_id in nodes:
        root_of(node_id, frozenset())
    return roots


def _traceable(ws: Workspace, nodes: dict[str, Node]) -> set[str]:
    """The nodes whose chain reaches an agenda, or is not the reader's to answer for: one cut where
    their view of a shared tree begins (`tree.asks_why`)."""
    roots = _roots(nodes)
    asked = {root.id: asks_why(ws, [root]) for root in {r.id: r for r in roots.values()}.values()}
    return {node_id for node_id, root in roots.items() if not asked[root.id]}


def orphan_places(ws: Workspace, activity: dict[str | None, dict[str, Any]] | None = None
                  ) -> tuple[str | None, ...]:
    """The nodes (None: no node) with work filed directly under them that traces to no agenda:
    ``Filters(work_under=...)`` of these lists the orphans `upstack check` counts."""
    db = ws.store().db
    return _orphan_places(activity if activity is not None else store_tree.activity(db),
                          _traceable(ws, {n.id: n for n in store_tree.node_rows(db)}))


def _orphan_places(activity: dict[str | None, dict[str, Any]], traceable: set[str]) -> tuple[str | None, ...]:
    return tuple(node_id for node_id, counts in activity.items() if counts["work"] and node_id not in traceable)


def check(ws: Workspace, *, days: int | None = None, stale_weeks: int | None = None,
          now: datetime | None = None, activity: dict[str | None, dict[str, Any]] | None = None,
          named: int | None = 0) -> CheckReport:
    """The flags; ``activity`` is ``services.tree.activity(ws)`` if the caller has it already.
    ``named``: how many of the entries a flag is about to name in it (None: all of them)."""
    db = ws.store().db
    days = days if days is not None else ws.settings.check_days
    stale_weeks = stale_weeks if stale_weeks is not None else ws.settings.stale_weeks
    now = now or datetime.now(UTC)
    report = CheckReport(days=days)
    nodes = {n.id: n for n in store_tree.node_rows(db)}
    traceable = _traceable(ws, nodes)

    for node in nodes.values():
        if not node.why and node.kind != "agenda":
            report.flags.append(Flag("no-why", node.short,
                                     f"{node.kind} \"{node.title}\" has no why: how does it move "
                                     "its parent?"))
        elif not node.why:
            report.flags.append(Flag("no-why", node.short,
                                     f"agenda \"{node.title}\" does not say how it helps the "
                                     "larger goal"))
        if node.kind == "experiment" and node.id not in traceable:
            report.flags.append(Flag("orphan", node.short,
                                     f"experiment \"{node.title}\" has no path to an agenda"))
        parent = nodes.get(node.parent_id) if node.parent_id else None
        if node.status == "active" and parent and parent.status in ("parked", "done", "dropped"):
            report.flags.append(Flag("closed-parent", node.short,
                                     f"\"{node.title}\" is active but its {parent.kind} "
                                     f"\"{parent.title}\" is {parent.status}"))

    if activity is None:
        activity = store_tree.activity(db)
    orphans = sum(a["work"] for node_id, a in activity.items() if node_id not in traceable)
    if orphans and nodes:
        listed = queries.timeline(db, Filters(work_under=_orphan_places(activity, traceable)), named) \
            if named != 0 else []
        report.flags.append(Flag("orphan", "entries",
                                 f"{orphans} entr{'y traces' if orphans == 1 else 'ies trace'} to no "
                                 "agenda (move their node under one with `upstack node move`; "
                                 "file new work with `upstack note --under` or `focus`)",
                                 tuple({"id": e.id, "short": e.short, "title": e.title} for e in listed)))

    recent = periods.recent_counts_by_node(db, to_iso(now - timedelta(days=days)))
    report.recent_entries = sum(recent.values())
    report.recent_untraceable = sum(n for node_id, n in recent.items() if node_id not in traceable)
    if nodes and report.recent_entries and report.recent_untraceable * 2 > report.recent_entries:
        report.flags.append(Flag(
            "spinning", "recent entries",
            f"{report.recent_untraceable} of the last {plural(days, 'day')}' {report.recent_entries} "
            "entries trace to no agenda: are you spinning your wheels?"))

    children: dict[str, list[str]] = {}
    for node in nodes.values():
        if node.parent_id:
            children.setdefault(node.parent_id, []).append(node.id)

    def last_activity(node_id: str) -> str | None:
        latest = activity.get(node_id, {}).get("last")
        for child in children.get(node_id, []):
            candidate = last_activity(child)
            if candidate and (latest is None or candidate > latest):
                latest = candidate
        return latest

    stale_before = to_iso(now - timedelta(weeks=stale_weeks))
    for node in nodes.values():
        if node.kind != "project" or node.status in ("parked", "done", "dropped"):  # parked: quiet on purpose
            continue
        last = last_activity(node.id) or node.created_at
        if last < stale_before:
            report.flags.append(Flag("stale", node.short,
                                     f"project \"{node.title}\" has had no activity for "
                                     f"{stale_weeks}+ weeks (last {last[:10]})"))
    for spell in stuck_spells(ws, now=now, nodes=nodes, activity=activity):
        report.flags.append(Flag(
            "stuck", spell.project.short,
            f"no new learning on active project \"{spell.project.title}\" for {spell.days} days: "
            f"being stuck is normal; write it down with `upstack ask {spell.project.short}`"))
    return report
