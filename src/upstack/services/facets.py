"""Facets for a search: how many matching entries per kind, per tag and per project.

Counted over the whole match set (every page), with the search's own filters,
so each kind's count, or each project's, sums to the search's total. The counts
are cached until the store changes (see ``store.facets``); ``cached_search_facets``
answers only from that cache, so a page can show them at once when it can, and
load them separately when it cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain.filters import Filters
from upstack.domain.text import normalize_tag
from upstack.domain.tree import Node
from upstack.ids import id_key
from upstack.services.progress import NO_PROJECT
from upstack.store import tree as store_tree
from upstack.store.facets import FacetCounts, cached_facet_counts, facet_counts
from upstack.workspace import Workspace

__all__ = ["FacetValue", "Facets", "search_facets", "cached_search_facets"]


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet; ``value`` is what the search filter takes (None: cannot filter on it)."""

    value: str | None
    label: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Facets:
    total: int
    kinds: list[FacetValue] = field(default_factory=list)
    tags: list[FacetValue] = field(default_factory=list)
    projects: list[FacetValue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "kind": [v.to_dict() for v in self.kinds],
                "tag": [v.to_dict() for v in self.tags], "project": [v.to_dict() for v in self.projects]}


def _nearest_project(nodes: dict[str, Node], node_id: str | None) -> Node | None:
    seen: set[str] = set()
    current = nodes.get(node_id) if node_id else None
    while current is not None and current.kind != "project" and current.id not in seen:
        seen.add(current.id)
        current = nodes.get(current.parent_id) if current.parent_id else None
    return current if current is not None and current.kind == "project" else None


def _ranked(counts: Mapping[Any, int], labels: Mapping[str | None, str]) -> list[FacetValue]:
    """Most matches first, then by label: a stable order on both engines."""
    return sorted((FacetValue(value, labels.get(value, value or ""), n) for value, n in counts.items() if n),
                  key=lambda v: (-v.count, v.label.casefold(), v.value or ""))


def search_facets(ws: Workspace, query: str, filters: Filters | None = None, *, tags: int = 20,
                  keep_tags: tuple[str, ...] = ()) -> Facets:
    """Counts per kind, tag and project for the entries ``recall.search`` would find.

    A project's value is its node key, which the ``project`` filter matches
    exactly (titles may repeat); an entry counts for the nearest project above
    the node it is filed under. Only the ``tags`` most used tags are kept, and
    ``keep_tags`` (the tags already filtered on) always.
    """
    db = ws.store().db
    return _facets(ws, facet_counts(db, query, filters or Filters()), tags, keep_tags)


def cached_search_facets(ws: Workspace, query: str, filters: Filters | None = None, *, tags: int = 20,
                         keep_tags: tuple[str, ...] = ()) -> Facets | None:
    """``search_facets`` if its counts are cached and current, else None (and nothing is counted)."""
    counts = cached_facet_counts(ws.store().db, query, filters or Filters())
    return _facets(ws, counts, tags, keep_tags) if counts is not None else None


def _facets(ws: Workspace, counts: FacetCounts, tags: int, keep_tags: tuple[str, ...]) -> Facets:
    # Deleted nodes too: the project filter still finds entries filed under them.
    nodes = {n.id: n for n in store_tree.node_rows(ws.store().db, include_deleted=True)}
    projects: dict[str | None, int] = {}
    labels: dict[str | None, str] = {None: NO_PROJECT}
    for node_id, n in counts.nodes.items():
        project = _nearest_project(nodes, node_id)
        key = id_key(project.id) if project else None
        projects[key] = projects.get(key, 0) + n
        if project:
            labels[key] = project.title
    ranked_tags = _ranked(counts.tags, {})
    wanted = {normalize_tag(t) for t in keep_tags}
    kept = ranked_tags[:tags] + [v for v in ranked_tags[tags:] if v.value in wanted]
    return Facets(total=counts.total, kinds=_ranked(counts.kinds, {}), tags=kept,
                  projects=_ranked(projects, labels))
