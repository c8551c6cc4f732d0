"""Applications (`upstack apply ...`): one per opportunity, moving through stages from wishlist to
an offer or an end, every move dated and kept (the timeline), folded from ``apply.set`` and
``apply.stage`` records. Private to their owner, as the rest of a person's path is.

An application is named by its opportunity's slug. What was sent (a CV, a cover letter, a work
sample) is kept as a private entry of the log with the files attached (``sent``): files, sync,
export and who may see them are then the log's own. A rejection may say what was learned: that is
a private learning entry, as for a failed experiment, and the rejection itself is counted nowhere
but the funnel (the guide: applications skew heavily towards false negatives).

Record shapes (each also has ``subject``, the opportunity's slug, and ``at``):

- ``apply.set``: ``change`` add, edit, archive, restore; fields ``stretch`` (reach, fit, safe),
  ``compensation``, ``location``, ``visa``, ``notes``, ``follow_up`` (YYYY-MM-DD, "" when done),
  ``contacts`` (a list of {``contact``: slug, ``role``}), ``sent`` (a list of entry ids). The contacts
  kept local-only are named in ``local_contacts`` instead, in records that are local-only themselves:
  a contact's slug is their name, which must not travel with the application.
- ``apply.stage``: ``stage``, ``when`` (the day it happened, YYYY-MM-DD), ``note``, ``on`` (the day
  of an interview or a work test's due date, if set), ``forced`` (a move back), ``learned`` (the id of
  the learning entry a rejection led to).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from upstack.domain import ladder as slugs
from upstack.domain import pipeline
from upstack.errors import BadInput, NotFound
from upstack.services import opportunities as opps
from upstack.store import path as store_path
from upstack.timeutil import now_after, parse_day, today_local
from upstack.workspace import Workspace

__all__ = ["APPLY_OPS", "Application", "stage_order", "pipeline_of", "applications", "find", "add", "edit", "move",
           "follow_up",
           "archive", "restore", "attach_sent", "link_contact", "funnel", "REJECTION_FRAME"]

APPLY_OPS = ("apply.set", "apply.stage")
_TEXT_FIELDS = {"compensation": 200, "location": 200, "visa": 200, "notes": 10_000}
REJECTION_FRAME = ("A rejection says where things stand today, for this role, with what they saw: "
                   "most applications are false negatives, and it says nothing about who you are.")


@dataclass
class Application:
    slug: str
    opportunity: opps.Opportunity | None
    stage: str = pipeline.FIRST
    timeline: list[dict[str, Any]] = field(default_factory=list)  # {stage, when, note, on, forced, learned}
    stretch: str = ""
    compensation: str = ""
    location: str = ""
    visa: str = ""
    notes: str = ""
    follow_up: str = ""
    shared_contacts: list[dict[str, str]] = field(default_factory=list)  # travel with the application
    local_contacts: list[dict[str, str]] = field(default_factory=list)  # local-only contacts: stay here
    sent: list[str] = field(default_factory=list)
    archived: bool = False
    added_at: str = ""
    updated_at: str = ""
    since: str = ""  # the day the current stage was reached (a slip undone by a move back not counted)

    @property
    def title(self) -> str:
        return self.opportunity.title if self.opportunity else self.slug

    @property
    def contacts(self) -> list[dict[str, str]]:
        """The contacts named in the application ({contact: slug, role}), local-only ones included."""
        return [*self.shared_contacts, *self.local_contacts]

    @property
    def ended(self) -> bool:
        return self.stage in pipeline.ENDS

    @property
    def on(self) -> str:
        """The day of what the current stage waits on (an interview, a work test's due date), if set."""
        return str(self.timeline[-1].get("on") or "") if self.timeline else ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["opportunity"] = self.opportunity.to_dict() if self.opportunity else None
        del data["shared_contacts"], data["local_contacts"]
        return {**data, "contacts": self.contacts, "title": self.title, "on": self.on}


def stage_order(ws: Workspace) -> tuple[str, ...]:
    return pipeline.stage_order(ws.settings.application_stages or pipeline.MIDDLE)


def _is_day(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _fold(events: list[store_path.PathEvent], held_opps: dict[str, opps.Opportunity]) -> dict[str, Application]:
    held: dict[str, Application] = {}
    for event in events:
        data, found = event.data, held.get(event.subject)
        if event.op == "apply.set":
            change = data.get("change")
            if change == "add" and found is None:
                found = held[event.subject] = Application(event.subject, held_opps.get(event.subject),
                                                          added_at=event.at)
                found.timeline.append({"stage": pipeline.FIRST, "when": event.at[:10]})
            if found is None:
                continue
            if change in ("add", "edit"):
                for name in ("stretch", "follow_up", *_TEXT_FIELDS):
                    if name in data:
                        setattr(found, name, str(data[name]))
                for name, kept in (("contacts", "shared_contacts"), ("local_contacts", "local_contacts")):
                    if isinstance(data.get(name), list):
                        setattr(found, kept, [{"contact": str(c.get("contact", "")), "role": str(c.get("role", ""))}
                                              for c in data[name] if isinstance(c, dict)])
                if isinstance(data.get("sent"), list):
                    found.sent = [str(s) for s in data["sent"]]
            elif change in ("archive", "restore"):
                found.archived = change == "archive"
        elif found is not None:
            step = {k: data[k] for k in ("stage", "when", "note", "on", "forced", "learned") if data.get(k)}
            if not _is_day(step.get("when")):  # a record pushed from elsewhere: the board and funnel read it as a day
                step["when"] = event.at[:10]
            found.timeline.append(step)
            found.stage = str(data.get("stage") or found.stage)
        if found is not None:
            found.updated_at = event.at
    return held


def pipeline_of(ws: Workspace, *, person: str | None = None
                ) -> tuple[list[opps.Opportunity], list[Application]]:
    """Every opportunity and every application, archived ones too, each folded once (what a list of
    what is due reads both of)."""
    held = opps.opportunities(ws, person=person, archived=True)
    return held, applications(ws, person=person, archived=True, held=held)


def applications(ws: Workspace, *, person: str | None = None, archived: bool = False,
                 held: list[opps.Opportunity] | None = None) -> list[Application]:
    """The reader's applications (or ``person``'s, checked by a service), newest move first;
    ``held``: the same person's opportunities, archived ones too, if the caller folded them already."""
    db = ws.store().db
    held_opps = {o.slug: o for o in (opps.opportunities(ws, person=person, archived=True) if held is None else held)}
    found = [a for a in _fold(store_path.events(db, APPLY_OPS, person), held_opps).values()
             if archived or not a.archived]
    order = stage_order(ws)
    for app in found:
        steps = pipeline.settled(app.timeline, order)
        app.since = str(steps[-1].get("when") or app.added_at[:10]) if steps else app.added_at[:10]
    return sorted(found, key=lambda a: a.updated_at, reverse=True)


def find(ws: Workspace, ref: str, *, archived: bool = True) -> Application:
    held = {a.slug: a for a in applications(ws, archived=archived)}
    if not held:
        raise NotFound("there are no applications yet: `upstack apply add OPPORTUNITY` starts one")
    return held[slugs.match_slug(ref, list(held), what="application")]


def _write(ws: Workspace, op: str, subject: str, **data: Any) -> None:
    _write_all(ws, [(op, subject, data)])


def _write_all(ws: Workspace, changes: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Records in one write (applied whole or not at all), each a moment after the one before."""
    at = store_path.latest_at(ws.store().db, APPLY_OPS)
    records = []
    for op, subject, data in changes:
        at = now_after(at)
        records.append(ws.record(op, {"subject": subject, "at": at, **data}))
    ws.store().write(records)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name == "stretch":
            clean[name] = pipeline.check_stretch(str(value))
        elif name == "follow_up":
            clean[name] = parse_day(str(value), what="follow-up date") if str(value).strip() else ""
        elif name in _TEXT_FIELDS:
            text = str(value).strip()
            if len(text) > _TEXT_FIELDS[name]:
                raise BadInput(f"the {name} is {len(text)} characters; keep it under {_TEXT_FIELDS[name]}")
            clean[name] = text
        else:
            raise BadInput(f"an application has no field {name!r}")
    return clean


def _day(when: str | None, what: str = "date") -> str:
    """A day the person gave (YYYY-MM-DD), today if none; a day to come is refused for what happened."""
    if not when:
        return today_local().isoformat()
    day = parse_day(when, what=what, prefer="past")
    if day > today_local().isoformat():
        raise BadInput(f"{day} has not happened yet: say when it happened, or leave it out for today")
    return day


def add(ws: Workspace, ref: str, *, stage: str | None = None, when: str | None = None, **fields: Any) -> Application:
    """An application to the opportunity ``ref``, on the wishlist, or at ``stage`` (e.g. applied) ``when``."""
    opportunity = opps.find(ws, ref, archived=False)
    if opportunity.slug in {a.slug for a in applications(ws, archived=True)}:
        raise BadInput(f"there is an application to {opportunity.slug} already: `upstack apply move "
                       f"{opportunity.slug} STAGE` moves it on")
    clean = _clean(fields)
    order = stage_order(ws)
    moved = pipeline.check_stage(stage, order) if stage else pipeline.FIRST
    day = _day(when)
    if moved == pipeline.FIRST:
        _write(ws, "apply.set", opportunity.slug, change="add", **clean)
    else:  # added where it is already: both records in one write
        _write_all(ws, [("apply.set", opportunity.slug, {"change": "add", **clean}),
                        ("apply.stage", opportunity.slug, {"stage": moved, "when": day})])
    return find(ws, opportunity.slug)


def edit(ws: Workspace, ref: str, **fields: Any) -> Application:
    found = find(ws, ref)
    changes = {k: v for k, v in _clean(fields).items() if getattr(found, k) != v}
    if not changes:
        raise BadInput("nothing to change: give the fields to change (see `upstack apply edit --help`)")
    _write(ws, "apply.set", found.slug, change="edit", **changes)
    return find(ws, found.slug)


def move(ws: Workspace, ref: str, stage: str, *, when: str | None = None, note: str = "", on: str | None = None,
         force: bool = False, learned: str | None = None) -> Application:
    """Move an application to ``stage`` (on the day ``when``, today by default). A move back (to an
    earlier stage, or out of an end) needs ``force``; ``on`` is the day the stage waits on (an
    interview's, a work test's due date); ``learned`` (a rejection's lesson) becomes a private
    learning entry linked from the timeline."""
    found = find(ws, ref, archived=False)
    order = stage_order(ws)
    new = pipeline.check_stage(stage, order)
    if new == found.stage:
        raise BadInput(f"{found.slug} is at {new} already")
    if pipeline.is_backwards(order, found.stage, new) and not force:
        raise BadInput(f"{found.slug} is at {found.stage}: moving it back to {new} needs --force")
    day = _day(when)
    # The wishlist's day is when it was written down, which a move filled in later may precede.
    moved = [step for step in found.timeline if step.get("stage") != pipeline.FIRST]
    if moved and day < str(moved[-1].get("when") or ""):
        raise BadInput(f"{found.slug} reached {moved[-1]['stage']} on {moved[-1]['when']}; "
                       f"a later move cannot be dated {day}")
    extra: dict[str, Any] = {}
    if on:
        extra["on"] = parse_day(on, what="day")
    if note.strip():
        extra["note"] = note.strip()[:2000]
    if force and pipeline.is_backwards(order, found.stage, new):
        extra["forced"] = True
    if learned and learned.strip():
        if new != "rejected":
            raise BadInput("--learned belongs to a rejection (what it taught you)")
        extra["learned"] = _learning(ws, found, learned.strip(), day)
    _write(ws, "apply.stage", found.slug, stage=new, when=day, **extra)
    return find(ws, found.slug)


def _learning(ws: Workspace, application: Application, text: str, day: str) -> str:
    """A private learning entry for what a rejection taught; its id."""
    from upstack.services import capture

    entry = capture.note(ws, f"{text}\n\nLearned from applying to {application.title}.", kind="learning",
                         private=True, occurred_at=f"{day}T12:00:00Z" if day != today_local().isoformat() else None,
                         tags=["application"])
    return entry.id


def follow_up(ws: Workspace, ref: str, day: str | None) -> Application:
    """Set the day to follow an application up (None or "": done, cleared)."""
    found = find(ws, ref, archived=False)
    clean = _clean({"follow_up": day or ""})
    _write(ws, "apply.set", found.slug, change="edit", **clean)
    return find(ws, found.slug)


def archive(ws: Workspace, ref: str) -> Application:
    found = find(ws, ref, archived=False)
    _write(ws, "apply.set", found.slug, change="archive")
    return find(ws, found.slug)


def restore(ws: Workspace, ref: str) -> Application:
    found = find(ws, ref)
    if not found.archived:
        raise BadInput(f"{found.slug} is not archived")
    _write(ws, "apply.set", found.slug, change="restore")
    return find(ws, found.slug)


def attach_sent(ws: Workspace, ref: str, files: list[Path], *, what: str = "") -> Application:
    """Keep what was sent with an application: a private entry of the log with the files attached."""
    from upstack.services import capture

    found = find(ws, ref, archived=False)
    if not files:
        raise BadInput("give the files that were sent (a CV, a cover letter, a work sample)")
    label = what.strip() or ", ".join(p.name for p in files)
    entry = capture.note(ws, f"Sent with the application to {found.title}: {label}.", private=True,
                         attach=list(files), tags=["application"])
    _write(ws, "apply.set", found.slug, change="edit", sent=[*found.sent, entry.id])
    return find(ws, found.slug)


def link_contact(ws: Workspace, ref: str, contact: str, role: str = "") -> Application:
    """Name a contact in an application (a referrer, an interviewer)."""
    from upstack.services import contacts

    found = find(ws, ref, archived=False)
    person = contacts.find(ws, contact)
    link = {"contact": person.slug, "role": role.strip()[:100]}
    if person.local_only:  # the link stays on this machine, as the contact does
        kept = [c for c in found.local_contacts if c["contact"] != person.slug]
        _write(ws, "apply.set", found.slug, change="edit", local_contacts=[*kept, link], local_only=True)
    else:
        kept = [c for c in found.shared_contacts if c["contact"] != person.slug]
        _write(ws, "apply.set", found.slug, change="edit", contacts=[*kept, link])
    return find(ws, found.slug)


def funnel(ws: Workspace, *, person: str | None = None, by: str | None = None,
           held: list[Application] | None = None) -> dict[str, pipeline.Funnel]:
    """The funnel over every application (archived ones too): all of them under "all", or split
    ``by`` kind, source or stretch; ``held``: those applications, if the caller folded them already."""
    order = stage_order(ws)
    groups: dict[str, list[list[tuple[str, str]]]] = {}
    for app in applications(ws, person=person, archived=True) if held is None else held:
        timeline = [(str(step.get("stage")), str(step.get("when") or app.added_at[:10]))
                    for step in pipeline.settled(app.timeline, order)]
        if by is None:
            key = "all"
        elif by == "stretch":
            key = app.stretch or "unmarked"
        elif by in ("kind", "source"):
            key = (getattr(app.opportunity, by) if app.opportunity else "") or "unknown"
        else:
            raise BadInput(f"the funnel splits by kind, source or stretch, not {by!r}")
        groups.setdefault(key, []).append(timeline)
    return {key: pipeline.funnel(timelines, order) for key, timelines in sorted(groups.items())}
