"""A new user's walk through the wellbeing commands (issue 18): what confused or failed them, held.

Each test is one thing found on the walk: a typo in a date filed a check-in on another day, a typo
at the terminal lost the answers typed before it, and so on. Real SQLite (and PostgreSQL where the
`run` fixture brings it), real processes at a real terminal where a terminal is what is tested.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import CLI
from upstack.errors import BadInput
from upstack.services import wellbeing, wellbeing_seal
from upstack.timeutil import parse_day, parse_when
from upstack.workspace import Workspace

PASSPHRASE = "a walk passphrase, long enough"


def _in_terminal(args: list[str], home: Path, *, answer: str,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`upstack ARGS` as a real process whose standard input is a terminal, typed ``answer`` into."""
    controller, terminal = os.openpty()
    full = {**os.environ, "UPSTACK_HOME": str(home), "NO_COLOR": "1", **(env or {})}
    for name in ("UPSTACK_DB", "UPSTACK_PASSPHRASE"):
        if name not in (env or {}):
            full.pop(name, None)
    try:
        os.write(controller, answer.encode())
        return subprocess.run([sys.executable, "-m", "upstack", *args], stdin=terminal, capture_output=True,
                              text=True, env=full, timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)


def _converse(args: list[str], home: Path, replies: list[str], *, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`upstack ARGS` at a real terminal (all three streams), each of ``replies`` typed once a prompt
    (text ending ': ') is waiting for it, as a person types: a hidden prompt flushes what was typed
    ahead. Returns the exit code and everything the terminal showed."""
    import select
    import time

    controller, terminal = os.openpty()
    full = {**os.environ, "UPSTACK_HOME": str(home), "NO_COLOR": "1", **(env or {})}
    for name in ("UPSTACK_DB", "UPSTACK_PASSPHRASE"):
        if name not in (env or {}):
            full.pop(name, None)
    process = subprocess.Popen([sys.executable, "-m", "upstack", *args], stdin=terminal, stdout=terminal,
                               stderr=terminal, env=full)
    os.close(terminal)
    shown, pending, waiting = b"", b"", list(replies)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the other end closed: the process is done
                break
            shown += chunk
            pending += chunk
            if waiting and pending.endswith(b": "):
                os.write(controller, waiting.pop(0).encode() + b"\n")
                pending = b""
        return process.wait(timeout=120), shown.decode(errors="replace")
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_year_first_date_that_is_no_day_is_refused_not_read_as_another_day(run: CLI) -> None:
    # dateparser read 2026-13-01 as 13 January: a check-in (or a note) quietly filed on another day
    for text in ("2026-13-01", "2026-02-30", "2026-13-01 10:00"):
        with pytest.raises(BadInput, match="is no day"):
            parse_day(text, what="check-in day", prefer="past")
        with pytest.raises(BadInput, match="is no day"):
            parse_when(text, what="--at date")
    assert parse_day("2026-1-5", prefer="past") == "2026-01-05"  # unpadded, but a day: still read
    refused = run("checkin", "--at", "2026-13-01", "--mood", "1")
    assert refused.exit_code == 1 and "is no day" in refused.output
    assert run("note", "--at", "2026-13-01", "x").exit_code == 1
    assert json.loads(run.ok("checkin", "list", "--json", "--days", "100000")) == []


def test_a_typo_at_the_terminal_is_asked_again_and_the_answers_before_it_are_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # sleep; energy 5 (out of range), then 2; mood 'ok' (not a number), then 1; hours skipped;
    # snacking 4, then 0; the other two signs skipped; a note
    done = _in_terminal(["checkin"], home, answer="6.5\n5\n2\nok\n1\n\n4\n0\n\n\nfine\n")
    assert done.returncode == 0, done.stderr
    assert "energy is scored 0 to 3, not 5: try again" in done.stderr
    assert "'ok' is not a whole number: try again" in done.stderr
    with Workspace(home=home) as ws:
        ws.ingest()
        [row] = wellbeing.checkins(ws).values()
    assert (row.sleep_hours, row.energy, row.mood, row.hours_worked, row.signs, row.note) == \
        (6.5, 2, 1, None, {"snacking": 0}, "fine")
    # a back-filled day is asked about that day, not about "today"
    filled = _in_terminal(["checkin", "--at", "2026-01-05"], home, answer="7\n\n\n\n\n\n\n\n")
    assert filled.returncode == 0 and "Hours worked on 2026-01-05" in filled.stdout
    assert "today" not in filled.stdout.replace("checked in for", "")
    # the questionnaire too: a number out of range, a misspelt answer, then good ones
    asked = _in_terminal(["checkin", "burnout"], home, answer="2\n6\nsometimez\n3\n\n2\n4\nnever\n")
    assert asked.returncode == 0, asked.stderr
    assert "6 is not one of the answers" in asked.stderr and "'sometimez' is not an answer" in asked.stderr
    noted = _in_terminal(["fit", "note"], home, answer="codng\ncoding\n\n\nok\n")
    assert noted.returncode == 0 and "'codng' is not a kind of work" in noted.stderr


def test_locked_check_ins_ask_the_passphrase_before_the_questions(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    with Workspace(home=home) as ws:
        wellbeing.check_in(ws, mood=2)
        wellbeing_seal.lock(ws, PASSPHRASE)
    wellbeing_seal.forget_keys()
    for args in (["checkin"], ["checkin", "burnout"], ["fit", "note"]):
        code, shown = _converse(args, home, ["not the passphrase", "6", "2"])
        assert code == 1 and "wrong passphrase" in shown, (args, shown)
        assert "Sleep" not in shown and "How often" not in shown and "energised" not in shown, shown
    code, shown = _converse(["checkin"], home, [PASSPHRASE, "7", "", "", "", "", "", "", ""])
    assert code == 0 and shown.index("Passphrase") < shown.index("Sleep"), shown
    monkeypatch.setenv("UPSTACK_PASSPHRASE", PASSPHRASE)
    with Workspace(home=home) as ws:
        ws.ingest()
        [row] = wellbeing.checkins(ws, date.today().isoformat()).values()
    assert (row.sleep_hours, row.mood) == (7, 2)


def test_checkin_list_shows_the_last_days_not_the_last_check_ins(run: CLI) -> None:
    # `--days 14` ("the last two weeks", the README says) listed the last 14 check-ins, however old
    today = date.today()
    for back in (0, 3, 20, 400):
        run.ok("checkin", "--at", (today - timedelta(days=back)).isoformat(), "--mood", "2",
               "--sign", "video games=1", "--sign", "snacking=2")
    listed = [row["day"] for row in json.loads(run.ok("checkin", "list", "--json"))]
    assert listed == [today.isoformat(), (today - timedelta(days=3)).isoformat()]
    assert len(json.loads(run.ok("checkin", "list", "--json", "--days", "21"))) == 3
    assert len(json.loads(run.ok("checkin", "list", "--json", "--days", "401"))) == 4
    shown = run.ok("checkin", "list", "--days", "1")
    assert shown.count("\n") == 1 and "snacking 2, video games 1" in shown  # signs in their own order


def test_checkin_list_says_when_only_older_check_ins_exist(run: CLI) -> None:
    run.ok("checkin", "--at", (date.today() - timedelta(days=30)).isoformat(), "--mood", "1")
    assert "no check-ins in the last 14 days (--days looks further back)" in run.ok("checkin", "list")


def test_a_name_reaches_the_tracked_sign_before_a_retired_one(run: CLI) -> None:
    # renamed to "video games" once the old "video games" was retired, snacking did not get the
    # scores typed for "video games": the retired sign's key won over the tracked sign's name
    refused = run("checkin", "signs", "rename", "snacking", "Video-Games")
    assert refused.exit_code == 1 and "you track 'Video-Games' already" in refused.output
    run.ok("checkin", "signs", "rename", "procrastinating sleep", "late nights")
    refused = run("checkin", "signs", "add", "procrastinating sleep")
    assert refused.exit_code == 1 and "already, as 'late nights'" in refused.output
    # a retired sign's name may be taken again: the one tracked now answers to it
    run.ok("checkin", "signs", "retire", "video games")
    run.ok("checkin", "signs", "rename", "snacking", "video games")
    run.ok("checkin", "--sign", "video games=2", "--sign", "procrastinating sleep=1")
    [row] = json.loads(run.ok("checkin", "list", "--json"))
    assert row["signs"] == {"snacking": 2, "procrastinating-sleep": 1}
    names = [(s["slug"], s["name"], s["retired"]) for s in json.loads(run.ok("checkin", "signs", "--json"))]
    assert names == [("snacking", "video games", False), ("procrastinating-sleep", "late nights", False),
                     ("video-games", "video games", True)]


def test_a_plan_says_where_its_usual_load_came_from_and_a_short_one_lists_no_backward_days(run: CLI) -> None:
    # with --usual given, `recover` named four weeks the usual "came from" that held no check-in at all
    run.ok("recover", "start", "--usual", "8")
    shown = run.ok("recover")
    assert "your usual 8.0 h on a working day (as you gave it)" in shown and "..20" not in shown.splitlines()[1]
    assert json.loads(run.ok("recover", "list", "--json"))[0]["usual_given"] is True
    assert run.ok("recover", "end").startswith("ended the plan that started")
    assert json.loads(run.ok("recover", "list", "--json"))[0]["usual_given"] is True  # kept through its end
    # ended on its first day, the list read "2026-12-05..2026-12-04"; one called off before it began too
    later = (date.today() + timedelta(days=3)).isoformat()
    run.ok("recover", "start", "--usual", "6", "--from", later)
    assert run.ok("recover", "end") == f"called off the plan set to start {later}\n"
    listed = run.ok("recover", "list").splitlines()
    today = date.today().isoformat()
    assert listed == [f"{later}  50% → 75% → 100%, called off {today}", f"{today}  50% → 75% → 100%, ended {today}"]


def test_a_wrong_passphrase_does_not_stop_due_or_doctor(run: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    # `upstack due` (deadlines, interviews) stopped at "wrong passphrase for your check-ins", and
    # `upstack doctor` ran none of its checks
    run.ok("checkin", "--mood", "2")
    run.ok("opp", "add", "--kind", "fellowship", "--role", "Walk fellowship", "--org", "Walk Institute", "--deadline",
           (date.today() + timedelta(days=5)).isoformat())
    monkeypatch.setenv("UPSTACK_PASSPHRASE", PASSPHRASE)
    run.ok("checkin", "lock")
    wellbeing_seal.forget_keys()
    monkeypatch.setenv("UPSTACK_PASSPHRASE", "not the passphrase at all")
    monkeypatch.setenv("UPSTACK_CHECKIN_REMINDER", "1")
    assert "wrong passphrase" in run("checkin", "list").output  # what reads them still stops
    due = json.loads(run.ok("due", "--json"))  # the deadline, and why today's check-in cannot be told
    assert [item["kind"] for item in due] == ["check-in", "deadline"]
    assert "the passphrase given does not open them" in due[0]["title"]
    checked = run("doctor")
    assert checked.exit_code == 0 and "is not the check-ins' one" in checked.output, checked.output


def test_pace_says_which_way_a_sign_moved_and_when_its_notice_was_raised(run: CLI, workspace: Workspace) -> None:
    # `pace` marked less sleep "rising", where the page says "moved down"; its notice, raised days
    # ago, read as if of today
    today = date.today()
    for back in range(59, -1, -1):
        sliding = back <= 8
        wellbeing.check_in(workspace, day=today - timedelta(days=back), sleep_hours=5.0 if sliding else 7.5,
                           energy=2, sign_scores={"snacking": 3 if sliding else 0})
    shown = run.ok("pace")
    sleep = next(line for line in shown.splitlines() if line.startswith("sleep"))
    snacking = next(line for line in shown.splitlines() if line.startswith("snacking"))
    assert sleep.endswith(" moved down") and snacking.endswith(" moved up") and "rising" not in shown
    assert "this week's mean leaves out its single worst day" in shown
    raised = json.loads(run.ok("pace", "--json"))["notice"]["day"]
    assert raised != today.isoformat() and f"Several of your signs moved together (noticed on {raised}): " in shown


def test_today_is_not_a_day_off_before_anything_is_written(workspace: Workspace) -> None:
    # each morning `pace` counted the day just begun as a day off: "days worked" fell and the
    # streak of days without one dropped to zero until the first note
    from datetime import datetime

    from upstack.services import capture
    from upstack.services import pace as pace_service
    from upstack.timeutil import simulated_clock

    today = date.today()
    with simulated_clock(datetime.now().astimezone()) as clock:
        for back in range(30, 0, -1):
            clock.set(datetime.combine(today - timedelta(days=back), datetime.min.time()).astimezone()
                      + timedelta(hours=10))
            capture.note(workspace, f"work, {back} days ago")
    workspace.ingest()
    seen = pace_service.daily(workspace, days=5)
    assert seen.values["worked_day"] == [1.0, 1.0, 1.0, 1.0, None]  # today: a gap, not a zero
    assert seen.values["no_day_off_streak"][-2:] == [4.0, None]  # (counted within the days read)
    capture.note(workspace, "today's first")
    workspace.ingest()
    seen = pace_service.daily(workspace, days=5)
    assert seen.values["worked_day"][-1] == 1.0 and seen.values["no_day_off_streak"][-1] == 5.0


def test_the_page_shows_the_numbers_the_terminal_shows_and_when_the_notice_was_raised(
        run: CLI, workspace: Workspace) -> None:
    # the page rounded twice (2.346 to 2.35, then to 2.4) where `upstack pace` printed 2.3
    import re
    from html import unescape

    from webserver import serve

    today = date.today()
    for back in range(59, -1, -1):
        sliding = back <= 8
        wellbeing.check_in(workspace, day=today - timedelta(days=back), sleep_hours=1.0 if sliding else 2.346,
                           sign_scores={"snacking": 3 if sliding else 0})
    printed = next(line for line in run.ok("pace").splitlines() if line.startswith("sleep")).split()
    assert printed[1:3] == ["1.0", "2.3"]
    with serve(workspace.home, workspace.db_url) as server:
        page = server.client().get("/pace").text
    row = re.search(r'<tr id="trend-sleep_hours"[^>]*>(.*?)</tr>', page, re.S)
    assert row is not None
    cells = [unescape(c).strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]
    assert cells[:3] == ["1.0", "2.3", "-1.3"]
    raised = json.loads(run.ok("pace", "--json"))["notice"]["day"]
    assert f'Noticed on <time datetime="{raised}">' in page


def test_locked_check_ins_on_the_page_say_what_to_do_in_a_browser(workspace: Workspace,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # the page said "set UPSTACK_PASSPHRASE or run at a terminal", under the title "Not found"
    from webserver import serve

    wellbeing.check_in(workspace, mood=2)
    wellbeing_seal.lock(workspace, PASSPHRASE)
    wellbeing_seal.forget_keys()
    monkeypatch.delenv("UPSTACK_PASSPHRASE", raising=False)
    with serve(workspace.home, workspace.db_url) as server:
        page = server.client().get("/pace")
        missing = server.client().get("/no-such-page")
    assert page.status_code == 400 and "<title>Cannot do that · upstack</title>" in page.text
    assert "start `upstack serve` with UPSTACK_PASSPHRASE set" in page.text and "terminal" not in page.text
    assert missing.status_code == 404 and "<title>Not found · upstack</title>" in missing.text


def test_help_names_what_a_new_user_needs(run: CLI) -> None:
    from upstack.domain import cbi
    from upstack.services import due

    # a mistyped command is offered the right one (commands load lazily: click's own list was empty)
    typo = run("chekin")
    assert typo.exit_code == 2 and "Did you mean 'checkin'" in typo.output
    assert "Did you mean" not in run("zzz").output
    # `--answers` takes six answers in an order the help now gives
    burnout_help = run.ok("checkin", "burnout", "--help")
    assert all(f"{n}. {item}" in burnout_help for n, item in enumerate(cbi.ITEMS, 1))
    # every kind `due --kind` takes, and the check-in reminder, named in its help
    due_help = " ".join(run.ok("due", "--help").split())
    assert all(kind in due_help for kind in due.KINDS) and "UPSTACK_CHECKIN_REMINDER" in due_help
    # the first sentence of `signs add` is its summary, not "Track a sign of your own (e.g."
    assert "(e.g." not in run.ok("checkin", "signs", "--help")
