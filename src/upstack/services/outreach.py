"""Outreach (`upstack outreach ...`): a cold email drafted from the person's matched work, and the
record of what they then did (sent, a reply, a call). No email is sent: upstack writes the text and
keeps what happened, as ``outreach.log`` records about the contact (services/contacts.py).

A draft is assembled from what `upstack contact match` finds (services/matching.py), so it is made
of the person's own work and never of a private entry, wellbeing notes or someone else's work: a
greeting, one line on what they did (the best-matching result's title, else the best match), the
result in a sentence (what happened, else the first sentence of its text), a link, one specific
question (the best-matching open question node or idea) and the portfolio profile's name.

The link is one a stranger can open: the portfolio accomplishment's address that cites the work, or
a public repository the work names; failing both, the work's permalink on the team server this
workspace is linked to (only its members can open it); failing that, none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from upstack.domain.entry import Entry
from upstack.domain.ladder import is_repository_url
from upstack.domain.text import parse_note_text
from upstack.errors import BadInput
from upstack.services import contacts, matching
from upstack.services.contacts import Contact
from upstack.timeutil import parse_day, today_local
from upstack.workspace import Workspace

if TYPE_CHECKING:
    from upstack.services.portfolio import Portfolio

__all__ = ["FOLLOW_UP_DAYS", "LOGGED", "Draft", "draft", "split_subject", "save_draft", "sent", "reply", "log",
           "recent", "follow_ups"]

FOLLOW_UP_DAYS = 7  # an email sent is followed up a week later unless said otherwise
LOGGED = ("call", "meeting", "note")  # what `outreach log` records (draft, sent, reply have their commands)
_SUBJECT = "Subject:"
_URL = re.compile(r"https?://[^\s<>()\[\]\"']+")
_LINKS = re.compile(r"!?\[\[[^\]]*\]\]|!\[[^\]]*\]\([^)]*\)")  # [[links]] to other entries, embedded files


@dataclass
class Draft:
    contact: Contact
    subject: str
    body: str
    work: matching.Matched | None
    question: matching.Matched | None
    link: str

    @property
    def text(self) -> str:
        """The draft as the editor shows it: its subject line, a blank line, the body."""
        return f"{_SUBJECT} {self.subject}\n\n{self.body}\n"

    def to_dict(self) -> dict[str, Any]:
        return {"contact": self.contact.slug, "subject": self.subject, "body": self.body, "link": self.link,
                "work": self.work.to_dict() if self.work else None,
                "question": self.question.to_dict() if self.question else None}


def _plain(text: str) -> str:
    """Text as an email says it: without #tags, [[links]] to other entries or embedded files."""
    return " ".join(w for w in _LINKS.sub("", text).split() if not (w.startswith("#") and len(w) > 1))


def _sentence(text: str) -> str:
    text = _plain(text)
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def _result_line(entry: Entry) -> str:
    """What came of the work, in a sentence: what happened, else the first sentence of its text."""
    happened = str(entry.meta.get("happened") or "").strip()
    if happened:
        return f"The result: {_sentence(happened)}"
    body = _plain(entry.body)
    return _sentence(parse_note_text(body).title) if body else ""


def _link(ws: Workspace, entry: Entry, held: Portfolio) -> str:
    for item in held.items:
        cites = any(s["id"] == entry.id or (s["kind"] == "node" and s["id"] == entry.node_id) for s in item.sources)
        if cites and item.url:
            return item.url
    found = [u.rstrip(".,;:!?") for u in _URL.findall(f"{entry.title}\n{entry.body}")]
    repository = next((u for u in found if is_repository_url(u)), None)
    if repository:
        return repository
    from upstack.services.remote import REMOTE_FILE, remote

    if (ws.home / REMOTE_FILE).exists():
        return f"{remote(ws).url.rstrip('/')}/e/{entry.id}"
    return ""


def _question_line(found: matching.Matched) -> str:
    title = _plain(found.title).rstrip(".")
    if found.kind == "open-question":
        return f"One question I have not managed to answer, and would value your view on: {title.rstrip('?')}?"
    return (f"Next I would like to try this: {title}. Do you think it is worth doing, "
            "or do you know of someone who has done it already?")


def draft(ws: Workspace, contact: Contact | str, *, limit: int = 5) -> Draft:
    """A short cold email to ``contact`` (a Contact, or a name to find), made of the matched work."""
    found = contacts.find(ws, contact) if isinstance(contact, str) else contact
    matched = matching.for_contact(ws, found.slug, limit=limit)
    work = next((m for m in matched.work if m.kind == "result"), matched.work[0] if matched.work else None)
    if work is None or work.entry is None:
        raise BadInput(f"nothing of yours matches {found.name}'s interests yet "
                       f"(`upstack contact match {found.slug}` shows what is looked for): write up a result first")
    question = matched.problems[0] if matched.problems else None
    from upstack.services import portfolio  # its modules (the ladder's) only when a draft is made

    held = portfolio.load(ws)
    link = _link(ws, work.entry, held)
    greeting = f"Hi {found.name.split()[0]}," if found.kind == "person" else f"Hello {found.name} team,"
    lines = [greeting, "", f"I have been working on something close to your research: {_sentence(work.title)}"]
    said = _result_line(work.entry)
    if said and said != _sentence(work.title):
        lines.append(said)
    if link:
        lines.append(f"The details are here: {link}")
    if question is not None:
        lines += ["", _question_line(question)]
    lines += ["", "Best,", held.profile.name or "[your name: `upstack portfolio profile --name`]"]
    subject = _plain(work.title).rstrip(".")
    return Draft(found, subject[:97] + "..." if len(subject) > 100 else subject, "\n".join(lines), work, question,
                 link)


def split_subject(text: str) -> tuple[str, str]:
    """(subject, body) of a draft as edited: a first line ``Subject: ...`` is the subject."""
    first, _, rest = text.strip().partition("\n")
    if first.startswith(_SUBJECT):
        return first[len(_SUBJECT):].strip(), rest.strip()
    return "", text.strip()


def save_draft(ws: Workspace, ref: str, text: str) -> Contact:
    """Keep a draft (as edited) as a ``draft`` exchange with the contact."""
    subject, body = split_subject(text)
    if not body:
        raise BadInput("the draft is empty: nothing was saved")
    return contacts.log_exchange(ws, ref, "draft", body, title=subject)


def _day(when: str | None) -> str:
    return today_local().isoformat() if not when else parse_day(when, what="date", prefer="past")


def sent(ws: Workspace, ref: str, text: str | None = None, *, subject: str | None = None, when: str | None = None,
         follow_up: str | None = None) -> Contact:
    """An email sent to the contact (``text`` None: the newest draft, as it was kept), to follow up
    ``follow_up`` (a day; default: FOLLOW_UP_DAYS after it was sent)."""
    found = contacts.find(ws, ref)
    if text is None:
        drafts = [x for x in found.history if x["kind"] == "draft"]
        if not drafts:
            raise BadInput(f"no draft to {found.name} is kept: give what was sent with --file or --text")
        text, subject = drafts[-1]["text"], subject if subject is not None else drafts[-1]["title"]
    day = _day(when)
    if follow_up is None:
        follow_up = (date.fromisoformat(day) + timedelta(days=FOLLOW_UP_DAYS)).isoformat()
    return contacts.log_exchange(ws, found.slug, "sent", text, title=subject or "", when=day, follow_up=follow_up)


def reply(ws: Workspace, ref: str, text: str, *, when: str | None = None, follow_up: str | None = None) -> Contact:
    """A reply from the contact: it clears the follow-up, unless a new one is given."""
    if not text.strip():
        raise BadInput("the reply is empty: give its text with --text or --file")
    return contacts.log_exchange(ws, ref, "reply", text, when=_day(when), follow_up=follow_up or "")


def log(ws: Workspace, ref: str, kind: str, text: str = "", *, when: str | None = None,
        follow_up: str | None = None) -> Contact:
    """A call, a meeting or a note about the contact."""
    if kind not in LOGGED:
        raise BadInput(f"`outreach log` records a {', a '.join(LOGGED[:-1])} or a {LOGGED[-1]}, not {kind!r} "
                       "(drafts, emails sent and replies have their own commands)")
    return contacts.log_exchange(ws, ref, kind, text, when=_day(when), follow_up=follow_up)


def recent(ws: Workspace, limit: int = 20) -> list[tuple[Contact, dict[str, Any]]]:
    """The newest exchanges with anyone, newest first."""
    every = [(c, x) for c in contacts.contacts(ws) for x in c.history]
    every.sort(key=lambda pair: (pair[1]["when"], pair[1]["at"]), reverse=True)
    return every[:limit]


def follow_ups(ws: Workspace, days: int = 7) -> list[Contact]:
    """Contacts to follow up within ``days`` (those overdue too), soonest first."""
    until = (today_local() + timedelta(days=days)).isoformat()
    due = [c for c in contacts.contacts(ws) if c.follow_up and c.follow_up <= until]
    return sorted(due, key=lambda c: (c.follow_up, c.name.lower()))
