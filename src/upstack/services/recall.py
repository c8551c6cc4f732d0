"""Recall: the timeline, search, one entry, its history, the tags."""

from __future__ import annotations

from upstack.domain.entry import Entry, Revision
from upstack.domain.filters import Filters
from upstack.services.workspace import Workspace
from upstack.store import queries
from upstack.store.search import SearchPage
from upstack.store.search import search as run_search

__all__ = ["timeline", "search", "show", "history", "tags"]


def timeline(ws: Workspace, filters: Filters | None = None, limit: int | None = 50) -> list[Entry]:
    return queries.timeline(ws.store().db, filters or Filters(), limit)


def search(ws: Workspace, query: str, filters: Filters | None = None, limit: int = 20,
           offset: int = 0) -> SearchPage:
    return run_search(ws.store().db, query, filters or Filters(), limit, offset)


def show(ws: Workspace, ref: str) -> Entry:
    return queries.get_entry(ws.store().db, ref)


def history(ws: Workspace, ref: str) -> tuple[Entry, list[Revision]]:
    db = ws.store().db
    entry = queries.get_entry(db, ref)
    return entry, queries.revisions(db, entry.id)


def tags(ws: Workspace, filters: Filters | None = None) -> list[tuple[str, int, str]]:
    return queries.all_tags(ws.store().db, filters or Filters())
