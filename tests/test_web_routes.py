"""Every route the app has, enumerated from its router: locked without the token, and no state change
without the CSRF token. A new route is covered without editing this test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from upstack.services import capture
from upstack.web.app import create_app
from upstack.workspace import Workspace
from webserver import Server, serve

TOKEN = "matrix-token-0123456789"


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every route, routers included, except the static files."""
    found = []
    pending = list(create_app(Workspace(), token=TOKEN).routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers whole
        if included is not None:
            pending += included.routes
        elif isinstance(route, APIRoute | Route):
            found += [(method, route.path) for method in route.methods or () if method != "HEAD"]
    return sorted(set(found))


ROUTES = _routes()


def test_the_app_has_the_routes_we_know_of() -> None:
    paths = {path for _, path in ROUTES}
    assert {"/", "/log.json", "/e/{ref}", "/search", "/tree", "/ideas", "/runs", "/review", "/note"} <= paths


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    home = tmp_path_factory.mktemp("matrix")
    with Workspace(home=home) as ws:
        entry = capture.note(ws, "Something to look at. #matrix")
    with serve(home, None, token=TOKEN) as running:
        yield running, entry.short


def _concrete(path: str, short: str) -> str:
    return re.sub(r"\{[^}]+\}", short, path)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_route_answers_without_the_token(server: tuple[Server, str], method: str, path: str) -> None:
    running, short = server
    stranger = running.client(signed_in=False)
    answer = stranger.request(method, _concrete(path, short))
    assert answer.status_code == 401, (method, path, answer.status_code)
    assert "Something to look at" not in answer.text


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p in ROUTES if m not in ("GET", "HEAD")])
def test_no_state_change_without_the_csrf_token(server: tuple[Server, str], method: str, path: str) -> None:
    running, short = server
    client = running.client()
    before = client.get("/log.json").json()
    answer = client.request(method, _concrete(path, short), data={"text": "forged", "reason": "forged"})
    assert answer.status_code == 403, (method, path, answer.status_code)
    assert client.get("/log.json").json() == before
