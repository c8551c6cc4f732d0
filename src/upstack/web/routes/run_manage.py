"""A run managed from its page (issue 20): rename, tag, note, move, delete, restore. Each form posts
here (CSRF-checked, as every form is) and the service applies its rules: a run is its author's to
change, a move needs the right to file where it lands, and a run the person may not see answers 404.
The run's history is shown on its page (routes/runs.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.domain.run import RunInfo
from upstack.services import run_manage
from upstack.web.pages import workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


def _answer(request: Request, run: RunInfo) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(run.to_dict())
    return RedirectResponse(f"/runs/{run.short}#manage", status_code=303)


@router.post("/runs/{ref}/rename", summary="Rename one of your runs (its result entry's title follows)")
def rename(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
           name: Annotated[str, Form(min_length=1, max_length=run_manage.NAME_CHARS)]) -> Response:
    return _answer(request, run_manage.rename(ws, ref, name))


@router.post("/runs/{ref}/tag", summary="Add (+tag) and take off (-tag) tags of one of your runs")
def tag(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
        tags: Annotated[str, Form(min_length=1, max_length=2000, description="+tag -tag ...")]) -> Response:
    return _answer(request, run_manage.retag(ws, ref, tags.split()))


@router.post("/runs/{ref}/note", summary="Add a note to one of your runs")
def note(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
         text: Annotated[str, Form(min_length=1, max_length=run_manage.NOTE_CHARS)]) -> Response:
    return _answer(request, run_manage.add_note(ws, ref, text))


@router.post("/runs/{ref}/move", summary="File one of your runs under another node (one you may file under)")
def move(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
         node: Annotated[str, Form(min_length=1, max_length=200, description="A node's id, or @title")]) -> Response:
    return _answer(request, run_manage.move(ws, ref, node))


@router.post("/runs/{ref}/delete", summary="Take away one of your runs and its result entry (restorable)")
def delete(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _answer(request, run_manage.delete(ws, ref))


@router.post("/runs/{ref}/restore", summary="Bring back one of your deleted runs and its result entry")
def restore(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _answer(request, run_manage.restore(ws, ref))
