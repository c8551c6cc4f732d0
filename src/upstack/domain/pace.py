"""The early-warning rule for a sustainable pace: each signal's recent days against the person's own
weeks before, and a gentle notice when several signals move the bad way together.

The guide treats burnout as an overuse injury: notice your own early signs well before productivity
drops. So every comparison is with the same person's baseline, never with other people or a norm,
and the notice DESCRIBES a pattern ("sleep 5.9 h a night this week against 7.4 h the four weeks
before; energy down; snacking up") and points to the guide's steps. It never diagnoses and says
nothing about the quality of anyone's work.

Data are daily series, ``dict[date, float]``, one per signal. A day missing from a series is a gap,
never a zero: a week without check-ins makes "not enough check-ins", not a drop. Log-derived series
(late activity, days worked, streaks) have a value for every day, since the log always knows
whether anything happened; ``late_activity`` and ``work_days`` build them from local times.

The rule (``PaceRule``), in short: on day ``d`` a signal's recent mean is over the ``recent_days``
ending on ``d`` and its baseline mean over ``baseline_days`` that end ``gap_days`` before those:
the gap keeps a slow slide out of its own baseline (with the windows side by side, a six-week slide
moved the baseline along with it and a quarter of slides went unnoticed; tests/test_pace_rule.py). The recent mean
leaves out the recent window's single worst day, so one bad night never makes a signal rise. A
signal rises when its change in the bad direction is at least the floor for its kind (0.75 h of
sleep, three quarters of a point on a 0-3 scale, ...) and at least ``noise`` standard errors of the person's
own day-to-day spread in the baseline. A notice needs ``together`` signals rising on the same day
and comes at most once per ``cooldown_days``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from upstack.errors import BadInput

__all__ = ["Series", "Signal", "SIGNALS", "KINDS", "warning_sign", "PaceRule", "Trend", "Notice", "STEPS",
           "trends", "notices", "describe", "sparkline", "daily_values", "late_activity", "work_days"]

Series = dict[date, float]

# A signal's kind says what a meaningful change is: the default floor below which a change is
# ordinary life, whatever the statistics say (half a point on a 0-3 scale is one answer in two).
KINDS: dict[str, float] = {
    "hours": 0.75,  # sleep or hours worked a day
    "scale": 0.75,  # energy, mood, a warning sign, each 0-3 (0.5 let a bad week of two moods alarm)
    "yes_no": 0.25,  # a warning sign answered yes (1) or no (0): about two more days a week
    "count": 1.0,  # late activity: one more entry, run or edit after bedtime each day
    "share": 0.2,  # days worked (1/0): about one more day a week without a day off
    "days": 4.0,  # a streak of days without a day off, in days
}


@dataclass(frozen=True)
class Signal:
    """One daily signal: its name in the series, which way is bad, and how to say it.

    Attributes:
        name: the key of its series (``sleep_hours``, ``snacking``).
        bad: +1 when up is bad (a warning sign, hours worked), -1 when down is bad (sleep, energy).
        kind: a key of ``PaceRule.rise`` (``KINDS``): what a meaningful change is.
        label: the word a person reads (``sleep``).
        unit: how a mean reads after its number (`` h a night``); empty to say only up or down.
        source: ``checkin`` (the person answers) or ``log`` (upstack reads the work's rhythm).
    """

    name: str
    bad: int
    kind: str
    label: str
    unit: str = ""
    source: str = "checkin"

    def __post_init__(self) -> None:
        if self.bad not in (1, -1):
            raise BadInput(f"signal {self.name!r}: bad must be +1 (up is bad) or -1 (down is bad)")


def warning_sign(name: str, label: str | None = None, *, yes_no: bool = False) -> Signal:
    """A person's own warning sign (0-3, or yes/no as 1/0): up is bad."""
    return Signal(name, +1, "yes_no" if yes_no else "scale", label or name.replace("_", " "))


SIGNALS: tuple[Signal, ...] = (
    Signal("sleep_hours", -1, "hours", "sleep", " h a night"),
    Signal("energy", -1, "scale", "energy", " of 3"),
    Signal("mood", -1, "scale", "mood", " of 3"),
    Signal("hours_worked", +1, "hours", "hours worked", " h a day"),
    # The guide's example signs; a person adds, renames and retires their own.
    warning_sign("snacking"),
    warning_sign("procrastinating_sleep", "procrastinating sleep"),
    warning_sign("video_games", "video games"),
    Signal("late_activity", +1, "count", "work after bedtime", " a day", source="log"),
    Signal("worked_day", +1, "share", "days worked", "", source="log"),
    Signal("no_day_off_streak", +1, "days", "days in a row without a day off", "", source="log"),
)


@dataclass(frozen=True)
class PaceRule:
    """Every setting of the rule (the defaults are argued in the module docstring and the tests).

    Attributes:
        recent_days: the window whose mean is compared (7: a week evens out weekdays and weekends).
        baseline_days: the window before it (28: four weeks, long enough to know the person's normal
            spread, short enough to follow a changed life).
        gap_days: days between the two windows, in neither (14: on generated slides of two to six
            weeks, side-by-side windows missed 70 of 288, a 7-day gap 13, a 14-day gap 2).
        min_recent: observations needed in the recent window (4 of 7 days; 5 measured about the same:
            0.045 against 0.068 notices per six months, 2 against 3 of 289 slides missed).
        min_baseline: observations needed in the baseline window (10 of 28 days).
        rise: per kind, the smallest change in the bad direction that counts as a rise.
        noise: a rise must also be this many standard errors of the person's own day-to-day spread
            (baseline standard deviation times sqrt(1/n_recent + 1/n_baseline)), so a person whose
            sleep swings by hours needs a bigger change than one who sleeps like clockwork.
        together: how many signals must rise on the same day for a notice.
        cooldown_days: after a notice, none again for this many days.
    """

    recent_days: int = 7
    baseline_days: int = 28
    gap_days: int = 14
    min_recent: int = 4
    min_baseline: int = 10
    rise: Mapping[str, float] = field(default_factory=lambda: dict(KINDS))
    noise: float = 2.0
    together: int = 2
    cooldown_days: int = 28

    def __post_init__(self) -> None:
        if not 2 <= self.min_recent <= self.recent_days:
            raise BadInput(f"min_recent must be between 2 and recent_days ({self.recent_days}), "
                           f"not {self.min_recent}")
        if not 2 <= self.min_baseline <= self.baseline_days:
            raise BadInput(f"min_baseline must be between 2 and baseline_days ({self.baseline_days}), "
                           f"not {self.min_baseline}")
        if self.together < 1 or self.cooldown_days < 0 or self.noise < 0 or self.gap_days < 0:
            raise BadInput("together must be at least 1; cooldown_days, gap_days and noise at least 0")


@dataclass(frozen=True)
class Trend:
    """One signal on one day. ``change`` is recent minus baseline (signed as measured); ``rising``
    says it moved the bad way by enough; ``enough`` is False when either window has too few
    observations, and then ``rising`` is False and ``note`` says so instead of guessing."""

    signal: Signal
    day: date
    recent: float | None
    baseline: float | None
    n_recent: int
    n_baseline: int
    change: float | None
    rising: bool
    enough: bool
    note: str = ""


@dataclass(frozen=True)
class Notice:
    """A gentle notice: the day, the signals that rose together (in the order of the signals), what they show,
    and the guide's steps."""

    day: date
    rising: tuple[Trend, ...]
    text: str
    steps: tuple[str, ...]


STEPS: tuple[str, ...] = (
    "sleep: protect a regular bedtime this week",
    "food: regular meals",
    "exercise: some movement every day, even a walk",
    "recover actively: ease the load for a while, then step back up gradually, not a few days off "
    "and then full throttle",
    "notice early signs: keep checking in; your own signs are the earliest warning",
)


class _Days:
    """A series laid out one slot a day from ``first``, with running counts, sums and sums of squares,
    so a window's mean and spread cost the same whatever its length (``notices`` walks every day)."""

    def __init__(self, series: Series, first: date, last: date) -> None:
        self.first = first
        self.slots: list[float | None] = []
        self.count, self.total, self.squares = [0], [0.0], [0.0]
        for offset in range((last - first).days + 1):
            value = series.get(first + timedelta(days=offset))
            present = value is not None and not math.isnan(value)
            number = float(value) if value is not None and present else 0.0
            self.slots.append(number if present else None)
            self.count.append(self.count[-1] + present)
            self.total.append(self.total[-1] + number)
            self.squares.append(self.squares[-1] + number * number)

    def index(self, day: date) -> int:
        return (day - self.first).days

    def sums(self, start: int, stop: int) -> tuple[int, float, float]:
        return (self.count[stop] - self.count[start], self.total[stop] - self.total[start],
                self.squares[stop] - self.squares[start])

    def values(self, start: int, stop: int) -> list[float]:
        return [v for v in self.slots[start:stop] if v is not None]


def _reach(rule: PaceRule) -> int:
    """How many days before a day its trend looks back (inclusive of the day)."""
    return rule.recent_days + rule.gap_days + rule.baseline_days


def _trend(signal: Signal, days: _Days, day: date, rule: PaceRule) -> Trend:
    stop = days.index(day) + 1
    recent = days.values(stop - rule.recent_days, stop)
    base_stop = stop - rule.recent_days - rule.gap_days
    n_base, base_sum, base_squares = days.sums(base_stop - rule.baseline_days, base_stop)
    if len(recent) < rule.min_recent or n_base < rule.min_baseline:
        what = "check-ins" if signal.source == "checkin" else "days in the log"
        return Trend(signal, day, None, None, len(recent), n_base, None, False, False,
                     f"not enough {what} yet ({len(recent)} this week, {rule.min_recent} needed; "
                     f"{n_base} in the weeks before, {rule.min_baseline} needed)")
    # The recent window's single worst day is left out: one bad night is not a trend.
    kept = sorted(recent, key=lambda v: v * signal.bad)[:-1]
    recent_mean = math.fsum(kept) / len(kept)
    base_mean = base_sum / n_base
    spread = math.sqrt(max(0.0, base_squares - n_base * base_mean * base_mean) / (n_base - 1))
    standard_error = spread * math.sqrt(1 / len(kept) + 1 / n_base)
    change = recent_mean - base_mean
    worse = change * signal.bad
    floor = rule.rise.get(signal.kind)
    if floor is None:
        raise BadInput(f"signal {signal.name!r} has kind {signal.kind!r}, which the rule has no rise for")
    # A hair of slack so that a change exactly at the floor counts despite floating point.
    rising = worse >= floor - 1e-9 and worse >= rule.noise * standard_error
    return Trend(signal, day, recent_mean, base_mean, len(recent), n_base, change, rising, True)


def compares_from(checked: Iterable[date], today: date, rule: PaceRule | None = None) -> date:
    """The first day after ``today`` on which check-ins can be compared, if one comes every day from
    today on: their usual (``usual_words``) then holds ``min_baseline`` days, counting those checked
    in already (one back-filled a month ago counts as one day, not as a month)."""
    rule = rule or PaceRule()
    checked = set(checked)
    day = today + timedelta(days=1)
    while True:  # by today + recent + gap + min_baseline days at the latest
        last = day - timedelta(days=rule.recent_days + rule.gap_days)
        window = (last - timedelta(days=back) for back in range(rule.baseline_days))
        if sum(1 for d in window if d >= today or d in checked) >= rule.min_baseline:
            return day
        day += timedelta(days=1)


def _laid_out(series: Mapping[str, Series], signals: Sequence[Signal], first: date,
              last: date) -> list[tuple[Signal, _Days]]:
    return [(signal, _Days(series[signal.name], first, last)) for signal in signals if signal.name in series]


def trends(series: Mapping[str, Series], day: date, rule: PaceRule | None = None,
           signals: Sequence[Signal] = SIGNALS) -> list[Trend]:
    """Each signal that has a series, on ``day``, in the order of ``signals``."""
    rule = rule or PaceRule()
    first = day - timedelta(days=_reach(rule) - 1)
    return [_trend(signal, days, day, rule) for signal, days in _laid_out(series, signals, first, day)]


_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def _count(number: int) -> str:
    return _NUMBERS[number] if number < len(_NUMBERS) else str(number)


def _recent_words(rule: PaceRule) -> str:
    if rule.recent_days == 7:
        return "this week"
    return f"the last {rule.recent_days} days"


def usual_words(rule: PaceRule | None = None) -> str:
    """When a signal's usual is read from, as a person says it ("three to seven weeks ago")."""
    return _baseline_words(rule or PaceRule())


def _baseline_words(rule: PaceRule) -> str:
    """When the baseline was, as a person says it: "the four weeks before", "three to seven weeks ago"."""
    near, far = rule.recent_days + rule.gap_days, rule.recent_days + rule.gap_days + rule.baseline_days
    if near % 7 == 0 and far % 7 == 0:
        if rule.gap_days == 0:
            weeks = rule.baseline_days // 7
            return f"the {_count(weeks)} weeks before" if weeks > 1 else "the week before"
        return f"{_count(near // 7)} to {_count(far // 7)} weeks ago"
    return f"the {rule.baseline_days} days before" if rule.gap_days == 0 else f"{near} to {far} days ago"


def describe(rising: Sequence[Trend], rule: PaceRule | None = None) -> str:
    """The pattern in words, in the order given (``notices`` keeps the order of ``signals``, sleep
    first, the guide's first step): the first signal with a unit says its numbers, the others up or down.

    >>> rule = PaceRule()
    >>> sleep = Trend(SIGNALS[0], date(2025, 3, 1), 5.9, 7.4, 7, 28, -1.5, True, True)
    >>> snack = Trend(SIGNALS[4], date(2025, 3, 1), 2.0, 0.5, 7, 28, 1.5, True, True)
    >>> describe([sleep, snack], rule)
    'sleep 5.9 h a night this week against 7.4 h a night three to seven weeks ago; snacking up'
    >>> describe([sleep, snack], PaceRule(gap_days=0))
    'sleep 5.9 h a night this week against 7.4 h a night the four weeks before; snacking up'
    """
    rule = rule or PaceRule()
    parts = []
    said_numbers = False
    for trend in rising:
        direction = "up" if (trend.change or 0.0) > 0 else "down"
        if not said_numbers and trend.signal.unit and trend.recent is not None and trend.baseline is not None:
            said_numbers = True
            parts.append(f"{trend.signal.label} {trend.recent:.1f}{trend.signal.unit} "
                         f"{_recent_words(rule)} against {trend.baseline:.1f}{trend.signal.unit} "
                         f"{_baseline_words(rule)}")
        else:
            parts.append(f"{trend.signal.label} {direction}")
    return "; ".join(parts)


def notices(series: Mapping[str, Series], rule: PaceRule | None = None, start: date | None = None,
            end: date | None = None, signals: Sequence[Signal] = SIGNALS) -> list[Notice]:
    """The notices the rule raises on each day from ``start`` to ``end`` (inclusive; by default the
    first and last day of any series), at most one per ``cooldown_days``."""
    rule = rule or PaceRule()
    days = [d for s in series.values() for d in s]
    if not days:
        return []
    start = start or min(days)
    end = end or max(days)
    laid_out = _laid_out(series, signals, start - timedelta(days=_reach(rule) - 1), end)
    found: list[Notice] = []
    day = start
    while day <= end:
        if not found or (day - found[-1].day).days >= rule.cooldown_days:
            rising = [t for t in (_trend(signal, days, day, rule) for signal, days in laid_out) if t.rising]
            if len(rising) >= rule.together:
                found.append(Notice(day, tuple(rising), describe(rising, rule), STEPS))
        day += timedelta(days=1)
    return found


_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Iterable[float | None]) -> str:
    """One character a value, lowest to highest in eight blocks; a gap (None or NaN) is a space.

    >>> sparkline([7.5, 7.0, None, 6.0, 5.5])
    '█▇ ▃▁'
    """
    given = [None if v is None or math.isnan(v) else float(v) for v in values]
    present = [v for v in given if v is not None]
    if not present:
        return " " * len(given)
    low, high = min(present), max(present)
    span = high - low
    return "".join(" " if v is None else _BLOCKS[3] if span == 0 else
                   _BLOCKS[min(len(_BLOCKS) - 1, int((v - low) / span * len(_BLOCKS)))] for v in given)


def daily_values(series: Series, start: date, end: date) -> list[float | None]:
    """The series as one value a day from ``start`` to ``end``, None for a gap (for ``sparkline``)."""
    return [series.get(start + timedelta(days=i)) for i in range((end - start).days + 1)]


def _night(moment: datetime, bedtime: time, morning: time) -> date | None:
    """The evening a local time belongs to when it falls between bedtime and the next morning."""
    clock = moment.time()
    if bedtime >= morning:  # bedtime before midnight (23:00): the night runs over it
        if clock >= bedtime:
            return moment.date()
        return moment.date() - timedelta(days=1) if clock < morning else None
    # bedtime after midnight (00:30): only the small hours count, for the evening before
    return moment.date() - timedelta(days=1) if bedtime <= clock < morning else None


def late_activity(local_times: Iterable[datetime], start: date, end: date, bedtime: time = time(23, 0),
                  morning: time = time(5, 0)) -> Series:
    """Per evening from ``start`` to ``end``, how many entries, runs or edits came after bedtime and
    before the next ``morning`` (in the writer's local time). Every day has a value: the log knows
    when nothing happened."""
    counts: Series = {start + timedelta(days=i): 0.0 for i in range((end - start).days + 1)}
    for moment in local_times:
        evening = _night(moment, bedtime, morning)
        if evening is not None and evening in counts:
            counts[evening] += 1.0
    return counts


def work_days(active: Iterable[date], start: date, end: date) -> tuple[Series, Series]:
    """From the local days the log shows work on, ``worked_day`` (1 or 0, every day) and
    ``no_day_off_streak`` (worked days in a row up to and including each day)."""
    on = set(active)
    worked: Series = {}
    streak: Series = {}
    run = 0
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        run = run + 1 if day in on else 0
        worked[day] = 1.0 if day in on else 0.0
        streak[day] = float(run)
    return worked, streak
