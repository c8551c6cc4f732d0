"""The Copenhagen Burnout Inventory's personal-burnout scale, scored as published.

Source: T. S. Kristensen, M. Borritz, E. Villadsen and K. B. Christensen (2005), "The Copenhagen
Burnout Inventory: A new tool for the assessment of burnout", Work & Stress 19(3): 192-207,
doi:10.1080/02678370500297720. Six items, each answered on a five-point frequency scale scored
Always 100, Often 75, Sometimes 50, Seldom 25, Never/almost never 0 (the inventory's other scales
also use "To a very high degree" ... "To a very low degree", scored the same way, accepted here
too). The scale score is the mean of the items answered, given when at least three of the six
were answered (the missing-item rule given with the scale; the paper's full text was not at hand
to check it word for word).

The questionnaire was developed at Denmark's National Institute of Occupational Health (now NFA),
which offers it for free download and use; it is widely described as in the public domain. The item
wording below is the English version printed in the paper and reproduced by NFA.

``level``: ``high`` from 50 up. Kristensen et al. give no diagnostic cut-off, and Kristensen has
said a fixed cut-point between people with and without burnout is problematic, since burnout is a
matter of degree that shifts over time (interview in the North American Journal of Psychology,
2010). Later studies with the CBI report a score of 50 or more as "high" (e.g. Borritz et al. 2006,
the PUMA baseline, Scand J Public Health 34: 49-58), so upstack uses 50 as the point above which it
suggests talking to someone, and never as a diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from upstack.errors import BadInput

__all__ = ["ITEMS", "ANSWERS", "POINTS", "MIN_ANSWERED", "HIGH", "points", "score", "level"]

ITEMS: tuple[str, ...] = (
    "How often do you feel tired?",
    "How often are you physically exhausted?",
    "How often are you emotionally exhausted?",
    'How often do you think: "I can\'t take it anymore"?',
    "How often do you feel worn out?",
    "How often do you feel weak and susceptible to illness?",
)

# The five answers in the questionnaire's order, with their published points.
ANSWERS: tuple[tuple[str, int], ...] = (
    ("Always", 100), ("Often", 75), ("Sometimes", 50), ("Seldom", 25), ("Never/almost never", 0))
_SYNONYMS = {"to a very high degree": 100, "to a high degree": 75, "somewhat": 50, "to a low degree": 25,
             "to a very low degree": 0, "never": 0, "almost never": 0, "never or almost never": 0}
POINTS: dict[str, int] = {**{label.lower(): value for label, value in ANSWERS}, **_SYNONYMS}
MIN_ANSWERED = 3
HIGH = 50.0


def points(answer: str | int) -> int:
    """An answer's points: its label (any case) or the points themselves (0, 25, 50, 75 or 100)."""
    if isinstance(answer, bool):
        raise BadInput(f"{answer!r} is not an answer to the burnout questionnaire")
    if isinstance(answer, int):
        if answer in (0, 25, 50, 75, 100):
            return answer
        raise BadInput(f"{answer} is not an answer's points (give 0, 25, 50, 75 or 100)")
    found = POINTS.get(" ".join(answer.lower().split()))
    if found is None:
        raise BadInput(f"{answer[:40]!r} is not an answer (give one of: "
                       f"{', '.join(label for label, _ in ANSWERS)})")
    return found


def score(answers: Sequence[str | int | None]) -> float | None:
    """The personal-burnout score (0-100): the mean of the answered items, or None when fewer than
    three of the six were answered. ``answers`` has one place per item, None where skipped.

    >>> score(["Often", "Sometimes", "Seldom", None, "Often", "Never/almost never"])
    45.0
    >>> score(["Always", None, None, None, None, "Often"]) is None
    True
    """
    if len(answers) != len(ITEMS):
        raise BadInput(f"the personal-burnout scale has {len(ITEMS)} items, not {len(answers)} answers")
    given = [points(a) for a in answers if a is not None]
    if len(given) < MIN_ANSWERED:
        return None
    return math.fsum(given) / len(given)


def level(value: float | None) -> str | None:
    """``high`` from 50 up, ``below high`` under it, None without a score (see the module docstring)."""
    if value is None:
        return None
    return "high" if value >= HIGH else "below high"
