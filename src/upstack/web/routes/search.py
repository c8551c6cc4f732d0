"""Search: ranked results with highlighted snippets, facet counts, filters, paging, as-you-type.

``/search`` is the page (a plain GET form, so it works without JavaScript);
``/search/results`` is just its results fragment, which htmx fetches as you type.
``/search/facets`` is the counts per kind, project and tag: counting every match
costs more than finding the best twenty, so the page shows its results first and
loads the counts after them, unless they are already cached (``store.facets``) or
there are few matches to count.
``/search.json`` always carries the counts.

The box searches as you type: the last word of the query, while the text ends inside it, also
matches the words it starts (``domain.query.as_typed``), on the page, its fragment and its JSON
alike, so that an address the box left in the bar shows what was seen. A misspelt word is offered
respelt ("Did you mean"), from the words of the entries the reader may see (``recall.suggest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from upstack.domain.filters import Filters
from upstack.domain.query import as_typed, parse_query, positive_terms
from upstack.domain.snippet import find_spans
from upstack.domain.text import KINDS, normalize_tag
from upstack.services import facets, recall
from upstack.web.auth import csrf_token
from upstack.web.pages import Page, page, templates, workspace
from upstack.workspace import Workspace

__all__ = ["router", "marked"]

router = APIRouter()
PAGE_SIZE = 20
# Up to this many matches, counting them takes a few ms: the page shows the counts at once
# rather than ask for them again (about 5 µs a match on SQLite, less through PostgreSQL's index).
INLINE_FACETS = 1000


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


def _chosen(kind: list[str], tag: list[str], project: str | None) -> tuple[list[str], list[str], Filters]:
    kinds = [k for k in kind if k in KINDS]
    tags = [normalize_tag(t) for t in tag if normalize_tag(t)]
    return kinds, tags, Filters(project=project or None, tags=tuple(tags), kinds=tuple(kinds))


def _params(q: str, kinds: list[str], tags: list[str], project: str | None, limit: int) -> list[tuple[str, str]]:
    """The search's address parameters (without the offset)."""
    params = [("q", q)] if q else []
    params += [("kind", k) for k in kinds] + [("tag", t) for t in tags] + ([("project", project)] if project else [])
    return params + ([("limit", str(limit))] if limit != PAGE_SIZE else [])


def _facet_lists(counted: facets.Facets, params: list[tuple[str, str]], kinds: list[str], tags: list[str],
                 project: str | None) -> dict[str, list[dict[str, Any]]]:
    """Each facet value with whether it is chosen and the address that toggles it."""
    facet_lists: dict[str, list[dict[str, Any]]] = {}
    for name, values, chosen in (("kind", counted.kinds, kinds), ("tag", counted.tags, tags),
                                 ("project", counted.projects, [project] if project else [])):
        facet_lists[name] = [{**v.to_dict(), "selected": v.value in chosen,
                              "href": _toggle(params, name, v.value, single=name == "project")
                              if v.value is not None else None} for v in values]
    return facet_lists


def search_data(ws: Workspace, q: str, kind: list[str], tag: list[str], project: str | None,
                offset: int, limit: int, *, count_facets: bool = True) -> dict[str, Any]:
    """What the page, its JSON twin and the as-you-type fragment all show.

    Without ``count_facets``, ``facets`` is None unless the counts are cached or
    cheap (``INLINE_FACETS``), and ``links.facets`` is where they can be loaded from.
    """
    kinds, tags, filters = _chosen(kind, tag, project)
    found = recall.search(ws, q, filters, limit, offset, typed=True)
    typed = as_typed(q)
    if count_facets or found.total <= INLINE_FACETS:
        counted: facets.Facets | None = facets.search_facets(ws, typed, filters, keep_tags=tuple(tags))
    else:
        counted = facets.cached_search_facets(ws, typed, filters, keep_tags=tuple(tags))
    terms = positive_terms(parse_query(typed))
    params = _params(q, kinds, tags, project, limit)
    suggestion = recall.suggest(ws, q, typed=True, matched=found.total > 0) if q else None
    results = [{**hit.to_dict(), "title_highlights": [list(s) for s in find_spans(hit.entry.title, terms)]}
               for hit in found.hits]
    shown_to = offset + len(results)
    return {
        "query": q, "total": found.total, "offset": offset, "limit": limit, "results": results,
        "suggestion": suggestion,
        "facets": _facet_lists(counted, params, kinds, tags, project) if counted is not None else None,
        "filters": {"kind": kinds, "tag": tags, "project": project or ""},
        "links": {"next": _href(params + [("offset", str(shown_to))]) if shown_to < found.total else None,
                  "prev": _href(params + ([("offset", str(max(offset - limit, 0)))] if offset > limit else []))
                  if offset > 0 else None,
                  "clear": _href([("q", q)] if q else []),
                  "suggestion": _href([("q", suggestion)] + [p for p in params if p[0] != "q"])
                  if suggestion else None,
                  "facets": "/search/facets" + ("?" + urlencode(params) if params else "")},
    }


Kinds = Annotated[list[str], Query(description="Only entries of these kinds")]
Tags = Annotated[list[str], Query(description="Only entries with all of these tags")]
Offset = Annotated[int, Query(ge=0, le=2**63 - 1, description="Skip this many results (paging)")]  # SQL BIGINT
Limit = Annotated[int, Query(ge=1, le=200)]


@page(router, "/search", name="search", summary="Ranked full-text search with highlighted snippets and facet counts")
def search_page(request: Request, ws: Annotated[Workspace, Depends(workspace)], q: str = "",
                kind: Kinds = [], tag: Tags = [],  # noqa: B006 - FastAPI reads list defaults, never mutates them
                project: str | None = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> Page:
    # One handler serves both: the JSON twin always counts; the HTML page loads uncached counts after.
    as_json = request.url.path.endswith(".json")
    return Page("search.html", search_data(ws, q, kind, tag, project, offset, limit, count_facets=as_json))


@router.get("/search/results", include_in_schema=False)
def search_results(request: Request, ws: Annotated[Workspace, Depends(workspace)], q: str = "",
                   kind: Kinds = [], tag: Tags = [],  # noqa: B006
                   project: str | None = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> Response:
    """Only the results (for htmx, as you type); the address bar follows the query."""
    data = search_data(ws, q, kind, tag, project, offset, limit, count_facets=False)
    response = templates.TemplateResponse(request, "_search_results.html",
                                          {**data, "csrf": csrf_token(request), "page_name": "search"})
    if request.headers.get("hx-request"):
        response.headers["HX-Replace-Url"] = _href(list(request.query_params.multi_items()))
    return response


@router.get("/search/facets", include_in_schema=False)
def search_facets(request: Request, ws: Annotated[Workspace, Depends(workspace)], q: str = "",
                  kind: Kinds = [], tag: Tags = [],  # noqa: B006
                  project: str | None = None, limit: Limit = PAGE_SIZE) -> Response:
    """The counts per kind, project and tag over every match: a fragment for htmx, else a page."""
    kinds, tags, filters = _chosen(kind, tag, project)
    counted = facets.search_facets(ws, as_typed(q), filters, keep_tags=tuple(tags))
    params = _params(q, kinds, tags, project, limit)
    context = {"query": q, "total": counted.total, "facets": _facet_lists(counted, params, kinds, tags, project),
               "filters": {"kind": kinds, "tag": tags, "project": project or ""}, "results_url": _href(params),
               "csrf": csrf_token(request), "page_name": "search"}
    template = "_search_facets.html" if request.headers.get("hx-request") else "search_facets.html"
    return templates.TemplateResponse(request, template, context)
