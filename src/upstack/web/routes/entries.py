"""One entry: rendered, with its why-chain, revisions, learnings and files; edits and downloads."""

from __future__ import annotations

import difflib
import html
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from upstack.domain import access
from upstack.domain.entry import figures
from upstack.domain.files import attachment_name
from upstack.errors import BadInput
from upstack.services import capture, comments, curate, recall, stars, tree
from upstack.web import prediction_view, take_view
from upstack.web.markdown import images_shown, render
from upstack.web.pages import Page, charged, page, workspace
from upstack.workspace import Workspace

router = APIRouter()


@page(router, "/e/{ref}", name="entry", summary="One entry with its revisions, why-chain and learnings")
def entry_page(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    entry, revisions = recall.history(ws, ref)
    trace = tree.trace_why(ws, entry.id)
    diffs = []
    for older, newer in zip(revisions, revisions[1:], strict=False):
        diffs.append({"number": newer.number, "created_at": newer.created_at, "diff": "\n".join(
            difflib.unified_diff((older.title + "\n\n" + older.body).splitlines(),
                                 (newer.title + "\n\n" + newer.body).splitlines(),
                                 f"revision {older.number}", f"revision {newer.number}", lineterm=""))})
    audience = access.current(team=ws.team)
    body_html = render(entry.body, entry.attachments, entry.links)
    return Page("entry.html", {
        "entry": entry, "body_html": body_html, "chain": trace.chain,
        # The pictures attached but not shown in the body (a note made with --attach), under it.
        "figures": figures(entry.attachments, shown=images_shown(body_html)),
        "reaches_agenda": trace.reaches_agenda, "asks_why": tree.asks_why(ws, trace.chain),
        "revisions": revisions, "diffs": diffs,
        "edit_text": curate.edit_text(entry),
        # What the reader may do here (everything, on a laptop); comments are written on a team server,
        # and shown wherever they are (a laptop's came with `upstack sync`, or `upstack comment`).
        "may_edit": audience is None or audience.may_edit_entry(
            author_id=entry.author_id, private=entry.private, node_id=entry.node_id),
        "may_comment": audience is not None and audience.may_comment(
            author_id=entry.author_id, private=entry.private, node_id=entry.node_id),
        "comments": comments.for_entry(ws, entry),
        # A prediction's forecasts and resolutions; an idea's or result's predictions (issue 19).
        **prediction_view.entry_context(ws, entry),
        # A take's history and, for its maker, the forms that move it (issue 19).
        **take_view.entry_context(ws, entry)})


@router.post("/e/{ref}/edit", summary="Save a new revision of an entry")
def edit_entry(ref: str, ws: Annotated[Workspace, Depends(workspace)],
               text: Annotated[str, Form(min_length=1)]) -> RedirectResponse:
    edited = curate.edit(ws, ref, text)
    return RedirectResponse(f"/e/{edited.short if edited else ref}", status_code=303)


@router.post("/e/{ref}/star", summary="Star an entry (only you see your stars)")
def star_entry(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _starred(request, ws, ref, True)


@router.post("/e/{ref}/unstar", summary="Take your star off an entry")
def unstar_entry(request: Request, ref: str, ws: Annotated[Workspace, Depends(workspace)]) -> Response:
    return _starred(request, ws, ref, False)


def _starred(request: Request, ws: Workspace, ref: str, starred: bool) -> Response:
    entry, _ = stars.set_star(ws, ref, starred)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"id": entry.id, "starred": entry.starred})
    return RedirectResponse(f"/e/{entry.short}", status_code=303)


@router.post("/e/{ref}/attach", summary="Attach files to an entry (a pasted or dropped image, say)")
async def attach_files(ref: str, request: Request, ws: Annotated[Workspace, Depends(workspace)],
                       file: Annotated[list[UploadFile], File(min_length=1)]) -> Response:
    """Files are checked for size while they stream to disk; names lose any folder part."""
    with tempfile.TemporaryDirectory(prefix="upstack-upload-") as scratch:
        paths = []
        for number, upload in enumerate(file):
            name = attachment_name(upload.filename or f"pasted-{number}.png")
            target = Path(scratch) / f"{number}" / name
            target.parent.mkdir()
            size = 0
            with open(target, "wb") as out:
                while chunk := await upload.read(1 << 20):
                    size += len(chunk)
                    if size > request.app.state.upload_limit:
                        raise BadInput(f"{name} is larger than {request.app.state.upload_limit // 1_000_000} MB; "
                                       "attach it from the command line instead (upstack attach)")
                    out.write(chunk)
            paths.append(target)
        added = capture.attach(ws, ref, list(paths))
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"attachments": [a.to_dict() for a in added]})
    return RedirectResponse(f"/e/{ref}", status_code=303)


@router.post("/preview", summary="Markdown rendered as an entry would show it (the editor's preview)",
             response_class=HTMLResponse)
def preview(_work: Annotated[None, Depends(charged)], text: Annotated[str, Form()] = "") -> HTMLResponse:
    from upstack.domain.text import split_title

    title, body = split_title(text) if text.strip() else ("", "")
    return HTMLResponse(f"<h1>{html.escape(title)}</h1>" + render(body))


@router.get("/a/{attachment_id}", response_class=Response,
            summary="Download an attached file (checked against its hash)")
def attachment(attachment_id: str, ws: Annotated[Workspace, Depends(workspace)],
               download: bool = False) -> Response:
    found, data = recall.attachment_file(ws, attachment_id)
    disposition = "attachment" if download or not _inline(found.media_type) else "inline"
    safe_name = attachment_name(found.filename)
    return Response(data, media_type=found.media_type if _inline(found.media_type) else "application/octet-stream",
                    headers={"Content-Disposition": f'{disposition}; filename="{safe_name}"',
                             "X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})


def _inline(media_type: str) -> bool:
    """Images (SVG too, under a sandboxing CSP) show in the page; anything else downloads."""
    return media_type.startswith("image/")
