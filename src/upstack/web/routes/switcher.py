"""The quick switcher: any entry, node or run by a part of its title (``services.switcher``).

static/keys.js opens it over any page (Ctrl-K, ⌘-K, or "Jump to…" in the header) and asks
``/switch.json`` as the reader types; ``/switch`` is the same as a page, for a browser
without JavaScript.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from upstack.errors import BadInput
from upstack.limits import QUERY_MAX_CHARS
from upstack.services import switcher
from upstack.web.pages import Page, page, workspace
from upstack.workspace import Workspace

__all__ = ["router"]

router = APIRouter()


@page(router, "/switch", name="switch",
      summary="Entries, nodes and runs whose titles hold the words typed, best first (the quick switcher)")
def switch_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                q: Annotated[str, Query(description="Words that start words of the title")] = "",
                limit: Annotated[int, Query(ge=1, le=50)] = switcher.LIMIT) -> Page:
    if len(q) > QUERY_MAX_CHARS:
        raise BadInput(f"the text to jump to is {len(q)} characters long; at most {QUERY_MAX_CHARS} are read")
    return Page("switch.html", {"query": q, "results": [d.to_dict() for d in switcher.jump_to(ws, q, limit)]})
