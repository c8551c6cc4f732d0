"""Highlighted snippets: the part of a text where the query's terms are densest."""

from __future__ import annotations

import re

from upstack.domain.query import Term
from upstack.domain.text import MAX_TOKEN, tokenize

__all__ = ["find_spans", "make_snippet"]

_WORD = re.compile(r"[^\W_]+")


def find_spans(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of the terms (phrases whole) in text."""
    words: list[tuple[str, int, int]] = []
    if text.isascii():  # a word is its own one token, lower-cased (tokenize's fast case, inlined)
        words = [(m.group(0).lower()[:MAX_TOKEN], m.start(), m.end()) for m in _WORD.finditer(text)]
    else:
        for match in _WORD.finditer(text):
            for token in tokenize(match.group(0)) or [""]:
                words.append((token, match.start(), match.end()))
    tokens = [token for token, _, _ in words]
    spans: set[tuple[int, int]] = set()
    for term in terms:
        size = len(term.tokens)
        if size == 0:
            continue
        *head, last = term.tokens
        for i in range(size - 1, len(tokens)):  # i: where the term's last word would be
            word = tokens[i]
            if (word.startswith(last) if term.prefix else word == last) and tokens[i - size + 1:i] == head:
                spans.add((words[i - size + 1][1], words[i][2]))
    return sorted(spans)


def make_snippet(text: str, terms: list[Term], width: int = 160) -> tuple[str, list[tuple[int, int]]]:
    """A one-line excerpt of about ``width`` characters and the spans to highlight in it."""
    flat = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    spans = find_spans(flat, terms)
    if len(flat) <= width:
        return flat, spans
    start = 0
    if spans:
        best, best_count = 0, -1
        for first, _ in spans:
            count = sum(1 for s, e in spans if first <= s and e <= first + width)
            if count > best_count:
                best, best_count = first, count
        start = max(0, best - width // 4)
        if start > 0:
            space = flat.find(" ", start)
            start = space + 1 if 0 <= space < best else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    inside = [(s + shift, e + shift) for s, e in spans if s >= start and e <= end]
    return prefix + flat[start:end] + suffix, inside
