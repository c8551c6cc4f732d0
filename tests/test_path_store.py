"""A person's path (store/path.py): records kept as rows, read back for their person only, on both engines."""

from __future__ import annotations

import io
import json
from pathlib import Path

from upstack.services import jsondump
from upstack.store import path as store_path
from upstack.workspace import Workspace


def _write(ws: Workspace, op: str, subject: str, at: str, **data: object) -> str:
    record = ws.record(op, {"subject": subject, "at": at, **data})
    ws.store().write([record])
    return record.id


def test_path_records_come_back_oldest_first_with_their_data(workspace: Workspace) -> None:
    later = _write(workspace, "practice.attempt", "two-sum", "2026-11-02T10:00:00Z", minutes=12)
    first = _write(workspace, "practice.attempt", "lru-cache", "2026-11-01T10:00:00Z", minutes=40)
    _write(workspace, "ladder.step", "code", "2026-11-03T10:00:00Z", change="done")
    got = store_path.events(workspace.store().db, ["practice.attempt"])
    assert [(e.id, e.subject, e.data["minutes"]) for e in got] == [(first, "lru-cache", 40), (later, "two-sum", 12)]
    assert [e.op for e in store_path.events(workspace.store().db, store_path.OPS)] == \
        ["practice.attempt", "practice.attempt", "ladder.step"]


def test_another_persons_path_is_not_the_readers(workspace: Workspace) -> None:
    _write(workspace, "ladder.step", "code", "2026-11-03T10:00:00Z", change="done", by="someone-else")
    db = workspace.store().db
    assert store_path.events(db, ["ladder.step"]) == []  # the owner's own view: only rows keyed ''
    assert [e.subject for e in store_path.events(db, ["ladder.step"], person="someone-else")] == ["code"]


def test_the_owners_path_travels_in_a_json_export_and_anothers_does_not(workspace: Workspace, tmp_path: Path) -> None:
    _write(workspace, "portfolio.profile", "profile", "2026-11-03T10:00:00Z", name="Ada")
    _write(workspace, "practice.attempt", "two-sum", "2026-11-03T11:00:00Z", by="someone-else")
    out = io.StringIO()
    jsondump.export_json(workspace, out)
    rows = json.loads(out.getvalue())["tables"]["path_records"]
    assert [(r["op"], r["person"], json.loads(r["data"])["name"]) for r in rows] == [("portfolio.profile", "", "Ada")]
