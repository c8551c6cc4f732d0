"""A folder of notes as Obsidian sees it: its notes, and its files found by path or by name."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["NOTE_SUFFIXES", "VaultFolder", "read_regular", "linked_part"]

NOTE_SUFFIXES = (".md", ".markdown")


class VaultFolder:
    """The files of a folder, found the way Obsidian finds them: by path or by name.

    A symbolic link to a note or a folder is never followed. One that leads outside would
    import whatever it points at (a file anywhere on this machine); one that stays inside
    points at a note or folder that is imported under its own path already, so following
    it would only import the same notes twice. Embedded files may be links, but only to
    files inside the folder (see ``inside``).
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.notes: list[Path] = []
        self.by_name: dict[str, list[Path]] = {}
        self.links_out: list[str] = []  # vault-relative names of skipped links, folders with "/"
        self.links_in: list[str] = []
        self.not_files: list[str] = []  # FIFOs, sockets, devices: reading one could wait for ever
        self._walk(self.root)

    def _walk(self, folder: Path) -> None:
        """Files first, then each folder in name order (as ``os.walk`` goes), by ``scandir``: what
        each name is comes with it, no ``stat`` per file."""
        try:
            with os.scandir(folder) as found:
                items = sorted(found, key=lambda item: item.name)
        except OSError:
            return
        subfolders = []
        for item in items:
            if item.name.startswith("."):
                continue
            path = Path(item.path)
            try:
                is_dir = item.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not self._skip_link(path, "/"):
                    subfolders.append(path)
            elif item.is_symlink() or item.is_file(follow_symlinks=False):
                self.by_name.setdefault(item.name.casefold(), []).append(path)
                if path.suffix.lower() in NOTE_SUFFIXES and not self._skip_link(path):
                    self.notes.append(path)
            else:
                self.not_files.append(self.rel(path))
        for sub in subfolders:
            self._walk(sub)

    def _skip_link(self, path: Path, suffix: str = "") -> bool:
        """Whether ``path`` is a symbolic link (then it is noted as skipped)."""
        if not path.is_symlink():
            return False
        leads_out = not self.inside(path.resolve())
        (self.links_out if leads_out else self.links_in).append(self.rel(path) + suffix)
        return True

    def link_warnings(self) -> list[str]:
        """One line for each kind of skipped link, naming them."""
        lines = []
        if self.links_out:
            lines.append(f"skipped {_links(self.links_out)} leading outside the folder "
                         f"(never followed): {', '.join(sorted(self.links_out))}")
        if self.links_in:
            lines.append(f"skipped {_links(self.links_in)} to notes inside the folder (imported "
                         f"under their own paths): {', '.join(sorted(self.links_in))}")
        if self.not_files:
            lines.append(f"skipped {len(self.not_files)} name{'s' if len(self.not_files) != 1 else ''} that "
                         f"{'are' if len(self.not_files) != 1 else 'is'} not a file (a FIFO, socket or device): "
                         f"{', '.join(self.not_files)}")
        return lines

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def find(self, target: str, near: Path) -> Path | None:
        """A file for an embed: relative to the note, to the vault, then by name."""
        for candidate in (near.parent / target, self.root / target.lstrip("/")):
            if candidate.is_file():
                return candidate.resolve()
        if "/" in target:
            return None
        found = self.by_name.get(target.casefold(), [])
        best = min(found, key=lambda p: (p.parent != near.parent, len(p.parts), p), default=None)
        return best.resolve() if best else None

    def inside(self, path: Path) -> bool:
        return path.is_relative_to(self.root)


def read_regular(path: Path, limit: int | None = None) -> bytes | None:
    """The bytes of a regular file (following a link), or None when it is larger than ``limit``.

    Anything else raises OSError: opening a FIFO for reading waits for a writer, for ever, so it
    is opened without waiting and refused.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device)", str(path))
        if limit is not None and info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def linked_part(root: Path, rel: str) -> str | None:
    """The first folder on the way from ``root`` to ``rel`` that is a symbolic link, if any: a write
    through it would land outside the folder, or somewhere the folder's walk does not read."""
    here = root
    for part in rel.split("/")[:-1]:
        here = here / part
        if here.is_symlink():
            return here.relative_to(root).as_posix()
    return None


def _links(names: list[str]) -> str:
    return f"{len(names)} symbolic link{'s' if len(names) != 1 else ''}"
