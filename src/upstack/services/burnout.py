"""The weekly burnout questionnaire (issue 18): the Copenhagen Burnout Inventory's personal-burnout
scale, six items, scored as published (domain/cbi.py). Optional: nobody is asked until they answer it
once; after that `upstack due` offers it again a week after the last (with ``checkin_reminder`` on).

Each answer is a ``checkin.cbi`` record (a wellbeing record: local-only, sealed with a passphrase when
one is set), its subject the day answered. A score from 50 up comes with the line the person set
(``burnout_talk_line``) suggesting talking it over with someone: a pointer, never a diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from upstack.domain import cbi
from upstack.errors import BadInput
from upstack.services.wellbeing import read_records, write_record
from upstack.timeutil import iso_day, today_local
from upstack.workspace import Workspace

__all__ = ["Answer", "answer", "answers", "due_on", "talk_line", "EVERY_DAYS"]

EVERY_DAYS = 7


@dataclass(frozen=True)
class Answer:
    day: str
    at: str
    points: tuple[int | None, ...]  # one per item, None where skipped
    score: float | None
    level: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day, "at": self.at, "points": list(self.points), "score": self.score,
                "level": self.level}


def answer(ws: Workspace, given: Sequence[str | int | None], *, day: date | None = None) -> Answer:
    """Score and keep one questionnaire (``given``: an answer per item, None where skipped)."""
    today = today_local()
    day = day or today
    if day > today:
        raise BadInput(f"{day.isoformat()} is in the future: answer for today or a day gone by")
    points = tuple(None if a is None else cbi.points(_as_points(a)) for a in given)
    score = cbi.score(points)
    if score is None:
        raise BadInput(f"answer at least {cbi.MIN_ANSWERED} of the {len(cbi.ITEMS)} questions for a score "
                       f"(the scale's rule): {sum(p is not None for p in points)} answered")
    write_record(ws, "checkin.cbi", day.isoformat(), points=list(points), score=score)
    return next(a for a in answers(ws) if a.day == day.isoformat())


def _as_points(answer: str | int) -> str | int:
    """An answer given as its points ('75') as the number, else as it is: a label, or text that is
    neither (int() takes '²' for no number, and refuses 5000 digits, both of which isdigit() passes)."""
    if isinstance(answer, str) and answer.strip().isdecimal() and len(answer.strip()) <= 3:
        return int(answer)
    return answer


def answers(ws: Workspace) -> list[Answer]:
    """Every questionnaire answered, oldest day first; a day answered twice counts its later answer.
    A stored answer that is not one upstack writes (another version's, a hand-edited import) is unread."""
    by_day: dict[str, Answer] = {}
    for event in read_records(ws, "checkin.cbi"):
        stored = event.data.get("points")
        if iso_day(event.subject) is None or not isinstance(stored, list) or len(stored) != len(cbi.ITEMS) \
                or not all(p is None or (type(p) is int and p in cbi.POINTS.values()) for p in stored):
            continue
        points = tuple(stored)
        score = cbi.score(points) if len(points) == len(cbi.ITEMS) else None
        by_day[event.subject] = Answer(event.subject, event.at, points, score, cbi.level(score))
    return [by_day[d] for d in sorted(by_day)]


def due_on(ws: Workspace) -> date | None:
    """When the questionnaire is next due: a week after the last one; None for someone who never
    answered it (it is optional, and nobody is nagged into it)."""
    found = answers(ws)
    if not found:
        return None
    return date.fromisoformat(found[-1].day) + timedelta(days=EVERY_DAYS)


def talk_line(ws: Workspace, score: float | None) -> str:
    """The person's line for a high score ('' below it, or when they turned it off)."""
    if cbi.level(score) != "high":
        return ""
    line = (ws.settings.burnout_talk_line or "").strip()
    return "" if line.lower() in ("off", "none", "no") else line
