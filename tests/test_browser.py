"""The web app in a real browser (Debian's Chromium), against a real server: what a person sees and does."""

from __future__ import annotations

import base64
import re
import struct
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

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
from upstack.services import capture, tree
from upstack.workspace import Workspace
from webserver import Server


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A real PNG (one solid colour), made with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_capture_a_note_from_the_timeline_and_open_it(page: Page, server: Server,
                                                      sqlite_workspace: Workspace) -> None:
    capture.note(sqlite_workspace, "Yesterday's note.", occurred_at="2026-01-01T10:00:00.000000Z")
    sign_in(page, server)
    box = page.get_by_role("textbox", name="New note")
    box.fill("Head 9.6 copies the indirect object. Check with path patching. #ioi")
    page.locator("form.capture").get_by_role("button", name="Add").click()

    expect(page.locator("#timeline li.entry a.title")).to_have_text(
        ["Head 9.6 copies the indirect object.", "Yesterday's note."])
    newest = page.locator("#timeline li.entry").first
    expect(newest.locator("a.tag")).to_have_text("#ioi")
    newest.locator("a.title").click()

    expect(page).to_have_url(re.compile(r"/e/[0-9a-z]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Head 9.6 copies the indirect object.")
    expect(page.locator("article .facts a.tag")).to_have_text("#ioi")
    expect(page.locator("article .body")).to_contain_text("Check with path patching.")


_PASTE_OR_DROP = """async ({ gesture, name, base64 }) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "image/png" }));
  const event = gesture === "paste"
    ? new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true })
    : new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true });
  document.querySelector("article .body").dispatchEvent(event);
}"""


@pytest.mark.parametrize("gesture", ["paste", "drop"])
def test_paste_or_drop_an_image_onto_an_entry(page: Page, server: Server, sqlite_workspace: Workspace,
                                               gesture: str) -> None:
    entry = capture.note(sqlite_workspace, "Attention pattern of head 9.6. #ioi")
    image = _png(32, 24, (200, 30, 60))
    sign_in(page, server, f"/e/{entry.short}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Attention pattern of head 9.6.")
    expect(page.locator("ul.attachments")).to_have_count(0)

    with page.expect_navigation():  # the page reloads once the file is attached
        page.evaluate(_PASTE_OR_DROP, {"gesture": gesture, "name": "image.png",
                               "base64": base64.b64encode(image).decode()})

    listed = page.locator("ul.attachments li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("image.png")
    expect(listed).to_contain_text(f"image/png, {len(image)} Bytes")
    href = listed.get_by_role("link", name="image.png").get_attribute("href")
    assert href and href.startswith("/a/")
    served = page.request.get(server.url + href)
    assert served.ok and served.body() == image


def test_the_token_opens_the_app_once_then_leaves_the_address(page: Page, server: Server,
                                                              page_problems: PageProblems) -> None:
    page_problems.expect("status of 401")
    refused = page.goto(server.url + "/")
    assert refused is not None and refused.status == 401
    expect(page.locator("body")).to_contain_text("open the address `upstack serve` printed")

    sign_in(page, server)
    assert page.url == server.url + "/"
    assert "token" not in page.url
    expect(page).to_have_title("Timeline · upstack")
    expect(page.get_by_role("textbox", name="New note")).to_be_visible()
    assert page.evaluate("document.cookie") == ""  # the session cookie is out of scripts' reach

    page.reload()
    expect(page).to_have_title("Timeline · upstack")  # the cookie keeps it open


def test_a_post_without_the_csrf_token_is_refused_and_adds_nothing(page: Page, server: Server,
                                                                    page_problems: PageProblems) -> None:
    page_problems.expect("status of 403")
    sign_in(page, server)
    status = page.evaluate("""async () => (await fetch("/note", {
        method: "POST", body: new URLSearchParams({ text: "Forged note. #x" }) })).status""")
    assert status == 403
    page.reload()
    expect(page.locator("#timeline li.empty")).to_have_text("No entries yet. Write one above.")

    # The same request with the page's CSRF token goes through: it was the token that was missing.
    status = page.evaluate("""async () => (await fetch("/note", {
        method: "POST", headers: { "X-CSRF-Token": document.querySelector('input[name="csrf"]').value },
        body: new URLSearchParams({ text: "Real note. #x" }) })).status""")
    assert status == 200
    page.reload()
    expect(page.locator("#timeline li.entry a.title")).to_have_text(["Real note."])


def test_follow_the_why_chain_from_an_entry_to_the_tree(page: Page, server: Server,
                                                        sqlite_workspace: Workspace) -> None:
    agenda = tree.add_node(sqlite_workspace, "agenda", "Understand IOI circuits", why="Circuits we can audit.")
    project = tree.add_node(sqlite_workspace, "project", "Name movers", under=agenda.id,
                            why="They carry the answer.")
    question = tree.add_node(sqlite_workspace, "question", "Does head 9.6 copy names?", under=project.id,
                             why="If not, the circuit story is wrong.")
    entry = capture.note(sqlite_workspace, "Head 9.6 attends to the IO token.", under=question.id)

    sign_in(page, server, f"/e/{entry.short}")
    crumbs = page.locator("nav.why a")
    expect(crumbs).to_have_text(["agenda: Understand IOI circuits", "project: Name movers",
                                 "question: Does head 9.6 copy names?"])
    crumbs.last.click()

    expect(page).to_have_url(f"{server.url}/tree#n-{question.short}")
    node = page.locator(f"#n-{question.short}")
    expect(node).to_contain_text("Does head 9.6 copy names?")
    expect(node).to_be_in_viewport()


def test_search_shows_results_as_you_type(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    capture.note(sqlite_workspace, "Induction heads form at step 2k. #phase")
    capture.note(sqlite_workspace, "The probe finds nothing past layer 9.")
    sign_in(page, server, "/search")
    page.evaluate("window.typedHere = true")  # gone if the browser loads a new page
    loads: list[str] = []
    page.on("load", lambda loaded: loads.append(loaded.url))

    page.get_by_role("searchbox").press_sequentially("induction", delay=40)

    titles = page.locator("#results li a.title")
    expect(titles).to_have_text(["Induction heads form at step 2k."])
    expect(page.locator("#results")).not_to_contain_text("The probe finds nothing")
    # The results came in place: same document, no load; the address may follow the query, the page stays.
    assert page.evaluate("window.typedHere") is True and loads == []
    assert urlsplit(page.url).path == "/search"


_CANVAS_PIXELS = """(chart) => {
  const canvas = chart.querySelector("canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  let inked = 0;  // strongly coloured pixels: a data line, not the grey axes, grid or background
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b, a] = pixels.slice(i, i + 4);
    colours.add((r << 24) | (g << 16) | (b << 8) | a);
    if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 100) inked += 1;
  }
  return { colours: colours.size, inked, png: canvas.toDataURL("image/png").length };
}"""


def test_a_runs_loss_chart_is_drawn(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    with upstack.run("sweep", home=sqlite_workspace.home, capture="none") as run:
        for step in range(3000):
            run.log({"loss": 2.0 / (1 + step / 100)}, step=step)
    sign_in(page, server, f"/runs/{run.short}")

    chart = page.locator("figure.chart").first
    expect(chart.locator("figcaption")).to_have_text("loss")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas")).to_be_visible()
    drawn = chart.evaluate(_CANVAS_PIXELS)
    assert drawn["colours"] > 1, "the chart's canvas is all one colour"
    assert drawn["inked"] > 100, f"no data line on the chart: {drawn}"
    assert drawn["png"] > 1000


def test_hostile_input_runs_no_script_in_the_browser(page: Page, server: Server,
                                                      sqlite_workspace: Workspace, tmp_path: Path) -> None:
    """The script-injection corpus in titles, bodies, tags and file names: no dialog, no script."""
    from hostile import PAYLOADS

    shorts = []
    for number, payload in enumerate(PAYLOADS):
        upload = tmp_path / str(number) / (payload.replace("/", "∕")[:100] or "x")
        upload.parent.mkdir()
        upload.write_bytes(b"not an image")
        shorts.append(capture.note(sqlite_workspace, f"{payload}\n\nBody: {payload}", tags=["xss"],
                                   attach=[upload]).short)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, server, "/?limit=100")
    paths = ["/?limit=100", "/search?q=script", "/search?q=xss", *(f"/e/{short}" for short in shorts)]
    for path in paths:
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__xss") == "undefined", path
    assert dialogs == []
    page.goto(server.url + f"/e/{shorts[0]}")
    expect(page.locator("h1")).to_contain_text("<script>")  # shown as text, not run


def test_a_running_runs_chart_follows_it_live(page: Page, server: Server, sqlite_workspace: Workspace,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_RUN_FLUSH_SECONDS", "0.05")  # the run's thread makes its points durable often
    run = upstack.run("live", home=sqlite_workspace.home, capture="none")
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    time.sleep(0.3)
    sign_in(page, server, f"/runs/{run.short}")
    chart = page.locator("figure.chart").first
    expect(chart).to_have_attribute("data-total", "100")
    for step in range(100, 250):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
    expect(chart).to_have_attribute("data-total", "250", timeout=15_000)  # redrawn without a reload
    run.finish()
