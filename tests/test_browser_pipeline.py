"""The board and an opportunity's page in a real browser (Debian's Chromium): a card moved on with one
click lands in the next column (with JavaScript and without), dragged to another column likewise, a
move back is asked first, and a hostile posting runs nothing."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from browser import (  # noqa: F401 - the fixtures register under their short names
    PageProblems,
    open_page,
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import applications, opportunities
from upstack.workspace import Workspace
from webserver import Server


def _application(ws: Workspace, org: str, stage: str) -> str:
    slug = opportunities.add(ws, organisation=org, role="Research Engineer").opportunity.slug
    applications.add(ws, slug, stage=stage)
    return slug


def test_one_click_moves_a_card_into_the_next_column(page: Page, server: Server,
                                                      sqlite_workspace: Workspace) -> None:
    slug = _application(sqlite_workspace, "Redwood Research", "applied")
    _application(sqlite_workspace, "Apollo Research", "applied")
    sign_in(page, server, "/pipeline")
    card = page.locator(f"article#a-{slug}")
    expect(page.locator(f'section.column[data-stage="applied"] article#a-{slug}')).to_be_visible()
    card.get_by_role("button", name="Move Research Engineer at Redwood Research to screen").click()
    expect(page.locator(f'section.column[data-stage="screen"] article#a-{slug}')).to_be_visible()
    expect(page.locator(f'section.column[data-stage="applied"] article#a-{slug}')).to_have_count(0)
    expect(page.locator('section.column[data-stage="screen"] h2 .count')).to_have_text("1")
    assert applications.find(sqlite_workspace, slug).stage == "screen"


def test_without_javascript_the_click_still_moves_the_card(chromium: Browser, page_problems: PageProblems,
                                                           server: Server, sqlite_workspace: Workspace) -> None:
    slug = _application(sqlite_workspace, "METR", "interview")
    with open_page(chromium, page_problems, java_script_enabled=False) as page:
        sign_in(page, server, "/pipeline")
        page.locator(f"article#a-{slug}").get_by_role("button", name="Move Research Engineer at METR to offer").click()
        expect(page.locator(f'section.column[data-stage="offer"] article#a-{slug}')).to_be_visible()
    assert not page_problems.unexpected()


def test_a_card_dragged_to_another_column_moves_there(page: Page, server: Server,
                                                       sqlite_workspace: Workspace) -> None:
    slug = _application(sqlite_workspace, "FAR AI", "applied")
    sign_in(page, server, "/pipeline")
    page.locator(f"article#a-{slug}").drag_to(page.locator('section.column[data-stage="interview"]'))
    expect(page.locator(f'section.column[data-stage="interview"] article#a-{slug}')).to_be_visible()
    assert applications.find(sqlite_workspace, slug).stage == "interview"


def test_a_move_back_is_asked_first(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    slug = _application(sqlite_workspace, "UK AISI", "interview")
    sign_in(page, server, "/pipeline")
    card = page.locator(f"article#a-{slug}")
    card.get_by_label("Stage to move Research Engineer at UK AISI to").select_option("applied")
    card.get_by_role("button", name="Move", exact=True).click()
    expect(page.get_by_role("heading", name="Move it back?")).to_be_visible()
    assert applications.find(sqlite_workspace, slug).stage == "interview"  # nothing yet
    page.get_by_role("button", name="Move it back to applied").click()
    expect(page.locator(f'section.column[data-stage="applied"] article#a-{slug}')).to_be_visible()
    assert applications.find(sqlite_workspace, slug).timeline[-1]["forced"] is True


def test_a_hostile_posting_runs_nothing(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    """Every payload of the injection corpus in a kept posting's HTML (and its text): shown, never run."""
    from hostile import PAYLOADS

    slug = opportunities.add(sqlite_workspace, organisation="Hostile Lab", role="<script>window.__xss=1</script>"
                             ).opportunity.slug
    opportunities.keep_posting(sqlite_workspace, slug, text="\n".join(PAYLOADS), html="<p>".join(PAYLOADS),
                               url="https://hostile.example/jobs/1")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, f"/opportunities/{slug}")
    page.wait_for_load_state("load")
    expect(page.locator("#posting")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("<script>")  # shown as text
    assert page.locator("#posting img, #posting script, #posting svg, #posting iframe").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    for path in ("/opportunities", "/pipeline", "/due"):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__xss") == "undefined", path
    assert dialogs == []
