"""`upstack recover`: a recovery plan, kept and tracked (issue 18; the rules: domain/recovery.py).

A plan is started, changed or ended by a ``recover.plan`` record (a wellbeing record: local-only,
sealed when a passphrase is set), its subject the plan's id. What it is measured by is fixed when it
starts, with the usual load read then from the weeks before it, so the plan's targets never move under
the person; the days since are read from the check-ins (hours worked) or the log (active hours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

from upstack.domain import recovery as rule
from upstack.domain.text import clean_text
from upstack.errors import BadInput
from upstack.services import wellbeing
from upstack.services.pace import writing_times
from upstack.timeutil import iso_day, today_local
from upstack.workspace import Workspace

__all__ = ["BASELINE_DAYS", "GAP_DAYS", "MIN_BASELINE_DAYS", "usual_window", "Status", "plans", "current", "start",
           "end", "measured", "status", "hours_given_lately"]

# The usual load is read as `upstack pace` reads the usual: from the four weeks ending two weeks before
# the plan, so the slide that led to it is not taken for the usual.
BASELINE_DAYS = 28
GAP_DAYS = 14
MIN_BASELINE_DAYS = 5  # working days with a value, at least, for a usual load worth a share of
MAX_BACKDATE_DAYS = 28
REASON_LIMIT = 500


@dataclass(frozen=True)
class Status:
    plan: rule.Plan
    today: date
    steps: list[rule.StepProgress]
    over: list[tuple[date, float, float]]  # recent days above their step's level
    before: dict[str, float | None]  # energy and mood: mean of the check-ins in the weeks before
    during: dict[str, float | None]  # ... and during the plan so far
    n_before: dict[str, int]
    n_during: dict[str, int]

    @property
    def step(self) -> tuple[int, date, date] | None:
        return self.plan.step_on(self.today)

    @property
    def finished(self) -> bool:
        return self.today > self.plan.last_day

    @property
    def unmeasured(self) -> bool:
        """Days have gone and none was measured: a plan by hours worked whose check-ins give none."""
        return (self.plan.measure == "hours" and not self.finished and any(s.days_gone for s in self.steps)
                and not any(s.measured for s in self.steps))


def plans(ws: Workspace) -> list[rule.Plan]:
    """Every plan, oldest first."""
    found: dict[str, rule.Plan] = {}
    for event in wellbeing.read_records(ws, "recover.plan"):  # one not as upstack writes it is unread
        data = event.data
        if data.get("change") == "start":
            plan = rule.stored_plan(event.subject, data)
            if plan is not None:
                found[event.subject] = plan
        elif data.get("change") == "end" and event.subject in found and iso_day(data.get("day")):
            plan, note = found[event.subject], data.get("note")
            found[event.subject] = replace(plan, ended=iso_day(data.get("day")),
                                           end_note=note if isinstance(note, str) else "")
    return sorted(found.values(), key=lambda p: (p.start, p.id))


def current(ws: Workspace, today: date | None = None) -> rule.Plan | None:
    """The plan under way today, if any."""
    today = today or today_local()
    return next((p for p in reversed(plans(ws)) if p.active_on(today)), None)


def measured(ws: Workspace, measure: str, first: date, last: date) -> dict[date, float]:
    """The measure's value per day from first to last (hours worked: the days checked in with hours)."""
    if measure == "hours":
        return {date.fromisoformat(day): float(row.hours_worked)
                for day, row in wellbeing.checkins(ws, since=first).items()
                if row.hours_worked is not None and date.fromisoformat(day) <= last}
    return rule.active_hours(writing_times(ws, first), first, last)


def hours_given_lately(ws: Workspace, day: date) -> bool:
    """Whether a check-in in the four weeks up to ``day`` gave the hours worked: a plan measured by
    them measures nothing until check-ins give them."""
    return bool(measured(ws, "hours", day - timedelta(days=BASELINE_DAYS), day))


def usual_window(start: date) -> tuple[date, date]:
    """The days a plan starting on ``start`` reads the usual load from."""
    last = start - timedelta(days=GAP_DAYS + 1)
    return last - timedelta(days=BASELINE_DAYS - 1), last


def _choose(ws: Workspace, measure: str | None, first: date, last: date) -> tuple[str, float, int]:
    """The measure (the one asked for, else hours worked where the check-ins give enough, else active
    hours) and the usual load by it."""
    tried = [measure] if measure else ["hours", "active"]
    found: list[tuple[str, float | None, int]] = []
    for name in tried:
        usual, days = rule.baseline(measured(ws, name, first, last), first, last)
        if usual is not None and days >= MIN_BASELINE_DAYS:
            return name, usual, days
        found.append((name, usual, days))
    said = "; ".join(f"{rule.MEASURES[name].split(' (')[0]}: {days} working day{'s' if days != 1 else ''}"
                     for name, _, days in found)
    raise BadInput(f"not enough to know your usual load from the {BASELINE_DAYS} days ending {GAP_DAYS} days "
                   f"before the plan "
                   f"({said}; at least {MIN_BASELINE_DAYS} needed): give it with --usual HOURS")


def start(ws: Workspace, *, levels: str | None = None, step_days: int | None = None, measure: str | None = None,
          usual: float | None = None, reason: str = "", day: date | None = None) -> rule.Plan:
    """Start a plan on ``day`` (today): steps from the settings unless given; the usual load from
    the weeks before unless ``usual`` hours are given."""
    wellbeing.refuse_on_a_server(ws)
    today = today_local()
    day = day or today
    if day > today + timedelta(days=MAX_BACKDATE_DAYS) or day < today - timedelta(days=MAX_BACKDATE_DAYS):
        raise BadInput(f"a plan starts within {MAX_BACKDATE_DAYS} days of today, not on {day.isoformat()}")
    if measure is not None and measure not in rule.MEASURES:
        raise BadInput(f"a plan is measured by {' or '.join(rule.MEASURES)}, not {measure!r}")
    steps = rule.parse_steps(levels or ws.settings.recover_steps,
                             ws.settings.recover_step_days if step_days is None else step_days)
    # One plan at a time: none may start before an earlier one's last day (one called off before its first
    # day has none). One under way or still to come is ended first; one gone by, started after.
    clash = next((p for p in plans(ws) if p.last_day >= max(day, p.start)), None)
    if clash is not None and clash.last_day >= today:
        raise BadInput(f"a plan is {'under way since' if clash.start <= today else 'set to start on'} "
                       f"{clash.start.isoformat()}: `upstack recover end` first")
    if clash is not None:
        raise BadInput(f"a plan covered {clash.start.isoformat()}..{clash.last_day.isoformat()}: start it after "
                       f"{clash.last_day.isoformat()}")
    reason = " ".join(clean_text(reason).split())
    if len(reason) > REASON_LIMIT:
        raise BadInput(f"the reason is {len(reason):,} characters: at most {REASON_LIMIT}")
    given = usual is not None
    if usual is not None:
        if not (0 < usual <= 24 and math.isfinite(usual)):
            raise BadInput(f"your usual load is hours in a day (above 0, at most 24), not {usual:g}")
        chosen = measure or "hours"
    else:
        chosen, usual, _ = _choose(ws, measure, *usual_window(day))
    plan_id = f"plan-{day.isoformat()}"
    taken = {p.id for p in plans(ws)}
    plan_id = next(f"{plan_id}-{n}" for n in range(2, 1000) if f"{plan_id}-{n}" not in taken) \
        if plan_id in taken else plan_id
    wellbeing.write_record(ws, "recover.plan", plan_id, change="start", start=day.isoformat(),
                           steps=[[s.level, s.days] for s in steps], measure=chosen, baseline=round(usual, 3),
                           reason=reason, **({"usual_given": True} if given else {}))
    return next(p for p in plans(ws) if p.id == plan_id)


def end(ws: Workspace, *, note: str = "", day: date | None = None) -> rule.Plan:
    """End the plan under way (today, unless ``day``), or call off one set to start later: it stays in
    the history."""
    day = day or today_local()
    plan = current(ws, day) or next((p for p in plans(ws) if p.start > day and p.ended is None), None)
    if plan is None:
        raise BadInput("no recovery plan is under way (`upstack recover start` begins one)")
    note = " ".join(clean_text(note).split())[:REASON_LIMIT]
    wellbeing.write_record(ws, "recover.plan", plan.id, change="end", day=day.isoformat(), note=note)
    return next(p for p in plans(ws) if p.id == plan.id)


def _means(ws: Workspace, first: date, last: date) -> tuple[dict[str, float | None], dict[str, int]]:
    values: dict[str, list[float]] = {"energy": [], "mood": []}
    for day, row in wellbeing.checkins(ws, since=first).items():
        if date.fromisoformat(day) <= last:
            for key, found in values.items():
                value = getattr(row, key)
                if value is not None:
                    found.append(float(value))
    return ({k: (math.fsum(v) / len(v) if v else None) for k, v in values.items()},
            {k: len(v) for k, v in values.items()})


def status(ws: Workspace, today: date | None = None, plan: rule.Plan | None = None) -> Status | None:
    """Where the plan under way (or the latest one) stands today; None when there has never been one."""
    today = today or today_local()
    plan = plan or current(ws, today) or next(iter(reversed(plans(ws))), None)
    if plan is None:
        return None
    upto = min(today, plan.last_day)
    values = measured(ws, plan.measure, plan.start, upto)
    before, n_before = _means(ws, *usual_window(plan.start))
    during, n_during = _means(ws, plan.start, upto)
    return Status(plan, today, rule.progress(plan, values, today), rule.over_days(plan, values, today),
                  before, during, n_before, n_during)
