"""Sharing a node (a project or an agenda) with collaborators, and comments on entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.domain.access import ROLES, Audience
from upstack.services import accounts
from upstack.services.tree import get_node
from upstack.web.app import Page, page, signed_in, workspace
from upstack.web.auth import client_address
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/tree/{ref}/sharing", name="sharing", summary="Who holds a role on a node; its owners share it")
def sharing_page(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
                 me: Annotated[Audience, Depends(signed_in)]) -> Page:
    node = get_node(ws, ref)
    return Page("sharing.html", {"node": node, "shares": accounts.shares_of(ws, node.id),
                                 "may_share": me.has(node.id, "owner"), "roles": list(ROLES)})


def _done(request: Request, ref: str, data: dict[str, object]) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(data)
    return RedirectResponse(f"/tree/{ref}/sharing", status_code=303)


@router.post("/tree/{ref}/share", summary="Share a node and everything below it with a user, in a role")
def share(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
          me: Annotated[Audience, Depends(signed_in)], login: Annotated[str, Form(min_length=1)],
          role: Annotated[str, Form()] = "viewer") -> Response:
    return _done(request, ref, accounts.share(ws, ref, login, role, by=me, address=client_address(request)))


@router.post("/tree/{ref}/unshare", summary="Stop sharing a node with a user")
def unshare(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
            me: Annotated[Audience, Depends(signed_in)], login: Annotated[str, Form(min_length=1)]) -> Response:
    accounts.unshare(ws, ref, login, by=me, address=client_address(request))
    return _done(request, ref, {"login": login, "role": None})


@router.post("/e/{ref}/comments", summary="Comment on an entry (its author is notified)")
def comment(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)],
            me: Annotated[Audience, Depends(signed_in)], body: Annotated[str, Form(min_length=1)]) -> Response:
    added = accounts.add_comment(ws, ref, body, by=me)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(added)
    return RedirectResponse(f"/e/{ref}#comments", status_code=303)
