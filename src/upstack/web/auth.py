"""Who is asking: the local token, or a team server's accounts; CSRF on every post.

Local mode (no accounts): loopback is not private on a shared machine (a cluster
login node): anyone logged in there can reach 127.0.0.1. So every request needs
the token that `upstack serve` printed, once in the URL (exchanged for an
HttpOnly, SameSite cookie) and from then on in the cookie.

Team mode (the workspace has accounts): a request is signed in by a session
cookie (from /login) or an API token (``Authorization: Bearer ...``, within the
token's scope: services/tokens.py). It then runs as that user's ``Audience``
(domain/access.py), so every query answers for them.
Pages other than /login and the invitation and reset links send a visitor who is
not signed in to /login; JSON gets 401.

State-changing requests carry a CSRF token derived from the request's secret (the
local token, the session, or for a visitor a random cookie), in a form field or
the ``X-CSRF-Token`` header. Requests signed with an API token need none: a
browser never sends that header on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from upstack.domain import access
from upstack.errors import Forbidden
from upstack.web import limits
from upstack.web.state import open_workspace

__all__ = ["LocalToken", "TeamAccounts", "csrf_token", "COOKIE", "check_csrf", "require_csrf", "set_session",
           "client_address"]

COOKIE = "upstack_session"
VISITOR_COOKIE = "upstack_visitor"  # a signed-out visitor's CSRF secret (the sign-in form)
_SAFE = ("GET", "HEAD", "OPTIONS")
PUBLIC = ("/static/", "/login", "/join/", "/reset/")


def csrf_token(request: Request) -> str:
    key: str = getattr(request.state, "csrf_key", "") or ""
    return hmac.new(key.encode(), b"csrf", hashlib.sha256).hexdigest()[:32]


def check_csrf(request: Request, form: FormData | None) -> bool:
    if not getattr(request.state, "csrf_key", ""):
        return False
    sent = request.headers.get("x-csrf-token") or (str(form.get("csrf", "")) if form is not None else "")
    return hmac.compare_digest(sent, csrf_token(request))


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _cookie(response: Response, request: Request, name: str, value: str, *, samesite: str,
            max_age: int | None = None) -> None:
    response.set_cookie(name, value, httponly=True, samesite=samesite,  # type: ignore[arg-type]
                        secure=request.url.scheme == "https", path="/", max_age=max_age)


def set_session(response: Response, request: Request, secret: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax (a link from an email opens signed in), Secure behind TLS."""
    from upstack.services.accounts import SESSION_DAYS

    _cookie(response, request, COOKIE, secret, samesite="lax", max_age=SESSION_DAYS * 86400)


class BodyLimit:
    """Refuses a request whose body is larger than ``limit`` bytes (413), before a handler reads
    it all into memory: by its Content-Length, or, sent in chunks, as the bytes arrive."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen, refused = 0, False

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge  # however the app answers this (a parse error), the answer is a 413
            return message

        async def answer(message: Any) -> None:
            nonlocal refused
            if seen <= self.limit:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(scope, receive, send)

        try:
            await self.app(scope, counted, answer)
        except _TooLarge:
            if not refused:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        # The connection closes with the answer: what the client still sends of the body must never be
        # read as its next request (a 400 for that request, seen once under load in a full test run).
        response = PlainTextResponse(f"upstack: the request is larger than {self.limit // 1_000_000} MB; "
                                     "nothing of it was kept\n", status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class LocalToken(BaseHTTPMiddleware):
    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request.state.csrf_key = self.token
        request.state.user = None
        if request.url.path.startswith("/static/"):
            return await call_next(request)
        with access.acting_as(access.OWNER):  # local mode: the token's holder is the workspace's owner
            return await self._signed(request, call_next)

    async def _signed(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        offered = request.query_params.get("token")
        if offered is not None and hmac.compare_digest(offered, self.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + urlencode(rest) if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            _cookie(response, request, COOKIE, self.token, samesite="strict")
            return response
        if not hmac.compare_digest(request.cookies.get(COOKIE, ""), self.token):
            return PlainTextResponse("upstack: open the address `upstack serve` printed; it carries the "
                                     "access token for this workspace.\n", status_code=401)
        return await call_next(request)


class TeamAccounts(BaseHTTPMiddleware):
    """Signs each request in (session cookie or API token) and runs it as that user; anything else
    runs as ``NOBODY``, who sees nothing (a route added under a public prefix included)."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        with access.acting_as(access.NOBODY):
            return await self._dispatch(request, call_next)

    async def _dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        from upstack.services import accounts, tokens
        request.state.user = None
        path = request.url.path
        if path.startswith("/static/"):
            return await call_next(request)
        bearer = request.headers.get("authorization", "")
        session = request.cookies.get(COOKIE, "")

        def sign_in() -> tuple[accounts.User | None, access.Audience | None, str]:
            ws = open_workspace(request.app.state)
            user, scope = None, "full"
            if bearer.lower().startswith("bearer "):
                user, scope = accounts.token_grant(ws, bearer[7:].strip()) or (None, "")
            else:
                user = accounts.session_user(ws, session)
            return user, (accounts.audience_for(ws, user) if user else None), scope

        slots = request.app.state.user_slots  # web/limits.py: a member's requests running at once
        lane = limits.lane(request)
        if slots.full(bearer or session, lane):
            return await _refuse(slots, request, bearer or session)
        user, audience, scope = await run_in_threadpool(sign_in)
        if user is not None and not tokens.scope_allows(scope, request.method, path):
            refusal = tokens.SCOPE_HELP.get(scope, "it may do nothing")
            return JSONResponse({"error": f"this API token is {scope}: {refusal}"}, status_code=403)
        if user is not None and audience is not None:
            request.state.user = user
            request.state.token_scope = scope if bearer else None
            request.state.bearer = bearer.lower().startswith("bearer ")
            request.state.csrf_key = session
            slots.remember(bearer or session, user.id)
            if not slots.take(user.id, lane):
                return await _refuse(slots, request, bearer or session)
            try:
                with access.acting_as(audience):
                    return await call_next(request)
            finally:
                slots.give_back(user.id, lane)
        if path.startswith(PUBLIC):
            visitor = request.cookies.get(VISITOR_COOKIE) or secrets.token_urlsafe(24)
            request.state.csrf_key = visitor
            response = await call_next(request)
            if request.cookies.get(VISITOR_COOKIE) != visitor:
                _cookie(response, request, VISITOR_COOKIE, visitor, samesite="strict")
            return response
        if request.method in _SAFE and not _wants_json(request):
            target = path + ("?" + request.url.query if request.url.query else "")
            return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        return JSONResponse({"error": "sign in first (or send an API token: Authorization: Bearer ...)"},
                            status_code=401)


async def _refuse(slots: limits.UserSlots, request: Request, credential: str) -> Response:
    """The 429, once the request's body has been read (BodyLimit bounds it; a client that stops
    sending gets it after a few seconds): a client still sending when the answer and the closed
    connection come sees a broken pipe, not the 429 it would wait out. It comes no sooner than
    ``limits.REFUSAL_PAUSE`` after the request did: waiting costs the server nothing, answering
    does, and a client that asks again at once, refusal after refusal, would otherwise keep the
    server busy answering it."""
    async def drain() -> None:
        async for _ in request.stream():
            pass

    started = time.monotonic()
    with contextlib.suppress(TimeoutError, ClientDisconnect):
        await asyncio.wait_for(drain(), timeout=5)
    await asyncio.sleep(max(0.0, limits.REFUSAL_PAUSE - (time.monotonic() - started)))
    return slots.refusal(request, credential)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")


async def require_csrf(request: Request) -> None:
    """An app-wide dependency: every state-changing request carries the CSRF token.

    (Checked here rather than in the middleware, which would consume the form body.)
    """
    if request.method in _SAFE or getattr(request.state, "bearer", False):
        return
    form = (await request.form(max_part_size=request.app.state.request_limit)  # BodyLimit bounds it
            if "form" in request.headers.get("content-type", "") else None)
    if not check_csrf(request, form):
        raise Forbidden("this request has no valid CSRF token; reload the page and try again")
