"""A file or a folder made into an artifact's manifest, each file stored with the run by its hash.

Files are read in chunks as they are copied (``files.store_blob``): a 20 GB checkpoint never sits in
memory. A folder is walked without following a symbolic link: a link whose target stays inside the
folder is kept as a link, one pointing outside it refuses the artifact (upstack never copies what a
link points at outside the folder you named), and anything that is neither file, folder nor link (a
pipe, a socket, a device) refuses it too, as reading one could block or never end.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from upstack.domain.artifact import MOST_FILES, link_stays_inside, links_problem
from upstack.domain.text import unstorable
from upstack.errors import BadInput

__all__ = ["build_manifest"]

Store = Callable[[Path], tuple[str, int]]  # a file's path -> its (sha256, size), stored


def build_manifest(path: Path, store: Store) -> tuple[list[dict[str, Any]], bool]:
    """The manifest of a file or a folder, its files stored with ``store``: (files, is a folder)."""
    try:
        info = path.stat()  # the path named: followed if it is a link, as the person pointed at it
    except OSError as exc:
        raise BadInput(f"cannot store artifact {path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(info.st_mode):
        sha, size = store(path)
        return [{"path": path.name, "sha256": sha, "size": size, "mode": stat.S_IMODE(info.st_mode)}], False
    if not stat.S_ISDIR(info.st_mode):
        raise BadInput(f"cannot store artifact {path}: it is neither a file nor a folder")
    files: list[dict[str, Any]] = []
    _walk(path, "", store, files)
    wrong = links_problem(files)  # a link whose target goes through another link may end up outside
    if wrong:
        raise BadInput(f"cannot store artifact {path}: {wrong}; upstack never follows it: point the link "
                       "straight at what it means, inside the folder")
    return sorted(files, key=lambda f: str(f["path"])), True


def _walk(folder: Path, prefix: str, store: Store, files: list[dict[str, Any]]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise BadInput(f"cannot read {folder}: {exc.strerror or exc}") from None
    for entry in entries:
        relative = prefix + entry.name
        if unstorable(relative) or "\\" in relative:
            raise BadInput(f"artifact folder holds a file whose name upstack cannot keep ({relative!r}): rename it")
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(entry.path)
            if not link_stays_inside(relative, target):
                raise BadInput(f"artifact folder holds {relative!r}, a symbolic link to {target!r} outside it; "
                               "upstack never follows it: copy the file in, or point the link inside the folder")
            files.append({"path": relative, "link": target, "size": 0, "mode": 0o777})
        elif stat.S_ISDIR(info.st_mode):
            _walk(Path(entry.path), relative + "/", store, files)
        elif stat.S_ISREG(info.st_mode):
            sha, size = store(Path(entry.path))
            files.append({"path": relative, "sha256": sha, "size": size, "mode": stat.S_IMODE(info.st_mode)})
        else:
            raise BadInput(f"artifact folder holds {relative!r}, which is not a file, a folder or a link")
        if len(files) > MOST_FILES:
            raise BadInput(f"an artifact holds at most {MOST_FILES:,} files: store an archive of {folder} instead")
