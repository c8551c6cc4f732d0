"""Attacks on issue 17's team-server surfaces: entry.revise carrying ``meta`` (aliases, markdown), the
per-revision meta history shows, aliases as a way links resolve, and the local-only wellbeing ops.
The team is tests/attack_common.py's (ada owns the project; bob viewer, eve editor, mal outsider).
Each test is one finding; its assertions show the hole closed (or it is marked xfail with why)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attack_common import entry_create, rec
from upstack.ids import new_id
from upstack.timeutil import now_iso


def _db(team: Any) -> Any:
    return team.ws.store().db


def _push(client: Any, *records: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/sync/push", json={"records": list(records)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _adas_entry(team: Any, title: str = "QUADAS entry", **more: Any) -> dict[str, Any]:
    entry = entry_create(node_id=team.project, title=title, **more)
    assert _push(team.api(team.ada), rec("entry.create", entry))["applied"] == 1
    return entry


def _revise(entry: dict[str, Any], meta: Any, title: str = "QUREVISED") -> dict[str, Any]:
    return rec("entry.revise", {"entry_id": entry["id"], "revision_id": new_id(), "title": title,
                                "body": "changed", "created_at": now_iso(), "meta": meta})


def _state(team: Any, entry_id: str) -> tuple[Any, ...]:
    db = _db(team)
    return (db.scalar("SELECT title FROM entries WHERE id = ?", (entry_id,)),
            db.scalar("SELECT meta FROM entries WHERE id = ?", (entry_id,)),
            db.scalar("SELECT count(*) FROM revisions WHERE entry_id = ?", (entry_id,)),
            sorted(r["name_key"] for r in db.query("SELECT name_key FROM entry_names WHERE entry_id = ?",
                                                   (entry_id,))))


# -- 1. who may revise another's entry with meta ---------------------------------------------

@pytest.mark.parametrize("who", ["bob", "mal"])
def test_a_viewer_or_outsider_cannot_set_aliases_on_anothers_entry(team: Any, who: str) -> None:
    entry = _adas_entry(team)
    before = _state(team, entry["id"])
    answer = _push(team.api(getattr(team, who)),
                   _revise(entry, {"aliases": ["QUHIJACK"], "markdown": {"path": "/home/x/QUHIJACK.md"}}))
    assert answer["applied"] == 0 and answer["refused"], answer
    assert _state(team, entry["id"]) == before


def test_an_editor_may_set_aliases_like_a_title(team: Any) -> None:
    """An editor may retitle the entry, so setting its aliases (another name it is found by) is the same
    right; only NOTE_META keys arrive (a pushed ``run`` or ``conflicts`` key is dropped at the door)."""
    entry = _adas_entry(team)
    answer = _push(team.api(team.eve), _revise(entry, {"aliases": ["QUEDITALIAS"], "run": "X", "conflicts": 9}))
    assert answer["applied"] == 1, answer
    title, meta, _, names = _state(team, entry["id"])
    assert json.loads(meta) == {"aliases": ["QUEDITALIAS"]}, meta
    assert names == ["queditalias"]
