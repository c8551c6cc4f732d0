"""A person's path as their mentors read it (issues 15 and 16): ``/people`` (whose paths the reader is
shown), ``/people/{login}/path`` (the ladder and portfolio shown to them, or the reader's own), and,
when the person shows them, their pipeline (``/people/{login}/pipeline``, its ``/funnel``) and their
contacts (``/people/{login}/contacts``, never a local-only one). Read only; the practice log is never
here, and a part not shown to the reader answers as a login that does not exist
(services/path_access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from upstack.services import contacts, opportunities, path_access
from upstack.web import pipeline_view
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


# -- the pipeline and contacts a person shows their mentor: read only ---------------------------------

@page(router, "/people/{login}/pipeline", name="person_pipeline",
      summary="A person's applications as a board, as shown to you (read only; their pipeline, if they show it)")
def person_pipeline_page(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    person = path_access.reading(ws, login, "pipeline")
    held = opportunities.opportunities(ws, person=person)
    return Page("pipeline.html", {**pipeline_view.board(ws, person), "login": login,
                                  "opportunities": [o.to_dict() for o in held]})


@page(router, "/people/{login}/pipeline/funnel", name="person_funnel",
      summary="A person's funnel, as shown to you (read only; their pipeline, if they show it)")
def person_funnel_page(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("funnel.html", {**pipeline_view.funnel(ws, path_access.reading(ws, login, "pipeline")), "login": login})


@page(router, "/people/{login}/contacts", name="person_contacts",
      summary="A person's contacts and exchanges, as shown to you (read only; never one they keep local-only)")
def person_contacts_page(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    person = path_access.reading(ws, login, "contacts")
    return Page("person_contacts.html", {"login": login,
                                         "contacts": [c.to_dict() for c in contacts.contacts(ws, person=person)]})


@page(router, "/people/{login}/calibration", name="person_calibration",
      summary="A person's calibration, as they show it to you (`upstack path mentor add YOU --calibration`): "
              "their scores over their own predictions; one you may not see is never named")
def person_calibration_page(request: Request, login: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    from upstack.web import prediction_view

    return Page("calibration.html", prediction_view.calibration_data(ws, login))
