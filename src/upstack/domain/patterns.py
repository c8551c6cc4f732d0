"""Patterns between a person's own factors (issue 18): does a short night go with low energy, late work
with a low mood the next day? Each pattern is a correlation over the days both were known, shown with
its n, in words that describe and never explain: days are not an experiment, so a link is a thing to
notice, not a cause.

Days pair as the check-in means them: the check-in of day D gives the sleep of the night before D and
the energy and mood of D; late work in the evening of D (domain/pace.late_activity) is paired with the
mood of D + 1; hours worked on D with the energy of D + 1.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["PAIRS", "MIN_DAYS", "Pattern", "patterns", "strength"]

Series = Mapping[date, float]

MIN_DAYS = 14  # fewer paired days than this and a correlation says more about chance than about you

# (first factor, second factor, days the second is after the first, the words for each)
PAIRS: tuple[tuple[str, str, int, str, str], ...] = (
    ("sleep_hours", "energy", 0, "sleep", "energy that day"),
    ("sleep_hours", "mood", 0, "sleep", "mood that day"),
    ("late_activity", "mood", 1, "late work", "mood the next day"),
    ("hours_worked", "energy", 1, "hours worked", "energy the next day"),
)


@dataclass(frozen=True)
class Pattern:
    first: str
    second: str
    label: str  # "sleep ↔ energy that day"
    n: int  # days both were known
    r: float | None  # Pearson's r; None below MIN_DAYS or when a factor never varied

    @property
    def words(self) -> str:
        if self.r is None:
            return f"not enough days yet ({self.n} of {MIN_DAYS})" if self.n < MIN_DAYS else "one of them never varied"
        how = strength(self.r)
        if how == "no clear":
            return "no clear link"
        return f"a {how} link: more of one goes with {'more' if self.r > 0 else 'less'} of the other"


def strength(r: float) -> str:
    """Words for a correlation's size (Cohen's rough guide: .1 small, .3 medium, .5 large)."""
    size = abs(r)
    if size < 0.1:
        return "no clear"
    if size < 0.3:
        return "weak"
    if size < 0.5:
        return "moderate"
    return "strong"


def patterns(series: Mapping[str, Series]) -> list[Pattern]:
    """Every pair of PAIRS for which both factors have values."""
    found = []
    for first, second, lag, first_words, second_words in PAIRS:
        a, b = series.get(first, {}), series.get(second, {})
        if not a or not b:
            continue
        paired = [(a[day], b[day + timedelta(days=lag)]) for day in sorted(a) if day + timedelta(days=lag) in b]
        xs, ys = [x for x, _ in paired], [y for _, y in paired]
        r = None
        if len(paired) >= MIN_DAYS and len(set(xs)) > 1 and len(set(ys)) > 1:
            r = statistics.correlation(xs, ys)
            r = None if math.isnan(r) else r
        found.append(Pattern(first, second, f"{first_words} ↔ {second_words}", len(paired), r))
    return found
