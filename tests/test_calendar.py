"""`upstack opp calendar` (services/calendar.py): what is due written as an iCalendar file, read
back with the icalendar package as a calendar app would; stable UIDs, so a newer file moves an
event rather than adding one; only the reader's own items; on both engines."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import icalendar

from conftest import CLI, assert_refused_unchanged
from upstack.timeutil import today_local
from upstack.workspace import Workspace


def _day(days: int) -> str:
    return (today_local() + timedelta(days=days)).isoformat()


def _events(path: Path) -> dict[str, dict[str, object]]:
    """Each event of the file by its summary: its UID, day, end, categories and description."""
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    found = {}
    for event in calendar.walk("VEVENT"):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        found[str(event["summary"])] = {"uid": str(event["uid"]), "day": start, "end": end,
                                        "kind": event.get("categories").cats[0],
                                        "description": str(event.get("description", ""))}
    return found


def _fixture(run: CLI) -> None:
    run.ok("opp", "add", "--kind", "fellowship", "--org", "MATS", "--role", "Winter cohort", "--deadline", _day(10))
    run.ok("opp", "add", "--org", "Redwood", "--role", "RE", "--deadline", _day(3))
    run.ok("opp", "add", "--org", "Apollo", "--role", "Evals", "--deadline", _day(-2))  # overdue: in too
    run.ok("apply", "add", "redwood", "--stage", "applied")
    run.ok("apply", "move", "redwood", "interview", "--on", _day(5))
    run.ok("apply", "follow-up", "redwood", _day(12))
    run.ok("practice", "log", "two-sum", "--minutes", "40", "--failed", "--difficulty", "easy", "--at", "3 days ago")


def test_every_due_item_is_an_all_day_event_read_back_by_icalendar(run: CLI, tmp_path: Path) -> None:
    _fixture(run)
    out = tmp_path / "deadlines.ics"
    assert run.ok("opp", "calendar", "--out", str(out)).strip() == f"wrote 5 events to {out}"
    got = _events(out)
    due = json.loads(run.ok("due", "--days", "365", "--json"))
    assert len(got) == len(due) == 5
    assert {(e["day"].isoformat(), e["kind"]) for e in got.values()} == {(d["day"], d["kind"]) for d in due}  # type: ignore[union-attr]
    mats = got["Deadline: Winter cohort at MATS"]
    assert mats["day"] == date.fromisoformat(_day(10)) and mats["end"] == date.fromisoformat(_day(11))
    assert "upstack opp show mats-winter-cohort" in str(mats["description"])
    assert got["Interview: RE at Redwood"]["day"] == date.fromisoformat(_day(5))
    assert got["Follow-up: RE at Redwood"]["day"] == date.fromisoformat(_day(12))
    assert got["Deadline: Evals at Apollo"]["day"] == date.fromisoformat(_day(-2))
    assert [e for e in got.values() if e["kind"] == "practice"]
    assert "Deadline: RE at Redwood" not in got  # applied to: its deadline is no longer due
    assert len({e["uid"] for e in got.values()}) == 5
    short = tmp_path / "soon.ics"
    assert json.loads(run.ok("opp", "calendar", "--out", str(short), "--days", "7", "--json")) == \
        {"out": str(short), "events": 3}  # Apollo overdue, the interview, the practice review


def test_a_newer_file_moves_an_event_under_the_same_uid(run: CLI, tmp_path: Path) -> None:
    _fixture(run)
    first, second = tmp_path / "first.ics", tmp_path / "second.ics"
    run.ok("opp", "calendar", "--out", str(first))
    run.ok("opp", "edit", "mats", "--deadline", _day(20), "--role", "Winter cohort 2027")
    run.ok("opp", "calendar", "--out", str(second))
    before, after = _events(first), _events(second)
    assert after["Deadline: Winter cohort 2027 at MATS"]["uid"] == before["Deadline: Winter cohort at MATS"]["uid"]
    assert after["Deadline: Winter cohort 2027 at MATS"]["day"] == date.fromisoformat(_day(20))
    assert {e["uid"] for e in after.values()} == {e["uid"] for e in before.values()}
    run.ok("opp", "calendar", "--out", str(first))  # written again: the same UIDs, replaced whole
    assert {e["uid"] for e in _events(first).values()} == {e["uid"] for e in after.values()}


def test_only_the_readers_own_items(run: CLI, tmp_path: Path) -> None:
    run.ok("opp", "add", "--org", "Mine", "--role", "RE", "--deadline", _day(4))
    with Workspace(home=run.home, db=run.db_url) as ws:  # another person's opportunity, on the same store
        ws.store().write([ws.record("opp.set", {"subject": "theirs-re", "at": "2026-01-01T00:00:00Z", "change": "add",
                                                "organisation": "Theirs", "role": "RE", "deadline": _day(4),
                                                "by": "someone-else"})])
    out = tmp_path / "mine.ics"
    run.ok("opp", "calendar", "--out", str(out))
    assert list(_events(out)) == ["Deadline: RE at Mine"]


def test_an_empty_calendar_and_a_bad_place_to_write(run: CLI, tmp_path: Path) -> None:
    out = tmp_path / "empty.ics"
    assert run.ok("opp", "calendar", "--out", str(out)).strip() == f"wrote 0 events to {out}"
    assert _events(out) == {} and b"BEGIN:VCALENDAR" in out.read_bytes()
    assert_refused_unchanged(run, ["opp", "calendar", "--out", str(tmp_path / "nowhere" / "d.ics")],
                             "there is no folder")
    assert_refused_unchanged(run, ["opp", "calendar", "--out", "x.ics", "--days", "99999"], "--days must be from 0")
