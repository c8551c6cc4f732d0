"""Predictions and calibration on the web (issue 19), over real HTTP on both engines: /calibration (the
reader's own, with the reliability diagram drawn as SVG), /predictions filtered by state, the forms that
make a prediction on a node or an entry, update it and resolve it, bad input refused in one line with
nothing written, and a team server's permissions. One test drives the forms in Chromium.

Who may see or change what across every route and person is tests/test_web_authz.py's matrix (the team
there has predictions); the scoring rules are tests/test_calibration_rule.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
from upstack.domain import access
from upstack.services import accounts, capture, predictions, tree
from upstack.timeutil import simulated_clock
from upstack.workspace import Workspace
from webserver import Server, serve


@pytest.fixture
def served(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


@pytest.fixture
def question(workspace: Workspace) -> tree.Node:
    project = tree.add_node(workspace, "project", "Probing", why="Find the IOI circuit.")
    return tree.add_node(workspace, "question", "Does a linear probe find the IO name?", why="Needed for patching.",
                         under=project.id)


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="error" role="alert"[^>]*>(.*?)</p>', html, flags=re.S)


def _resolved(ws: Workspace, claim: str, probability: str, outcome: str, on: str) -> predictions.Prediction:
    """A prediction made now and resolved after it (by hand: its evidence is the resolution's time)."""
    made = predictions.make(ws, claim, probability, on=on)
    return predictions.resolve(ws, made.id, outcome)


# -- /calibration --------------------------------------------------------------------------------

def test_calibration_with_nothing_scored_says_what_to_do(served: Server, workspace: Workspace,
                                                         question: tree.Node) -> None:
    predictions.make(workspace, "The probe beats chance", "70%", on=question.id)
    client = served.client()
    data = client.get("/calibration.json").json()
    assert (data["n"], data["open"], data["brier"]) == (0, 1, None)
    page = client.get("/calibration")
    assert page.status_code == 200
    assert "Nothing scored yet (1 open" in page.text and "upstack predict add" in page.text
    assert 'id="reliability"' not in page.text  # no diagram of nothing
    assert "The rule: scored by the last forecast made before its evidence existed" in page.text


def test_calibration_shows_scores_the_diagram_by_bin_months_and_the_confident_misses(
        served: Server, workspace: Workspace, question: tree.Node) -> None:
    miss = _resolved(workspace, "Layer 9 heads move the name", "80%", "false", question.id)
    _resolved(workspace, "The probe beats chance", "70%", "true", question.id)
    _resolved(workspace, "A rare long shot", "10%", "false", question.id)
    annulled = predictions.make(workspace, "The ablation is clean", "60%", on=question.id)
    predictions.resolve(workspace, annulled.id, "annulled")
    predictions.make(workspace, "Still to see", "50%", on=question.id)
    client = served.client()
    data = client.get("/calibration.json").json()
    expected = predictions.calibration(workspace)
    assert (data["n"], data["annulled"], data["open"]) == (3, 1, 1)
    assert data["brier"] == pytest.approx(expected.summary.brier)
    assert data["brier"] == pytest.approx(((0.8 - 0) ** 2 + (0.7 - 1) ** 2 + (0.1 - 0) ** 2) / 3)
    assert [(b["low"], b["n"]) for b in data["bins"] if b["n"]] == [(0.1, 1), (0.7, 1), (0.8, 1)]
    assert [s["short"] for s in data["surprises"]] == [miss.entry.short]
    assert data["surprises"][0]["href"] == f"/e/{miss.entry.short}"

    html = client.get("/calibration").text
    svg = html[html.index('<svg class="reliability"'):html.index("</svg>", html.index('<svg class="reliability"'))]
    assert 'class="diagonal"' in svg
    points = re.findall(r'<g class="point" data-n="(\d+)" data-low="([\d.]+)"', svg)
    assert points == [("1", "0.1"), ("1", "0.7"), ("1", "0.8")]
    assert svg.count("n=1") == 3  # each point says how many it holds
    # The point for the 80% bin that came false sits at x = 80% across, y = 0% up (the bottom).
    assert re.search(r'<circle cx="248\.8" cy="268\.0"', svg)
    assert 'id="reliability-table"' in html and "70%–80%" in html
    months = re.findall(r'<tr><th scope="row">(\d{4}-\d\d)</th><td>(\d+)</td>', html)
    assert [n for _, n in months] == ["3"]
    misses = html[html.index('id="surprises"'):]
    assert f'href="/e/{miss.entry.short}"' in misses and f"upstack learned {miss.entry.short}" in misses
    assert "1 annulled" in html and "0 made after their evidence" in html


# -- /predictions ------------------------------------------------------------------------------------

def test_the_list_filters_by_state_and_links_each_prediction(served: Server, workspace: Workspace,
                                                            question: tree.Node) -> None:
    with simulated_clock(datetime.now(UTC) - timedelta(days=30)):  # a resolve-by day is today or later, as made
        late = predictions.make(workspace, "Late one", "60%", on=question.id, resolve_by="in 2 days")
    fresh = predictions.make(workspace, "Fresh one", "55%", on=question.id, resolve_by="2999-01-01")
    done = _resolved(workspace, "Done one", "30%", "false", question.id)
    client = served.client()

    def shorts(state: str = "") -> list[str]:
        return [p["short"] for p in client.get("/predictions.json", params={"state": state}).json()["predictions"]]

    assert shorts() == [done.entry.short, fresh.entry.short, late.entry.short]  # newest first
    assert shorts("open") == [fresh.entry.short, late.entry.short]
    assert shorts("overdue") == [late.entry.short]
    assert shorts("resolved") == [done.entry.short]
    html = client.get("/predictions", params={"state": "overdue"}).text
    assert f'href="/e/{late.entry.short}"' in html and "Fresh one" not in html
    assert re.search(r'<span class="state warn">overdue</span>', html)
    refused = client.get("/predictions", params={"state": "someday"})
    assert refused.status_code == 400 and _errors(refused.text) == [
        "unknown state &#39;someday&#39;: choose one of open, overdue, resolved"]


def test_an_empty_list_says_how_to_make_one(served: Server) -> None:
    html = served.client().get("/predictions").text
    assert "No predictions yet" in html and "upstack predict add" in html


# -- the forms -------------------------------------------------------------------------------------

def test_the_node_form_makes_a_prediction_and_bad_input_writes_nothing(served: Server, workspace: Workspace,
                                                                      question: tree.Node) -> None:
    client = served.client()
    csrf = _csrf(client)
    node_page = client.get(f"/tree/{question.short}").text
    assert f'action="/tree/{question.short}/predict"' in node_page
    project_page = client.get(f"/tree/{question.parent_id}")
    assert "/predict\"" not in project_page.text  # a project is not something one predicts the result of
    for typed, said in ((
            {"claim": "The probe beats chance", "probability": "150%"}, "a probability is from 1% to 99%"),
            ({"claim": "   ", "probability": "70%"}, "the prediction&#39;s claim is empty"),
            ({"claim": "The probe beats chance", "probability": "70%", "resolve_by": "whenever"}, "whenever")):
        answer = client.post(f"/tree/{question.short}/predict", data={**typed, "csrf": csrf})
        assert answer.status_code == 400, typed
        errors = _errors(answer.text)
        assert len(errors) == 1 and said in errors[0] and "\n" not in errors[0], (typed, errors)
        assert f'value="{typed["claim"].strip()}"' in answer.text or not typed["claim"].strip()  # kept, to fix
        assert 'id="predict" open' in answer.text
    assert predictions.listing(workspace) == []
    as_json = client.post(f"/tree/{question.short}/predict", data={"claim": "x", "probability": "2", "csrf": csrf},
                          headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and "probability" in as_json.json()["error"]

    made = client.post(f"/tree/{question.short}/predict", data={
        "claim": "The probe beats chance on held-out prompts", "probability": "70%", "resolve_by": "2999-01-01",
        "criteria": "Held-out accuracy above 60%", "reason": "The pilot looked good", "private": "true",
        "csrf": csrf})
    assert made.status_code == 303
    [found] = predictions.listing(workspace)
    assert made.headers["location"] == f"/e/{found.entry.short}#prediction"
    assert (found.probability, found.row["resolve_by"], found.entry.private) == (0.7, "2999-01-01", True)
    assert (found.row["target_kind"], found.row["target_id"], found.entry.node_id) == ("node", question.id,
                                                                                       question.id)
    assert "Held-out accuracy above 60%" in found.entry.body and found.forecasts[0].reason == "The pilot looked good"
    as_decimal = client.post(f"/tree/{question.short}/predict", data={"claim": "Another", "probability": "0.7",
                                                                      "csrf": csrf})
    assert as_decimal.status_code == 303 and predictions.listing(workspace)[-1].probability == 0.7
    assert f'href="/e/{found.entry.short}"' in client.get(f"/tree/{question.short}").text  # listed on the node


def test_update_and_resolve_on_the_prediction_page_keep_every_forecast_and_resolution(
        served: Server, workspace: Workspace, question: tree.Node) -> None:
    made = predictions.make(workspace, "The probe beats chance", "70%", on=question.id)
    client = served.client()
    csrf = _csrf(client)
    page = client.get(f"/e/{made.entry.short}").text
    assert 'id="update-form"' in page and 'id="resolve-form"' in page
    base = f"/e/{made.entry.short}"
    bad = client.post(f"{base}/forecast", data={"probability": "0%", "reason": "sure now", "csrf": csrf})
    assert bad.status_code == 400 and len(_errors(bad.text)) == 1 and 'id="update-error"' in bad.text
    assert len(predictions.get(workspace, made.id).forecasts) == 1
    assert client.post(f"{base}/forecast", data={"probability": "40%", "reason": "the pilot was noisy",
                                                 "csrf": csrf}).status_code == 303
    result = capture.note(workspace, "Probe at chance. #ioi", kind="result", under=question.id)
    wrong = client.post(f"{base}/resolve", data={"outcome": "maybe", "csrf": csrf})
    assert wrong.status_code == 400 and 'id="resolve-error"' in wrong.text
    assert client.post(f"{base}/resolve", data={"outcome": "false", "evidence": result.short,
                                                "csrf": csrf}).status_code == 303
    again = client.post(f"{base}/resolve", data={"outcome": "true", "csrf": csrf})  # a correction needs its reason
    assert again.status_code == 400 and "give its reason" in _errors(again.text)[0]
    assert client.post(f"{base}/resolve", data={"outcome": "true", "reason": "misread the table",
                                                "csrf": csrf}).status_code == 303
    found = predictions.get(workspace, made.id)
    assert [f.probability for f in found.forecasts] == [0.7, 0.4]
    assert [(r["outcome"], r["evidence_id"]) for r in found.resolutions] == [("false", result.id), ("true", None)]
    page = client.get(base).text
    assert 'id="update-form"' not in page  # resolved: a forecast now would know the answer
    history = page[page.index('id="forecasts"'):page.index("</table>", page.index('id="forecasts"'))]
    assert "70%" in history and "40%" in history and "the pilot was noisy" in history
    assert re.search(r'class="corrected">.*?resolved <strong>false</strong>.*?href="/e/' + result.id, page, re.S)
    assert re.search(r'class="stands">.*?resolved <strong>true</strong>.*?misread the table', page, re.S)
    data = client.get(f"{base}.json").json()["prediction"]
    assert (data["state"], data["probability"], len(data["resolutions"])) == ("true", 0.4, 2)


def test_a_node_page_lists_the_predictions_its_runs_made(served: Server, workspace: Workspace,
                                                         question: tree.Node) -> None:
    """A run's `predict=` is about the run, filed under its node: the node's page lists it (it said "None
    yet" before, beside the run's result)."""
    import upstack

    with upstack.run("probe", under=question.id, home=workspace.home, db=workspace.db_url, capture="none",
                     predict={"metric": "acc", "above": 0.9, "probability": 0.6}) as running:
        running.log({"acc": 0.95})
    workspace.ingest()  # the run's folder into the store, as any command does first
    [made] = predictions.listing(workspace)
    assert made.row["target_kind"] == "run"
    page = served.client().get(f"/tree/{question.short}").text
    assert f'href="/e/{made.entry.short}"' in page and "None yet" not in page


def test_ideas_and_results_have_the_form_plain_notes_and_deleted_entries_do_not(
        served: Server, workspace: Workspace, question: tree.Node) -> None:
    from upstack.services import curate, ideas

    idea = ideas.capture_idea(workspace, "Patch the name movers one at a time")
    result = capture.note(workspace, "Probe at chance.", kind="result", under=question.id)
    note = capture.note(workspace, "Read the IOI paper again.", under=question.id)
    client = served.client()
    csrf = _csrf(client)
    assert f'action="/e/{idea.short}/predict"' in client.get(f"/e/{idea.short}").text
    assert f'action="/e/{result.short}/predict"' in client.get(f"/e/{result.short}").text
    assert "/predict\"" not in client.get(f"/e/{note.short}").text
    made = client.post(f"/e/{idea.short}/predict", data={"claim": "Its cheapest test passes", "probability": "35%",
                                                         "csrf": csrf})
    assert made.status_code == 303
    [found] = predictions.listing(workspace)
    assert (found.row["target_kind"], found.row["target_id"]) == ("idea", idea.id)
    assert f'href="/e/{found.entry.short}"' in client.get(f"/e/{idea.short}").text
    on_itself = client.post(f"/e/{found.entry.short}/predict", data={"claim": "Meta", "probability": "50%",
                                                                     "csrf": csrf})
    assert on_itself.status_code == 400 and "is a prediction" in _errors(on_itself.text)[0]
    curate.remove(workspace, result.id)
    gone = client.post(f"/e/{result.short}/predict", data={"claim": "X", "probability": "50%", "csrf": csrf})
    assert gone.status_code in (400, 404)
    assert len(predictions.listing(workspace)) == 1


# -- a team server ---------------------------------------------------------------------------------

def test_on_a_team_server_calibration_is_each_persons_own_and_only_the_maker_changes_one(
        team: Team) -> None:  # noqa: F811 - the fixture
    with access.acting_as(team.as_user(team.ada)):
        adas = _resolved(team.ws, "Ada expects the probe to work", "80%", "false", team.project)
        team.ws.ingest()
    with access.acting_as(team.as_user(team.eve)):
        eves = _resolved(team.ws, "Eve expects it to fail", "70%", "true", team.project)
        secret = predictions.make(team.ws, "Eve's private hunch", "60%", on=team.project, private=True)
        team.ws.ingest()
    ada, bob, eve, mal = (team.api(u) for u in (team.ada, team.bob, team.eve, team.mal))

    def calibration(client: httpx.Client) -> dict[str, Any]:
        answer = client.get("/calibration.json")
        assert answer.status_code == 200
        return dict(answer.json())

    assert [s["short"] for s in calibration(ada)["surprises"]] == [adas.entry.short]
    assert (calibration(ada)["n"], calibration(eve)["n"], calibration(eve)["open"]) == (1, 1, 1)
    assert (calibration(bob)["n"], calibration(bob)["open"]) == (0, 0)  # a viewer sees theirs, not others'
    assert "Ada expects" not in bob.get("/calibration").text

    def listed(client: httpx.Client) -> set[str]:
        return {p["short"] for p in client.get("/predictions.json").json()["predictions"]}

    assert listed(bob) == {adas.entry.short, eves.entry.short}  # the project's, not Eve's private one
    assert listed(eve) == {adas.entry.short, eves.entry.short, secret.entry.short}
    assert listed(mal) == set()
    assert mal.get(f"/e/{adas.entry.short}.json").status_code == 404
    page = bob.get(f"/e/{adas.entry.short}", headers={"Accept": "text/html"}).text
    assert "Ada expects" in page and 'id="resolve-form"' not in page
    assert bob.post(f"/e/{adas.entry.short}/forecast", data={"probability": "50%"}).status_code == 403
    assert eve.post(f"/e/{adas.entry.short}/resolve", data={"outcome": "true", "reason": "x"}).status_code == 403
    assert bob.post(f"/tree/{team.project}/predict", data={"claim": "A viewer's", "probability": "50%"}
                    ).status_code == 403  # filing there needs an editor
    assert eve.post(f"/tree/{team.project}/predict", data={"claim": "An editor's", "probability": "50%"}
                    ).status_code == 200  # JSON: the prediction
    visitor = httpx.Client(base_url=team.server.url, timeout=60)
    try:
        assert visitor.get("/calibration.json").status_code == 401
        assert visitor.get("/predictions.json").status_code == 401
    finally:
        visitor.close()
    with access.acting_as(access.OWNER):
        assert [p.resolutions for p in predictions.listing(team.ws) if p.id == adas.id][0][-1]["outcome"] == "false"


# -- in a browser ----------------------------------------------------------------------------------

def test_in_chromium_predict_on_a_node_update_resolve_and_see_the_diagram(
        page: Page, page_problems: PageProblems, server: Server, sqlite_workspace: Workspace) -> None:
    page_problems.expect("status of 400")  # the refused 150%, on purpose
    project = tree.add_node(sqlite_workspace, "project", "Probing", why="Find the IOI circuit.")
    question = tree.add_node(sqlite_workspace, "experiment", "Probe layer 9", why="Where is the name?",
                             under=project.id)
    sign_in(page, server, f"/tree/{question.short}")
    page.get_by_text("Make a prediction").click()
    form = page.locator("form.predict-form")
    form.get_by_label("Claim").fill("The layer 9 probe beats chance")
    form.get_by_label("Probability").fill("150%")
    form.get_by_role("button", name="Predict").click()
    expect(page.locator("#predict-error")).to_contain_text("a probability is from 1% to 99%")
    expect(form.get_by_label("Claim")).to_have_value("The layer 9 probe beats chance")
    form.get_by_label("Probability").fill("80%")
    form.get_by_label("Resolve by").fill("in 2 weeks")
    form.get_by_role("button", name="Predict").click()
    expect(page.locator("#current-probability")).to_have_text("80%")
    expect(page.locator("#prediction-state")).to_have_text("open")

    update = page.locator("#update-form")
    update.get_by_label("New probability").fill("0.75")
    update.get_by_label("Why").fill("the pilot was noisy")
    update.get_by_role("button", name="Update").click()
    expect(page.locator("#current-probability")).to_have_text("75%")
    expect(page.locator("#forecasts tbody tr")).to_have_count(2)

    resolve = page.locator("#resolve-form")
    resolve.get_by_label("false").check()
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.locator("#prediction-state")).to_have_text("false")
    expect(page.locator("#resolutions li")).to_have_count(1)

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Predictions").click()
    page.get_by_role("navigation", name="Predictions").get_by_role("link", name="Calibration").click()
    diagram = page.get_by_role("img", name="Reliability diagram")
    expect(diagram).to_be_visible()
    expect(diagram.locator("g.point")).to_have_count(1)
    expect(diagram.locator("g.point text.n")).to_have_text("n=1")
    expect(page.locator("#scored")).to_have_text("1")
    expect(page.locator("#surprises")).to_contain_text("The layer 9 probe beats chance")  # said 75%, came false


def test_a_calibration_is_shown_to_a_mentor_only_when_its_person_shares_it_and_names_nothing_hidden(
        team: Team) -> None:  # noqa: F811 - the fixture
    from upstack.services import path_access

    with access.acting_as(access.OWNER):
        own = tree.add_node(team.ws, "project", "Eve's QUHIDDEN project", why="Not bob's.")
    accounts.share(team.ws, own.id, "eve", "editor", by=None)
    with access.acting_as(team.as_user(team.eve)):
        _resolved(team.ws, "Eve says the probe works", "90%", "false", team.project)
        _resolved(team.ws, "Eve's QUHIDDEN claim in her project", "95%", "false", own.id)
        secret = predictions.make(team.ws, "Eve's QUHIDDEN private hunch", "85%", on=team.project, private=True)
        predictions.resolve(team.ws, secret.id, "false")
        team.ws.ingest()
    bob, mal = team.api(team.bob), team.api(team.mal)
    assert bob.get("/people/eve/calibration.json").status_code == 404  # not shown: as if there were nothing
    with access.acting_as(team.as_user(team.eve)):
        path_access.show(team.ws, "bob", ("calibration",))
        theirs = predictions.calibration(team.ws).to_dict()
    shown = bob.get("/people/eve/calibration.json")
    assert shown.status_code == 200, shown.text
    data = shown.json()
    assert (data["n"], data["brier"]) == (theirs["n"], theirs["brier"]) == (3, theirs["brier"])
    assert [s["claim"] for s in data["surprises"]] == ["Eve says the probe works"]
    assert set(data["by_project"]) == {"Probing", predictions.OTHER_PROJECT}
    for page in (shown.text, bob.get("/people/eve/calibration").text):
        assert "QUHIDDEN" not in page
    assert mal.get("/people/eve/calibration.json").status_code == 404
    assert bob.get("/people/nobody/calibration.json").status_code == 404
