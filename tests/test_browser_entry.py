"""The entry page and its neighbours in a real browser (Debian's Chromium): attached figures drawn
under the body with the Files list under them, wikilinks to follow, tags apart, an SVG that runs
no script, chart ticks that never repeat, picking runs to compare, a full-width comment box.
The same pages' data over HTTP, on both engines and on a team server: tests/test_web_entry.py."""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import upstack
from browser import (  # noqa: F401 - the fixtures register under their short names
    PageProblems,
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import accounts, capture, tree
from upstack.workspace import Workspace
from webserver import Server, serve

PASSWORD = "correct horse battery"


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A real PNG (one solid colour), made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80">'
       b'<rect width="120" height="80" fill="#2b8a3e"/></svg>')
# Each trick an SVG has to run script, and what it would leave behind if it ran.
HOSTILE_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60" '
               b'onload="top.document.body.dataset.pwned = \'onload\'">'
               b'<script>top.document.body.dataset.pwned = "script"; '
               b'document.documentElement.setAttribute("data-pwned", "script")</script>'
               b'<rect width="60" height="60" fill="#b00020"/></svg>')


def _attach(folder: Path, files: dict[str, bytes]) -> list[str | Path]:
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def test_an_attached_figure_is_drawn_under_the_body_and_the_files_under_it(
        page: Page, server: Server, sqlite_workspace: Workspace, tmp_path: Path) -> None:
    ws = sqlite_workspace
    setup = capture.note(ws, "Activation patching setup. Hooks on every layer.")
    entry = capture.note(ws, "Head patching: 9.9 and 9.6 dominate. #ioi #name-movers #patching\n\n"
                             "Plan was [[Activation patching setup]]; compare [[A note nobody wrote]].",
                         attach=_attach(tmp_path, {"heatmap.png": _png(640, 360, (30, 90, 200)),
                                                   "drawing.svg": SVG, "numbers.csv": b"a,b\n1,2\n"}))
    sign_in(page, server, f"/e/{entry.short}")

    figures = page.locator("#figures figure img")
    expect(figures).to_have_count(2)
    for number in range(2):  # drawn, not a broken-image icon
        assert figures.nth(number).evaluate("img => img.complete && img.naturalWidth > 0")
    body, first_figure, files = _box(page, ".body"), _box(page, "#figures"), _box(page, "h2:text('Files')")
    assert body["y"] + body["height"] <= first_figure["y"] + 1
    assert first_figure["y"] + first_figure["height"] <= files["y"] + 1
    expect(page.locator("ul.attachments li")).to_have_count(3)

    expect(page.locator("article .facts .tags")).to_have_text("#ioi #name-movers #patching")
    broken = page.locator(".body .wikilink.broken")
    expect(broken).to_have_text("[[A note nobody wrote]]")
    assert "wavy" in broken.evaluate("el => getComputedStyle(el).textDecorationStyle")
    link = page.locator(".body a.wikilink")
    expect(link).to_have_text("Activation patching setup")
    link.click()
    expect(page).to_have_url(re.compile(rf"/e/{setup.short}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activation patching setup.")


def test_a_wide_figure_fits_a_phone_screen(page: Page, server: Server, sqlite_workspace: Workspace,
                                           tmp_path: Path) -> None:
    entry = capture.note(sqlite_workspace, "A wide sweep.",
                         attach=_attach(tmp_path, {"wide.png": _png(1600, 200, (200, 60, 30))}))
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, server, f"/e/{entry.short}")
    image = page.locator("#figures img")
    expect(image).to_be_visible()
    box = _box(page, "#figures img")
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box


def test_an_svg_runs_no_script_on_the_entry_page_or_by_itself(
        page: Page, page_problems: PageProblems, server: Server, sqlite_workspace: Workspace,
        tmp_path: Path) -> None:
    entry = capture.note(sqlite_workspace, "A drawing from someone else.",
                         attach=_attach(tmp_path, {"drawing.svg": HOSTILE_SVG}))
    attachment = entry.attachments[0]
    sign_in(page, server, f"/e/{entry.short}")
    image = page.locator("#figures img")
    expect(image).to_have_count(1)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.evaluate("document.body.dataset.pwned") is None

    page_problems.expect("Blocked script execution")  # the browser says it refused the SVG's script
    page.goto(f"{server.url}/a/{attachment.id}")
    expect(page.locator("svg rect")).to_have_count(1)  # the drawing itself is shown
    assert page.evaluate("document.documentElement.getAttribute('data-pwned')") is None


def test_chart_ticks_never_repeat_a_label(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    with upstack.run("constant-lr", home=sqlite_workspace.home, capture="none") as run:
        for step in range(50):
            run.log({"lr": 0.001, "tiny": 1e-5 * (1 + step % 2)}, step=step)
    sign_in(page, server, f"/runs/{run.short}")
    expect(page.locator("#charts")).to_have_attribute("data-drawn", "true")
    for key in ("lr", "tiny"):
        chart = page.locator(f"figure.chart[data-keys='{key}']")
        for axis in ("data-y-ticks", "data-x-ticks"):
            labels = json.loads(chart.get_attribute(axis) or "[]")
            assert len(labels) >= 3 and len(set(labels)) == len(labels), (key, axis, labels)
    lr = json.loads(page.locator("figure.chart[data-keys='lr']").get_attribute("data-y-ticks") or "[]")
    assert "0.0010" in lr, lr  # the constant itself is a tick, written to the digits its neighbours need

    labels = page.evaluate("""() => ({
        fine: upstackTickLabels([0, 0.0005, 0.001, 0.0015, 0.002]),
        round: upstackTickLabels([0, 0.2, 0.4, 0.6000000000000001]),
        big: upstackTickLabels([0, 500, 1000, 1500]),
        tiny: upstackTickLabels([0, 5e-6, 1e-5, 1.5e-5]),
        log: upstackTickLabels([0.001, null, 0.01, 0.1, 1, 10], {log: true}),
        tooClose: upstackTickLabels([1, 1 + 1e-13, 2]),
    })""")
    assert labels == {"fine": ["0.0000", "0.0005", "0.0010", "0.0015", "0.0020"],
                      "round": ["0.0", "0.2", "0.4", "0.6"], "big": ["0", "500", "1,000", "1,500"],
                      "tiny": ["0", "5e-6", "1e-5", "1.5e-5"], "log": ["0.001", "", "0.01", "0.1", "1", "10"],
                      "tooClose": ["1", "", "2"]}


def test_compare_without_runs_lets_you_pick_them(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    for name, lr in (("lr-small", 1e-4), ("lr-large", 1e-3), ("lr-huge", 1e-2)):
        with upstack.run(name, home=sqlite_workspace.home, capture="none", config={"lr": lr}) as run:
            run.log({"loss": lr}, step=0)
    sign_in(page, server, "/runs/compare")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare runs")
    expect(page.locator("#choose")).to_contain_text("Compare needs two or more runs")
    page.get_by_label("Compare lr-small").check()
    page.get_by_label("Compare lr-huge").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2 runs side by side")
    expect(page.locator("#config-differences tr[data-key='lr'] td")).to_have_count(2)


@pytest.fixture(name="mentor_server")
def mentor_server_fixture(sqlite_workspace: Workspace) -> Iterator[tuple[Server, str]]:
    """A team server where a mentor may comment on a project's note; the note's short id."""
    ws = sqlite_workspace
    _, owner_invite = accounts.add_user(ws, "mentee")
    accounts.accept_link(ws, owner_invite, PASSWORD)
    _, invite = accounts.add_user(ws, "mentor")
    accounts.accept_link(ws, invite, PASSWORD)
    project = tree.add_node(ws, "project", "IOI replication", why="Reproduce it first.")
    accounts.share(ws, project.id, "mentor", "commenter", by=None)
    note = capture.note(ws, "Name movers copy the IO token.", under=project.id)
    with serve(ws.home, None, token=None) as server:
        yield server, note.short


def test_the_comment_box_is_as_wide_as_the_comments(page: Page, mentor_server: tuple[Server, str]) -> None:
    server, note = mentor_server
    page.goto(f"{server.url}/login?next=/e/{note}")
    page.get_by_label("User name").fill("mentor")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    page.goto(f"{server.url}/e/{note}")
    box = page.get_by_role("textbox", name="Comment")
    expect(box).to_be_visible()
    width = box.bounding_box()["width"]  # type: ignore[index]
    column = _box(page, "section.comments")["width"]
    assert width >= column - 2, (width, column)
    # A collaborator is not asked why the shared project matters: its place above is not theirs to see.
    expect(page.locator("nav.why")).to_have_text("project: IOI replication")
