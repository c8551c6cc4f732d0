"""Idea triage in the SQL store: the journal handlers that write it and the reads.

The idea itself is an entry of kind "idea" (created by "entry.create"); its triage
row lives in ``ideas`` and every change of state in ``idea_events``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from upstack.domain import access
from upstack.domain.idea import TRIAGE_FIELDS, Idea
from upstack.errors import NotFound
from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.store.queries import visible_sql

__all__ = ["HANDLERS", "load_ideas", "idea_bodies", "idea_events", "is_idea", "last_activated_at"]


def _event(db: Database, record: Record, entry_id: str, old: str | None, new: str,
           reason: str = "", evidence: list[str] | None = None) -> None:
    db.execute("INSERT INTO idea_events (id, entry_id, at, old_state, new_state, reason, evidence) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (record.id, entry_id, record.data.get("at", record.at), old, new, reason,
                json.dumps(evidence or [])))


def _live_idea(db: Database, entry_id: str) -> dict[str, Any]:
    row = db.one("SELECT * FROM ideas WHERE entry_id = ?", (entry_id,))
    if row is None:
        raise NotFound(f"idea {entry_id} does not exist")
    return row


def _create_idea(db: Database, record: Record) -> None:
    data = record.data
    if not db.scalar("SELECT 1 FROM entries WHERE id = ?", (data["entry_id"],)):
        raise NotFound(f"cannot make entry {data['entry_id']} an idea: it does not exist")
    at = data.get("at", record.at)
    inserted = db.execute(
        "INSERT INTO ideas (entry_id, state, created_at, updated_at) VALUES (?, 'candidate', ?, ?) "
        "ON CONFLICT DO NOTHING", (data["entry_id"], at, at)).rowcount
    if inserted:
        _event(db, record, data["entry_id"], None, "candidate")
    _set_fields(db, data["entry_id"], data.get("triage", {}), at)


def _set_fields(db: Database, entry_id: str, fields: dict[str, Any], at: str) -> None:
    known = {k: v for k, v in fields.items() if k in TRIAGE_FIELDS}
    if not known:
        return
    assignments = ", ".join(f"{name} = ?" for name in known)
    db.execute(f"UPDATE ideas SET {assignments}, updated_at = ? WHERE entry_id = ?",
               [*known.values(), at, entry_id])


def _triage(db: Database, record: Record) -> None:
    data = record.data
    _live_idea(db, data["entry_id"])
    _set_fields(db, data["entry_id"], data.get("triage", {}), data.get("at", record.at))


def _set_state(db: Database, record: Record) -> None:
    data = record.data
    idea = _live_idea(db, data["entry_id"])
    at = data.get("at", record.at)
    node_id = data.get("node_id") or idea["node_id"]
    if node_id and not db.scalar("SELECT 1 FROM nodes WHERE id = ?", (node_id,)):
        raise NotFound(f"node {node_id} does not exist")
    _event(db, record, idea["entry_id"], idea["state"], data["state"], data.get("reason", ""),
           data.get("evidence", []))
    db.execute("UPDATE ideas SET state = ?, node_id = ?, updated_at = ? WHERE entry_id = ?",
               (data["state"], node_id, at, idea["entry_id"]))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    "idea.create": _create_idea,
    "idea.triage": _triage,
    "idea.state": _set_state,
}


def load_ideas(db: Database, *, states: tuple[str, ...] = (), entry_ids: tuple[str, ...] = (),
               include_deleted: bool = False) -> list[Idea]:
    """Ideas with their entry's title and the reason of their latest change of state."""
    clauses, params = [], []
    if states:
        clauses.append(f"i.state IN ({', '.join('?' for _ in states)})")
        params += list(states)
    if entry_ids:
        clauses.append(f"i.entry_id IN ({', '.join('?' for _ in entry_ids)})")
        params += list(entry_ids)
    if not include_deleted:
        clauses.append("e.deleted_at IS NULL")
    audience = access.current(team=db.team)
    if audience is not None:  # an idea is an entry: seen by whoever may see the entry
        visible, shown = visible_sql(audience)
        clauses.append(visible)
        params += shown
    where = " AND ".join(clauses) or "1 = 1"
    rows = db.query(
        "SELECT i.*, e.title, e.body, "
        "(SELECT v.reason FROM idea_events v WHERE v.entry_id = i.entry_id "
        " ORDER BY v.at DESC, v.id DESC LIMIT 1) AS reason "
        f"FROM ideas i JOIN entries e ON e.id = i.entry_id WHERE {where} "
        "ORDER BY i.created_at, i.entry_id", params)
    return [Idea(**{**{k: v for k, v in row.items() if k != "body"}, "reason": row["reason"] or ""})
            for row in rows]


def idea_bodies(db: Database, states: tuple[str, ...]) -> list[tuple[Idea, str]]:
    """Ideas in these states with the text they are compared on (title, body, hypothesis)."""
    ideas = load_ideas(db, states=states)
    bodies = {r["id"]: r["body"] for r in db.query(
        "SELECT e.id, e.body FROM entries e JOIN ideas i ON i.entry_id = e.id "
        f"WHERE i.state IN ({', '.join('?' for _ in states)})", list(states))}
    texts = []
    for idea in ideas:
        # The reason a pruned idea carries in its body is about the verdict, not the idea.
        body = "\n".join(line for line in bodies.get(idea.entry_id, "").splitlines()
                         if not line.startswith("Pruned: "))
        texts.append((idea, f"{idea.title}\n{body}\n{idea.hypothesis}"))
    return texts


def idea_events(db: Database, entry_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT at, old_state, new_state, reason, evidence FROM idea_events "
                    "WHERE entry_id = ? ORDER BY at, id", (entry_id,))
    return [{**r, "evidence": json.loads(r["evidence"])} for r in rows]


def is_idea(db: Database, entry_id: str) -> bool:
    """Whether the entry has a triage row (it was captured as an idea)."""
    return bool(db.scalar("SELECT 1 FROM ideas WHERE entry_id = ?", (entry_id,)))


def last_activated_at(db: Database, entry_id: str) -> str | None:
    """When the idea last became active (None: never)."""
    at = db.scalar("SELECT max(at) FROM idea_events WHERE entry_id = ? AND new_state = 'active'", (entry_id,))
    return str(at) if at else None
