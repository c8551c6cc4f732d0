"""`upstack pace`: your check-ins and the work's rhythm against your own baseline (services/pace.py)."""

from __future__ import annotations

from typing import Any

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.pace import Trend
from upstack.services import pace as service
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
@json_option
@pass_log
def pace(ws: Workspace, as_json: bool) -> None:
    """How your last week compares with your own usual: check-ins and when you worked.

    Each sign this week against the weeks before (your own baseline, never anyone else's), with
    the last four weeks drawn; a gentle notice when several rise together. Patterns of the work,
    never a judgment of it. Kept on this machine only.
    """
    found = service.pace(ws)
    if as_json:
        notice = found.notice
        print_json({"day": found.day.isoformat(), "checkins": found.checkins,
                    "trends": [_trend_dict(t, found.sparks.get(t.signal.name, "")) for t in found.trends],
                    "notice": None if notice is None else {"day": notice.day.isoformat(), "text": notice.text,
                                                           "steps": list(notice.steps)}})
        return
    if not found.trends:
        echo("nothing to compare yet: check in most days (`upstack checkin`) and a baseline builds up in a few weeks")
        return
    echo(style(f"{'':<32} {'this week':>9} {'usual':>7}  last 4 weeks", dim=True))
    for trend in found.trends:
        mark = style(" rising", fg="yellow") if trend.rising else ""
        if not trend.enough:
            echo(f"{trend.signal.label:<32} {style(trend.note, dim=True)}")
            continue
        echo(f"{trend.signal.label:<32} {_number(trend.recent):>9} {_number(trend.baseline):>7}  "
             f"{found.sparks.get(trend.signal.name, '')}{mark}")
    if found.notice is not None:
        echo("")
        echo(style("Several of your signs moved together: ", bold=True) + found.notice.text + ".")
        echo("The guide's steps, if they fit:")
        for step in found.notice.steps:
            echo(f"  - {step}")


COMMANDS = [pace]
