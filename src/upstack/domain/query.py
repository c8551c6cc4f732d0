"""The one search language: words, "phrases", prefix*, AND/OR/NOT, -word, #tag, ( ).

Any input within the limits (``upstack.limits``) parses: an unbalanced quote runs to
the end, a stray parenthesis is ignored, an operator with nothing to act on is read as
the word it spells, and stacked NOTs cancel (NOT NOT x is x). The result is a small
tree that the store compiles for SQLite FTS5 and PostgreSQL.

A query beyond a limit (too long, too many terms, too deep, too many NOTs) is refused
with a one-line ``BadInput`` naming the limit, checked before any search work. It is
refused rather than cut down: dropping words or flattening parentheses would silently
answer another question than the one asked. Stacked NOTs are the one thing simplified,
because there the simpler query matches exactly the same entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from upstack.domain.text import normalize_tag, tokenize
from upstack.errors import BadInput
from upstack.limits import QUERY_MAX_CHARS, QUERY_MAX_DEPTH, QUERY_MAX_NOTS, QUERY_MAX_TERMS

__all__ = ["Term", "Tag", "And", "Or", "Not", "Query", "parse_query", "positive_terms", "as_typed", "TYPED_PREFIX"]


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


# As-you-type search completes the last word from this many letters: a shorter prefix would match
# most of a log, and rank all of it, at every keystroke.
TYPED_PREFIX = 3
_OPERATORS = ("AND", "OR", "NOT")


def as_typed(text: str) -> str:
    """The query a search box means while it is being typed: its last word, if the text ends inside
    it, also matches the words it starts (``selectiv`` finds ``selectivity``); the words before it
    are whole words. A last word that is an exclusion (``-word``), a tag, already a prefix, an
    operator or a closed phrase is left as it is, and so is any word followed by a space.

    >>> as_typed("weight dec"), as_typed("weight dec "), as_typed('"weight dec'), as_typed("-dec")
    ('weight dec*', 'weight dec ', '"weight dec*', '-dec')
    """
    if not text or len(text) >= QUERY_MAX_CHARS or not _WORD_CHAR.match(text[-1]):
        return text
    last = _lex(text)[-1]
    if last in _OPERATORS or last.startswith(("-", "#")) or (last.startswith('"') and last.endswith('"')):
        return text
    tokens = tokenize(last)
    if not tokens or len(tokens[-1]) < TYPED_PREFIX:
        return text
    return text + "*"


_WORD_CHAR = re.compile(r"[^\W_]")


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
        # A loop, not recursion: a chain of a thousand NOTs must not overflow the stack.
        negations = 0
        item = self.take()
        while item == "NOT" and self.peek() not in (None, ")", "OR", "AND"):
            negations += 1
            item = self.take()
        node = self.parse_operand(item, depth)
        for _ in range(negations):
            node = _negated(node) if node is not None else None
        return node

    def parse_operand(self, item: str, depth: int) -> Query | None:
        if item == "NOT":  # with nothing to act on
            return _single(_word_terms("not"))
        if item == "(":
            inner = self.parse_or(depth + 1)
            if self.peek() == ")":
                self.take()
            return inner
        if item.startswith("-") and len(item) > 1 and not item.startswith("--"):
            child = _atom(item[1:])
            return Not(child) if child is not None else None
        return _atom(item)


def _negated(node: Query) -> Query:
    """NOT of ``node``; NOT NOT x is x (the same matches: a condition here is never NULL)."""
    return node.child if isinstance(node, Not) else Not(node)


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
    if len(text) > QUERY_MAX_CHARS:
        raise BadInput(f"the search query is {len(text):,} characters long; the longest allowed is "
                       f"{QUERY_MAX_CHARS:,}")
    lexemes = _lex(text)
    depth = _nesting(lexemes)
    if depth > QUERY_MAX_DEPTH:
        raise BadInput(f"the search query nests parentheses {depth} deep; the deepest allowed is {QUERY_MAX_DEPTH}")
    query = _Parser(lexemes).parse_or(0)
    terms, negations = _count(query)
    if terms > QUERY_MAX_TERMS:
        raise BadInput(f"the search query has {terms} words, phrases and tags; the most allowed is {QUERY_MAX_TERMS}")
    if negations > QUERY_MAX_NOTS:
        raise BadInput(f"the search query has {negations} NOTs and -exclusions; the most allowed is {QUERY_MAX_NOTS}")
    return query


def _nesting(lexemes: list[str]) -> int:
    """How deep the parser would recurse: open parentheses (a stray ')' closes nothing)."""
    depth = deepest = 0
    for item in lexemes:
        if item == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif item == ")":
            depth = max(depth - 1, 0)
    return deepest


def _count(query: Query | None) -> tuple[int, int]:
    """(leaves, NOTs) of a parsed query, whose depth is already bounded."""
    if query is None:
        return 0, 0
    if isinstance(query, Term | Tag):
        return 1, 0
    if isinstance(query, Not):
        terms, negations = _count(query.child)
        return terms, negations + 1
    counts = [_count(child) for child in query.children]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


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
