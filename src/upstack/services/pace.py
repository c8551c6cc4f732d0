"""`upstack pace`: the person's check-ins and the work's rhythm against their own baseline, and a
gentle notice when several signs rise together (the rule: domain/pace.py). Read from this machine's
check-ins (services/wellbeing.py) and the times the person wrote in the log; never anyone else's.

What the log shows is read from when entries were written (their creation times, not the day they
were about) and runs started, each on the clock of the zone it was written in: entries, runs and
check-ins record the writer's UTC offset (timeutil.utc_offset), so a late evening in Kolkata stays
late when read in Los Angeles. What was written before offsets were recorded is read in this
machine's zone now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from upstack.domain import pace as rule_
from upstack.domain import patterns as patterns_
from upstack.services import burnout, wellbeing
from upstack.store import queries
from upstack.timeutil import to_iso, today_local, wall_time
from upstack.workspace import Workspace

__all__ = ["Pace", "pace", "history", "writing_times", "NOTICE_DAYS", "Daily", "daily", "DAILY_DAYS"]

NOTICE_DAYS = 7  # a notice raised in the last week is shown
HISTORY_DAYS = 182  # `pace --notices`: six months, and the days a notice's cooldown is read over
SPARK_DAYS = 28
DAILY_DAYS = 91  # thirteen weeks: what the web page charts


@dataclass
class Pace:
    day: date
    trends: list[rule_.Trend]
    sparks: dict[str, str]  # signal name -> the last SPARK_DAYS days
    notice: rule_.Notice | None
    checkins: int  # days checked in within the rule's reach
    patterns: list[patterns_.Pattern]  # between factors, over the days read (``since`` on)
    since: date
    burnout: burnout.Answer | None  # the latest questionnaire
    talk_line: str  # the person's line, when that score is high
    compares_from: date | None = None  # while check-ins cannot be compared yet: from when, with one a day
    usual_from: str = ""  # when the usual is read from, in words ("three to seven weeks ago")


def _series(ws: Workspace, first: date, last: date) -> tuple[dict[str, rule_.Series], list[rule_.Signal]]:
    series: dict[str, rule_.Series] = {}
    asked = ("sleep_hours", "energy", "mood", "hours_worked")  # the check-in's own questions; signs follow
    signals = [s for s in rule_.SIGNALS if s.name in asked]
    names = {}
    for sign in wellbeing.signs(ws, retired=True):
        name = sign.slug.replace("-", "_")
        names[sign.slug] = name
        signals.append(rule_.warning_sign(name, sign.name))
    for day, row in wellbeing.checkins(ws, since=first).items():
        when = date.fromisoformat(day)
        if when > last:
            continue
        for key in ("sleep_hours", "energy", "mood", "hours_worked"):
            value = getattr(row, key)
            if value is not None:
                series.setdefault(key, {})[when] = float(value)
        for slug, score in row.signs.items():
            series.setdefault(names.get(slug, slug.replace("-", "_")), {})[when] = float(score)
    local = writing_times(ws, first)
    if local:  # the log's rhythm only once there is writing to read it from
        # Days before the person's first writing in upstack are not days off: their rhythm starts then.
        since = to_iso(datetime.combine(first - timedelta(days=1), datetime.min.time()))
        start = first if queries.wrote_before(ws.store().db, since) else max(first, min(t.date() for t in local))
        worked = {t.date() for t in local}
        # Today, before anything is written, is not a day off yet (nor a night without late work): a gap.
        until = last if last < today_local() or last in worked else last - timedelta(days=1)
        series["late_activity"] = rule_.late_activity(local, start, until)
        series["worked_day"], series["no_day_off_streak"] = rule_.work_days(worked, start, until)
        signals += [s for s in rule_.SIGNALS if s.source == "log"]
    return series, signals


def writing_times(ws: Workspace, first: date) -> list[datetime]:
    """When the person wrote in the log (and started runs) from ``first`` on, as wall-clock times in
    the zone each was written in (timeutil.wall_time: this machine's zone now for one without an offset)."""
    # A day early: a time written in a zone ahead of this one may fall on ``first`` there.
    since = to_iso(datetime.combine(first - timedelta(days=1), datetime.min.time()))
    return [moment for at, offset in queries.own_writing_times(ws.store().db, since)
            if (moment := _wall_time(at, offset)) is not None]


def _wall_time(stored: str, offset: str | None) -> datetime | None:
    try:
        return wall_time(stored, offset)
    except ValueError:  # a time stored before times were checked at the door: no clock to read it on
        return None


def history(ws: Workspace, *, day: date | None = None, rule: rule_.PaceRule | None = None) -> list[rule_.Notice]:
    """Every notice the rule raised over the HISTORY_DAYS up to ``day`` (today), oldest first: at most
    one per cooldown, so a long slide is one notice a month, not a daily alarm."""
    rule = rule or rule_.PaceRule()
    day = day or today_local()
    series, signals = _series(ws, _history_start(day) - timedelta(days=_reach(rule)), day)
    return rule_.notices(series, rule, _history_start(day), day, signals)


def _reach(rule: rule_.PaceRule) -> int:
    return rule.recent_days + rule.gap_days + rule.baseline_days


def _history_start(day: date) -> date:
    return day - timedelta(days=HISTORY_DAYS - 1)


def pace(ws: Workspace, *, day: date | None = None, rule: rule_.PaceRule | None = None) -> Pace:
    """Trends on ``day`` (today) and the notice raised in the week up to it, if any: the last of
    ``history``'s, read over the same six months, so `pace` and `pace --notices` never disagree (a
    pattern noticed ten days ago and still there is not noticed again this week)."""
    rule = rule or rule_.PaceRule()
    day = day or today_local()
    start = _history_start(day)
    series, signals = _series(ws, start - timedelta(days=_reach(rule)), day)
    trends = rule_.trends(series, day, rule, signals)
    found = rule_.notices(series, rule, start, day, signals)
    notice = found[-1] if found and found[-1].day > day - timedelta(days=NOTICE_DAYS) else None
    spark_from = day - timedelta(days=SPARK_DAYS - 1)
    sparks = {t.signal.name: rule_.sparkline(rule_.daily_values(series.get(t.signal.name, {}), spark_from, day))
              for t in trends}
    since = day - timedelta(days=_reach(rule) + rule.cooldown_days)  # patterns over the last months only
    recent = {name: {d: v for d, v in values.items() if d >= since} for name, values in series.items()}
    checked = len({d for s in signals if s.source == "checkin" for d in series.get(s.name, {})
                   if d > day - timedelta(days=_reach(rule))})
    answered = burnout.answers(ws)
    latest = answered[-1] if answered else None
    checked_in = {d for s in signals if s.source == "checkin" for d in series.get(s.name, {})}
    soon = None
    if checked_in and not any(t.enough for t in trends if t.signal.source == "checkin"):
        soon = rule_.compares_from(checked_in, day, rule)
    return Pace(day, trends, sparks, notice, checked, patterns_.patterns(recent), since,
                latest, burnout.talk_line(ws, latest.score) if latest else "", soon, rule_.usual_words(rule))


@dataclass
class Daily:
    """Each signal's value every day from ``days[0]`` to ``days[-1]``, None for a gap (never a zero)."""

    days: list[date]
    signals: list[rule_.Signal]  # those with at least one value, in the order ``pace`` lists them
    values: dict[str, list[float | None]]  # signal name -> one value a day


def daily(ws: Workspace, *, day: date | None = None, days: int = DAILY_DAYS) -> Daily:
    """The same series ``pace`` compares, over the ``days`` up to ``day`` (today): for charts."""
    day = day or today_local()
    first = day - timedelta(days=days - 1)
    series, signals = _series(ws, first, day)
    values = {s.name: rule_.daily_values(series[s.name], first, day) for s in signals if series.get(s.name)}
    return Daily([first + timedelta(days=i) for i in range(days)], [s for s in signals if s.name in values],
                 values)
