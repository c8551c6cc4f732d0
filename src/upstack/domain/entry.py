"""The log's plain types, as the services hand them to interfaces."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.ids import short_id

__all__ = ["NOTE_META", "other_names", "Attachment", "LinkRef", "Entry", "Revision", "SearchHit", "OUTCOMES",
           "FIGURE_TYPES", "figures"]

OUTCOMES = ("as-expected", "surprise", "failed")  # how a result came out
# Images every browser shows in an <img> (where an SVG runs no script: it is a picture there).
FIGURE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})


# The part of an entry's meta that belongs to its text, kept with each revision: its aliases, and for a
# note from a Markdown vault its file (path, front matter, where its files were): interop/notes.py.
NOTE_META = ("aliases", "markdown")


def other_names(meta: dict[str, Any]) -> list[str]:
    """The names besides its title a ``[[link]]`` finds an entry by: its aliases, and for a note from a
    vault its file's path and name without ``.md`` (``[[Projects/RMU]]``, ``[[RMU]]``).

    >>> other_names({"aliases": ["RMU"], "markdown": {"path": "Projects/Unlearning.md"}})
    ['RMU', 'Projects/Unlearning', 'Unlearning']
    """
    names = [str(a) for a in meta.get("aliases") or [] if isinstance(a, str) and a.strip()]
    note = meta.get("markdown")
    path = note.get("path") if isinstance(note, dict) else None
    if isinstance(path, str) and path:
        stem = path.rsplit(".", 1)[0] if path.lower().endswith((".md", ".markdown")) else path
        names += [stem, stem.rsplit("/", 1)[-1]]
    return list(dict.fromkeys(names))


@dataclass
class Attachment:
    id: str
    entry_id: str
    sha256: str | None
    filename: str
    media_type: str
    size: int
    created_at: str
    purged_at: str | None = None

    @property
    def short(self) -> str:
        return short_id(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {"short": self.short, **asdict(self)}


def figures(attachments: Iterable[Attachment], shown: Collection[str] = ()) -> list[Attachment]:
    """The attached pictures, each once: a run saves a figure as PNG and SVG, and the PNG is shown.

    ``shown``: ids of attachments already on the page (a body's ``![..](upstack:ID)``); a picture
    shown there, in either of its forms, is left out. A purged file (no bytes left) and a file no
    browser draws (a CSV, a TIFF) are not pictures.
    """
    def stem(attachment: Attachment) -> str:
        return attachment.filename.rsplit(".", 1)[0]

    images = [a for a in attachments if a.sha256 and a.media_type in FIGURE_TYPES]
    pngs = {stem(a) for a in images if a.media_type == "image/png"}
    done = {stem(a) for a in images if a.id in shown}
    return [a for a in images if stem(a) not in done
            and not (a.media_type == "image/svg+xml" and stem(a) in pngs)]


@dataclass
class LinkRef:
    target: str
    entry_id: str | None
    title: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "id": self.entry_id,
                "short": short_id(self.entry_id) if self.entry_id else None, "title": self.title}


@dataclass
class Entry:
    id: str
    kind: str
    title: str
    body: str
    tags: list[str]
    project: str | None
    node_id: str | None
    private: bool
    starred: bool
    occurred_at: str
    created_at: str
    updated_at: str
    deleted_at: str | None
    purged_at: str | None
    revision_id: str
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. a result's expected/happened
    attachments: list[Attachment] = field(default_factory=list)
    author_id: str | None = None  # a team server's user; None: the workspace's own user
    links: list[LinkRef] = field(default_factory=list)
    backlinks: list[LinkRef] = field(default_factory=list)

    @property
    def short(self) -> str:
        return short_id(self.id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["short"] = self.short
        data["attachments"] = [a.to_dict() for a in self.attachments]
        data["links"] = [link.to_dict() for link in self.links]
        data["backlinks"] = [link.to_dict() for link in self.backlinks]
        return data


@dataclass
class Revision:
    id: str
    entry_id: str
    parent_id: str | None
    number: int
    kind: str
    title: str
    body: str
    tags: list[str]
    workspace_id: str
    created_at: str
    purged_at: str | None
    meta: dict[str, Any] | None = None  # what it carried besides its text (NOTE_META), if anything

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchHit:
    entry: Entry
    score: float | None  # None for a signed-in reader on a team server: they get the order only
    snippet: str
    highlights: list[tuple[int, int]]

    def to_dict(self) -> dict[str, Any]:
        data = self.entry.to_dict()
        data.update(score=self.score, snippet=self.snippet,
                    highlights=[list(span) for span in self.highlights])
        return data
