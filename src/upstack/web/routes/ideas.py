"""The idea board: a column per state; prune (with its reason), park or de-risk in one step."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.domain.idea import IDEA_STATES, ORDERS
from upstack.errors import BadInput
from upstack.services import ideas as idea_service
from upstack.web.app import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/ideas", name="ideas", summary="The idea board: every idea, a column per state")
def ideas_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
               order: Annotated[str, Query(description=f"One of {', '.join(ORDERS)}")] = ORDERS[0]) -> Page:
    if order not in ORDERS:
        raise BadInput(f"unknown order {order!r}: choose one of {', '.join(ORDERS)}")
    found = idea_service.list_ideas(ws, states=IDEA_STATES, order=order)
    return Page("ideas.html", {
        "columns": [{"state": state, "ideas": [i for i in found if i.state == state]} for state in IDEA_STATES],
        "order": order, "orders": list(ORDERS)})


def _changed(request: Request, ws: Workspace, ref: str, state: str, reason: str) -> Response:
    idea = idea_service.set_state(ws, ref, state, reason)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(idea.to_dict())
    return RedirectResponse(f"/ideas#i-{idea.short}", status_code=303)


Reason = Annotated[str, Form(description="Why (kept in the idea's history)")]


@router.post("/ideas/{ref}/prune", summary="Prune an idea, saying why (the reason stays searchable)")
def prune_idea(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
               reason: Reason = "") -> Response:
    # Checked here too, before anything is read or written, with words for a web form.
    if not " ".join(reason.split()):
        raise BadInput("pruning needs a reason: write what ruled the idea out, so a later search finds it")
    return _changed(request, ws, ref, "pruned", reason)


@router.post("/ideas/{ref}/park", summary="Park an idea (set aside, to revisit)")
def park_idea(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
              reason: Reason = "") -> Response:
    return _changed(request, ws, ref, "parked", reason)


@router.post("/ideas/{ref}/derisk", summary="Start de-risking an idea: run its cheapest disqualifying test")
def derisk_idea(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                reason: Reason = "") -> Response:
    return _changed(request, ws, ref, "de-risking", reason)
