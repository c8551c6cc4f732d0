"""Artifacts: what a name and a version look like, and the rules a manifest keeps.

An artifact is a file or a folder a run stored under a name (``run.artifact``). Its content is a
manifest, a list of (relative path, SHA-256, size, mode) with each file a blob; a symbolic link
inside the folder is kept as a link to its target, never followed. Two stores of the same content
under one name are one version: a version's ``digest`` is the SHA-256 of its manifest's paths and
hashes. Pure rules, no I/O: capture builds manifests with them, the store and the sync door check
them, and ``save`` writes nothing outside the folder it is given.

Versions are numbered v0, v1, ... in their owner's namespace, and only the owner sees the numbers: a
number counts every version of the name, those others may not see too (a private run's), so another
reader names a version by its content instead, ``NAME@DIGEST`` (a prefix of at least 6 hex digits).
The digest is the same on every machine, where a number would be each store's own.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from upstack.errors import BadInput

__all__ = ["NAME_PATTERN", "KIND_PATTERN", "check_name", "check_kind", "parse_ref", "manifest_digest",
           "safe_relative", "link_stays_inside", "links_problem", "ArtifactVersion", "ArtifactSummary", "MOST_FILES"]

NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
KIND_PATTERN = r"[a-z][a-z0-9_-]{0,39}"
MOST_FILES = 100_000  # files in one folder artifact: a manifest is one record


def check_name(name: Any) -> str:
    """An artifact's name: 1-100 letters, digits, '.', '_' or '-' (it is typed in `NAME:v3`)."""
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise BadInput(f"artifact name {str(name)[:60]!r}: use 1 to 100 letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit")
    return name


def check_kind(kind: Any) -> str:
    if not isinstance(kind, str) or not re.fullmatch(KIND_PATTERN, kind):
        raise BadInput(f"artifact kind {str(kind)[:60]!r}: a lowercase word such as model or dataset")
    return kind


def parse_ref(ref: str) -> tuple[str, int | str | None]:
    """``NAME`` or ``NAME:latest`` (None: the latest version), ``NAME:vN`` / ``NAME:N`` (the number N,
    of the reader's own versions) or ``NAME@DIGEST`` (a lowercase hex prefix of the digest, 6 to 64
    digits: anyone's version)."""
    text = str(ref).strip()
    if "@" in text:
        name, _, digest = text.partition("@")
        check_name(name)
        digest = digest.lower()
        if not re.fullmatch(r"[0-9a-f]{6,64}", digest):
            raise BadInput(f"artifact digest {digest[:70]!r}: write NAME@ and 6 to 64 hex digits of it")
        return name, digest
    name, _, version = text.partition(":")
    check_name(name)
    if version in ("", "latest"):
        return name, None
    match = re.fullmatch(r"v?(\d{1,9})", version)
    if not match:
        raise BadInput(f"artifact version {version[:20]!r}: write NAME:v3, NAME:3, NAME:latest or NAME@DIGEST")
    return name, int(match.group(1))


def manifest_digest(files: Iterable[Mapping[str, Any]], folder: bool) -> str:
    """The version's identity: its paths and what each holds (a file's hash, a link's target)."""
    rows = sorted([str(f["path"]), f.get("sha256") or "", f.get("link") or ""] for f in files)
    text = json.dumps({"folder": folder, "files": rows}, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def safe_relative(path: Any) -> PurePosixPath:
    """A manifest's path: relative, '/'-separated, no '..', '.' or empty part, nothing a file system
    would read as something else. A manifest from a server is checked with this before ``save``."""
    if not isinstance(path, str) or not path or len(path) > 4096 or "\x00" in path or "\\" in path:
        raise BadInput(f"artifact path {str(path)[:80]!r} is not a relative path")
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        raise BadInput(f"artifact path {path[:80]!r} leaves its folder")
    return pure


def link_stays_inside(path: str, target: str) -> bool:
    """Whether a link at ``path`` (relative to the folder) pointing at ``target`` stays in the folder."""
    if not target or target.startswith("/") or "\x00" in target:
        return False
    depth = len(PurePosixPath(path).parts) - 1  # folders above the link, inside the artifact
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return False
        elif part not in ("", "."):
            depth += 1
    return True


def links_problem(files: Iterable[Mapping[str, Any]]) -> str:
    """'' if every path of a folder's manifest stays inside it once its links are made, and no path lies
    under a file of it (no file system holds that: nothing could be made of it); else why not.

    ``link_stays_inside`` reads one link's target as text: it cannot see that a part of the target, or
    a folder above a path, is itself a link of the same manifest. So a path under a link is refused
    (writing it would follow the link), and a target may name a link only as its last part (going on,
    or up with '..', from a link's place resolves wherever that link points)."""
    def key(path: str) -> str:  # as a case-insensitive file system (macOS, Windows) matches names
        return unicodedata.normalize("NFC", path).casefold()

    files = list(files)
    links = {key(str(f["path"])) for f in files if f.get("link") is not None}
    plain = {str(f["path"]) for f in files if f.get("link") is None}  # as named: Linux may hold "X" and "x/y"
    for item in files:
        parts = str(item["path"]).split("/")
        for n in range(1, len(parts)):  # a folder above a path must not be a file or a link of the manifest
            above = "/".join(parts[:n])
            if key(above) in links:
                return f"{str(item['path'])[:80]!r} lies under {above[:80]!r}, a link"
            if above in plain:
                return f"{str(item['path'])[:80]!r} lies under {above[:80]!r}, a file"
        if item.get("link") is None:
            continue
        place = parts[:-1]
        steps = [s for s in str(item["link"]).split("/") if s not in ("", ".")]
        for number, step in enumerate(steps):
            if step == "..":
                if not place:
                    return f"link {str(item['path'])[:80]!r} points outside its artifact"
                place.pop()
                continue
            place.append(step)
            if number < len(steps) - 1 and key("/".join(place)) in links:
                return f"link {str(item['path'])[:80]!r} goes through {'/'.join(place)[:80]!r}, another link"
    return ""


@dataclass
class ArtifactVersion:
    """One version as a reader sees it: which runs produced and which used it."""

    id: str
    owner: str
    name: str
    kind: str
    version: int | None  # None to anyone but its owner (see the module docstring)
    digest: str
    folder: bool
    size: int
    created_at: str
    purged_at: str | None
    files: list[dict[str, Any]] = field(default_factory=list)
    produced_by: list[dict[str, Any]] = field(default_factory=list)  # {run_id, name, at}
    used_by: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the reader names it: ``NAME:vN`` if it is theirs, else ``NAME@`` and 12 digits of its digest."""
        return f"{self.name}{self.tag}"

    @property
    def tag(self) -> str:
        return f":v{self.version}" if self.version is not None else f"@{self.digest[:12]}"

    @property
    def anchor(self) -> str:
        """Its id on the artifact's page."""
        return f"v{self.version}" if self.version is not None else f"d{self.digest[:12]}"


@dataclass
class ArtifactSummary:
    owner: str
    name: str
    kind: str
    versions: int  # those the reader may see
    latest: int | None  # the latest's number, to its owner only
    updated_at: str
    size: int
