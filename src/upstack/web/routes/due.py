"""What is due (``/due``): one list, soonest first, of deadlines, follow-ups, interviews, work tests
and practice reviews (services/due.py), what is overdue marked. Only ever the reader's own items, on
a team server too: every source reads the reader's path."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from upstack.errors import BadInput
from upstack.services import due as service
from upstack.timeutil import today_local
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router", "LINKS"]

router = APIRouter()
# Where each item's page is, by what its ref names.
LINKS = {"opportunity": "/opportunities/", "application": "/applications/", "contact": "/contacts/",
         "practice": "/practice"}


def _href(item: service.DueItem) -> str:
    if item.about not in LINKS:
        return ""
    return LINKS[item.about] + ("" if item.about == "practice" else item.ref)


@page(router, "/due", name="due",
      summary="What is due: deadlines, follow-ups, interviews, work tests, practice reviews; overdue first")
def due_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
             days: Annotated[int, Query(description="Look this many days ahead, up to 3660 (what is overdue "
                                                    "is always shown)")] = 14) -> Page:
    if not 0 <= days <= service.MAX_DAYS:
        raise BadInput(f"days must be from 0 to {service.MAX_DAYS}, not {days}")
    today = today_local()
    items = [{**item.to_dict(today), "href": _href(item)} for item in service.due(ws, days=days)]
    return Page("due.html", {"items": items, "days": days, "today": today.isoformat(),
                             "overdue": sum(1 for item in items if item["overdue"])})
