"""Opportunities' pages (issue 16): the list (``/opportunities``: soonest deadline first, possible
duplicates marked, an add form, archive) and one opportunity (``/opportunities/{slug}``: its fields, the
kept posting, the reader's work that fits it, and "start application").

A kept posting's HTML came from another site: it was sanitised when kept and is sanitised again here,
at render, with the allow-list entries are rendered with (web/markdown.py), so a posting kept by an
older upstack, or written into a record by hand, is shown as safely as one read today.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.domain import pipeline
from upstack.domain.html import sanitise
from upstack.errors import BadInput, NotFound
from upstack.services import applications, matching, opportunities
from upstack.web.pages import Page, page, workspace
from upstack.web.routes.pipeline import wants_json
from upstack.workspace import Workspace

__all__ = ["router", "matched"]

router = APIRouter()


def matched(ws: Workspace, what: str, ref: str) -> dict[str, Any]:
    """The reader's own work and open problems that fit a contact's interests or an opportunity
    (services/matching.py); ``{"none": why}`` when there is nothing to match on yet (no interests,
    no areas, no posting)."""
    ranker = matching.for_contact if what == "contact" else matching.for_opportunity
    try:
        return ranker(ws, ref, 5).to_dict()
    except BadInput as nothing:
        return {"work": [], "problems": [], "none": str(nothing)}


@page(router, "/opportunities", name="opportunities",
      summary="Your opportunities, soonest deadline first, possible duplicates marked; the archived ones apart")
def opportunities_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    held, apps = applications.pipeline_of(ws)  # each folded once
    applied = {a.slug: a.stage for a in apps}
    listed = [{**o.to_dict(), "application": applied.get(o.slug)} for o in held]
    return Page("opportunities.html", {
        "opportunities": [o for o in listed if not o["archived"]],
        "archived": [o for o in listed if o["archived"]],
        "kinds": list(pipeline.KINDS)})


@page(router, "/opportunities/{slug}", name="opportunity",
      summary="One opportunity: its fields, the posting's kept text (sanitised), your work that fits it")
def opportunity_page(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    found = opportunities.find(ws, slug)
    kept = opportunities.posting(ws, found.slug)
    posting = None
    if kept is not None:
        posting = {"url": kept["url"], "text": kept["text"],
                   "html": sanitise(kept["html"], kept["url"], images=False) if kept["html"].strip() else ""}
    try:
        application: dict[str, Any] | None = applications.find(ws, found.slug).to_dict()
    except NotFound:
        application = None
    return Page("opportunity.html", {
        "opportunity": found.to_dict(), "posting": posting, "application": application,
        "matched": matched(ws, "opportunity", found.slug),
        "stages": list(applications.stage_order(ws)[:2]), "stretch": list(pipeline.STRETCH)})


def _shown(request: Request, found: opportunities.Opportunity, **extra: Any) -> Response:
    if wants_json(request):
        return JSONResponse({**found.to_dict(), **extra})
    return RedirectResponse(f"/opportunities/{found.slug}", status_code=303)


Text = Annotated[str, Form()]


@router.post("/opportunities", summary="Add an opportunity (the same link again fills in what it lacked; "
             "the same organisation and role elsewhere is marked a possible duplicate)")
def add_opportunity(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                    organisation: Annotated[str, Form(min_length=1, description="Who offers it")],
                    role: Text = "", kind: Annotated[str, Form(description=", ".join(pipeline.KINDS))] = "job",
                    link: Text = "", deadline: Annotated[str, Form(description="YYYY-MM-DD or words")] = "",
                    source: Text = "", location: Text = "", remote: Annotated[bool, Form()] = False,
                    areas: Annotated[str, Form(description="Research areas, comma-separated")] = "",
                    notes: Text = "", found: Annotated[str, Form(description="Where it was found")] = "") -> Response:
    added = opportunities.add(ws, organisation=organisation, role=role, kind=kind, link=link, deadline=deadline,
                              source=source, location=location, remote=remote, areas=areas, notes=notes,
                              found=found)
    return _shown(request, added.opportunity, outcome=added.outcome)


@router.post("/opportunities/{slug}/archive", summary="Archive an opportunity (kept, out of the list)")
def archive_opportunity(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    archived = opportunities.archive(ws, slug)
    if wants_json(request):
        return JSONResponse(archived.to_dict())
    return RedirectResponse("/opportunities", status_code=303)


@router.post("/opportunities/{slug}/restore", summary="Bring an archived opportunity back to the list")
def restore_opportunity(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _shown(request, opportunities.restore(ws, slug))


@router.post("/opportunities/{slug}/apply",
             summary="Start an application to an opportunity: on the wishlist, or applied today")
def start_application(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)],
                      stage: Annotated[str, Form(description="wishlist (default) or a later stage")] = "",
                      stretch: Annotated[str, Form(description="reach, fit or safe")] = "") -> Response:
    started = applications.add(ws, slug, stage=stage or None, stretch=stretch or None)
    if wants_json(request):
        return JSONResponse(started.to_dict())
    return RedirectResponse(f"/applications/{started.slug}", status_code=303)
