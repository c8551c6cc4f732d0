"""The web app: server-rendered pages, each with a JSON twin, over the same services as the CLI.

``create_app(workspace, token=...)`` builds it (``upstack serve`` only parses
options and calls this); every request's workspace has that workspace's settings.
Every page is declared once with ``@page``: ``/log`` renders a template and
``/log.json`` returns the same data, documented in the OpenAPI schema at
``/openapi.json``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from upstack.domain import access
from upstack.domain.access import Audience
from upstack.errors import (
    Ambiguous,
    BadInput,
    Forbidden,
    NotFound,
    OverQuota,
    TooManyAttempts,
    Unauthorized,
    UpstackError,
)
from upstack.version import __version__
from upstack.web import api_docs
from upstack.web.auth import BodyLimit, LocalToken, TeamAccounts, csrf_token, require_csrf
from upstack.web.headers import SecurityHeaders
from upstack.web.limits import UserSlots
from upstack.workspace import Workspace

__all__ = ["create_app", "page", "workspace", "open_workspace", "signed_in", "base_context", "templates", "Page"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


class _Workspaces(threading.local):
    """One Workspace (one database connection) per server thread, reused across requests."""

    ws: Workspace | None = None


class Page:
    """What a page handler returns: the data (the JSON twin) and, for HTML, the template."""

    def __init__(self, template: str, data: dict[str, Any], *, status: int = 200) -> None:
        self.template = template
        self.data = data
        self.status = status


def open_workspace(state: Any) -> Workspace:
    """This server thread's workspace (one database connection per thread, reused)."""
    local: _Workspaces = state.workspaces
    if local.ws is None:
        local.ws = state.workspace.sibling(team=state.team)
        with state.opened_lock:
            state.opened.append(local.ws)  # closed when the server stops
    return local.ws


def charged(request: Request) -> Iterator[None]:
    """A dependency: the request's work counts against its member's share of the server's time
    (web/limits.py), from here until it is answered. Every route that works for a member has it,
    through ``workspace`` or directly (one that renders Markdown and needs no workspace)."""
    slots = request.app.state.user_slots
    mark = slots.working()
    try:
        yield
    finally:
        user = getattr(request.state, "user", None)
        slots.worked(mark, user.id if user is not None else None)


def workspace(request: Request, _work: Annotated[None, Depends(charged)]) -> Iterator[Workspace]:
    """The request's workspace, with pending journal records and run folders ingested.

    Lent to this request alone until it is answered: FastAPI runs a dependency and its
    handler in different threads, so a per-thread workspace would be in two requests at once
    (one database connection, two transactions: PostgreSQL refused the second's savepoints
    while concurrent sign-ins each waited on argon2).
    """
    state = request.app.state
    with state.opened_lock:
        ws = state.idle.pop() if state.idle else None
    if ws is None:
        ws = state.workspace.sibling(team=state.team)
        with state.opened_lock:
            state.opened.append(ws)  # closed when the server stops
    try:
        ws.store()  # ingest: a page always shows every earlier write
        yield ws
    finally:
        with state.opened_lock:
            state.idle.append(ws)


def signed_in(request: Request) -> Audience:
    """The signed-in user on a team server (a dependency: 403 in local mode, where nobody signs in)."""
    audience = access.current()
    if audience is None or audience is access.NOBODY:
        raise Forbidden("this page is for a team server's accounts (`upstack user add`)")
    return audience


def base_context(request: Request) -> dict[str, Any]:
    """What every page's layout needs: the CSRF token and, on a team server, who is signed in."""
    user = getattr(request.state, "user", None)
    unread = 0
    if user is not None:
        from upstack.services.accounts import unread_count

        unread = unread_count(open_workspace(request.app.state), user.id)
    return {"csrf": csrf_token(request), "me": user, "unread": unread}


def page(router: APIRouter, path: str, *, name: str, summary: str,
         json_path: str | None = None) -> Callable[[Callable[..., Page]], Any]:
    """Register ``handler`` at ``path`` (HTML) and ``path.json`` (JSON, in the OpenAPI schema)."""

    def register(handler: Callable[..., Page]) -> Callable[..., Page]:
        @functools.wraps(handler)
        def as_json(*args: Any, **kwargs: Any) -> Response:
            result = handler(*args, **kwargs)
            return JSONResponse(_plain(result.data), status_code=result.status)

        @functools.wraps(handler)
        def as_html(*args: Any, **kwargs: Any) -> Response:
            request = kwargs.get("request") or next(a for a in args if isinstance(a, Request))
            result = handler(*args, **kwargs)
            context = {**result.data, **base_context(request), "page_name": name}
            return templates.TemplateResponse(request, result.template, context, status_code=result.status)

        router.add_api_route(json_path or path + ".json", as_json, methods=["GET"], name=f"{name}.json",
                             summary=summary, response_model=None)
        router.add_api_route(path, as_html, methods=["GET"], name=name, response_class=HTMLResponse,
                             response_model=None, include_in_schema=False)
        return handler

    return register


def _plain(value: Any) -> Any:
    """Data as JSON: objects with ``to_dict`` become dicts; NaN and infinity become strings."""
    import math

    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def create_app(workspace: Workspace, *, token: str | None, upload_limit: int = 50_000_000, threads: int = 4,
               user_requests: int | None = None) -> FastAPI:
    """The app for one workspace: opened with ``token`` (local mode), or, with ``token=None``,
    by the workspace's accounts (a team server).

    Requests use workspaces of their own (a database connection each) with ``workspace``'s
    home, database and settings: whatever the command line or the caller gave it.

    ``threads`` caps the threads that run handlers (each holds a database
    connection): under load, more only queue on two cores and cost memory.
    ``user_requests`` caps a team member's requests at once (default: the setting).
    """
    from upstack.web.routes import ROUTERS, TEAM_ROUTERS

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield
        with app.state.opened_lock:
            for ws in app.state.opened:
                ws.close()
            app.state.opened.clear()
            app.state.idle.clear()

    app = FastAPI(title="upstack", version=__version__, docs_url=None, redoc_url=None,  # web/api_docs.py
                  description="A research log that always knows why: every page as JSON.",
                  dependencies=[Depends(require_csrf)], lifespan=lifespan)
    app.state.opened = []
    app.state.idle = []  # workspaces no request holds (see ``workspace``)
    app.state.opened_lock = threading.Lock()
    app.state.workspace = workspace  # never used by a request itself: see ``workspace`` and ``open_workspace``
    app.state.workspaces = _Workspaces()
    app.state.upload_limit = upload_limit
    app.state.team = token is None
    app.state.user_slots = UserSlots(user_requests or workspace.settings.user_requests,
                                     workspace.settings.user_seconds)
    if token is None:
        app.add_middleware(TeamAccounts)
    else:
        app.add_middleware(LocalToken, token=token)
    app.add_middleware(BodyLimit, limit=upload_limit + 1_000_000)  # a file at the limit, and its form
    app.add_middleware(SecurityHeaders)  # added last: the outermost, so every answer carries them
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in ROUTERS + (TEAM_ROUTERS if token is None else []) + [api_docs.router]:
        app.include_router(router)
    _errors(app)
    templates.env.globals["version"] = __version__
    return app


def _errors(app: FastAPI) -> None:
    statuses = {NotFound: 404, Ambiguous: 409, BadInput: 400, Forbidden: 403, Unauthorized: 401,
                TooManyAttempts: 429, OverQuota: 413}

    @app.exception_handler(UpstackError)
    def upstack_error(request: Request, exc: UpstackError) -> Response:
        status = next((code for kind, code in statuses.items() if isinstance(exc, kind)), 400)
        return _error_page(request, str(exc), status)

    @app.exception_handler(Exception)
    def fault(request: Request, exc: Exception) -> Response:
        """A full disk, a read-only file system, a database gone: one line and a 503, as the CLI says it
        (upstack.faults); anything else is a bug, answered 500 with its traceback in the server's log."""
        from upstack.faults import describe

        said = describe(exc, request.app.state.workspace.home)
        if said is None:
            return PlainTextResponse("Internal Server Error", status_code=500)
        return _error_page(request, said, 503)


def _error_page(request: Request, message: str, status: int) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return templates.TemplateResponse(request, "error.html", {"message": message, **base_context(request)},
                                      status_code=status)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")
