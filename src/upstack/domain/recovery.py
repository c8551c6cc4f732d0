"""A graded return from overwork (issue 18): the guide's active recovery, as a plan.

The guide treats burnout as an overuse injury: not a few days off and then full throttle, but reduced
load for a while and then steps back up. A plan is a list of steps, each a share of the person's usual
load (``level``: 0.5 is half) held for some days, measured by one quantity the plan names:

- ``hours``: hours worked, as the person gives them at each check-in;
- ``active``: active hours, read from the log: the hours of the clock in which they wrote something
  (an entry, an edit, a run started), a rough but honest trace of a working day.

The usual load (``baseline``) is the mean over the working days (a day with any work) of the weeks
before the plan: a plan asks for a share of an ordinary working day, not of an average over days off.
Days are the person's own; a day with no measurement is a gap, never a zero of "hours worked", while
a day with nothing in the log is zero active hours, which is what it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from upstack.errors import BadInput
from upstack.timeutil import iso_day

__all__ = ["MEASURES", "Step", "Plan", "StepProgress", "parse_steps", "active_hours", "baseline", "progress",
           "over_days", "OVER_BY", "stored_plan"]

MEASURES = {"hours": "hours worked (from your check-ins)",
            "active": "active hours (hours of the clock with something written in the log)"}
OVER_BY = 1.1  # a day counts as above its step's level past 10% over it: a plan is a guide, not a stopwatch
MAX_STEPS = 12
MAX_STEP_DAYS = 90


@dataclass(frozen=True)
class Step:
    level: float  # share of the usual load, 0 < level <= 1.5
    days: int

    @property
    def percent(self) -> int:
        return round(self.level * 100)


def parse_steps(levels: str, days: int) -> tuple[Step, ...]:
    """Steps from '50,75,100' (percent of the usual load), each held ``days`` days; a step may give
    its own days as 50:10."""
    if not 1 <= days <= MAX_STEP_DAYS:
        raise BadInput(f"a step lasts 1 to {MAX_STEP_DAYS} days, not {days}")
    steps = []
    for part in (p.strip() for p in levels.split(",")):
        level_text, _, days_text = part.partition(":")
        try:
            percent = float(level_text.strip().rstrip("%"))
            held = int(days_text) if days_text.strip() else days
        except ValueError:
            raise BadInput(f"a step is a percent of your usual load, optionally with its days (50 or 50:10), "
                           f"not {part!r}") from None
        if not (0 < percent <= 150 and math.isfinite(percent)):
            raise BadInput(f"a step's level is a percent above 0 and at most 150, not {part!r}")
        if not 1 <= held <= MAX_STEP_DAYS:
            raise BadInput(f"a step lasts 1 to {MAX_STEP_DAYS} days, not {held} ({part!r})")
        steps.append(Step(percent / 100, held))
    if not 1 <= len(steps) <= MAX_STEPS:
        raise BadInput(f"a plan has 1 to {MAX_STEPS} steps, not {len(steps)}")
    return tuple(steps)


@dataclass(frozen=True)
class Plan:
    id: str
    start: date
    steps: tuple[Step, ...]
    measure: str  # a key of MEASURES
    baseline: float  # the usual load per working day, in the measure's hours
    reason: str = ""
    ended: date | None = None  # the day the person ended it (else it ends after its last step)
    end_note: str = ""
    usual_given: bool = False  # the usual load as the person gave it (--usual), not read from the weeks before

    @property
    def last_day(self) -> date:
        """The plan's last day: its steps' end, or the day before the day it was ended."""
        natural = self.start + timedelta(days=sum(s.days for s in self.steps) - 1)
        return min(natural, self.ended - timedelta(days=1)) if self.ended else natural

    def active_on(self, day: date) -> bool:
        return self.start <= day <= self.last_day

    def step_on(self, day: date) -> tuple[int, date, date] | None:
        """(index, first day, last day) of the step ``day`` falls in, or None outside the plan."""
        first = self.start
        for index, step in enumerate(self.steps):
            last = first + timedelta(days=step.days - 1)
            if first <= day <= last:
                return index, first, last
            first = last + timedelta(days=1)
        return None

    def target(self, index: int) -> float:
        return self.baseline * self.steps[index].level


def stored_plan(plan_id: str, data: Mapping[str, object]) -> Plan | None:
    """The plan a ``start`` record keeps, or None when it is not one upstack writes (another version's,
    a hand-edited import): its steps, measure and usual load each as ``parse_steps`` and a start allow.
    Readers rely on them (a date sum, a share of the usual load, a lookup of the measure)."""
    start, steps, usual = iso_day(data.get("start")), data.get("steps"), data.get("baseline")
    measure = data.get("measure")
    if start is None or not isinstance(steps, list) or not steps or not isinstance(measure, str) \
            or measure not in MEASURES \
            or isinstance(usual, bool) or not isinstance(usual, int | float) or not (0 < usual <= 24):
        return None
    kept = []
    for step in steps:
        if not (isinstance(step, list) and len(step) == 2 and all(type(v) in (int, float) for v in step)
                and 0 < step[0] <= 1.5 and type(step[1]) is int and 1 <= step[1] <= MAX_STEP_DAYS):
            return None
        kept.append(Step(float(step[0]), step[1]))
    reason = data.get("reason")
    return Plan(plan_id, start, tuple(kept), measure, float(usual),
                reason if isinstance(reason, str) else "", usual_given=data.get("usual_given") is True)


@dataclass(frozen=True)
class StepProgress:
    index: int
    step: Step
    first: date
    last: date
    target: float
    days_gone: int  # days of the step up to today
    measured: int   # of them, days with a value
    mean: float | None
    over: int  # days above the step's level (past OVER_BY)


def active_hours(local_times: Iterable[datetime], start: date, end: date) -> dict[date, float]:
    """Active hours per day from start to end: how many hours of the clock had any writing in them
    (a day without any is 0)."""
    hours: dict[date, set[int]] = {}
    for moment in local_times:
        if start <= moment.date() <= end:
            hours.setdefault(moment.date(), set()).add(moment.hour)
    days = (end - start).days + 1
    return {start + timedelta(days=i): float(len(hours.get(start + timedelta(days=i), ()))) for i in range(days)}


def baseline(values: Mapping[date, float], start: date, end: date) -> tuple[float | None, int]:
    """The mean over working days (value above 0) from start to end, and how many there were."""
    worked = [v for d, v in values.items() if start <= d <= end and v > 0]
    return (math.fsum(worked) / len(worked) if worked else None), len(worked)


def progress(plan: Plan, values: Mapping[date, float], today: date) -> list[StepProgress]:
    """Each step's days so far against its level."""
    found = []
    first = plan.start
    for index, step in enumerate(plan.steps):
        last = first + timedelta(days=step.days - 1)
        upto = min(last, today, plan.last_day)
        gone = max(0, (upto - first).days + 1)
        seen = [values[first + timedelta(days=i)] for i in range(gone) if first + timedelta(days=i) in values]
        target = plan.target(index)
        found.append(StepProgress(index, step, first, last, target, gone, len(seen),
                                  math.fsum(seen) / len(seen) if seen else None,
                                  sum(1 for v in seen if v > target * OVER_BY)))
        first = last + timedelta(days=1)
    return found


def over_days(plan: Plan, values: Mapping[date, float], today: date, days: int = 7) -> list[tuple[date, float, float]]:
    """The plan's days in the last ``days`` up to today that went above their step's level:
    (day, value, target)."""
    found = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        where = plan.step_on(day)
        if where is None or day not in values or not plan.active_on(day):
            continue
        target = plan.target(where[0])
        if values[day] > target * OVER_BY:
            found.append((day, values[day], target))
    return found
