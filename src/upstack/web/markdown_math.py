"""Math in Markdown: ``$...$`` and ``$$...$$`` kept as TeX, for KaTeX to draw in the browser.

Markdown must leave what is inside alone (in ``$a_1 * b_2 * c$`` the stars are not emphasis,
and ``\\{`` keeps its backslash), so markdown-it rules of their own take the math out before
the other rules see it, and write it back escaped, delimiters and all, as
``<span class="math inline">$...$</span>``, ``<span class="math display">$$...$$</span>``
(within a paragraph) or ``<div class="math display">`` (a block of its own). static/math.js
hands each to the vendored KaTeX; without JavaScript the reader sees the TeX as written.

What counts as math follows Pandoc: an opening ``$`` is followed by a non-space, the closing one
follows a non-space and is not followed by a digit, so "from $5 to $10" stays text; ``\\$`` is a
dollar sign.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

__all__ = ["use_math", "MATH_CLASSES"]

# What nh3 must let through for the output below (web/markdown.py's allow-list).
MATH_CLASSES = {"span": {"math", "inline", "display"}, "div": {"math", "display"}}


def _closing(src: str, start: int, end: int, marker: str) -> int:
    """Where the ``marker`` closing math that starts at ``start`` is, or -1."""
    pos = start
    while pos < end:
        char = src[pos]
        if char == "\\":
            pos += 2  # an escaped character, \$ among them, is TeX's
            continue
        if src.startswith(marker, pos):
            if marker == "$$":
                return pos
            if not src[pos - 1].isspace() and not (pos + 1 < end and src[pos + 1].isdigit()):
                return pos
        pos += 1
    return -1


def _math_inline(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    if src[start] != "$":
        return False
    marker = "$$" if src.startswith("$$", start) else "$"
    first = start + len(marker)
    if first >= end or (marker == "$" and src[first].isspace()):
        return False
    close = _closing(src, first + (1 if marker == "$" else 0), end, marker)
    if close < 0 or not src[first:close].strip():
        return False
    if not silent:
        token = state.push("math_inline", "", 0)
        token.content = src[first:close]
        token.markup = marker
    state.pos = close + len(marker)
    return True


def _math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """``$$`` on a line of its own, the TeX, then a line that ends with ``$$``; or ``$$ x $$`` on one line."""
    if state.is_code_block(start_line):
        return False
    opening = state.src[state.bMarks[start_line] + state.tShift[start_line]:state.eMarks[start_line]].rstrip()
    if not opening.startswith("$$"):
        return False
    if opening != "$$":
        if len(opening) < 5 or not opening.endswith("$$") or not opening[2:-2].strip():
            return False  # "$$x$$ and more": a paragraph, whose math the inline rule takes
        content, last = opening[2:-2], start_line
    else:
        last = start_line + 1
        while last < end_line and not state.src[state.bMarks[last]:state.eMarks[last]].rstrip().endswith("$$"):
            last += 1
        if last >= end_line:
            return False  # never closed: text
        closing = state.src[state.bMarks[last] + state.tShift[last]:state.eMarks[last]].rstrip()
        content = state.getLines(start_line + 1, last, state.tShift[start_line], False) + closing[:-2]
    if silent:
        return True
    state.line = last + 1
    token = state.push("math_block", "div", 0)
    token.block = True
    token.content = content
    token.markup = "$$"
    token.map = [start_line, state.line]
    return True


def _render_inline(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    kind = "display" if token.markup == "$$" else "inline"
    return f'<span class="math {kind}">{token.markup}{html.escape(token.content)}{token.markup}</span>'


def _render_block(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    tex = tokens[idx].content.strip("\n")
    return f'<div class="math display">$$\n{html.escape(tex)}\n$$</div>\n'


def use_math(parser: MarkdownIt) -> None:
    """Teach ``parser`` the math rules (before code fences and escapes, so they see the TeX first)."""
    parser.inline.ruler.before("escape", "math_inline", _math_inline)
    parser.block.ruler.before("fence", "math_block", _math_block,
                              {"alt": ["paragraph", "reference", "blockquote", "list"]})
    parser.add_render_rule("math_inline", _render_inline)
    parser.add_render_rule("math_block", _render_block)
