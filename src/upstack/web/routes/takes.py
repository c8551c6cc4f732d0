"""Takes (issue 19): /takes, what `upstack takes` shows (how views moved, which rest on one source
only, the revisit queue) with the form that notes a new take; and on a take's entry page, its maker's
forms to update it and to say it was revisited (the service refuses anyone else).

The forms follow the prediction forms' conventions (routes/predictions.py): bad input comes back as the
page it was on with the reason in one line above the form and what was typed still in it, and nothing is
written; a JSON client gets ``{"error"}``; a form that worked answers 303 to the take's page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.errors import BadInput
from upstack.services import takes as service
from upstack.web import take_view as view
from upstack.web.pages import Page, page, refused_form, workspace
from upstack.web.routes import entries
from upstack.web.routes.pipeline import wants_json
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/takes", name="takes",
      summary="The takes you may see (your own, and those shared with you): how each view moved, which rest on "
              "one source only, and your revisit queue")
def takes_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("takes.html", view.overview(ws))


Confidence = Annotated[str, Form(description="How sure you are it is true: 0.6 or 60%")]
Reason = Annotated[str, Form(description="Why (kept with the take's history)")]
Source = Annotated[str, Form(description="Who said it: a person, a paper, a talk")]
Where = Annotated[str, Form(description="Where: a link, a talk, a conversation")]
Crux = Annotated[str, Form(description="A crux it turns on")]
WouldChange = Annotated[str, Form(description="What would change your mind")]
Revisit = Annotated[str, Form(description="When to look at it again: 2027-03-01, 'in 3 months'")]


def _done(request: Request, found: service.Take) -> Response:
    if wants_json(request):
        return JSONResponse(found.to_dict())
    return RedirectResponse(f"/e/{found.entry.short}#take", status_code=303)


@router.post("/takes", summary="Note a take: a claim you heard, who said it and where, and how sure you are "
             "(private unless shared)")
def make_take(request: Request, ws: Annotated[Workspace, Depends(workspace)], claim: Annotated[
                  str, Form(description="The claim heard; its first line is the title")] = "",
              source: Source = "", where: Where = "", confidence: Confidence = "", reason: Reason = "",
              crux: Crux = "", would_change: WouldChange = "",
              on: Annotated[str, Form(description="A tree node it bears on (filed under it)")] = "",
              revisit: Revisit = "",
              shared: Annotated[bool, Form(description="Collaborators who see its node see it")] = False) -> Response:
    typed = {"claim": claim, "source": source, "where": where, "confidence": confidence, "reason": reason,
             "crux": crux, "would_change": would_change, "on": on, "revisit": revisit, "shared": shared}
    try:
        found = service.make(ws, claim, confidence, source=source, where=where,
                             cruxes=[crux] if crux.strip() else [], would_change=would_change,
                             on=[on.strip()] if on.strip() else [], revisit=revisit.strip() or None,
                             shared=shared, reason=reason)
    except BadInput as refused:
        if wants_json(request):
            raise
        return refused_form(request, takes_page(request, ws), "takes", "make", refused, typed)
    return _done(request, found)


@router.post("/e/{ref}/take", summary="A change to your take: a new confidence, another source, a crux, what would "
             "change your mind or the next revisit, and why (the earlier views are kept)")
def update_take(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                confidence: Confidence = "", reason: Reason = "", source: Source = "", where: Where = "",
                crux: Crux = "", would_change: WouldChange = "", revisit: Revisit = "") -> Response:
    service.get(ws, ref)  # not a take: said on the error page (its page has no such form to say it above)
    typed = {"confidence": confidence, "reason": reason, "source": source, "where": where, "crux": crux,
             "would_change": would_change, "revisit": revisit}
    try:
        found = service.update(ws, ref, confidence.strip() or None, reason=reason,
                               source=source if source.strip() else None,
                               where=where, cruxes=[crux] if crux.strip() else [],
                               would_change=would_change if would_change.strip() else None,
                               revisit=revisit.strip() or None)
    except BadInput as refused:
        if wants_json(request):
            raise
        return refused_form(request, entries.entry_page(request, ref, ws), "entry", "update", refused, typed)
    return _done(request, found)


@router.post("/e/{ref}/revisited", summary="You looked at your take again and it still holds: its revisit is "
             "done (and the next one set, if given)")
def revisited_take(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                   next_day: Annotated[str, Form(alias="next", description="The next day to look at it again")] = "",
                   reason: Annotated[str, Form(description="What you found (default: 'revisited')")] = ""
                   ) -> Response:
    service.get(ws, ref)  # not a take: said on the error page
    try:
        found = service.revisited(ws, ref, next_day=next_day.strip() or None, reason=reason)
    except BadInput as refused:
        if wants_json(request):
            raise
        return refused_form(request, entries.entry_page(request, ref, ws), "entry", "revisited", refused,
                            {"next": next_day, "reason": reason})
    return _done(request, found)
