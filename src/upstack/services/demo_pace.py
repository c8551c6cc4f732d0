"""The demo's pace (issue 18): eight weeks of daily check-ins around the story's crunch, the early
warning they raise, a recovery plan after it, the weekly questionnaire and a fit note.

The person checks in most evenings (a few missed: gaps, not zeros). Their usual: about seven and a half
hours of sleep, energy and mood 2, eight or nine hours of work on a weekday. In the story's crunch
(from 18 days ago: the two-token bug and the late nights the story's check-in note tells of) sleep
falls, hours and snacking rise, and `upstack pace` raises one notice; 11 days ago they start a recovery
plan (50% -> 75% -> 100%, a week each, measured by the hours worked they give), keep to it but for one
day, and their energy comes back. Everything here is local-only, like any check-in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from upstack.services import burnout, fit, recovery, wellbeing
from upstack.workspace import Workspace

__all__ = ["pace_steps", "CHECKIN_DAYS", "CRUNCH_FROM", "PLAN_FROM", "CRUNCH_NOTE"]

CHECKIN_DAYS = 56
CRUNCH_FROM = 18  # days ago
PLAN_FROM = 11  # days ago: the plan's first day
OVER_DAY = 3  # days ago: one day above the plan's level
CRUNCH_NOTE = ("Third evening this week at the desk after 22:00. Slept about 5 hours the last two nights, skipped "
               "climbing, dinner in front of the screen, re-ran a sweep just to have something running. My usual "
               "early-warning pattern. Rules until Monday: stop at 19:00, climbing on Thursday, no laptop in bed.")
_MISSED = {47, 40, 33, 29, 22, 6}  # evenings without a check-in
# The questionnaire (six answers, always .. never as 100 .. 0), days ago.
_QUESTIONNAIRES = {36: [25, 25, 25, 0, 50, 0], 29: [50, 25, 25, 0, 25, 0], 22: [50, 25, 50, 0, 50, 25],
                   15: [75, 50, 75, 25, 75, 25], 8: [50, 50, 50, 0, 50, 25], 1: [50, 25, 25, 0, 50, 0]}

Step = tuple[str, Callable[..., Any], tuple[Any, ...]]


def _check_in(ws: Workspace, day: date, back: int, rng: random.Random) -> None:
    weekend = day.weekday() >= 5
    crunch = PLAN_FROM < back <= CRUNCH_FROM
    plan = recovery.current(ws, day)
    if crunch:
        sleep, energy, mood = rng.uniform(4.6, 5.8), rng.choice([0, 1, 1]), rng.choice([1, 1, 2])
        hours, snacking, late = rng.uniform(10, 12.5), rng.choice([2, 3]), rng.choice([2, 3])
    else:
        sleep, energy, mood = rng.uniform(6.9, 8.0), rng.choice([2, 2, 3]), rng.choice([2, 2, 3])
        hours, snacking, late = rng.uniform(7.5, 9.5), rng.choice([0, 0, 1]), rng.choice([0, 0, 1])
        if plan is not None:
            where = plan.step_on(day)
            level = plan.steps[where[0]].level if where else 1.0
            hours = plan.baseline * level * rng.uniform(0.85, 1.0)
            if back == OVER_DAY:
                hours = plan.baseline * level * 1.3
            energy = 1 if back > 7 else rng.choice([2, 2, 3])
    if weekend:
        hours = 0 if not crunch else rng.uniform(3, 6)
    wellbeing.check_in(ws, day=day, sleep_hours=round(sleep, 1), energy=energy, mood=mood,
                       hours_worked=round(hours * 2) / 2,
                       sign_scores={"snacking": snacking, "procrastinating sleep": late,
                                    "video games": rng.choice([0, 0, 1])},
                       note=CRUNCH_NOTE if back == 13 else "")


def pace_steps(ws: Workspace, today: date) -> list[Step]:
    """(when, action, args) for the demo's story, each at its time ("DAYS_AGO HH:MM")."""
    rng = random.Random(18)
    steps: list[Step] = []
    for back in range(CHECKIN_DAYS, 0, -1):
        if back not in _MISSED:
            steps.append((f"{back} 21:40", _check_in, (ws, today - timedelta(days=back), back, rng)))
    steps.append((f"{PLAN_FROM} 08:30", _start_plan, (ws, today - timedelta(days=PLAN_FROM))))
    steps += [(f"{back} 21:45", burnout.answer, (ws, points)) for back, points in _QUESTIONNAIRES.items()]
    steps.append(("2 21:50", _fit_note, (ws,)))
    return steps


def _start_plan(ws: Workspace, day: date) -> None:
    recovery.start(ws, day=day, measure="hours", reason="after the crunch")


def _fit_note(ws: Workspace) -> None:
    fit.note(ws, energised=["experiments", "talking"], drained=["reading"], good_at=["experiments"],
             text="Path patching sessions fly by; the mentor call helped more than a week of papers. Reading "
                  "three papers back to back on Tuesday drained me: one a day, with a question to answer.")
