"""Dates in filters: a day a person names ("3 weeks ago", yesterday) is the whole day."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import upstack
from conftest import CLI
from upstack.timeutil import AT_HOUR, parse_iso, parse_moment, parse_since, parse_until, to_iso
from upstack.workspace import Workspace


def _either_side(expected: Callable[[datetime], datetime], compute: Callable[[], str]) -> None:
    """``compute()`` equals ``expected(now)`` for the local now before or after it (a test that
    runs across midnight sees one of the two days)."""
    before = to_iso(expected(datetime.now()))
    found = compute()
    after = to_iso(expected(datetime.now()))
    assert found in (before, after)


def _start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _end(moment: datetime) -> datetime:
    return moment.replace(hour=23, minute=59, second=59, microsecond=999999)


def test_a_named_day_is_the_whole_day_and_a_moment_stays_a_moment() -> None:
    _either_side(lambda now: _start(now - timedelta(weeks=3)), lambda: parse_since("3 weeks ago"))
    _either_side(lambda now: _start(now - timedelta(days=1)), lambda: parse_since("yesterday"))
    _either_side(lambda now: _end(now - timedelta(days=1)), lambda: parse_until("yesterday"))
    _either_side(_start, lambda: parse_since("today"))
    _either_side(_end, lambda: parse_until("today"))
    assert parse_since("2026-03-02") == to_iso(datetime(2026, 3, 2))
    assert parse_until("2026-03-02") == to_iso(datetime(2026, 3, 2, 23, 59, 59, 999999))
    # A time of day, or hours and minutes, mean a moment.
    assert parse_since("2026-03-02 14:30") == to_iso(datetime(2026, 3, 2, 14, 30))
    assert parse_until("2026-03-02T14:30:00") == to_iso(datetime(2026, 3, 2, 14, 30))
    for moment in ("2 hours ago", "30 minutes ago", "yesterday 14:00", "monday 9am"):
        local = parse_iso(parse_since(moment)).astimezone()
        assert (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0), moment


def test_log_search_review_and_runs_include_the_whole_day(run: CLI, workspace: Workspace) -> None:
    early = _start(datetime.now() - timedelta(weeks=3)) + timedelta(minutes=1)  # 00:01 three weeks ago
    if datetime.now().time() < (early + timedelta(minutes=1)).time():
        early -= timedelta(days=1)  # too close to midnight now: look a day further back
        since = "22 days ago"
    else:
        since = "3 weeks ago"
    run.ok("note", "--kind", "result", "--at", early.isoformat(), "Early that morning. #sweep")
    assert [e["title"] for e in json.loads(run.ok("log", "--since", since, "--json"))] == [
        "Early that morning."]
    assert json.loads(run.ok("search", "morning", "--since", since, "--json"))["total"] == 1
    assert "Early that morning." in run.ok("review", "--since", since)
    with upstack.run("today's run", home=workspace.home, db=workspace.db_url, capture="none") as going:
        going.log({"loss": 1.0}, step=0)
    assert [r["name"] for r in json.loads(run.ok("runs", "--since", "today", "--json"))] == ["today's run"]
    assert json.loads(run.ok("runs", "--until", "yesterday", "--json")) == []


def test_the_web_timeline_and_review_include_the_whole_day_and_say_outcomes_plainly(
        run: CLI, workspace: Workspace) -> None:
    from webserver import serve

    early = _start(datetime.now() - timedelta(weeks=3)) + timedelta(minutes=1)
    since = "3 weeks ago"
    if datetime.now().time() < (early + timedelta(minutes=1)).time():
        early -= timedelta(days=1)
        since = "22 days ago"
    run.ok("note", "--kind", "result", "--at", early.isoformat(), "--expected", "Head 5.1 matters.",
           "--happened", "It did not.", "--outcome", "surprise", "Early that morning.")
    with serve(workspace.home, workspace.db_url) as server:
        client = server.client()
        listed = client.get("/log.json", params={"since": since}).json()
        assert [e["title"] for e in listed["entries"]] == ["Early that morning."]
        review = client.get("/review", params={"since": since}).text
    assert "Expected Head 5.1 matters; happened It did not (surprise)" in review


def test_at_a_day_alone_is_that_day_at_nine_and_a_moment_stays_a_moment(run: CLI) -> None:
    """As jrnl's default hour: a back-filled "last wednesday" is not at midnight, nor at this time
    of day; today before nine is now (--at never dates into the future)."""
    def at_nine(moment: datetime) -> datetime:
        return moment.replace(hour=AT_HOUR, minute=0, second=0, microsecond=0)

    _either_side(lambda now: at_nine(now - timedelta(days=3)), lambda: parse_moment("3 days ago"))
    _either_side(lambda now: at_nine(now - timedelta(days=1)), lambda: parse_moment("yesterday"))
    if datetime.now().hour > AT_HOUR:  # (before nine, "today" is now, which moves as the test runs)
        _either_side(at_nine, lambda: parse_moment("today"))
    assert parse_moment("2026-03-02") == to_iso(datetime(2026, 3, 2, AT_HOUR))
    assert parse_moment("2026-03-02 00:00") == to_iso(datetime(2026, 3, 2))
    short = run.ok("note", "--at", "2026-03-02", "Typed up from Monday's paper notes.").strip()
    assert json.loads(run.ok("show", short, "--json"))["occurred_at"] == to_iso(datetime(2026, 3, 2, AT_HOUR))
