"""Synthetic daily histories for the early-warning rule (tests/test_pace_rule.py), with known answers.

A person has their own levels, day-to-day noise that carries over a little from one day to the next
(a bad week is not seven independent bad days), a weekend rhythm, missed check-ins (days, and long
stretches such as a holiday), and a log that always knows which days were worked and how much
happened after bedtime. A slide moves sleep, energy and one warning sign linearly from the person's
levels to ``depth`` times (sleep -1.5 h, energy -1, snacking +1.5) over ``ramp_days`` and then stays
there. The slide is *sustained* on the day it reaches its full depth, ``start + ramp_days``; the rule
must raise a notice by ``start + ramp_days + 7``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from upstack.domain.pace import Series

__all__ = ["FIRST_DAY", "Slide", "history", "bad_night"]

FIRST_DAY = date(2025, 1, 6)  # a Monday

SLEEP_DROP = 1.5
ENERGY_DROP = 1.0
SIGN_RISE = 1.5


@dataclass(frozen=True)
class Slide:
    start: int  # days after FIRST_DAY
    ramp_days: int
    depth: float = 1.0

    @property
    def sustained(self) -> int:
        return self.start + self.ramp_days

    def fraction(self, day: int) -> float:
        if day < self.start:
            return 0.0
        return self.depth * min(1.0, (day - self.start) / self.ramp_days)


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def history(seed: int, days: int, slide: Slide | None = None, holidays: bool = True) -> dict[str, Series]:
    """A person's series over ``days`` days from FIRST_DAY, their traits drawn from ``seed``; with
    ``holidays``, up to two stretches of 3 to 21 days without check-ins."""
    rng = random.Random(seed)
    sleep_level, sleep_sd = rng.uniform(6.5, 8.2), rng.uniform(0.4, 1.0)
    weekend_sleep = rng.uniform(0.0, 1.0)
    energy_level, mood_level = rng.uniform(1.5, 2.5), rng.uniform(1.5, 2.5)
    scale_sd = rng.uniform(0.3, 0.7)
    signs = {name: rng.uniform(0.0, 1.0) for name in ("snacking", "procrastinating_sleep", "video_games")}
    hours_level, weekend_work = rng.uniform(6.0, 9.0), rng.uniform(0.0, 0.3)
    late_rate = rng.uniform(0.0, 0.5)
    carry = rng.uniform(0.0, 0.5)  # how much of yesterday's mood of things carries over
    missing = rng.uniform(0.0, 0.3)  # share of days without a check-in
    away: set[int] = set()
    for _ in range(rng.randint(0, 2)):  # holidays, illness: stretches without check-ins
        first, length = rng.randrange(days), rng.randint(3, 21)
        if holidays:
            away.update(range(first, first + length))

    out: dict[str, Series] = {name: {} for name in ("sleep_hours", "energy", "mood", "hours_worked",
                                                     *signs, "late_activity", "worked_day", "no_day_off_streak")}
    state = 0.0  # the shared, slowly varying part of a day: good weeks and bad weeks
    streak = 0
    for index in range(days):
        day = FIRST_DAY + timedelta(days=index)
        weekend = day.weekday() >= 5
        state = carry * state + rng.gauss(0.0, 1.0) * (1 - carry**2) ** 0.5
        slid = slide.fraction(index) if slide else 0.0
        worked = not weekend or rng.random() < weekend_work
        streak = streak + 1 if worked else 0
        out["worked_day"][day] = 1.0 if worked else 0.0
        out["no_day_off_streak"][day] = float(streak)
        late = sum(1 for _ in range(6) if rng.random() < late_rate / 6) if worked else 0
        out["late_activity"][day] = float(late)
        if index in away or rng.random() < missing:
            continue  # a gap: no check-in that day
        noise = 0.5 * state + 0.5 * rng.gauss(0.0, 1.0)
        out["sleep_hours"][day] = round(_clip(sleep_level + (weekend_sleep if weekend else 0.0)
                                              + sleep_sd * noise - SLEEP_DROP * slid, 0.0, 14.0) * 4) / 4
        out["energy"][day] = round(_clip(energy_level + scale_sd * (noise + rng.gauss(0, 1)) - ENERGY_DROP * slid,
                                         0, 3))
        out["mood"][day] = round(_clip(mood_level + scale_sd * (noise + rng.gauss(0, 1)), 0, 3))
        for name, level in signs.items():
            rise = SIGN_RISE * slid if name == "snacking" else 0.0
            out[name][day] = round(_clip(level + scale_sd * (rng.gauss(0, 1) - 0.5 * noise) + rise, 0, 3))
        out["hours_worked"][day] = round(_clip(hours_level + rng.gauss(0, 1.0), 0, 16) * 2) / 2 if worked else 0.0
    return out


def bad_night(series: dict[str, Series], index: int) -> dict[str, Series]:
    """The same history with one terrible day: no sleep, energy and mood 0, every sign at 3, late work."""
    day = FIRST_DAY + timedelta(days=index)
    changed = {name: dict(values) for name, values in series.items()}
    changed["sleep_hours"][day] = 0.0
    changed["energy"][day] = changed["mood"][day] = 0.0
    for name in ("snacking", "procrastinating_sleep", "video_games"):
        changed[name][day] = 3.0
    changed["hours_worked"][day] = 16.0
    changed["late_activity"][day] = 12.0
    return changed
