"""The web app: server-rendered pages, each with a JSON twin, over the same services as the CLI.

``create_app(workspace, token=...)`` builds it (``upstack serve`` only parses
options and calls this); every request's workspace has that workspace's settings.
Routes are made of ``web.pages``; the middleware that signs requests in is ``web.auth``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from upstack.errors import UpstackError
from upstack.services.wellbeing_seal import PASSPHRASE_ENV, Locked
from upstack.version import __version__
from upstack.web import api_docs
from upstack.web.auth import BodyLimit, LocalToken, TeamAccounts, require_csrf
from upstack.web.headers import SecurityHeaders
from upstack.web.limits import UserSlots
from upstack.web.pages import base_context, templates
from upstack.web.routes import LOCAL_ROUTERS, ROUTERS, TEAM_ROUTERS
from upstack.web.state import Workspaces
from upstack.workspace import Workspace

__all__ = ["create_app"]

HERE = Path(__file__).parent


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

    # One size gate for every request: BodyLimit's 413. A form's text field may then be as large
    # as the request may (the parsers' own 1 MiB default would answer first, a 400, as the
    # bytes happen to arrive).
    request_limit = upload_limit + 1_000_000  # a file at the limit, and its form
    app = FastAPI(title="upstack", version=__version__, docs_url=None, redoc_url=None,  # web/api_docs.py
                  description="A research log that always knows why: every page as JSON.",
                  dependencies=[Depends(require_csrf)], lifespan=lifespan,
                  form_limits={"max_part_size": request_limit})
    app.state.opened = []
    app.state.idle = []  # workspaces no request holds (see ``workspace``)
    app.state.opened_lock = threading.Lock()
    app.state.workspace = workspace  # never used by a request itself: see ``workspace`` and ``open_workspace``
    app.state.workspaces = Workspaces()
    app.state.upload_limit = upload_limit
    app.state.request_limit = request_limit
    app.state.team = token is None
    app.state.user_slots = UserSlots(user_requests or workspace.settings.user_requests,
                                     workspace.settings.user_seconds)
    if token is None:
        app.add_middleware(TeamAccounts)
    else:
        app.add_middleware(LocalToken, token=token)
    app.add_middleware(BodyLimit, limit=request_limit)
    app.add_middleware(SecurityHeaders)  # added last: the outermost, so every answer carries them
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in ROUTERS + (TEAM_ROUTERS if token is None else LOCAL_ROUTERS) + [api_docs.router]:
        app.include_router(router)
    _errors(app)
    templates.env.globals["version"] = __version__
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(UpstackError)
    def upstack_error(request: Request, exc: UpstackError) -> Response:
        if isinstance(exc, Locked):  # "run at a terminal" means nothing in a browser: what to do here
            return _error_page(request, f"check-ins are locked: start `upstack serve` with {PASSPHRASE_ENV} set "
                                        "to read and write them here", exc.http_status)
        return _error_page(request, str(exc), exc.http_status)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """The framework's own refusals (no such page, a wrong method, a form it cannot parse) read
        like ours: one line, on the error page or as ``{"error"}``."""
        said = f"there is no page at {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        answer = _error_page(request, said, exc.status_code)
        answer.headers.update(exc.headers or {})
        return answer

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
    return templates.TemplateResponse(request, "error.html",
                                      {"message": message, "status": status, **base_context(request)},
                                      status_code=status)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")
