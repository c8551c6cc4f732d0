"""The portfolio page: the reader's own profile, accomplishments and CV variants (on a team server,
each person's own: nobody else's portfolio is ever read here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from upstack.services import portfolio as folio
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/portfolio", name="portfolio", summary="Your portfolio: profile, accomplishments and CV variants")
def portfolio_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    held = folio.load(ws)
    return Page("portfolio.html", {**held.to_dict(), "kinds": list(folio.KINDS)})
