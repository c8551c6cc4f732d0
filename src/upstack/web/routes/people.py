"""A person's path as their mentors read it (issue 15): ``/people`` (whose paths the reader is shown)
and ``/people/{login}/path`` (the ladder and portfolio shown to them, or the reader's own). Read only;
the practice log is never here, and a path not shown to the reader answers as a login that does not
exist (services/path_access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from upstack.services import path_access
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/people", name="people", summary="Whose paths you may read (they named you their mentor), "
      "and whom you show yours")
def people_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("people.html", {"shown_to_me": [s.to_dict() for s in path_access.shown_to_me(ws)],
                                "mentors": [s.to_dict() for s in path_access.mentors_of(ws)]})


@page(router, "/people/{login}/path", name="person_path",
      summary="A person's ladder and portfolio, as shown to you (their events by kind; never their practice log)")
def person_path_page(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("person_path.html", path_access.path_of(ws, login))
