"""The HTML upstack shows: one allow-list for a person's rendered Markdown (web/markdown.py) and for
HTML from elsewhere (a feed's posts, an opportunity's kept posting), and the one sanitiser for the
latter. Pure: nh3 is a library, no I/O."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

__all__ = ["TAGS", "ATTRIBUTES", "SCHEMES", "sanitise"]

TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "blockquote", "pre",
                  "code", "em", "strong", "del", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span",
                  "div"})
ATTRIBUTES = {"a": frozenset({"href", "title"}), "img": frozenset({"src", "alt", "title"}),
              "span": frozenset({"title"})}
SCHEMES = frozenset({"http", "https", "mailto"})


def sanitise(fragment: str, base: str = "", *, images: bool = True) -> str:
    """HTML from elsewhere made safe to show: no script, no event handler, no ``javascript:`` link.
    Relative ``href``s and ``src``s resolve against ``base`` (an http(s) address: the feed's, the
    posting's) and are dropped without one, as on upstack's pages they would point into upstack.
    ``images=False`` drops images (a page whose CSP loads images from its own server only)."""
    import nh3

    resolves = urlsplit(base).scheme in ("http", "https")

    def absolute(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in ("href", "src"):
            return value
        resolved = urljoin(base, value) if resolves else value
        return resolved if urlsplit(resolved).scheme in SCHEMES else None

    return nh3.clean(fragment, tags=set(TAGS - ({"img"} if not images else set())),
                     attributes={tag: set(names) for tag, names in ATTRIBUTES.items()}, url_schemes=set(SCHEMES),
                     link_rel="noopener noreferrer", attribute_filter=absolute)
