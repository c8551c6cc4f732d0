"""The quick switcher: any entry, node or run by a part of its title, as its reader may see it.

Every word typed starts a word of the title (``path patch`` finds "Path patching on IOI"),
the last one too, so the list narrows as a person types. What is found is ranked by how
well its title matches (the whole title, then its start, then anywhere), then nodes before
runs before entries, then newest first.

>>> [d.title for d in jump_to(ws, "ioi circ")]  # doctest: +SKIP
['IOI circuit', 'Path patching on the IOI circuit']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from upstack.domain.text import title_key, tokenize
from upstack.ids import short_id
from upstack.store import titles
from upstack.store.tree import node_rows
from upstack.workspace import Workspace

__all__ = ["Destination", "jump_to", "LIMIT", "MAX_WORDS"]

LIMIT = 12
# The newest entries whose titles are matched here before the whole log is asked: a word in many
# titles is answered from them; the index answers one in fewer than 2 * LIMIT of them, so in about
# 2% of the log at most, and its cost grows with the matches (about 10 ms for 1,000).
RECENT = 1000
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


def _title_matcher(words: list[str]) -> Callable[[str], bool]:
    """Whether each of ``words`` (tokens) starts some word of a title, as ``tokenize`` splits it.

    A word of the title is a run of letters and digits, so a token starts one where the text has it
    after anything else; ASCII titles (nearly all) are looked at with a regex, the rest tokenized.
    """
    starts = [(w, re.compile(r"(?:^|[\W_])" + re.escape(w))) for w in words]

    def matches(title: str) -> bool:
        if title.isascii():
            lowered = title.lower()
            return all(w in lowered and starting.search(lowered) for w, starting in starts)
        tokens = tokenize(title)
        return all(any(t.startswith(w) for t in tokens) for w in words)

    return matches


def jump_to(ws: Workspace, text: str, limit: int = LIMIT, *, recent: int = RECENT) -> list[Destination]:
    """Up to ``limit`` entries, nodes and runs whose titles hold every word of ``text``, best first.

    ``recent``: how many of the newest entries to match before asking the search index (``RECENT``).
    """
    words = tokenize(text)[:MAX_WORDS]
    if not words or limit < 1:
        return []
    db = ws.store().db
    matches = _title_matcher(words)
    found = [Destination("node", n.id, n.title, n.kind, n.updated_at) for n in node_rows(db) if matches(n.title)]
    found += [Destination("run", r["id"], r["name"], r["status"], r["started_at"])
              for r in titles.runs_named(db, words, limit * 4) if matches(r["name"])]
    runs = {d.id for d in found if d.kind == "run"}
    # The newest matches (twice as many as shown: the best fits among them come first), and the
    # entries titled exactly as typed, however old.
    pool = 2 * limit
    newest = titles.recent_entries(db, recent) if recent > 0 else []
    entries = [e for e in newest if matches(e["title"])][:pool]
    if len(entries) < pool and len(newest) == recent:
        entries = titles.entries_titled(db, words, pool)  # the same newest matches, from the whole log
    typed = title_key(text)
    entries += titles.entries_named(db, typed, limit)
    seen = set(runs)  # a run's result entry has the run's id: the run stands for it
    for e in entries:
        if e["id"] not in seen:
            seen.add(e["id"])
            found.append(Destination("entry", e["id"], e["title"], e["kind"], e["occurred_at"]))

    def fit(d: Destination) -> int:
        key = title_key(d.title)
        return 0 if key == typed else 1 if key.startswith(typed) else 2

    found.sort(key=lambda d: (d.at, d.id), reverse=True)
    found.sort(key=lambda d: (fit(d), _KIND_ORDER[d.kind]))  # stable: newest first within each
    return found[:limit]
