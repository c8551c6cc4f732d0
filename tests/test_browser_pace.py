"""The pace page in a real browser (Debian's Chromium): the check-in form filled in and sent, kept,
and the charts drawn by the vendored uPlot; picking a missed day fills the form with its answers."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from browser import (  # noqa: F401 - the fixtures register under their short names
    TIMEOUT_MS,
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import wellbeing
from upstack.timeutil import today_local
from upstack.workspace import Workspace
from webserver import Server

WAIT = {"timeout": TIMEOUT_MS}  # a bound on failing (a busy machine), never on passing
# How many pixels of a canvas something is drawn on (uPlot draws axes, grid and the line there).
_INKED = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked++;
  return inked;
}"""


def test_a_check_in_sent_from_the_form_is_kept_and_charted(page: Page, server: Server,
                                                            sqlite_workspace: Workspace) -> None:
    today = today_local()
    for back in range(1, 30):
        if back not in (2, 3):  # 2: below; 3: a missed day, filled in below
            wellbeing.check_in(sqlite_workspace, day=today - timedelta(days=back), sleep_hours=7.0, energy=2,
                               mood=2, sign_scores={"snacking": 0})
    wellbeing.check_in(sqlite_workspace, day=today - timedelta(days=2), sleep_hours=5.0, energy=1)
    sign_in(page, server, "/pace")
    form = page.locator("form#checkin")
    form.get_by_label("Sleep last night (hours)").fill("6.5")
    form.get_by_label("Energy, 0 (none) to 3 (plenty)").fill("2")
    form.get_by_label("Mood, 0 (low) to 3 (good)").fill("3")
    form.get_by_label("snacking").fill("1")
    form.get_by_label("A note").fill("A good walk at lunch.")
    form.get_by_role("button", name="Check in").click()
    expect(page.locator("#checkin-saved")).to_contain_text(f"Checked in for {today.isoformat()}", **WAIT)
    sqlite_workspace.ingest()  # what the app journaled
    kept = wellbeing.checkins(sqlite_workspace)[today.isoformat()]
    assert (kept.sleep_hours, kept.energy, kept.mood, kept.signs, kept.note) == (6.5, 2, 3, {"snacking": 1},
                                                                                "A good walk at lunch.")
    expect(page.locator("#pace-charts")).to_have_attribute("data-drawn", "true", **WAIT)
    canvas = page.locator("#chart-sleep_hours canvas")
    expect(canvas).to_have_count(1, **WAIT)
    assert canvas.evaluate(_INKED) > 500
    expect(form.get_by_label("Sleep last night (hours)")).to_have_value("6.5", **WAIT)  # today's answers, to change

    # Another day: its answers so far fill the form (today's are not carried to it).
    form.get_by_label("Day", exact=True).fill((today - timedelta(days=2)).isoformat())
    expect(form.get_by_label("Sleep last night (hours)")).to_have_value("5", **WAIT)
    expect(form.get_by_label("Mood, 0 (low) to 3 (good)")).to_have_value("", **WAIT)
    expect(form.get_by_label("snacking")).to_have_value("", **WAIT)
    form.get_by_label("Day", exact=True).fill((today - timedelta(days=3)).isoformat())  # the missed one: empty
    expect(form.get_by_label("Sleep last night (hours)")).to_have_value("", **WAIT)
    form.get_by_label("Mood, 0 (low) to 3 (good)").fill("1")
    form.get_by_role("button", name="Check in").click()
    missed_day = (today - timedelta(days=3)).isoformat()
    expect(page.locator("#checkin-saved")).to_contain_text(f"Checked in for {missed_day}", **WAIT)
    sqlite_workspace.ingest()  # what the app journaled
    missed = wellbeing.checkins(sqlite_workspace)[missed_day]
    assert (missed.mood, missed.sleep_hours, missed.signs) == (1, None, {})
