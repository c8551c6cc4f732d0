"""Contacts and outreach (`upstack contact ...`, `upstack outreach ...`): the people and organisations
whose work the person follows, with their research interests, and every exchange with them, folded
from ``contact.set`` and ``outreach.log`` records. No email is sent: upstack keeps what was written
and what happened.

Contacts are personal data about third parties, so each is one of two levels (DESIGN.md): private
(stored wherever the log is, a team server too; only its owner sees it) or local-only (never leaves
this machine: every record about it says ``local_only`` and sync never carries it). The level is
chosen when a contact is added (the setting ``contacts_local_only`` gives the default) and holds
for every exchange with them after.

Record shapes (each also has ``subject``, the contact's slug, and ``at``):

- ``contact.set``: ``change`` add, edit, remove, restore; fields ``name``, ``kind`` (person,
  organisation), ``organisation``, ``interests`` (free text), ``tags`` (a list), ``links`` (a list of
  web addresses), ``how_known``, ``notes``, ``follow_up`` (YYYY-MM-DD, "" when done).
- ``outreach.log``: ``kind`` (draft, sent, reply, call, meeting, note), ``text``, ``title`` (an
  email's subject line), ``when`` (the day), ``follow_up`` (a day to follow up, if set).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain import ladder as slugs
from upstack.errors import BadInput, NotFound
from upstack.store import path as store_path
from upstack.timeutil import now_after, parse_day, today_local
from upstack.workspace import Workspace

__all__ = ["CONTACT_OPS", "KINDS", "EXCHANGES", "Contact", "contacts", "find", "add", "edit", "remove", "restore",
           "log_exchange", "set_follow_up"]

CONTACT_OPS = ("contact.set", "outreach.log")
KINDS = ("person", "organisation")
EXCHANGES = ("draft", "sent", "reply", "call", "meeting", "note")
_TEXT = {"name": 200, "organisation": 200, "interests": 5_000, "how_known": 1_000, "notes": 10_000}
MAX_TAGS, MAX_LINKS, MAX_EXCHANGE = 30, 20, 20_000


@dataclass
class Contact:
    slug: str
    name: str
    kind: str = "person"
    organisation: str = ""
    interests: str = ""
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    how_known: str = ""
    notes: str = ""
    follow_up: str = ""
    local_only: bool = False
    removed: bool = False
    added_at: str = ""
    updated_at: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)  # {kind, when, title, text, follow_up, at}

    @property
    def last_exchange(self) -> dict[str, Any] | None:
        return self.history[-1] if self.history else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fold(events: list[store_path.PathEvent]) -> dict[str, Contact]:
    held: dict[str, Contact] = {}
    for event in events:
        data, found = event.data, held.get(event.subject)
        if event.op == "contact.set":
            change = data.get("change")
            if change == "add" and found is None:
                found = held[event.subject] = Contact(event.subject, str(data.get("name") or event.subject),
                                                      local_only=data.get("local_only") is True, added_at=event.at)
            if found is None:
                continue
            if change in ("add", "edit"):
                for name in ("kind", "follow_up", *_TEXT):
                    if name in data:
                        setattr(found, name, str(data[name]))
                for name in ("tags", "links"):
                    if isinstance(data.get(name), list):
                        setattr(found, name, [str(v) for v in data[name]])
            elif change in ("remove", "restore"):
                found.removed = change == "remove"
        elif found is not None:
            found.history.append({"kind": str(data.get("kind") or "note"),
                                  "when": str(data.get("when") or event.at[:10]),
                                  "title": str(data.get("title") or ""), "text": str(data.get("text") or ""),
                                  "follow_up": str(data.get("follow_up") or ""), "at": event.at})
            if "follow_up" in data:
                found.follow_up = str(data["follow_up"])
        if found is not None:
            found.updated_at = event.at
    return held


def contacts(ws: Workspace, *, person: str | None = None, removed: bool = False) -> list[Contact]:
    """The reader's contacts (or ``person``'s, checked by a service), by name."""
    found = [c for c in _fold(store_path.events(ws.store().db, CONTACT_OPS, person)).values()
             if removed or not c.removed]
    return sorted(found, key=lambda c: c.name.lower())


def find(ws: Workspace, ref: str, *, removed: bool = False, person: str | None = None) -> Contact:
    held = {c.slug: c for c in contacts(ws, removed=removed, person=person)}
    if not held:
        raise NotFound(f"no contact {ref!r}: there are no contacts yet (`upstack contact add NAME` adds one)")
    key = slugs.slugify(ref) if any(ch.isspace() for ch in ref.strip()) else ref
    return held[slugs.match_slug(key, list(held), what="contact")]


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name == "kind":
            kind = str(value).strip().lower().replace("organization", "organisation")
            if kind not in KINDS:
                raise BadInput(f"a contact is a person or an organisation, not {value!r}")
            clean[name] = kind
        elif name == "tags":
            tags = [str(t).strip().lstrip("#").lower() for t in (value if isinstance(value, list | tuple)
                                                               else str(value).split(","))]
            clean[name] = list(dict.fromkeys(t for t in tags if t))[:MAX_TAGS]
        elif name == "links":
            links = [str(u).strip() for u in (value if isinstance(value, list | tuple) else [value])]
            clean[name] = [slugs.check_url(u) for u in links if u][:MAX_LINKS]
        elif name == "follow_up":
            clean[name] = parse_day(str(value), what="follow-up date") if str(value).strip() else ""
        elif name in _TEXT:
            text = str(value).strip()
            if len(text) > _TEXT[name]:
                raise BadInput(f"the {name.replace('_', ' ')} is {len(text):,} characters; "
                               f"keep it under {_TEXT[name]:,}")
            clean[name] = text
        else:
            raise BadInput(f"a contact has no field {name!r}")
    return clean


def _write(ws: Workspace, op: str, contact: Contact | None, subject: str, *, local_only: bool, **data: Any) -> None:
    at = now_after(store_path.latest_at(ws.store().db, CONTACT_OPS))
    level = {"local_only": True} if (contact.local_only if contact is not None else local_only) else {}
    ws.store().write([ws.record(op, {"subject": subject, "at": at, **data, **level})])


def add(ws: Workspace, name: str, *, local_only: bool | None = None, **fields: Any) -> Contact:
    """A person or organisation; local-only if asked, else as the setting ``contacts_local_only`` says."""
    clean = _clean({"name": name, **fields})
    if not clean.get("name"):
        raise BadInput("a contact needs a name")
    slug = slugs.slugify(clean["name"])
    if slug in {c.slug for c in contacts(ws, removed=True)}:
        raise BadInput(f"there is a contact {slug!r} already: `upstack contact edit {slug}` changes it")
    local = ws.settings.contacts_local_only if local_only is None else local_only
    _write(ws, "contact.set", None, slug, local_only=local, change="add", **clean)
    return find(ws, slug)


def edit(ws: Workspace, ref: str, **fields: Any) -> Contact:
    found = find(ws, ref)
    changes = {k: v for k, v in _clean(fields).items() if getattr(found, k) != v}
    if not changes:
        raise BadInput("nothing to change: give the fields to change (see `upstack contact edit --help`)")
    _write(ws, "contact.set", found, found.slug, local_only=found.local_only, change="edit", **changes)
    return find(ws, found.slug)


def remove(ws: Workspace, ref: str) -> Contact:
    found = find(ws, ref)
    _write(ws, "contact.set", found, found.slug, local_only=found.local_only, change="remove")
    return found


def restore(ws: Workspace, ref: str) -> Contact:
    found = find(ws, ref, removed=True)
    if not found.removed:
        raise BadInput(f"{found.slug} is not removed")
    _write(ws, "contact.set", found, found.slug, local_only=found.local_only, change="restore")
    return find(ws, found.slug)


def log_exchange(ws: Workspace, ref: str, kind: str, text: str = "", *, title: str = "", when: str | None = None,
                 follow_up: str | None = None) -> Contact:
    """An exchange with a contact: a draft, an email sent, a reply, a call, a meeting, a note."""
    found = find(ws, ref)
    if kind not in EXCHANGES:
        raise BadInput(f"an exchange is one of {', '.join(EXCHANGES)}, not {kind!r}")
    if len(text) > MAX_EXCHANGE:
        raise BadInput(f"the text is {len(text):,} characters; keep it under {MAX_EXCHANGE:,}")
    day = today_local().isoformat() if not when else parse_day(when, what="date", prefer="past")
    if day > today_local().isoformat():
        raise BadInput(f"{day} has not happened yet: say when it happened, or leave it out for today")
    data: dict[str, Any] = {"kind": kind, "text": text.strip(), "title": " ".join(title.split())[:300], "when": day}
    if follow_up is not None:
        data["follow_up"] = parse_day(follow_up, what="follow-up date") if follow_up.strip() else ""
    _write(ws, "outreach.log", found, found.slug, local_only=found.local_only, **data)
    return find(ws, found.slug)


def set_follow_up(ws: Workspace, ref: str, day: str | None) -> Contact:
    """The day to follow a contact up (None or "": done)."""
    found = find(ws, ref)
    clean = _clean({"follow_up": day or ""})
    _write(ws, "contact.set", found, found.slug, local_only=found.local_only, change="edit", **clean)
    return find(ws, found.slug)
