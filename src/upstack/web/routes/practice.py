"""The practice page: interview-practice attempts, the reviews due, and the guide's bar drawn over
time. A person's practice is theirs alone: on a team server each reader sees only their own
(services/practice.py reads the reader's records), never another member's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from upstack.ids import short_id
from upstack.services import practice as service
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()
SHOWN = 50  # the latest attempts listed on the page; `upstack practice list -n 0` has them all


@page(router, "/practice", name="practice",
      summary="Your interview practice: the latest attempts, the reviews due, the bar over time")
def practice_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    history = service.attempts(ws)
    bar = service.bar_status(ws, history=history)
    settings = ws.settings
    return Page("practice.html", {
        "attempts": [{**a.to_dict(), "short": short_id(a.id)} for a in history[::-1][:SHOWN]],
        "total": len(history),
        "due": [r.to_dict() for r in service.due(ws)],
        "bar": bar.to_dict(),
        "statement": service.bar_statement(bar),
        "chart": {"points": service.bar_chart(ws, history),
                  "line": settings.practice_bar_solved / settings.practice_bar_window,
                  "window": settings.practice_bar_window}})
