"""Security headers on every response, in one pure-ASGI middleware (outermost, so that the
sign-in redirects, the 401s and the 413s of the other middlewares carry them too).

- ``Content-Security-Policy``: scripts, styles, fonts and fetches only from this server, so
  that markup that slipped past the sanitiser cannot run a script or load one from elsewhere;
  images from here (and ``data:`` ones, which Swagger UI's stylesheet uses), so a note cannot
  embed a tracking pixel that tells another site who read it; no plug-ins, no ``<base>``;
  forms post only here; no other site may frame a page (clickjacking). A response that sets a
  policy of its own (an attached file: ``sandbox``, so an SVG opened by itself is a document with
  no origin) keeps it, and gets this one beside it: a browser enforces both.
- ``X-Frame-Options`` says the same to browsers that predate ``frame-ancestors``.
- ``X-Content-Type-Options: nosniff``: an attached file is never run as a script or a page
  because it looks like one.
- ``Referrer-Policy: no-referrer``: tokens ride in ``?token=`` and in link URLs, and a page's
  address names entries and projects; none of it goes to a site a link leads to.
- ``Cache-Control: no-store`` on everything but ``/static/``: signed-in pages and JSON hold
  what only their reader may see, and must not stay in a shared or back-button cache.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders

__all__ = ["SecurityHeaders", "CONTENT_SECURITY_POLICY", "SECURITY_HEADERS"]

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_CACHEABLE = "/static/"  # our own code and styles, the same for everyone


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response, and ``Cache-Control: no-store``
    to every one outside ``/static/``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = not scope["path"].startswith(_CACHEABLE)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name == "Content-Security-Policy" and headers.get(name, value) != value:
                        headers.append(name, value)  # the route's own policy holds too
                    else:
                        headers[name] = value
                if private:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
