"""Predictions as the pages show them (issue 19): a prediction's line in a list, what a node's or an
entry's page says of the predictions about it, a prediction's own entry page, and the calibration
report as plain data (the JSON twin of /calibration has the shape `upstack calibration --json` has).

Who sees what is the service's: ``services.predictions.listing`` reads only what the reader may see,
``calibration`` only the reader's own, and only a prediction's maker updates or resolves it.
"""

from __future__ import annotations

from typing import Any

from upstack.domain import access
from upstack.domain.entry import Entry
from upstack.errors import BadInput
from upstack.services import predictions as service
from upstack.workspace import Workspace

__all__ = ["STATES", "PREDICTABLE_NODES", "line", "listed", "about", "entry_context", "may_predict_under",
           "calibration_data", "about_href"]

STATES = ("open", "overdue", "resolved")  # what /predictions filters by (`upstack predict list --open` ...)
PREDICTABLE_NODES = ("question", "experiment")  # a node page with the prediction form
PREDICTABLE_ENTRIES = ("idea", "result")  # an entry page with it (a run's result entry too)


def about_href(kind: str | None, target_id: str | None) -> str:
    """Where what a prediction is about has its page."""
    if not kind or not target_id:
        return ""
    return {"node": "/tree/", "run": "/runs/"}.get(kind, "/e/") + target_id


def line(prediction: service.Prediction) -> dict[str, Any]:
    """A prediction as a list shows it: its JSON, where its page is, and its state with overdue said."""
    data = prediction.to_dict()
    about = data["about"] or {}
    return {**data, "href": f"/e/{prediction.entry.short}",
            "shown_state": "overdue" if prediction.overdue else prediction.state,
            "about_href": about_href(about.get("kind"), about.get("id"))}


def listed(ws: Workspace, state: str | None) -> list[dict[str, Any]]:
    """The predictions the reader may see, newest first (only those in ``state`` if given)."""
    return [line(p) for p in reversed(service.listing(ws, state=state))]


def about(ws: Workspace, target_id: str, *, node: bool = False) -> list[dict[str, Any]]:
    """The predictions the reader may see that are about this node, entry or run, newest first; a
    ``node``'s include those about its runs (`upstack.run(..., predict=...)`), filed under it."""
    return [line(p) for p in reversed(service.listing(ws, about=target_id, runs_under=node))]


def may_predict_under(node_id: str | None) -> bool:
    """Whether the reader may file a prediction there (as a note: an editor, or anyone unfiled)."""
    audience = access.current()
    return audience is None or audience.may_file_under(node_id)


def entry_context(ws: Workspace, entry: Entry) -> dict[str, Any]:
    """What an entry's page adds: a prediction's forecasts and resolutions (and, for its maker, the
    update and resolve forms); an idea's or result's predictions about it and the form to make one."""
    if entry.kind == "prediction":
        try:
            found = service.get(ws, entry.id)
        except BadInput:  # a purged prediction keeps its entry's tombstone only
            return {"prediction": None}
        data = line(found)
        return {"prediction": {**data, "mine": service.mine(ws, entry),
                               "resolutions": [{**r, "evidence_href": f"/e/{r['evidence_id']}" if r["evidence_id"]
                                                else ""} for r in data["resolutions"]]}}
    predictable = (entry.kind in PREDICTABLE_ENTRIES or bool(entry.meta.get("run"))) and not entry.deleted_at
    return {"predictions": about(ws, entry.id),
            "may_predict": predictable and may_predict_under(entry.node_id)}


def calibration_data(ws: Workspace, login: str | None = None) -> dict[str, Any]:
    """The reader's own calibration (or ``login``'s, as shown to them), as `upstack calibration
    --json` gives it, with links."""
    report = service.calibration(ws) if login is None else service.calibration_of(ws, login)
    data = report.to_dict()
    for miss, (prediction, _) in zip(data["surprises"], report.surprises, strict=True):
        miss["href"] = f"/e/{prediction.entry.short}"
    return {**data, "login": login}
