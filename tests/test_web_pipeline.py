"""The pages of issue 16 over real HTTP, on both engines: the board, one-click and confirmed moves, an
application's page (follow-up, a rejection that asks what was learned), the funnel worked out by hand,
opportunities (add, the same link, archive, a kept posting sanitised at render), contacts (the level
chosen at add, edit, an exchange logged) and what is due; each page with its JSON twin, every form
refusing bad input in one line with nothing changed, and none without its CSRF token."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from upstack.services import applications, contacts, opportunities, recall
from upstack.store import path as store_path
from upstack.timeutil import today_local
from upstack.workspace import Workspace
from webserver import Server, serve

HOSTILE = ('<p>We hire.<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
           '<a href="javascript:window.pwned=3">click</a> <a href="/careers/apply">apply</a>'
           '<span onmouseover="window.pwned=4">hover</span></p>')


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/opportunities").text)
    assert found
    return found.group(1)


def _day(days: int) -> str:
    return (today_local() + timedelta(days=days)).isoformat()


def _records(ws: Workspace) -> list[Any]:
    """Every path record (what the forms write): the same before and after a refusal."""
    return store_path.events(ws.store().db, store_path.OPS)


def _opp(ws: Workspace, org: str, role: str, **fields: Any) -> str:
    return opportunities.add(ws, organisation=org, role=role, **fields).opportunity.slug


def _pipeline(ws: Workspace) -> dict[str, str]:
    """Four applications the funnel can be worked out for by hand (days before today):
    redwood: applied -40, screen -30, interview -20, offer -9 (reach, job, 80k);
    apollo: applied -35, rejected -25 (fit, job, 80k); mats: applied -10 (reach, fellowship, lesswrong);
    ltff: on the wishlist, never sent (safe, grant, lesswrong)."""
    slugs = {"redwood": _opp(ws, "Redwood Research", "Research Engineer", source="80k", deadline=_day(30),
                             link="https://redwood.example/jobs/re"),
             "apollo": _opp(ws, "Apollo Research", "Evals Engineer", source="80k"),
             "mats": _opp(ws, "MATS", "Scholar", kind="fellowship", source="lesswrong", deadline=_day(5)),
             "ltff": _opp(ws, "LTFF", "Grant", kind="grant", source="lesswrong", deadline=_day(-2))}
    applications.add(ws, slugs["redwood"], stage="applied", when=_day(-40), stretch="reach")
    for stage, days in (("screen", -30), ("interview", -20), ("offer", -9)):
        applications.move(ws, slugs["redwood"], stage, when=_day(days))
    applications.add(ws, slugs["apollo"], stage="applied", when=_day(-35), stretch="fit")
    applications.move(ws, slugs["apollo"], "rejected", when=_day(-25))
    applications.add(ws, slugs["mats"], stage="applied", when=_day(-10), stretch="reach")
    applications.add(ws, slugs["ltff"], stretch="safe")
    return slugs


# -- the board --------------------------------------------------------------------------------------

def test_the_board_has_a_column_per_stage_in_order_and_the_ended_last(server: Server, workspace: Workspace) -> None:
    slugs = _pipeline(workspace)
    applications.follow_up(workspace, slugs["mats"], _day(-1))
    client = server.client()
    board = client.get("/pipeline.json").json()
    assert [c["stage"] for c in board["columns"]] == [*applications.stage_order(workspace), "ended"]
    placed = {c["slug"]: column["stage"] for column in board["columns"] for c in column["cards"]}
    assert placed == {slugs["redwood"]: "offer", slugs["apollo"]: "ended", slugs["mats"]: "applied",
                      slugs["ltff"]: "wishlist"}
    cards = {c["slug"]: c for column in board["columns"] for c in column["cards"]}
    mats = cards[slugs["mats"]]
    assert (mats["days_in_stage"], mats["next"], mats["follow_up_overdue"]) == (10, "screen", True)
    assert cards[slugs["redwood"]]["next"] is None and cards[slugs["apollo"]]["ended"]
    assert [m["stage"] for m in mats["moves"] if m["back"]] == ["wishlist"]
    # A stage picker starts at the next stage, or at the first that is no move back (never "rejected").
    assert (mats["chosen"], cards[slugs["redwood"]]["chosen"]) == ("screen", "withdrawn")
    markup = client.get("/pipeline").text
    column = markup[markup.index('data-stage="applied"'):markup.index('data-stage="screen"')]
    assert f'id="a-{slugs["mats"]}"' in column and "overdue" in column and "10 days in stage" in column
    assert 'name="stage" value="screen"' in column  # the one-click move
    assert '<a href="/pipeline" aria-current="page">Board</a>' in markup  # under the header's one entry:
    assert '<a href="/opportunities" aria-current="page">Opportunities</a>' in markup


def test_one_click_moves_a_card_to_the_next_stage(server: Server, workspace: Workspace) -> None:
    slug = _opp(workspace, "FAR AI", "Research Scientist")
    applications.add(workspace, slug, stage="applied")
    client = server.client()
    moved = client.post(f"/applications/{slug}/move", data={"stage": "screen", "back": "board",
                                                             "csrf": _csrf(client)})
    assert moved.status_code == 303 and moved.headers["location"] == f"/pipeline#a-{slug}"
    board = client.get("/pipeline.json").json()
    columns = {c["stage"]: [card["slug"] for card in c["cards"]] for c in board["columns"]}
    assert columns["screen"] == [slug] and columns["applied"] == []
    assert applications.find(workspace, slug).timeline[-1] == {"stage": "screen", "when": today_local().isoformat()}


def test_a_move_back_asks_first_and_changes_nothing_until_confirmed(server: Server, workspace: Workspace) -> None:
    slug = _opp(workspace, "FAR AI", "Research Scientist")
    applications.add(workspace, slug, stage="interview")
    client = server.client()
    csrf = _csrf(client)
    before = _records(workspace)
    asked = client.post(f"/applications/{slug}/move", data={"stage": "applied", "note": "wrong click", "csrf": csrf})
    assert asked.status_code == 200 and "Move it back?" in asked.text
    assert 'name="force" value="true"' in asked.text and 'name="note" value="wrong click"' in asked.text
    as_json = client.post(f"/applications/{slug}/move", data={"stage": "applied", "csrf": csrf},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.json()["error"].endswith("needs force=true")
    assert _records(workspace) == before
    confirmed = client.post(f"/applications/{slug}/move", data={"stage": "applied", "force": "true", "csrf": csrf},
                            headers={"Accept": "application/json"})
    assert confirmed.status_code == 200 and confirmed.json()["stage"] == "applied"
    assert confirmed.json()["timeline"][-1]["forced"] is True


@pytest.mark.parametrize(("fields", "status", "said"), [
    ({"stage": "hired"}, 400, "no stage 'hired'"),
    ({"stage": "interview"}, 400, "at interview already"),
    ({"stage": "offer", "when": "2999-01-01"}, 400, "has not happened yet"),
    ({"stage": "offer", "when": "soonish"}, 400, "cannot understand"),
    ({"stage": "offer", "learned": "Nothing."}, 400, "belongs to a rejection"),
])
def test_a_bad_move_is_refused_in_one_line_and_changes_nothing(server: Server, workspace: Workspace,
                                                                fields: dict[str, str], status: int, said: str) -> None:
    slug = _opp(workspace, "FAR AI", "Research Scientist")
    applications.add(workspace, slug, stage="interview")
    client = server.client()
    before = _records(workspace)
    answer = client.post(f"/applications/{slug}/move", data={**fields, "csrf": _csrf(client)},
                         headers={"Accept": "application/json"})
    assert answer.status_code == status and said in answer.json()["error"]
    assert "\n" not in answer.json()["error"] and _records(workspace) == before
    page = client.post(f"/applications/{slug}/move", data={**fields, "csrf": _csrf(client)})
    assert page.status_code == status and said in html.unescape(page.text) and "Traceback" not in page.text
    assert client.post("/applications/nobody-at-all/move", data={"stage": "offer", "csrf": _csrf(client)},
                       ).status_code == 404
    assert client.post(f"/applications/{slug}/move", data={"stage": "offer"}).status_code == 403  # no CSRF token
    assert _records(workspace) == before


def test_a_rejection_asks_what_was_learned_and_keeps_it_private(server: Server, workspace: Workspace) -> None:
    slug = _opp(workspace, "Anthropic", "Research Engineer")
    applications.add(workspace, slug, stage="work-test")
    client = server.client()
    page = client.get(f"/applications/{slug}").text
    assert applications.REJECTION_FRAME in page and 'name="learned"' in page
    assert client.get(f"/applications/{slug}.json").json()["frame"] == applications.REJECTION_FRAME
    lesson = "My work test skipped the baseline they expected."
    done = client.post(f"/applications/{slug}/move", data={"stage": "rejected", "learned": lesson,
                                                            "csrf": _csrf(client)})
    assert done.status_code == 303 and done.headers["location"] == f"/applications/{slug}"
    step = client.get(f"/applications/{slug}.json").json()["application"]["timeline"][-1]
    learned = recall.show(workspace, step["learned"])
    assert (learned.kind, learned.private, learned.title) == ("learning", True, lesson)
    assert f'href="/e/{step["learned_short"]}"' in client.get(f"/applications/{slug}").text


def test_the_follow_up_form_sets_clears_and_refuses_a_bad_day(server: Server, workspace: Workspace) -> None:
    slug = _opp(workspace, "METR", "Researcher")
    applications.add(workspace, slug, stage="applied")
    client = server.client()
    csrf = _csrf(client)
    assert client.post(f"/applications/{slug}/follow-up", data={"day": _day(7), "csrf": csrf}).status_code == 303
    assert client.get(f"/applications/{slug}.json").json()["application"]["follow_up"] == _day(7)
    assert [i["ref"] for i in client.get("/due.json").json()["items"] if i["kind"] == "follow-up"] == [slug]
    before = _records(workspace)
    bad = client.post(f"/applications/{slug}/follow-up", data={"day": "when pigs fly", "csrf": csrf})
    assert bad.status_code == 400 and "follow-up date" in bad.text and _records(workspace) == before
    assert client.post(f"/applications/{slug}/follow-up", data={"day": "", "csrf": csrf}).status_code == 303
    assert client.get(f"/applications/{slug}.json").json()["application"]["follow_up"] == ""


# -- the funnel ---------------------------------------------------------------------------------------

def test_the_funnel_shows_each_rate_with_its_counts(server: Server, workspace: Workspace) -> None:
    _pipeline(workspace)
    client = server.client()
    funnel = client.get("/pipeline/funnel.json").json()
    assert funnel["applied"] == 3  # the grant never left the wishlist
    assert {name: r["shown"] for name, r in funnel["rates"].items()} == {
        "response": "2/3 (67%)", "interview": "1/3 (33%)", "offer": "1/3 (33%)"}
    assert {d["stage"]: d["days"] for d in funnel["median_days_in_stage"]} == {
        "applied": 10, "screen": 10, "interview": 11}
    by_stretch = {g["group"]: (g["applied"], g["rates"]["response"]["shown"]) for g in funnel["by"]["stretch"]}
    assert by_stretch == {"fit": (1, "1/1 (100%)"), "reach": (2, "1/2 (50%)"), "safe": (0, "0/0")}
    assert {g["group"]: g["applied"] for g in funnel["by"]["source"]} == {"80k": 2, "lesswrong": 1}
    assert {g["group"]: g["applied"] for g in funnel["by"]["kind"]} == {"fellowship": 1, "grant": 0, "job": 2}
    assert funnel["variety"] is None
    markup = client.get("/pipeline/funnel").text
    assert "2/3 (67%)" in markup and 'aria-label="heard back: 2/3 (67%)"' in markup
    assert '<rect class="fill" width="67"' in markup
    for n in range(4):  # four more long shots: all open applications but the grant are reaches: still mixed
        applications.add(workspace, _opp(workspace, f"Lab {n}", "Engineer"), stage="applied", stretch="reach")
    assert client.get("/pipeline/funnel.json").json()["variety"] is None
    applications.edit(workspace, "ltff", stretch="reach")
    notice = client.get("/pipeline/funnel.json").json()["variety"]
    assert notice.startswith("all 7 of your open applications are marked reach")
    assert notice[0].upper() + notice[1:] in client.get("/pipeline/funnel").text


# -- opportunities -----------------------------------------------------------------------------------

def test_opportunities_soonest_first_with_duplicates_marked_added_archived(server: Server,
                                                                           workspace: Workspace) -> None:
    slugs = _pipeline(workspace)
    client = server.client()
    csrf = _csrf(client)
    listed = client.get("/opportunities.json").json()["opportunities"]
    assert [o["slug"] for o in listed] == [slugs["ltff"], slugs["mats"], slugs["redwood"], slugs["apollo"]]
    assert {o["slug"]: o["application"] for o in listed}[slugs["apollo"]] == "rejected"
    added = client.post("/opportunities", data={
        "organisation": "Redwood Research", "role": "Research Engineer", "link": "https://redwood.example/jobs/re-2028",
        "deadline": "2028-01-15", "areas": "control, evals", "csrf": csrf})
    assert added.status_code == 303
    again = added.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/opportunities/{again}.json").json()["opportunity"]
    assert (page["duplicate_of"], page["areas"], page["deadline"]) == (slugs["redwood"], ["control", "evals"],
                                                                       "2028-01-15")
    assert f'possible duplicate of <a href="/opportunities/{slugs["redwood"]}">' in client.get("/opportunities").text
    same = client.post("/opportunities", data={"organisation": "Redwood", "link": "https://REDWOOD.example/jobs/re/",
                                               "csrf": csrf}, headers={"Accept": "application/json"})
    assert (same.json()["outcome"], same.json()["slug"]) == ("unchanged", slugs["redwood"])
    before = _records(workspace)
    for fields, said in (({"organisation": " "}, "needs its organisation"), ({"kind": "gig"}, "no kind 'gig'"),
                         ({"link": "javascript:alert(1)"}, "not a web address"),
                         ({"deadline": "whenever"}, "cannot understand the deadline")):
        refused = client.post("/opportunities", data={"organisation": "Someone", **fields, "csrf": csrf})
        assert refused.status_code == 400 and said in html.unescape(refused.text), fields
    assert _records(workspace) == before
    assert client.post(f"/opportunities/{again}/archive", data={"csrf": csrf}).status_code == 303
    data = client.get("/opportunities.json").json()
    assert again not in [o["slug"] for o in data["opportunities"]] and [o["slug"] for o in data["archived"]] == [again]
    twice = client.post(f"/opportunities/{again}/archive", data={"csrf": csrf})
    assert twice.status_code == 400 and f"{again} is archived" in twice.text
    assert client.post(f"/opportunities/{again}/restore", data={"csrf": csrf}).status_code == 303
    assert again in [o["slug"] for o in client.get("/opportunities.json").json()["opportunities"]]


def test_start_an_application_from_its_opportunity(server: Server, workspace: Workspace) -> None:
    slug = _opp(workspace, "UK AISI", "Research Scientist", areas="evals")
    client = server.client()
    csrf = _csrf(client)
    assert 'action="/opportunities/' + slug + '/apply"' in client.get(f"/opportunities/{slug}").text
    started = client.post(f"/opportunities/{slug}/apply", data={"stage": "applied", "stretch": "reach", "csrf": csrf})
    assert started.status_code == 303 and started.headers["location"] == f"/applications/{slug}"
    application = client.get(f"/opportunities/{slug}.json").json()["application"]
    assert (application["stage"], application["stretch"]) == ("applied", "reach")
    before = _records(workspace)
    twice = client.post(f"/opportunities/{slug}/apply", data={"csrf": csrf})
    assert twice.status_code == 400 and "there is an application" in twice.text and _records(workspace) == before


def test_a_kept_posting_is_sanitised_again_at_render(server: Server, workspace: Workspace) -> None:
    slug = _opp(workspace, "Apollo Research", "Evals Engineer")
    # Kept as if by an older upstack, or written into a record by hand: nothing checked it on the way in.
    opportunities.keep_posting(workspace, slug, text="We hire.", html=HOSTILE, url="https://apollo.example/jobs/1")
    client = server.client()
    page = client.get(f"/opportunities/{slug}").text
    shown = client.get(f"/opportunities/{slug}.json").json()["posting"]["html"]
    posting = page[page.index('id="posting"'):page.index("</div>", page.index('id="posting"'))]
    assert shown in posting and "We hire." in posting
    for text in (posting, shown):
        for dangerous in ("<script", "onerror", "onmouseover", "javascript:", "<img", "pwned"):
            assert dangerous not in text.lower(), (dangerous, text)
    assert '<a href="https://apollo.example/careers/apply" rel="noopener noreferrer">apply</a>' in shown


def test_matched_work_and_open_problems_show_on_a_contacts_and_an_opportunitys_page(server: Server,
                                                                                    workspace: Workspace) -> None:
    from upstack.services import capture, ideas

    capture.note(workspace, "Sparse autoencoder features split under width. #sae", kind="result")
    ideas.capture_idea(workspace, "Do sparse autoencoder features split the same way in every layer?")
    contacts.add(workspace, "Chris Example", interests="sparse autoencoder features", tags=["sae"])
    slug = _opp(workspace, "Goodfire", "Research Engineer", areas="sparse autoencoder features")
    client = server.client()
    for page in ("/contacts/chris-example", f"/opportunities/{slug}"):
        matched = client.get(f"{page}.json").json()["matched"]
        assert [m["title"] for m in matched["work"]][:1] == ["Sparse autoencoder features split under width."]
        assert [m["kind"] for m in matched["problems"]][:1] == ["idea"]
        shown = client.get(page).text
        assert "Sparse autoencoder features split under width." in shown and "Open problems to pick" in shown
    contacts.add(workspace, "Dana Nobody")  # no interests yet: said so, in one line
    said = client.get("/contacts/dana-nobody.json").json()["matched"]
    assert said["work"] == [] and "no research interests yet" in said["none"]


# -- contacts -----------------------------------------------------------------------------------------

def test_contacts_are_added_at_a_level_edited_and_their_exchanges_logged(server: Server,
                                                                         workspace: Workspace) -> None:
    client = server.client()
    csrf = _csrf(client)
    page = client.get("/contacts").text
    assert 'value="private" checked' in page and 'value="local-only"' in page
    added = client.post("/contacts", data={"name": "Chris Example", "interests": "SAE feature splitting",
                                           "links": "https://chris.example\nhttps://github.com/chris", "tags": "sae",
                                           "level": "local-only", "csrf": csrf})
    assert added.status_code == 303 and added.headers["location"] == "/contacts/chris-example"
    kept = client.get("/contacts/chris-example.json").json()["contact"]
    assert (kept["local_only"], kept["links"], kept["tags"]) == (True, ["https://chris.example",
                                                                       "https://github.com/chris"], ["sae"])
    assert all(r.data.get("local_only") is True for r in _records(workspace))
    assert "local-only" in client.get("/contacts").text
    client.post("/contacts", data={"name": "Dana Lab", "kind": "organisation", "csrf": csrf})
    assert client.get("/contacts/dana-lab.json").json()["contact"]["local_only"] is False
    edited = client.post("/contacts/chris-example/edit", data={"interests": "SAE feature absorption",
                                                                "follow_up": _day(3), "csrf": csrf})
    assert edited.status_code == 303
    logged = client.post("/contacts/chris-example/exchanges", data={
        "kind": "sent", "title": "Your absorption post", "text": "I reproduced figure 2.", "follow_up": _day(14),
        "csrf": csrf})
    assert logged.status_code == 303 and logged.headers["location"] == "/contacts/chris-example#history"
    contact = client.get("/contacts/chris-example.json").json()["contact"]
    assert contact["interests"] == "SAE feature absorption" and contact["follow_up"] == _day(14)
    assert [(x["kind"], x["title"]) for x in contact["history"]] == [("sent", "Your absorption post")]
    assert "I reproduced figure 2." in client.get("/contacts/chris-example").text
    before = _records(workspace)
    for path, fields, said in (
            ("/contacts", {"name": "Chris Example"}, "there is a contact"),
            ("/contacts", {"name": "Eve", "links": "not a link"}, "not a web address"),
            ("/contacts", {"name": "Eve", "level": "secret"}, "private or local-only"),
            ("/contacts", {"name": "Eve", "kind": "robot"}, "a person or an organisation"),
            ("/contacts/chris-example/edit", {"interests": "SAE feature absorption"}, "nothing to change"),
            ("/contacts/chris-example/exchanges", {"kind": "tweet"}, "an exchange is one of"),
            ("/contacts/chris-example/exchanges", {"kind": "sent", "when": "2999-01-01"}, "has not happened yet"),
            ("/contacts/nobody-at-all/exchanges", {"kind": "sent"}, "no contact")):
        refused = client.post(path, data={**fields, "csrf": csrf}, headers={"Accept": "application/json"})
        assert refused.status_code in (400, 404) and said in refused.json()["error"], (path, fields, refused.text)
    assert client.post("/contacts", data={"name": "Forged"}).status_code == 403
    assert _records(workspace) == before


# -- what is due ----------------------------------------------------------------------------------------

def test_the_due_list_marks_what_is_overdue_and_links_each_item(server: Server, workspace: Workspace) -> None:
    slugs = _pipeline(workspace)
    contacts.add(workspace, "Chris Example")
    contacts.set_follow_up(workspace, "chris-example", _day(1))
    client = server.client()
    items = client.get("/due.json").json()["items"]
    assert [(i["kind"], i["ref"], i["overdue"]) for i in items] == [
        ("deadline", slugs["ltff"], True), ("follow-up", "chris-example", False)]
    assert [i["href"] for i in items] == [f"/opportunities/{slugs['ltff']}", "/contacts/chris-example"]
    later = client.get("/due.json", params={"days": 40}).json()["items"]
    assert ("deadline", slugs["redwood"]) not in [(i["kind"], i["ref"]) for i in later]  # applied to already
    markup = client.get("/due").text
    assert f'<a href="/opportunities/{slugs["ltff"]}">Grant at LTFF</a>' in markup and "overdue" in markup
    for days in ("-1", "99999"):
        refused = client.get("/due.json", params={"days": days})
        assert refused.status_code == 400 and "days must be from 0" in refused.json()["error"]


def test_the_injection_corpus_is_inert_on_every_page(server: Server, workspace: Workspace) -> None:
    """Every payload of the corpus in every field a person or a feed fills: each page stays inert."""
    from hostile import PAYLOADS, inert_problems

    pages = ["/opportunities", "/pipeline", "/pipeline/funnel", "/contacts", "/due?days=100"]
    for n, payload in enumerate(PAYLOADS):
        slug = _opp(workspace, f"Org {n} {payload}"[:200], payload[:200], notes=payload, source=payload[:200],
                    location=payload[:200], found=payload[:500], areas=payload, deadline=_day(n))
        opportunities.keep_posting(workspace, slug, text=payload, html=payload)
        applications.add(workspace, slug, stage="applied", notes=payload, compensation=payload[:200])
        applications.move(workspace, slug, "screen", note=payload, on=_day(n))
        applications.follow_up(workspace, slug, _day(n))
        person = contacts.add(workspace, f"Person {n} {payload}"[:200], interests=payload, notes=payload,
                              how_known=payload, tags=payload)
        contacts.log_exchange(workspace, person.slug, "sent", payload, title=payload, follow_up=_day(n))
        pages += [f"/opportunities/{slug}", f"/applications/{slug}", f"/contacts/{person.slug}"]
    client = server.client()
    problems = [f"{page}: {problem}" for page in pages for problem in inert_problems(client.get(page).text)]
    assert not problems, "\n".join(problems[:20])
