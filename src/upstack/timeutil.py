"""Times: stored as ISO 8601 UTC text, shown in local time, typed in plain words."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta

from upstack.errors import BadInput
from upstack.limits import DATE_MAX_CHARS

__all__ = ["now", "now_iso", "now_after", "to_iso", "parse_when", "parse_moment", "parse_since", "parse_until",
           "parse_iso", "local_display", "SimulatedClock", "simulated_clock", "epoch_clock", "iso_day", "utc_offset",
           "offset_minutes", "wall_time", "OFFSET_CHARS"]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_iso(moment: datetime) -> str:
    """A fixed-width UTC form, so text order is time order on every engine."""
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive means local time
    return moment.astimezone(UTC).strftime(_FORMAT)


class SimulatedClock:
    """A clock that says the time it is set to: `upstack demo` lives through three weeks of a log
    in seconds, and what it writes is dated as if it had (see `simulated_clock`)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def set(self, moment: datetime) -> None:
        self.moment = moment.astimezone(UTC)

    def epoch(self) -> float:
        return self.moment.timestamp()


# Per context, so that only the code that asked for it (the demo's own thread) sees it: a web
# request answered meanwhile in another thread keeps the real time.
_SIMULATED: ContextVar[SimulatedClock | None] = ContextVar("upstack_simulated_clock", default=None)


@contextmanager
def simulated_clock(start: datetime) -> Iterator[SimulatedClock]:
    """Within the block, `now` (and everything dated by it) says what the clock is set to."""
    clock = SimulatedClock(start)
    token = _SIMULATED.set(clock)
    try:
        yield clock
    finally:
        _SIMULATED.reset(token)


def now() -> datetime:
    """The time now, in UTC (a simulated clock's, within `simulated_clock`)."""
    clock = _SIMULATED.get()
    return datetime.now(UTC) if clock is None else clock.moment


def now_iso() -> str:
    return to_iso(now())


def today_local() -> date:
    """Today's date where the person is (a simulated clock's, within `simulated_clock`)."""
    return _local(now()).date()


def parse_day(text: str, *, what: str = "date", prefer: str = "future") -> str:
    """A calendar day (``YYYY-MM-DD``) from ISO or words ("next friday", "in 2 weeks", "Jan 15"),
    words read as days to come (``prefer="future"``, a deadline's) or gone (``"past"``)."""
    cleaned = text.strip()
    try:
        return date.fromisoformat(cleaned).isoformat()
    except ValueError:
        pass
    if not cleaned:
        raise BadInput(f"empty {what}")
    if len(cleaned) > DATE_MAX_CHARS:
        raise BadInput(f"the {what} is {len(cleaned):,} characters long; the longest date text allowed is "
                       f"{DATE_MAX_CHARS}")
    _refuse_misread(cleaned, text, what)
    numeric = _numeric_day(cleaned, what)
    if numeric is not None:
        return numeric
    import dateparser  # slow import: only when a date is typed in words

    parsed = dateparser.parse(cleaned, settings={"PREFER_DATES_FROM": prefer, "RETURN_AS_TIMEZONE_AWARE": False,
                                                 "RELATIVE_BASE": _local(now()).replace(tzinfo=None)})
    if parsed is None:
        raise BadInput(f"cannot understand the {what} {text!r} (try 2027-01-15, 'Jan 15' or 'next friday')")
    return parsed.date().isoformat()


# Year first (2026-13-01, 2026/02/30): that year, month and day, or no day at all; dateparser would
# swap the month and day it cannot take (13 January). A signed number or one with an exponent (-1, +3,
# 1e9) is no day either: dateparser reads them as the 5th of January, of March, 1 September.
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_NO_DAY = re.compile(r"[+-]\d+(?:\.\d*)?|\d+(?:\.\d*)?[eE][+-]?\d+")


# Day and month in digits, the year last: 1.12.2025, 12/1/2025, 1-12-25.
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})")


def _numeric_day(cleaned: str, what: str) -> str | None:
    """A day written in digits with the year last, read as written where it is written so: with dots,
    day first (1.12.2025 is 1 December); with slashes or dashes, the order is the writer's custom
    (12/1 is 1 December in London, 12 January in New York), so one that reads both ways is refused.
    None for any other text."""
    found = _DAY_MONTH_YEAR.fullmatch(cleaned)
    if found is None:
        return None
    first, sep, second, year = int(found[1]), found[2], int(found[3]), int(found[4])
    year += 2000 if year < 100 else 0
    if sep != "." and first <= 12 and second <= 12 and first != second:
        raise BadInput(f"the {what} {cleaned!r} reads as {first} {_month(second)} or as {second} {_month(first)}: "
                       f"write it as {year:04d}-MM-DD")
    day, month = (second, first) if sep != "." and first <= 12 < second else (first, second)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise BadInput(f"the {what} {cleaned!r} is no day of the calendar") from None


def _month(number: int) -> str:
    return date(2000, number, 1).strftime("%B") if 1 <= number <= 12 else str(number)


def iso_day(value: object) -> date | None:
    """The day a stored value names as upstack writes one (YYYY-MM-DD), or None (any other value)."""
    try:
        found = date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return found if found.isoformat() == value else None


def _refuse_misread(cleaned: str, text: str, what: str) -> None:
    """Raise BadInput for a text dateparser would misread (below); "2026-13-01 10:00" too, its date
    read on its own."""
    head = re.split(r"[ T]", cleaned, maxsplit=1)[0]
    _refuse_misread_whole(cleaned, text, what)
    if head != cleaned and _YEAR_FIRST.fullmatch(head):
        _refuse_misread_whole(head, text, what)


def _refuse_misread_whole(cleaned: str, text: str, what: str) -> None:
    if _NO_DAY.fullmatch(cleaned):
        raise BadInput(f"cannot understand the {what} {text!r} (try 2027-01-15, 'Jan 15' or 'next friday')")
    found = _YEAR_FIRST.fullmatch(cleaned)
    if found:
        year, month, day = (int(part) for part in found.groups())
        if not 1 <= month <= 12 or year < 1:
            raise BadInput(f"the {what} {text!r} is no day: there is no {'month' if year else 'year'} "
                           f"{month if year else 0}")
        try:
            date(year, month, day)
        except ValueError:
            raise BadInput(f"the {what} {text!r} is no day: {date(year, month, 1):%B %Y} has no day {day}") from None


def epoch_clock() -> Callable[[], float]:
    """What dates a run's metric points: ``time.time``, or the simulated clock in effect."""
    clock = _SIMULATED.get()
    return time.time if clock is None else clock.epoch


def now_after(previous: str | None) -> str:
    """Now, or a microsecond after ``previous`` if the clock says earlier (it was stepped back, or
    ``previous`` came from a machine whose clock is ahead): where the newest change wins, a change
    made after another must sort after it."""
    now = now_iso()
    if previous is None or now > previous:
        return now
    try:
        return to_iso(parse_iso(previous) + timedelta(microseconds=1))
    except ValueError:
        return now
    except OverflowError:  # the last microsecond of year 9999 (a pushed record's): nothing comes after it
        return previous


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


# A writer's UTC offset, as entries, runs and check-ins record it (docs/architecture.md, "Local time"):
# ISO 8601's ``+05:30``, within the offsets places use (UTC-12:00 to UTC+14:00).
OFFSET_CHARS = 6
_OFFSET = re.compile(r"([+-])([0-9]{2}):([0-5][0-9])")
_EARLIEST_OFFSET, _LATEST_OFFSET = -12 * 60, 14 * 60


def utc_offset(moment: datetime | None = None) -> str | None:
    """This machine's UTC offset at ``moment`` (now: a simulated clock's, within `simulated_clock`), as
    ``+05:30``: the zone a time written now was written in. None when the zone is no place's (a ``TZ``
    such as ``XYZ-15``), so nothing is recorded that a reader or a team server would refuse."""
    local = (moment or now()).astimezone()
    offset = local.utcoffset()
    minutes = round(offset.total_seconds() / 60) if offset is not None else 0
    if not _EARLIEST_OFFSET <= minutes <= _LATEST_OFFSET:
        return None
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def offset_minutes(text: object) -> int:
    """The minutes east of UTC an offset (``+05:30``) says.

    >>> offset_minutes("+05:30"), offset_minutes("-08:00")
    (330, -480)

    Raises:
        ValueError: not an offset as upstack writes one, or none a place uses (beyond -12:00..+14:00);
            the message says which, in a few words, without repeating a long text.
    """
    found = _OFFSET.fullmatch(text) if isinstance(text, str) and len(text) == OFFSET_CHARS else None
    if found is None:
        shown = repr(text)[:20] + ("..." if len(repr(text)) > 20 else "")
        raise ValueError(f"{shown} is not a UTC offset written +HH:MM (e.g. +05:30)")
    sign, hours, minutes = found.groups()
    total = (int(hours) * 60 + int(minutes)) * (-1 if sign == "-" else 1)
    if not _EARLIEST_OFFSET <= total <= _LATEST_OFFSET:
        raise ValueError(f"{text} is no UTC offset a place uses (-12:00 to +14:00)")
    return total


def wall_time(stored: str, offset: str | None) -> datetime:
    """What the clock on the wall said (naive) when a time stored in UTC was written: in the zone it was
    written in when its ``offset`` is known, else in this machine's zone now (a time written before
    offsets were recorded, or a recorded offset that is not one)."""
    moment = parse_iso(stored)
    if offset is not None:
        try:
            return (moment + timedelta(minutes=offset_minutes(offset))).replace(tzinfo=None)
        except ValueError:
            pass
    return moment.astimezone().replace(tzinfo=None)


# A time of day, or a unit smaller than a day: the text means a moment, not a whole day.
_MOMENT = re.compile(r"\d:\d|\d\s*(?:am|pm|h|m|s)\b|\b(?:noon|midnight|now|hours?|hrs?|minutes?|mins?|"
                     r"seconds?|secs?)\b|\dT\d", re.IGNORECASE)


def parse_when(text: str, *, what: str = "date") -> str:
    """Parse a date a person typed ("yesterday 14:00", "2024-03-01") into stored form.

    ISO 8601 is read by the standard library; anything else goes to dateparser,
    imported only here because it costs a tenth of a second to load. Text longer than
    ``DATE_MAX_CHARS`` is refused first: dateparser's time grows with it (10 kB took 10 s).
    """
    return to_iso(_parse(text, what))


AT_HOUR = 9  # a day named without a time of day happened at 09:00, as jrnl's default hour


def parse_moment(text: str, *, what: str = "date") -> str:
    """When something happened (``--at``): a moment as typed; a day without a time of day
    ("last wednesday", "3 days ago", 2024-03-01) at ``AT_HOUR`` that day (now, for today
    before then), never at midnight or at this time of day."""
    moment = _parse(text, what)
    if not _means_a_day(text):
        return to_iso(moment)
    that_day = _local(moment).replace(hour=AT_HOUR, minute=0, second=0, microsecond=0).astimezone()
    today = now().astimezone()
    return to_iso(today if that_day.date() == today.date() and that_day > today else that_day)


def parse_since(text: str, *, what: str = "date") -> str:
    """The start of a filter's range: a day ("3 weeks ago", "last monday", 2024-03-01) from
    the start of that local day, so the whole day is in; a moment ("2 hours ago") as it is."""
    moment = _parse(text, what)
    return to_iso(_local(moment).replace(hour=0, minute=0, second=0, microsecond=0)
                  if _means_a_day(text) else moment)


def parse_until(text: str, *, what: str = "date") -> str:
    """The end of a filter's range: a day ("yesterday", 2024-03-01) up to the end of that
    local day, so the whole day is in; a moment ("yesterday 14:00") as it is."""
    moment = _parse(text, what)
    return to_iso(_local(moment).replace(hour=23, minute=59, second=59, microsecond=999999)
                  if _means_a_day(text) else moment)


def _means_a_day(text: str) -> bool:
    return _MOMENT.search(text) is None


def _local(moment: datetime) -> datetime:
    return moment.astimezone() if moment.tzinfo is not None else moment  # naive is local already


def _parse(text: str, what: str) -> datetime:
    cleaned = text.strip()
    if not cleaned:
        raise BadInput(f"empty {what}")
    if len(cleaned) > DATE_MAX_CHARS:
        raise BadInput(f"the {what} is {len(cleaned):,} characters long; the longest date text allowed is "
                       f"{DATE_MAX_CHARS}")
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    _refuse_misread(cleaned, text, what)
    import dateparser  # slow import: only when a date is typed in words

    parsed = dateparser.parse(
        cleaned,
        settings={"PREFER_DATES_FROM": "past", "RETURN_AS_TIMEZONE_AWARE": False},
    )
    if parsed is None:
        raise BadInput(f"cannot understand {what} {text!r} (try 'yesterday 14:00' or 2024-03-01)")
    return parsed


def local_display(iso: str, *, seconds: bool = False) -> str:
    moment = parse_iso(iso).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
