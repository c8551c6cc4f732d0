"""Every answer of the web app carries the security headers (CSP, frame-ancestors, nosniff,
no-referrer, no-store outside /static/), over the app's own route list, in local mode and on a
team server, signed in and not, on both engines; /api/docs loads nothing from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

import upstack
from upstack.services import accounts, applications, capture, contacts, ideas, opportunities, tree
from upstack.web.app import create_app
from upstack.web.headers import CONTENT_SECURITY_POLICY
from upstack.workspace import Workspace
from webserver import Server, serve

PNG = b"\x89PNG\r\n\x1a\n" + b"5" * 64
EXPECTED = {"content-security-policy": CONTENT_SECURITY_POLICY, "x-frame-options": "DENY",
            "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def test_the_policy_forbids_inline_script_framing_and_other_hosts() -> None:
    rules = dict(rule.split(" ", 1) for rule in CONTENT_SECURITY_POLICY.split("; "))
    assert rules["default-src"] == "'none'" and rules["frame-ancestors"] == "'none'"
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
    assert rules["base-uri"] == "'none'" and rules["form-action"] == "'self'"
    assert not [r for r in rules.values() if "unsafe" in r or "*" in r or "http" in r]


# -- the routes, from the app ------------------------------------------------------------------

def _routes(team: bool) -> list[tuple[str, str, APIRoute | Route]]:
    found, pending = [], list(create_app(Workspace(), token=None if team else "t" * 24).routes)
    while pending:
        route = pending.pop()
        if getattr(route, "original_router", None) is not None:
            pending += route.original_router.routes  # type: ignore[attr-defined]
        elif isinstance(route, APIRoute | Route):
            found += [(m, route.path, route) for m in route.methods or () if m != "HEAD"]
    return sorted(found, key=lambda r: (r[1], r[0]))


# A value for every path parameter and required query parameter a route has; one the test does
# not know fails it, so a new route is covered as soon as it exists.
def _fillers(log: dict[str, str]) -> dict[str, list[str]]:
    return {"ref": [log["node"], log["entry"], log["idea"], log["run"]], "attachment_id": [log["attachment"]],
            "sha256": [log["sha256"]], "run_id": [log["run_id"]], "token_id": ["zzzzzz"], "login": ["ada"],
            "secret": ["not-a-secret"], "key": ["loss"], "q": ["probe"], "id": [log["run"]],
            "with": [log["run"]], "name": ["width"], "slug": [log["opportunity"], log["contact"], "no-such-slug"]}


def _urls(path: str, route: APIRoute | Route, fillers: dict[str, list[str]]) -> list[str]:
    params = re.findall(r"\{([^}:]+)", path)
    required = [p.alias for p in route.dependant.query_params if p.field_info.is_required()] \
        if isinstance(route, APIRoute) else []
    unknown = [p for p in params + required if p not in fillers]
    assert not unknown, f"{path}: say in _fillers how to fill {unknown}"
    query = "?" + urlencode([(name, fillers[name][0]) for name in required]) if required else ""
    if not params:
        return [path + query]
    name = params[0]
    return [re.sub(r"\{" + name + r"(:[^}]*)?\}", value, path) + query for value in fillers[name]]


def _hostile_free_log(ws: Workspace, tmp_path: Path) -> dict[str, str]:
    figure = tmp_path / "fig.png"
    figure.write_bytes(PNG)
    node = tree.add_node(ws, "project", "Probing", why="Headers.")
    entry = capture.note(ws, "A probe note. #probe", under=node.id, attach=[figure])
    idea = ideas.capture_idea(ws, "Probe idea", cheapest_test="look", cost_hours=1)
    with upstack.run("width", under=node.short, home=ws.home, db=ws.db_url, capture="none") as r:
        r.log({"loss": 0.5}, step=1)
    attachment = entry.attachments[0]
    opportunity = opportunities.add(ws, organisation="Probe Lab", role="Engineer").opportunity.slug
    applications.add(ws, opportunity, stage="applied")
    contact = contacts.add(ws, "Probe Person").slug
    return {"node": node.short, "entry": entry.short, "idea": idea.short, "run": r.short, "run_id": r.id,
            "attachment": attachment.short, "sha256": attachment.sha256 or "", "opportunity": opportunity,
            "contact": contact}


def _check(response: httpx.Response, where: str) -> list[str]:
    """Every header as expected; a response may add a policy of its own beside the app's (an
    attached file's sandbox), since a browser enforces every policy it is sent."""
    problems = [f"{where} -> {response.status_code}: {name} is {response.headers.get(name)!r}"
                for name, value in EXPECTED.items()
                if (value not in response.headers.get_list(name) if name == "content-security-policy"
                    else response.headers.get(name) != value)]
    if response.headers.get("cache-control") != "no-store":
        problems.append(f"{where} -> {response.status_code}: cache-control is "
                        f"{response.headers.get('cache-control')!r}")
    return problems


def _ask_everything(client: httpx.Client, routes: list[tuple[str, str, APIRoute | Route]],
                    fillers: dict[str, list[str]], who: str) -> tuple[list[str], set[int]]:
    problems, statuses = [], set()
    for method, path, route in routes:
        for url in _urls(path, route, fillers):
            if method == "GET":
                answer = client.get(url)
                json_answer = client.get(url, headers={"Accept": "application/json"})
                problems += _check(json_answer, f"{who} GET {url} (JSON)")
            else:
                answer = client.request(method, url, data={"text": "x"})  # no CSRF token: refused
            statuses.add(answer.status_code)
            problems += _check(answer, f"{who} {method} {url}")
    return problems, statuses


@pytest.fixture
def log_home(tmp_path: Path, db_url: str | None) -> Iterator[tuple[Path, dict[str, str]]]:
    home = tmp_path / "home"
    with Workspace(home=home, db=db_url) as ws:
        log = _hostile_free_log(ws, tmp_path)
    yield home, log


def test_every_local_mode_answer_carries_the_headers(log_home: tuple[Path, dict[str, str]],
                                                     db_url: str | None) -> None:
    home, log = log_home
    with serve(home, db_url) as server:
        problems, statuses = _ask_everything(server.client(), _routes(team=False), _fillers(log), "owner")
        problems += _ask_everything(server.client(signed_in=False), _routes(team=False)[:5], _fillers(log),
                                    "no token")[0]
        problems += _check(server.client(signed_in=False).get(f"/?token={server.token}"), "the token link")
    assert not problems, "\n".join(problems)
    assert 200 in statuses and 404 in statuses  # pages were opened, and refusals were checked too


def test_every_team_server_answer_carries_the_headers(log_home: tuple[Path, dict[str, str]],
                                                      db_url: str | None) -> None:
    home, log = log_home
    with Workspace(home=home, db=db_url) as ws:
        ada, _ = accounts.add_user(ws, "ada", admin=True)
        session = accounts.start_session(ws, ada)
    with serve(home, db_url, token=None) as server:
        signed_in = httpx.Client(base_url=server.url, cookies={"upstack_session": session}, timeout=30)
        visitor = httpx.Client(base_url=server.url, timeout=30)
        server.clients += [signed_in, visitor]
        problems, statuses = _ask_everything(signed_in, _routes(team=True), _fillers(log), "ada")
        visitor_problems, visitor_statuses = _ask_everything(visitor, _routes(team=True), _fillers(log), "visitor")
    assert not problems + visitor_problems, "\n".join(problems + visitor_problems)
    assert {200, 404} <= statuses and {303, 401} <= visitor_statuses


def test_static_files_may_be_cached_and_still_carry_the_other_headers(tmp_path: Path) -> None:
    with serve(tmp_path / "home", None) as server:
        answer = server.client().get("/static/app.js")
    assert answer.status_code == 200 and "no-store" not in answer.headers.get("cache-control", "")
    assert {name: answer.headers.get(name) for name in EXPECTED} == EXPECTED


# -- /api/docs -------------------------------------------------------------------------------------

class _Addresses(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("src", "href", "data-openapi-url")]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with serve(tmp_path / "home", None) as running:
        yield running


def test_the_api_docs_load_swagger_ui_from_this_server_only(server: Server) -> None:
    client = server.client()
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    parser = _Addresses()
    parser.feed(page.text)
    # The one data: address is the empty icon, there so that no browser asks for /favicon.ico.
    served = [a for a in parser.found if a != "data:,"]
    assert served and all(urlsplit(a).netloc == "" and a.startswith("/") for a in served), parser.found
    assert not re.search(r"https?://|//[a-z]", page.text), "the docs page names another host"
    assert "<script>" not in page.text  # nothing inline: the CSP would refuse it
    for address in served:
        assert client.get(address).status_code == 200, address
    assert client.get("/openapi.json").json()["paths"]


def test_markdown_table_alignment_needs_no_style_attribute() -> None:
    from upstack.web.markdown import render

    html = render("| a | b |\n|:-:|--:|\n| 1 | 2 |")
    assert 'class="align-center"' in html and 'class="align-right"' in html and "style=" not in html
