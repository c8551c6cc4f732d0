"""Opportunities and applications (issue 16): their kinds, the stages an application moves through,
and the funnel's arithmetic. Pure rules, no I/O.

The guide's advice shapes three rules here: apply to a variety of things (each application says
whether it is a reach, a fit or a safe bet, and an all-one-kind mix is pointed out); a rejection is
a false negative far more often than a verdict (so it ends an application, counts in the funnel's
denominators, and is counted nowhere else); and a stage moves forward unless the person says
otherwise (a move back is an undo, asked for with ``force``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from upstack.errors import BadInput

__all__ = ["KINDS", "STRETCH", "FIRST", "MIDDLE", "OFFER", "ENDS", "stage_order", "check_stage", "is_backwards",
           "check_kind", "check_stretch", "check_date", "settled", "Rate", "Funnel", "funnel", "variety_notice"]

KINDS = ("job", "fellowship", "grant", "programme", "collaboration")
STRETCH = ("reach", "fit", "safe")
FIRST = "wishlist"
MIDDLE = ("applied", "screen", "work-test", "interview")  # the default; a setting may name others
OFFER = "offer"
ENDS = ("rejected", "withdrawn", "no-answer")


def stage_order(middle: Sequence[str] = MIDDLE) -> tuple[str, ...]:
    """Every stage an application moves forward through, first to offer; the ends come after."""
    return (FIRST, *[s for s in middle if s not in (FIRST, OFFER, *ENDS)], OFFER)


def check_stage(stage: str, order: Sequence[str]) -> str:
    name = stage.strip().lower().replace(" ", "-").replace("_", "-")
    if name in order or name in ENDS:
        return name
    raise BadInput(f"no stage {stage!r}: the stages are {', '.join([*order, *ENDS])} "
                   "(the setting application_stages names the ones between wishlist and offer)")


def is_backwards(order: Sequence[str], old: str, new: str) -> bool:
    """Whether moving from ``old`` to ``new`` goes back: to an earlier stage, or out of an end."""
    if new in ENDS:
        return old in ENDS and new != old
    if old in ENDS:
        return True
    if old not in order:  # a stage a setting no longer names: any move on is forward
        return False
    return order.index(new) < order.index(old)


def check_kind(kind: str) -> str:
    name = kind.strip().lower()
    if name == "program":
        name = "programme"
    if name not in KINDS:
        raise BadInput(f"no kind {kind!r}: an opportunity is a {', '.join(KINDS[:-1])} or {KINDS[-1]}")
    return name


def check_stretch(stretch: str) -> str:
    name = stretch.strip().lower()
    if name not in STRETCH:
        raise BadInput(f"{stretch!r} is not a stretch level: say reach, fit or safe")
    return name


def check_date(text: str, what: str = "date") -> str:
    """A calendar date as ``YYYY-MM-DD``; anything else is refused naming ``what``."""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise BadInput(f"the {what} {text!r} is not a date: give it as YYYY-MM-DD") from None


def settled(timeline: Sequence[Mapping[str, Any]], order: Sequence[str]) -> list[Mapping[str, Any]]:
    """An application's moves with the ones a move back undid left out: a forced move back to a
    stage says the moves since it was reached were a mistake, so it keeps the day it was first
    reached, and the funnel and the days in a stage count what happened, not the slip. (The
    timeline itself keeps every move, the slip and its correction included.)"""
    kept: list[Mapping[str, Any]] = []
    for step in timeline:
        stage = str(step.get("stage"))
        if step.get("forced"):
            reached = [n for n, earlier in enumerate(kept) if earlier.get("stage") == stage]
            if reached:
                del kept[reached[-1] + 1:]
                continue
            rank = order.index(stage) if stage in order else len(order)
            while len(kept) > 1 and (kept[-1].get("stage") in ENDS
                                     or order.index(str(kept[-1].get("stage"))) >= rank):
                kept.pop()
        kept.append(step)
    return kept


# -- the funnel ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rate:
    """A rate with its counts, shown as "3/12 (25%)": never a bare percentage."""

    hits: int
    out_of: int

    @property
    def value(self) -> float | None:
        return self.hits / self.out_of if self.out_of else None

    def __str__(self) -> str:
        if not self.out_of:
            return "0/0"
        return f"{self.hits}/{self.out_of} ({100 * self.hits / self.out_of:.0f}%)"

    def to_dict(self) -> dict[str, Any]:
        return {"hits": self.hits, "out_of": self.out_of, "rate": self.value}


@dataclass(frozen=True)
class Funnel:
    applied: int
    response: Rate  # heard back at all: any stage after applied, or a rejection after applying
    interview: Rate  # reached an interview (or further)
    offer: Rate
    days_in_stage: dict[str, float] = field(default_factory=dict)  # median days spent in each stage left

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "response": self.response.to_dict(),
                "interview": self.interview.to_dict(), "offer": self.offer.to_dict(),
                "median_days_in_stage": self.days_in_stage}


def funnel(timelines: Iterable[Sequence[tuple[str, str]]], order: Sequence[str]) -> Funnel:
    """The funnel over applications, each given as its timeline: (stage, ISO date or time) oldest first.

    Only applications that were sent count (those past the wishlist); a rejection or "no answer"
    after applying is in every denominator; being rejected at once by a form letter is a response.
    """
    sent = responded = interviewed = offered = 0
    spans: dict[str, list[float]] = {}
    later_than_applied = set(order[order.index("applied") + 1:]) if "applied" in order else set(order[1:])
    interview_or_later = set(order[order.index("interview"):]) if "interview" in order else {OFFER}
    for timeline in timelines:
        stages = [stage for stage, _ in timeline]
        if not any(s != FIRST for s in stages):
            continue
        sent += 1
        reached = set(stages)
        if reached & later_than_applied or "rejected" in reached:
            responded += 1
        if reached & interview_or_later:
            interviewed += 1
        if OFFER in reached:
            offered += 1
        for (stage, began), (_, ended) in zip(timeline, timeline[1:], strict=False):
            days = (date.fromisoformat(ended[:10]) - date.fromisoformat(began[:10])).days
            if days >= 0:  # a wishlist written down after the application was sent says nothing
                spans.setdefault(stage, []).append(float(days))
    medians = {stage: statistics.median(days) for stage, days in spans.items()
               if stage in order or stage in ENDS}
    return Funnel(applied=sent, response=Rate(responded, sent), interview=Rate(interviewed, sent),
                  offer=Rate(offered, sent), days_in_stage=medians)


def variety_notice(stretches: Iterable[str], *, at_least: int = 4) -> str:
    """A line when the open applications are all one stretch level (and there are enough to tell)."""
    levels = [s for s in stretches if s]
    if len(levels) < at_least or len(set(levels)) > 1:
        return ""
    level = levels[0]
    advice = {"reach": "add some fits and safe bets, so a run of long shots is not your whole search",
              "fit": "add a few reaches (some things that seem out of reach) and a safe bet or two",
              "safe": "add some reaches: apply to things that seem out of reach too"}[level]
    return f"all {len(levels)} of your open applications are marked {level}: {advice}."
