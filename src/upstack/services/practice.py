"""Interview practice (`upstack practice`): an attempt log, reviews scheduled by FSRS, and the
guide's bar ("LeetCode mediums reliably in under 30 minutes; past that, diminishing returns").

The attempt log is the source of truth: every schedule is computed again from it on every read,
with the ``fsrs`` package, and no scheduler state is stored, so a new ``fsrs`` version (or another
desired retention) reschedules the whole history and never loses it. Logging an attempt is a
capture (``ws.append``: the journal only, no database opened), as fast as `upstack note`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime  # fromisoformat: a tenth of strptime's cost, per attempt
from typing import TYPE_CHECKING, Any

from upstack import ids
from upstack.domain import practice as rules
from upstack.domain.practice import Attempt, Bar
from upstack.errors import Ambiguous, BadInput, NotFound
from upstack.formats.journal import Record
from upstack.timeutil import local_display, now, now_after, now_iso, to_iso
from upstack.workspace import Workspace

if TYPE_CHECKING:
    from upstack.store.path import PathEvent

__all__ = ["OP", "Review", "Struck", "log_attempt", "check_happened", "attempts", "records", "schedule", "due",
           "bar_status", "bar_reached", "bar_statement", "bar_chart", "strike"]

OP = "practice.attempt"


def check_happened(at: str, what: str = "date") -> str:
    """``at`` unless it is yet to come: an attempt is logged after it happened."""
    if at > now_iso():
        raise BadInput(f"the {what} {local_display(at)} has not happened yet: log an attempt once it is made")
    return at


def log_attempt(ws: Workspace, problem: str, *, minutes: object, outcome: str, difficulty: str | None = None,
                topics: tuple[str, ...] | list[str] = (), title: str | None = None, url: str | None = None,
                at: str | None = None, first: bool | None = None) -> Record:
    """Log an attempt at a problem (its slug or web address) through the capture path: the journal
    only, no database opened. Returns the record; ``first`` left out is derived from the history."""
    ws.check_writable()
    data = rules.attempt_data(problem, at=check_happened(at) if at else now_iso(), minutes=minutes,
                              outcome=outcome, difficulty=difficulty, topics=topics, title=title, url=url,
                              first=first)
    record = ws.record(OP, data)
    ws.append([record])
    return record


def records(ws: Workspace, person: str | None = None) -> list[PathEvent]:
    """The reader's (or a checked ``person``'s) practice records, strikes too, oldest first."""
    from upstack.store import path as store_path  # the SQL store: kept off the capture path (`practice log`)

    return store_path.events(ws.store().db, [OP], person)


def attempts(ws: Workspace, person: str | None = None) -> list[Attempt]:
    """The reader's attempts as they stand (struck ones left out), oldest first."""
    return rules.fold((event.id, event.at, event.data) for event in records(ws, person))


@dataclass(frozen=True)
class Review:
    """A problem's next review, as FSRS schedules it from every attempt at it."""

    problem: str
    title: str | None
    difficulty: str | None
    topics: tuple[str, ...]
    due: str            # ISO time
    last: str           # the latest attempt's time
    last_rating: str    # again, hard, good or easy
    attempts: int
    stability: float    # days for recall to fall to 90%, as FSRS models it

    def to_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "title": self.title, "difficulty": self.difficulty,
                "topics": list(self.topics), "due": self.due, "last": self.last, "last_rating": self.last_rating,
                "attempts": self.attempts, "stability": round(self.stability, 4)}


def schedule(history: list[Attempt], *, retention: float, target: float) -> list[Review]:
    """Each problem's next review, computed from its attempts in order by FSRS (the ``fsrs``
    package), soonest first. No learning steps (an interview problem is reviewed days apart, not
    minutes) and no fuzzing, so the same history always gives the same schedule."""
    from fsrs import Card, Rating, Scheduler  # ~20 ms to import: only when a schedule is asked for

    scheduler = Scheduler(desired_retention=retention, learning_steps=(), relearning_steps=(),
                          enable_fuzzing=False)
    cards: dict[str, Any] = {}
    last: dict[str, tuple[Attempt, str, int]] = {}
    for attempt in history:
        grade = rules.rating(attempt.outcome, attempt.minutes, target)
        card = cards.get(attempt.problem) or Card(card_id=1)  # an id of our own: Card() sleeps to make one
        cards[attempt.problem], _ = scheduler.review_card(
            card, Rating(rules.RATINGS.index(grade) + 1), review_datetime=datetime.fromisoformat(attempt.at))
        count = last[attempt.problem][2] + 1 if attempt.problem in last else 1
        last[attempt.problem] = (attempt, grade, count)
    reviews = [Review(problem=key, title=latest.title, difficulty=latest.difficulty, topics=latest.topics,
                      due=to_iso(cards[key].due), last=latest.at, last_rating=grade, attempts=count,
                      stability=float(cards[key].stability or 0.0))
               for key, (latest, grade, count) in last.items()]
    return sorted(reviews, key=lambda r: (r.due, r.problem))


def due(ws: Workspace, *, on: date | None = None, person: str | None = None) -> list[Review]:
    """Problems whose next review falls on ``on`` (today, in local time) or earlier, most overdue first."""
    day = on or now().astimezone().date()
    return [review for review in schedule(attempts(ws, person), retention=ws.settings.practice_retention,
                                          target=ws.settings.practice_target_minutes)
            if datetime.fromisoformat(review.due).astimezone().date() <= day]


def bar_status(ws: Workspace, person: str | None = None, *, history: list[Attempt] | None = None) -> Bar:
    """Where the reader stands against the bar (the practice_bar_* settings), with slowest patterns."""
    s = ws.settings
    return rules.bar(attempts(ws, person) if history is None else history, window=s.practice_bar_window,
                     needed=s.practice_bar_solved, target=s.practice_target_minutes)


def bar_reached(ws: Workspace, person: str | None = None) -> bool | None:
    """Whether the reader has reached the bar; None while it is not yet measured (fewer than
    practice_bar_window first attempts at mediums). For the ladder's interview-practice step."""
    return bar_status(ws, person).reached


def bar_chart(ws: Workspace, history: list[Attempt]) -> list[dict[str, Any]]:
    """The bar over time: after each first attempt at a medium, the share within target of the
    last practice_bar_window of them (``of``: how many that is, fewer at the start)."""
    s = ws.settings
    return [{"at": at, "share": share, "of": of}
            for at, share, of in rules.bar_over_time(history, window=s.practice_bar_window,
                                                     target=s.practice_target_minutes)]


def bar_statement(bar: Bar) -> list[str]:
    """What `practice bar` and the practice page say about the bar, line by line."""
    target = f"{bar.target:g}"
    lines = [f"The bar: at least {bar.needed} of your last {bar.window} first attempts at medium problems "
             f"solved unaided in {target} minutes or less."]
    if bar.counted == 0:
        lines.append("Not measured yet: log first attempts at mediums with `upstack practice log ... "
                     "--difficulty medium`.")
    else:
        assert bar.share is not None
        lines.append(f"You: {bar.solved} of your last {bar.counted} ({bar.share:.0%}; 95% interval "
                     f"{bar.low:.0%} to {bar.high:.0%}).")
    if bar.reached is None and bar.counted:
        lines.append(f"{bar.more_needed} more first attempt{'s' if bar.more_needed != 1 else ''} at mediums "
                     f"needed before the bar can be judged.")
    if bar.reached:
        lines.append("Bar reached. More grinding now has diminishing returns: research output is the better "
                     "use of your time (`upstack idea`, `upstack add project`).")
        return lines
    if bar.reached is False:
        lines.append("Below the bar for now; that is normal, and it moves with practice.")
    if bar.slowest:
        lines.append("Slowest patterns: " + "; ".join(
            f"{p.topic} ({p.within:.0%} within {target} min over {p.attempts}, median {p.median_minutes:g} min)"
            for p in bar.slowest))
    return lines


@dataclass(frozen=True)
class Struck:
    """What a strike did: the record it named, and whether that put an attempt back."""

    strike_id: str
    target: PathEvent
    restored: bool


def strike(ws: Workspace, ref: str) -> Struck:
    """Strike out an attempt logged by mistake (its id, or the start of its short id): one more
    record, so nothing is lost. Striking a strike puts back what it struck."""
    events = records(ws)
    wanted = ref.strip().lower()
    if len(wanted) < ids.MIN_PREFIX:
        raise BadInput(f"give at least {ids.MIN_PREFIX} characters of the attempt's id (`upstack practice list`)")
    found = [e for e in events if e.id.lower() == wanted or ids.id_key(e.id).startswith(wanted)]
    if not found:
        raise NotFound(f"no practice attempt {ref!r} (`upstack practice list` shows their ids)")
    if len(found) > 1:
        raise Ambiguous(f"{ref!r} is the start of several attempts' ids: give more of it")
    target = found[0]
    struck = rules.struck_out((e.id, e.at, e.data) for e in events)
    if target.id in struck:
        raise BadInput(f"attempt {ids.short_id(target.id)} is struck out already "
                       "(strike the strike to put it back)")
    record = ws.record(OP, {"subject": target.subject, "at": now_after(max(e.at for e in events)),
                            "strikes": target.id})
    ws.store().write([record])
    return Struck(strike_id=record.id, target=target, restored=bool(target.data.get("strikes")))
