"""Markdown as people write it, rendered safely: markdown-it, then nh3 keeps only harmless HTML.

``[[wikilinks]]`` become links to the entries they name (``[[Title]]``, ``[[short id]]``,
``[[Title|shown text]]``), resolved as the store resolved them for the reader: a link to
nothing, and a link to an entry the reader may not open, read the same (visibly broken, the
text as it was written), so a page never tells whether a hidden entry exists.

Math (``$...$``, ``$$...$$``) is kept as TeX for the browser to draw: web/markdown_math.py.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from upstack.domain.entry import FIGURE_TYPES
from upstack.domain.html import ATTRIBUTES, TAGS
from upstack.web.markdown_math import MATH_CLASSES, use_math

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

    from upstack.domain.entry import Attachment, LinkRef

__all__ = ["render", "images_shown"]

_TAGS = set(TAGS)  # domain/html.py: the one allow-list, feeds' HTML shown with it too
_ATTRIBUTES = {tag: set(names) for tag, names in ATTRIBUTES.items()}
# A table column's alignment, as a class: the pages' CSP allows no style attributes.
_ALIGN = re.compile(r'style="text-align:(left|center|right)"')
_ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
_CLASSES = {"th": _ALIGN_CLASSES, "td": _ALIGN_CLASSES, "a": {"wikilink", "panel-embed"},
            "span": {"wikilink", "broken"} | MATH_CLASSES["span"], "div": MATH_CLASSES["div"]}
_UPSTACK_REF = re.compile(r"upstack:([0-9a-z]{4,26})")
# ![caption](upstack:panel/ID): a chart panel, drawn live by static/panels.js in the link's place.
_PANEL_IMAGE = re.compile(r'<img src="upstack:panel/([0-9A-Za-z]{4,26})" alt="([^"]*)"(?: title="[^"]*")? ?/?>')
_SHOWN_IMAGE = re.compile(r'<img src="/a/([0-9A-Za-z]+)"')
# Mirrors domain.text's link syntax (what the store resolves), with groups: target, |alias.
_WIKILINK = re.compile(r"\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")
BROKEN = "No entry you can open has this title or id"


def _wikilink(state: StateInline, silent: bool) -> bool:
    """``[[target#heading|alias]]`` as one token (not ``![[embed]]``, which stays text)."""
    start = state.pos
    if not state.src.startswith("[[", start) or (start > 0 and state.src[start - 1] == "!"):
        return False
    match = _WIKILINK.match(state.src, start)
    if match is None or not match.group(1).strip():
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.meta = {"target": match.group(1).strip(), "alias": (match.group(2) or "").strip()}
    state.pos = match.end()
    return True


_EMBED = re.compile(r"!\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")


def _embed(state: StateInline, silent: bool) -> bool:
    """``![[file.png|300]]`` (Obsidian's embed) as one token: the entry's file of that name, shown."""
    if not state.src.startswith("![[", state.pos):
        return False
    match = _EMBED.match(state.src, state.pos)
    if match is None or not match.group(1).strip():
        return False
    if not silent:
        token = state.push("embed", "", 0)
        token.meta = {"name": match.group(1).strip()}
    state.pos = match.end()
    return True


def _render_embed(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    name = tokens[idx].meta["name"]
    found = (env.get("files") or {}).get(name.rsplit("/", 1)[-1].casefold())
    if found is None:  # a note embedded in a note, or a file this entry does not hold: said as written
        return f'<span class="wikilink">{html.escape("![[" + name + "]]")}</span>'
    return f'<img src="/a/{found.id}" alt="{html.escape(name)}">'


def _render_wikilink(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    target, alias = tokens[idx].meta["target"], tokens[idx].meta["alias"]
    links: Mapping[str, LinkRef] | None = env.get("links")
    if links is None:  # the editor's preview: links are resolved when the text is saved
        return f'<span class="wikilink">{html.escape(alias or target)}</span>'
    found = links.get(target)
    if found is None or found.entry_id is None:
        return f'<span class="wikilink broken" title="{BROKEN}">[[{html.escape(alias or target)}]]</span>'
    from upstack.ids import short_id

    # A title is a first sentence: its full stop would double the one after the link.
    shown = alias or (found.title or "").removesuffix(".") or target
    return f'<a class="wikilink" href="/e/{short_id(found.entry_id)}">{html.escape(shown)}</a>'


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    parser.inline.ruler.before("link", "wikilink", _wikilink)
    parser.inline.ruler.before("image", "embed", _embed)
    parser.add_render_rule("wikilink", _render_wikilink)
    parser.add_render_rule("embed", _render_embed)
    use_math(parser)
    return parser


def render(text: str, attachments: Iterable[Attachment] = (), links: Iterable[LinkRef] | None = None) -> str:
    """HTML for ``text``; ``![..](upstack:SHORT)`` images point at the entry's attachments.

    ``links``: the entry's resolved links (``Entry.links``, as its reader may see them); None
    leaves ``[[wikilinks]]`` unresolved (the editor's preview).
    """
    import nh3

    attachments = list(attachments)
    by_short = {a.short: a for a in attachments}

    def attachment_url(match: re.Match[str]) -> str:
        found = by_short.get(match.group(1))
        return f"/a/{found.id}" if found else match.group(0)

    env = {"links": None if links is None else {link.target: link for link in links},
           "files": {a.filename.casefold(): a for a in attachments if a.sha256 and a.media_type in FIGURE_TYPES}}
    rendered = _PANEL_IMAGE.sub(r'<a class="panel-embed" href="/panels/\1">\2</a>', _parser().render(text, env))
    html_text = _ALIGN.sub(r'class="align-\1"', _UPSTACK_REF.sub(attachment_url, rendered))
    return nh3.clean(html_text, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer", allowed_classes=_CLASSES)


def images_shown(rendered: str) -> set[str]:
    """Ids of the attachments that ``render``'s HTML already shows as images."""
    return set(_SHOWN_IMAGE.findall(rendered))
