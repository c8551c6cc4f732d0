"""Takes (issue 19): claims heard, held with skepticism. The field is full of convincing hot takes; a
newcomer should not set their views by the first few they hear. A take records who said it and where,
how sure the person is, the cruxes and what would change their mind, and how that confidence moved
and why, so the person can see which views rest on one source only and look at them again later.

A take is an entry of kind "take" (the claim its title, notes its body), private unless made shared,
with a row (the first source, where it was heard, the day to revisit it) and events, never rewritten:
each confidence with its reason, each source added, crux, "what would change my mind", related node
and revisit. A revisit clears when the person updates the take or says they revisited it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from upstack.domain.access import require_file_under
from upstack.domain.calibration import parse_probability
from upstack.domain.entry import Entry
from upstack.domain.text import parse_note_text
from upstack.errors import BadInput, Forbidden
from upstack.ids import new_id, short_id
from upstack.services import tree as tree_service
from upstack.store import queries
from upstack.store import takes as store
from upstack.timeutil import now_after, now_iso, parse_day, today_local
from upstack.workspace import Workspace

__all__ = ["Take", "Overview", "make", "update", "revisited", "get", "listing", "overview", "revisit_queue", "mine"]


@dataclass
class Take:
    entry: Entry
    row: dict[str, Any]
    events: list[dict[str, Any]]  # oldest first

    @property
    def id(self) -> str:
        return self.entry.id

    def _of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    @property
    def confidences(self) -> list[dict[str, Any]]:
        """Each confidence given, with when and why: the first is how sure the person was on hearing it."""
        return [{"at": e["at"], "confidence": float(e["confidence"]), "reason": e["text"]}
                for e in self._of("confidence")]

    @property
    def first(self) -> float:
        return float(self.confidences[0]["confidence"])

    @property
    def now(self) -> float:
        return float(self.confidences[-1]["confidence"])

    @property
    def moved(self) -> str:
        """How sure the person was on hearing it, and now: "60% → 35%" (one figure if it never moved)."""
        return f"{self.now:.0%}" if len(self.confidences) == 1 else f"{self.first:.0%} → {self.now:.0%}"

    @property
    def sources(self) -> list[dict[str, str]]:
        """Who said it and where, the first source first."""
        return [{"source": self.row["source"], "where": self.row["place"] or "", "at": self.row["created_at"]},
                *({"source": e["source"], "where": e["text"], "at": e["at"]} for e in self._of("source"))]

    @property
    def one_source(self) -> bool:
        """Whether the take rests on one person's word (the same name given twice is one source)."""
        return len({" ".join(s["source"].casefold().split()) for s in self.sources}) == 1

    @property
    def cruxes(self) -> list[str]:
        return [str(e["text"]) for e in self._of("crux")]

    @property
    def would_change(self) -> str:
        """What would change the person's mind, as last written (earlier wordings stay in the events)."""
        said = self._of("would_change")
        return str(said[-1]["text"]) if said else ""

    @property
    def nodes(self) -> list[str]:
        return list(dict.fromkeys(str(e["node_id"]) for e in self._of("node")))

    @property
    def revisit_by(self) -> str | None:
        return str(self.row["revisit_by"]) if self.row.get("revisit_by") else None

    @property
    def revisit_due(self) -> bool:
        return self.revisit_by is not None and self.revisit_by <= today_local().isoformat()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "short": self.entry.short, "claim": self.entry.title, "notes": self.entry.body,
                "private": self.entry.private, "node_id": self.entry.node_id, "made_at": self.entry.created_at,
                "first": self.first, "now": self.now, "confidences": self.confidences, "sources": self.sources,
                "one_source": self.one_source, "cruxes": self.cruxes, "would_change": self.would_change,
                "nodes": [{"id": n, "short": short_id(n)} for n in self.nodes], "revisit_by": self.revisit_by,
                "revisit_due": self.revisit_due,
                "history": [{k: e[k] for k in ("at", "kind", "confidence", "text", "source", "node_id", "revisit_by")}
                            for e in self.events]}


def _revisit_day(when: str) -> str:
    day = parse_day(when, what="revisit day", prefer="future")
    if day <= today_local().isoformat():
        raise BadInput(f"the revisit day {day} is not to come: give a day after today ('in 3 months')")
    return day


def _texts(items: Sequence[str], what: str) -> list[str]:
    found = [item.strip() for item in items]
    if any(not item for item in found):
        raise BadInput(f"{what} is empty")
    return found


def _nodes(ws: Workspace, refs: Sequence[str]) -> list[str]:
    db = ws.store().db
    return list(dict.fromkeys(tree_service.resolve_node(db, ref) for ref in refs))  # NotFound names the ref


def make(ws: Workspace, claim: str, confidence: str | float, *, source: str, where: str = "",
         cruxes: Sequence[str] = (), would_change: str = "", on: Sequence[str] = (), revisit: str | None = None,
         shared: bool = False, reason: str = "") -> Take:
    """A claim heard from ``source`` (``where``: a link, a talk, a conversation), how sure the person is
    of it, its cruxes, what would change their mind, the tree nodes it bears on (filed under the first)
    and a day to revisit it. Private unless ``shared``: a take is the person's own view in the making."""
    ws.check_writable()
    p = parse_probability(confidence)
    parsed = parse_note_text(claim)
    if not parsed.title.strip():
        raise BadInput("the take's claim is empty")
    if not source.strip():
        raise BadInput("who said it is empty: give --from (a person, a paper, a talk)")
    crux_texts = _texts(cruxes, "a crux")
    day = _revisit_day(revisit) if revisit else None
    node_ids = _nodes(ws, on)
    node_id = node_ids[0] if node_ids else None
    require_file_under(node_id)
    entry_id, created = new_id(), now_iso()
    ws.store().write([
        ws.record("entry.create", {"id": entry_id, "revision_id": new_id(), "kind": "take", "title": parsed.title,
                                   "body": parsed.body, "extra_tags": [], "private": not shared, "node_id": node_id,
                                   "occurred_at": created, "created_at": created, "attachments": [],
                                   **ws.writer_offset()}),
        ws.record("take.make", {"entry_id": entry_id, "at": created, "source": source.strip(),
                                "place": where.strip(), "revisit_by": day, "confidence": p, "reason": reason.strip(),
                                "cruxes": crux_texts, "would_change": would_change.strip() or None,
                                "nodes": node_ids})])
    return get(ws, entry_id)


def _own(ws: Workspace, ref: str) -> Take:
    """A take the reader made: only its maker moves their own view."""
    found = get(ws, ref)
    if not mine(ws, found.entry):
        raise Forbidden(f"take {found.entry.short} is someone else's: only its maker updates it")
    return found


def update(ws: Workspace, ref: str, confidence: str | float | None = None, *, reason: str,
           source: str | None = None, where: str = "", cruxes: Sequence[str] = (), would_change: str | None = None,
           on: Sequence[str] = (), revisit: str | None = None) -> Take:
    """What changed about a take and why: a new confidence, another source, a crux, what would change
    the person's mind, a related node, the next revisit day. Each is kept beside the earlier ones; a
    revisit that has come is done (the person looked at the take again)."""
    found = _own(ws, ref)
    if not reason.strip():
        raise BadInput("say why with --why: a view that moves keeps its reasons")
    p = parse_probability(confidence) if confidence is not None else None
    if source is not None and not source.strip():
        raise BadInput("the new source is empty: give --source (a person, a paper, a talk)")
    if where.strip() and source is None:
        raise BadInput("--where says where a --source said it: give --source too")
    crux_texts = _texts(cruxes, "a crux")
    changed_mind = would_change.strip() if would_change is not None else None
    if changed_mind == "":
        raise BadInput("what would change your mind is empty")
    if p is None and source is None and not crux_texts and would_change is None and not on and revisit is None:
        raise BadInput("nothing to update: give -c, --source, --crux, --would-change, --on or --revisit")
    data: dict[str, Any] = {"entry_id": found.id, "confidence": p, "reason": reason.strip(),
                            "new_source": source.strip() if source is not None else None, "place": where.strip(),
                            "cruxes": crux_texts, "would_change": changed_mind,
                            "nodes": _nodes(ws, on), "at": now_after(str(found.events[-1]["at"]))}
    if revisit is not None:
        data["revisit_by"] = _revisit_day(revisit)
    elif found.revisit_due:
        data["revisit_by"] = None
    ws.store().write([ws.record("take.update", data)])
    return get(ws, found.id)


def revisited(ws: Workspace, ref: str, *, next_day: str | None = None, reason: str = "") -> Take:
    """The person looked at the take again without a change of view: its revisit is done (and the
    next one set, if given)."""
    found = _own(ws, ref)
    day = _revisit_day(next_day) if next_day else None
    if found.revisit_by is None and day is None:
        raise BadInput(f"take {found.entry.short} has no revisit day to clear: give --next WHEN to set one")
    ws.store().write([ws.record("take.update", {
        "entry_id": found.id, "reason": reason.strip() or "revisited", "revisit_by": day,
        "at": now_after(str(found.events[-1]["at"]))})])
    return get(ws, found.id)


def get(ws: Workspace, ref: str) -> Take:
    entry_id = queries.resolve(ws.store().db, ref, what="take")
    found = _load(ws, [entry_id])
    if not found:
        raise BadInput(f"entry {ref!r} is not a take (make one with `upstack take add`)")
    return found[0]


def _load(ws: Workspace, entry_ids: list[str] | None = None) -> list[Take]:
    db = ws.store().db
    rows = store.rows(db, entry_ids)
    ids = [str(r["entry_id"]) for r in rows]
    entries = {e.id: e for e in queries.load_entries(db, ids)}
    events = store.events(db, ids)
    return [Take(entries[str(row["entry_id"])], row, events[str(row["entry_id"])]) for row in rows
            if row["entry_id"] in entries and any(e["kind"] == "confidence" for e in events[str(row["entry_id"])])]


def listing(ws: Workspace) -> list[Take]:
    """The takes the reader may see (their own, and those shared with them), oldest first."""
    return _load(ws)


@dataclass
class Overview:
    """What `upstack takes` (and /takes) shows: the takes the reader may see, those whose confidence
    moved since first heard, those resting on one source only, and the reader's revisit queue."""

    takes: list[Take]
    moved: list[Take]
    one_source: list[Take]
    revisit: list[Take]  # the reader's own, soonest first

    def to_dict(self) -> dict[str, Any]:
        return {"takes": [t.to_dict() for t in self.takes], "moved": [t.entry.short for t in self.moved],
                "one_source": [t.entry.short for t in self.one_source],
                "revisit": [{"short": t.entry.short, "claim": t.entry.title, "revisit_by": t.revisit_by,
                             "due": t.revisit_due} for t in self.revisit]}


def overview(ws: Workspace) -> Overview:
    """How the reader's views moved, which rest on one source only, and what to revisit."""
    found = listing(ws)
    return Overview(found, [t for t in found if len(t.confidences) > 1], [t for t in found if t.one_source],
                    revisit_queue(ws, found))


def revisit_queue(ws: Workspace, takes: list[Take] | None = None) -> list[Take]:
    """The reader's own takes with a revisit day, soonest first (those that have come first of all)."""
    found = takes if takes is not None else listing(ws)
    own = queries.own_among(ws.store().db, (t.entry.author_id for t in found))
    return sorted((t for t in found if t.revisit_by and t.entry.author_id in own),
                  key=lambda t: (str(t.revisit_by), t.id))


def mine(ws: Workspace, entry: Entry) -> bool:
    """Whether the reader made this take (a view, a reminder, is the reader's own)."""
    return queries.is_own(ws.store().db, entry.author_id)
