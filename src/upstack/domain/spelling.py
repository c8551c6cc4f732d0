"""Did you mean: which words of a search look misspelt, and which word to offer for each.

The rules are here, in Python, so that both engines offer the same words: the store says which
words the entries a reader may see hold, and how many hold each (``store.vocabulary``); this
module chooses.

- A word is looked at when it is searched for (not under NOT, not a tag), of letters only, at
  least ``SHORTEST`` letters long, and no entry the reader may see holds it (for a prefix, the last
  word as it is being typed: no word of theirs starts with it).
- At most ``MOST_LOOKED_AT`` words of a query are looked at (the first ones), so a long query
  costs no more than a short one.
- Offered instead: a word the reader's entries hold, within ``max_distance(word)`` edits (a letter
  put in, left out or changed, or two neighbouring letters swapped: ``wieght`` is one edit from
  ``weight``), the fewest edits first, then the word most of their entries hold, then the first
  in code point order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from upstack.domain.query import And, Not, Or, Query, Tag, Term
from upstack.domain.text import tokenize

__all__ = ["SHORTEST", "MOST_LOOKED_AT", "max_distance", "looked_at", "all_required", "nearest", "best", "respelt"]

SHORTEST = 4  # shorter words have too many neighbours one edit away to guess from
MOST_LOOKED_AT = 8  # a person types a few words; a crafted 500-character query is not respelt whole


def max_distance(word: str) -> int:
    """How many edits away a word offered for ``word`` may be: one, two from 8 letters."""
    return 1 if len(word) < 8 else 2


def looked_at(query: Query | None) -> list[tuple[str, bool]]:
    """The words of a query that could be misspelt, once each: (word, whether it is a prefix)."""
    found: list[tuple[str, bool]] = []

    def walk(node: Query | None) -> None:
        if node is None or isinstance(node, Not | Tag):
            return
        if isinstance(node, Term):
            for i, token in enumerate(node.tokens):
                word = (token, node.prefix and i == len(node.tokens) - 1)
                if len(found) < MOST_LOOKED_AT and len(token) >= SHORTEST and token.isalpha() \
                        and word not in found:
                    found.append(word)
            return
        assert isinstance(node, And | Or)
        for child in node.children:
            walk(child)

    walk(query)
    return found


def all_required(query: Query | None) -> bool:
    """Whether every entry the query matches holds every word ``looked_at`` gives (no OR): then a
    search that found entries has no misspelt word, and nothing need be asked."""
    if isinstance(query, Or):
        return False
    if isinstance(query, And):
        return all(all_required(child) for child in query.children)
    return True


def nearest(word: str, words: Sequence[str]) -> list[list[str]]:
    """The words within ``max_distance(word)`` edits of ``word``, grouped by distance, nearest first,
    each group in code point order (``word`` itself left out)."""
    # Imported here, only when a word looks misspelt: it keeps its ~30 ms off every other command.
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    limit = max_distance(word)
    groups: list[list[str]] = [[] for _ in range(limit)]
    for candidate, distance, _ in process.extract(word, words, scorer=OSA.distance, score_cutoff=limit,
                                                   limit=None):
        if candidate != word and distance >= 1:
            groups[int(distance) - 1].append(candidate)
    return [sorted(group) for group in groups if group]


def best(holders: Mapping[str, int]) -> str | None:
    """Of equally near words, the one most entries hold, then the first in code point order."""
    held = [(-count, word) for word, count in holders.items() if count > 0]
    return min(held)[1] if held else None


_WORD_OR_TAG = re.compile(r"#[^\s()\"]*|[^\W_]+")


def respelt(text: str, corrections: Mapping[str, str]) -> str:
    """``text`` with each word that tokenizes to a key of ``corrections`` replaced (tags left alone).

    >>> respelt('Wieght "wieght decay" #wieght', {"wieght": "weight"})
    'weight "weight decay" #wieght'
    """
    def swap(found: re.Match[str]) -> str:
        piece = found.group()
        if piece.startswith("#"):
            return piece
        tokens = tokenize(piece)
        return corrections.get(tokens[0], piece) if len(tokens) == 1 else piece

    return _WORD_OR_TAG.sub(swap, text)

