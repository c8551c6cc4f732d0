"""Chart panels: a project's grid (``/panels?under=PROJECT``), each panel's page, data and picture.

The grid is drawn in the browser (static/panels.js over ``/panels/{ref}/data.json``, which holds only
the runs the reader may see); its forms add a panel, change one, move it earlier or later, delete and
restore it. ``/panels/{ref}.png`` is the panel drawn on the server (matplotlib) from what the reader
may see: the picture an export puts in place of an embed. Forms answer 303 to the grid; a JSON client
gets the panel (or the grid); bad input is a one-line 400.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.services import panels as service
from upstack.web.pages import Page, page, workspace
from upstack.web.routes.pipeline import wants_json
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


def _grid_url(panel: service.Panel) -> str:
    from upstack.ids import short_id

    return "/panels" + (f"?under={short_id(panel.node_id)}" if panel.node_id else "") + f"#panel-{panel.short}"


@page(router, "/panels", name="panels",
      summary="A project's grid of chart panels (which metrics of which runs, smoothing, log scale, x by step "
              "or time), each embeddable in an entry as ![caption](upstack:panel/ID)")
def panels_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                under: Annotated[str | None, Query(description="The project (default: your unfiled panels)")] = None
                ) -> Page:
    from upstack.services.tree import get_node

    node = get_node(ws, under) if under else None
    return Page("panels.html", {
        "under": {"id": node.id, "short": node.short, "title": node.title} if node else None,
        "panels": [p.to_dict() for p in service.list_panels(ws, node.id if node else None)],
        "deleted": [p.to_dict() for p in service.list_panels(ws, node.id if node else None, deleted=True)]})


@router.get("/panels/{ref}/data.json", name="panel_data", response_model=None,
            summary="What a panel draws for its reader: one thinned line per run (that they may see) and metric")
def panel_data(ref: str, ws: Annotated[Workspace, Depends(workspace)],
               run: Annotated[list[str], Query(description="The page's runs, drawn by a panel that names none")] = [],  # noqa: B006
               ) -> JSONResponse:
    return JSONResponse(service.data(ws, ref, page_runs=run))


@router.get("/panels/{ref}.png", name="panel_png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}},
            summary="A panel drawn as a PNG from what the reader may see (needs the plot extra)")
def panel_png(ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return Response(service.png(ws, ref), media_type="image/png", headers={"Cache-Control": "no-store"})


@page(router, "/panels/{ref}", name="panel", summary="One chart panel, its settings and its history")
def panel_page(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    panel = service.get_panel(ws, ref)
    return Page("panels.html", {"under": None, "single": True, "panels": [panel.to_dict()], "deleted": [],
                                "history": service.history(ws, panel.id)})


Keys = Annotated[str, Form(description="Metrics, comma-separated (loss, val/acc)")]
Runs = Annotated[str, Form(description="Run ids, comma- or space-separated (none: the project's newest)")]
Smoothing = Annotated[float, Form(ge=0, le=0.99, description="0 (none) to 0.99")]
Log = Annotated[bool, Form(description="Logarithmic value axis")]
XAxis = Annotated[str, Form(description="step or time")]
Wide = Annotated[bool, Form(description="Two grid columns wide")]
Title = Annotated[str, Form(description="Its caption")]


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").split() if part]


def _keys(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _done(request: Request, panel: service.Panel) -> Response:
    if wants_json(request):
        return JSONResponse(panel.to_dict())
    return RedirectResponse(_grid_url(panel), status_code=303)


@router.post("/panels", summary="Add a panel to a project's grid")
def add_panel(request: Request, ws: Annotated[Workspace, Depends(workspace)], keys: Keys = "", runs: Runs = "",
              smoothing: Smoothing = 0.0, log: Log = False, x: XAxis = "step", wide: Wide = False, title: Title = "",
              under: Annotated[str, Form(description="The project whose grid it joins")] = "") -> Response:
    spec = service.spec_from(ws, keys=_keys(keys), runs=_split(runs), smoothing=smoothing, log=log, x=x, wide=wide)
    return _done(request, service.save_panel(ws, spec, under=under.strip() or None, title=title))


@router.post("/panels/{ref}", summary="Change a panel (its earlier settings are kept)")
def change_panel(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)], keys: Keys = "",
                 runs: Runs = "", smoothing: Smoothing = 0.0, log: Log = False, x: XAxis = "step", wide: Wide = False,
                 title: Title = "") -> Response:
    service.get_panel(ws, ref)  # a 404 before a 400 for one the reader may not see
    spec = service.spec_from(ws, keys=_keys(keys), runs=_split(runs), smoothing=smoothing, log=log, x=x, wide=wide)
    return _done(request, service.save_panel(ws, spec, panel=ref, title=title))


@router.post("/panels/{ref}/move", summary="Move a panel earlier (-1) or later (1) in its grid")
def move_panel(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
               by: Annotated[int, Form(ge=-1000, le=1000, description="Places to move: -1 earlier, 1 later")]
               ) -> Response:
    grid = service.move_panel(ws, ref, by)
    if wants_json(request):
        return JSONResponse({"panels": [p.to_dict() for p in grid]})
    return RedirectResponse(_grid_url(service.get_panel(ws, ref)), status_code=303)


@router.post("/panels/{ref}/delete", summary="Remove a panel from its grid (it can be restored)")
def delete_panel(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _done(request, service.delete_panel(ws, ref))


@router.post("/panels/{ref}/restore", summary="Bring a deleted panel back to its grid")
def restore_panel(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _done(request, service.restore_panel(ws, ref))
