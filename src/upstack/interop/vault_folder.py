"""A folder of notes as Obsidian sees it: its notes, and its files found by path or by name."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["NOTE_SUFFIXES", "VaultFolder"]

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
        for folder, subfolders, files in os.walk(self.root):
            subfolders[:] = [d for d in sorted(subfolders) if not d.startswith(".")
                             and not self._skip_link(Path(folder) / d, "/")]
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = Path(folder) / name
                self.by_name.setdefault(name.casefold(), []).append(path)
                if path.suffix.lower() in NOTE_SUFFIXES and not self._skip_link(path):
                    self.notes.append(path)

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


def _links(names: list[str]) -> str:
    return f"{len(names)} symbolic link{'s' if len(names) != 1 else ''}"
