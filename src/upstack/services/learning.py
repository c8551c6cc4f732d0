"""Progress is learning: results say what was expected and what happened; learnings are entries."""

from __future__ import annotations

from typing import Any

from upstack.domain.entry import OUTCOMES, Entry
from upstack.domain.text import parse_note_text
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["OUTCOMES", "result_meta", "learned"]

def result_meta(kind: str, expected: str | None, happened: str | None,
                outcome: str | None) -> dict[str, Any]:
    """The structured part of a result: what I expected, what happened, how it came out."""
    given = {k: v.strip() for k, v in (("expected", expected), ("happened", happened),
                                      ("outcome", outcome)) if v and v.strip()}
    if given and kind != "result":
        raise BadInput("--expected, --happened and --outcome belong to a result: add --kind result")
    if "outcome" in given and given["outcome"] not in OUTCOMES:
        raise BadInput(f"unknown outcome {given['outcome']!r}: choose one of {', '.join(OUTCOMES)}")
    return given


def revisit_meta(kind: str, when: str) -> dict[str, Any]:
    """A decision's revisit day ("was this right?"), as ``meta``: `upstack due` lists the decision from
    that day until a learning is recorded from it (``learned``)."""
    from upstack.timeutil import parse_day, today_local

    if kind != "decision":
        raise BadInput("--revisit belongs to a decision: add --kind decision")
    day = parse_day(when, what="revisit day", prefer="future")
    if day <= today_local().isoformat():
        raise BadInput(f"the revisit day {day} is not to come: give a day after today ('in 3 months')")
    return {"revisit_on": day}


def learned(ws: Workspace, ref: str, text: str, *, occurred_at: str | None = None) -> Entry:
    """Record what an entry (usually a result) taught: a learning entry linked to it;
    ``occurred_at`` (stored form) back-dates it."""
    if not text.strip():
        raise BadInput("what was learned? the text is empty")
    from upstack.store import queries  # the SQL side stays off `upstack note`'s path

    store = ws.store()
    source = queries.get_entry(store.db, ref)
    if source.purged_at:
        raise BadInput(f"entry {source.short} was purged")
    parsed = parse_note_text(text)
    body = (parsed.body + "\n\n" if parsed.body else "") + f"Learned from [[{source.short}]]."
    entry_id, created = new_id(), now_iso()
    store.write([ws.record("entry.create", {
        "id": entry_id, "revision_id": new_id(), "kind": "learning", "title": parsed.title,
        "body": body, "extra_tags": [], "private": source.private, "node_id": source.node_id,
        "occurred_at": occurred_at or created, "created_at": created, "attachments": [],
        "meta": {"learned_from": source.id}, **ws.writer_offset()})])
    return queries.get_entry(store.db, entry_id)
