"""Predictions and calibration (issue 19): /calibration, the reader's own; /predictions, those they
may see; and the forms that make one (on a question or experiment node, an idea or a result), update
it and resolve it (its maker only: the service refuses anyone else).

A form with bad input (a probability of 150%, an empty claim) comes back as the page it was on, the
reason in one line above the form and what was typed still in it, and nothing is written; a JSON
client gets ``{"error"}``. What the reader may not do or see answers as everywhere else (403, 404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.errors import BadInput
from upstack.services import predictions as service
from upstack.services import tree as tree_service
from upstack.web import prediction_view as view
from upstack.web.pages import Page, page, refused_form, workspace
from upstack.web.routes import entries, tree
from upstack.web.routes.pipeline import wants_json
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/calibration", name="calibration",
      summary="Your calibration: Brier and log scores, the reliability diagram, by month, and the confident "
              "misses worth writing down (only your own predictions)")
def calibration_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    return Page("calibration.html", view.calibration_data(ws))


@page(router, "/predictions", name="predictions",
      summary="The predictions you may see, newest first: open, overdue or resolved")
def predictions_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                     state: Annotated[str, Query(description=f"Only those {', '.join(view.STATES)} "
                                                             "(empty: all)")] = "") -> Page:
    if state and state not in view.STATES:
        raise BadInput(f"unknown state {state!r}: choose one of {', '.join(view.STATES)}")
    return Page("predictions.html", {"predictions": view.listed(ws, state or None), "state": state,
                                     "states": list(view.STATES)})


# -- the forms ----------------------------------------------------------------------------------

Claim = Annotated[str, Form(description="What you expect; its first line is the title")]
Probability = Annotated[str, Form(description="The chance it comes true: 0.7 or 70% (1% to 99%)")]
ResolveBy = Annotated[str, Form(description="When it should be known: 2027-01-15, 'in 2 weeks'")]
Criteria = Annotated[str, Form(description="How it will be resolved, written before the result")]
Reason = Annotated[str, Form(description="Why (kept with the forecast or resolution)")]
Private = Annotated[bool, Form(description="Only you will ever see it")]


def _made(request: Request, found: service.Prediction) -> Response:
    if wants_json(request):
        return JSONResponse(found.to_dict())
    return RedirectResponse(f"/e/{found.entry.short}#prediction", status_code=303)


def _again(request: Request, shown: Page, name: str, form: str, refused: BadInput,
           typed: dict[str, Any]) -> Response:
    """The page the form was on, with the reason above that form and what was typed in it."""
    return refused_form(request, shown, name, form, refused, typed)


@router.post("/tree/{ref}/predict", summary="Make a prediction about a question or experiment node")
def predict_on_node(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                    claim: Claim = "", probability: Probability = "", resolve_by: ResolveBy = "",
                    criteria: Criteria = "", reason: Reason = "", private: Private = False) -> Response:
    node = tree_service.get_node(ws, ref)
    typed = {"claim": claim, "probability": probability, "resolve_by": resolve_by, "criteria": criteria,
             "reason": reason, "private": private}
    try:
        found = service.make(ws, claim, probability, on=node.id, resolve_by=resolve_by.strip() or None,
                             criteria=criteria, private=private, reason=reason)
    except BadInput as refused:
        if wants_json(request):
            raise
        return _again(request, tree.node_page(request, ref, ws), "node", "make", refused, typed)
    return _made(request, found)


@router.post("/e/{ref}/predict", summary="Make a prediction about an idea (its cheapest test) or a result")
def predict_on_entry(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                     claim: Claim = "", probability: Probability = "", resolve_by: ResolveBy = "",
                     criteria: Criteria = "", reason: Reason = "", private: Private = False) -> Response:
    from upstack.services import recall

    entry = recall.show(ws, ref)
    # Its page has no form for these: said on the error page.
    if entry.deleted_at:
        raise BadInput(f"entry {entry.short} is deleted: restore it to predict on it")
    if entry.kind == "prediction":
        raise BadInput(f"entry {entry.short} is a prediction: update it instead of predicting on it")
    typed = {"claim": claim, "probability": probability, "resolve_by": resolve_by, "criteria": criteria,
             "reason": reason, "private": private}
    try:
        found = service.make(ws, claim, probability, on=entry.id, resolve_by=resolve_by.strip() or None,
                             criteria=criteria, private=private, reason=reason)
    except BadInput as refused:
        if wants_json(request):
            raise
        return _again(request, entries.entry_page(request, ref, ws), "entry", "make", refused, typed)
    return _made(request, found)


@router.post("/e/{ref}/forecast", summary="A new forecast of your prediction: a probability and why (the "
             "earlier forecasts are kept)")
def update_forecast(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                    probability: Probability = "", reason: Reason = "") -> Response:
    try:
        found = service.update(ws, ref, probability, reason=reason)
    except BadInput as refused:
        if wants_json(request):
            raise
        return _again(request, entries.entry_page(request, ref, ws), "entry", "update", refused,
                      {"probability": probability, "reason": reason})
    return _made(request, found)


@router.post("/e/{ref}/resolve", summary="Resolve your prediction true, false or annulled, with the result "
             "entry or run that settled it (again: a correction, with its reason)")
def resolve_prediction(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                       outcome: Annotated[str, Form(description=", ".join(service.OUTCOMES))] = "",
                       evidence: Annotated[str, Form(description="The result entry or run that settled it")] = "",
                       reason: Reason = "") -> Response:
    try:
        found = service.resolve(ws, ref, outcome, evidence=evidence.strip() or None, reason=reason)
    except BadInput as refused:
        if wants_json(request):
            raise
        return _again(request, entries.entry_page(request, ref, ws), "entry", "resolve", refused,
                      {"outcome": outcome, "evidence": evidence, "reason": reason})
    return _made(request, found)
