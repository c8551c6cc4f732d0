"""Contacts' pages (issue 16): the list (``/contacts``, with an add form) and one contact
(``/contacts/{slug}``: interests, links, every exchange, the follow-up, the reader's work that fits
their interests and small open problems to pick for them; edit and log-an-exchange forms).

Contacts are personal data about third parties, kept at one of two levels, chosen when one is added:
private (stored wherever the log is; only its owner sees it) or local-only (never leaves this
machine). A team server is not the machine a local-only contact may be kept on: there the form
offers private only, and refuses local-only in one line (`upstack contact add --local-only` on a
laptop keeps one). Each person's own: a mentor shown "contacts" reads them at
/people/{login}/contacts, never a local-only one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from upstack.errors import BadInput
from upstack.services import applications, contacts
from upstack.timeutil import today_local
from upstack.web.pages import Page, page, workspace
from upstack.web.routes.opportunities import matched
from upstack.web.routes.pipeline import wants_json
from upstack.workspace import Workspace

__all__ = ["router", "LEVELS"]

router = APIRouter()
LEVELS = ("private", "local-only")


def _listed(contact: contacts.Contact, today: str) -> dict[str, Any]:
    return {**contact.to_dict(), "last": contact.last_exchange,
            "follow_up_overdue": bool(contact.follow_up) and contact.follow_up < today}


@page(router, "/contacts", name="contacts",
      summary="Your contacts: people and organisations, their interests, the last exchange and the follow-up")
def contacts_page(request: Request, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    today = today_local().isoformat()
    return Page("contacts.html", {
        "contacts": [_listed(c, today) for c in contacts.contacts(ws)], "kinds": list(contacts.KINDS),
        "levels": list(LEVELS) if not ws.team else ["private"],
        "level": "local-only" if ws.settings.contacts_local_only and not ws.team else "private"})


@page(router, "/contacts/{slug}", name="contact",
      summary="One contact: interests, links, every exchange, the follow-up, your work that fits their interests")
def contact_page(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)]) -> Page:
    found = contacts.find(ws, slug)
    named_in = [{"slug": a.slug, "title": a.title, "stage": a.stage, "role": c["role"]}
                for a in applications.applications(ws) for c in a.contacts if c["contact"] == found.slug]
    return Page("contact.html", {
        "contact": _listed(found, today_local().isoformat()), "applications": named_in,
        "matched": matched(ws, "contact", found.slug), "kinds": list(contacts.KINDS),
        "exchanges": list(contacts.EXCHANGES)})


def _shown(request: Request, found: contacts.Contact, anchor: str = "") -> Response:
    if wants_json(request):
        return JSONResponse(found.to_dict())
    return RedirectResponse(f"/contacts/{found.slug}{anchor}", status_code=303)


def _links(text: str | None) -> list[str] | None:
    return None if text is None else [line.strip() for line in text.splitlines() if line.strip()]


Text = Annotated[str, Form()]
MaybeText = Annotated[str | None, Form()]
Interests = Annotated[str, Form(description="What they work on: free text, matched to your log")]
Links = Annotated[str, Form(description="Web addresses, one a line")]


@router.post("/contacts", summary="Add a contact (a person or an organisation), private or local-only")
def add_contact(request: Request, ws: Annotated[Workspace, Depends(workspace)],
                name: Annotated[str, Form(min_length=1, description="Their name")],
                kind: Annotated[str, Form(description="person or organisation")] = "person",
                organisation: Text = "", interests: Interests = "",
                tags: Annotated[str, Form(description="Tags, comma-separated")] = "", links: Links = "",
                how_known: Text = "", notes: Text = "",
                level: Annotated[str, Form(description="private or local-only (on a laptop)")] = "") -> Response:
    if level not in ("", *LEVELS):
        raise BadInput(f"a contact is kept private or local-only, not {level!r}")
    if level == "local-only" and ws.team:
        raise BadInput("a local-only contact never leaves the machine it is kept on, and this is a server: "
                       "add it on your laptop with `upstack contact add --local-only`, or keep it private here")
    local_only = None if not level else level == "local-only"
    added = contacts.add(ws, name, local_only=False if ws.team else local_only, kind=kind,
                         organisation=organisation, interests=interests, tags=tags, links=_links(links),
                         how_known=how_known, notes=notes)
    return _shown(request, added)


@router.post("/contacts/{slug}/edit", summary="Change a contact's fields (those sent; the level stays as chosen)")
def edit_contact(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)],
                 name: MaybeText = None, kind: MaybeText = None, organisation: MaybeText = None,
                 interests: MaybeText = None, tags: MaybeText = None, links: MaybeText = None,
                 how_known: MaybeText = None, notes: MaybeText = None,
                 follow_up: Annotated[str | None, Form(description="YYYY-MM-DD or words; empty: none")] = None,
                 ) -> Response:
    edited = contacts.edit(ws, slug, name=name, kind=kind, organisation=organisation, interests=interests,
                           tags=tags, links=_links(links), how_known=how_known, notes=notes, follow_up=follow_up)
    return _shown(request, edited)


@router.post("/contacts/{slug}/exchanges",
             summary="Log an exchange with a contact: a draft, an email sent, a reply, a call, a meeting, a note")
def log_exchange(request: Request, slug: str, ws: Annotated[Workspace, Depends(workspace)],
                 kind: Annotated[str, Form(min_length=1, description=", ".join(contacts.EXCHANGES))],
                 text: Text = "", title: Annotated[str, Form(description="An email's subject line")] = "",
                 when: Annotated[str, Form(description="The day it happened (default today)")] = "",
                 follow_up: Annotated[str, Form(description="A day to follow up, if any")] = "") -> Response:
    logged = contacts.log_exchange(ws, slug, kind, text, title=title, when=when or None,
                                   follow_up=follow_up if follow_up.strip() else None)
    return _shown(request, logged, "#history")
