"""`upstack recover`: a graded return after overwork, tracked against your own usual load
(services/recovery.py). Kept on this machine only."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from upstack.cli.options import Number, json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain import recovery as rule
from upstack.services import recovery
from upstack.timeutil import parse_day
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _plan_dict(plan: rule.Plan) -> dict[str, Any]:
    return {"id": plan.id, "start": plan.start.isoformat(), "last_day": plan.last_day.isoformat(),
            "steps": [{"percent": s.percent, "days": s.days} for s in plan.steps], "measure": plan.measure,
            "measured_by": rule.MEASURES[plan.measure], "usual": plan.baseline, "reason": plan.reason,
            "ended": plan.ended.isoformat() if plan.ended else None, "end_note": plan.end_note,
            "usual_given": plan.usual_given}


def _status_dict(found: recovery.Status) -> dict[str, Any]:
    step = found.step
    return {"plan": _plan_dict(found.plan), "today": found.today.isoformat(), "finished": found.finished,
            "step": None if step is None else step[0] + 1,
            "steps": [{"step": p.index + 1, "percent": p.step.percent, "first": p.first.isoformat(),
                       "last": p.last.isoformat(), "target": round(p.target, 2), "days_gone": p.days_gone,
                       "days_measured": p.measured, "mean": p.mean, "days_over": p.over} for p in found.steps],
            "over": [{"day": d.isoformat(), "value": v, "target": round(t, 2)} for d, v, t in found.over],
            "checkins_before": {k: {"mean": v, "n": found.n_before[k]} for k, v in found.before.items()},
            "checkins_during": {k: {"mean": v, "n": found.n_during[k]} for k, v in found.during.items()}}


_GIVE_HOURS = ("no day measured yet: the plan reads the hours you worked from your check-ins, so give them "
               "when you check in (`upstack checkin --hours 5`), or start it with --measure active")


def _hours(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def _show(found: recovery.Status) -> None:
    plan = found.plan
    unit = rule.MEASURES[plan.measure].split(" (")[0]
    why = f" ({plan.reason})" if plan.reason else ""
    step = found.step
    if plan.ended is not None and plan.ended < plan.start:
        echo(style(f"Recovery plan set to start {plan.start.isoformat()}{why}: called off on "
                   f"{plan.ended.isoformat()}, before it began", bold=True))
        return
    if found.finished:
        how = f"ended on {plan.ended.isoformat()}" if plan.ended else f"finished on {plan.last_day.isoformat()}"
        echo(style(f"Recovery plan from {plan.start.isoformat()}{why}: {how}", bold=True))
    elif step is None:
        echo(style(f"Recovery plan from {plan.start.isoformat()}{why}: it starts then", bold=True))
    else:
        index, _, last = step
        echo(style(f"Recovery plan since {plan.start.isoformat()}{why}: step {index + 1} of {len(plan.steps)}, "
                   f"{plan.steps[index].percent}% until {last.isoformat()}", bold=True))
    first, last = recovery.usual_window(plan.start)
    whence = "as you gave it" if plan.usual_given else f"from {first.isoformat()}..{last.isoformat()}"
    echo(f"measured by {rule.MEASURES[plan.measure]}; your usual {plan.baseline:.1f} h on a working day "
         f"({whence})")
    echo(style(f"{'step':<6}{'level':>6}{'up to':>9}  {'dates':<23}{'days':>6}{'mean':>9}{'above':>7}", dim=True))
    for item in found.steps:
        days = f"{item.measured}/{item.step.days}" if item.days_gone else "-"
        echo(f"{item.index + 1:<6}{item.step.percent:>5}%{_hours(item.target):>9}  "
             f"{item.first.isoformat()}..{item.last.isoformat()[5:]:<11}{days:>6}{_hours(item.mean):>9}"
             f"{item.over if item.days_gone else '-':>7}")
    for key in ("energy", "mood"):
        before, during = found.before[key], found.during[key]
        if before is not None and during is not None:
            echo(f"{key}: {before:.1f} usually (n={found.n_before[key]}), {during:.1f} during the plan "
                 f"(n={found.n_during[key]})")
    if found.unmeasured:
        echo(style(_GIVE_HOURS, fg="yellow"))
    if found.over and not found.finished:
        day, value, target = found.over[-1]
        echo("")
        echo(f"{len(found.over)} of the last 7 days went above the plan's level ({day.isoformat()}: "
             f"{value:.1f} {unit} against {target:.1f}). That happens, and it is worth noticing: coming back to "
             "full load too soon is how an overuse injury returns. Ease off where you can; a slower plan is fine too.")


@click.group(invoke_without_command=True)
@json_option
@pass_log
@click.pass_context
def recover(ctx: click.Context, ws: Workspace, as_json: bool) -> None:
    """A graded return after overwork: reduced load, then steps back up.

    The guide treats burnout as an overuse injury: not a few days off and then full throttle, but
    less for a while and then more, step by step. A plan is a share of your usual load per step
    (50% → 75% → 100% for a week each unless you say otherwise), measured by the hours worked you
    give at check-ins or by the active hours the log shows. Kept on this machine only.

    \b
    Examples:
      upstack recover start --reason "after the deadline"
      upstack recover                      # where the plan stands
      upstack recover end --note "back to normal"
    """
    if ctx.invoked_subcommand is not None:
        return
    found = recovery.status(ws)
    if as_json:
        print_json(None if found is None else _status_dict(found))
        return
    if found is None:
        echo("no recovery plan: `upstack recover start` begins one (50% → 75% → 100% of your usual load)")
        return
    _show(found)


@recover.command("start")
@click.option("--steps", "levels", metavar="50,75,100",
              help="Each step's share of your usual load in percent (setting recover_steps); 50:10 gives a step "
                   "its own days.")
@click.option("--days", "step_days", type=Number(int), metavar="N", help="Days per step (setting recover_step_days).")
@click.option("--measure", type=click.Choice(sorted(rule.MEASURES)),
              help="hours: hours worked from check-ins; active: active hours from the log (default: hours worked "
                   "when your check-ins give enough, else active hours).")
@click.option("--usual", type=Number(float), metavar="HOURS",
              help="Your usual hours on a working day, if upstack cannot tell from the weeks before.")
@click.option("--reason", default="", help="Why, in a few words (kept with the plan).")
@click.option("--from", "day", metavar="DAY", help="The plan's first day (default today).")
@json_option
@pass_log
def recover_start(ws: Workspace, levels: str | None, step_days: int | None, measure: str | None,
                  usual: float | None, reason: str, day: str | None, as_json: bool) -> None:
    """Start a recovery plan."""
    when = date.fromisoformat(parse_day(day, what="plan's first day", prefer="future")) if day else None
    plan = recovery.start(ws, levels=levels, step_days=step_days, measure=measure, usual=usual, reason=reason,
                          day=when)
    if as_json:
        print_json(_plan_dict(plan))
        return
    steps = " → ".join(f"{s.percent}% ({s.days} d)" for s in plan.steps)
    echo(f"recovery plan from {plan.start.isoformat()} to {plan.last_day.isoformat()}: {steps} of your usual "
         f"{plan.baseline:.1f} h, measured by {rule.MEASURES[plan.measure]} "
         + style("(kept on this machine only)", dim=True))
    if plan.measure == "hours" and not recovery.hours_given_lately(ws, plan.start):
        echo(style(_GIVE_HOURS, fg="yellow"), err=True)


@recover.command("end")
@click.option("--note", default="", help="How it went, in a few words.")
@json_option
@pass_log
def recover_end(ws: Workspace, note: str, as_json: bool) -> None:
    """End the plan under way, or call off one set to start later (it stays in `recover list`)."""
    plan = recovery.end(ws, note=note)
    if as_json:
        print_json(_plan_dict(plan))
        return
    if plan.ended is not None and plan.ended < plan.start:  # ended before its first day: it never ran
        echo(f"called off the plan set to start {plan.start.isoformat()}")
    else:
        echo(f"ended the plan that started {plan.start.isoformat()}")


@recover.command("list")
@json_option
@pass_log
def recover_list(ws: Workspace, as_json: bool) -> None:
    """Every recovery plan, newest first."""
    found = list(reversed(recovery.plans(ws)))
    if as_json:
        print_json([_plan_dict(p) for p in found])
        return
    if not found:
        echo("no recovery plans yet")
        return
    for plan in found:
        steps = " → ".join(f"{s.percent}%" for s in plan.steps)
        ended = "" if plan.ended is None else \
            f", {'called off' if plan.ended < plan.start else 'ended'} {plan.ended.isoformat()}"
        reason = style(f"  {plan.reason}", dim=True) if plan.reason else ""
        # a plan ended on its first day, or called off before it, has no days: its start alone
        days = f"..{plan.last_day.isoformat()}" if plan.last_day >= plan.start else ""
        echo(f"{style(plan.start.isoformat(), fg='yellow')}{days}  {steps}{ended}{reason}")


COMMANDS = [recover]
