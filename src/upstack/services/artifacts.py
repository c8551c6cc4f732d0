"""Artifacts: list them, show a version's lineage, get one back, purge one's bytes, and the look-up a
run's ``use_artifact`` makes.

Getting one back (``save``, ``use_artifact``'s cached copy) streams each file from the blob store in
chunks, checks it against its hash, and puts the whole file or folder in place at once (a temporary
name beside it, renamed): an interrupted save leaves nothing half-written. A manifest's paths are
checked again here (they may come from a team server): nothing is written outside the destination, and
a link is made only when its target stays inside it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from upstack.domain.artifact import (
    ArtifactSummary,
    ArtifactVersion,
    link_stays_inside,
    links_problem,
    parse_ref,
    safe_relative,
)
from upstack.errors import BadInput, NotFound
from upstack.files import atomic_dir, atomic_path, make_private_dirs
from upstack.store import artifacts as store_artifacts
from upstack.store import audit as store_audit
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["list_artifacts", "show", "find", "save", "purgeable", "purge", "for_run", "resolver", "missing_bytes"]

_CHUNK = 1 << 20


def list_artifacts(ws: Workspace) -> list[ArtifactSummary]:
    """Every artifact name the reader may see, the latest first."""
    return store_artifacts.summaries(ws.store().db)


def show(ws: Workspace, name: str) -> list[ArtifactVersion]:
    """Every version of ``name`` the reader may see, with the runs that produced and used each."""
    name, _ = parse_ref(name)
    found = store_artifacts.versions(ws.store().db, name)
    if not found:
        raise NotFound(f"no artifact named {name!r}")
    return found


def find(ws: Workspace, ref: str) -> ArtifactVersion:
    """The version ``NAME[:vN|:latest]`` or ``NAME@DIGEST`` names, as the reader may see it."""
    name, selector = parse_ref(ref)
    return store_artifacts.find(ws.store().db, name, selector)


def for_run(ws: Workspace, run_id: str) -> dict[str, list[ArtifactVersion]]:
    return store_artifacts.for_run(ws.store().db, run_id)


def missing_bytes(ws: Workspace, version: ArtifactVersion) -> list[str]:
    """The files of a version whose bytes are not in this workspace (synced as a description only). On a
    team server a file counts only when the version's owner uploaded it: a description naming the hash of
    someone else's file must not learn that the file is there."""
    db = ws.store().db

    def here(sha: str) -> bool:
        if not ws.blobs.path(sha).exists():
            return False
        return not (ws.team and version.owner) or store_audit.has_upload(db, version.owner, sha)

    return [f["path"] for f in version.files if f["sha256"] and not here(f["sha256"])]


def _readable(ws: Workspace, version: ArtifactVersion) -> None:
    if version.purged_at:
        raise BadInput(f"{version.label} was purged on {version.purged_at[:10]}: its files are gone "
                       "(its description and lineage are kept)")
    missing = missing_bytes(ws, version)
    if missing:
        raise BadInput(f"{version.label}: {len(missing)} of its files are not in this workspace (only its "
                       "description was synced here); get them where it was produced")


def save(ws: Workspace, ref: str, dest: Path | None) -> tuple[ArtifactVersion, Path]:
    """Write a version's file or folder to ``dest`` (default: its own name here), never overwriting."""
    version = find(ws, ref)
    _readable(ws, version)
    default = safe_relative(version.files[0]["path"]).name if not version.folder else version.name
    target = Path(dest) if dest else Path(default)
    if target.is_dir():
        target = target / default
    if os.path.lexists(target):
        raise BadInput(f"{target} already exists; choose another destination")
    try:
        _materialise(ws, version, target)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from None
    return version, target


def _materialise(ws: Workspace, version: ArtifactVersion, target: Path) -> None:
    """Put the version at ``target`` whole or not at all."""
    if not version.folder:
        with atomic_path(target, overwrite=False) as tmp:
            _copy_blob(ws, version.files[0], tmp)
        return
    wrong = links_problem(version.files)  # a manifest from elsewhere (a team server): nothing made outside
    if wrong:
        raise BadInput(f"{version.label}: {wrong}; not made")
    with atomic_dir(target) as tmp:  # a folder at target: refused (never merged into)
        for item in version.files:
            relative = safe_relative(item["path"])
            path = tmp.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            if item["link"] is not None:
                if not link_stays_inside(item["path"], item["link"]):
                    raise BadInput(f"{version.label}: link {item['path']!r} points outside the artifact; not made")
                os.symlink(item["link"], path)
            else:
                with open(path, "xb") as out:
                    _copy_blob(ws, item, out)
                os.chmod(path, item["mode"] & 0o777)


def _copy_blob(ws: Workspace, item: dict[str, Any], out: Any) -> None:
    """Copy one file's blob in chunks, checking it against its hash as it goes."""
    digest = hashlib.sha256()
    sha = str(item["sha256"])
    with contextlib.ExitStack() as stack:
        if isinstance(out, Path):
            out = stack.enter_context(open(out, "wb"))
        try:
            source = stack.enter_context(open(ws.blobs.path(sha), "rb"))
        except FileNotFoundError:
            raise BadInput(f"file {item['path']} ({sha[:12]}) is missing from the workspace's blobs") from None
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != sha:
        raise BadInput(f"file {item['path']} ({sha[:12]}) is corrupted: its content no longer matches its hash")


def purgeable(ws: Workspace, ref: str) -> ArtifactVersion:
    """The version ``ref`` names, refused if its bytes are gone already (asked before asking the user)."""
    version = find(ws, ref)
    if version.purged_at:
        raise BadInput(f"{version.label} was already purged")
    return version


def purge(ws: Workspace, ref: str) -> tuple[ArtifactVersion, list[str]]:
    """Free a version's bytes for good (those no other version or attachment holds); its row stays as a
    tombstone that says when. Returns the version and the files deleted."""
    version = purgeable(ws, ref)
    store = ws.store()
    with store.blobs.removing():  # no capture is between storing a file and recording it (store/blobs.py)
        ws.ingest()
        with store.lock():
            shas = store_artifacts.purge_version(store.db, version.id, now_iso())
        removed = store.delete_unused_blobs(set(shas))
    return version, removed


def resolver(ws: Workspace) -> Callable[[str], tuple[dict[str, Any], Path]]:
    """What a run's ``use_artifact`` calls: the version's ``run.use_artifact`` data, and a local copy of it
    (in the workspace's cache, made once per content) for the script to load."""

    def resolve(ref: str) -> tuple[dict[str, Any], Path]:
        ws.ingest()  # what this and other runs stored since
        version = find(ws, ref)
        _readable(ws, version)
        if not version.produced_by:
            raise NotFound(f"no artifact {ref!r} that you may see")
        cache = ws.home / "cache" / "artifacts"
        make_private_dirs(cache)
        local = cache / version.digest
        if not version.folder:  # a file keeps its name (a loader may go by its suffix), in a folder of its own
            make_private_dirs(local)
            local = local / safe_relative(version.files[0]["path"]).name
        if not local.exists():
            try:
                _materialise(ws, version, local)
            except OSError as exc:  # FileExistsError: made meanwhile by another run (the same content)
                if not local.exists():
                    raise BadInput(f"cannot copy {version.label} to {cache}: {exc.strerror or exc}") from None
        data = {"name": version.name, "digest": version.digest, "producer": version.produced_by[0]["run_id"]}
        return data, local

    return resolve
