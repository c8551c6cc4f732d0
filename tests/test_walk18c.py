"""A third new user's walk through the wellbeing commands (issue 18), after the day's changes
(`checkin --clear`, pace's ``compares_from``, the plan that no check-in measures, a workspace open
to others, serve and due with locked check-ins): what confused them, or was silently wrong, held.

Each was a test marked ``xfail(strict=True)`` when found; all are fixed, and the tests stay. In process,
against real SQLite (and PostgreSQL where the ``run`` and
``workspace`` fixtures bring it).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from pathlib import Path

import pytest

from conftest import CLI
from upstack.errors import BadInput
from upstack.services import capture, wellbeing, wellbeing_seal
from upstack.services import pace as pace_service
from upstack.timeutil import parse_day, simulated_clock, today_local
from upstack.workspace import Workspace
from webserver import serve

PASSPHRASE = "a third walk's passphrase, long enough"
CBI = "often,sometimes,often,seldom,often,never"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask of a shared machine: what a program does not close, others can read."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _csrf(client: object) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/pace").text)  # type: ignore[attr-defined]
    assert found
    return found.group(1)


def _text(html: str) -> str:
    """A page's words, as a reader sees them."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- privacy ---------------------------------------------------------------------------------------


def test_an_export_for_others_does_not_say_when_you_checked_in_or_started_a_recovery_plan(
        run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Patching layer 5 kills the effect. #ioi")
    run.ok("checkin", "--sleep", "5", "--hours", "11")
    run.ok("checkin", "burnout", "--answers", CBI)
    run.ok("recover", "start", "--usual", "8", "--reason", "after the deadline")
    run.ok("fit", "note", "--drained", "reading")
    out = tmp_path / "for-my-mentor.json"
    run.ok("export", "--out", str(out))
    text = out.read_text()
    assert "Patching layer 5" in text  # the export is there
    for kind in ("checkin.log", "checkin.cbi", "recover.plan", "fit.note"):
        assert kind not in text, kind


def test_an_export_with_your_check_ins_is_yours_alone_to_read(run: CLI, tmp_path: Path, umask_022: None) -> None:
    run.ok("checkin", "--sleep", "5", "--note", "awful week")
    mine = tmp_path / "checkins.csv"
    run.ok("checkin", "export", "--out", str(mine))
    assert mine.stat().st_mode & 0o077 == 0  # the check-ins' own export: closed to others
    whole = tmp_path / "everything.json"
    run.ok("export", "--include-wellbeing", "--out", str(whole))
    assert "awful week" in whole.read_text()
    assert whole.stat().st_mode & 0o077 == 0, oct(whole.stat().st_mode)


# --- pace: from when it can compare ----------------------------------------------------------------


def test_one_old_check_in_does_not_make_pace_promise_a_comparison_tomorrow(run: CLI) -> None:
    today = today_local()
    run.ok("checkin", "--at", (today - timedelta(days=30)).isoformat(), "--sleep", "6")  # a stray back-fill
    run.ok("checkin", "--sleep", "7", "--energy", "2")
    found = json.loads(run.ok("pace", "--json"))
    assert found["compares_from"] is not None
    # From today on, a check-in every day fills the usual (3 to 7 weeks back) with 10 days in 30 days.
    assert date.fromisoformat(found["compares_from"]) >= today + timedelta(days=29), found["compares_from"]


def test_weeks_of_notes_do_not_bring_forward_when_check_ins_compare(workspace: Workspace) -> None:
    today = today_local()
    with simulated_clock(datetime.combine(today - timedelta(days=20), time(10), UTC)) as clock:
        for back in range(20, 0, -1):
            clock.set(datetime.combine(today - timedelta(days=back), time(10), UTC))
            capture.note(workspace, f"Day {back} of the probe sweep.")
    wellbeing.check_in(workspace, sleep_hours=7.0, mood=2)
    workspace.ingest()
    found = pace_service.pace(workspace)
    assert not any(t.enough for t in found.trends if t.signal.source == "checkin")
    assert found.compares_from is not None
    assert found.compares_from >= today + timedelta(days=29), found.compares_from


def test_pace_says_where_the_usual_comes_from_as_its_notice_and_the_readme_do(run: CLI) -> None:
    from upstack.domain import pace as rule

    assert "three to seven weeks ago" in rule._baseline_words(rule.PaceRule())
    run.ok("checkin", "--sleep", "7")
    said = run.ok("pace")
    assert "compare from about" in said
    assert "two to seven" not in said and "three to seven weeks" in said


# --- checkin --clear -------------------------------------------------------------------------------


def test_clearing_the_last_answer_leaves_no_empty_check_in(run: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_CHECKIN_REMINDER", "1")
    assert "check in" in run.ok("due")
    run.ok("checkin", "--sleep", "7")  # meant for yesterday
    assert "check in" not in run.ok("due")
    run.ok("checkin", "--clear", "sleep")
    assert run("checkin").exit_code != 0  # nothing to record: a check-in with nothing in it is refused
    listed = [line for line in run.ok("checkin", "list").splitlines() if line.strip()]
    assert all(line.strip() != today_local().isoformat() for line in listed), listed
    assert "check in" in run.ok("due")  # today's check-in is not done


def test_clearing_on_a_day_without_a_check_in_says_there_is_none(run: CLI) -> None:
    run.ok("checkin", "--mood", "2")
    day = (today_local() - timedelta(days=3)).isoformat()
    refused = run("checkin", "--at", day, "--clear", "mood")
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "no check-in" in refused.stderr and day in refused.stderr, refused.stderr


def test_the_page_can_make_a_mistyped_answer_a_gap_again(workspace: Workspace) -> None:
    today = today_local().isoformat()
    wellbeing.check_in(workspace, sleep_hours=7.0, mood=0)  # mood 0: meant for energy
    with serve(workspace.home, workspace.db_url) as server:
        client = server.client()
        csrf = _csrf(client)
        # the form as the page fills it, with mood emptied
        sent = client.post("/pace", data={"csrf": csrf, "day": today, "sleep_hours": "7", "mood": ""})
    assert sent.status_code == 303
    workspace.ingest()
    kept = wellbeing.checkins(workspace)[today]
    assert kept.sleep_hours == 7.0 and kept.mood is None, kept


# --- dates -----------------------------------------------------------------------------------------


def test_a_day_first_dotted_date_is_not_read_as_another_month(run: CLI) -> None:
    assert parse_day("13.12.2025", what="check-in day", prefer="past") == "2025-12-13"
    try:
        read = parse_day("1.12.2025", what="check-in day", prefer="past")
    except BadInput:
        read = None  # refused as ambiguous: fine too
    assert read != "2025-01-12"
    made = run("checkin", "--at", "1.12.2025", "--sleep", "7")
    assert "2025-01-12" not in made.output, made.output


def test_a_number_typed_with_its_unit_is_refused_in_plain_words(run: CLI) -> None:
    for args in (("checkin", "--sleep", "6h"), ("checkin", "--energy", "2.5"),
                 ("recover", "start", "--usual", "8h"), ("checkin", "list", "--days", "0")):
        refused = run(*args)
        assert refused.exit_code != 0
        for jargon in ("float", "integer", "x>="):
            assert jargon not in refused.output, (args, refused.output)


# --- locked check-ins ------------------------------------------------------------------------------


def test_enter_at_the_passphrase_prompt_is_not_told_to_run_at_a_terminal(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.cli import options
    from upstack.cli import serve as serve_cli

    wellbeing.check_in(workspace, mood=2)
    wellbeing_seal.lock(workspace, PASSPHRASE)
    wellbeing_seal.forget_keys()
    monkeypatch.delenv("UPSTACK_PASSPHRASE", raising=False)
    workspace.ask_passphrase = lambda prompt: ""  # Enter, at the terminal's prompt
    with pytest.raises(BadInput) as refused:
        wellbeing.checkins(workspace)
    said = str(refused.value)
    # serve, started at a terminal, with Enter at the prompt
    monkeypatch.setattr(options, "ask_secret", lambda prompt: "")

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    workspace.ask_passphrase = None
    try:
        serve_cli._open_check_ins(workspace)
        stopped = ""
    except BadInput as error:
        stopped = str(error)
    assert "run at a terminal" not in said, said
    assert "run at a terminal" not in stopped, stopped


def test_due_with_locked_check_ins_does_not_drop_the_questionnaire_silently(
        run: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_CHECKIN_REMINDER", "1")
    run.ok("checkin", "--sleep", "7")
    run.ok("checkin", "burnout", "--answers", CBI, "--at", (today_local() - timedelta(days=6)).isoformat())
    run.ok("fit", "note", "--energised", "coding")
    assert "questionnaire" in run.ok("due")  # due tomorrow
    monkeypatch.setenv("UPSTACK_PASSPHRASE", PASSPHRASE)
    run.ok("checkin", "lock")
    wellbeing_seal.forget_keys()
    monkeypatch.delenv("UPSTACK_PASSPHRASE")
    locked = run.ok("due")
    assert "locked" in locked
    assert "questionnaire" in locked, locked


# --- recovery plans --------------------------------------------------------------------------------


def test_the_page_says_what_recover_says_of_a_plan_no_check_in_measures(run: CLI, workspace: Workspace) -> None:
    run.ok("checkin", "--sleep", "6")  # a check-in, without the hours worked
    run.ok("recover", "start", "--usual", "8", "--reason", "after the deadline")
    assert "no day measured yet" in run.ok("recover")
    with serve(workspace.home, workspace.db_url) as server:
        page = _text(server.client().get("/pace").text)
    assert "Recovery plan" in page
    assert "no day measured yet" in page.lower(), page[page.find("Recovery plan"):][:600]


def test_a_plan_called_off_before_it_began_is_called_off(run: CLI) -> None:
    start = (today_local() + timedelta(days=2)).isoformat()
    run.ok("recover", "start", "--usual", "8", "--from", start)
    assert "called off" in run.ok("recover", "end")
    assert "called off" in run.ok("recover", "list")
    shown = run.ok("recover")
    assert "ended on" not in shown and "called off" in shown, shown
