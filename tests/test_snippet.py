"""Snippets: where a query's terms are in a text, found as the plain word-by-word reading finds them."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from upstack.domain.query import Term
from upstack.domain.snippet import find_spans, make_snippet
from upstack.domain.text import tokenize

WORDS = ["head", "Heads", "induction", "IOI", "café", "CAFE", "Ĳssel", "x_y", "ﬁne", "5.1", "the", "½", "a"]


def spans_word_by_word(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """The oracle: every word's tokens in order, each term tried at every position."""
    words = [(token, m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)
             for token in tokenize(m.group(0)) or [""]]
    found = set()
    for term in terms:
        size = len(term.tokens)
        for i in range(len(words) - size + 1) if size else ():
            here = [w[0] for w in words[i:i + size]]
            last_fits = here[-1].startswith(term.tokens[-1]) if term.prefix else here[-1] == term.tokens[-1]
            if here[:-1] == list(term.tokens[:-1]) and last_fits:
                found.add((words[i][1], words[i + size - 1][2]))
    return sorted(found)


texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(["", ",", ".", "-", " "])), max_size=30).map(
    lambda parts: " ".join(w + p for w, p in parts))
terms = st.lists(st.builds(Term, tokens=st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(
    lambda ws: tuple(t for w in ws for t in tokenize(w))), prefix=st.booleans()), min_size=1, max_size=3)


@given(texts, terms)
def test_spans_are_where_the_words_are(text: str, query: list[Term]) -> None:
    assert find_spans(text, query) == spans_word_by_word(text, query)


def test_a_phrase_is_highlighted_whole_and_a_prefix_matches_longer_words() -> None:
    text = "Induction heads, then more induction-heads; inductive bias."
    snippet, spans = make_snippet(text, [Term(("induction", "heads")), Term(("induct",), prefix=True)])
    highlighted = [snippet[s:e] for s, e in spans]
    assert {"Induction heads", "induction-heads", "inductive"} <= set(highlighted)
    assert "bias" not in " ".join(highlighted)
