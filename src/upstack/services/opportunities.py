"""Opportunities (`upstack opp ...`): jobs, fellowships, grants, programmes and collaborations the
person has found, folded from their ``opp.set`` records; the posting's text apart, in ``opp.posting``
(lists never read it). Private to their owner, as the rest of a person's path is (store/path.py).

An opportunity is named by a slug of its organisation and role (``redwood-research-engineer``);
people type it or any unambiguous start of it. The same link is the same opportunity: adding it
again fills in what was missing and changes nothing else (with no link to tell by, the same
organisation, role and deadline are the same one, so a spreadsheet imported again adds nothing; and
a link given for one kept without a link fills it in).
The same organisation and role under another link or deadline is a new opportunity marked as a
possible duplicate of the first (a role advertised again next year is a new one), for the person
to ``merge`` or call ``distinct``.

Record shapes (each also has ``subject``, the slug, and ``at``):

- ``opp.set``: ``change`` add (the fields below), edit (any of them), archive, restore, merge
  (``into``: another slug; the merged one is archived) or distinct (no longer a possible duplicate).
  Fields: ``kind``, ``organisation``, ``role``, ``source``, ``link``, ``location``, ``remote``,
  ``deadline`` (YYYY-MM-DD), ``areas`` (a list), ``notes``, ``found`` (where it was found),
  ``duplicate_of`` (a slug).
- ``opp.posting``: ``html`` (sanitised), ``text`` (plain), ``url`` (where it was read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from upstack.domain import ladder as slugs
from upstack.domain import pipeline
from upstack.errors import BadInput, NotFound
from upstack.store import path as store_path
from upstack.timeutil import now_after, parse_day
from upstack.workspace import Workspace

__all__ = ["OPP_OPS", "FIELDS", "Opportunity", "Added", "opportunities", "find", "check", "link_key", "add",
           "add_many", "edit", "archive", "restore", "merge", "distinct", "posting", "keep_posting"]

OPP_OPS = ("opp.set",)
FIELDS = ("kind", "organisation", "role", "source", "link", "location", "remote", "deadline", "areas", "notes",
          "found")
_LONGEST = {"organisation": 200, "role": 200, "source": 200, "location": 200, "found": 500, "notes": 10_000}
MAX_POSTING = 20_000  # characters of a posting's text kept (a record holds 32,000 bytes of data)
MAX_AREAS = 20
_TOLD_APART = ("deadline", "location", "kind")  # fields an import says differ from what is kept


@dataclass
class Opportunity:
    slug: str
    kind: str
    organisation: str
    role: str
    source: str = ""
    link: str = ""
    location: str = ""
    remote: bool = False
    deadline: str = ""
    areas: list[str] = field(default_factory=list)
    notes: str = ""
    found: str = ""
    added_at: str = ""
    updated_at: str = ""
    archived: bool = False
    duplicate_of: str = ""
    merged_into: str = ""

    @property
    def title(self) -> str:
        return f"{self.role} at {self.organisation}" if self.role else self.organisation

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "title": self.title}


@dataclass(frozen=True)
class Added:
    """What adding one opportunity did: ``added``, ``merged`` into one with the same link (filling
    in what it lacked), ``unchanged`` (all it said was known), or ``duplicate`` (added, and marked
    as a possible duplicate of ``opportunity.duplicate_of``). ``differs``: what the given fields say
    that the one kept says otherwise ({field: (kept, given)}), left as kept for the person to decide
    (`upstack opp edit`): a board's export may carry a moved deadline, or a typo."""

    opportunity: Opportunity
    outcome: str
    differs: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _fold(events: Iterable[store_path.PathEvent]) -> dict[str, Opportunity]:
    held: dict[str, Opportunity] = {}
    for event in events:
        data, found = event.data, held.get(event.subject)
        change = data.get("change")
        if change == "add" and found is None:
            found = held[event.subject] = Opportunity(slug=event.subject, kind=str(data.get("kind") or "job"),
                                                      organisation=str(data.get("organisation") or ""),
                                                      role=str(data.get("role") or ""), added_at=event.at)
        if found is None:
            continue
        if change in ("add", "edit"):
            for name in (*FIELDS, "duplicate_of"):
                if name in data:
                    value = data[name]
                    setattr(found, name, bool(value) if name == "remote" else
                            [str(a) for a in value] if name == "areas" and isinstance(value, list) else str(value))
        elif change == "archive":
            found.archived = True
        elif change == "restore":
            found.archived, found.merged_into = False, ""
        elif change == "merge":
            found.archived, found.merged_into = True, str(data.get("into") or "")
        elif change == "distinct":
            found.duplicate_of = ""
        found.updated_at = event.at
    return held


def opportunities(ws: Workspace, *, person: str | None = None, archived: bool = False) -> list[Opportunity]:
    """The reader's opportunities (or ``person``'s, a service having checked the reader may see them),
    soonest deadline first, then those without one, newest added first."""
    held = _fold(store_path.events(ws.store().db, OPP_OPS, person)).values()
    shown = [o for o in held if archived or not o.archived]
    shown.sort(key=lambda o: o.added_at, reverse=True)
    shown.sort(key=lambda o: (not o.deadline, o.deadline))
    return shown


def find(ws: Workspace, ref: str, *, archived: bool = True, person: str | None = None) -> Opportunity:
    everything = {o.slug: o for o in opportunities(ws, archived=True, person=person)}
    if not everything:
        raise NotFound("there are no opportunities yet: `upstack opp add` adds one")
    held = everything if archived else {slug: o for slug, o in everything.items() if not o.archived}
    if not archived:
        try:
            named = everything[slugs.match_slug(ref, list(everything), what="opportunity")]
        except NotFound:
            named = None
        if named is not None and named.archived:
            raise BadInput(f"{named.slug} is archived: `upstack opp restore {named.slug}` brings it back")
    if not held:
        raise NotFound(f"no opportunity {ref!r}: every one is archived (`upstack opp list --all`)")
    return held[slugs.match_slug(ref, list(held), what="opportunity")]


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields given, each checked; text trimmed; unknown names refused."""
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in FIELDS:
            raise BadInput(f"an opportunity has no field {name!r}")
        if value is None:
            continue
        if name == "kind":
            clean[name] = pipeline.check_kind(str(value))
        elif name == "link":
            clean[name] = slugs.check_url(str(value)) if str(value).strip() else ""
        elif name == "deadline":
            clean[name] = parse_day(str(value), what="deadline") if str(value).strip() else ""
        elif name == "remote":
            clean[name] = bool(value)
        elif name == "areas":
            areas = [str(a).strip() for a in (value if isinstance(value, list | tuple) else str(value).split(","))]
            clean[name] = list(dict.fromkeys(a for a in areas if a))[:MAX_AREAS]
        else:
            text = " ".join(str(value).split()) if name != "notes" else str(value).strip()
            if len(text) > _LONGEST[name]:
                raise BadInput(f"the {name} is {len(text)} characters; keep it under {_LONGEST[name]}")
            clean[name] = text
    return clean


def check(fields: dict[str, Any]) -> dict[str, Any]:
    """An opportunity's fields as adding it keeps them, or BadInput saying what is wrong: an import
    checks every row this way before it keeps any."""
    clean = _clean(fields)
    if not clean.get("organisation"):
        raise BadInput("an opportunity needs its organisation (who offers it)")
    return clean


def link_key(link: str) -> str:
    """A link as compared for sameness (the same link is the same opportunity)."""
    return _same_posting(link)


def _same_posting(link: str) -> str:
    """A link as compared for sameness: no fragment, no trailing slash, host in lower case."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(link.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


def _role_key(organisation: str, role: str) -> tuple[str, str]:
    return " ".join(organisation.lower().split()), " ".join(role.lower().split())


class _Batch:
    """Opportunities being added in one go: the records to write and what each add did."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.held = _fold(store_path.events(ws.store().db, OPP_OPS))
        self.at = store_path.latest_at(ws.store().db, (*OPP_OPS, "opp.posting"))
        self.records: list[Any] = []
        self.kept: dict[str, str] | None = None  # postings' texts kept before this batch
        self.written: dict[str, str] = {}  # and in it
        # Slugs by link and by organisation and role, oldest first: an import of thousands of rows
        # looks each one up, rather than comparing it with every opportunity held.
        self.by_link: dict[str, str] = {}
        self.by_role: dict[tuple[str, str], list[str]] = {}
        for held in self.held.values():
            self._index(held)

    def _index(self, opportunity: Opportunity) -> None:
        if opportunity.link:
            self.by_link.setdefault(_same_posting(opportunity.link), opportunity.slug)
        same_role = self.by_role.setdefault(_role_key(opportunity.organisation, opportunity.role), [])
        if opportunity.slug not in same_role:
            same_role.append(opportunity.slug)

    def write(self, op: str, subject: str, **data: Any) -> None:
        self.at = now_after(self.at)
        self.records.append(self.ws.record(op, {"subject": subject, "at": self.at, **data}))

    def add(self, fields: dict[str, Any], posting: dict[str, str] | None) -> Added:
        clean = check(fields)
        clean.setdefault("kind", "job")
        link = _same_posting(clean.get("link", ""))
        key = _role_key(clean["organisation"], clean.get("role", ""))
        same = self.held[self.by_link[link]] if link in self.by_link else None
        roles = [self.held[slug] for slug in self.by_role.get(key, [])]
        deadline = clean.get("deadline", "")
        if same is None and not link:  # no link to tell by: the same role with the same deadline is the same
            same = next((o for o in roles if not o.merged_into and not o.link and o.deadline == deadline), None)
        elif same is None:  # a link found for a role kept without one (a board's export mapped again): the same
            same = next((o for o in roles if not o.merged_into and not o.link
                         and (o.deadline == deadline or not o.deadline or not deadline)), None)
        if same is not None:
            missing = {k: v for k, v in clean.items()
                       if v not in ("", [], False) and getattr(same, k) in ("", [], False)}
            if missing:
                self.write("opp.set", same.slug, change="edit", **missing)
                self._fold_in(same.slug, missing)
                self._index(self.held[same.slug])
            if posting and self._kept_text(same.slug) != str(posting.get("text") or "")[:MAX_POSTING]:
                self._posting(same.slug, posting)
            differs = {k: (getattr(same, k), v) for k, v in clean.items()
                       if k in _TOLD_APART and v not in ("", [], False)
                       and getattr(same, k) not in ("", [], False) and getattr(same, k) != v}
            return Added(self.held[same.slug], "merged" if missing else "unchanged", differs)
        earlier = next((o for o in roles if not o.merged_into), None)
        base = slugs.slugify(f"{clean['organisation']} {clean.get('role', '')}")[:60].strip("-")
        slug, n = base, 1
        while slug in self.held:
            n += 1
            slug = f"{base[:56]}-{n}"
        if earlier is not None:
            clean["duplicate_of"] = earlier.slug
        self.write("opp.set", slug, change="add", **clean)
        self.held[slug] = Opportunity(slug=slug, kind=clean["kind"], organisation=clean["organisation"],
                                      role=clean.get("role", ""), added_at=self.at or "")
        self._fold_in(slug, clean)
        self._index(self.held[slug])
        if posting:
            self._posting(slug, posting)
        return Added(self.held[slug], "duplicate" if earlier is not None else "added")

    def _kept_text(self, slug: str) -> str | None:
        """The newest text kept of a posting (this batch's own included); read only when a link recurs."""
        if slug in self.written:
            return self.written[slug]
        if self.kept is None:
            self.kept = {e.subject: str(e.data.get("text") or "")
                         for e in store_path.events(self.ws.store().db, ("opp.posting",))}
        return self.kept.get(slug)

    def _fold_in(self, slug: str, fields: dict[str, Any]) -> None:
        self.held[slug] = replace(self.held[slug], **fields, updated_at=self.at or "")

    def _posting(self, slug: str, posting: dict[str, str]) -> None:
        text, html = str(posting.get("text") or "")[:MAX_POSTING], str(posting.get("html") or "")
        url = str(posting.get("url") or "")
        if len(html) > MAX_POSTING or not _fits(slug, text, html, url):
            html = ""  # the text is kept whole enough; clipped HTML could be broken markup
        while text and not _fits(slug, text, html, url):
            text = text[:len(text) * 3 // 4]
        if text or html:
            self.write("opp.posting", slug, text=text, html=html, url=url)
            self.written[slug] = text

    def commit(self) -> None:
        self.ws.store().write(self.records)


def add(ws: Workspace, *, posting: dict[str, str] | None = None, **fields: Any) -> Added:
    """One opportunity (see the module's docstring for what the same link or role does)."""
    batch = _Batch(ws)
    done = batch.add(fields, posting)
    batch.commit()
    return done


def add_many(ws: Workspace, items: Iterable[tuple[dict[str, Any], dict[str, str] | None]]) -> list[Added]:
    """Many opportunities (an import) in one write: every one checked before any is kept, so a bad
    one changes nothing (its BadInput says which, through ``items``' own numbering if it adds one)."""
    batch = _Batch(ws)
    done = [batch.add(fields, posting) for fields, posting in items]
    batch.commit()
    return done


def _write(ws: Workspace, slug: str, **data: Any) -> None:
    at = now_after(store_path.latest_at(ws.store().db, (*OPP_OPS, "opp.posting")))
    ws.store().write([ws.record("opp.set", {"subject": slug, "at": at, **data})])


def edit(ws: Workspace, ref: str, **fields: Any) -> Opportunity:
    found = find(ws, ref)
    changes = {k: v for k, v in _clean(fields).items() if getattr(found, k) != v}
    if not changes:
        raise BadInput("nothing to change: give the fields to change (see `upstack opp edit --help`)")
    _write(ws, found.slug, change="edit", **changes)
    return find(ws, found.slug)


def archive(ws: Workspace, ref: str) -> Opportunity:
    found = find(ws, ref, archived=False)
    _write(ws, found.slug, change="archive")
    return find(ws, found.slug)


def restore(ws: Workspace, ref: str) -> Opportunity:
    found = find(ws, ref)
    if not found.archived:
        raise BadInput(f"{found.slug} is not archived")
    _write(ws, found.slug, change="restore")
    return find(ws, found.slug)


def merge(ws: Workspace, ref: str, into: str) -> Opportunity:
    """``ref`` is the same opportunity as ``into``: what ``into`` lacks is filled from it, and it is archived."""
    gone, kept = find(ws, ref, archived=False), find(ws, into, archived=False)
    if gone.slug == kept.slug:
        raise BadInput("an opportunity cannot be merged into itself")
    missing = {k: getattr(gone, k) for k in FIELDS if getattr(gone, k) not in ("", [], False)
               and getattr(kept, k) in ("", [], False)}
    if missing:
        _write(ws, kept.slug, change="edit", **missing)
    _write(ws, gone.slug, change="merge", into=kept.slug)
    return find(ws, kept.slug)


def distinct(ws: Workspace, ref: str) -> Opportunity:
    found = find(ws, ref)
    if not found.duplicate_of:
        raise BadInput(f"{found.slug} is not marked as a possible duplicate")
    _write(ws, found.slug, change="distinct")
    return find(ws, found.slug)


def posting(ws: Workspace, ref: str, *, person: str | None = None) -> dict[str, str] | None:
    """The newest kept text of an opportunity's posting: ``text``, ``html`` (sanitised), ``url``."""
    slug = find(ws, ref, person=person).slug
    kept = store_path.events(ws.store().db, ("opp.posting",), person, subject=slug)
    if not kept:
        return None
    data = kept[-1].data
    return {"text": str(data.get("text") or ""), "html": str(data.get("html") or ""), "url": str(data.get("url") or "")}


def keep_posting(ws: Workspace, ref: str, *, text: str, html: str = "", url: str = "") -> None:
    """Keep (again) the text of an opportunity's posting, e.g. pasted before it vanishes."""
    found = find(ws, ref)
    if not text.strip() and not html.strip():
        raise BadInput("the posting's text is empty")
    if len(text) > MAX_POSTING:
        raise BadInput(f"the posting is {len(text):,} characters; upstack keeps up to {MAX_POSTING:,}")
    if not _fits(found.slug, text, html, url):
        raise BadInput(f"the posting is {len(text):,} characters, but so many of them are quotes, backslashes or "
                       "line ends that a team server would not take it: keep a shorter text")
    at = now_after(store_path.latest_at(ws.store().db, (*OPP_OPS, "opp.posting")))
    ws.store().write([ws.record("opp.posting", {"subject": found.slug, "at": at, "text": text, "html": html,
                                                "url": url})])


def _fits(slug: str, text: str, html: str, url: str) -> bool:
    """Whether an ``opp.posting`` record of these is one a team server's door takes (its data as JSON
    at most ``PATH_MAX_BYTES``: a quote or a line end takes two characters there), with room for its time."""
    from upstack.services.record_shapes import PATH_MAX_BYTES

    data = {"subject": slug, "at": "0000-00-00T00:00:00.000000+00:00", "text": text, "html": html, "url": url}
    return len(json.dumps(data, ensure_ascii=False)) <= PATH_MAX_BYTES
