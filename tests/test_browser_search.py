"""Search as you type and "did you mean", as a person sees them in Chromium."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from browser import (  # noqa: F401 - the fixtures register under their short names
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import capture
from upstack.workspace import Workspace
from webserver import Server


def test_the_box_completes_the_last_word_and_offers_a_respelling(page: Page, server: Server,
                                                                   sqlite_workspace: Workspace) -> None:
    capture.note(sqlite_workspace, "Head selectivity under weight decay. It holds across seeds.")
    capture.note(sqlite_workspace, "Learning rate sweep. Nothing about heads.")
    sign_in(page, server, "/search")
    box = page.get_by_role("searchbox")
    titles = page.locator("#results li a.title")

    box.press_sequentially("selectiv", delay=40)  # half a word: it finds the words it starts
    expect(titles).to_have_text(["Head selectivity under weight decay."])
    expect(titles.locator("mark")).to_have_text(["selectivity"])

    box.fill("")
    box.press_sequentially("wieght decay", delay=40)
    respelt = page.get_by_role("link", name="weight decay")
    expect(page.locator("#results .suggestion")).to_have_text("Did you mean: weight decay?")
    expect(titles).to_have_count(0)
    respelt.click()
    expect(titles).to_have_text(["Head selectivity under weight decay."])
    assert parse_qs(urlsplit(page.url).query)["q"] == ["weight decay"]
    expect(page.get_by_role("searchbox")).to_have_value("weight decay")
    expect(page.locator("#results .suggestion")).to_have_count(0)
