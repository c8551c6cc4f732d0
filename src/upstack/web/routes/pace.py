"""The pace page (``/pace``, issue 18): the day's check-in form, and the trends ``upstack pace``
shows, each signal charted over the last thirteen weeks, with the gentle notice when several rise.

Wellbeing data never leaves the owner's own machine, so this page exists in local mode only: the app
includes ``router`` only when it is opened with a token (web/app.py), and a team server answers
``/pace`` as it answers any address it has no page at (404, never a 403 that says something is
there). ``only_the_owner`` holds the same line for a request that runs as anyone but the local owner,
or as nobody said: it sees no such page either.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from upstack.domain import access
from upstack.domain import pace as rules
from upstack.errors import BadInput
from upstack.services import pace as service
from upstack.services import wellbeing
from upstack.timeutil import parse_day, today_local
from upstack.web.pages import Page, base_context, page, templates, workspace
from upstack.web.routes.pipeline import wants_json
from upstack.workspace import Workspace

__all__ = ["router", "only_the_owner", "SIGN_FIELD"]


async def only_the_owner(request: Request) -> None:
    """A dependency: no such page (404, as an unknown address) unless the request is the local
    owner's (local mode's token holder): never on a team server, never for a reader nobody named."""
    try:
        reader = access.current(team=True)  # None: the owner's own view
    except access.NoAudience:
        reader = access.NOBODY
    if request.app.state.team or reader is not None:
        raise HTTPException(404)


router = APIRouter(dependencies=[Depends(only_the_owner)])
SIGN_FIELD = "sign-"  # a warning sign's form field: sign-<its slug>
# What a chart's y axis spans, by the signal's kind (domain/pace.KINDS); the others start at zero.
RANGES = {"scale": [0, 3], "yes_no": [0, 1], "share": [0, 1]}


def _day(text: str | None) -> date:
    return date.fromisoformat(parse_day(text, what="check-in day", prefer="past")) if text else today_local()


def _form(ws: Workspace, day: date, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The check-in form: what ``given`` says (a refused post, typed again), else the day's check-in."""
    found = wellbeing.checkins(ws, day.isoformat()).get(day.isoformat())
    if given is None:
        given = {} if found is None else {
            "sleep_hours": found.sleep_hours, "energy": found.energy, "mood": found.mood,
            "hours_worked": found.hours_worked, "note": found.note,
            "signs": {slug: score for slug, score in found.signs.items()}}
    signs = given.get("signs") or {}
    return {"day": day.isoformat(), "today": today_local().isoformat(), "checked_in": found is not None,
            "fields": {k: "" if given.get(k) is None else f"{given[k]:g}" if isinstance(given[k], float)
                       else str(given[k]) for k in ("sleep_hours", "energy", "mood", "hours_worked", "note")},
            "signs": [{"slug": s.slug, "name": s.name, "field": SIGN_FIELD + s.slug,
                       "value": "" if signs.get(s.slug) is None else str(signs[s.slug])}
                      for s in wellbeing.signs(ws)]}


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 2)


def _trend(trend: rules.Trend) -> dict[str, Any]:
    return {"signal": trend.signal.name, "label": trend.signal.label, "unit": trend.signal.unit,
            "source": trend.signal.source, "recent": _number(trend.recent), "baseline": _number(trend.baseline),
            "change": _number(trend.change), "n_recent": trend.n_recent, "n_baseline": trend.n_baseline,
            "rising": trend.rising, "enough": trend.enough, "note": trend.note,
            # as `upstack pace` prints them, from the unrounded means (2.346 is 2.3, not 2.35 then 2.4)
            "shown": None if not trend.enough or trend.recent is None or trend.baseline is None
            or trend.change is None else
            {"recent": f"{trend.recent:.1f}", "baseline": f"{trend.baseline:.1f}", "change": f"{trend.change:+.1f}"}}


def _data(ws: Workspace, day: date, given: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    found = service.pace(ws)
    past = service.daily(ws, day=found.day)
    notice = found.notice
    return {
        "checkin": _form(ws, day, given),
        "checkins": found.checkins,
        "compares_from": found.compares_from.isoformat() if found.compares_from else None,
        "usual_from": found.usual_from,
        "trends": [_trend(t) for t in found.trends],
        "notice": None if notice is None else {"day": notice.day.isoformat(), "text": notice.text,
                                               "steps": list(notice.steps)},
        "history": {"days": [d.isoformat() for d in past.days],
                    "charts": [{"signal": s.name, "label": s.label, "unit": s.unit.strip(), "source": s.source,
                                "range": RANGES.get(s.kind), "values": [_number(v) for v in past.values[s.name]],
                                "days_with_values": sum(v is not None for v in past.values[s.name])}
                               for s in past.signals]},
        "patterns": [{"label": p.label, "n": p.n, "r": _number(p.r), "words": p.words} for p in found.patterns if p.n],
        "burnout": None if found.burnout is None else {"day": found.burnout.day, "score": _number(found.burnout.score),
                                                       "level": found.burnout.level},
        "talk_line": found.talk_line, "plan": _plan(ws, found.day),
        "error": None, "saved": None, **extra}


def _plan(ws: Workspace, day: date) -> dict[str, Any] | None:
    """A recovery plan under way: its steps against their levels (services/recovery.py)."""
    from upstack.domain.recovery import MEASURES
    from upstack.services import recovery

    plan = recovery.current(ws, day)
    status = None if plan is None else recovery.status(ws, day, plan)
    if status is None:
        return None
    step = status.step
    return {"start": status.plan.start.isoformat(), "reason": status.plan.reason, "usual": status.plan.baseline,
            "measured_by": MEASURES[status.plan.measure], "step": None if step is None else step[0] + 1,
            "over": len(status.over), "unmeasured": status.unmeasured,
            "steps": [{"step": p.index + 1, "percent": p.step.percent, "target": _number(p.target),
                       "first": p.first.isoformat(), "last": p.last.isoformat(), "days_gone": p.days_gone,
                       "measured": p.measured, "mean": _number(p.mean), "over": p.over} for p in status.steps]}


@page(router, "/pace", name="pace",
      summary="Your pace (local mode only): the day's check-in, each sign against your own usual, charts, "
              "and a gentle notice when several rise together")
def pace_page(request: Request, ws: Annotated[Workspace, Depends(workspace)],
              day: Annotated[str | None, Query(description="The day the check-in form is for (default today): "
                                                           "a missed day to fill in")] = None,
              saved: Annotated[bool, Query(description="Say that the day's check-in was kept")] = False) -> Page:
    shown = _day(day)
    return Page("pace.html", _data(ws, shown, saved=shown.isoformat() if saved else None))


def _parsed(text: str, what: str, kind: type) -> Any:
    text = text.strip()
    if not text:
        return None  # a question skipped: a gap, never a zero
    try:
        return kind(text)
    except ValueError:
        raise BadInput(f"{what} {text!r} is not {'a whole number' if kind is int else 'a number'}") from None


_SENT_EMPTY = "{}; sent empty, an answer the day holds becomes a gap again"


def _cleared(ws: Workspace, when: date | None, emptied: set[str]) -> list[str]:
    """What the form sent empty that the day's check-in holds: made gaps again (the form opens filled
    with the day's answers, so emptying one is how a mistyped answer is taken back). A field not sent
    at all (an API client giving one answer) is left as it is."""
    day = (when or today_local()).isoformat()
    held = wellbeing.checkins(ws, day).get(day)
    if held is None:
        return []
    return [name for name, key in wellbeing.CLEARABLE.items()
            if key in emptied and getattr(held, key) not in (None, "")] + \
        [key[len(SIGN_FIELD):] for key in emptied if key.startswith(SIGN_FIELD) and key[len(SIGN_FIELD):] in held.signs]


async def _sent_empty(request: Request) -> set[str]:
    """The fields a form sent empty (the framework reads an empty field as one not sent)."""
    form = await request.form()  # parsed once already (the CSRF check): this is its cached copy
    return {key for key, value in form.multi_items() if isinstance(value, str) and not value.strip()}


async def _sign_fields(request: Request) -> dict[str, str]:
    """The warning signs' scores a form sent (``sign-<slug>``): their fields depend on the person's signs."""
    form = await request.form()  # parsed once already (the CSRF check): this is its cached copy
    return {key[len(SIGN_FIELD):]: str(value) for key, value in form.multi_items() if key.startswith(SIGN_FIELD)}


@router.post("/pace", summary="Check in (local mode only): each field optional, a skipped one a gap; "
             "sign-<slug> fields score your warning signs 0-3; day fills in a missed day")
def check_in(request: Request, ws: Annotated[Workspace, Depends(workspace)],
             signs: Annotated[dict[str, str], Depends(_sign_fields)],
             emptied: Annotated[set[str], Depends(_sent_empty)],
             day: Annotated[str, Form(description="YYYY-MM-DD or words ('yesterday'); default today")] = "",
             sleep_hours: Annotated[str, Form(description=_SENT_EMPTY.format("Hours slept last night"))] = "",
             energy: Annotated[str, Form(description=_SENT_EMPTY.format("0 (none) to 3 (plenty)"))] = "",
             mood: Annotated[str, Form(description=_SENT_EMPTY.format("0 (low) to 3 (good)"))] = "",
             hours_worked: Annotated[str, Form(description=_SENT_EMPTY.format("Hours worked that day"))] = "",
             note: Annotated[str, Form(description=_SENT_EMPTY.format("A few words on the day"))] = "") -> Response:
    scores = {slug: value for slug, value in signs.items() if value.strip()}
    typed: dict[str, Any] = {"sleep_hours": sleep_hours, "energy": energy, "mood": mood,
                             "hours_worked": hours_worked, "note": note, "signs": scores}
    try:
        when = date.fromisoformat(parse_day(day, what="check-in day", prefer="past")) if day.strip() else None
        recorded = wellbeing.check_in(
            ws, day=when, sleep_hours=_parsed(sleep_hours, "sleep", float), energy=_parsed(energy, "energy", int),
            mood=_parsed(mood, "mood", int), hours_worked=_parsed(hours_worked, "hours worked", float),
            sign_scores={slug: _parsed(value, f"sign {slug!r}", int) for slug, value in scores.items()},
            note=note, clear=_cleared(ws, when, emptied))
    except BadInput as refused:
        if wants_json(request):
            raise
        try:
            shown = _day(day.strip() or None)
        except BadInput:
            shown = today_local()
        data = _data(ws, shown, typed, error=str(refused))
        return templates.TemplateResponse(request, "pace.html", {**data, **base_context(request), "page_name": "pace"},
                                          status_code=refused.http_status)
    if wants_json(request):
        return JSONResponse(recorded.to_dict())
    return RedirectResponse(f"/pace?day={recorded.day}&saved=true", status_code=303)
