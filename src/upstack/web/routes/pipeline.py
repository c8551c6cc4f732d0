"""The pipeline's pages (issue 16): the board (``/pipeline``: applications in columns by stage, a card
moved on in one click), the funnel (``/pipeline/funnel``) and one application (``/applications/{slug}``:
its timeline, its follow-up, its moves, a rejection that asks what was learned).

Each person's own: the services read the reader's path only, so on a team server nobody sees another
member's applications here (a mentor shown the pipeline reads it at /people/{login}/pipeline). A move
back (to an earlier stage, or out of an end) is asked again before it is made: the confirming form
sends ``force``, as ``upstack apply move --force`` does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.domain import pipeline
from upstack.errors import BadInput
from upstack.ids import short_id
from upstack.services import applications
from upstack.timeutil import today_local
from upstack.web import pipeline_view
from upstack.web.pages import Page, base_context, page, templates, workspace
from upstack.workspace import Workspace

__all__ = ["router", "wants_json"]

router = APIRouter()


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@page(router, "/pipeline", name="pipeline",
      summary="Your applications as a board: a column per stage in order, those that ended last")
def board_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("pipeline.html", {**pipeline_view.board(ws), "login": None})


@page(router, "/pipeline/funnel", name="funnel",
      summary="Your funnel: response, interview and offer rates with their counts, by kind, source and stretch; "
              "median days per stage; the variety notice")
def funnel_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("funnel.html", {**pipeline_view.funnel(ws), "login": None})


@page(router, "/applications/{slug}", name="application",
      summary="One application: its timeline of dated stages, follow-up, what was sent and whom it names")
def application_page(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    app = applications.find(ws, slug)
    order = applications.stage_order(ws)
    today = today_local()
    data = app.to_dict()
    data["timeline"] = [{**step, "learned_short": short_id(str(step["learned"])) if step.get("learned") else ""}
                        for step in app.timeline]
    data["sent"] = [{"id": ref, "short": short_id(ref)} for ref in app.sent]
    return Page("application.html", {
        "application": data, "card": pipeline_view.card(app, order, today),
        "frame": applications.REJECTION_FRAME, "today": today.isoformat()})


def _done(request: Request, app: applications.Application, back: str) -> Response:
    if wants_json(request):
        return JSONResponse(app.to_dict())
    target = f"/pipeline#a-{app.slug}" if back == "board" else f"/applications/{app.slug}"
    return RedirectResponse(target, status_code=303)


Back = Annotated[str, Form(description="Where to go afterwards: 'board', or the application's page")]


@router.post("/applications/{slug}/move",
             summary="Move an application to a stage (a move back needs force); a rejection may say what was learned",
             responses={200: {"description": "The application moved (JSON); or, a move back without force asked "
                                             "from a form, the page that asks it again (HTML)",
                              "content": {"application/json": {}, "text/html": {}}}})
def move_application(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)],
                     stage: Annotated[str, Form(min_length=1, description="The stage to move to")],
                     force: Annotated[bool, Form(description="Confirm a move back")] = False,
                     when: Annotated[str, Form(description="The day it happened (default today)")] = "",
                     on: Annotated[str, Form(description="The day the stage waits on: an interview's")] = "",
                     note: Annotated[str, Form()] = "",
                     learned: Annotated[str, Form(description="A rejection's lesson: kept as a private learning")] = "",
                     back: Back = "") -> Response:
    found = applications.find(ws, slug, archived=False)
    order = applications.stage_order(ws)
    new = pipeline.check_stage(stage, order)
    if new != found.stage and pipeline.is_backwards(order, found.stage, new) and not force:
        if wants_json(request):
            raise BadInput(f"{found.slug} is at {found.stage}: moving it back to {new} needs force=true")
        asked: dict[str, Any] = {"application": found.to_dict(), "stage": new, "when": when, "on": on, "note": note,
                                 "back": back, **base_context(request), "page_name": "pipeline"}
        return templates.TemplateResponse(request, "move_back.html", asked)  # a question, not a refusal
    moved = applications.move(ws, found.slug, new, when=when or None, note=note, on=on or None, force=force,
                              learned=learned or None)
    return _done(request, moved, back)


@router.post("/applications/{slug}/follow-up",
             summary="Set the day to follow an application up (empty: done)")
def follow_up_application(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)],
                          day: Annotated[str, Form(description="YYYY-MM-DD or words ('next friday'); "
                                                               "empty: done")] = "",
                          back: Back = "") -> Response:
    return _done(request, applications.follow_up(ws, slug, day.strip() or None), back)
