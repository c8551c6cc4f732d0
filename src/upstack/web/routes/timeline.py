"""The timeline (newest first, filtered, paged by cursor) and quick capture."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from upstack.domain.filters import Filters
from upstack.domain.text import KINDS
from upstack.services import capture, recall, tree
from upstack.timeutil import parse_since, parse_until
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

router = APIRouter()
PAGE_SIZE = 50


@page(router, "/", name="timeline", summary="The timeline, newest first", json_path="/log.json")
def timeline_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                  project: str | None = None, tag: Annotated[list[str], Query()] = [],  # noqa: B006
                  kind: Annotated[list[str], Query()] = [],  # noqa: B006
                  since: str | None = None, until: str | None = None,
                  before: Annotated[str | None, Query(description="Show entries older than this entry id")] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE) -> Page:
    filters = Filters(project=project or None, tags=tuple(t for t in tag if t),
                      kinds=tuple(k for k in kind if k in KINDS),
                      since=parse_since(since, what="since date") if since else None,
                      until=parse_until(until, what="until date") if until else None)
    entries = recall.timeline(ws, filters, limit + 1, before=before or None)
    more = len(entries) > limit
    entries = entries[:limit]
    return Page("timeline.html", {
        # Where a note can be filed from here (anything else is one `upstack note --under` away).
        "places": [{"short": n.short, "title": n.title, "kind": n.kind} for n in tree.filing_places(ws)],
        "entries": entries, "next_before": entries[-1].id if more and entries else None,
        "filters": {"project": project or "", "tag": tag, "kind": kind, "since": since or "",
                    "until": until or ""},
        "kinds": list(KINDS)})


@router.post("/note", summary="Capture a note (the timeline's quick-capture box)")
def quick_capture(ws: Annotated[Workspace, Depends(workspace)], text: Annotated[str, Form(min_length=1)],
                  kind: Annotated[str, Form()] = "note",
                  under: Annotated[str, Form(description="A node id to file it under")] = "",
                  private: Annotated[bool, Form(description="Only its author sees it")] = False) -> RedirectResponse:
    entry = capture.note(ws, text, kind=kind, under=under.strip() or None, private=private)
    return RedirectResponse(f"/?added={entry.short}", status_code=303)
