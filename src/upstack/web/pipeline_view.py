"""The pipeline as the pages show it: the board (applications in columns by stage, each card with
what moving it takes) and the funnel (each rate with its counts, split three ways, with a bar to
draw). One person's: the reader's own, or ``person``'s when a route has checked through
services/path_access.py that the reader was shown it. Plain data, so a page and its JSON twin
are the same; the rules (stage order, what is a move back, the funnel's arithmetic) stay in
domain/pipeline.py and services/applications.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from upstack.domain import pipeline
from upstack.services import applications
from upstack.timeutil import today_local
from upstack.workspace import Workspace

__all__ = ["board", "card", "moves", "funnel", "days_in_stage", "SPLITS", "ENDED"]

SPLITS = ("kind", "source", "stretch")
ENDED = "ended"  # the last group of the board: rejected, withdrawn, no answer


def days_in_stage(app: applications.Application, today: date) -> int:
    """Days since the application reached its stage (since it was written down, on the wishlist)."""
    since = str(app.timeline[-1].get("when") or "") if app.timeline else ""
    return max(0, (today - date.fromisoformat((since or app.added_at)[:10])).days)


def moves(order: tuple[str, ...], stage: str) -> list[dict[str, Any]]:
    """Every stage an application at ``stage`` may be moved to, each saying whether it is a move back
    (which asks to be confirmed: the service's ``force``)."""
    return [{"stage": s, "back": pipeline.is_backwards(order, stage, s)} for s in (*order, *pipeline.ENDS)
            if s != stage]


def _next(order: tuple[str, ...], stage: str) -> str | None:
    """The stage one click moves to: the next in order (none from an offer, an end or a stage the
    setting no longer names)."""
    if stage not in order or stage == order[-1]:
        return None
    return order[order.index(stage) + 1]


def card(app: applications.Application, order: tuple[str, ...], today: date) -> dict[str, Any]:
    """One application as a card: its opportunity, days in stage, follow-up, and its moves."""
    opportunity = app.opportunity
    follow_up = app.follow_up
    choices = moves(order, app.stage)
    onward = _next(order, app.stage)
    # What a stage picker starts at: the next stage, else the first that is not a move back (never a
    # rejection: that asks what was learned, on the application's page).
    chosen = onward or next((m["stage"] for m in choices if not m["back"] and m["stage"] != "rejected"), None)
    return {"slug": app.slug, "title": app.title, "stage": app.stage,
            "organisation": opportunity.organisation if opportunity else "",
            "role": opportunity.role if opportunity else "",
            "kind": opportunity.kind if opportunity else "",
            "deadline": opportunity.deadline if opportunity else "",
            "days_in_stage": days_in_stage(app, today),
            "since": str(app.timeline[-1].get("when") or "") if app.timeline else "",
            "on": app.on if not app.ended else "", "stretch": app.stretch, "follow_up": follow_up,
            "follow_up_overdue": bool(follow_up) and follow_up < today.isoformat(),
            "ended": app.ended, "next": onward, "moves": choices, "chosen": chosen}


def board(ws: Workspace, person: str | None = None) -> dict[str, Any]:
    """The open applications in columns by stage, in the stage order; those that ended last, in one
    group. A stage a setting no longer names keeps its column, after the named ones."""
    order = applications.stage_order(ws)
    today = today_local()
    held = applications.applications(ws, person=person)
    cards = [card(app, order, today) for app in held]
    stages = [*order, *dict.fromkeys(c["stage"] for c in cards if c["stage"] not in order and not c["ended"])]
    columns = [{"stage": stage, "ends": False, "cards": sorted((c for c in cards if c["stage"] == stage),
                                                                key=lambda c: -c["days_in_stage"])}
               for stage in stages]
    columns.append({"stage": ENDED, "ends": True, "cards": [c for c in cards if c["ended"]]})
    return {"stages": list(order), "ends": list(pipeline.ENDS), "columns": columns, "total": len(cards),
            "today": today.isoformat()}


def _rates(found: pipeline.Funnel) -> dict[str, Any]:
    rates = {name: {**rate.to_dict(), "shown": str(rate), "percent": round(100 * (rate.value or 0))}
             for name, rate in (("response", found.response), ("interview", found.interview),
                                ("offer", found.offer))}
    return {"applied": found.applied, "rates": rates}


def funnel(ws: Workspace, person: str | None = None) -> dict[str, Any]:
    """The funnel over every application sent (archived ones too): each rate with its counts, split by
    kind, source and stretch; the median days spent in each stage, in stage order, with the longest
    to scale a bar; and the variety notice over the open applications."""
    order = applications.stage_order(ws)
    held = applications.applications(ws, person=person, archived=True)  # folded once for every split
    overall = applications.funnel(ws, held=held).get("all") or pipeline.funnel([], order)
    medians = overall.days_in_stage
    stages = [s for s in (*order, *pipeline.ENDS) if s in medians]
    longest = max(medians.values(), default=0.0)
    days = [{"stage": s, "days": medians[s], "percent": round(100 * medians[s] / longest) if longest else 0}
            for s in stages]
    by = {split: [{"group": group, **_rates(found)}
                  for group, found in applications.funnel(ws, by=split, held=held).items()]
          for split in SPLITS}
    stretches = [a.stretch for a in held if not a.ended and not a.archived]
    return {**_rates(overall), "median_days_in_stage": days, "by": by,
            "variety": pipeline.variety_notice(stretches) or None}
