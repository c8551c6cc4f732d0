"""`upstack pace`: your check-ins and the work's rhythm against your own baseline (services/pace.py)."""

from __future__ import annotations

from typing import Any

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.pace import Trend
from upstack.services import pace as service
from upstack.services import recovery
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _trend_dict(trend: Trend, spark: str) -> dict[str, Any]:
    return {"signal": trend.signal.name, "label": trend.signal.label, "source": trend.signal.source,
            "recent": trend.recent, "baseline": trend.baseline, "n_recent": trend.n_recent,
            "n_baseline": trend.n_baseline, "change": trend.change, "rising": trend.rising,
            "enough": trend.enough, "note": trend.note, "last_28_days": spark}


@click.command()
@click.option("--notices", "past", is_flag=True, help="The notices raised over the last six months instead.")
@json_option
@pass_log
def pace(ws: Workspace, past: bool, as_json: bool) -> None:
    """How your last week compares with your own usual: check-ins and when you worked.

    Each sign this week against the weeks before (your own baseline, never anyone else's), with
    the last four weeks drawn; a gentle notice when several rise together. Patterns of the work,
    never a judgment of it. Kept on this machine only.
    """
    if past:
        _history(ws, as_json)
        return
    found = service.pace(ws)
    under_way = recovery.current(ws, found.day)
    plan = None if under_way is None else recovery.status(ws, found.day, under_way)  # the plans read once
    if as_json:
        notice = found.notice
        print_json({"day": found.day.isoformat(), "checkins": found.checkins,
                    "trends": [_trend_dict(t, found.sparks.get(t.signal.name, "")) for t in found.trends],
                    "notice": None if notice is None else {"day": notice.day.isoformat(), "text": notice.text,
                                                           "steps": list(notice.steps)},
                    "patterns": [{"between": p.label, "first": p.first, "second": p.second, "n": p.n, "r": p.r,
                                  "words": p.words} for p in found.patterns],
                    "patterns_since": found.since.isoformat(),
                    "compares_from": found.compares_from.isoformat() if found.compares_from else None,
                    "burnout": None if found.burnout is None else found.burnout.to_dict(),
                    "talk_line": found.talk_line or None,
                    "recovery_plan": None if plan is None else {
                        "id": plan.plan.id, "step": None if plan.step is None else plan.step[0] + 1,
                        "days_above_level_last_7": len(plan.over)}})
        return
    if not found.trends:
        echo("nothing to compare yet: check in most days (`upstack checkin`) and a baseline builds up in a few weeks")
    else:
        _trends(found)
    _extras(found, plan)


def _history(ws: Workspace, as_json: bool) -> None:
    raised = service.history(ws)
    if as_json:
        print_json([{"day": n.day.isoformat(), "text": n.text, "signals": [t.signal.name for t in n.rising],
                     "steps": list(n.steps)} for n in raised])
        return
    if not raised:
        echo("no notices in the last six months")
        return
    for notice in raised:
        echo(f"{style(notice.day.isoformat(), fg='yellow')}  {notice.text}")


def _trends(found: service.Pace) -> None:
    echo(style(f"{'':<32} {'this week':>9} {'usual':>7}  last 4 weeks", dim=True))
    for trend in found.trends:
        # as the page says it: which way it moved (sleep "rising" read as more sleep)
        mark = style(f" moved {'down' if (trend.change or 0.0) < 0 else 'up'}", fg="yellow") if trend.rising else ""
        if not trend.enough:
            echo(f"{trend.signal.label:<32} {style(trend.note, dim=True)}")
            continue
        echo(f"{trend.signal.label:<32} {_number(trend.recent):>9} {_number(trend.baseline):>7}  "
             f"{found.sparks.get(trend.signal.name, '')}{mark}")
    if any(t.enough for t in found.trends):
        echo(style("usual is your own earlier weeks; this week's mean leaves out its single worst day", dim=True))
    if found.compares_from is not None:
        echo(style(f"your usual is read from {found.usual_from}: with a check-in most days, your check-ins "
                   f"compare from about {found.compares_from.isoformat()}", dim=True))
    if found.notice is not None:
        echo("")
        when = "" if found.notice.day == found.day else f" (noticed on {found.notice.day.isoformat()})"
        echo(style(f"Several of your signs moved together{when}: ", bold=True) + found.notice.text + ".")
        echo("The guide's steps, if they fit:")
        for step in found.notice.steps:
            echo(f"  - {step}")


def _extras(found: service.Pace, plan: recovery.Status | None) -> None:
    """Patterns between factors, the latest questionnaire, a recovery plan under way."""
    shown = [p for p in found.patterns if p.n]
    if shown:
        echo("")
        echo(style(f"Patterns in your days since {found.since.isoformat()} (links to notice, not causes):", bold=True))
        for item in shown:
            r = "" if item.r is None else f"r = {item.r:+.2f}, "
            echo(f"  {item.label:<34} {r}n = {item.n}: {item.words}")
    if found.burnout is not None and found.burnout.score is not None:
        echo("")
        echo(f"Burnout questionnaire ({found.burnout.day}): {found.burnout.score:.0f} of 100"
             + (style("  high", fg="yellow") if found.burnout.level == "high" else ""))
        if found.talk_line:
            echo(found.talk_line)
    if plan is not None and plan.step is not None:
        index = plan.step[0]
        over = f"; {len(plan.over)} of the last 7 days above it" if plan.over else ""
        echo("")
        echo(f"Recovery plan: step {index + 1} of {len(plan.plan.steps)}, "
             f"{plan.plan.steps[index].percent}% of your usual load{over} (`upstack recover`)")


COMMANDS = [pace]
