"""Personal-fit notes (issue 18): the guide says that early on, personal fit matters more than guessing
the most impactful area: notice what you are good at and enjoy, and keep adjusting. A fit note is a
short reflection: which kinds of work energised, which drained, and a few words; ``summary`` counts
them per kind over time, so a pattern shows after a few months.

Each note is a ``fit.note`` record (a wellbeing record: local-only, sealed when a passphrase is set),
its subject the note's day. `upstack due` offers one a month (with ``checkin_reminder`` on).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from upstack.domain.text import clean_text
from upstack.errors import BadInput
from upstack.services.wellbeing import read_records, write_record
from upstack.timeutil import iso_day, today_local
from upstack.workspace import Workspace

__all__ = ["KINDS", "EVERY_DAYS", "FitNote", "KindSummary", "parse_kinds", "note", "notes", "summary", "due_on"]

# The kinds of research work the guide's day is made of.
KINDS = ("reading", "coding", "experiments", "writing", "talking")
EVERY_DAYS = 30
TEXT_LIMIT = 4000


@dataclass(frozen=True)
class FitNote:
    day: str
    at: str
    energised: tuple[str, ...]
    drained: tuple[str, ...]
    good_at: tuple[str, ...]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day, "at": self.at, "energised": list(self.energised), "drained": list(self.drained),
                "good_at": list(self.good_at), "text": self.text}


@dataclass
class KindSummary:
    kind: str
    energised: int = 0
    drained: int = 0
    good_at: int = 0
    recent: Counter[str] = field(default_factory=Counter)  # the same counts over the last three months

    @property
    def balance(self) -> int:
        return self.energised - self.drained

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "energised": self.energised, "drained": self.drained, "good_at": self.good_at,
                "balance": self.balance, "recent": dict(self.recent)}


def parse_kinds(given: list[str] | tuple[str, ...], what: str) -> tuple[str, ...]:
    """Kinds of work from what a person typed ("coding, exp"), or BadInput naming the one that is none."""
    found = []
    for item in given:
        for part in (p.strip().lower() for p in item.split(",")):
            if not part:
                continue
            kind = next((k for k in KINDS if k == part or k.startswith(part) and len(part) >= 3), None)
            if kind is None:
                raise BadInput(f"{what}: {part!r} is not a kind of work (one of {', '.join(KINDS)})")
            if kind not in found:
                found.append(kind)
    return tuple(found)


def note(ws: Workspace, *, energised: list[str] | tuple[str, ...] = (), drained: list[str] | tuple[str, ...] = (),
         good_at: list[str] | tuple[str, ...] = (), text: str = "", day: date | None = None) -> FitNote:
    """Keep a fit note for ``day`` (today)."""
    today = today_local()
    day = day or today
    if day > today:
        raise BadInput(f"{day.isoformat()} is in the future: a fit note is about days gone by")
    up, down, good = (parse_kinds(energised, "energised"), parse_kinds(drained, "drained"),
                      parse_kinds(good_at, "good at"))
    both = sorted(set(up) & set(down))
    if both:
        raise BadInput(f"{', '.join(both)} both energised and drained you: say which, or put the nuance in the note")
    text = clean_text(text).strip()
    if len(text) > TEXT_LIMIT:
        raise BadInput(f"the note is {len(text):,} characters: at most {TEXT_LIMIT:,}")
    if not (up or down or good or text):
        raise BadInput("nothing to keep: say what energised (--energised coding) or drained you, or write a few words")
    write_record(ws, "fit.note", day.isoformat(), energised=list(up), drained=list(down), good_at=list(good),
                 text=text)
    return next(n for n in reversed(notes(ws)) if n.day == day.isoformat())


def notes(ws: Workspace) -> list[FitNote]:
    """Every fit note, oldest day first (a day may have several)."""
    found = []
    for event in read_records(ws, "fit.note"):
        kinds = [event.data.get(k) or [] for k in ("energised", "drained", "good_at")]
        text = event.data.get("text") or ""
        if iso_day(event.subject) is None or not isinstance(text, str) \
                or not all(isinstance(k, list) and all(isinstance(i, str) for i in k) for k in kinds):
            continue  # not a note as upstack writes one (another version's, a hand-edited import): unread
        found.append(FitNote(event.subject, event.at, tuple(kinds[0]), tuple(kinds[1]), tuple(kinds[2]), text))
    return sorted(found, key=lambda n: (n.day, n.at))


def summary(ws: Workspace, today: date | None = None) -> list[KindSummary]:
    """Per kind of work: how often it energised, drained, or was something you were good at; over
    all notes and over the last three months. Kinds most energising first."""
    today = today or today_local()
    recent_from = (today - timedelta(days=91)).isoformat()
    found = {kind: KindSummary(kind) for kind in KINDS}
    for item in notes(ws):
        for attribute in ("energised", "drained", "good_at"):
            for kind in getattr(item, attribute):
                if kind in found:
                    setattr(found[kind], attribute, getattr(found[kind], attribute) + 1)
                    if item.day >= recent_from:
                        found[kind].recent[attribute] += 1
    return sorted(found.values(), key=lambda s: (-s.balance, -s.good_at, KINDS.index(s.kind)))


def due_on(ws: Workspace) -> date | None:
    """When a fit note is next due: a month after the last (or today, for someone with none)."""
    found = notes(ws)
    return today_local() if not found else date.fromisoformat(found[-1].day) + timedelta(days=EVERY_DAYS)
