"""`upstack pace` over real check-ins (issue 18): a steady month says nothing, a sustained slide raises
one gentle notice naming what moved; nothing from one bad night (both engines)."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from conftest import CLI
from upstack.services import pace, wellbeing
from upstack.timeutil import today_local
from upstack.workspace import Workspace

# Each test runs in two zones (conftest.ZONES): what the log shows is read in local time.
pytestmark = pytest.mark.usefixtures("local_zone")


def _history(ws: Workspace, days: int, *, slide_from: int | None = None, bad_night: int | None = None) -> None:
    rng = random.Random(7)
    today = today_local()
    for back in range(days, -1, -1):
        slid = slide_from is not None and back <= slide_from
        sleep = (5.6 if slid else 7.4) + rng.uniform(-0.4, 0.4)
        energy = 1 if slid else rng.choice([2, 2, 3])
        snacking = 2 if slid else rng.choice([0, 0, 1])
        if back == bad_night:
            sleep, energy, snacking = 3.5, 0, 3
        wellbeing.check_in(ws, day=today - timedelta(days=back), sleep_hours=round(sleep, 1), energy=energy,
                           mood=2, sign_scores={"snacking": snacking})


def test_a_steady_person_gets_no_notice_and_one_bad_night_changes_nothing(workspace: Workspace) -> None:
    _history(workspace, 60, bad_night=1)
    found = pace.pace(workspace)
    assert found.notice is None
    sleep = next(t for t in found.trends if t.signal.name == "sleep_hours")
    assert sleep.enough and 7 < (sleep.baseline or 0) < 8


def test_a_sustained_slide_raises_one_gentle_notice(workspace: Workspace, run: CLI) -> None:
    _history(workspace, 60, slide_from=8)
    found = pace.pace(workspace)
    assert found.notice is not None
    assert found.notice.text.startswith("sleep ") and "snacking up" in found.notice.text
    shown = run.ok("pace")
    assert "Several of your signs moved together" in shown and "recover actively" in shown
    for word in ("burnout", "diagnos", "you are"):
        assert word not in shown.lower()
    data = json.loads(run.ok("pace", "--json"))
    assert data["notice"]["text"] == found.notice.text
    assert {t["signal"] for t in data["trends"] if t["rising"]} >= {"sleep_hours", "snacking"}


def test_pace_shows_the_notice_the_notices_list_shows(workspace: Workspace, run: CLI) -> None:
    """A pattern noticed eleven days ago and still there: `pace --notices` lists that notice, and its
    cooldown keeps this week quiet; `pace` says the same, not a second notice of its own."""
    _history(workspace, 70, slide_from=14)
    raised = pace.history(workspace)
    assert [(today_local() - n.day).days for n in raised] == [11]  # on the slide's fourth day
    assert pace.pace(workspace).notice is None
    assert "Several of your signs moved together" not in run.ok("pace")
    assert json.loads(run.ok("pace", "--json"))["notice"] is None
    listed = run.ok("pace", "--notices")
    assert raised[0].day.isoformat() in listed


def test_a_new_person_is_told_from_when_pace_compares(workspace: Workspace, run: CLI) -> None:
    """Two check-ins: nothing to compare yet, and pace says from about when it will (the baseline window,
    three to seven weeks back, then holds ten days); with weeks of check-ins it no longer says it."""
    today = today_local()
    for back in (3, 0):
        wellbeing.check_in(workspace, day=today - timedelta(days=back), sleep_hours=7.0, energy=2)
    data = json.loads(run.ok("pace", "--json"))
    # From today on, a check-in a day, the usual (three to seven weeks back) holds ten days in 29 days:
    # nine to come and the one three days ago.
    assert data["compares_from"] == (today + timedelta(days=29)).isoformat()
    assert f"check-ins compare from about {data['compares_from']}" in run.ok("pace")
    _history(workspace, 60)
    assert json.loads(run.ok("pace", "--json"))["compares_from"] is None


def test_imported_entries_do_not_count_as_work_at_night(run: CLI) -> None:
    """An import creates its entries when it runs (at 2 a.m., say): that is not when they were written."""
    from pathlib import Path

    def log_signals() -> list[str]:
        return [t["signal"] for t in json.loads(run.ok("pace", "--json"))["trends"] if t["source"] == "log"]

    run.ok("import", "jrnl", str(Path(__file__).parent / "fixtures" / "jrnl_export.json"))
    assert log_signals() == []  # nothing written here yet
    run.ok("note", "Written here, now.")
    assert log_signals() == ["late_activity", "worked_day", "no_day_off_streak"]
