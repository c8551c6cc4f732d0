"""Artifacts on a team server: `upstack sync` always sends a version's description (its ``run.artifact``
record travels with its run), and its files when the version is at most ``sync_artifact_mb``;
`upstack artifact send NAME:vN` sends a larger one's files when asked. Files go up as every file does
(``PUT /api/blobs/SHA``, which leaves the uploader's receipt), before the records that name them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from upstack.domain.artifact import ArtifactVersion
from upstack.errors import BadInput, UpstackError
from upstack.services import artifacts
from upstack.workspace import Workspace

__all__ = ["artifact_cap", "send_artifact_files", "send_version"]


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


def artifact_cap(ws: Workspace) -> float:
    """The largest artifact version, in bytes, whose files sync sends unasked."""
    return float(ws.settings.sync_artifact_mb) * 1_000_000


def send_artifact_files(remote: Any, records: list[Any], read_blob: Callable[[str], bytes], uploaded: set[str],
                        cap: float, *, timeout: float = 120) -> int:
    """Upload the files of the ``run.artifact`` records among a run's records whose version is at most
    ``cap`` bytes (a file not here, as after a purge, is left out); how many were sent."""
    sent = 0
    for record in records:
        if record.op != "run.artifact" or sum(int(f.get("size") or 0) for f in record.data["files"]) > cap:
            continue
        for sha in sorted({str(f["sha256"]) for f in record.data["files"] if f.get("sha256")} - uploaded):
            try:
                data = read_blob(sha)
            except (OSError, UpstackError):
                continue  # purged, or a description synced here without its files
            remote.call("PUT", f"/api/blobs/{sha}", data, content_type="application/octet-stream", timeout=timeout)
            uploaded.add(sha)
            sent += 1
    return sent


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
