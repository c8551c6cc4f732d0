"""Chart panels in the SQL store (migration 24): the journal handlers that write them and the reads.

A save (``panel.save``) makes a panel or changes it, keeping the spec it had in ``panel_revisions``;
``panel.delete`` and ``panel.restore`` mark and unmark it. The newest change (by time, then record id)
wins, so a record applied late never undoes a later one. Who may see a panel is who may see its
project (its author always); which of its runs a reader sees is decided when its data is read
(services/panels.py), never here: a panel names runs, it never shows them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from upstack.domain import access
from upstack.errors import BadInput, NotFound
from upstack.formats.journal import Record
from upstack.ids import MIN_PREFIX, id_key, looks_like_full_id
from upstack.store.db import Database

__all__ = ["HANDLERS", "rows", "one", "revisions", "resolve", "private_runs"]


def _save(db: Database, record: Record) -> None:
    data = record.data
    panel_id = str(data["panel_id"])
    at = str(data.get("at", record.at))
    spec = json.dumps(data["spec"], sort_keys=True)
    title, position = str(data.get("title") or ""), int(data.get("position") or 0)
    held = db.one("SELECT * FROM panels WHERE id = ?", (panel_id,))
    if held is None:
        db.execute("INSERT INTO panels (id, key, node_id, author_id, title, spec, position, created_at, "
                   "updated_at, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (panel_id, id_key(panel_id), data.get("node_id"), data.get("by"), title, spec, position,
                    at, at, record.id))
    elif (at, record.id) > (held["updated_at"], held["event_id"]):
        db.execute("UPDATE panels SET title = ?, spec = ?, position = ?, updated_at = ?, event_id = ? WHERE id = ?",
                   (title, spec, position, at, record.id, panel_id))
    db.execute("INSERT INTO panel_revisions (id, panel_id, at, author_id, title, spec, position, workspace) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
               (record.id, panel_id, at, data.get("by"), title, spec, position, record.workspace))


def _mark(deleted: bool) -> Callable[[Database, Record], None]:
    def handler(db: Database, record: Record) -> None:
        panel_id = str(record.data["panel_id"])
        if not db.scalar("SELECT 1 FROM panels WHERE id = ?", (panel_id,)):
            raise NotFound(f"no panel {panel_id}")
        at = str(record.data.get("at", record.at))
        db.execute("UPDATE panels SET deleted_at = ? WHERE id = ?", (at if deleted else None, panel_id))
    return handler


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    "panel.save": _save, "panel.delete": _mark(True), "panel.restore": _mark(False)}


def _visible(db: Database, row: dict[str, Any]) -> bool:
    audience = access.current(team=db.team)
    return audience is None or audience.is_author(row["author_id"]) or audience.sees_node(row["node_id"])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "spec": json.loads(row["spec"])}


def rows(db: Database, node_id: str | None, *, deleted: bool = False) -> list[dict[str, Any]]:
    """The panels of a project's grid (None: the unfiled ones) the reader may see, in grid order."""
    where = "node_id = ?" if node_id else "node_id IS NULL"
    found = db.query(f"SELECT * FROM panels WHERE {where} AND deleted_at IS {'NOT ' if deleted else ''}NULL "
                     "ORDER BY position, created_at, id", (node_id,) if node_id else ())
    return [_plain(r) for r in found if _visible(db, r)]


def one(db: Database, panel_id: str) -> dict[str, Any]:
    """A panel the reader may see (deleted ones too: they can be restored); NotFound otherwise."""
    row = db.one("SELECT * FROM panels WHERE id = ?", (panel_id,))
    if row is None or not _visible(db, row):
        raise NotFound(f"no panel with id {panel_id!r}")
    return _plain(row)


def resolve(db: Database, ref: str) -> str:
    """A panel's full id from its id, short id or a prefix of one, among the panels the reader may see
    (one they may not see is not there to be named, not even as an ambiguity)."""
    text = ref.strip()
    key = id_key(text) if looks_like_full_id(text) else text.lower()
    if len(key) < MIN_PREFIX or not key.isalnum():
        raise BadInput(f"panel id {ref!r} is too short or malformed")
    found = [r for r in db.query("SELECT id, author_id, node_id FROM panels WHERE key >= ? AND key < ? "
                                 "ORDER BY key LIMIT 50", (key, key + "~")) if _visible(db, r)]
    if not found:
        raise NotFound(f"no panel with id {ref!r}")
    if len(found) > 1:
        raise BadInput(f"panel id {ref!r} is ambiguous: type more characters")
    return str(found[0]["id"])


def revisions(db: Database, panel_id: str) -> list[dict[str, Any]]:
    """Every save of a panel, oldest first (the caller has checked the reader may see it)."""
    return [_plain(r) for r in db.query("SELECT * FROM panel_revisions WHERE panel_id = ? ORDER BY at, id",
                                        (panel_id,))]


def private_runs(db: Database, run_ids: list[str]) -> set[str]:
    """Which of these runs have a private result entry: what a picture for others leaves out."""
    if not run_ids:
        return set()
    marks = ", ".join("?" for _ in run_ids)
    return {str(r["id"]) for r in db.query(f"SELECT id FROM entries WHERE id IN ({marks}) AND private <> 0",
                                          run_ids)}
