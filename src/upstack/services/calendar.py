"""`upstack opp calendar`: what is due (services/due.py) as an iCalendar file a calendar app imports.

Every item is an all-day event on its day. Its UID is made from whose it is, what it is about (an
opportunity, an application, a contact, practice), its kind and which one (a slug), never from its
day or its title: importing a newer file moves an event whose deadline moved, rather than adding a second
one. Only the reader's own items, as ``due`` lists them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from upstack.errors import BadInput
from upstack.files import write_atomically
from upstack.services import due as due_service
from upstack.store import path as store_path
from upstack.timeutil import today_local
from upstack.workspace import Workspace

__all__ = ["DAYS", "Event", "events", "ics", "write"]

DAYS = 365  # a year ahead: a calendar app shows what is coming; what is overdue is always in
PRODID = "-//upstack//what is due//EN"
_ACT = {"opportunity": "upstack opp show {ref}", "application": "upstack apply show {ref}",
        "contact": "upstack contact show {ref}", "practice": "upstack practice due"}  # by what an item is about


@dataclass(frozen=True)
class Event:
    uid: str
    day: str
    summary: str
    description: str
    kind: str


def events(ws: Workspace, *, days: int = DAYS) -> list[Event]:
    """Every item due up to ``days`` ahead (and overdue), as events, soonest first."""
    if not 0 <= days <= due_service.MAX_DAYS:
        raise BadInput(f"--days must be from 0 to {due_service.MAX_DAYS}, got {days}")
    until = (today_local() + timedelta(days=days)).isoformat()
    whose = f"{ws.workspace_id}/{store_path.reader_key(ws.store().db) or ''}"
    found: list[Event] = []
    for source in due_service.SOURCES:
        for item in source(ws, until):
            key = "\x1f".join((whose, item.about, item.kind, item.ref))
            act = _ACT.get(item.about, "upstack due").format(ref=item.ref)
            found.append(Event(uid=f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@upstack", day=item.day,
                               summary=f"{item.kind.capitalize()}: {item.title}",
                               description="\n".join(x for x in (item.detail, act) if x), kind=item.kind))
    return sorted(found, key=lambda e: (e.day, e.kind, e.summary))


def ics(found: list[Event], *, stamp: datetime | None = None) -> bytes:
    """The events as an iCalendar file (RFC 5545), all-day events with their UIDs."""
    import icalendar  # ~30 ms to import: only when a calendar is written

    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "upstack: what is due")
    when = stamp or datetime.now(UTC)
    for item in found:
        event = icalendar.Event()
        day = date.fromisoformat(item.day)
        event.add("uid", item.uid)
        event.add("dtstamp", when)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))  # an all-day event ends (exclusively) the next day
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        event.add("categories", [item.kind])
        event.add("transp", "TRANSPARENT")  # a deadline does not make the day busy
        cal.add_component(event)
    return bytes(cal.to_ical())


def write(ws: Workspace, out: Path, *, days: int = DAYS) -> int:
    """Write what is due to ``out`` whole or not at all; how many events it holds."""
    out = Path(out)
    if out.is_dir():
        raise BadInput(f"{out} is a folder: give the file to write, e.g. --out deadlines.ics")
    if not out.parent.is_dir():
        raise BadInput(f"there is no folder {out.parent} to write {out.name} in")
    found = events(ws, days=days)
    write_atomically(out, ics(found))
    return len(found)
