"""The one search language: words, "phrases", prefix*, AND/OR/NOT, -word, #tag, ( ).

Any input parses: an unbalanced quote runs to the end, a stray parenthesis is
ignored, an operator with nothing to act on is read as the word it spells. The
result is a small tree that the store compiles for SQLite FTS5 and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from upstack.domain.text import normalize_tag, tokenize

__all__ = ["Term", "Tag", "And", "Or", "Not", "Query", "parse_query", "positive_terms"]


@dataclass(frozen=True)
class Term:
    """One word (one token), a phrase (several tokens in a row), or a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Tag:
    name: str
    prefix: bool = False


@dataclass(frozen=True)
class And:
    children: tuple[Query, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    child: Query


Query = Term | Tag | And | Or | Not

_LEXEME = re.compile(r'\s+|\(|\)|-?"[^"]*"?\*?|[^\s()"]+')


def _lex(text: str) -> list[str]:
    return [m.group(0) for m in _LEXEME.finditer(text) if not m.group(0).isspace()]


class _Parser:
    def __init__(self, lexemes: list[str]) -> None:
        self.items = lexemes
        self.pos = 0

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self) -> str:
        item = self.items[self.pos]
        self.pos += 1
        return item

    def parse_or(self, depth: int) -> Query | None:
        branches = [self.parse_and(depth)]
        while self.peek() == "OR":
            self.take()
            branches.append(self.parse_and(depth))
        kept = [b for b in branches if b is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def parse_and(self, depth: int) -> Query | None:
        parts: list[Query] = []
        while (item := self.peek()) is not None:
            if item == ")":
                if depth > 0:
                    break
                self.take()  # a stray closing parenthesis means nothing
                continue
            if item == "OR":
                if parts:
                    break
                self.take()  # "OR" with nothing before it is a word
                parts.extend(_word_terms("or"))
                continue
            if item == "AND":
                self.take()
                if not parts or self.peek() in (None, ")", "OR"):
                    parts.extend(_word_terms("and"))
                continue
            node = self.parse_unary(depth)
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self, depth: int) -> Query | None:
        item = self.take()
        if item == "NOT":
            if self.peek() in (None, ")", "OR", "AND"):
                return _single(_word_terms("not"))
            child = self.parse_unary(depth)
            return Not(child) if child is not None else None
        if item == "(":
            inner = self.parse_or(depth + 1)
            if self.peek() == ")":
                self.take()
            return inner
        if item.startswith("-") and len(item) > 1 and not item.startswith("--"):
            child = _atom(item[1:])
            return Not(child) if child is not None else None
        return _atom(item)


def _word_terms(word: str) -> list[Query]:
    return [Term(tuple(tokenize(word)))]


def _single(nodes: list[Query]) -> Query | None:
    return nodes[0] if nodes else None


def _atom(item: str) -> Query | None:
    prefix = item.endswith("*")
    core = item.rstrip("*")
    if core.startswith('"'):
        core = core[1:]
        if core.endswith('"'):
            core = core[:-1]
    elif core.startswith("#") and len(core) > 1:
        name = normalize_tag(core)
        if name and name[0].isalpha():
            return Tag(name, prefix)
    tokens = tuple(tokenize(core))
    if not tokens:
        return None
    return Term(tokens, prefix)


def parse_query(text: str) -> Query | None:
    """Parse any text into a query tree; None means "no constraint".

    >>> parse_query('patch* -#ioi')
    And(children=(Term(tokens=('patch',), prefix=True), Not(child=Tag(name='ioi', prefix=False))))
    """
    return _Parser(_lex(text)).parse_or(0)


def positive_terms(query: Query | None) -> list[Term]:
    """Terms that count towards ranking and highlighting: those not under a NOT."""
    if query is None or isinstance(query, Not):
        return []
    if isinstance(query, Term):
        return [query]
    if isinstance(query, Tag):
        return [Term(tuple(tokenize(query.name)), query.prefix)]
    found: list[Term] = []
    for child in query.children:
        for term in positive_terms(child):
            if term not in found:
                found.append(term)
    return found
