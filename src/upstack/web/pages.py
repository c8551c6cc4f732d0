"""What routes are made of: ``@page`` (an HTML page and its JSON twin), ``Page``, and the
dependencies a route asks for (``workspace``, ``charged``, ``signed_in``).

Every page is declared once with ``@page``: ``/log`` renders a template and ``/log.json`` returns
the same data, documented in the OpenAPI schema at ``/openapi.json``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from upstack.domain import access
from upstack.domain.access import Audience
from upstack.errors import BadInput, Forbidden
from upstack.services.review import clause
from upstack.web.auth import csrf_token
from upstack.web.state import open_workspace
from upstack.workspace import Workspace

__all__ = ["page", "Page", "workspace", "charged", "signed_in", "base_context", "templates", "refused_form"]

HERE = Path(__file__).parent


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["clause"] = clause  # "expected X; happened Y", as the review says it


class Page:
    """What a page handler returns: the data (the JSON twin) and, for HTML, the template."""

    def __init__(self, template: str, data: dict[str, Any], *, status: int = 200) -> None:
        self.template = template
        self.data = data
        self.status = status


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
        ws.ingest()  # once per request: a page always shows every earlier write
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
    """What every page's layout needs: the CSRF token, on a team server who is signed in, and
    whether this is local mode (its own pages, /pace, are linked there only)."""
    user = getattr(request.state, "user", None)
    unread = 0
    if user is not None:
        from upstack.services.accounts import unread_count

        unread = unread_count(open_workspace(request.app.state), user.id)
    return {"csrf": csrf_token(request), "me": user, "unread": unread, "local_mode": not request.app.state.team}


def refused_form(request: Request, shown: Page, name: str, form: str, refused: BadInput,
                 typed: dict[str, Any]) -> Response:
    """The page a form was on (``shown``), with why it was refused in one line above that form (named
    ``form``) and what was typed still in it; its status is the refusal's (400)."""
    context = {**shown.data, **base_context(request), "page_name": name,
               "form_error": {"form": form, "message": str(refused)}, "typed": typed}
    return templates.TemplateResponse(request, shown.template, context, status_code=refused.http_status)


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
