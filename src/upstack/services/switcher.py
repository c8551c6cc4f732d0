"""The quick switcher: any entry, node or run by a part of its title, as its reader may see it.

Every word typed starts a word of the title (``path patch`` finds "Path patching on IOI"),
the last one too, so the list narrows as a person types. What is found is ranked by how
well its title matches (the whole title, then its start, then anywhere), then nodes before
runs before entries, then newest first.

>>> [d.title for d in jump_to(ws, "ioi circ")]  # doctest: +SKIP
['IOI circuit', 'Path patching on the IOI circuit']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upstack.domain.text import title_key, tokenize
from upstack.ids import short_id
from upstack.store import titles
from upstack.store.tree import node_rows
from upstack.workspace import Workspace

__all__ = ["Destination", "jump_to", "LIMIT", "MAX_WORDS"]

LIMIT = 12
# Words past these are ignored: a title is found long before, and each word is one more index look-up.
MAX_WORDS = 8
_KIND_ORDER = {"node": 0, "run": 1, "entry": 2}


@dataclass(frozen=True)
class Destination:
    """Somewhere the switcher can go: ``kind`` is entry, node or run; ``detail`` the entry's or
    node's own kind, or the run's status."""

    kind: str
    id: str
    title: str
    detail: str
    at: str

    @property
    def short(self) -> str:
        return short_id(self.id)

    @property
    def href(self) -> str:
        return {"entry": "/e/", "node": "/tree/", "run": "/runs/"}[self.kind] + self.short

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "short": self.short, "title": self.title,
                "detail": self.detail, "at": self.at, "href": self.href}


def _starts_words(words: list[str], title: str) -> bool:
    """Whether each of ``words`` starts some word of ``title``."""
    tokens = tokenize(title)
    return all(any(t.startswith(w) for t in tokens) for w in words)


def jump_to(ws: Workspace, text: str, limit: int = LIMIT) -> list[Destination]:
    """Up to ``limit`` entries, nodes and runs whose titles hold every word of ``text``, best first."""
    words = tokenize(text)[:MAX_WORDS]
    if not words or limit < 1:
        return []
    db = ws.store().db
    found = [Destination("node", n.id, n.title, n.kind, n.updated_at)
             for n in node_rows(db) if _starts_words(words, n.title)]
    found += [Destination("run", r["id"], r["name"], r["status"], r["started_at"])
              for r in titles.runs_named(db, words, limit * 4) if _starts_words(words, r["name"])]
    runs = {d.id for d in found if d.kind == "run"}
    found += [Destination("entry", e["id"], e["title"], e["kind"], e["occurred_at"])
              for e in titles.entries_titled(db, words, limit) if e["id"] not in runs]  # a run's result: the run
    typed = title_key(text)

    def fit(d: Destination) -> int:
        key = title_key(d.title)
        return 0 if key == typed else 1 if key.startswith(typed) else 2

    found.sort(key=lambda d: (d.at, d.id), reverse=True)
    found.sort(key=lambda d: (fit(d), _KIND_ORDER[d.kind]))  # stable: newest first within each
    return found[:limit]
