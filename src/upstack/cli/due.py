"""`upstack due`: what is due in the next days, in one list (deadlines, follow-ups, interviews,
work tests, practice reviews)."""

from __future__ import annotations

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.command(name="due")
@click.option("--days", "-d", type=int, default=14, show_default=True, metavar="N",
              help="Look this many days ahead (what is overdue is always shown).")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only this kind (deadline, follow-up, screen, work-test, interview, stage, practice, "
                   "check-in, revisit, resolve); repeat for more.")
@json_option
@pass_log
def due(ws: Workspace, days: int, kinds: tuple[str, ...], as_json: bool) -> None:
    """What is due: deadlines, follow-ups, interviews, work tests, practice reviews, decisions and
    takes to revisit and predictions to resolve, soonest first.

    Only your own items, on a team server too. `upstack opp calendar` writes the same dates
    as an iCalendar file for your calendar app. With UPSTACK_CHECKIN_REMINDER=1 it also lists a
    check-in not yet done today, the weekly burnout questionnaire (once you have answered it)
    and a monthly fit note (kept on this machine only).

    \b
    Examples:
      upstack due
      upstack due --days 30 --kind deadline
    """
    from upstack.services import due as service
    from upstack.timeutil import today_local

    found = service.due(ws, days=days, kinds=kinds or None)
    today = today_local()
    if as_json:
        print_json([item.to_dict(today) for item in found])
        return
    if not found:
        echo(f"nothing due in the next {days} days")
        return
    for item in found:
        when = item.day
        if item.day < today.isoformat():
            when = style(f"{item.day} overdue", fg="red")
        elif item.day == today.isoformat():
            when = style(f"{item.day} today", bold=True)
        detail = style(f"  {item.detail}", dim=True) if item.detail else ""
        echo(f"{when:<10}  {item.kind:<10} {item.title}  [{item.ref}]{detail}")


COMMANDS = [due]
