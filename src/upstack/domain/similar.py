"""'Have I tried this before?': an explainable closeness between two ideas' texts.

Both texts are split by upstack's search tokenizer, very common English words and
generic research words are dropped, and each remaining word is cut to a crude stem
("probing", "probes" and "probe" all become "prob"). Closeness is the share of the
shorter idea's stems that the other idea also has (the overlap coefficient), so a
terse rewording of a long idea still counts. The shared stems are the explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

from upstack.domain.text import tokenize

__all__ = ["STOPWORDS", "CLOSE_AT", "stems", "closeness", "Closeness"]

# Close: at least this share of the shorter idea's stems, and at least MIN_SHARED stems shared.
# Chosen on tests/test_ideas.py's fixture of reworded and unrelated idea pairs.
CLOSE_AT = 0.3
MIN_SHARED = 3

_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each either else
even ever every few for from further get gets got had has have having he her here hers him
his how i if in into is it its itself just less let like make makes many may maybe me might
more most much must my no nor not now of off on once one only or other our ours out over own
per rather same she should so some such than that the their them then there these they thing
things this those through to too try trying under until up upon us use used uses using very
via want was way we well were what when where whether which while who whom why will with
within without would yet you your
idea ideas see check test tests testing whether really actually new better good work works
find found model models llm llms train trained training
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_SUFFIXES = ("ations", "ation", "ions", "ion", "ives", "ive", "ings", "ing", "ies", "ied", "es",
             "ed", "ly", "s")


def _stem(token: str) -> str:
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)]
            break
    if token.endswith("e") and len(token) > 3:
        token = token[:-1]
    return token


def stems(text: str) -> frozenset[str]:
    """The distinctive word stems of a text."""
    return frozenset(_stem(t) for t in tokenize(text)
                     if t not in STOPWORDS and not t.isdigit() and len(t) > 1)


@dataclass(frozen=True)
class Closeness:
    score: float
    shared: tuple[str, ...]

    @property
    def close(self) -> bool:
        return self.score >= CLOSE_AT and len(self.shared) >= MIN_SHARED


def closeness(first: str | frozenset[str], second: str | frozenset[str]) -> Closeness:
    """How close two ideas are, with the stems they share.

    >>> closeness("Probe residuals for deception", "Probes find deceptive residuals").shared
    ('decept', 'prob', 'residual')
    """
    a = stems(first) if isinstance(first, str) else first
    b = stems(second) if isinstance(second, str) else second
    if not a or not b:
        return Closeness(0.0, ())
    shared = a & b
    return Closeness(len(shared) / min(len(a), len(b)), tuple(sorted(shared)))
