"""Filters shared by the timeline and search."""

from __future__ import annotations

from dataclasses import dataclass

from upstack.domain.text import clean_text

__all__ = ["Filters"]


# Entries tagged so are about the person's job search (what a rejection taught, what was sent with an
# application: services/applications.py), not their research: never "work" the tree's checks count
# (an orphan, spinning wheels), so a rejection shows in no `check` flag.
OFF_TREE_TAGS = ("application",)
MENTOR_TAG = "mentor"  # an LLM mentor's answer (services/mentor.py): never sent to a model again


@dataclass(frozen=True)
class Filters:
    project: str | None = None
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: str | None = None  # stored ISO form, inclusive
    until: str | None = None  # stored ISO form, inclusive
    include_private: bool = True
    include_deleted: bool = False
    # Only work (every kind but ideas) filed directly under one of these nodes (None: under no
    # node); `upstack log --orphans` gives those whose work traces to no agenda.
    work_under: tuple[str | None, ...] | None = None
    starred: bool = False  # only entries the reader starred

    def __post_init__(self) -> None:
        # What a person asks for is text as upstack keeps it (domain.text.clean_text): a NUL finds
        # what was stored for it, and never reaches PostgreSQL, which cannot hold one.
        if self.project is not None:
            object.__setattr__(self, "project", clean_text(self.project))
        object.__setattr__(self, "tags", tuple(clean_text(t) for t in self.tags))
        object.__setattr__(self, "kinds", tuple(clean_text(k) for k in self.kinds))
