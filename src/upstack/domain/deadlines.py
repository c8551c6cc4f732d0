"""The deadline a post states: "apply by Jan 15", "Deadline: December 20, 2026", "applications close
2027-01-15", "due 15 January", "by the end of March".

Dates are found by a handful of patterns (month and day, day and month, ISO, d/m/y when only one
reading is a date, "the end of March") and each is scored by the deadline words just before it in its
sentence ("deadline", "due", "close", "apply by", "submit ... by"; a bare "by", "before" or "until"
counts less) or just after it ("March 1 is the deadline"). A date with none of them nearby, such as
an event's date or the day a report came out, is never proposed: a wrong deadline is worse than none,
since the person fills in the right one when they accept the opening. Regular expressions, not
dateparser: its search over free text is slow to import (about 70 ms) and finds dates in words like
"may" and "second".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from upstack.timeutil import now

__all__ = ["proposed_deadline", "states_deadline"]

_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
           "nov": 11, "dec": 12}
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?")
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b"
_YEAR = r"(?:,?\s+(?P<year>20\d\d)\b)?"
_PATTERNS = (
    re.compile(rf"\b{_MONTH}\s+(?:the\s+)?{_DAY}{_YEAR}", re.IGNORECASE),  # Jan 15, December 20, 2026
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}", re.IGNORECASE),  # 15 January, 3rd of March 2027
    re.compile(r"\b(?P<year>20\d\d)-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)\b"),  # 2027-01-15
    re.compile(r"\b(?P<first>[0-3]?\d)/(?P<second>[0-3]?\d)/(?P<year>20\d\d)\b"),  # 15/01/2027, 01/15/2027
    re.compile(rf"\bend\s+of\s+{_MONTH}(?!\s*[0-3]?\d(?:st|nd|rd|th)?\b){_YEAR}", re.IGNORECASE),  # end of March
)
_MONTH_END = 4  # the index of "the end of March" in _PATTERNS

_STRONG = re.compile(r"""\b(?:
    deadlines? | due(?!\s+to\b) | clos(?:e|es|ed|ing) | shuts? | no\s+later\s+than | first\s+review
  | (?:review|screening|consideration)\s+of\s+applications\s+(?:starts|begins)
  | (?:apply|applications?|proposals?|submissions?|submit(?:ted)?|send|reach\s+out|received|accepted
      |letters?\s+of\s+intent|expressions?\s+of\s+interest|sign\s+up|register)
    \b[^.;!?\n]{0,40}?\b(?:by|before|until|through)  # "applications must be submitted by"
)\b""", re.IGNORECASE | re.VERBOSE)
_WEAK = re.compile(r"\b(?:by|before|until)\b", re.IGNORECASE)
_AFTER = re.compile(r"[\s,:()\-\u2013]*(?:is\s+the\s+|as\s+the\s+)?(?:deadline|due)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?;]\s|\n")
_LOOK_BACK = 80  # characters before a date where its deadline word may be
# "by", "before", "until" say less than "deadline", and only with nothing but these between them and the
# date: "by the end of March", "by 5pm GMT on Friday, 3 October"; not "posted by Sam on March 3".
_WEAK_PENALTY = 30
_FILLER = re.compile(r"(?:[\s,]|\b(?:the|end|of|on|at|midnight|noon|\d{1,2}(?::\d\d)?\s*(?:am|pm)"
                     r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|gmt|utc|bst|cet|cest|et|pt|est|pst|aoe)\b)*",
                     re.IGNORECASE)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    month: int
    day: int | None  # None: the month's last day ("the end of March")
    year: int | None


def proposed_deadline(text: str, *, published: date | None = None) -> date | None:
    """The date ``text`` says to apply by, or None (no date next to a deadline word; "rolling").

    A date without a year is the next such date on or after ``published`` (today, if None).

    >>> proposed_deadline("The camp runs June 9-20. Apply by March 1.", published=date(2027, 1, 8))
    datetime.date(2027, 3, 1)
    """
    since = published or now().astimezone().date()
    best: tuple[int, int, date] | None = None  # (score, position, date): the lowest score, then the first
    for mention in _mentions(text):
        score = _cue_distance(text, mention)
        when = _resolve(mention, since)
        if score is not None and when is not None and (best is None or (score, mention.start) < best[:2]):
            best = (score, mention.start, when)
    return best[2] if best else None


def states_deadline(text: str) -> bool:
    """Whether ``text`` names a date next to a deadline word (what ``proposed_deadline`` looks for)."""
    return any(_cue_distance(text, mention) is not None for mention in _mentions(text))


def _mentions(text: str) -> list[_Mention]:
    found: list[_Mention] = []
    taken: list[tuple[int, int]] = []
    for index, pattern in enumerate(_PATTERNS):
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue  # "15 January" read already as a day-month; not again as "January 2027"
            mention = _mention(match, month_end=index == _MONTH_END)
            if mention is not None:
                found.append(mention)
                taken.append(match.span())
    return found


def _mention(match: re.Match[str], *, month_end: bool) -> _Mention | None:
    parts = match.groupdict()
    year = int(parts["year"]) if parts.get("year") else None
    if parts.get("first"):  # d/m/y or m/d/y: only when one reading is not a date
        first, second = int(parts["first"]), int(parts["second"])
        if (first > 12) == (second > 12):
            return None
        day, month = (first, second) if first > 12 else (second, first)
        return _Mention(*match.span(), month, day, year)
    word = parts["month"]
    month = int(word) if word.isdigit() else _MONTHS[word[:3].lower()]
    return _Mention(*match.span(), month, None if month_end else int(parts["day"]), year)


def _cue_distance(text: str, mention: _Mention) -> int | None:
    """How far a date is from the deadline word before it in its sentence (a weak word counts as
    farther), or from one just after it ("March 1 is the deadline"); None: there is none."""
    before = text[max(0, mention.start - _LOOK_BACK):mention.start]
    ends = list(_SENTENCE_END.finditer(before))
    before = before[ends[-1].end():] if ends else before
    scores = []
    if strong := list(_STRONG.finditer(before)):
        scores.append(len(before) - strong[-1].end())
    if (weak := list(_WEAK.finditer(before))) and _FILLER.fullmatch(before, weak[-1].end()):
        scores.append(len(before) - weak[-1].end() + _WEAK_PENALTY)
    if _AFTER.match(text, mention.end, mention.end + 40):
        scores.append(5)
    return min(scores) if scores else None


def _resolve(mention: _Mention, since: date) -> date | None:
    years = [mention.year] if mention.year else range(since.year, since.year + 9)  # Feb 29 comes within 8
    for year in years:
        try:
            day = calendar.monthrange(year, mention.month)[1] if mention.day is None else mention.day
            when = date(year, mention.month, day)
        except ValueError:  # 31 September, 30 February
            continue
        if mention.year or when >= since:
            return when
    return None
