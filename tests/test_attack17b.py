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


# -- 2. aliases as a side channel ----------------------------------------------------------------

def _hidden_entry_with_alias(team: Any, alias: str) -> dict[str, Any]:
    """Ada's entry in a node nobody else may see, found by ``alias`` besides its title."""
    from upstack.domain import access
    from upstack.services import tree
    with access.acting_as(access.OWNER):
        hidden = tree.add_node(team.ws, "project", "QUHIDDENNODE", why="Not shared.").id
    entry = entry_create(node_id=hidden, title="QUHIDDENTITLE")
    ada = team.api(team.ada)
    assert _push(ada, rec("entry.create", entry))["applied"] == 1
    assert _push(ada, _revise(entry, {"aliases": [alias]}, title="QUHIDDENTITLE"))["applied"] == 1
    return entry


@pytest.mark.parametrize("how", ["alias", "title"])
def test_an_outsiders_alias_link_shows_nothing_of_a_hidden_entry(team: Any, how: str) -> None:
    """Mal links [[QUSECRETALIAS]] (or [[QUHIDDENTITLE]]): the link resolves server-wide at ingest,
    so his own page, his search and ada's backlinks must not tell him the hidden entry exists."""
    hidden = _hidden_entry_with_alias(team, "QUSECRETALIAS")
    target = "QUSECRETALIAS" if how == "alias" else "QUHIDDENTITLE"
    mine = entry_create(title="QUPROBE", body=f"see [[{target}]]")
    mal = team.api(team.mal)
    assert _push(mal, rec("entry.create", mine))["applied"] == 1
    page = mal.get(f"/e/{mine['id']}.json")
    assert page.status_code == 200, page.text
    assert hidden["id"] not in page.text, page.text  # (a short id shares the time part with every id made now)
    assert page.json()["entry"]["links"] == [{"target": target, "id": None, "short": None, "title": None}]
    if how == "alias":
        assert "QUHIDDENTITLE" not in page.text
    html = mal.get(f"/e/{mine['id']}", headers={"Accept": "text/html"}).text
    assert hidden["id"] not in html and "wikilink broken" in html
    for query in ("QUSECRETALIAS", "QUHIDDENTITLE"):
        answer = mal.get(f"/search.json?q={query}").json()
        assert hidden["id"] not in json.dumps(answer) and all(
            r.get("entry", r).get("id") != hidden["id"] for r in answer["results"]), answer
    assert mal.get(f"/e/{hidden['id']}.json").status_code == 404


@pytest.mark.parametrize("how", ["alias", "title"])
def test_an_alias_capturing_another_members_dangling_link(team: Any, how: str) -> None:
    """Bob (viewer) links [[QUDANGLING]] in his own note; mal then makes an entry of his own named so (by
    alias, or by title for comparison). Bob's page must not show mal's entry (he may not see it), and the
    link must not stay captured by an entry bob cannot see once a visible one exists."""
    bobs = entry_create(title="QUBOBNOTE", body="see [[QUDANGLING]]")
    bob = team.api(team.bob)
    assert _push(bob, rec("entry.create", bobs))["applied"] == 1
    mal = team.api(team.mal)
    mals = entry_create(title="QUDANGLING" if how == "title" else "QUMALTITLE")
    assert _push(mal, rec("entry.create", mals))["applied"] == 1
    if how == "alias":
        assert _push(mal, _revise(mals, {"aliases": ["QUDANGLING"]}, title="QUMALTITLE"))["applied"] == 1
    page = bob.get(f"/e/{bobs['id']}.json").text
    assert mals["id"] not in page and "QUMALTITLE" not in page, page
    # a visible entry of that name, written later by ada in the shared project, is what bob's link finds
    adas = _adas_entry(team, title="QUDANGLING" if how == "title" else "QUADAVISIBLE")
    if how == "alias":
        assert _push(team.api(team.ada), _revise(adas, {"aliases": ["QUDANGLING"]},
                                                 title="QUADAVISIBLE"))["applied"] == 1
    page = bob.get(f"/e/{bobs['id']}.json").json()
    found = [link for link in page["entry"]["links"] if link.get("target") == "QUDANGLING"]
    assert found and found[0].get("id") == adas["id"], (how, page["entry"]["links"])


# -- 3. oversized or malformed NoteMeta --------------------------------------------------------

def _deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "x"}
    for _ in range(depth):
        value = {"d": value}
    return value


BAD_META = {
    "10k-aliases": {"aliases": [f"QUA{n}" for n in range(10_000)]},
    "1MB-alias": {"aliases": ["Q" * 1_000_000]},
    "40-deep-markdown": {"markdown": _deep(40)},
    "int-alias": {"aliases": [7]},
    "dict-alias": {"aliases": [{"x": "y"}]},
    "aliases-a-string": {"aliases": "QUSTR"},
    "markdown-a-list": {"markdown": ["x"]},
    "nul-alias": {"aliases": ["QU\x00NUL"]},
    "nul-in-markdown-key": {"markdown": {"pa\x00th": "x"}},
}


def _refused(answer: dict[str, Any]) -> None:
    assert answer["applied"] == 0 and answer["refused"], answer
    reason = answer["refused"][0]["reason"]
    assert "\n" not in reason.strip() and "Traceback" not in reason and len(reason) < 500, reason


@pytest.mark.parametrize("bad", list(BAD_META))
def test_bad_note_meta_on_a_revise_is_refused_with_one_line(team: Any, bad: str) -> None:
    entry = _adas_entry(team)
    before = _state(team, entry["id"])
    _refused(_push(team.api(team.eve), _revise(entry, BAD_META[bad])))
    assert _state(team, entry["id"]) == before


@pytest.mark.parametrize("bad", list(BAD_META))
def test_bad_note_meta_on_a_create_is_refused_too(team: Any, bad: str) -> None:
    """entry.create's meta is checked only as Data (any keys, no limit on aliases), and create_entry
    now puts its aliases into entry_names: the same NoteMeta bounds must hold there."""
    entry = entry_create(node_id=team.project, meta=BAD_META[bad])
    answer = _push(team.api(team.eve), rec("entry.create", entry))
    names = _db(team).scalar("SELECT count(*) FROM entry_names WHERE entry_id = ?", (entry["id"],))
    assert names <= 200, f"{names} entry_names rows from one pushed entry.create"
    _refused(answer)
    assert not _db(team).scalar("SELECT count(*) FROM entries WHERE id = ?", (entry["id"],))


# -- 5. wellbeing and local-only path records never land on a server ----------------------------

@pytest.mark.parametrize("op", ["checkin.log", "checkin.sign"])
@pytest.mark.parametrize("local_only", [None, True, False])
def test_wellbeing_records_are_refused(team: Any, op: str, local_only: bool | None) -> None:
    """Whatever a pushed check-in says of itself (a local-only path record of another op is refused
    by tests/test_pipeline_sync.py)."""
    data: dict[str, Any] = {"subject": "QUWELL", "at": now_iso(), "note": "QUWELLBEING"}
    if local_only is not None:
        data["local_only"] = local_only
    before = _db(team).scalar("SELECT count(*) FROM path_records")
    answer = team.api(team.eve).post("/api/sync/push", json={"records": [rec(op, data)]})
    if answer.status_code == 200:
        _refused(answer.json())
    else:  # the whole push refused, in one line
        assert answer.status_code == 400 and "cannot be pushed" in answer.json()["error"], answer.text
    assert _db(team).scalar("SELECT count(*) FROM path_records") == before
