"""`upstack checkin` (issue 18): a check-in in one line, the person's own signs, back-filled days, CSV,
forgetting for good; and the boundary: check-ins never leave this machine (both engines)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest

from conftest import CLI
from upstack.errors import BadInput, UpstackError
from upstack.services import accounts, sync_door, wellbeing
from upstack.store import path as store_path
from upstack.workspace import Workspace

# Each test runs in two zones (conftest.ZONES): what the log shows is read in local time.
pytestmark = pytest.mark.usefixtures("local_zone")


def test_a_check_in_in_one_line_and_a_missed_day_filled_in(run: CLI) -> None:
    said = run.ok("checkin", "--sleep", "6.5", "--energy", "2", "--mood", "1", "--hours", "10",
                  "--sign", "snacking=2", "--sign", "video games=0", "--note", "long day")
    assert "checked in for" in said and "kept on this machine only" in said
    run.ok("checkin", "--at", "yesterday", "--sleep", "5")
    rows = json.loads(run.ok("checkin", "list", "--json"))
    assert [r["day"] for r in rows] == [date.today().isoformat(), (date.today() - timedelta(days=1)).isoformat()]
    assert rows[0] == {"day": rows[0]["day"], "at": rows[0]["at"], "sleep_hours": 6.5, "energy": 2, "mood": 1,
                       "hours_worked": 10, "signs": {"snacking": 2, "video-games": 0}, "note": "long day"}
    assert rows[1]["energy"] is None  # not given: a gap, never a zero
    run.ok("checkin", "--energy", "3")  # the same day again: what it says wins, the rest is kept
    today = json.loads(run.ok("checkin", "list", "--json"))[0]
    assert (today["energy"], today["sleep_hours"], today["note"]) == (3, 6.5, "long day")


def test_bad_input_is_one_line_and_changes_nothing(run: CLI) -> None:
    for args, said in ((["--energy", "5"], "energy is scored 0 to 3, not 5"),
                       (["--sleep", "30"], "sleep is hours in a day (0 to 24), not 30"),
                       (["--sign", "snacking"], "--sign takes NAME=SCORE"),
                       (["--sign", "doomscrolling=1"], "no warning sign 'doomscrolling'"),
                       (["--at", "in 3 days", "--sleep", "7"], "is in the future")):
        result = run("checkin", *args)
        assert result.exit_code == 1 and said in result.output and "Traceback" not in result.output, args
    assert run("checkin").exit_code == 2  # nothing given, and no terminal to ask at
    assert json.loads(run.ok("checkin", "list", "--json")) == []


def test_a_mistyped_answer_is_made_a_gap_again(run: CLI) -> None:
    """A later check-in of a day overrides an answer but cannot unsay it: --clear makes it a gap again,
    for every reader (list, export, pace), and a later answer comes back over it."""
    run.ok("checkin", "--at", "yesterday", "--sleep", "6.5", "--energy", "2", "--sign", "snacking=3", "--note", "x")
    cleared = json.loads(run.ok("checkin", "--at", "yesterday", "--clear", "sleep", "--clear", "Snacking",
                                "--clear", "note", "--json"))
    assert (cleared["sleep_hours"], cleared["signs"], cleared["note"], cleared["energy"]) == (None, {}, "", 2)
    [row] = json.loads(run.ok("checkin", "list", "--json"))
    assert (row["sleep_hours"], row["signs"], row["note"], row["energy"]) == (None, {}, "", 2)
    table = list(csv.reader(io.StringIO(run.ok("checkin", "export"))))
    assert table[1][1] == "" and table[1][2] == "2"  # a gap, never a zero
    run.ok("checkin", "--at", "yesterday", "--sleep", "7")
    assert json.loads(run.ok("checkin", "list", "--json"))[0]["sleep_hours"] == 7
    for args, said in ((["--clear", "mood"], "has no 'mood'"),
                       (["--clear", "sleep", "--sleep", "5"], "'sleep' is both given and cleared"),
                       (["--clear", "lunch"], "--clear takes sleep, energy, mood, hours, note or a sign's name")):
        result = run("checkin", "--at", "yesterday", *args)
        assert result.exit_code == 1 and said in result.output and "Traceback" not in result.output, args
    assert json.loads(run.ok("checkin", "list", "--json"))[0]["sleep_hours"] == 7


def test_a_check_in_takes_in_only_what_it_reads(run: CLI) -> None:
    """What waits in the journal is taken in by a check-in only when it holds a check-in (the day's
    earlier answers are then part of it); a note waiting stays for the next command that reads the log."""
    from upstack.formats.journal import Journal

    run.ok("note", "Waiting in the journal.")
    run.ok("checkin", "--sleep", "7")
    waiting = Journal(run.home / "journal").waiting_ops()
    assert "entry.create" in waiting and "checkin.log" in waiting  # neither taken in
    both = json.loads(run.ok("checkin", "--mood", "2", "--json"))  # the waiting check-in is read first
    assert (both["sleep_hours"], both["mood"]) == (7, 2)
    assert Journal(run.home / "journal").waiting_ops() == {"checkin.log"}  # everything else taken in with it
    assert "Waiting in the journal." in run.ok("log")


def test_signs_are_the_persons_own(run: CLI) -> None:
    assert [s["name"] for s in json.loads(run.ok("checkin", "signs", "--json"))] == list(wellbeing.DEFAULT_SIGNS)
    run.ok("checkin", "signs", "add", "Skipping lunch")
    run.ok("checkin", "signs", "rename", "video games", "gaming late")
    run.ok("checkin", "signs", "retire", "snacking")
    signs = {s["slug"]: s for s in json.loads(run.ok("checkin", "signs", "--json"))}
    assert signs["video-games"]["name"] == "gaming late" and signs["snacking"]["retired"]
    run.ok("checkin", "--sign", "skipping lunch=2", "--sign", "gaming late=1")
    table = list(csv.reader(io.StringIO(run.ok("checkin", "export"))))
    assert table[0] == ["day", "sleep_hours", "energy", "mood", "hours_worked", "gaming late", "Skipping lunch", "note"]
    assert table[1][5:7] == ["1", "2"]


def test_forget_deletes_every_check_in_for_good(run: CLI, workspace: Workspace) -> None:
    run.ok("checkin", "--sleep", "7")
    run.ok("checkin", "signs", "add", "doomscrolling")
    assert "deleted 2 wellbeing records for good" in run.ok("checkin", "forget", "--yes")
    assert json.loads(run.ok("checkin", "list", "--json")) == []
    assert not workspace.store().db.scalar("SELECT count(*) FROM path_records")


def test_check_ins_never_leave_this_machine(run: CLI, workspace: Workspace, tmp_path) -> None:
    """Sync lists none and a server's door takes none; the JSON export for others leaves them out
    (only --include-wellbeing keeps them); a team server keeps none at all."""
    run.ok("checkin", "--sleep", "4", "--note", "SECRET-CHECKIN")
    run.ok("note", "A shared result.")
    db = workspace.store().db
    assert store_path.own_ids(db) == []  # what sync compares: no check-in
    assert "SECRET-CHECKIN" not in run.ok("export")
    assert "SECRET-CHECKIN" in run.ok("export", "--include-wellbeing")
    for probe in (["search", "SECRET"], ["log"], ["review"], ["due"]):
        assert "SECRET-CHECKIN" not in run.ok(*probe), probe
    record = next(r for r in db.query("SELECT id, op, at, data FROM path_records"))
    with Workspace(home=tmp_path / "server") as server:
        user, _ = accounts.add_user(server, "pat")
        pushed = {"id": record["id"], "op": record["op"], "workspace": "w", "at": record["at"],
                  "data": json.loads(record["data"])}
        with pytest.raises(UpstackError, match="cannot be pushed"):
            sync_door.accept(server, [pushed], accounts.audience_for(server, user))
        assert not server.store().db.scalar("SELECT count(*) FROM path_records")
        with pytest.raises(BadInput, match="check-ins stay on your own machine"):
            wellbeing.check_in(server, sleep_hours=7)


def test_due_lists_todays_check_in_only_when_asked(home, db_url) -> None:
    from upstack.services import due

    with Workspace(home=home, db=db_url) as ws:
        assert not [i for i in due.due(ws) if i.kind == "check-in"]  # off unless asked for
    with Workspace(home=home, db=db_url, checkin_reminder=True) as ws:
        assert sorted(i.ref for i in due.due(ws) if i.kind == "check-in") == ["checkin", "fit note"]
        wellbeing.check_in(ws, mood=2)
        assert [i.ref for i in due.due(ws) if i.kind == "check-in"] == ["fit note"]  # checked in today
