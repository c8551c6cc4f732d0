"""Filters shared by the timeline and search."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Filters"]


@dataclass(frozen=True)
class Filters:
    project: str | None = None
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: str | None = None  # stored ISO form, inclusive
    until: str | None = None  # stored ISO form, inclusive
    include_private: bool = True
    include_deleted: bool = False
