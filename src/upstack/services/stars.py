"""Stars: mark an entry to find it again (`upstack star`, `log --starred`). Each person's own: on a
team server anyone who may read an entry may star it (a viewer too), and nobody else ever sees
that they did, not even as a count."""

from __future__ import annotations

from upstack.domain.entry import Entry
from upstack.store import queries
from upstack.store import stars as store_stars
from upstack.timeutil import now_after
from upstack.workspace import Workspace

__all__ = ["set_star"]


def set_star(ws: Workspace, ref: str, starred: bool = True) -> tuple[Entry, bool]:
    """Star (or unstar) an entry the reader may see; (the entry, whether that changed anything)."""
    store = ws.store()
    entry = queries.get_entry(store.db, ref)  # NotFound unless they may see it
    now, last = store_stars.last_change(store.db, entry.id)
    if now == starred:
        return entry, False
    store.write([ws.record("star.set", {"entry_id": entry.id, "starred": starred, "at": now_after(last)})])
    return queries.get_entry(store.db, entry.id), True
