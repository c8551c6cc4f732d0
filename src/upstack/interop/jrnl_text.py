"""jrnl's own journal file: the plain text jrnl writes and reads back (``jrnl/journals/Journal.py``).

jrnl (v2 and later) writes each entry as a date line, the body, and a blank line::

    [2024-03-02 02:30:00 PM] Patching layer 5 kills the effect. *
    Next: try head 5.1 #patching #ioi

The date is written with the journal's ``timeformat`` (jrnl's default ``%F %r``); a
trailing ``*`` stars the entry; an entry runs until the next line that starts with
``[DATE] ``. jrnl reads the title and body as it splits them (the first line, or the
first sentence of a one-line entry), and tags are words starting with one of the
``tagsymbols`` (``#@``) anywhere in the entry, lower-cased. jrnl 1.x wrote the date
without brackets (``2012-05-01 09:00 Title``); jrnl reads that form only to upgrade
such a journal, and so does this module, when no line has the bracketed form.

Where jrnl guesses a date it cannot read with the timeformat (it tries a fuzzy parser),
this reader reports the line instead: an import is all or nothing, and a guessed date
(is 03/04 March or April?) would be wrong without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from upstack.errors import BadInput

__all__ = ["DEFAULT_TIMEFORMAT", "DEFAULT_TAGSYMBOLS", "TextEntry", "TextJournal", "check_timeformat",
           "read_text_journal"]

DEFAULT_TIMEFORMAT = "%F %r"  # jrnl.config.get_default_config
DEFAULT_TAGSYMBOLS = "#@"

# The C library's strftime, which jrnl writes with, knows these; Python's strptime does not
# (jrnl itself then falls back to guessing). Flags such as %-d (no padding) read as plain %d.
_SPELLED_OUT = {"F": "%Y-%m-%d", "T": "%H:%M:%S", "R": "%H:%M", "r": "%I:%M:%S %p", "D": "%m/%d/%y",
                "h": "%b", "e": "%d", "P": "%p"}
_DIRECTIVE = re.compile(r"%[-_0^#]?([A-Za-z%])")
# Each directive's loose shape: a line in the timeformat's shape whose date cannot be read is a
# bad date line (month 13, hour 25), not body text.
_NAME = r"[^\W\d_]+\.?"
_SHAPES = {"Y": r"\d{4}", "G": r"\d{4}", "y": r"\d\d", "f": r"\d{1,6}", "j": r"\d{1,3}", "u": r"\d",
           "w": r"\d", "p": r"[AaPp]\.?[Mm]\.?", "a": _NAME, "A": _NAME, "b": _NAME, "B": _NAME,
           "z": r"(?:Z|[+-]\d\d:?\d\d)?", "Z": r"[A-Za-z]{0,5}", "%": "%",
           **dict.fromkeys("mdHIMSUWVCg", r"\s?\d{1,2}")}
_DATE_LINE = re.compile(r"\[([^\]\n]+)\] ")  # jrnl: "(?:^|\n)\[([^\]]+)\] "
# A date jrnl would guess: numbers with date or time separators, month and day names, am/pm.
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_WORDS = frozenset([*_MONTHS, *(m[:3] for m in _MONTHS), "sept"])
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE_WORDS = _MONTH_WORDS | {*_DAYS, *(d[:3] for d in _DAYS), "tues", "thur", "thurs",
                              "am", "pm", "a.m", "p.m", "at", "utc", "gmt", "z"}
_DATE_NUMBER = re.compile(r"[+-]?\d+(?:[-/.:T]\d+)*(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?(?:st|nd|rd|th|[ap]m)?",
                          re.I)
# jrnl's title: the first line, or for a one-line entry its first sentence (its segtok-based rule).
_SENTENCE_END = re.compile("[.!?\u2026\u203c\u203d\u2047\u2048\u2049\u22ef\ufe52\ufe57]"
                           "['\u2019\"\u201d]?[\\])]*\\s+|[\uff01\uff0e\uff1f\uff61\u3002]")


@dataclass(frozen=True)
class TextEntry:
    line: int  # of its date line, from 1
    moment: datetime
    title: str
    body: str
    tags: list[str]  # without their symbol, as jrnl finds them
    starred: bool


@dataclass
class TextJournal:
    entries: list[TextEntry] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


def strptime_format(timeformat: str) -> str:
    """The timeformat as Python's strptime reads it.

    >>> strptime_format("%F %r")
    '%Y-%m-%d %I:%M:%S %p'
    """
    return _DIRECTIVE.sub(lambda m: _SPELLED_OUT.get(m[1], "%" + m[1]), timeformat)


def _shape(timeformat: str) -> re.Pattern[str] | None:
    """A loose pattern of the dates the timeformat writes; None where a directive's shape is unknown."""
    parts, at = [], 0
    for match in _DIRECTIVE.finditer(timeformat):
        parts.append(re.escape(timeformat[at:match.start()]))
        if match[1] not in _SHAPES:
            return None
        parts.append(_SHAPES[match[1]])
        at = match.end()
    parts.append(re.escape(timeformat[at:]))
    return re.compile("".join(parts))


def check_timeformat(timeformat: str, origin: str) -> None:
    """Refuse a timeformat whose dates cannot be read back to their day.

    Raises:
        BadInput: it has no directive, one strptime cannot read, or no year, month and day.
    """
    sample = datetime(2024, 3, 1, 21, 15, 7, tzinfo=UTC)
    try:
        back = datetime.strptime(sample.strftime(timeformat), strptime_format(timeformat))
    except ValueError as exc:
        raise BadInput(f"cannot read dates written with timeformat {timeformat!r} ({origin}): {exc}") from None
    if back.date() != sample.date():
        raise BadInput(f"timeformat {timeformat!r} ({origin}) does not give the year, month and day "
                       "of an entry; nothing was imported")


def _looks_like_a_date(text: str, shape: re.Pattern[str] | None) -> bool:
    """Would jrnl take this for a date? Then a date the timeformat cannot read is a problem, not text."""
    if shape is not None and shape.fullmatch(text):
        return True
    if len(text) <= 6:  # jrnl: "probably a markdown footnote"
        return False
    tokens = [t for t in re.split(r"[\s,]+", text) if t]
    if not all(_DATE_NUMBER.fullmatch(t) or t.lower().rstrip(".") in _DATE_WORDS for t in tokens):
        return False
    named_month = any(t.lower().rstrip(".") in _MONTH_WORDS for t in tokens)
    return bool(re.search(r"\d[-/.:]\d", text)) or (named_month and any(c.isdigit() for c in text))


def _title_and_body(text: str) -> tuple[str, str]:
    text = text.lstrip()
    first_line, newline, rest = text.partition("\n")
    if newline:
        return first_line.strip(), rest.strip()
    end = _SENTENCE_END.search(text)
    return (text[:end.end()].strip(), text[end.end():].strip()) if end else (text, "")


def _entry(line: int, moment: datetime, text: str, starred: bool, tags: re.Pattern[str],
           tagsymbols: str) -> TextEntry:
    """An entry from its text after the date, read as jrnl reads it (``Entry._parse_text``)."""
    first, _, rest = text.partition("\n")
    if first.strip().endswith("*"):
        starred = True
        text = first.strip("\n *") + "\n" + rest
    title, body = _title_and_body(text)
    found = {t.lower().lstrip(tagsymbols) for t in tags.findall(text)} - {""}
    return TextEntry(line=line, moment=moment, title=title, body=body, tags=sorted(found), starred=starred)


class _Dates:
    """Reading dates in one timeformat."""

    def __init__(self, timeformat: str) -> None:
        self.parse_as, self.shape = strptime_format(timeformat), _shape(timeformat)

    def read(self, written: str) -> datetime | None:
        try:
            return datetime.strptime(written, self.parse_as)
        except ValueError:
            return None

    def starts(self, lines: list[str], legacy: bool) -> list[tuple[int, datetime | None, str, str]]:
        """(index, date or None if unreadable, the date as written, the text after it) of each date line."""
        found: list[tuple[int, datetime | None, str, str]] = []
        for number, line in enumerate(lines):
            if legacy:  # jrnl 1.x: the date at the start of the line, no brackets
                prefix = self.shape.match(line) if self.shape else None
                if prefix and line[prefix.end():prefix.end() + 1] in ("", " "):
                    moment = self.read(prefix[0])
                    if moment is not None:
                        found.append((number, moment, prefix[0], line[prefix.end() + 1:]))
                continue
            bracketed = _DATE_LINE.match(line)
            if bracketed:
                moment = self.read(bracketed[1])
                if moment is not None or _looks_like_a_date(bracketed[1], self.shape):
                    found.append((number, moment, bracketed[1], line[bracketed.end():]))
        return found


def read_text_journal(text: str, name: str, timeformat: str = DEFAULT_TIMEFORMAT,
                      tagsymbols: str = DEFAULT_TAGSYMBOLS, origin: str = "jrnl's default"
                      ) -> TextJournal | None:
    """Every entry of jrnl's text, and each problem with its line; None if no line starts an entry.

    ``text`` has its line ends as ``\\n`` (CRLF already made LF); ``name`` names the file in
    messages, and ``origin`` where the timeformat came from.

    Raises:
        BadInput: there are date lines, but the timeformat reads none of them.
    """
    if not text.strip():
        return TextJournal()
    lines, dates, legacy = text.split("\n"), _Dates(timeformat), False
    starts = dates.starts(lines, legacy)
    if not starts:
        legacy = True
        starts = dates.starts(lines, legacy)
        if not starts:
            return None
    if not any(moment for _, moment, _, _ in starts):
        number, _, written, _ = starts[0]
        raise BadInput(f"{name}:{number + 1}: no entry's date reads with timeformat {timeformat!r} ({origin}), "
                       f"e.g. {written!r}: give the journal's timeformat with --timeformat, as in jrnl's "
                       "config; nothing was imported")
    journal = TextJournal()
    first_text = next((n for n, line in enumerate(lines[:starts[0][0]]) if line.strip()), None)
    if first_text is not None:
        journal.problems.append((first_text + 1, "text before the first entry (a jrnl entry starts with "
                                                 "a line `[DATE] title`)"))
    tags = re.compile(rf"(?<!\S)([{re.escape(tagsymbols)}][-+*#/\w]+)")  # jrnl's Entry.tag_regex
    for (number, moment, written, after), following in zip(starts, [*starts[1:], None], strict=True):
        end = following[0] if following else len(lines)
        if moment is None:
            journal.problems.append((number + 1, f"cannot read the date {written!r} with timeformat "
                                                 f"{timeformat!r} ({origin}); give the journal's with --timeformat"))
            continue
        starred = legacy and after.rstrip().endswith("*")  # jrnl 1.x: "date title*"
        if starred:
            after = after.rstrip()[:-1]
        body = "\n".join([after, *lines[number + 1:end]])
        journal.entries.append(_entry(number + 1, moment, body, starred, tags, tagsymbols))
    return journal
