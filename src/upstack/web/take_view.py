"""Takes as the pages show them (issue 19): /takes lists what `upstack takes` shows (the same
``services.takes.overview``), and a take's entry page has its history and, for its maker, the forms
that move it.

Who sees what is the service's: ``overview`` reads only the takes the reader may see (their own, and
those shared with them), the revisit queue holds only the reader's own, and only a take's maker updates
it or says they revisited it.
"""

from __future__ import annotations

from typing import Any

from upstack.domain.entry import Entry
from upstack.errors import BadInput
from upstack.services import takes as service
from upstack.workspace import Workspace

__all__ = ["moved", "line", "overview", "entry_context"]


def moved(take: service.Take) -> str:
    """How sure the person was on hearing it, and now: "60% → 35%" (one figure if it never moved)."""
    if len(take.confidences) == 1:
        return f"{take.now:.0%}"
    return f"{take.first:.0%} → {take.now:.0%}"


def line(ws: Workspace, take: service.Take) -> dict[str, Any]:
    """A take as a page shows it: its JSON, where its page is, how it moved, and whether it is the reader's."""
    return {**take.to_dict(), "href": f"/e/{take.entry.short}", "moved": moved(take),
            "mine": service.mine(ws, take.entry)}


def overview(ws: Workspace) -> dict[str, Any]:
    """`upstack takes --json`, each take with its page and how it moved; the revisit queue, due first."""
    shown = service.overview(ws)
    return {**shown.to_dict(), "takes": [line(ws, t) for t in shown.takes],
            "revisit": [{"short": t.entry.short, "claim": t.entry.title, "revisit_by": t.revisit_by,
                         "due": t.revisit_due, "href": f"/e/{t.entry.short}"} for t in shown.revisit]}


def entry_context(ws: Workspace, entry: Entry) -> dict[str, Any]:
    """What a take's entry page adds: its history, and for its maker the update and revisited forms."""
    if entry.kind != "take":
        return {}
    try:
        found = service.get(ws, entry.id)
    except BadInput:  # a purged take keeps its entry's tombstone only
        return {"take": None}
    return {"take": line(ws, found)}
