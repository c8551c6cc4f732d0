"""`upstack opp import FEED`: the posts of a feed (RSS or Atom: LessWrong, the Alignment Forum, the
EA Forum, a board, a lab's blog) that look like openings, proposed for the person to accept.

A feed is read once: a saved file, or an http(s) address fetched with a timeout and a size cap
(services/fetch.py). Each post the opening rule (domain/openings.py) takes for an opening is a
numbered proposal with the kind and the deadline the post states and the cues that matched; the
numbers follow the feed's order, so the same feed read again numbers them the same. Accepted ones
are added as opportunities with their posting's text and sanitised HTML kept (postings vanish);
a post kept already (the same link) is marked so, and accepting it again adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from upstack.errors import BadInput
from upstack.files import read_at_most
from upstack.services import opportunities as opps
from upstack.services.opp_import import ImportReport, Row, keep
from upstack.workspace import Workspace

if TYPE_CHECKING:
    from upstack.domain.openings import OpeningRule, Posting

__all__ = ["TIMEOUT", "MAX_BYTES", "split_title", "Proposal", "Proposed", "read", "opening_rule", "propose",
           "parse_accept", "accept"]

TIMEOUT = 10.0  # seconds for the whole fetch
MAX_BYTES = 5_000_000  # a forum's feed is tens to hundreds of kB


_HIRING = re.compile(r"^(?P<org>.{2,80}?) (?:is|are) (?:now )?(?:hiring|recruiting|looking for|seeking)"
                     r"(?: an?)?:? (?P<role>.+)$", re.IGNORECASE)
_AT = re.compile(r"^(?P<role>.{3,}?),? (?:at|with) (?:the )?(?P<org>[A-Z][^,()]{1,80}?)(?: \(.*\))?$")
_COLON = re.compile(r"^(?P<org>[^:]{2,60}): (?P<role>.+)$")


def split_title(title: str, fallback: str) -> tuple[str, str]:
    """The organisation and the role a post's title names ("Meridian is hiring research engineers",
    "Visiting fellowships at the Foxglove Institute", "Lattice Fund: request for proposals"), else
    ``fallback`` (the author, the feed) and the whole title; the person corrects it with `opp edit`."""
    text = " ".join(title.split())
    for pattern in (_HIRING, _AT, _COLON):
        found = pattern.match(text)
        if found and len(found["org"].split()) <= 6:
            return found["org"].strip(), found["role"].strip()
    return fallback, text


@dataclass(frozen=True)
class Proposal:
    """A post that looks like an opening: its number in the list, what is proposed, and why."""

    number: int
    posting: Posting
    kind: str
    deadline: str  # YYYY-MM-DD, or "" when the post states none
    cues: list[str]
    organisation: str
    role: str
    known: str = ""  # the slug of the opportunity kept already under its link

    @property
    def title(self) -> str:
        return self.posting.title or self.posting.link

    @property
    def link(self) -> str:
        return self.posting.link

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "link": self.link, "kind": self.kind,
                "organisation": self.organisation, "role": self.role,
                "deadline": self.deadline or None, "cues": self.cues, "known": self.known or None,
                "published": self.posting.published or None, "author": self.posting.author or None}


@dataclass(frozen=True)
class Proposed:
    source: str  # the feed's title, else where it was read
    where: str  # the address or file it was read from
    postings: int
    proposals: list[Proposal]
    passed: list[str]  # the titles of the posts the rule did not take for openings (``every``: none)


def read(source: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> tuple[bytes, str]:
    """A feed's bytes and the address its relative links resolve against: fetched once from an
    http(s) address, or read from a saved file."""
    if source.lower().startswith(("http://", "https://")):
        from upstack.services.fetch import fetch

        return fetch(source, timeout=timeout, max_bytes=max_bytes), source
    path = Path(source)
    try:
        if path.stat().st_size > max_bytes:
            raise BadInput(f"{path.name} is larger than {max_bytes / 1_000_000:g} MB: not a feed")
        data = read_at_most(path, max_bytes)
        if len(data) > max_bytes:
            raise BadInput(f"{path.name} is larger than {max_bytes / 1_000_000:g} MB: not a feed")
        return data, ""
    except OSError as exc:
        raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from None


def opening_rule(ws: Workspace) -> OpeningRule:
    """The rule a feed's posts are proposed by: the built-in one, with the settings' cues and threshold."""
    from upstack.domain.openings import DEFAULT_RULE, OpeningRule

    extra = {}
    for pair in ws.settings.opening_cues:
        phrase, _, weight = pair.rpartition("=")
        extra[" ".join(phrase.lower().split())] = float(weight)
    return OpeningRule(cues={**DEFAULT_RULE.cues, **extra}, threshold=ws.settings.opening_threshold,
                       title_weight=DEFAULT_RULE.title_weight, deadline_weight=DEFAULT_RULE.deadline_weight)


def propose(ws: Workspace, source: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
            every: bool = False) -> Proposed:
    """The feed's posts that look like openings, numbered in the feed's order (``every``: every post,
    for the one the rule missed; the rule is a cue list, and a terse post can slip past it)."""
    from upstack.domain import openings

    rule = opening_rule(ws)
    data, url = read(source, timeout=timeout, max_bytes=max_bytes)
    try:
        feed = openings.parse_feed(data, url=url)
    except BadInput as exc:  # a saved file has no address to name: name the file
        raise BadInput(str(exc).replace("this is not", f"{Path(source).name} is not", 1)) from None
    kept = {opps.link_key(o.link): o.slug for o in opps.opportunities(ws, archived=True) if o.link}
    proposals: list[Proposal] = []
    passed: list[str] = []
    for posting in feed.postings:
        looks, cues = openings.opening_score(posting.title, posting.text, rule)
        if not looks and not every:
            passed.append(posting.title or posting.link)
            continue
        text = f"{posting.title}\n{posting.text}"
        deadline = openings.proposed_deadline(text, published=posting.published_date)
        host = urlsplit(posting.link).hostname or ""
        organisation, role = split_title(posting.title, (posting.author or feed.title or host)[:200])
        proposals.append(Proposal(number=len(proposals) + 1, posting=posting, organisation=organisation, role=role,
                                  kind=openings.proposed_kind(posting.title, posting.text),
                                  deadline=deadline.isoformat() if deadline else "", cues=cues,
                                  known=kept.get(opps.link_key(posting.link), "") if posting.link else ""))
    return Proposed(source=feed.title or (url or Path(source).name), where=url or str(source),
                    postings=len(feed.postings), proposals=proposals, passed=passed)


def parse_accept(text: str, count: int) -> list[int]:
    """Which proposals to add: "all", or numbers and ranges ("1,3,5-7"), each from 1 to ``count``."""
    wanted = text.strip().lower()
    if wanted == "all":
        return list(range(1, count + 1))
    chosen: list[int] = []
    for part in wanted.replace(" ", ",").split(","):
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            numbers = range(int(first), int(last) + 1) if dash else range(int(first), int(first) + 1)
        except ValueError:
            raise BadInput(f"--accept {text!r}: say all, or numbers such as 1,3 or 2-4") from None
        for number in numbers:
            if not 1 <= number <= count:
                raise BadInput(f"--accept {text!r}: there {'is' if count == 1 else 'are'} {count} proposed, "
                               f"numbered 1 to {count}" if count else f"--accept {text!r}: nothing was proposed")
            if number not in chosen:
                chosen.append(number)
    if not chosen:
        raise BadInput(f"--accept {text!r}: say all, or numbers such as 1,3 or 2-4")
    return chosen


def _fields(proposal: Proposal, proposed: Proposed) -> dict[str, Any]:
    posting = proposal.posting
    link = posting.link if urlsplit(posting.link).scheme in ("http", "https") else ""  # not a mailto:
    return {"kind": proposal.kind, "organisation": proposal.organisation[:200] or "(unknown)",
            "role": proposal.role[:200], "link": link, "deadline": proposal.deadline,
            "source": proposed.source[:200], "found": f"the feed {proposed.where}"[:500]}


def accept(ws: Workspace, proposed: Proposed, numbers: Sequence[int]) -> ImportReport:
    """Add the proposals with these numbers, their postings kept; all of them or none."""
    by_number = {p.number: p for p in proposed.proposals}
    rows = []
    for number in numbers:
        proposal = by_number[number]
        posting = proposal.posting
        fields = _fields(proposal, proposed)
        opps.check(fields)
        rows.append(Row(f"{proposed.source} #{number}", fields,
                        {"text": posting.text, "html": posting.summary_html, "url": fields["link"]}))
    return keep(ws, rows, [], source=proposed.source, skip_bad=False)
