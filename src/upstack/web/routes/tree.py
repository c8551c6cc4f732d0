"""The theory-of-change tree (with the warnings of ``upstack check``) and one node's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from upstack.domain.tree import status_label
from upstack.services import checks
from upstack.services import tree as tree_service
from upstack.web import prediction_view
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


def _shorts(rows: list[tree_service.TreeRow]) -> set[str]:
    found: set[str] = set()
    for row in rows:
        found |= {row.node.short} | _shorts(row.children)
    return found


@page(router, "/tree", name="tree", summary="The theory-of-change tree with counts, and what `upstack check` flags")
def tree_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
              open_only: Annotated[bool, Query(description="Hide done and dropped nodes")] = False) -> Page:
    counts = tree_service.activity(ws)  # both count from it: one pass over the entries, not two
    roots = tree_service.tree(ws, include_closed=not open_only, counts=counts)
    report = checks.check(ws, activity=counts)
    shown = _shorts(roots)
    # A flag about a node links to it in the tree; others (e.g. "recent entries") stand alone.
    flags = [{**f.to_dict(), "node": f.subject if f.subject in shown else None} for f in report.flags]
    return Page("tree.html", {"tree": [r.to_dict() for r in roots], "check": {**report.to_dict(), "flags": flags},
                              "open_only": open_only})


@page(router, "/tree/{ref}", name="node", summary="One node: its why, where it sits, children, recent entries, history")
def node_page(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    view = tree_service.show_node(ws, ref)
    chain = [view.node, *view.chain]
    return Page("tree.html", {
        "node": view.node, "status": status_label(view.node), "parents": view.chain,
        "reaches_agenda": chain[-1].kind == "agenda", "asks_why": tree_service.asks_why(ws, chain),
        "children": view.children, "entries": view.entries,
        # Predictions about it, and the form to make one on a question or experiment (issue 19).
        "predictions": prediction_view.about(ws, view.node.id, node=True),
        "may_predict": view.node.kind in prediction_view.PREDICTABLE_NODES
        and prediction_view.may_predict_under(view.node.id),
        "history": [{**event, "text": tree_service.describe_event(event, view.node.kind)} for event in view.history]})
