"""The portfolio in other tools' formats: JSON Resume (https://jsonresume.org, schema 1.3) and
RenderCV's YAML input (RenderCV 2.3), and a JSON Resume read back in (`portfolio import`).

Only what the person put in their portfolio is written: the profile and the accomplishments' own
fields. The log items behind an accomplishment (entries, nodes, runs) are never part of a CV.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import portfolio as folio
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["RENDERCV_VERSION", "SECTIONS", "to_json_resume", "to_rendercv", "import_json_resume"]

RENDERCV_VERSION = "2.3"  # the newest RenderCV that installs on Python 3.11; later ones need 3.12
FELLOWSHIP = "Fellowship"  # a work item's description when it is a fellowship, so that an import knows
MAX_RESUME_BYTES = 5_000_000  # a CV is kilobytes; beyond this it is not one
JSON_RESUME_VERSION = "1.3.1"  # the @jsonresume/schema release the tests validate against


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in ("", None, [], {})}


def to_json_resume(held: folio.Portfolio, variant: str | None = None) -> dict[str, Any]:
    """A JSON Resume document: jobs and fellowships as work, write-ups as publications, grants as
    awards, repositories, results and talks as projects (with their kind as the project's type)."""
    profile = held.profile
    basics = _drop_empty({
        "name": profile.name, "label": profile.headline, "email": profile.email, "summary": profile.summary,
        "url": next((link["url"] for link in profile.links if _social(link["url"]) is None),
                    profile.links[0]["url"] if profile.links else ""),
        "profiles": [_drop_empty({"network": link["label"], "url": link["url"]}) for link in profile.links],
    })
    sections: dict[str, list[dict[str, Any]]] = {"work": [], "publications": [], "awards": [], "projects": []}
    for item in held.chosen(variant):
        if item.kind in ("job", "fellowship"):
            sections["work"].append(_drop_empty({
                "name": item.organisation, "position": item.title, "startDate": item.date,
                "description": FELLOWSHIP if item.kind == "fellowship" else "",
                "endDate": item.end, "url": item.url, "summary": item.summary}))
        elif item.kind == "write-up":
            sections["publications"].append(_drop_empty({
                "name": item.title, "publisher": item.organisation, "releaseDate": item.date,
                "url": item.url, "summary": item.summary}))
        elif item.kind == "grant":
            sections["awards"].append(_drop_empty({
                "title": item.title, "awarder": item.organisation, "date": item.date, "summary": item.summary}))
        else:
            sections["projects"].append(_drop_empty({
                "name": item.title, "description": item.summary, "startDate": item.date, "endDate": item.end,
                "url": item.url, "entity": item.organisation, "type": item.kind}))
    return {"$schema": "https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json",
            "basics": basics, **{k: v for k, v in sections.items() if v},
            "meta": {"version": "v1.0.0", "lastModified": now_iso()[:19]}}


# RenderCV draws a social network's link from a username; a link it has no network for is listed
# under Links. Only a plain profile address (host/username) is turned into a username.
_NETWORKS = {"github.com": "GitHub", "gitlab.com": "GitLab", "linkedin.com": "LinkedIn", "x.com": "X",
             "twitter.com": "X", "orcid.org": "ORCID"}
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SECTIONS = (("Experience", ("job", "fellowship")), ("Publications", ("write-up",)),
             ("Projects", ("repository", "result")), ("Talks", ("talk",)), ("Grants", ("grant",)))


def _social(url: str) -> dict[str, str] | None:
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    path = [p for p in parts.path.split("/") if p]
    if host == "linkedin.com" and len(path) == 2 and path[0] == "in":
        path = path[1:]
    if host in _NETWORKS and len(path) == 1 and _USERNAME.match(path[0]) and not parts.query:
        return {"network": _NETWORKS[host], "username": path[0]}
    return None


def _dates(item: folio.Accomplishment) -> dict[str, str]:
    if item.end:
        return {"start_date": item.date, "end_date": item.end} if item.date else {"date": item.end}
    if item.kind in ("job", "fellowship") and item.date:
        return {"start_date": item.date, "end_date": "present"}
    return {"date": item.date} if item.date else {}


def _markdown_text(text: str) -> str:
    """User text inside RenderCV's Markdown: one line, with no accidental bold or link syntax."""
    return re.sub(r"([*_\[\]`\\])", r"\\\1", " ".join(text.split()))


def _rendercv_entry(item: folio.Accomplishment, section: str, author: str) -> dict[str, Any]:
    summary = _markdown_text(item.summary)
    link = [f"[{_markdown_text(item.url)}]({item.url})"] if item.url else []
    if section == "Experience":
        return _drop_empty({"company": item.organisation or "Independent", "position": item.title,
                            **_dates(item), "summary": summary, "highlights": link})
    if section == "Publications":
        return _drop_empty({"title": item.title, "authors": [author], "journal": item.organisation,
                            "url": item.url, "date": item.date, "summary": summary})
    name = item.title + (f", {item.organisation}" if item.organisation else "")
    return _drop_empty({"name": name, **_dates(item), "summary": summary, "highlights": link})


def to_rendercv(held: folio.Portfolio, variant: str | None = None) -> dict[str, Any]:
    """RenderCV's input as a mapping (write it with ``rendercv_yaml``)."""
    profile = held.profile
    social: list[dict[str, str]] = []
    other: list[dict[str, str]] = []
    for link in profile.links:
        found = _social(link["url"])
        if found and all(s["network"] != found["network"] for s in social):
            social.append(found)
        else:
            other.append(link)
    website = other.pop(0)["url"] if other else None
    chosen = held.chosen(variant)
    sections: dict[str, list[Any]] = {}
    if profile.summary:
        sections["Summary"] = [_markdown_text(profile.summary)]
    for title, kinds in SECTIONS:
        entries = [_rendercv_entry(i, title, profile.name or "Me") for i in chosen if i.kind in kinds]
        if entries:
            sections[title] = entries
    if other:
        sections["Links"] = [{"label": _markdown_text(link["label"] or "Link"),
                              "details": f"[{_markdown_text(link['url'])}]({link['url']})"} for link in other]
    cv = _drop_empty({"name": profile.name or "Your Name", "email": profile.email or None, "website": website,
                      "social_networks": social, "sections": sections})
    return {"cv": cv, "design": {"theme": "classic"}}


def rendercv_yaml(held: folio.Portfolio, variant: str | None = None) -> str:
    import yaml  # only for this export

    header = (f"# RenderCV {RENDERCV_VERSION} input, written by upstack (`upstack portfolio export --format "
              "rendercv`).\n# Render it with: pip install 'rendercv[full]==2.3' && rendercv render THIS_FILE\n")
    return header + yaml.safe_dump(to_rendercv(held, variant), allow_unicode=True, sort_keys=False, width=100)


# -- a JSON Resume read in --------------------------------------------------------------------------

_READ = {  # JSON Resume section: (our kind, title field, organisation field, date fields, summary field)
    "work": ("job", "position", "name", ("startDate", "endDate"), "summary"),
    "publications": ("write-up", "name", "publisher", ("releaseDate", ""), "summary"),
    "awards": ("grant", "title", "awarder", ("date", ""), "summary"),
    "projects": ("repository", "name", "entity", ("startDate", "endDate"), "description"),
}


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{where} is not text")
    return value.strip()


def _read_item(section: str, index: int, raw: Any) -> dict[str, Any]:
    where = f"{section}[{index}]"
    if not isinstance(raw, dict):
        raise BadInput(f"{where} is not an object")
    kind, title_key, org_key, (start_key, end_key), summary_key = _READ[section]
    title = _text(raw.get(title_key), f"{where}.{title_key}")
    if not title:
        raise BadInput(f"{where} has no {title_key}")
    organisation = _text(raw.get(org_key), f"{where}.{org_key}")
    if section == "projects" and raw.get("type") in folio.KINDS:
        kind = raw["type"]
    if section == "work" and (raw.get("description") == FELLOWSHIP or "fellow" in (title + " " + organisation).lower()):
        kind = "fellowship"
    fields = {"kind": kind, "title": title, "organisation": organisation,
              "summary": _text(raw.get(summary_key), f"{where}.{summary_key}"),
              "url": _text(raw.get("url"), f"{where}.url"),
              "date": _text(raw.get(start_key), f"{where}.{start_key}"),
              "end": _text(raw.get(end_key), f"{where}.{end_key}") if end_key else ""}
    try:
        fields["url"] = folio.check_url(fields["url"], f"{where}.url")
        for key in ("date", "end"):
            fields[key] = folio.check_date(fields[key], f"{where}.{key}", strict=True) if fields[key] else ""
    except BadInput as exc:
        raise BadInput(str(exc).replace("--", "")) from None
    return {k: v for k, v in fields.items() if v}


def import_json_resume(ws: Workspace, path: Path) -> tuple[folio.Profile, list[str]]:
    """Seed the profile and accomplishments from a JSON Resume file; all of it or nothing (a bad file is
    named in one line). Returns the profile and the new accomplishments' ids."""
    try:
        if path.stat().st_size > MAX_RESUME_BYTES:
            raise BadInput(f"{path} is larger than {MAX_RESUME_BYTES // 1_000_000} MB: not a JSON Resume")
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{path} is not a JSON Resume: not JSON ({str(exc).splitlines()[0]})") from None
    except RecursionError:  # json's decoder recurses once a level: a CV is a few levels deep
        raise BadInput(f"{path} is not a JSON Resume: nested too deep to be one") from None
    try:
        if not isinstance(data, dict):
            raise BadInput("it is not a JSON object")
        basics = data.get("basics") or {}
        if not isinstance(basics, dict):
            raise BadInput("basics is not an object")
        links = [{"label": _text(p.get("network"), "basics.profiles.network") or "Link",
                  "url": _text(p.get("url"), "basics.profiles.url")}
                 for p in basics.get("profiles") or [] if isinstance(p, dict) and p.get("url")]
        if basics.get("url") and all(link["url"] != basics["url"] for link in links):
            links.insert(0, {"label": "Website", "url": _text(basics["url"], "basics.url")})
        profile: dict[str, Any] = {
            "name": _text(basics.get("name"), "basics.name"), "headline": _text(basics.get("label"), "basics.label"),
            "email": folio.check_email(_text(basics.get("email"), "basics.email"), "basics.email"),
            "summary": _text(basics.get("summary"), "basics.summary"), "links": links}
        items = []
        for section in _READ:
            entries = data.get(section) or []
            if not isinstance(entries, list):
                raise BadInput(f"{section} is not a list")
            items += [_read_item(section, i, raw) for i, raw in enumerate(entries)]
        if not items and not any(v for k, v in profile.items()):
            raise BadInput("it holds no basics, work, publications, awards or projects")
        for link in links:
            folio.check_url(link["url"], "basics.profiles url")
    except BadInput as exc:
        raise BadInput(f"{path} is not a JSON Resume upstack can read: {exc}") from None
    records = []
    at = now_iso()
    given = {k: v for k, v in profile.items() if v}
    if given:
        records.append(ws.record("portfolio.profile", {"subject": folio.PROFILE, "at": at, **given}))
    ids = []
    for item in items:
        ids.append(new_id())
        records.append(ws.record("portfolio.item", {"subject": ids[-1], "at": at, **item, "sources": []}))
    from upstack.services.record_shapes import problem  # pydantic: only when a record is checked

    for record in records:  # one a team server would refuse could never sync: refused here, as there
        wrong = problem(record.op, record.data)
        if wrong:
            raise BadInput(f"{path} is not a JSON Resume upstack can read: {wrong.replace('Value error, ', '')}")
    ws.store().write(records)  # one write: all of it or none
    return folio.load(ws).profile, ids
