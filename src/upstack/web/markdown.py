"""Markdown as people write it, rendered safely: markdown-it, then nh3 keeps only harmless HTML.

Math (``$...$``, ``$$...$$``) is kept as TeX for the browser to draw: web/markdown_math.py.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from upstack.web.markdown_math import MATH_CLASSES, use_math

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from upstack.domain.entry import Attachment

__all__ = ["render"]

_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "blockquote", "pre", "code",
         "em", "strong", "del", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span", "div"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
# A table column's alignment, as a class: the pages' CSP allows no style attributes.
_ALIGN = re.compile(r'style="text-align:(left|center|right)"')
_ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
_UPSTACK_REF = re.compile(r"upstack:([0-9a-z]{4,26})")


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    use_math(parser)
    return parser


def render(text: str, attachments: list[Attachment] = ()) -> str:  # type: ignore[assignment]
    """HTML for ``text``; ``![..](upstack:SHORT)`` images point at the entry's attachments."""
    import nh3

    by_short = {a.short: a for a in attachments}

    def attachment_url(match: re.Match[str]) -> str:
        found = by_short.get(match.group(1))
        return f"/a/{found.id}" if found else match.group(0)

    html = _ALIGN.sub(r'class="align-\1"', _UPSTACK_REF.sub(attachment_url, _parser().render(text)))
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer",
                     allowed_classes={"th": _ALIGN_CLASSES, "td": _ALIGN_CLASSES, **MATH_CLASSES})
