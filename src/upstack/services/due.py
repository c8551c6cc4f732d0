"""What is due (`upstack due`): one list, soonest first, of the dated things a person has promised
themselves or others: opportunities' deadlines, follow-ups on applications and contacts, interviews
and work tests, practice reviews. Each kind is a source below; a later feature adds its kind by
adding a source to ``SOURCES``.

Only the reader's own items, always: every source reads the reader's path (store/path.py), so on
a team server a member sees their own and nobody else's, and a reader who is nobody sees none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from upstack.errors import BadInput
from upstack.timeutil import today_local
from upstack.workspace import Workspace

__all__ = ["DueItem", "SOURCES", "KINDS", "due", "MAX_DAYS"]

MAX_DAYS = 3660  # ten years ahead is as far as a list of what is due looks
# The sources' kinds.
KINDS = ("deadline", "follow-up", "screen", "work-test", "interview", "stage", "practice", "check-in", "revisit",
         "resolve")


@dataclass(frozen=True)
class DueItem:
    day: str        # YYYY-MM-DD
    kind: str       # deadline, follow-up, interview, work-test, practice, ...
    title: str
    ref: str        # what to type to act on it (an opportunity's, application's or contact's slug)
    detail: str = ""
    about: str = ""  # what ``ref`` names: an opportunity, application, contact or practice problem

    def to_dict(self, today: date | None = None) -> dict[str, Any]:
        overdue = today is not None and self.day < today.isoformat()
        return {**asdict(self), "overdue": overdue}


def _pipeline(ws: Workspace, until: str) -> Iterable[DueItem]:
    """Deadlines of opportunities not yet applied to (on the wishlist, or no application at all);
    follow-ups on applications, and the day an open application's stage waits on."""
    from upstack.domain.pipeline import FIRST
    from upstack.services import applications

    held, apps = applications.pipeline_of(ws)  # each folded once
    moved = {a.slug for a in apps if a.stage != FIRST}
    for opp in held:
        if not opp.archived and opp.deadline and opp.deadline <= until and opp.slug not in moved:
            yield DueItem(opp.deadline, "deadline", opp.title, opp.slug, opp.kind, "opportunity")
    for app in apps:
        if app.archived:
            continue
        if app.follow_up and app.follow_up <= until:
            yield DueItem(app.follow_up, "follow-up", app.title, app.slug, f"application at {app.stage}",
                          "application")
        if app.on and not app.ended and app.on <= until:
            kind = app.stage if app.stage in ("interview", "work-test", "screen") else "stage"
            yield DueItem(app.on, kind, app.title, app.slug, f"application at {app.stage}", "application")


def _contacts(ws: Workspace, until: str) -> Iterable[DueItem]:
    from upstack.services import contacts

    for contact in contacts.contacts(ws):
        if contact.follow_up and contact.follow_up <= until:
            last = contact.last_exchange
            said = f"last: {last['kind']} on {last['when']}" if last else "no exchange yet"
            yield DueItem(contact.follow_up, "follow-up", contact.name, contact.slug, said, "contact")


def _practice(ws: Workspace, until: str) -> Iterable[DueItem]:
    """Practice reviews: one line for all that are overdue (dated the oldest), then one a day; a
    list of what is due says reviews are waiting, `upstack practice due` lists them."""
    from upstack.services import practice

    today = today_local().isoformat()
    groups: dict[str, list[tuple[str, str]]] = {}  # "overdue" or a day: [(day, title)]
    for review in practice.due(ws, on=date.fromisoformat(until)):
        day = datetime.fromisoformat(review.due).astimezone().date().isoformat()  # the person's day
        groups.setdefault("overdue" if day < today else day, []).append((day, review.title or review.problem))
    for key, found in groups.items():
        titles = [title for _, title in found]
        shown = ", ".join(titles[:3]) + (f" and {len(titles) - 3} more" if len(titles) > 3 else "")
        said = f"{len(titles)} problem{'s' if len(titles) != 1 else ''} to review"
        yield DueItem(min(day for day, _ in found), "practice",
                      f"{said}{' (overdue)' if key == 'overdue' else ''}: {shown}", "practice due",
                      about="practice")


def _checkin(ws: Workspace, until: str) -> Iterable[DueItem]:
    """When the person asked to be reminded (setting ``checkin_reminder``): today's check-in if not
    done, the weekly burnout questionnaire a week after the last (only for someone who answered it
    once: it is optional), and a fit note a month after the last. Never on a team server (it keeps no
    wellbeing data)."""
    if not ws.settings.checkin_reminder:
        return
    from upstack.services import accounts, burnout, fit, wellbeing, wellbeing_seal

    if accounts.has_accounts(ws):
        return
    today = today_local()
    try:
        done = today.isoformat() in wellbeing.checkins(ws, today.isoformat())
    except (wellbeing_seal.Locked, wellbeing_seal.WrongPassphrase) as sealed:
        # Whether today's is done cannot be told: said, not left out (the other items are listed all the same).
        why = "the passphrase given does not open them" if isinstance(sealed, wellbeing_seal.WrongPassphrase) \
            else f"set {wellbeing_seal.PASSPHRASE_ENV} to open them"
        yield DueItem(today.isoformat(), "check-in", f"check in, if not done yet, and the weekly questionnaire and "
                      f"fit note if due: your check-ins are locked ({why})", "checkin", about="check-in")
        return
    if not done:
        yield DueItem(today.isoformat(), "check-in", "check in: sleep, energy, mood, your signs", "checkin",
                      about="check-in")
    questionnaire = burnout.due_on(ws)
    if questionnaire is not None and questionnaire.isoformat() <= until:
        yield DueItem(questionnaire.isoformat(), "check-in", "the weekly burnout questionnaire (six questions)",
                      "checkin burnout", about="check-in")
    note = fit.due_on(ws)
    if note is not None and note.isoformat() <= until:
        yield DueItem(note.isoformat(), "check-in", "a fit note: what energised and what drained you this month",
                      "fit note", about="check-in")


def _revisits(ws: Workspace, until: str) -> Iterable[DueItem]:
    """The reader's own decisions whose revisit day (`note --kind decision --revisit`) has come, until a
    learning is recorded from them: "was this right?", the guide's gradient descent into better work."""
    from upstack.domain.filters import Filters
    from upstack.store import periods, queries

    db = ws.store().db
    decided = queries.load_entries(db, queries.ids_oldest_first(db, Filters(kinds=("decision",))))
    due = [e for e in decided if queries.is_own(db, e.author_id) and isinstance(e.meta.get("revisit_on"), str)
           and e.meta["revisit_on"] <= until]
    answered = periods.learning_sources(db) if due else set()
    for entry in due:
        if entry.id not in answered:
            yield DueItem(entry.meta["revisit_on"], "revisit", f"was this right? {entry.title}", entry.short,
                          f"upstack learned {entry.short} ...", "decision")


def _predictions(ws: Workspace, until: str) -> Iterable[DueItem]:
    """The reader's own open predictions whose resolve-by day has come: resolve them while the result is fresh."""
    from upstack.services import predictions
    from upstack.store.queries import own_among

    waiting = predictions.listing(ws, state="open")
    own = own_among(ws.store().db, (p.entry.author_id for p in waiting))
    for found in waiting:
        by = found.row.get("resolve_by")
        if by and str(by) <= until and found.entry.author_id in own:
            yield DueItem(str(by), "resolve", f"resolve: {found.entry.title}", found.entry.short,
                          f"said {found.probability:.0%}", "prediction")


def _takes(ws: Workspace, until: str) -> Iterable[DueItem]:
    """The reader's own takes whose revisit day has come: is the claim still convincing? Until the take
    is updated or marked revisited (`upstack take revisited`)."""
    from upstack.services import takes

    for found in takes.revisit_queue(ws):
        if str(found.revisit_by) <= until:
            yield DueItem(str(found.revisit_by), "revisit", f"still convinced? {found.entry.title}", found.entry.short,
                          f"{found.moved}, from {found.row['source']}", "take")


SOURCES: list[Callable[[Workspace, str], Iterable[DueItem]]] = [_pipeline, _contacts, _practice, _checkin, _revisits,
                                                               _predictions, _takes]


def due(ws: Workspace, *, days: int = 14, kinds: Iterable[str] | None = None) -> list[DueItem]:
    """Everything due from any time past up to ``days`` from today (overdue first), soonest first."""
    if not 0 <= days <= MAX_DAYS:
        raise BadInput(f"--days must be from 0 to {MAX_DAYS}, got {days}")
    until = (today_local() + timedelta(days=days)).isoformat()
    wanted = set(kinds) if kinds else None
    unknown = sorted((wanted or set()) - set(KINDS))
    if unknown:
        raise BadInput(f"no kind {unknown[0]!r} of what is due: the kinds are {', '.join(KINDS)}")
    found = [item for source in SOURCES for item in source(ws, until)
             if wanted is None or item.kind in wanted]
    return sorted(found, key=lambda item: (item.day, item.kind, item.title))
