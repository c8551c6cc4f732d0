"""How sure a person was, against what happened: scoring predictions (issue 19). Pure rules, no I/O.

A prediction is a claim with a probability (the chance the person gives that it comes true), updated
over time (each forecast kept), and resolved true or false by evidence: a result entry or a run. It
is scored by the **last forecast made before the evidence existed** (the stated rule: a forecast made
after could have seen the answer). One whose every forecast came after its evidence counts as "made
after" and is left out; so is one resolved ambiguous (annulled).

Two proper scoring rules, each a mean over the scored predictions:

- **Brier score**: (p - o)², o = 1 if it came true, else 0. 0 is perfect; always saying 50% scores
  0.25; lower is better.
- **Log score**: ln(p) if it came true, else ln(1 - p). 0 is perfect; always saying 50% scores
  -0.69; higher (nearer 0) is better. Probabilities are taken from 1% to 99% only: certainty
  cannot be scored (one wrong certainty would be minus infinity).

A **reliability table** puts the forecasts in bins by probability (0-10%, ..., 90-100%) and sets each
bin's mean forecast beside how often its claims came true: a calibrated person's 70% claims come true
about 70% of the time. A numeric prediction's **interval** (e.g. loss 0.10-0.15 at 80%) is scored by
**coverage**: the share of intervals that held the value, against the level they were given at.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from upstack.errors import BadInput

__all__ = ["MIN_PROBABILITY", "MAX_PROBABILITY", "AGGREGATES", "SCORING_RULE", "BINS", "Forecast", "Outcome",
           "Scored", "Bin", "Coverage", "Summary", "parse_probability", "parse_interval", "brier", "log_score",
           "forecast_before", "score", "reliability", "coverage", "summary", "surprises", "in_interval",
           "COMPARISONS", "Numeric", "numeric", "parse_range"]

MIN_PROBABILITY, MAX_PROBABILITY = 0.01, 0.99
AGGREGATES = ("final", "best", "min", "max")  # which value of a run's metric a numeric prediction names
COMPARISONS = ("below", "above")
DEFAULT_LEVEL = 0.8
METRIC_CHARS = 200  # the longest metric name a run logs (services/runsync.py): a longer one never resolves
BINS = 10
SCORING_RULE = ("scored by the last forecast made before its evidence existed: Brier (p - o)², lower is "
                "better, 0.25 for always 50%; log score ln p (ln(1 - p) if false), nearer 0 is better")


@dataclass(frozen=True)
class Forecast:
    at: str  # ISO 8601, UTC: when it was really made (never a back-dated --at)
    probability: float  # that the claim comes true, 0.01-0.99
    reason: str = ""


@dataclass(frozen=True)
class Outcome:
    """How a prediction resolved: true or false (None: annulled, ambiguous), when its evidence existed."""

    came_true: bool | None
    evidence_at: str
    value: float | None = None  # a numeric prediction's value, read from the evidence


@dataclass(frozen=True)
class Scored:
    prediction_id: str
    probability: float  # the forecast it is scored by
    came_true: bool
    brier: float
    log_score: float
    evidence_at: str
    group: str = ""  # a project, a kind: what the summary may split by

    @property
    def surprise(self) -> float:
        """How surprised the person should have been: the log loss, -ln of what they gave the answer."""
        return -self.log_score


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    n: int
    mean_forecast: float | None
    came_true: float | None  # the share of its claims that came true


@dataclass(frozen=True)
class Coverage:
    level: float  # the interval's stated level, e.g. 0.8
    n: int
    covered: int

    @property
    def rate(self) -> float | None:
        return self.covered / self.n if self.n else None


@dataclass(frozen=True)
class Summary:
    n: int  # scored
    made_after: int  # left out: every forecast came after the evidence
    annulled: int  # left out: resolved ambiguous
    brier: float | None
    log_score: float | None
    came_true: float | None  # the base rate: the share that came true


# Patterns compiled when first used (re keeps them), not by every command that imports this module.
_PERCENT = r"\s*(\d+(?:\.\d+)?)\s*%\s*"


def parse_probability(text: str | float) -> float:
    """A probability from '0.8', '80%' or 0.8, within 1%-99%; BadInput naming what is wrong."""
    if isinstance(text, bool):
        raise BadInput(f"a probability is a number, not {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        found = re.fullmatch(_PERCENT, text)
        try:
            value = float(found[1]) / 100 if found else float(text.strip())
        except ValueError:
            raise BadInput(f"{text[:40]!r} is not a probability: give one like 0.8 or 80%") from None
    if not math.isfinite(value) or not MIN_PROBABILITY <= value <= MAX_PROBABILITY:
        raise BadInput(f"a probability is from 1% to 99% (0.01 to 0.99), not {text!r}"
                       + (_percent_hint(text, value) or ": certainty cannot be scored"))
    return value


def _percent_hint(text: str | float, value: float) -> str:
    """'; did you mean 70%?' for a bare 70: a percentage typed without its sign."""
    bare = not isinstance(text, str) or "%" not in text
    return f": did you mean {value:g}%?" if bare and math.isfinite(value) and 1 < value < 100 else ""


def parse_interval(low: float, high: float, level: float) -> tuple[float, float, float]:
    """An interval the value should fall in, at a level (0.8 for 80%); BadInput if upside down."""
    if not all(math.isfinite(v) for v in (low, high, level)):
        raise BadInput("an interval's ends and level are numbers")
    if low > high:
        raise BadInput(f"the interval {low:g}-{high:g} is upside down: give the low end first")
    if not 0 < level < 1:
        said = f"{level:.0%}" if 0 <= level <= 1 else f"{level:g}"
        raise BadInput(f"an interval's level is between 0 and 1 (0.8 for 80%), not {said}"
                       + _percent_hint(level, level))
    return low, high, level


def in_interval(value: float, low: float, high: float) -> bool:
    return low <= value <= high


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = rf"\s*({_NUMBER})\s*(?:\.\.|-|,|to|–)\s*({_NUMBER})\s*"


def parse_range(text: str) -> tuple[float, float]:
    """An interval written '0.10-0.15', '0.10..0.15', '0.10 to 0.15' or '-1,2'."""
    found = re.fullmatch(_RANGE, text)
    if not found:
        raise BadInput(f"{text[:40]!r} is not an interval: give its ends like 0.10-0.15")
    return float(found[1]), float(found[2])


@dataclass(frozen=True)
class Numeric:
    """What a numeric prediction says about a run's metric: its value (the ``aggregate`` of ``metric``)
    below or above a threshold, and/or inside an interval at a level. The claim that comes true or not
    is the comparison when there is one, else the interval (then its level is the probability)."""

    metric: str
    aggregate: str = "final"
    comparison: str | None = None
    threshold: float | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None

    def came_true(self, value: float) -> bool:
        if self.comparison == "below" and self.threshold is not None:
            return value < self.threshold
        if self.comparison == "above" and self.threshold is not None:
            return value > self.threshold
        return self.covered(value) is True

    def covered(self, value: float) -> bool | None:
        """Whether the interval held the value (None: no interval)."""
        if self.low is None or self.high is None:
            return None
        return in_interval(value, self.low, self.high)

    def describe(self, *, level: bool = True) -> str:
        """The claim in words; without its ``level`` as a title says it (an interval's level is how
        sure its maker is: on a team server that is theirs to show once a reader has made their own)."""
        parts = [f"{self.aggregate} {self.metric}"]
        if self.comparison and self.threshold is not None:
            parts.append(f"{self.comparison} {self.threshold:g}")
        if self.low is not None and self.high is not None:
            sure = f"{(self.level or DEFAULT_LEVEL):.0%} " if level else ""
            ends = f"{self.low:g} to {self.high:g}" if min(self.low, self.high) < 0 else f"{self.low:g}-{self.high:g}"
            interval = f"{sure}interval {ends}"
            parts.append(("in " if not self.comparison else ", ") + interval)
        return " ".join(parts).replace(" , ", ", ")


def numeric(metric: str, aggregate: str = "final", *, below: float | None = None, above: float | None = None,
            interval: tuple[float, float] | None = None, level: float | None = None) -> Numeric:
    """A numeric prediction checked whole; BadInput naming the first thing wrong."""
    metric = str(metric or "").strip()
    if not metric:
        raise BadInput("a numeric prediction names the run's metric it is about: give --metric KEY "
                       "(in predict=, 'metric')")
    if len(metric) > METRIC_CHARS:
        raise BadInput(f"a metric's name is at most {METRIC_CHARS} characters, as a run logs it")
    if aggregate not in AGGREGATES:
        raise BadInput(f"a metric's value is its {', '.join(AGGREGATES)}, not {aggregate!r}")
    if below is not None and above is not None:
        raise BadInput("a prediction says below or above a threshold, not both")
    comparison, threshold = ("below", below) if below is not None else ("above", above) if above is not None \
        else (None, None)
    if threshold is not None and (isinstance(threshold, bool) or not math.isfinite(float(threshold))):
        raise BadInput(f"a threshold is a number, not {threshold!r}")
    low = high = None
    if interval is not None:
        low, high, level = parse_interval(float(interval[0]), float(interval[1]),
                                          DEFAULT_LEVEL if level is None else float(level))
    elif level is not None:
        raise BadInput("a level goes with an interval: give one like --interval 0.10-0.15")
    if comparison is None and low is None:
        raise BadInput(f"say what you expect of {metric}: below or above a value, or an interval")
    return Numeric(metric, aggregate, comparison, None if threshold is None else float(threshold), low, high, level)


def brier(probability: float, came_true: bool) -> float:
    return (probability - (1.0 if came_true else 0.0)) ** 2


def log_score(probability: float, came_true: bool) -> float:
    return math.log(probability if came_true else 1.0 - probability)


def forecast_before(forecasts: Iterable[Forecast], evidence_at: str) -> Forecast | None:
    """The last forecast made before the evidence existed (times as upstack writes them sort as
    they fall), or None: every one came after."""
    before = [f for f in forecasts if f.at < evidence_at]
    return max(before, key=lambda f: f.at) if before else None


def score(prediction_id: str, forecasts: Sequence[Forecast], outcome: Outcome, group: str = "") -> Scored | None:
    """The prediction scored by the rule above; None if it is left out (annulled, or made after)."""
    if outcome.came_true is None:
        return None
    used = forecast_before(forecasts, outcome.evidence_at)
    if used is None:
        return None
    return Scored(prediction_id, used.probability, outcome.came_true, brier(used.probability, outcome.came_true),
                  log_score(used.probability, outcome.came_true), outcome.evidence_at, group)


def reliability(scored: Iterable[Scored], bins: int = BINS) -> list[Bin]:
    """Every bin from 0 to 1, empty ones too (a chart shows where there is nothing yet)."""
    held: list[list[Scored]] = [[] for _ in range(bins)]
    for item in scored:
        held[min(int(item.probability * bins), bins - 1)].append(item)
    return [Bin(i / bins, (i + 1) / bins, len(items),
                math.fsum(s.probability for s in items) / len(items) if items else None,
                sum(s.came_true for s in items) / len(items) if items else None)
            for i, items in enumerate(held)]


def coverage(intervals: Iterable[tuple[float, bool]]) -> list[Coverage]:
    """(level, whether the interval held the value) pairs, counted by level, lowest level first."""
    counts: dict[float, list[int]] = {}
    for level, held in intervals:
        found = counts.setdefault(round(level, 4), [0, 0])
        found[0] += 1
        found[1] += int(held)
    return [Coverage(level, n, covered) for level, (n, covered) in sorted(counts.items())]


def summary(scored: Sequence[Scored], *, made_after: int = 0, annulled: int = 0) -> Summary:
    n = len(scored)
    if not n:
        return Summary(0, made_after, annulled, None, None, None)
    return Summary(n, made_after, annulled, math.fsum(s.brier for s in scored) / n,
                   math.fsum(s.log_score for s in scored) / n, sum(s.came_true for s in scored) / n)


def surprises(scored: Iterable[Scored], limit: int = 5, *, gave_at_most: float = 0.3) -> list[Scored]:
    """The confident misses, most surprising first: the answer was given ``gave_at_most`` (30%) or less
    (a 70% forecast that came false), the learnings most worth writing down."""
    given = [(s, s.probability if s.came_true else 1.0 - s.probability) for s in scored]
    return [s for s, _ in sorted(((s, p) for s, p in given if p <= gave_at_most + 1e-9),
                                 key=lambda sp: (sp[1], sp[0].prediction_id))][:limit]
