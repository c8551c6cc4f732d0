"""Interview practice, as pure rules: what a problem's key is, what an attempt must say, the FSRS
rating an attempt earns, the guide's bar ("LeetCode mediums reliably in under 30 minutes") and its
uncertainty, and how a person's ``practice.attempt`` records fold into their attempts.

The records are the history (store/path.py): an attempt struck out by mistake is one more record
(``strikes: <id>``), and striking that strike restores it. Whether an attempt was the first at its
problem is derived from the history when the person did not say, so striking a mistaken first
attempt makes the next one the first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from upstack.errors import BadInput

__all__ = ["DIFFICULTIES", "OUTCOMES", "RATINGS", "MAX_MINUTES", "Attempt", "Bar", "Pattern", "problem_key",
           "check_url", "check_minutes", "check_topics", "attempt_data", "rating", "within_target", "fold",
           "struck_out",
           "first_mediums", "bar", "bar_over_time", "slowest_patterns", "wilson"]

DIFFICULTIES = ("easy", "medium", "hard")
OUTCOMES = ("unaided", "hints", "failed")
RATINGS = ("again", "hard", "good", "easy")  # FSRS's four ratings, in its order (1 to 4)
MAX_MINUTES = 24 * 60  # an attempt longer than a day is a typing slip, not an attempt
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,199}")
_TITLE_MAX = 300
# LeetCode's problem pages (any tab of one) are the problem its slug names: one key for both forms.
_LEETCODE = re.compile(r"(?:www\.)?leetcode\.(?:com|cn)$")
_LEETCODE_PATH = re.compile(r"/problems/([a-z0-9][a-z0-9-]*)(?:/.*)?$")


def check_url(text: str) -> str:
    """A web address as given, refused in one line unless it is http(s) with a host."""
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text.strip()):
        raise BadInput(f"{text!r} is not a web address (give one starting http:// or https://)")
    return text.strip()


def problem_key(text: str) -> str:
    """A problem's key: a slug (``two-sum``; spaces become dashes, letters lower case) or a web
    address without its query, fragment, ``www.`` or trailing slash. A LeetCode problem's
    address gives its slug, so ``two-sum`` and its page are one problem."""
    given = text.strip()
    if "://" in given:
        parts = urlsplit(check_url(given))
        host = (parts.hostname or "").lower().removeprefix("www.")
        path = re.sub(r"/+", "/", parts.path).rstrip("/")
        found = _LEETCODE_PATH.match(path) if _LEETCODE.match(host) else None
        return found.group(1) if found else f"https://{host}{path}"
    slug = re.sub(r"\s+", "-", given.lower())
    if not _SLUG.fullmatch(slug):
        raise BadInput(f"{text!r} is not a problem: give its slug (letters, digits, '-', '_' or '.', "
                       "e.g. two-sum) or its web address")
    return slug


def check_minutes(value: object) -> float:
    """Minutes spent, a number from 0 to a day; a whole number stays whole."""
    try:
        minutes = float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else math.nan
    except ValueError:
        raise BadInput(f"minutes {value!r} is not a number (give e.g. 25 or 12.5)") from None
    if not math.isfinite(minutes):
        raise BadInput(f"minutes {value!r} is not a number (give e.g. 25 or 12.5)")
    if minutes < 0:
        raise BadInput(f"minutes {value!r} is negative: give the minutes the attempt took, 0 or more")
    if minutes > MAX_MINUTES:
        raise BadInput(f"minutes {value!r} is more than a day: give the minutes one attempt took")
    return int(minutes) if minutes.is_integer() else minutes


def check_topics(topics: Iterable[str]) -> list[str]:
    """Topics (patterns) in lower case, each once, in the order given; commas split them too."""
    found: list[str] = []
    for given in topics:
        for part in given.split(","):
            topic = " ".join(part.split()).lower()
            if len(topic) > 100:
                raise BadInput(f"topic {topic[:40]!r}... is longer than 100 characters")
            if topic and topic not in found:
                found.append(topic)
    return found


def attempt_data(problem: str, *, at: str, minutes: object, outcome: str, difficulty: str | None = None,
                 topics: Iterable[str] = (), title: str | None = None, url: str | None = None,
                 first: bool | None = None) -> dict[str, Any]:
    """A ``practice.attempt`` record's data, checked: each wrong field refused in one line.
    ``first`` left out is derived from the history when the attempts are folded."""
    if outcome not in OUTCOMES:
        raise BadInput(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    level = difficulty.strip().lower() if difficulty else None
    if level is not None and level not in DIFFICULTIES:
        raise BadInput(f"difficulty {difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
    key = problem_key(problem)
    if url is None and "://" in problem:  # the address given as the problem is kept as its link
        url = problem.strip()
    data: dict[str, Any] = {"subject": key, "at": at, "minutes": check_minutes(minutes), "outcome": outcome}
    if level:
        data["difficulty"] = level
    if topics := check_topics(topics):
        data["topics"] = topics
    if title and title.strip():
        if len(title.strip()) > _TITLE_MAX:
            raise BadInput(f"the title is longer than {_TITLE_MAX} characters")
        data["title"] = " ".join(title.split())
    if url:
        data["url"] = check_url(url)
    if first is not None:
        data["first"] = first
    return data


def rating(outcome: str, minutes: float, target: float) -> str:
    """The FSRS rating an attempt earns: failed is Again; solved with hints is Hard; solved unaided
    is Easy within half the target (15 of 30 minutes), Good within the target, Hard beyond it."""
    if outcome == "failed":
        return "again"
    if outcome == "hints" or minutes > target:
        return "hard"
    return "easy" if minutes <= target / 2 else "good"


def within_target(outcome: str, minutes: float, target: float) -> bool:
    """Solved unaided within the target: what the bar counts."""
    return outcome == "unaided" and minutes <= target


@dataclass(frozen=True)
class Attempt:
    """One attempt as it stands: its problem's title, difficulty and topics are the latest the
    person gave for that problem, so a review logged as just ``two-sum --minutes 9`` has them."""

    id: str
    problem: str
    at: str
    minutes: float
    outcome: str
    first: bool
    difficulty: str | None = None
    title: str | None = None
    topics: tuple[str, ...] = ()
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "problem": self.problem, "at": self.at, "minutes": self.minutes,
                "outcome": self.outcome, "first": self.first, "difficulty": self.difficulty,
                "title": self.title, "topics": list(self.topics), "url": self.url}


def fold(records: Iterable[tuple[str, str, dict[str, Any]]]) -> list[Attempt]:
    """A person's attempts as they stand, oldest first, from their ``practice.attempt`` records
    (id, at, data), oldest first. A strike names an earlier record: it strikes that record out
    unless it is itself struck out (so striking a strike restores what it struck)."""
    rows = list(records)
    struck = struck_out(rows)
    kept = [(record_id, at, data) for record_id, at, data in rows
            if not data.get("strikes") and record_id not in struck and _well_formed(data)]
    latest: dict[str, dict[str, Any]] = {}
    for _, _, data in kept:
        problem = latest.setdefault(str(data["subject"]), {})
        problem.update({name: data[name] for name in ("difficulty", "title", "topics", "url") if data.get(name)})
    seen: set[str] = set()
    attempts = []
    for record_id, at, data in kept:
        key = str(data["subject"])
        given = data.get("first")
        problem = latest[key]
        attempts.append(Attempt(
            id=record_id, problem=key, at=at, minutes=data["minutes"], outcome=str(data["outcome"]),
            first=bool(given) if given is not None else key not in seen,
            difficulty=problem.get("difficulty"), title=problem.get("title"),
            topics=tuple(problem.get("topics", ())), url=problem.get("url")))
        seen.add(key)
    return attempts


def _well_formed(data: dict[str, Any]) -> bool:
    """What ``attempt_data`` checks, again: a record that came in another way (a hand-edited JSON
    import) and says no outcome or minutes is left out rather than failing every read."""
    minutes = data.get("minutes")
    return (data.get("outcome") in OUTCOMES and isinstance(minutes, int | float) and not isinstance(minutes, bool)
            and 0 <= minutes <= MAX_MINUTES and isinstance(data.get("topics", []), list))


def struck_out(records: Iterable[tuple[str, str, dict[str, Any]]]) -> set[str]:
    """The ids of the records (attempts or strikes) struck out: those named by a strike that is
    not itself struck out. A strike is made after what it names, so deciding the newest first
    decides every strike before what it strikes."""
    rows = list(records)
    strikers: dict[str, list[str]] = {}
    for record_id, _, data in rows:
        if data.get("strikes"):
            strikers.setdefault(str(data["strikes"]), []).append(record_id)
    struck: set[str] = set()
    for record_id, _, _ in reversed(rows):
        if any(by not in struck for by in strikers.get(record_id, ())):
            struck.add(record_id)
    return struck


def wilson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a share (Wilson 1927; Newcombe 1998, method 3): 81 of 263
    gives (0.2553, 0.3662). The standard library's normal quantile, so no statistics package."""
    if trials == 0:
        return 0.0, 1.0
    from statistics import NormalDist  # only for the bar: kept off the `practice log` capture path

    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    share = successes / trials
    scale = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / scale
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / scale
    return max(0.0, centre - half), min(1.0, centre + half)


def first_mediums(attempts: Iterable[Attempt]) -> list[Attempt]:
    """First attempts at medium problems, oldest first: what the bar is measured on."""
    return [a for a in attempts if a.first and a.difficulty == "medium"]


@dataclass(frozen=True)
class Pattern:
    """A topic's attempts: how many, the share solved unaided within the target, the median minutes."""

    topic: str
    attempts: int
    within: float
    median_minutes: float

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "attempts": self.attempts, "within": self.within,
                "median_minutes": self.median_minutes}


@dataclass(frozen=True)
class Bar:
    """The guide's bar: at least ``needed`` of the last ``window`` first attempts at mediums solved
    unaided within ``target`` minutes. ``reached`` is None until there are ``window`` of them."""

    window: int
    needed: int
    target: float
    counted: int
    solved: int
    low: float
    high: float
    slowest: tuple[Pattern, ...] = field(default=())

    @property
    def share(self) -> float | None:
        return self.solved / self.counted if self.counted else None

    @property
    def more_needed(self) -> int:
        return self.window - self.counted

    @property
    def reached(self) -> bool | None:
        return None if self.counted < self.window else self.solved >= self.needed

    def to_dict(self) -> dict[str, Any]:
        return {"window": self.window, "needed": self.needed, "target_minutes": self.target,
                "counted": self.counted, "solved": self.solved, "share": self.share,
                "interval": [self.low, self.high], "confidence": 0.95, "reached": self.reached,
                "more_needed": self.more_needed, "slowest": [p.to_dict() for p in self.slowest]}


def bar(attempts: list[Attempt], *, window: int, needed: int, target: float, slowest: int = 3) -> Bar:
    """Where the person stands against the bar, with the Wilson interval of their share."""
    if needed > window:
        raise BadInput(f"setting practice_bar_solved ({needed}) is more than practice_bar_window ({window})")
    recent = first_mediums(attempts)[-window:]
    solved = sum(within_target(a.outcome, a.minutes, target) for a in recent)
    low, high = wilson(solved, len(recent))
    return Bar(window=window, needed=needed, target=target, counted=len(recent), solved=solved, low=low,
               high=high, slowest=tuple(slowest_patterns(attempts, target)[:slowest]))


def bar_over_time(attempts: list[Attempt], *, window: int, target: float) -> list[tuple[str, float, int]]:
    """After each first attempt at a medium: (when, the share within target of the last ``window``
    of them, how many that share is of), for the chart of the bar over time."""
    mediums = first_mediums(attempts)
    hits = [within_target(a.outcome, a.minutes, target) for a in mediums]
    points = []
    for index, attempt in enumerate(mediums):
        recent = hits[max(0, index + 1 - window):index + 1]
        points.append((attempt.at, sum(recent) / len(recent), len(recent)))
    return points


def slowest_patterns(attempts: list[Attempt], target: float) -> list[Pattern]:
    """Topics of the attempts at mediums (at any difficulty if none is a medium), slowest first:
    the lowest share solved unaided within the target, then the longest median minutes. Where to
    practise next while below the bar."""
    from statistics import median  # only for the bar: kept off the `practice log` capture path

    pool = [a for a in attempts if a.difficulty == "medium"] or attempts
    by_topic: dict[str, list[Attempt]] = {}
    for attempt in pool:
        for topic in attempt.topics:
            by_topic.setdefault(topic, []).append(attempt)
    patterns = [Pattern(topic=topic, attempts=len(group),
                        within=sum(within_target(a.outcome, a.minutes, target) for a in group) / len(group),
                        median_minutes=float(median(a.minutes for a in group)))
                for topic, group in by_topic.items()]
    return sorted(patterns, key=lambda p: (p.within, -p.median_minutes, p.topic))
