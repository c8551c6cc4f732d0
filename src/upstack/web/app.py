"""The web app: server-rendered pages, each with a JSON twin, over the same services as the CLI.

``create_app(home=..., db=..., token=...)`` builds it (``upstack serve`` only
parses options and calls this). Every page is declared once with ``@page``:
``/log`` renders a template and ``/log.json`` returns the same data, documented
in the OpenAPI schema at ``/openapi.json``.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from upstack import __version__
from upstack.errors import Ambiguous, BadInput, NotFound, UpstackError
from upstack.services.workspace import Workspace
from upstack.web.auth import LocalToken, csrf_token, require_csrf

__all__ = ["create_app", "page", "workspace", "templates", "Page"]

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


def workspace(request: Request) -> Workspace:
    """The request's workspace, with pending journal records and run folders ingested."""
    state = request.app.state
    local: _Workspaces = state.workspaces
    if local.ws is None:
        local.ws = Workspace(home=state.home, db=state.db)
        with state.opened_lock:
            state.opened.append(local.ws)  # closed when the server stops
    local.ws.store()  # ingest: a page always shows every earlier write
    return local.ws


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
            context = {**result.data, "csrf": csrf_token(request), "page_name": name}
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


def create_app(*, home: str | Path | None = None, db: str | None = None, token: str,
               upload_limit: int = 50_000_000) -> FastAPI:
    """The app for one workspace, opened with ``token`` (the local, single-user mode)."""
    from upstack.web.routes import ROUTERS

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        with app.state.opened_lock:
            for ws in app.state.opened:
                ws.close()
            app.state.opened.clear()

    app = FastAPI(title="upstack", version=__version__, docs_url="/api/docs", redoc_url=None,
                  description="A research log that always knows why: every page as JSON.",
                  dependencies=[Depends(require_csrf)], lifespan=lifespan)
    app.state.opened = []
    app.state.opened_lock = threading.Lock()
    app.state.home = str(home) if home else None
    app.state.db = db
    app.state.workspaces = _Workspaces()
    app.state.upload_limit = upload_limit
    app.add_middleware(LocalToken, token=token)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)
    _errors(app)
    templates.env.globals["version"] = __version__
    return app


def _errors(app: FastAPI) -> None:
    statuses = {NotFound: 404, Ambiguous: 409, BadInput: 400}

    @app.exception_handler(UpstackError)
    def upstack_error(request: Request, exc: UpstackError) -> Response:
        status = next((code for kind, code in statuses.items() if isinstance(exc, kind)), 400)
        if _wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=status)
        return templates.TemplateResponse(request, "error.html", {"message": str(exc), "csrf": csrf_token(request)},
                                          status_code=status)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")
