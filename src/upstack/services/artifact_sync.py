"""Artifacts on a team server: `upstack sync` always sends a version's description (its ``run.artifact``
record travels with its run), and its files when the version is at most ``sync_artifact_mb``;
`upstack artifact send NAME:vN` sends a larger one's files when asked. Files go up as every file does
(``PUT /api/blobs/SHA``, which leaves the uploader's receipt), before the records that name them."""

from __future__ import annotations

from typing import Any

from upstack.domain.artifact import ArtifactVersion
from upstack.errors import BadInput
from upstack.services import artifacts
from upstack.workspace import Workspace

__all__ = ["send_bytes", "send_version"]


def _upload(ws: Workspace, remote: Any, version: ArtifactVersion, uploaded: set[str]) -> int:
    sent = 0
    for item in version.files:
        sha = item["sha256"]
        if not sha or sha in uploaded or not ws.blobs.path(sha).exists():
            continue
        remote.call("PUT", f"/api/blobs/{sha}", ws.blobs.read(sha), content_type="application/octet-stream")
        uploaded.add(sha)
        sent += 1
    return sent


def send_bytes(ws: Workspace, remote: Any, run_id: str, uploaded: set[str]) -> int:
    """Upload the files of the versions run ``run_id`` produced that are at most the cap (and not purged);
    how many files were sent."""
    cap = ws.settings.sync_artifact_mb * 1_000_000
    produced = artifacts.for_run(ws, run_id)["produced"]
    return sum(_upload(ws, remote, v, uploaded) for v in produced if not v.purged_at and v.size <= cap)


def send_version(ws: Workspace, ref: str) -> tuple[ArtifactVersion, int]:
    """Upload one version's files whatever their size (its description goes with its run at the next sync)."""
    from upstack.services.remote import remote

    version = artifacts.find(ws, ref)
    if version.purged_at:
        raise BadInput(f"{version.label} was purged: its files are gone")
    missing = artifacts.missing_bytes(ws, version)
    if missing:
        raise BadInput(f"{version.label}: {len(missing)} of its files are not in this workspace")
    return version, _upload(ws, remote(ws), version, set())
