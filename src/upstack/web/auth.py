"""Local mode's lock: a random token in the printed address, then a cookie; CSRF on every post.

Loopback is not private on a shared machine (a cluster login node): anyone
logged in there can reach 127.0.0.1. So every request needs the token that
`upstack serve` printed, once in the URL (exchanged for an HttpOnly, SameSite
cookie) and from then on in the cookie. State-changing requests also carry a
CSRF token derived from it, in a form field or the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from fastapi import HTTPException
from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

__all__ = ["LocalToken", "csrf_token", "COOKIE", "check_csrf", "require_csrf"]

COOKIE = "upstack_session"
_SAFE = ("GET", "HEAD", "OPTIONS")


def csrf_token(request: Request) -> str:
    token: str = request.app.state.token
    return hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()[:32]


def check_csrf(request: Request, form: FormData | None) -> bool:
    sent = request.headers.get("x-csrf-token") or (str(form.get("csrf", "")) if form is not None else "")
    return hmac.compare_digest(sent, csrf_token(request))


class LocalToken(BaseHTTPMiddleware):
    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        request.app.state.token = self.token
        if request.url.path.startswith("/static/"):
            return await call_next(request)
        offered = request.query_params.get("token")
        if offered is not None and hmac.compare_digest(offered, self.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + urlencode(rest) if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https", path="/")
            return response
        if not hmac.compare_digest(request.cookies.get(COOKIE, ""), self.token):
            return PlainTextResponse("upstack: open the address `upstack serve` printed; it carries the "
                                     "access token for this workspace.\n", status_code=401)
        return await call_next(request)


async def require_csrf(request: Request) -> None:
    """An app-wide dependency: every state-changing request carries the CSRF token.

    (Checked here rather than in the middleware, which would consume the form body.)
    """
    if request.method in _SAFE:
        return
    form = await request.form() if "form" in request.headers.get("content-type", "") else None
    if not check_csrf(request, form):
        raise HTTPException(403, "this request has no valid CSRF token; reload the page and try again")
