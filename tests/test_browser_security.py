"""The Content-Security-Policy in a real browser (Chromium): the pages and /api/docs work under it,
nothing is fetched from another host, and script that reaches a page some other way is refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from browser import (  # noqa: F401 - the fixtures register under their short names
    PageProblems,
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import capture
from upstack.workspace import Workspace
from webserver import Server


def _record_requests(page: Page) -> list[str]:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    return asked


def test_the_api_docs_work_under_the_policy_from_this_server_only(page: Page, server: Server) -> None:
    asked = _record_requests(page)
    sign_in(page, server, "/api/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("upstack")
    hosts = {urlsplit(url).netloc for url in asked if not url.startswith("data:")}
    assert hosts == {urlsplit(server.url).netloc}, hosts


def test_an_injected_inline_script_is_refused_by_the_policy(page: Page, server: Server,
                                                            page_problems: PageProblems,
                                                            sqlite_workspace: Workspace) -> None:
    """Were the sanitiser ever to let markup through, the browser would still not run it."""
    entry = capture.note(sqlite_workspace, "A note to open.")
    sign_in(page, server, f"/e/{entry.short}")
    page_problems.expect("Content Security Policy")
    _refused(page, "inline", "const s = document.createElement('script');"
                             "s.textContent = 'window.ranInline = true'; document.body.appendChild(s);")
    assert page.evaluate("() => window.ranInline === undefined")
    _refused(page, "tracker.invalid", "const d = document.createElement('div');"
                                      "d.innerHTML = '<img src=\"https://tracker.invalid/p.png\">';"
                                      "document.body.appendChild(d);")


def _refused(page: Page, naming: str, script: str) -> None:
    """Runs ``script`` in the page and waits for the policy's refusal naming ``naming``."""
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text and naming in m.text):
        page.evaluate(f"() => {{ {script} }}")
