"""The keyboard in a real browser (static/keys.js): / searches, j and k move through the entries with a
visible focus, Enter opens one, n writes a new note, never while typing in a field; Ctrl-K (or
"Jump to…") opens the quick switcher, which finds any entry, node or run by a part of its title."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import upstack
from browser import (  # noqa: F401 - the fixtures register under their short names
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import capture, tree
from upstack.workspace import Workspace
from webserver import Server

_FOCUS_LOOK = "(e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e).boxShadow]"


def _notes(ws: Workspace) -> list[str]:
    """Three notes, newest first as the timeline shows them; their titles."""
    titles = ["The oldest note.", "The middle note.", "The newest note."]
    for day, title in enumerate(titles, start=1):
        capture.note(ws, title, occurred_at=f"2026-01-0{day}T10:00:00.000000Z")
    return titles[::-1]


def _focused_title(page: Page) -> str:
    return str(page.evaluate("document.activeElement.closest('li.entry')?.querySelector('a.title')?.textContent"))


def test_j_and_k_move_through_the_timeline_with_a_visible_focus_and_enter_opens(
        page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    titles = _notes(sqlite_workspace)
    sign_in(page, server)
    rows = page.locator("#timeline li.entry")
    resting = rows.nth(0).evaluate(_FOCUS_LOOK)

    page.keyboard.press("j")
    assert _focused_title(page) == titles[0]
    assert rows.nth(0).evaluate(_FOCUS_LOOK) != resting  # the entry j is on looks it
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # past the last: stays there
    assert _focused_title(page) == titles[2]
    page.keyboard.press("k")
    assert _focused_title(page) == titles[1]
    assert rows.nth(0).evaluate(_FOCUS_LOOK) == resting

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(titles[1])


def test_n_writes_a_new_note_and_single_keys_type_in_a_field(page: Page, server: Server,
                                                             sqlite_workspace: Workspace) -> None:
    _notes(sqlite_workspace)
    sign_in(page, server, "/tree")
    page.keyboard.press("n")  # from another page: the timeline's box
    box = page.get_by_role("textbox", name="New note")
    expect(box).to_be_focused()
    assert page.url.endswith("/#new-note")
    page.keyboard.type("just jotting knowledge now / then.")
    expect(box).to_have_value("just jotting knowledge now / then.")  # j, k, n and / typed, not obeyed
    expect(box).to_be_focused()
    page.locator("form.capture").get_by_role("button", name="Add").click()
    expect(page.locator("#timeline li.entry a.title").first).to_have_text("just jotting knowledge now / then.")

    page.keyboard.press("n")  # on the timeline itself
    expect(page.get_by_role("textbox", name="New note")).to_be_focused()


def test_slash_goes_to_the_search_box(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    _notes(sqlite_workspace)
    sign_in(page, server)
    page.keyboard.press("/")
    expect(page).to_have_url(re.compile(r"/search$"))
    search = page.get_by_role("searchbox")
    expect(search).to_be_focused()
    search.fill("middle")
    page.keyboard.press("Enter")
    expect(page.locator("#results li.result a.title")).to_have_text(["The middle note."])
    page.locator("main").click(position={"x": 5, "y": 5})  # out of the box
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")  # search results are a list of entries too
    assert page.evaluate("document.activeElement.closest('li.result')?.querySelector('a.title')?.textContent") \
        == "The middle note."


@pytest.mark.parametrize("how", ["Control+k", "Meta+k", "click"])
def test_the_quick_switcher_jumps_to_an_entry_a_node_or_a_run(page: Page, server: Server,
                                                              sqlite_workspace: Workspace, how: str) -> None:
    node = tree.add_node(sqlite_workspace, "question", "Does the IOI circuit transfer to GPT-2 medium?",
                         why="It tests the method.")
    capture.note(sqlite_workspace, "Reading group notes on the IOI circuit.")
    with upstack.run("ioi-circuit-sweep", home=sqlite_workspace.home, capture="none") as made:
        made.log({"loss": 0.5}, step=0)
    sign_in(page, server, "/runs")
    if how == "click":
        page.get_by_role("banner").get_by_role("link", name="Jump to").click()
    else:
        page.keyboard.press(how)
    box = page.get_by_role("combobox", name="Jump to")
    expect(box).to_be_focused()
    box.press_sequentially("ioi circ", delay=30)
    dialog = page.locator("dialog.switcher")
    expect(dialog).to_have_attribute("data-shown", "ioi circ")
    options = dialog.get_by_role("option")
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_contain_text("node · question")
    expect(options.nth(1)).to_contain_text("ioi-circuit-sweep")
    expect(options.nth(2)).to_contain_text("Reading group notes on the IOI circuit.")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    box.press("Enter")
    expect(page).to_have_url(re.compile(f"/tree/{node.short}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(node.title)
    page.wait_for_load_state("domcontentloaded")

    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox", name="Jump to")
    box.press_sequentially("sweep", delay=30)
    expect(page.locator("dialog.switcher").get_by_role("option")).to_have_count(1)
    box.press("Enter")
    expect(page).to_have_url(re.compile(f"/runs/{made.short}$"))
    page.wait_for_load_state("domcontentloaded")  # keys.js listens from here on

    page.keyboard.press("Control+k")
    page.get_by_role("combobox", name="Jump to").press_sequentially("zebra", delay=30)
    expect(page.locator("dialog.switcher")).to_have_attribute("data-shown", "zebra")
    expect(page.locator("dialog.switcher").get_by_role("option")).to_have_count(0)
    expect(page.locator(".switcher-status")).to_have_text("Nothing you can open has a title with these words.")
    page.keyboard.press("Escape")
    expect(page.locator("dialog.switcher")).not_to_be_visible()
    page.keyboard.press("j")  # the keys work again once it is closed: no entry list on a run page, no error
