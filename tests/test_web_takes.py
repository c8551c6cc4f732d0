"""Takes on the web (issue 19), over real HTTP on both engines: /takes shows what `upstack takes` shows
(how views moved, which rest on one source only, the revisit queue with the due ones first), each take
linked to its entry page; that page has the take's history and, for its maker, the forms that update it
and say it was revisited; the new-take form on /takes; bad input refused in one line with nothing
written; a team server's privacy (a take is private by default). One test drives the forms in Chromium.

Who may see or change what across every route and person is tests/test_web_authz.py's matrix (the team
there has a private take and a shared one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from attack_common import Team, team  # noqa: F401 - registers the fixture `team`
from browser import (  # noqa: F401 - the fixtures register under their short names
    PageProblems,
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from conftest import CLI
from upstack.domain import access
from upstack.services import capture, takes, tree
from upstack.timeutil import simulated_clock
from upstack.workspace import Workspace
from webserver import Server, serve


@pytest.fixture
def served(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="error" role="alert"[^>]*>(.*?)</p>', html, flags=re.S)


def _days_ago(days: int) -> simulated_clock:  # type: ignore[valid-type]
    return simulated_clock(datetime.now(UTC) - timedelta(days=days))


def _story(ws: Workspace) -> dict[str, takes.Take]:
    """Three takes: one moved by a second source, one resting on one source whose revisit has come,
    one with a revisit still to come."""
    moved = takes.make(ws, "SAEs find the model's real features", "60%", source="Ada", where="reading group",
                       cruxes=["do features split with size?"], would_change="features stable across seeds")
    moved = takes.update(ws, moved.id, "35%", reason="the features split with dictionary size",
                         source="Bob's follow-up", where="a blog post")
    with _days_ago(10):
        lonely = takes.make(ws, "Evals are saturated", "70%", source="Carol", revisit="in 3 days")
    later = takes.make(ws, "Probes read out truth", "0.55", source="Dan", revisit="in 2 months")
    return {"moved": moved, "lonely": lonely, "later": later}


# -- /takes ----------------------------------------------------------------------------------------

def test_the_takes_page_shows_what_upstack_takes_shows(served: Server, workspace: Workspace, run: CLI) -> None:
    story = _story(workspace)
    client = served.client()
    data = client.get("/takes.json").json()
    said = json.loads(run.ok("takes", "--json"))
    assert [t["id"] for t in data["takes"]] == [t["id"] for t in said["takes"]] == [
        story[k].id for k in ("lonely", "moved", "later")]  # oldest first
    for key in ("moved", "one_source"):
        assert data[key] == said[key]
    assert data["moved"] == [story["moved"].entry.short]
    assert data["one_source"] == [story["lonely"].entry.short, story["later"].entry.short]
    # The revisit queue: the one that has come first.
    assert [(r["short"], r["due"]) for r in data["revisit"]] == [
        (story["lonely"].entry.short, True), (story["later"].entry.short, False)]
    assert [{k: r[k] for k in ("short", "claim", "revisit_by", "due")} for r in data["revisit"]] == said["revisit"]
    first = data["takes"][1]
    assert (first["moved"], first["href"], first["mine"]) == ("60% → 35%", f"/e/{story['moved'].entry.short}", True)

    html = client.get("/takes").text
    rows = {short: row for short, row in re.findall(r'<li class="take"[^>]*data-short="(\w+)">(.*?)</li>', html, re.S)}
    assert "60% → 35%" in rows[story["moved"].entry.short]
    assert "Ada" in rows[story["moved"].entry.short] and "Bob&#39;s follow-up" in rows[story["moved"].entry.short]
    assert "do features split with size?" in rows[story["moved"].entry.short]
    assert "features stable across seeds" in rows[story["moved"].entry.short]
    assert "one source only" not in rows[story["moved"].entry.short]
    assert "one source only" in rows[story["lonely"].entry.short] and "due" in rows[story["lonely"].entry.short]
    assert f'href="/e/{story["later"].entry.short}"' in rows[story["later"].entry.short]
    queue = html[html.index('id="revisit"'):]
    assert queue.index("Evals are saturated") < queue.index("Probes read out truth")
    assert "1 of 3 moved since first heard; 2 rest on one source only" in html
    assert re.search(r'aria-label="Predictions">.*?href="/takes" aria-current="page"', html, re.S)


def test_an_empty_takes_page_says_how_to_note_one(served: Server) -> None:
    client = served.client()
    assert client.get("/takes.json").json() == {"takes": [], "moved": [], "one_source": [], "revisit": []}
    html = client.get("/takes").text
    assert "No takes yet" in html and 'action="/takes"' in html


# -- the forms -------------------------------------------------------------------------------------

def test_the_new_take_form_makes_a_private_take_and_bad_input_writes_nothing(served: Server,
                                                                            workspace: Workspace) -> None:
    project = tree.add_node(workspace, "project", "Probing", why="Find the IOI circuit.")
    client = served.client()
    csrf = _csrf(client)
    good = {"claim": "SAEs find the real features", "source": "Ada", "confidence": "60%", "csrf": csrf}
    for typed, said in (({**good, "confidence": "150%"}, "1% to 99%"),
                        ({**good, "claim": "  "}, "the take&#39;s claim is empty"),
                        ({**good, "source": ""}, "who said it is empty"),
                        ({**good, "revisit": "yesterday"}, "revisit day"),
                        ({**good, "on": "nosuchnode"}, "nosuchnode")):
        answer = client.post("/takes", data=typed)
        assert answer.status_code in (400, 404), typed
        if answer.status_code == 400:
            errors = _errors(answer.text)
            assert len(errors) == 1 and said in errors[0] and "\n" not in errors[0], (typed, errors)
            assert 'id="new-take" open' in answer.text
            assert f'value="{typed["claim"].strip()}"' in answer.text or not typed["claim"].strip()
    assert takes.listing(workspace) == []
    as_json = client.post("/takes", data={**good, "confidence": "2"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and "1% to 99%" in as_json.json()["error"]
    assert takes.listing(workspace) == []

    made = client.post("/takes", data={**good, "where": "reading group", "reason": "the demos were striking",
                                       "crux": "do features split?", "would_change": "a split at every size",
                                       "on": project.short, "revisit": "in 3 months"})
    assert made.status_code == 303
    [found] = takes.listing(workspace)
    assert made.headers["location"] == f"/e/{found.entry.short}#take"
    assert (found.now, found.entry.private, found.entry.node_id) == (0.6, True, project.id)  # private by default
    assert (found.sources[0]["where"], found.cruxes, found.would_change) == (
        "reading group", ["do features split?"], "a split at every size")
    assert found.confidences[0]["reason"] == "the demos were striking" and found.revisit_by
    shared = client.post("/takes", data={**good, "claim": "Another", "shared": "true"})
    assert shared.status_code == 303 and not takes.listing(workspace)[-1].entry.private


def test_update_and_revisited_on_the_take_page_keep_every_view(served: Server, workspace: Workspace) -> None:
    with _days_ago(10):
        made = takes.make(workspace, "Evals are saturated", "70%", source="Carol", revisit="in 3 days")
    client = served.client()
    csrf = _csrf(client)
    base = f"/e/{made.entry.short}"
    page = client.get(base).text
    assert 'id="take-update-form"' in page and 'id="take-revisited-form"' in page
    assert "rests on one source only" in page

    for typed, said in (({"confidence": "35%"}, "say why"), ({"confidence": "0%", "reason": "x"}, "1% to 99%"),
                        ({"reason": "nothing"}, "nothing to update"),
                        ({"reason": "x", "where": "a talk"}, "give --source too")):
        bad = client.post(f"{base}/take", data={**typed, "csrf": csrf})
        assert bad.status_code == 400, typed
        errors = _errors(bad.text)
        assert len(errors) == 1 and said in errors[0] and 'id="take-update-error"' in bad.text, (typed, errors)
        if typed.get("reason"):
            assert f'value="{typed["reason"]}"' in bad.text
    assert len(takes.get(workspace, made.id).events) == len(made.events)
    as_json = client.post(f"{base}/take", data={"confidence": "1.5", "reason": "x", "csrf": csrf},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and "error" in as_json.json()

    moved = client.post(f"{base}/take", data={"confidence": "40%", "reason": "a new benchmark is hard",
                                              "source": "Eve", "where": "a paper", "crux": "what is hard?",
                                              "csrf": csrf})
    assert moved.status_code == 303 and moved.headers["location"] == f"{base}#take"
    found = takes.get(workspace, made.id)
    assert [c["confidence"] for c in found.confidences] == [0.7, 0.4]
    assert (found.one_source, found.cruxes, found.revisit_by) == (False, ["what is hard?"], None)  # the revisit: done

    nothing_due = client.post(f"{base}/revisited", data={"csrf": csrf})
    assert nothing_due.status_code == 400 and "no revisit day to clear" in _errors(nothing_due.text)[0]
    assert 'id="take-revisited-error"' in nothing_due.text
    again = client.post(f"{base}/revisited", data={"next": "in 6 months", "reason": "still holds", "csrf": csrf})
    assert again.status_code == 303 and takes.get(workspace, made.id).revisit_by

    page = client.get(base).text
    assert re.search(r'id="take-moved">70% → 40%<', page)
    history = page[page.index('id="take-history"'):page.index("</table>", page.index('id="take-history"'))]
    for seen in ("70%", "40%", "a new benchmark is hard", "source: Eve (a paper)", "crux: what is hard?",
                 "still holds"):
        assert seen in history, seen
    data = client.get(f"{base}.json").json()["take"]
    assert (data["moved"], data["now"], data["mine"]) == ("70% → 40%", 0.4, True)
    plain = capture.note(workspace, "A plain note")
    assert 'id="take-update-form"' not in client.get(f"/e/{plain.short}").text
    refused = client.post(f"/e/{plain.short}/take", data={"confidence": "40%", "reason": "x", "csrf": csrf})
    assert refused.status_code == 400 and "is not a take" in refused.text
    assert client.post(f"/e/{plain.short}/revisited", data={"csrf": csrf}).status_code == 400


# -- a team server ---------------------------------------------------------------------------------

def test_on_a_team_server_a_take_is_its_makers_unless_shared(team: Team) -> None:  # noqa: F811 - the fixture
    with access.acting_as(team.as_user(team.ada)):
        secret = takes.make(team.ws, "Ada's private hunch", "60%", source="a podcast", revisit="in 2 weeks")
        shared = takes.make(team.ws, "Ada's shared take", "55%", source="a talk", on=[team.project], shared=True)
        team.ws.ingest()
    ada, bob, eve, mal = (team.api(u) for u in (team.ada, team.bob, team.eve, team.mal))

    def listed(client: httpx.Client) -> dict[str, object]:
        answer = client.get("/takes.json")
        assert answer.status_code == 200
        return dict(answer.json())

    assert [t["id"] for t in listed(ada)["takes"]] == [secret.id, shared.id]
    assert [r["short"] for r in listed(ada)["revisit"]] == [secret.entry.short]
    for other in (bob, eve):  # readers of the project: the shared one, never the private one, not even as a count
        seen = listed(other)
        assert [t["id"] for t in seen["takes"]] == [shared.id] and seen["revisit"] == []
        assert seen["one_source"] == [shared.entry.short] and "private hunch" not in json.dumps(seen)
        html = other.get("/takes", headers={"Accept": "text/html"}).text
        assert "private hunch" not in html and '<span class="count">1</span>' in html
        assert other.get(f"/e/{secret.entry.short}.json").status_code == 404
        page = other.get(f"/e/{shared.entry.short}", headers={"Accept": "text/html"}).text
        assert "Ada&#39;s shared take" in page and 'id="take-update-form"' not in page
        assert other.post(f"/e/{shared.entry.short}/take", data={"confidence": "10%", "reason": "x"}
                          ).status_code == 403
        assert other.post(f"/e/{shared.entry.short}/revisited", data={"next": "in 1 week"}).status_code == 403
        assert other.post(f"/e/{secret.entry.short}/take", data={"confidence": "10%", "reason": "x"}
                          ).status_code == 404
    assert listed(mal)["takes"] == []
    assert mal.get(f"/e/{shared.entry.short}.json").status_code == 404
    made = eve.post("/takes", data={"claim": "Eve's own", "source": "Ada", "confidence": "50%"})
    assert made.status_code == 200 and made.json()["private"] is True
    assert [t["claim"] for t in listed(ada)["takes"]] == ["Ada's private hunch", "Ada's shared take"]
    visitor = httpx.Client(base_url=team.server.url, timeout=60)
    try:
        assert visitor.get("/takes.json").status_code == 401
        assert visitor.get("/takes").status_code == 303
        assert visitor.post("/takes", data={"claim": "x", "source": "y", "confidence": "50%"}).status_code == 401
    finally:
        visitor.close()
    with access.acting_as(access.OWNER):
        assert len(takes.get(team.ws, shared.id).confidences) == 1


# -- in a browser ----------------------------------------------------------------------------------

def test_in_chromium_note_a_take_update_it_and_see_how_it_moved(
        page: Page, page_problems: PageProblems, server: Server, sqlite_workspace: Workspace) -> None:
    page_problems.expect("status of 400")  # the refused 150%, on purpose
    sign_in(page, server, "/predictions")
    page.get_by_role("navigation", name="Predictions").get_by_role("link", name="Takes").click()
    expect(page.get_by_role("heading", name=re.compile("^Takes"))).to_be_visible()
    page.get_by_text("Note a take").click()
    form = page.locator("#take-form")
    form.get_by_label("Claim").fill("SAEs find the model's real features")
    form.get_by_label("Who said it").fill("Ada")
    form.get_by_label("Where").fill("reading group")
    form.get_by_label("Confidence").fill("150%")
    form.get_by_role("button", name="Note it").click()
    expect(page.locator("#take-error")).to_contain_text("1% to 99%")
    expect(form.get_by_label("Claim")).to_have_value("SAEs find the model's real features")
    form.get_by_label("Confidence").fill("60%")
    form.get_by_role("button", name="Note it").click()
    expect(page.locator("#take-moved")).to_have_text("60%")

    update = page.locator("#take-update-form")
    update.get_by_label("New confidence").fill("35%")
    update.get_by_label("Why").fill("the features split with dictionary size")
    update.get_by_label("Another source").fill("Bob")
    update.get_by_role("button", name="Update").click()
    expect(page.locator("#take-moved")).to_have_text("60% → 35%")
    expect(page.locator("#take-history tbody tr.event-confidence")).to_have_count(2)

    page.get_by_role("link", name="all takes").click()
    row = page.locator("#takes-list li.take")
    expect(row).to_have_count(1)
    expect(row.locator(".moved")).to_have_text("60% → 35%")
    expect(row).not_to_contain_text("one source only")
