"""A feed read safely: RSS or Atom bytes in, ``Posting``s out, their HTML fit to show on upstack's pages.

LessWrong, the Alignment Forum, the EA Forum, job boards and lab blogs publish RSS 2.0 or Atom, with
whole posts as HTML in their descriptions. feedparser reads every dialect (and recovers sloppy XML);
nh3 then keeps only the HTML an entry's Markdown may become, with relative links made absolute
against the feed's own site. The text is kept as well as the HTML: postings vanish from the web, and
search, matching and the opening rule (domain/openings.py) read the text. Pure: the fetch is
services/fetch.py.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

from upstack.domain import html as shown_html
from upstack.domain.text import TITLE_LIMIT, clean_text
from upstack.errors import BadInput

__all__ = ["Posting", "Feed", "parse_feed", "sanitise", "MAX_POSTINGS", "HTML_LIMIT", "TEXT_LIMIT"]


# A feed of a forum holds 20-50 posts; a full post's HTML rarely passes 60 kB. Beyond these a feed is
# either not what a person subscribes to or an attempt to fill the store.
MAX_POSTINGS = 200
HTML_LIMIT = 100_000
TEXT_LIMIT = 30_000
_SHORT_LIMIT = 500  # an author, a guid, a link, a feed's title


@dataclass(frozen=True)
class Posting:
    """One post of a feed, as upstack keeps it: ``summary_html`` is safe to show, ``text`` its words."""

    title: str
    link: str
    summary_html: str
    text: str
    published: str  # YYYY-MM-DD, or "" when the feed gives no date
    author: str
    guid: str
    source: str  # the feed's title

    @property
    def published_date(self) -> date | None:
        return date.fromisoformat(self.published) if self.published else None


@dataclass(frozen=True)
class Feed:
    title: str
    link: str
    postings: tuple[Posting, ...]


def parse_feed(data: bytes, *, url: str = "") -> Feed:
    """The postings of an RSS or Atom feed, at most ``MAX_POSTINGS``; ``url`` is where it came from.

    Relative links resolve against the feed's own link (its site), else ``url``. A feed feedparser
    calls "bozo" (malformed XML: an undefined entity, a stray ``&``, a wrong declared encoding, cut
    short) is accepted when feedparser's lenient parser still read posts from it: publishers' feeds are
    often sloppy, and refusing them would refuse much of the web. A malformed one with no posts left,
    or a document in no feed dialect, is refused, saying what it looks like (an HTML page, JSON, ...).
    """
    import feedparser

    # A file object, never bytes or a string: feedparser reads a string that names a file or a URL.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
        raise BadInput(f"{url or 'this'} is not an RSS or Atom feed: {_what_it_is(data, parsed)}")
    head = parsed.feed
    base = _absolute(head.get("link", ""), url) or (url if _is_web(url) else "")
    source = _short(_to_text(head.get("title", "")))
    postings = []
    for entry in parsed.entries[:MAX_POSTINGS]:
        posting = _posting(entry, base, source)
        if posting.title or posting.link:
            postings.append(posting)
    return Feed(title=source, link=base, postings=tuple(postings))


def _posting(entry: Any, base: str, source: str) -> Posting:
    contents = [c.get("value", "") for c in entry.get("content", [])]
    summary_html = sanitise(max([*contents, entry.get("summary", "")], key=len)[:HTML_LIMIT], base)
    if len(summary_html) > HTML_LIMIT:  # grown by escaping ("&" is "&amp;"): cut again, and mend the cut
        summary_html = sanitise(summary_html[:HTML_LIMIT], base)
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    title = _to_text(entry.get("title", ""))
    guid = _short(entry.get("id", ""))
    link = _absolute(entry.get("link", ""), base) or (guid if _is_web(guid) else "")
    return Posting(title=title[:TITLE_LIMIT], link=_short(link), summary_html=summary_html,
                   text=_to_text(summary_html)[:TEXT_LIMIT],
                   published=date(*when[:3]).isoformat() if when else "",
                   author=_short(_to_text(entry.get("author", ""))), guid=guid, source=source)


def sanitise(fragment: str, base: str) -> str:
    """Feed HTML made safe to show (domain/html.py), after upstack's own text cleaning."""
    return shown_html.sanitise(clean_text(fragment), base)


_BLOCK_END = re.compile(r"<(?:br|hr)\b[^>]*>|</(?:p|li|h\d|div|blockquote|pre|tr|table)>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")


def _to_text(fragment: str) -> str:
    """The words of an HTML fragment: one line a block, tags and scripts dropped, entities decoded."""
    import nh3

    stripped = nh3.clean(_BLOCK_END.sub("\n", clean_text(fragment)), tags=set())
    lines = (_SPACES.sub(" ", line).strip() for line in html.unescape(stripped).split("\n"))
    return "\n".join(line for line in lines if line)


def _absolute(link: str, base: str) -> str:
    resolved = urljoin(base, link.strip()) if link.strip() else ""
    return resolved if _is_web(resolved) else ""


def _is_web(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _short(text: str) -> str:
    return clean_text(text.strip())[:_SHORT_LIMIT]


def _what_it_is(data: bytes, parsed: Any) -> str:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        return "it is empty"
    if b"\x00" in head:
        return "it is binary data"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head:
        return "it is an HTML page (a feed's address often ends in /feed, /rss or .xml)"
    if head[:1] in (b"{", b"["):
        return "it is JSON"
    problem = parsed.get("bozo_exception")
    if problem is None:
        return "no feed was found in it"
    # (Not its line number: feedparser may have added a line of its own before the first.)
    said = problem.getMessage() if hasattr(problem, "getMessage") else str(problem)
    return f"the XML reader says {(said.splitlines() or [type(problem).__name__])[0]!r}"
