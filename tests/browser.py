"""Browser tests' fixtures: Debian's Chromium driven by Playwright, a fresh context per test.

Chromium starts once per session (``chromium``); every test gets a new browser
context (``page``), so cookies never leak from one test to the next. A page
that throws an uncaught error or logs a console error fails its test, unless
the test said it expects that error (``page_problems.expect("status of 403")``).

Playwright's own browser download is not used: CI installs Debian's ``chromium``
(see ``.ci/run``). Without it the tests skip on a laptop and fail under CI=true.
Import the fixtures into a test module (``pytest_plugins`` only works in the
root conftest); each is registered under its short name (``page``, ``server``...)
while its function is ``*_fixture``, so the import is not shadowed by the argument.
The session's one Chromium (``chromium``) is imported by conftest.py instead, so
that every module shares it.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from upstack.workspace import Workspace
from webserver import Server, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Error, Page

__all__ = ["CHROMIUM", "PageProblems", "chromium_fixture", "page_fixture", "page_problems_fixture",
           "server_fixture", "sign_in", "sqlite_workspace_fixture", "open_page"]

CHROMIUM = Path(os.environ.get("UPSTACK_TEST_CHROMIUM", "/usr/bin/chromium"))
# How long a wait on a condition may take before the test fails: a bound on failing, never on passing
# (every wait is on a condition). 5 s failed a page load on a busy 2-core machine (load 15-18).
TIMEOUT_MS = 60_000


@pytest.fixture(scope="session", name="chromium")
def chromium_fixture() -> Iterator[Browser]:
    """Headless Chromium, started once for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set UPSTACK_TEST_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need Chromium in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """Uncaught errors and console errors seen in a test's pages, less the ones it expects."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.expected: list[str] = []

    def expect(self, text: str) -> None:
        """Allow console errors containing ``text`` (a refused request the test makes on purpose, say)."""
        self.expected.append(text)

    def unexpected(self) -> list[str]:
        return [problem for problem in self.seen if not any(text in problem for text in self.expected)]

    def on_page_error(self, error: Error) -> None:
        self.seen.append(f"uncaught error: {error.message}\n{error.stack or ''}".strip())

    def on_console(self, message: ConsoleMessage) -> None:
        where = message.location.get("url", "")
        if message.type == "error":
            self.seen.append(f"console error: {message.text}" + (f" ({where})" if where else ""))


@pytest.fixture(name="page_problems")
def page_problems_fixture() -> PageProblems:
    return PageProblems()


@contextmanager
def open_page(chromium: Browser, page_problems: PageProblems, **options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies), its errors noted in ``page_problems``;
    ``options`` are the context's (``viewport``, ``color_scheme``, ``java_script_enabled``...)."""
    context = chromium.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    opened.on("pageerror", page_problems.on_page_error)
    opened.on("console", page_problems.on_console)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(name="page")
def page_fixture(chromium: Browser, page_problems: PageProblems, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies), failing the test on page errors."""
    _keep_call_reports(request.config)
    request.node.stash[_PROBLEMS] = page_problems
    with open_page(chromium, page_problems) as opened:
        yield opened
    problems = page_problems.unexpected()
    if problems and not _call_failed(request):
        pytest.fail("the page reported errors:\n" + "\n".join(problems), pytrace=False)


def _call_failed(request: pytest.FixtureRequest) -> bool:
    """Whether the test itself already failed: then page errors are noise next to its own failure."""
    report = request.node.stash.get(_CALL_REPORT, None)
    return report is not None and not report.passed


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()
_PROBLEMS = pytest.StashKey[PageProblems]()


def _keep_call_reports(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(_CallReports.name):
        config.pluginmanager.register(_CallReports(), _CallReports.name)


class _CallReports:
    """Keeps each test's own (call phase) report on its item, for ``page`` to read at teardown.

    A test that failed shows its page errors next to its own failure (they may be the cause).
    """

    name = "upstack-browser-call-reports"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "call":
            item.stash[_CALL_REPORT] = report
            problems = item.stash[_PROBLEMS].unexpected() if _PROBLEMS in item.stash else []
            if problems and not report.passed:
                report.sections.append(("page errors", "\n".join(problems)))
        return report


def sign_in(page: Page, server: Server, path: str = "/") -> None:
    """Open the address `upstack serve` prints (with the token) so the session cookie is set."""
    separator = "&" if "?" in path else "?"
    page.goto(f"{server.url}{path}{separator}token={server.token}")


@pytest.fixture(name="sqlite_workspace")
def sqlite_workspace_fixture(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace on SQLite only: the HTTP tests already cover every engine."""
    ws = Workspace(home=tmp_path / "home")
    yield ws
    ws.close()


@pytest.fixture(name="server")
def server_fixture(sqlite_workspace: Workspace) -> Iterator[Server]:
    with serve(sqlite_workspace.home, None) as running:
        yield running
