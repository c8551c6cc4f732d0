"""Artifacts: every name the reader may see, and one artifact's versions with the runs that produced and
used each (lineage both ways). What a reader may see follows the runs that produced it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from upstack.domain.artifact import ArtifactVersion
from upstack.ids import short_id
from upstack.services import artifacts as artifact_service
from upstack.timeutil import local_display
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router", "version_row"]

router = APIRouter()


@page(router, "/artifacts", name="artifacts", summary="Artifacts runs stored, the latest first")
def artifacts_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    found = artifact_service.list_artifacts(ws)
    return Page("artifacts.html", {"artifacts": [{**asdict(a), "shown": {"updated": local_display(a.updated_at)}}
                                                 for a in found]})


def version_row(ws: Workspace, version: ArtifactVersion) -> dict[str, Any]:
    """A version as the pages show it: its label, files and state, and its runs by short id."""
    def runs(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**link, "short": short_id(link["run_id"])} for link in links]

    return {**asdict(version), "label": version.label, "anchor": version.anchor,
            "produced_by": runs(version.produced_by), "used_by": runs(version.used_by),
            "bytes_here": not version.purged_at and not artifact_service.missing_bytes(ws, version),
            "shown": {"created": local_display(version.created_at)}}


@page(router, "/artifacts/{name}", name="artifact",
      summary="One artifact: its versions, the runs that produced each and the runs that used it")
def artifact_page(request: Request, name: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    found = artifact_service.show(ws, name)
    return Page("artifact.html", {"name": found[0].name, "versions": [version_row(ws, v) for v in found]})
