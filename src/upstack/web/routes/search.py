"""Search: ranked results with highlighted snippets, facet counts, filters, paging, as-you-type.

``/search`` is the page (a plain GET form, so it works without JavaScript);
``/search/results`` is just its results fragment, which htmx fetches as you type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from upstack.domain.filters import Filters
from upstack.domain.query import parse_query, positive_terms
from upstack.domain.snippet import find_spans
from upstack.domain.text import KINDS, normalize_tag
from upstack.services import facets, recall
from upstack.services.workspace import Workspace
from upstack.web.app import Page, page, templates, workspace
from upstack.web.auth import csrf_token

__all__ = ["router", "marked"]

router = APIRouter()
PAGE_SIZE = 20


def marked(text: str, spans: Sequence[Sequence[int]]) -> Markup:
    """``text`` escaped, with each (start, end) span wrapped in ``<mark>`` (overlaps merged)."""
    pieces: list[Markup] = []
    at = 0
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        start = max(start, at)
        if end <= start:
            continue
        pieces += [escape(text[at:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        at = end
    pieces.append(escape(text[at:]))
    return Markup("").join(pieces)


templates.env.filters["marked"] = marked


def _href(params: list[tuple[str, str]]) -> str:
    return "/search" + ("?" + urlencode(params) if params else "")


def _toggle(params: list[tuple[str, str]], name: str, value: str, *, single: bool) -> str:
    """The address with ``name=value`` switched off if present, else on (replacing it if ``single``)."""
    present = (name, value) in params
    kept = [(k, v) for k, v in params if k != "offset" and not (k == name and (single or v == value))]
    return _href(kept if present else kept + [(name, value)])


def search_data(ws: Workspace, q: str, kind: list[str], tag: list[str], project: str | None,
                offset: int, limit: int) -> dict[str, Any]:
    """What the page, its JSON twin and the as-you-type fragment all show."""
    kinds = [k for k in kind if k in KINDS]
    tags = [normalize_tag(t) for t in tag if normalize_tag(t)]
    filters = Filters(project=project or None, tags=tuple(tags), kinds=tuple(kinds))
    found = recall.search(ws, q, filters, limit, offset)
    counted = facets.search_facets(ws, q, filters, keep_tags=tuple(tags))
    terms = positive_terms(parse_query(q))
    params = [("q", q)] if q else []
    params += [("kind", k) for k in kinds] + [("tag", t) for t in tags] + ([("project", project)] if project else [])
    params += [("limit", str(limit))] if limit != PAGE_SIZE else []
    facet_lists: dict[str, list[dict[str, Any]]] = {}
    for name, values, chosen in (("kind", counted.kinds, kinds), ("tag", counted.tags, tags),
                                 ("project", counted.projects, [project] if project else [])):
        facet_lists[name] = [{**v.to_dict(), "selected": v.value in chosen,
                              "href": _toggle(params, name, v.value, single=name == "project")
                              if v.value is not None else None} for v in values]
    results = [{**hit.to_dict(), "title_highlights": [list(s) for s in find_spans(hit.entry.title, terms)]}
               for hit in found.hits]
    shown_to = offset + len(results)
    return {
        "query": q, "total": found.total, "offset": offset, "limit": limit, "results": results,
        "facets": facet_lists,
        "filters": {"kind": kinds, "tag": tags, "project": project or ""},
        "links": {"next": _href(params + [("offset", str(shown_to))]) if shown_to < found.total else None,
                  "prev": _href(params + ([("offset", str(max(offset - limit, 0)))] if offset > limit else []))
                  if offset > 0 else None,
                  "clear": _href([("q", q)] if q else [])},
    }


Kinds = Annotated[list[str], Query(description="Only entries of these kinds")]
Tags = Annotated[list[str], Query(description="Only entries with all of these tags")]
Offset = Annotated[int, Query(ge=0, le=2**63 - 1, description="Skip this many results (paging)")]  # SQL BIGINT
Limit = Annotated[int, Query(ge=1, le=200)]


@page(router, "/search", name="search", summary="Ranked full-text search with highlighted snippets and facet counts")
def search_page(request: Request, ws: Annotated[Workspace, Depends(workspace)], q: str = "",
                kind: Kinds = [], tag: Tags = [],  # noqa: B006 - FastAPI reads list defaults, never mutates them
                project: str | None = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> Page:
    return Page("search.html", search_data(ws, q, kind, tag, project, offset, limit))


@router.get("/search/results", include_in_schema=False)
def search_results(request: Request, ws: Annotated[Workspace, Depends(workspace)], q: str = "",
                   kind: Kinds = [], tag: Tags = [],  # noqa: B006
                   project: str | None = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> Response:
    """Only the results (for htmx, as you type); the address bar follows the query."""
    data = search_data(ws, q, kind, tag, project, offset, limit)
    response = templates.TemplateResponse(request, "_search_results.html",
                                          {**data, "csrf": csrf_token(request), "page_name": "search"})
    if request.headers.get("hx-request"):
        response.headers["HX-Replace-Url"] = _href(list(request.query_params.multi_items()))
    return response
