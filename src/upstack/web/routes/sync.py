"""The API `upstack sync` talks to (signed in with an API token): who am I, what is here,
push records, pull records, the files they name, and runs logging to the server."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import Response

from upstack.domain.access import Audience
from upstack.errors import BadInput
from upstack.services import quota, sync_door
from upstack.web.pages import signed_in, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@router.get("/api/me.json", summary="Who this token (or session) signs in as, and their roles on the nodes they see")
def me(request: Request, who: Annotated[Audience, Depends(signed_in)]) -> dict[str, Any]:
    user = request.state.user
    return {"login": user.login, "name": user.name, "is_admin": user.is_admin,
            "token_scope": getattr(request.state, "token_scope", None), **sync_door.who(who)}


@router.get("/api/sync/manifest.json", summary="What the server holds that you may see (entries' revisions and "
            "files, nodes, comments), your own stars and path records, and your roles")
def manifest(ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Audience, Depends(signed_in)]) -> Any:
    return sync_door.manifest(ws, who)


@router.post("/api/sync/push", summary="Apply records from your workspace (each checked against your roles)")
def push(ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Audience, Depends(signed_in)],
         records: Annotated[list[dict[str, Any]], Body(embed=True, max_length=1000)]) -> Any:
    return sync_door.accept(ws, records, who)


@router.post("/api/sync/pull", summary="Records that rebuild entries and nodes you may see, "
             "your own stars and path, and what is said of predictions and takes you may see")
def pull(ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Audience, Depends(signed_in)],
         entries: Annotated[list[str], Body(max_length=1000)],
         nodes: Annotated[list[str], Body()] = [],  # noqa: B006
         have: Annotated[dict[str, Any], Body()] = {},  # noqa: B006
         node_events: Annotated[list[str], Body()] = [],  # noqa: B006
         comments: Annotated[list[str], Body(max_length=5000)] = [],  # noqa: B006
         stars: Annotated[list[str], Body(max_length=5000)] = [],  # noqa: B006
         path: Annotated[list[str], Body(max_length=5000)] = [],  # noqa: B006
         judgment: Annotated[list[str], Body(max_length=5000)] = []) -> Any:  # noqa: B006
    return {"records": sync_door.server_records(ws, entries, nodes, have, node_events, comments, stars, path,
                                                judgment)}


@router.get("/api/sync/runs.json", summary="The runs you may see: status, items, summary and points per metric")
def run_states(ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Audience, Depends(signed_in)]) -> Any:
    return sync_door.run_states(ws)


@router.post("/api/runs/{run_id}/push", summary="Log to one of your runs: its records, and metric points by index")
def push_run(run_id: str, ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Audience, Depends(signed_in)],
             records: Annotated[list[dict[str, Any]], Body(max_length=1000)] = [],  # noqa: B006
             points: Annotated[dict[str, Any], Body()] = {}) -> Any:  # noqa: B006
    from upstack.services.runsync import accept_run

    return accept_run(ws, _run_id(run_id), records, points, who)


@router.post("/api/runs/{run_id}/pull", summary="A run you may see: its records, and its points from where you are")
def pull_run(run_id: str, ws: Annotated[Workspace, Depends(workspace)], who: Annotated[Audience, Depends(signed_in)],
             have: Annotated[dict[str, Any], Body(embed=True)] = {}) -> Any:  # noqa: B006
    from upstack.services.runsync import give_run

    return give_run(ws, _run_id(run_id), have)


def _run_id(text: str) -> str:
    from upstack.ids import looks_like_full_id

    if not looks_like_full_id(text):
        raise BadInput(f"{text!r} is not a run id")
    return text.upper()


@router.put("/api/blobs/{sha256}", summary="Upload a file by its SHA-256 (before the record that names it)",
            status_code=204, response_class=Response)
async def put_blob(request: Request, sha256: str, ws: Annotated[Workspace, Depends(workspace)],
                   who: Annotated[Audience, Depends(signed_in)]) -> Response:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise BadInput("a file is named by its SHA-256: 64 lowercase hex digits")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > request.app.state.upload_limit:
            raise BadInput(f"the file is larger than {request.app.state.upload_limit // 1_000_000} MB")
    quota.check_upload(ws, who, sha256, len(data))
    sync_door.write_blob(ws, sha256, bytes(data), who)
    return Response(status_code=204)


@router.get("/api/blobs/{sha256}", summary="Download a file attached to an entry you may see",
            response_class=Response)
def get_blob(sha256: str, ws: Annotated[Workspace, Depends(workspace)],
             who: Annotated[Audience, Depends(signed_in)]) -> Response:
    return Response(sync_door.read_blob(ws, sha256), media_type="application/octet-stream")

