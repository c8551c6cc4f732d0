"""Who may read a person's path: the mentor role (issue 15).

A person's ladder, practice log and portfolio are theirs alone (store/path.py). They may show their
ladder (with its learning resources) and their portfolio to members of the team server they name,
their mentors, with a ``path.share`` record (``subject``: the member's user id on the server, their
login on a laptop, which the sync door turns into the id): private by default, nothing is shown
until shared, and the newest share for a member is what holds (a revocation is one more record).
The practice log is never shown to anyone else, nor anything private of the log.

``person_for`` is the one check every reader of another person's path goes through: the answer for
someone who did not show that part to the reader is the answer for a login that does not exist.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from upstack.domain.access import current
from upstack.domain.text import unstorable
from upstack.errors import BadInput, NotFound
from upstack.services._account_rows import db_of
from upstack.store import path as store_path
from upstack.store.accounts import has_users, owner_id, user_row
from upstack.timeutil import now_after
from upstack.workspace import Workspace

__all__ = ["PARTS", "DEFAULT_PARTS", "PART_OPS", "Shown", "mentors_of", "shown_to_me", "person_for", "reading", "show",
           "stop_showing",
           "path_of"]

# What a mentor may be shown; never "practice". The calibration is a person's scores over their own
# predictions (services/predictions.calibration_of), shown only when named, like the pipeline.
PARTS = ("ladder", "portfolio", "pipeline", "contacts", "calibration")
DEFAULT_PARTS = ("ladder", "portfolio")  # the pipeline and contacts are shown only when named
PART_OPS: dict[str, tuple[str, ...]] = {
    "ladder": ("ladder.step", "ladder.evidence", "resource.set", "resource.progress"),
    "portfolio": ("portfolio.profile", "portfolio.item", "portfolio.variant"),
    "pipeline": ("opp.set", "opp.posting", "apply.set", "apply.stage"),
    "contacts": ("contact.set", "outreach.log"),
    "practice": ("practice.attempt",),
}
_MAX_LOGIN = 64
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")  # as services/accounts.py makes them


@dataclass(frozen=True)
class Shown:
    """One person showing parts of their path to another: ``login`` is the other side's."""

    login: str
    parts: tuple[str, ...]
    since: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "parts": list(self.parts)}


def _newest(events: list[store_path.PathEvent]) -> dict[str, store_path.PathEvent]:
    """The newest share per member (events come oldest first)."""
    return {event.subject: event for event in events}


def _parts(event: store_path.PathEvent) -> tuple[str, ...]:
    if event.data.get("revoked"):
        return ()
    return tuple(p for p in PARTS if p in (event.data.get("parts") or []))


def _login_of(db: Any, subject: str) -> str | None:
    """A share's member as people know them: a member's login (None once removed); on a laptop the
    subject is a login already."""
    if not has_users(db):
        return subject
    row = user_row(db, user_id=subject)
    return None if row is None or row["removed_at"] else str(row["login"])


def mentors_of(ws: Workspace) -> list[Shown]:
    """Whom the reader shows their path to, and which parts: the newest share for each, if it shows any."""
    db = db_of(ws)
    found = []
    for subject, event in _newest(store_path.events(db, ["path.share"])).items():
        login, parts = _login_of(db, subject), _parts(event)
        if login and parts:
            found.append(Shown(login=login, parts=parts, since=event.at))
    return sorted(found, key=lambda s: s.login)


def _reader_id(db: Any) -> str | None:
    """The reader's user id: a signed-in member's, or the owner's on the server's own command line."""
    audience = current(team=db.team)
    if audience is None:
        return owner_id(db)
    return audience.user_id or None


def _shown_by(db: Any) -> dict[str, tuple[tuple[str, ...], str]]:
    """{person key: (parts, since)} of everyone who shows the reader part of their path."""
    me = _reader_id(db)
    if me is None:
        return {}
    newest: dict[str, store_path.PathEvent] = {}
    for person, event in store_path.shares_naming(db, me):
        newest[person] = event
    return {person: (_parts(event), event.at) for person, event in newest.items() if _parts(event)}


def _person_login(db: Any, person: str) -> str | None:
    user = owner_id(db) if person == "" else person
    row = user_row(db, user_id=user) if user else None
    return None if row is None or row["removed_at"] else str(row["login"])


def shown_to_me(ws: Workspace) -> list[Shown]:
    """Whose paths the reader may read, and which parts (each person's newest share naming them)."""
    db = db_of(ws)
    found = []
    for person, (parts, since) in _shown_by(db).items():
        login = _person_login(db, person)
        if login:
            found.append(Shown(login=login, parts=parts, since=since))
    return sorted(found, key=lambda s: s.login)


def person_for(ws: Workspace, login: str, part: str) -> str:
    """The person key (store/path.py) of ``login``'s path for reading ``part`` of it: the reader's own,
    or one they were shown. Anything else, a login that does not exist included, is the same NotFound."""
    db = db_of(ws)
    missing = NotFound(f"no path of {login[:_MAX_LOGIN].replace(chr(0), '')!r} to show you")
    well_formed = len(login) <= _MAX_LOGIN and not unstorable(login)  # PostgreSQL refuses a NUL in a query
    row = user_row(db, login=login) if well_formed and has_users(db) else None
    if row is None or row["removed_at"]:
        raise missing
    key = store_path.person_key(db, str(row["id"]))
    if key == store_path.reader_key(db):
        return key
    if part in PARTS and part in _shown_by(db).get(key, ((), ""))[0]:
        return key
    raise missing


def reading(ws: Workspace, login: str, part: str) -> str | None:
    """What a service's ``person`` is for reading ``part`` of ``login``'s path: None when it is the
    reader's own (read as their own, local-only records included), else the key ``person_for`` checked."""
    key = person_for(ws, login, part)
    return None if key == store_path.reader_key(db_of(ws)) else key


def path_of(ws: Workspace, login: str) -> dict[str, Any]:
    """What the reader may read of ``login``'s path: the ladder (with learning resources) and the
    portfolio, each if shown to them (or their own); never the practice log, not even as the ladder's
    practice step. A log item named as evidence or as an accomplishment's source shows only if the
    reader may see it themselves. NotFound if neither part is shown."""
    from upstack.services import ladder, portfolio, resources  # their folds; they do not import this

    db = db_of(ws)
    found: dict[str, Any] = {"login": login, **{part: None for part in PARTS}}
    for part in PARTS:
        try:
            key = person_for(ws, login, part)
        except NotFound:
            continue
        person = None if key == store_path.reader_key(db) else key  # one's own path is read as one's own
        if part == "ladder":
            steps = [_seen_evidence(ws, state.to_dict()) for state in ladder.load(ws, person=person).steps]
            found["ladder"] = {"steps": steps, "done": sum(s["state"] == "done" for s in steps),
                               "skipped": sum(s["state"] == "skipped" for s in steps),
                               "resources": [r.to_dict() for r in resources.resources(ws, person=person)]}
        elif part == "portfolio":
            held = portfolio.load(ws, person=person)
            found["portfolio"] = {"profile": held.profile.to_dict(),
                                  "items": [_seen_sources(ws, item.to_dict()) for item in held.items]}
        elif part == "pipeline":
            found["pipeline"] = _pipeline(ws, person)
        elif part == "calibration":  # its own page: services/predictions.calibration_of
            found["calibration"] = {"href": f"/people/{login}/calibration"}
        else:
            from upstack.services import contacts

            found["contacts"] = [c.to_dict() for c in contacts.contacts(ws, person=person)]
    if all(found[part] is None for part in PARTS):
        person_for(ws, login, PARTS[0])  # raises the one NotFound
    return found


def _pipeline(ws: Workspace, person: str | None) -> dict[str, Any]:
    """A person's opportunities and applications as a mentor reads them: the log items behind them
    (what was sent, what a rejection taught) only if the reader may see those themselves."""
    from upstack.services import applications

    held, apps = applications.pipeline_of(ws, person=person)  # each folded once
    shown = []
    for app in (a for a in apps if not a.archived):
        data = app.to_dict()
        data["sent"] = [ref if _sees(ws, ref) is not None else "" for ref in app.sent]
        data["timeline"] = [{**step, "learned": step["learned"] if _sees(ws, str(step["learned"])) else ""}
                            if step.get("learned") else step for step in app.timeline]
        shown.append(data)
    return {"opportunities": [o.to_dict() for o in held if not o.archived], "applications": shown}


NOT_SHARED = "an item of their log you may not see"


def _sees(ws: Workspace, ref: str) -> str | None:
    """The title the reader sees for a log item (an entry, idea, node or run), or None if they may not see it."""
    from upstack.services.ladder_log import target

    try:
        return target(ws, ref)[2]
    except (NotFound, BadInput):
        return None


def _seen_evidence(ws: Workspace, step: dict[str, Any]) -> dict[str, Any]:
    shown = []
    for evidence in step["evidence"]:
        if evidence["kind"] != "url":
            title = _sees(ws, evidence["ref"])
            evidence = {**evidence, "title": title} if title is not None else \
                {**evidence, "ref": "", "title": NOT_SHARED}
        shown.append(evidence)
    return {**step, "evidence": shown}


def _seen_sources(ws: Workspace, item: dict[str, Any]) -> dict[str, Any]:
    sources = []
    for source in item.get("sources", []):
        title = _sees(ws, str(source.get("id", "")))
        sources.append({**source, "title": title} if title is not None else
                       {"kind": source.get("kind", ""), "id": "", "title": NOT_SHARED})
    return {**item, "sources": sources}


# -- writing: whom the reader shows their path ----------------------------------------------------

def _member(ws: Workspace, login: str) -> str:
    """The share's subject: a member's user id on a team server; on a laptop, the login as typed (the
    server checks it at the next sync)."""
    from upstack.services.accounts import find_user

    if has_users(db_of(ws)):
        return find_user(ws, login).id
    name = login.strip().lower()
    if not _LOGIN.match(name):
        raise BadInput(f"{login!r} is not a login: lowercase letters, digits, '.', '_' and '-', at most 32")
    return name


def _write_share(ws: Workspace, login: str, parts: tuple[str, ...], *, revoked: bool) -> None:
    db = db_of(ws)
    subject = _member(ws, login)
    latest = max((e.at for e in store_path.events(db, ["path.share"])), default=None)
    ws.store().write([ws.record("path.share", {"subject": subject, "at": now_after(latest),
                                               "parts": list(parts), "revoked": revoked})])


def show(ws: Workspace, login: str, parts: tuple[str, ...] = DEFAULT_PARTS) -> Shown:
    """Show ``login`` these parts of the reader's path (ladder, portfolio, pipeline, contacts,
    calibration), and no others: read-only, and never the practice log."""
    wrong = [p for p in parts if p not in PARTS]
    if wrong:
        raise BadInput(f"{wrong[0]!r} cannot be shown to a mentor: choose from {', '.join(PARTS)} "
                       "(the practice log stays yours)")
    if not parts:
        raise BadInput("name what to show: --ladder, --portfolio, --pipeline, --contacts, --calibration")
    _write_share(ws, login, tuple(p for p in PARTS if p in parts), revoked=False)
    return next(s for s in mentors_of(ws) if s.login == login.strip().lower())


def stop_showing(ws: Workspace, login: str) -> None:
    """Show ``login`` nothing of the reader's path any more."""
    if not any(s.login == login.strip().lower() for s in mentors_of(ws)):
        raise NotFound(f"you do not show your path to {login!r}; `upstack path mentor list` shows to whom you do")
    _write_share(ws, login, (), revoked=True)
