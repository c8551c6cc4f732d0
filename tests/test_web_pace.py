"""The pace page (/pace, issue 18) over real HTTP, on both engines: the owner checks in (a missed day
too) and reads the trends `upstack pace` shows, with a chart's days where nothing was said as gaps;
a refused answer is one line and keeps nothing; a team server has no such page for anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape

import httpx
import pytest

from upstack.services import accounts, capture, wellbeing
from upstack.services import pace as pace_service
from upstack.services.jsondump import dump_tables
from upstack.timeutil import today_local
from upstack.web.routes import pace as pace_routes
from upstack.workspace import Workspace
from webserver import Server, serve


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/pace").text)
    assert found
    return found.group(1)


def _field(html: str, name: str) -> str:
    """The value a form field of the page is filled with."""
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def _tables(workspace: Workspace) -> dict[str, object]:
    workspace.ingest()
    return dump_tables(workspace.store().db)


def test_the_owner_checks_in_on_the_page(server: Server, workspace: Workspace) -> None:
    client = server.client()
    page = client.get("/pace")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'href="/pace"' in client.get("/").text  # the nav links it, in local mode
    assert _field(page.text, "day") == today_local().isoformat() and _field(page.text, "energy") == ""
    csrf = _csrf(client)
    yesterday = (today_local() - timedelta(days=1)).isoformat()
    made = client.post("/pace", data={"csrf": csrf, "day": yesterday, "sleep_hours": "6.5", "energy": "2",
                                      "mood": "", "sign-snacking": "1", "note": "Deadline night."})
    assert made.status_code == 303 and made.headers["location"] == f"/pace?day={yesterday}&saved=true"
    workspace.ingest()  # what the app journaled
    kept = wellbeing.checkins(workspace)[yesterday]
    assert (kept.sleep_hours, kept.energy, kept.mood, kept.signs, kept.note) == (6.5, 2, None, {"snacking": 1},
                                                                                "Deadline night.")
    shown = client.get(made.headers["location"]).text
    assert f"Checked in for {yesterday}" in shown
    assert (_field(shown, "sleep_hours"), _field(shown, "energy"), _field(shown, "mood"),
            _field(shown, "sign-snacking")) == ("6.5", "2", "", "1")
    # Today's, with nothing but a mood: today's form then opens with it; yesterday's stays as it was.
    assert client.post("/pace", data={"csrf": csrf, "mood": "3"}).status_code == 303
    assert _field(client.get("/pace").text, "mood") == "3"
    workspace.ingest()  # what the app journaled
    assert wellbeing.checkins(workspace)[yesterday].mood is None
    # The JSON twin and a script's post (Accept: application/json) answer with data.
    data = client.get("/pace.json", params={"day": yesterday}).json()
    assert data["checkin"]["fields"]["sleep_hours"] == "6.5" and data["checkin"]["checked_in"]
    answer = client.post("/pace", data={"csrf": csrf, "hours_worked": "9"}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.json()["hours_worked"] == 9.0


@pytest.mark.parametrize(("form", "said"), [
    ({"energy": "7", "mood": "2"}, "energy is scored 0 to 3, not 7"),
    ({"sign-snacking": "4", "sleep_hours": "7"}, "sign 'snacking' is scored 0 to 3, not 4"),
    ({"sleep_hours": "seven", "mood": "2"}, "sleep 'seven' is not a number"),
    ({"sleep_hours": "30"}, "sleep is hours in a day (0 to 24), not 30"),
    ({"day": "2999-01-01", "mood": "2"}, "2999-01-01 is in the future"),
    ({"sign-no-such-sign": "1"}, "no warning sign 'no-such-sign'"),
    ({}, "nothing to record"),
])
def test_a_refused_check_in_is_one_line_and_keeps_nothing(server: Server, workspace: Workspace,
                                                          form: dict[str, str], said: str) -> None:
    client = server.client()
    wellbeing.check_in(workspace, mood=1, note="Kept from before.")
    csrf = _csrf(client)
    before = _tables(workspace)
    answer = client.post("/pace", data={"csrf": csrf, **form})
    assert answer.status_code == 400
    errors = [unescape(e) for e in re.findall(r'<p class="error"[^>]*>(.*?)</p>', answer.text, flags=re.S)]
    assert len(errors) == 1 and said in errors[0] and "\n" not in errors[0].strip()
    for name, value in form.items():  # what was typed is there to correct, not lost
        if name not in ("day", "sign-no-such-sign"):  # a sign the person does not track has no field
            assert _field(answer.text, name) == value
    as_json = client.post("/pace", data={"csrf": csrf, **form}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and said in as_json.json()["error"]
    assert _tables(workspace) == before
    workspace.ingest()  # what the app journaled
    assert wellbeing.checkins(workspace)[today_local().isoformat()].mood == 1


def test_the_trends_and_charts_are_the_pace_commands_with_gaps_as_gaps(server: Server, workspace: Workspace) -> None:
    today = today_local()
    for back in range(60, 0, -1):
        if back % 5 == 0:
            continue  # a missed day
        slid = back <= 8
        wellbeing.check_in(workspace, day=today - timedelta(days=back), sleep_hours=5.5 if slid else 7.5,
                           energy=1 if slid else 2, sign_scores={"snacking": 2 if slid else 0})
    capture.note(workspace, "Something written today.")
    client = server.client()
    data = client.get("/pace.json").json()
    expected = pace_service.pace(workspace)
    assert [t["signal"] for t in data["trends"]] == [t.signal.name for t in expected.trends]
    sleep = next(t for t in data["trends"] if t["signal"] == "sleep_hours")
    assert sleep["rising"] and sleep["recent"] == pytest.approx(5.5) and sleep["baseline"] == pytest.approx(7.5)
    assert expected.notice is not None and data["notice"]["text"] == expected.notice.text
    days = data["history"]["days"]
    assert len(days) == pace_service.DAILY_DAYS and days[-1] == today.isoformat()
    charts = {c["signal"]: c for c in data["history"]["charts"]}
    assert {"sleep_hours", "energy", "snacking", "late_activity"} <= set(charts) and "mood" not in charts
    values = dict(zip(days, charts["sleep_hours"]["values"], strict=True))
    assert values[(today - timedelta(days=5)).isoformat()] is None  # missed: a gap
    assert values[today.isoformat()] is None  # not yet checked in today
    assert values[(today - timedelta(days=4)).isoformat()] == 5.5
    assert charts["snacking"]["values"][days.index((today - timedelta(days=21)).isoformat())] == 0.0  # a real zero
    assert charts["energy"]["range"] == [0, 3] and charts["sleep_hours"]["range"] is None
    html = client.get("/pace").text
    assert "Several of your signs moved together" in html and expected.notice.text in html
    assert 'id="chart-sleep_hours"' in html and 'src="/static/vendor/uPlot-1.6.32.iife.min.js"' in html
    assert re.search(r'<tr id="trend-sleep_hours" class="rising">.*?moved down', html, flags=re.S)
    for shown in (html, str(data["notice"])):  # the JSON has a "burnout" key (the questionnaire, none here)
        assert "burnout" not in shown.lower() and "diagnos" not in shown.lower()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_team_server_has_no_pace_page(tmp_path, db_url: str | None) -> None:  # noqa: ANN001
    """An admin, a member and a visitor: /pace answers as an address with no page, and no page links it.
    Even with the page's routes added to a team server's app, its guard answers no such page."""
    home = tmp_path / "server"
    with Workspace(home=home, db=db_url) as ws:
        capture.note(ws, "A shared note.")
        ada, _ = accounts.add_user(ws, "ada", admin=True)
        bob, _ = accounts.add_user(ws, "bob")
        tokens = {"ada": accounts.create_token(ws, ada.id, "laptop")[1],
                  "bob": accounts.create_token(ws, bob.id, "laptop")[1]}
    for extend in (None, lambda app: app.include_router(pace_routes.router)):
        with serve(home, db_url, token=None, extend=extend) as server:
            for who in ("ada", "bob", None):
                client = server.client(signed_in=False)
                if who:
                    client.headers["Authorization"] = f"Bearer {tokens[who]}"
                for suffix in ("", ".json"):
                    answer, nothing = client.get("/pace" + suffix), client.get("/qunosuchpage" + suffix)
                    assert (answer.status_code, answer.text.replace("/pace", "/qunosuchpage")) == \
                        (nothing.status_code, nothing.text), (who, suffix, extend)
                    assert answer.status_code == (404 if who else 401 if suffix else 303)
                posted = client.post("/pace", data={"mood": "2"})
                assert posted.status_code == (404 if who else 401), (who, extend)
                if who and extend is None:
                    for page in ("/", "/practice", "/ladder", "/account", "/due", "/api/docs", "/openapi.json"):
                        assert "/pace" not in client.get(page).text, (who, page)
                if who == "ada" and extend is None:
                    assert "/pace" not in client.get("/admin").text
    with Workspace(home=home, db=db_url) as ws:
        assert wellbeing.checkins(ws) == {}


def test_the_page_shows_a_plan_under_way_the_questionnaire_and_patterns(server: Server, workspace: Workspace) -> None:
    from upstack.services import burnout, recovery

    today = today_local()
    for back in range(20, -1, -1):
        wellbeing.check_in(workspace, day=today - timedelta(days=back), sleep_hours=5 + back % 4,
                           energy=min(3, back % 4), mood=2)
    recovery.start(workspace, usual=8, reason="after the deadline", day=today - timedelta(days=2))
    burnout.answer(workspace, ["often"] * 6)
    text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", server.client().get("/pace").text)))
    assert "Recovery plan: step 1 of 3" in text and "(after the deadline)" in text and "50% 4.0 h" in text
    assert "sleep ↔ energy that day: r = +1.00, n = 21" in text and "Links to notice, not causes." in text
    assert "Burnout questionnaire" in text and "75 of 100 (high)" in text and "a doctor, a mentor" in text
