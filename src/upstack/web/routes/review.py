"""The weekly review: the digest for collaborators, grouped by project, with its figures inline.

The same digest as ``upstack review`` (private entries never appear in it), as a page
whose figures are the attachments themselves (``/a/{id}``) rather than embedded copies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from upstack.domain.entry import Entry, figures
from upstack.domain.tree import Node, status_label
from upstack.services import review as review_service
from upstack.timeutil import parse_since, parse_until, to_iso
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()
DEFAULT_DAYS = 7
# The digest's sections, in the order `upstack review` writes them.
SECTIONS = (("done", "What was done"), ("learned", "What was learned"), ("decisions", "Decisions"),
            ("questions", "Open questions"), ("stuck", "Where it got hard"), ("pruned", "Ideas pruned"),
            ("next", "Next steps"))


def _item(item: Entry | Node | tuple[str, str]) -> dict[str, Any]:
    if isinstance(item, Entry):
        return {"type": "entry", **item.to_dict(), "figures": [a.to_dict() for a in figures(item.attachments)]}
    if isinstance(item, Node):
        return {"type": "node", **item.to_dict(), "label": status_label(item)}
    title, reason = item
    return {"type": "pruned", "title": title, "reason": reason}


@page(router, "/review", name="review", summary="The weekly digest for collaborators, grouped by project")
def review_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                since: Annotated[str | None, Query(description="Start (default: 7 days ago)")] = None,
                until: Annotated[str | None, Query(description="End (default: now)")] = None,
                project: Annotated[str | None, Query(description="Only this project (by title)")] = None) -> Page:
    now = datetime.now(UTC)
    start = parse_since(since, what="since date") if since else to_iso(now - timedelta(days=DEFAULT_DAYS))
    end = parse_until(until, what="until date") if until else to_iso(now)
    digest = review_service.build_review(ws, since=start, until=end, project=project or None)
    projects = [{"title": p.title, "sections": [
        {"key": key, "heading": heading, "items": [_item(i) for i in getattr(p, key)]}
        for key, heading in SECTIONS if getattr(p, key)]} for p in digest.projects]
    return Page("review.html", {
        "since": digest.since, "until": digest.until, "projects": projects,
        "form": {"since": since or "", "until": until or "", "project": project or ""}})
