"""The portfolio (`upstack portfolio`): a profile kept once, accomplishments each linked to the log
items behind them, and named CV variants, all folded from the person's own ``portfolio.*`` records
(store/path.py), so every change keeps its history and a removal is taken back by one more record.

upstack proposes accomplishments from what the log already shows (done projects, results, evidence
accepted on the ladder); the person accepts each (it becomes an accomplishment) or dismisses it.
Only what they put in the portfolio reaches an export (services/portfolio_export.py, web/site.py).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from upstack.domain.access import current
from upstack.domain.filters import Filters
from upstack.errors import Ambiguous, BadInput, NotFound, UpstackError
from upstack.ids import derived_id, id_key, new_id, short_id
from upstack.services import ladder
from upstack.services.linked import server_audience
from upstack.store import path as store_path
from upstack.store import queries
from upstack.store import tree as store_tree
from upstack.timeutil import local_display, now_after, now_iso, parse_moment
from upstack.workspace import Workspace

__all__ = ["KINDS", "Profile", "Accomplishment", "Variant", "Portfolio", "Proposal", "load", "set_profile",
           "add_item", "edit_item", "remove_item", "restore_item", "find_item", "proposals", "accept", "dismiss",
           "set_variant", "resolve_source", "check_url", "check_date", "check_email", "is_own"]

KINDS = ("write-up", "repository", "result", "talk", "fellowship", "job", "grant")
OPS = ("portfolio.profile", "portfolio.item", "portfolio.variant")
PROFILE = "profile"  # the subject of every portfolio.profile record: there is one profile
_ITEM_FIELDS = ("kind", "title", "date", "end", "url", "summary", "organisation")
_PROFILE_FIELDS = ("name", "headline", "email", "links", "summary")
_PARTIAL_DATE = re.compile(r"^[1-2][0-9]{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
SOURCE_KINDS = {"entries": "entry", "nodes": "node", "runs": "run"}


@dataclass
class Profile:
    name: str = ""
    headline: str = ""
    email: str = ""
    links: list[dict[str, str]] = field(default_factory=list)  # each {"label", "url"}
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Accomplishment:
    id: str
    kind: str
    title: str
    date: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD: when it happened, or when it started
    end: str = ""  # the end of a range (a fellowship, a job); empty: a moment, or still going
    url: str = ""
    summary: str = ""
    organisation: str = ""
    sources: list[dict[str, str]] = field(default_factory=list)  # each {"kind": entry|node|run, "id"}
    removed: bool = False
    dismissed: bool = False  # a proposal turned down: kept, removed, restorable
    proposal: str = ""  # the proposal it came from, if any
    changes: int = 0

    @property
    def short(self) -> str:
        return short_id(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {"short": self.short, **asdict(self)}


@dataclass
class Variant:
    name: str
    items: list[str]  # accomplishment ids, in the order the CV shows them
    sent_with: str = ""
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Portfolio:
    profile: Profile
    items: list[Accomplishment]  # live ones, newest first
    removed: list[Accomplishment]  # removed or dismissed: restorable
    variants: list[Variant]

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile.to_dict(), "items": [i.to_dict() for i in self.items],
                "removed": [i.to_dict() for i in self.removed], "variants": [v.to_dict() for v in self.variants]}

    def chosen(self, variant: str | None = None) -> list[Accomplishment]:
        """The accomplishments an export shows: all live ones, or a variant's, in its order."""
        if variant is None:
            return self.items
        found = next((v for v in self.variants if v.name == variant), None)
        if found is None:
            known = ", ".join(v.name for v in self.variants) or "none yet"
            raise NotFound(f"no CV variant named {variant!r} (variants: {known})")
        live = {i.id: i for i in self.items}
        return [live[i] for i in found.items if i in live]


@dataclass
class Proposal:
    key: str  # what it is proposed from, e.g. "node:ID": names it for accept and dismiss
    kind: str
    title: str
    date: str
    sources: list[dict[str, str]]
    why: str

    @property
    def short(self) -> str:
        return id_key(self.key.split(":", 1)[1])[:7] if ":" in self.key else self.key

    def to_dict(self) -> dict[str, Any]:
        return {"short": self.short, **asdict(self)}


def _events(ws: Workspace, person: str | None = None) -> list[store_path.PathEvent]:
    return store_path.events(ws.store().db, OPS, person)


def _fold(events: list[store_path.PathEvent]) -> Portfolio:
    profile: dict[str, Any] = {}
    items: dict[str, dict[str, Any]] = {}
    variants: dict[str, dict[str, Any]] = {}
    for event in events:
        data = {k: v for k, v in event.data.items() if k not in ("subject", "at", "by")}
        if event.op == "portfolio.profile":
            profile.update({k: v for k, v in data.items() if k in _PROFILE_FIELDS})
        elif event.op == "portfolio.item":
            item = items.setdefault(event.subject, {"changes": 0})
            item.update(data)
            item["changes"] += 1
        elif event.op == "portfolio.variant":
            variants[event.subject] = {**variants.get(event.subject, {}), **data, "at": event.at}
    found = [Accomplishment(
        id=subject, kind=str(item.get("kind", "")), title=str(item.get("title", "")), url=_web_url(item.get("url")),
        **{k: str(item.get(k) or "") for k in ("date", "end", "summary", "organisation", "proposal")},
        sources=[s for s in item.get("sources") or [] if isinstance(s, dict)],
        removed=bool(item.get("removed")), dismissed=bool(item.get("dismissed")), changes=item["changes"])
        for subject, item in items.items() if item.get("title")]
    found.sort(key=lambda i: (i.end or i.date or "9999", i.date, i.id), reverse=True)
    links = profile.get("links") or []
    return Portfolio(
        profile=Profile(**{k: str(profile.get(k) or "") for k in ("name", "headline", "email", "summary")},
                        links=[{**link, "url": _web_url(link.get("url"))} for link in links
                               if isinstance(link, dict) and _web_url(link.get("url"))]),
        items=[i for i in found if not i.removed], removed=[i for i in found if i.removed],
        variants=[Variant(name=name, items=[str(i) for i in v.get("items") or []],
                          sent_with=str(v.get("sent_with") or ""), at=str(v.get("at") or ""))
                  for name, v in sorted(variants.items()) if not v.get("removed")])


def _web_url(value: Any) -> str:
    """A stored address as pages, exports and the site may link it: an http(s) one, as `--url` takes
    them. A pushed record or a JSON import is not checked as typed input is, and a ``javascript:`` or
    ``data:`` address in a link's href runs in whoever clicks it (a mentor, a visitor of the site)."""
    url = str(value or "").strip()
    return url if _URL.match(url) else ""


def load(ws: Workspace, *, person: str | None = None) -> Portfolio:
    """The reader's portfolio as it is now (or ``person``'s, for a service that checked the reader may see it)."""
    return _fold(_events(ws, person))


def _write(ws: Workspace, op: str, subject: str, data: dict[str, Any]) -> None:
    latest = max((e.at for e in _events(ws)), default=None)
    ws.store().write([ws.record(op, {"subject": subject, "at": now_after(latest), **data})])


# -- what people type -------------------------------------------------------------------------------

def check_url(url: str, what: str = "--url") -> str:
    url = url.strip()
    if url and not _URL.match(url):
        raise BadInput(f"{what} {url!r} is not a web address (give one starting with https://)")
    return url


def check_email(text: str, what: str = "--email") -> str:
    text = text.strip()
    if text and not _EMAIL.match(text):
        raise BadInput(f"{what} {text!r} is not an email address")
    return text


def check_date(text: str, what: str = "--date", *, strict: bool = False) -> str:
    """A date as a CV shows it: YYYY, YYYY-MM or YYYY-MM-DD (or words such as 'last march', kept as
    their day, unless ``strict``: a file's date is read as a CV format writes one); one yet to come is
    refused."""
    text = text.strip()
    if not text:
        return ""
    if strict and not _PARTIAL_DATE.match(text):
        raise BadInput(f"{what} {text!r} is not a date as YYYY, YYYY-MM or YYYY-MM-DD")
    day = text if _PARTIAL_DATE.match(text) else local_display(parse_moment(text, what=what))[:10]
    today = local_display(now_iso())[:10]
    if day[:len(day)] > today[:len(day)]:
        raise BadInput(f"{what} {text!r} has not happened yet (a portfolio lists what you did)")
    return day


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise BadInput(f"unknown accomplishment kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind


def _clean_item_fields(fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key == "kind":
            value = _check_kind(value)
        elif key == "title":
            value = " ".join(str(value).split())
            if not value:
                raise BadInput("an accomplishment needs a title")
        elif key == "url":
            value = check_url(value)
        elif key in ("date", "end"):
            value = check_date(value, f"--{key}")
        elif key in ("summary", "organisation"):
            value = str(value).strip()
        out[key] = value
    if out.get("date") and out.get("end") and out["end"] < out["date"]:
        raise BadInput(f"--end {out['end']} is before --date {out['date']}")
    return out


# -- the log items behind an accomplishment ----------------------------------------------------------

def is_own(ws: Workspace, author_id: str | None) -> bool:
    """Whether an entry or run with this author is the reader's own work (on a linked workspace, what
    others wrote on the team server is theirs, not the reader's)."""
    audience = current(team=ws.team)
    if audience is not None:
        return audience.is_author(author_id)
    if author_id is None:
        return True
    linked = server_audience(ws)
    return linked is not None and linked[1].user_id == author_id


def resolve_source(ws: Workspace, ref: str) -> dict[str, str]:
    """{"kind", "id"} for an entry, node or run the reader may see and that is theirs to show."""
    db = ws.store().db
    found: dict[str, str] = {}
    for table in SOURCE_KINDS:
        try:
            found[table] = queries.resolve(db, ref, table=table, what="entry, node or run")
        except NotFound:
            continue
    if not found:
        raise NotFound(f"no entry, node or run with id {ref!r}")
    if "runs" in found and found.get("entries") == found["runs"]:
        del found["entries"]  # a run's result entry has the run's id: the run is what is meant
    if len(found) > 1:
        raise Ambiguous(f"id {ref!r} matches more than one of entry, node and run; type more characters")
    table, full = next(iter(found.items()))
    if table == "entries":
        entry = queries.load_entries(db, [full])[0]
        if entry.private:
            raise BadInput(f"entry {entry.short} is private: a portfolio shows only what may be public "
                           "(make it public first with `upstack edit`)")
        if not is_own(ws, entry.author_id):
            raise BadInput(f"entry {entry.short} is someone else's work: a portfolio shows your own")
    if table == "runs":
        from upstack.store.runs import load_run

        if not is_own(ws, load_run(db, full, details=False).author_id):
            raise BadInput(f"run {short_id(full)} is someone else's: a portfolio shows your own work")
    return {"kind": SOURCE_KINDS[table], "id": full}


# -- changes ----------------------------------------------------------------------------------------

def set_profile(ws: Workspace, **fields: Any) -> Profile:
    """Change the profile's fields given (links: a list of (label, url) or {"label", "url"})."""
    data: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key == "email":
            value = check_email(value)
        elif key == "links":
            value = [{"label": str(label).strip(), "url": check_url(url, "--link")}
                     for label, url in ((d["label"], d["url"]) if isinstance(d, dict) else d for d in value)]
        elif key in _PROFILE_FIELDS:
            value = str(value).strip()
        else:
            raise BadInput(f"a profile has no field {key!r}")
        data[key] = value
    if not data:
        raise BadInput("nothing to change: give --name, --headline, --email, --link or --summary")
    _write(ws, "portfolio.profile", PROFILE, data)
    return load(ws).profile


def add_item(ws: Workspace, kind: str, title: str, *, sources: list[str] = (),  # type: ignore[assignment]
             proposal: str = "", **fields: Any) -> Accomplishment:
    data = _clean_item_fields({"kind": kind, "title": title, **fields})
    data["sources"] = [resolve_source(ws, ref) for ref in sources]
    if proposal:
        data["proposal"] = proposal
    subject = new_id()
    _write(ws, "portfolio.item", subject, data)
    return find_item(ws, subject, removed=True)


def find_item(ws: Workspace, ref: str, *, removed: bool = False) -> Accomplishment:
    """The accomplishment named by its id or the start of its short id (or @part of its title)."""
    held = load(ws)
    pool = held.items + (held.removed if removed else [])
    text = ref.strip()
    if text.startswith("@"):
        key = text[1:].strip().lower()
        matches = [i for i in pool if key and key in i.title.lower()]
    else:
        key = text.lower()
        if len(key) < 4 and text.upper() not in {i.id for i in pool}:
            raise BadInput(f"accomplishment id {ref!r} is too short: give at least 4 characters of its id")
        matches = [i for i in pool if i.id == text.upper() or id_key(i.id).startswith(key)]
    if not matches:
        where = "" if removed else " (a removed one: `upstack portfolio restore`)"
        raise NotFound(f"no accomplishment {ref!r} in your portfolio{where}")
    if len(matches) > 1:
        raise Ambiguous(f"{ref!r} matches more than one accomplishment: "
                        + ", ".join(f'{i.short} "{i.title}"' for i in matches[:5]))
    return matches[0]


def edit_item(ws: Workspace, ref: str, *, sources: list[str] | None = None, **fields: Any) -> Accomplishment:
    item = find_item(ws, ref)
    data = _clean_item_fields(fields)
    if sources is not None:
        data["sources"] = [resolve_source(ws, s) for s in sources]
    if data.get("end") and not data.get("date") and item.date and data["end"] < item.date:
        raise BadInput(f"--end {data['end']} is before the date {item.date}")
    if not data:
        raise BadInput("nothing to change: give --title, --date, --end, --url, --summary, --org or --from")
    _write(ws, "portfolio.item", item.id, data)
    return find_item(ws, item.id)


def remove_item(ws: Workspace, ref: str) -> Accomplishment:
    item = find_item(ws, ref)
    _write(ws, "portfolio.item", item.id, {"removed": True})
    return find_item(ws, item.id, removed=True)


def restore_item(ws: Workspace, ref: str) -> Accomplishment:
    item = find_item(ws, ref, removed=True)
    if not item.removed:
        raise BadInput(f"accomplishment {item.short} is in your portfolio already")
    _write(ws, "portfolio.item", item.id, {"removed": False, "dismissed": False})
    return find_item(ws, item.id)


def set_variant(ws: Workspace, name: str, items: list[str], sent_with: str = "") -> Variant:
    """Name a CV variant: these accomplishments, in this order (and what it was sent with)."""
    name = " ".join(name.split())
    if not name:
        raise BadInput("a CV variant needs a name")
    if not items:
        raise BadInput("a CV variant needs its accomplishments: --items ID,ID,...")
    ids = [find_item(ws, ref).id for ref in items]
    if len(set(ids)) != len(ids):
        raise BadInput("--items names one accomplishment twice")
    _write(ws, "portfolio.variant", name, {"items": ids, "sent_with": sent_with.strip()})
    return next(v for v in load(ws).variants if v.name == name)


# -- proposals --------------------------------------------------------------------------------------

_RESULTS_LOOKED_AT = 200  # the newest results only: a proposal list is read, not scrolled


def _ladder_proposals(ws: Workspace) -> list[Proposal]:
    """The evidence on the reader's ladder as it stands (evidence taken off is not proposed): an
    entry, node or run as itself, keyed as its result would be, so one piece of work is proposed
    once and not again once it is in; one that is private or someone else's is not proposed. A web
    address is a repository (a GitHub or GitLab project) or a write-up; a profile page
    (github.com/NAME: a ladder screen's evidence) and an idea are not accomplishments."""
    found = []
    for state in ladder.load(ws, practice=False).steps:
        why = f"evidence for the ladder step {state.step.slug!r}"
        for evidence in state.evidence:
            date = local_display(evidence.at)[:10]
            if evidence.kind in ("entry", "node", "run"):
                try:
                    source = resolve_source(ws, evidence.ref)
                except UpstackError:
                    continue  # private, someone else's, or gone since it was linked
                found.append(Proposal(key=f"{source['kind']}:{source['id']}", title=evidence.title, date=date,
                                      kind="result" if source["kind"] == "run" else "write-up",
                                      sources=[source], why=why))
            elif evidence.kind == "url" and (kind := _url_kind(evidence.ref)):
                found.append(Proposal(key=f"evidence:{derived_id(evidence.at, state.step.slug, evidence.ref)}",
                                      kind=kind, title=evidence.ref, date=date,
                                      sources=[{"kind": "url", "id": evidence.ref}], why=why))
    return found


def _url_kind(url: str) -> str | None:
    """A repository for a project on GitHub or GitLab, None for a profile page there, else a write-up."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if host in ("github.com", "gitlab.com"):
        return "repository" if len([p for p in parts.path.split("/") if p]) >= 2 else None
    return "write-up"


def proposals(ws: Workspace) -> list[Proposal]:
    """What the log shows that the portfolio does not hold yet (nor was dismissed)."""
    db = ws.store().db
    held = load(ws)
    taken = {i.proposal for i in held.items + held.removed if i.proposal}
    taken |= {f"{s['kind']}:{s['id']}" for i in held.items + held.removed for s in i.sources}
    found: list[Proposal] = []
    audience = current(team=ws.team)  # on a team server, only projects the reader owns are their work
    for node in store_tree.node_rows(db):
        if node.kind == "project" and node.status == "done" and (audience is None or audience.has(node.id, "owner")):
            found.append(Proposal(key=f"node:{node.id}", kind="write-up", title=node.title,
                                  date=local_display(node.updated_at)[:10],
                                  sources=[{"kind": "node", "id": node.id}], why="a project you marked done"))
    for entry in queries.timeline(db, Filters(kinds=("result",)), limit=_RESULTS_LOOKED_AT):
        if entry.private or not is_own(ws, entry.author_id):
            continue
        run = entry.meta.get("run")
        source = {"kind": "run", "id": entry.id} if run else {"kind": "entry", "id": entry.id}
        found.append(Proposal(key=f"{source['kind']}:{entry.id}", kind="result", title=entry.title,
                              date=local_display(entry.occurred_at)[:10], sources=[source],
                              why="a run's result" if run else "a result you logged"))
    found += _ladder_proposals(ws)
    fresh: list[Proposal] = []
    for proposal in found:  # a piece of work proposed twice (a result, and ladder evidence) is offered once
        if proposal.key not in taken:
            taken.add(proposal.key)
            fresh.append(proposal)
    return fresh


def _proposal(ws: Workspace, ref: str) -> Proposal:
    key = ref.strip().lower()
    matches = [p for p in proposals(ws) if p.short.startswith(key) or p.key.lower() == key] if len(key) >= 4 else []
    if len(key) < 4:
        raise BadInput(f"proposal id {ref!r} is too short: give at least 4 characters of it")
    if not matches:
        raise NotFound(f"no open proposal {ref!r} (see `upstack portfolio proposals`)")
    if len(matches) > 1:
        raise Ambiguous(f"{ref!r} matches more than one proposal; type more characters")
    return matches[0]


def accept(ws: Workspace, ref: str, **fields: Any) -> Accomplishment:
    """A proposal becomes an accomplishment (its kind, title and date may be changed as it is)."""
    found = _proposal(ws, ref)
    data = {"kind": found.kind, "title": found.title, "date": found.date, **{k: v for k, v in fields.items() if v}}
    url = next((s["id"] for s in found.sources if s["kind"] == "url"), "")
    if url and not fields.get("url"):
        data["url"] = url
    clean = _clean_item_fields(data)
    clean["sources"] = [s for s in found.sources if s["kind"] != "url"]
    clean["proposal"] = found.key
    subject = new_id()
    _write(ws, "portfolio.item", subject, clean)
    return find_item(ws, subject)


def dismiss(ws: Workspace, ref: str) -> Accomplishment:
    """Turn a proposal down: kept as a removed accomplishment, so `restore` can take it back."""
    found = _proposal(ws, ref)
    subject = new_id()
    _write(ws, "portfolio.item", subject, {
        "kind": found.kind, "title": found.title, "date": found.date, "proposal": found.key,
        "sources": [s for s in found.sources if s["kind"] != "url"], "removed": True, "dismissed": True})
    return find_item(ws, subject, removed=True)
