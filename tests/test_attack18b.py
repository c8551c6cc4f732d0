"""A second attack on issue 18's last changes: the first account refused while wellbeing data exists
(services/accounts.add_user), the /pace router only in local mode (web/app.py), and the writer's UTC
offset carried by sync and imports. Each test is one attack: a finding's assertions show the hole
closed (or a strict xfail says why it is open); the rest held. Store behaviour runs on both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attack_common import entry_create, rec, run_records, status
from upstack.domain.permissions import WELLBEING_OPS
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import accounts, sync_door, wellbeing, wellbeing_seal
from upstack.services.jsondump import dump_tables
from upstack.timeutil import now_iso, today_local
from upstack.workspace import Workspace

MARK = "QZATTACKB"


def _wellbeing_rows(ws: Workspace) -> int:
    marks = ", ".join("?" for _ in WELLBEING_OPS)
    return int(ws.store().db.scalar(f"SELECT count(*) FROM path_records WHERE op IN ({marks})", list(WELLBEING_OPS)))


# == 1. /pace on a team server: no route, for every role and for a visitor =========================

@pytest.mark.parametrize("who", ["ada", "bob", "eve", "mal", None])
def test_pace_is_no_page_on_a_team_server_for_anyone(team: Any, who: str | None) -> None:
    """Held: /pace, /pace.json and POST /pace are not routes on a team server (the router is local-only):
    every role and a visitor get a 404 (or are sent to sign in), never a page, a 500, or a write."""
    import httpx

    if who is None:
        client = httpx.Client(base_url=team.server.url, timeout=60, follow_redirects=False)
        team.server.clients.append(client)
    else:
        client = team.api(getattr(team, who))
    before = dump_tables(team.ws.store().db)
    for method, path, options in (("GET", "/pace", {}), ("GET", "/pace.json", {}),
                                  ("POST", "/pace", {"data": {"energy": "1", "note": MARK}}),
                                  ("POST", "/pace", {"json": {"energy": 1, "note": MARK}})):
        code = status(client, path, method, **options)
        assert code in ((404, 405) if who else (303, 401, 403, 404, 405)), (who, method, path, code)
    team.ws.ingest()
    assert dump_tables(team.ws.store().db) == before


def test_a_team_servers_pages_do_not_link_to_pace(team: Any) -> None:
    """Held: no page of a team server links to /pace (a link there would be a 404)."""
    client = team.api(team.ada)
    for path in ("/", "/account", "/due", "/tree"):
        answer = client.get(path, headers={"Accept": "text/html"})
        assert answer.status_code in (200, 404), (path, answer.status_code)
        assert 'href="/pace' not in answer.text, path


# == 2. The sync door: wellbeing ops, forged local_only, bad utc_offset values =====================

LOCAL_ONLY: list[Any] = [True, False, 0, 1, None, "true", "false", "", [], {}, "\u0661"]


@pytest.mark.parametrize("op", WELLBEING_OPS)
@pytest.mark.parametrize("flag", LOCAL_ONLY, ids=repr)
def test_a_pushed_wellbeing_op_is_refused_whatever_its_local_only(team: Any, op: str, flag: Any) -> None:
    """Held: a wellbeing op pushed straight to services/sync_door.accept, its local_only anything (or
    absent), keeps nothing on the server."""
    data = {"subject": today_local().isoformat(), "at": now_iso(), "note": MARK, "energy": 1,
            "utc_offset": "+05:30", **({} if flag is None else {"local_only": flag})}
    db = team.ws.store().db
    before = dump_tables(db)
    try:
        answer = sync_door.accept(team.ws, [rec(op, data)], team.as_user(team.eve))
    except BadInput as exc:
        assert "\n" not in str(exc)
    else:
        assert answer["applied"] == 0 and answer["refused"], answer
    team.ws.ingest()
    assert dump_tables(db) == before and MARK not in json.dumps(dump_tables(db), default=str)


BAD_OFFSETS = ["+99:00", "+14:01", "-12:01", "+05:60", "05:30", "+5:30", "+05:30\n", " +05:30", "+05:30 ",
               "+\u0660\u0665:\u0663\u0660", "+\uff10\uff15:\uff13\uff10", "+0\u0665:30", "\u221205:30",
               "+05\u200b:30", "+05:30" * 10_000, "", 530, 5.5, True, None, ["+05:30"], {"h": 5},
               "+99999999999999999999:00", "NaN"]


@pytest.mark.parametrize("offset", BAD_OFFSETS, ids=lambda o: repr(o)[:30])
@pytest.mark.parametrize("kind", ["entry", "run"])
def test_a_bad_utc_offset_pushed_keeps_nothing(team: Any, offset: Any, kind: str) -> None:
    """Held: an entry or a run pushed with a utc_offset that is not +HH:MM within -12:00..+14:00 (huge,
    a number, a list, digits of another script, a minus sign that is not '-') is refused: nothing kept,
    no traceback. (None is no offset: the entry is kept, with none.)"""
    if kind == "entry":
        entry_id = new_id()
        records = [rec("entry.create", entry_create(entry_id, team.project, title=MARK, utc_offset=offset))]
    else:
        entry_id = new_id()
        records = run_records(entry_id, team.project, start={"utc_offset": offset, "name": MARK})
    db = team.ws.store().db
    before = dump_tables(db)
    try:
        answer = sync_door.accept(team.ws, records, team.as_user(team.eve))
    except BadInput as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 400, str(exc)[:500]
        answer = None
    team.ws.ingest()
    after = dump_tables(db)
    if offset is None and kind == "entry":  # (runs come through the run push, not this door)
        assert answer is not None and answer["applied"] >= 1, answer
        table = "entries" if kind == "entry" else "runs"
        assert [r["utc_offset"] for r in after[table] if r["id"] == entry_id] == [None]
        return
    if answer is not None:
        assert answer["applied"] == 0 and answer["refused"], answer
    assert after == before


@pytest.mark.parametrize("offset", ["+05:30", "-12:00", "+14:00", "+00:00", "-00:00"])
def test_a_good_utc_offset_pushed_is_kept(team: Any, offset: str) -> None:
    """Held: an entry pushed with a real zone's offset keeps it (pace reads the writer's own time by it)."""
    entry_id = new_id()
    answer = sync_door.accept(team.ws, [rec("entry.create", entry_create(entry_id, team.project, utc_offset=offset))],
                              team.as_user(team.eve))
    assert answer["applied"] == 1, answer
    assert team.ws.store().db.scalar("SELECT utc_offset FROM entries WHERE id = ?", (entry_id,)) == offset


# == 3. JSON import with bad offsets and wellbeing rows ============================================

@pytest.mark.parametrize("offset", ["+99:00", "+\u0660\u0665:\u0663\u0660", 530, ["+05:30"], "+05:30" * 1000])
def test_importing_an_entry_with_a_bad_utc_offset_is_one_line_and_keeps_nothing(tmp_path: Path, db_url: str | None,
                                                                               offset: Any) -> None:
    """Held: `upstack import` of a JSON file whose entry has a bad utc_offset is refused, the problem
    named on one line (file, table, row, column), shortly; nothing is kept."""
    from conftest import CLI

    laptop = CLI(tmp_path / "laptop", None)  # (one PostgreSQL schema per test: the target has it)
    laptop.ok("note", f"{MARK} a note")
    out = tmp_path / "log.json"
    laptop.ok("export", "--out", str(out))
    dump = json.loads(out.read_text())
    assert dump["tables"]["entries"]
    dump["tables"]["entries"][0]["utc_offset"] = offset
    crafted = tmp_path / "crafted.json"
    crafted.write_text(json.dumps(dump))
    target = CLI(tmp_path / "target", db_url)
    said = target("import", str(crafted))
    assert said.exit_code == 1, said.output
    assert "Traceback" not in said.output and "utc_offset" in said.stderr and len(said.stderr) < 500, said.stderr[:600]
    with Workspace(home=target.home, db=db_url) as ws:
        assert not ws.store().db.scalar("SELECT count(*) FROM entries")


# == 4. The first account beside wellbeing data that is malformed, sealed or someone else's ========

def test_the_first_account_is_refused_beside_a_malformed_check_in(home: Path, db_url: str | None) -> None:
    """Held: a stored check-in whose data is not what upstack writes still counts: no first account."""
    with Workspace(home=home, db=db_url) as ws:
        ws.store().write([ws.record("checkin.log", {"subject": "zz", "at": now_iso(), "energy": "lots",
                                                    "note": ["x"], "local_only": True})])
        with pytest.raises(BadInput, match="first account makes it a team server"):
            accounts.add_user(ws, "sam")
        assert not accounts.has_accounts(ws)


def test_the_first_account_is_refused_beside_sealed_check_ins(home: Path, db_url: str | None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Held: sealed check-ins (locked, no passphrase at hand) still count: no first account."""
    with Workspace(home=home, db=db_url) as ws:
        wellbeing.check_in(ws, day=today_local(), energy=1, note=f"{MARK} sealed")
        wellbeing_seal.lock(ws, "a long enough passphrase 12345")
        wellbeing_seal.forget_keys()
        monkeypatch.delenv(wellbeing_seal.PASSPHRASE_ENV, raising=False)
        assert wellbeing_seal.is_locked(ws)
        with pytest.raises(BadInput, match="first account makes it a team server"):
            accounts.add_user(ws, "sam")
        assert not accounts.has_accounts(ws)




@pytest.mark.parametrize("by", ["someone", "", "OWNER"])  # a wellbeing record is the owner's whatever "by" says
def test_the_first_account_is_refused_beside_a_check_in_said_to_be_by_another(home: Path, db_url: str | None,
                                                                              by: str) -> None:
    """A check-in record whose data names a writer (``by``: from a hand-made journal line, or another
    version) is stored under that person, not the owner ('') that add_user asked about: the first
    account then came in beside it, and the team server held a check-in."""
    with Workspace(home=home, db=db_url) as ws:
        ws.store().write([ws.record("checkin.log", {"subject": today_local().isoformat(), "at": now_iso(),
                                                    "energy": 1, "note": MARK, "local_only": True, "by": by})])
        assert _wellbeing_rows(ws) == 1
        with pytest.raises(BadInput, match="first account makes it a team server"):
            accounts.add_user(ws, "sam")
        assert not accounts.has_accounts(ws)
