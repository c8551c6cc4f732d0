"""The ladder page: where the reader stands on the path to a research job, every step with its
evidence, and learning resources with progress. Each person's own: the services read the reader's
path only, so on a team server nobody sees another's ladder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from upstack.services import ladder as ladder_service
from upstack.services import resources as resource_service
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/ladder", name="ladder",
      summary="Your ladder: where you stand, the steps with their evidence, learning resources with progress")
def ladder_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    standing = ladder_service.standing(ws)
    return Page("ladder.html", {"standing": standing, "steps": ladder_service.load(ws).steps,
                                "resources": resource_service.resources(ws)})
