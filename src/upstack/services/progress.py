"""`upstack progress`: progress counted in learnings, per week and per project."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from upstack.domain.tree import Node
from upstack.store import tree as store_tree
from upstack.timeutil import parse_iso, to_iso
from upstack.workspace import Workspace

__all__ = ["WeekRow", "progress", "week_of", "project_titles", "NO_PROJECT"]

NO_PROJECT = "(no project)"


@dataclass
class WeekRow:
    week: str  # ISO week, e.g. 2026-W48
    project: str
    entries: int = 0
    learnings: int = 0
    results: int = 0
    failed_but_learned: int = 0
    experiments: int = 0
    runs: int = 0
    ideas_pruned: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def week_of(iso: str) -> str:
    year, week, _ = parse_iso(iso).astimezone().isocalendar()
    return f"{year}-W{week:02d}"


def project_titles(nodes: dict[str, Node]) -> dict[str, str]:
    """Each node's nearest project ancestor (itself included), by title."""
    titles: dict[str, str] = {}
    for node in nodes.values():
        current: Node | None = node
        seen: set[str] = set()
        while current is not None and current.kind != "project" and current.id not in seen:
            seen.add(current.id)
            current = nodes.get(current.parent_id) if current.parent_id else None
        titles[node.id] = current.title if current is not None and current.kind == "project" \
            else NO_PROJECT
    return titles


def progress(ws: Workspace, *, weeks: int = 8, project: str | None = None,
             now: datetime | None = None) -> list[WeekRow]:
    """Rows for the last ``weeks`` weeks, newest week first, busiest project first."""
    db = ws.store().db
    since = to_iso((now or datetime.now(UTC)) - timedelta(weeks=weeks))
    nodes = {n.id: n for n in store_tree.node_rows(db)}
    projects = project_titles(nodes)
    rows: dict[tuple[str, str], WeekRow] = {}

    def row(when: str, node_id: str | None) -> WeekRow:
        key = (week_of(when), projects.get(node_id, NO_PROJECT) if node_id else NO_PROJECT)
        if key not in rows:
            rows[key] = WeekRow(*key)
        return rows[key]

    taught = {r["learned_from"] for r in db.query(
        "SELECT l.to_id AS learned_from FROM links l JOIN entries e ON e.id = l.from_id "
        "WHERE e.kind = 'learning' AND e.deleted_at IS NULL AND l.to_id IS NOT NULL")}
    for entry in db.query("SELECT id, kind, node_id, occurred_at, meta FROM entries "
                          "WHERE deleted_at IS NULL AND occurred_at >= ?", (since,)):
        counted = row(entry["occurred_at"], entry["node_id"])
        counted.entries += 1
        if entry["kind"] == "learning":
            counted.learnings += 1
        elif entry["kind"] == "result":
            counted.results += 1
            failed = json.loads(entry["meta"] or "{}").get("outcome") == "failed"
            if failed and entry["id"] in taught:
                counted.failed_but_learned += 1
    for node in nodes.values():
        if node.kind == "experiment" and node.created_at >= since:
            row(node.created_at, node.id).experiments += 1
    for started in db.query("SELECT started_at, node_id FROM runs WHERE started_at >= ?", (since,)):
        row(started["started_at"], started["node_id"]).runs += 1
    for pruned in db.query(
            "SELECT v.at, coalesce(i.node_id, e.node_id) AS node_id FROM idea_events v "
            "JOIN ideas i ON i.entry_id = v.entry_id JOIN entries e ON e.id = v.entry_id "
            "WHERE v.new_state = 'pruned' AND v.at >= ?", (since,)):
        row(pruned["at"], pruned["node_id"]).ideas_pruned += 1
    result = [r for r in rows.values() if project is None or r.project.casefold() ==
              project.casefold()]
    result.sort(key=lambda r: (-r.entries, r.project))
    result.sort(key=lambda r: r.week, reverse=True)
    return result
