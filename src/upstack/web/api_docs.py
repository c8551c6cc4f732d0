"""``/api/docs``: Swagger UI for the JSON API, from the vendored copy in static/vendor (no CDN).

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script,
which the pages' Content-Security-Policy (web/headers.py) would block; this page loads both
the bundle and its start-up script from this server.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from upstack.web.pages import templates

__all__ = ["router", "SWAGGER_UI_VERSION"]

SWAGGER_UI_VERSION = "5.35.0"  # the files in static/vendor; scripts/vendor-web.sh fetches them

router = APIRouter(include_in_schema=False)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    return templates.TemplateResponse(request, "api_docs.html", {
        "swagger_version": SWAGGER_UI_VERSION, "openapi_url": request.app.openapi_url})
