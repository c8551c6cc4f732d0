"""The search, tree, ideas and review pages over real HTTP, each with its JSON twin, on both engines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from upstack.domain.tree import Node
from upstack.ids import id_key
from upstack.services import capture, ideas, tree
from upstack.store import cache
from upstack.workspace import Workspace
from webserver import Server, serve


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def _at(day: int, hour: int = 10) -> str:
    return f"2020-01-{day:02d}T{hour:02d}:00:00.000000Z"  # long ago: never in a default review


def _seed(ws: Workspace) -> dict[str, Node]:
    """A small tree and a log about it: every entry at its own time, so order is the same everywhere."""
    agenda = tree.add_node(ws, "agenda", "Trustworthy interpretability", why="Audits need real mechanisms.")
    project = tree.add_node(ws, "project", "IOI circuit", why="A known answer to calibrate on.", under=agenda.id)
    question = tree.add_node(ws, "question", "Which heads carry IOI?", why="Defines reproduced.", under=project.id)
    sweep = tree.add_node(ws, "experiment", "Per-head patching sweep", under=question.id)  # no why: flagged
    side = tree.add_node(ws, "project", "SAE features", why="Second method on the same model.", under=agenda.id)
    notes: list[tuple[str, str, str | None, bool]] = [
        ("Path patching first attempt. Patching S2 to END. #patching #ioi", "note", sweep.id, False),
        ("Patching layer 9 restores the logit diff. #patching #result", "result", question.id, False),
        ("Activation patching setup with hooks. #setup #patching", "note", project.id, False),
        ("Patching and ablation answer different questions. #method", "learning", question.id, False),
        ("SAE dictionary trained on layer 8. #sae", "note", side.id, False),
        ("Feature splitting looks like patching noise. #sae #patching", "result", side.id, False),
        ("Unfiled thought about patching heads. #patching", "note", None, False),
        ("Tired today, patching felt slow. #checkin", "note", None, True),
        ("Stuck: patching numbers move when prompts shuffle. #bug #patching", "stuck", sweep.id, False),
    ]
    for day, (text, kind, under, private) in enumerate(notes, start=1):
        capture.note(ws, text, kind=kind, under=under, private=private, occurred_at=_at(day))
    return {"agenda": agenda, "project": project, "question": question, "sweep": sweep, "side": side}


# -- search ---------------------------------------------------------------------------------------

def test_search_highlights_escapes_and_marks_private_entries(server: Server, workspace: Workspace) -> None:
    _seed(workspace)
    capture.note(workspace, "A <script>alert(1)</script> patching trick & more", occurred_at=_at(20))
    client = server.client()
    data = client.get("/search.json", params={"q": "patching"}).json()
    assert data["total"] == 9 and data["offset"] == 0
    for result in data["results"]:
        assert result["highlights"] or result["title_highlights"], result["title"]
        for start, end in result["highlights"]:
            assert result["snippet"][start:end].lower() == "patching"
        for start, end in result["title_highlights"]:
            assert result["title"][start:end].lower() == "patching"
    private = [r for r in data["results"] if r["private"]]
    assert [r["title"] for r in private] == ["Tired today, patching felt slow."]
    html = client.get("/search", params={"q": "patching"}).text
    assert "<mark>patching</mark>" in html and "<mark>Patching</mark>" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<span class="private">private</span>' in html
    assert 'hx-get="/search/results"' in html and 'hx-target="#results"' in html
    nothing = client.get("/search.json", params={"q": "nothing-like-this"}).json()
    assert (nothing["total"], nothing["results"], nothing["facets"]["kind"]) == (0, [], [])
    assert "No entries match" in client.get("/search", params={"q": "nothing-like-this"}).text


def test_search_pages_with_offset(server: Server, workspace: Workspace) -> None:
    for day in range(1, 26):
        capture.note(workspace, f"Sweep {day:02d} of the heads.", occurred_at=_at(day))
    client = server.client()
    seen: list[str] = []
    address: str | None = "/search.json?q=sweep&limit=10"
    while address:
        page = client.get(address).json()
        assert page["total"] == 25
        seen += [r["title"] for r in page["results"]]
        address = page["links"]["next"] and page["links"]["next"].replace("/search", "/search.json", 1)
    assert seen == [f"Sweep {day:02d} of the heads." for day in range(25, 0, -1)]
    past = client.get("/search.json", params={"q": "sweep", "offset": 40}).json()
    assert past["results"] == [] and past["total"] == 25 and past["links"]["next"] is None
    html = client.get("/search", params={"q": "sweep", "limit": 10, "offset": 10}).text
    assert 'rel="next"' in html and 'rel="prev"' in html and "11–20 shown" in html
    assert client.get("/search.json", params={"q": "sweep", "offset": -1}).status_code == 422


def test_facets_count_every_match_and_agree_with_the_filtered_results(server: Server, workspace: Workspace) -> None:
    nodes = _seed(workspace)
    client = server.client()
    data = client.get("/search.json", params={"q": "patching", "limit": 2}).json()
    facets, total = data["facets"], data["total"]
    assert total == 8 and len(data["results"]) == 2  # counted over every page, not the one shown
    assert sum(f["count"] for f in facets["kind"]) == total
    assert sum(f["count"] for f in facets["project"]) == total
    assert [(f["label"], f["count"]) for f in facets["kind"]] == [("note", 4), ("result", 2), ("learning", 1),
                                                                  ("stuck", 1)]
    assert [(f["label"], f["count"]) for f in facets["project"]] == [("IOI circuit", 5), ("(no project)", 2),
                                                                     ("SAE features", 1)]
    assert {f["label"]: f["count"] for f in facets["tag"]}["patching"] == 6
    assert [f["href"] for f in facets["project"] if f["label"] == "(no project)"] == [None]
    for name in ("kind", "tag", "project"):
        for facet in facets[name]:
            if facet["href"] is None:
                continue
            narrowed = client.get(facet["href"].replace("/search", "/search.json", 1)).json()
            assert narrowed["total"] == facet["count"], (name, facet)
            (chosen,) = [f for f in narrowed["facets"][name] if f["value"] == facet["value"]]
            assert chosen["selected"] and chosen["count"] == facet["count"]
    by_key = client.get("/search.json", params={"q": "patching", "project": id_key(nodes["project"].id)})
    assert by_key.json()["total"] == 5
    both = client.get("/search.json", params=[("q", "patching"), ("kind", "note"), ("tag", "ioi")]).json()
    assert [r["title"] for r in both["results"]] == ["Path patching first attempt."]
    assert both["facets"]["kind"] == [{"value": "note", "label": "note", "count": 1, "selected": True,
                                       "href": "/search?q=patching&tag=ioi"}]


def test_facet_counts_are_the_same_on_sqlite_and_postgresql(tmp_path: Path, make_pg_url: Any) -> None:
    queries = ["patching", "patch*", '"patching setup"', "#patching", "#sae OR layer", "patching -#patching",
               "patching NOT heads", "", "(sae OR ioi) patching", "nothing-matches-this"]
    seen: dict[str, list[Any]] = {}
    for engine, db_url in (("sqlite", None), ("postgresql", make_pg_url())):
        with Workspace(home=tmp_path / engine, db=db_url) as ws:
            _seed(ws)
        with serve(tmp_path / engine, db_url) as running:
            client = running.client()
            answers = []
            for q in queries:
                for extra in ({}, {"kind": "note"}, {"tag": "patching"}):
                    page = client.get("/search.json", params={"q": q, **extra}).json()
                    # Node keys differ between the two workspaces; labels and counts must not.
                    facets = {name: [(f["label"], f["count"], f["selected"]) for f in values]
                              for name, values in page["facets"].items()}
                    assert sum(c for _, c, _ in facets["kind"]) == page["total"]
                    answers.append((q, extra, page["total"], [r["title"] for r in page["results"]], facets))
            seen[engine] = answers
    assert seen["sqlite"] == seen["postgresql"]
    assert any(total > 0 for _, _, total, _, _ in seen["sqlite"])


def test_the_as_you_type_fragment_is_only_the_results(server: Server, workspace: Workspace) -> None:
    _seed(workspace)
    client = server.client()
    fragment = client.get("/search/results", params={"q": "ablation"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.headers["HX-Replace-Url"] == "/search?q=ablation"
    text = fragment.text
    assert "<html" not in text and "<header" not in text and "<form" not in text
    assert '<ol class="results">' in text and "<mark>ablation</mark>" in text
    assert text.count('class="result ') == 1 and 'aria-label="Narrow the results"' in text
    plain = client.get("/search/results", params={"q": "ablation"})
    assert "HX-Replace-Url" not in plain.headers
    assert "/search/results" not in client.get("/openapi.json").json()["paths"]


# -- tree -----------------------------------------------------------------------------------------

def test_the_tree_page_nests_nodes_with_anchors_counts_and_check_warnings(server: Server,
                                                                         workspace: Workspace) -> None:
    nodes = _seed(workspace)
    tree.add_node(workspace, "question", "Is <b>bold</b> escaped?", why="Safety.", under=nodes["side"].id)
    client = server.client()
    data = client.get("/tree.json").json()
    (agenda,) = data["tree"]
    assert agenda["title"] == "Trustworthy interpretability" and agenda["entries"] == 7
    ioi = agenda["children"][0]
    assert (ioi["title"], ioi["entries"], ioi["learnings"]) == ("IOI circuit", 5, 1)
    assert ioi["last_activity"] == _at(9)
    assert ioi["children"][0]["children"][0]["title"] == "Per-head patching sweep"
    flags = {(f["check"], f["node"]) for f in data["check"]["flags"]}
    assert ("no-why", nodes["sweep"].short) in flags
    assert any(f["check"] == "orphan" and f["node"] is None for f in data["check"]["flags"])
    html = client.get("/tree").text
    for node in nodes.values():
        assert f'id="n-{node.short}"' in html and f'href="/tree/{node.short}"' in html
    assert html.count("<details open") == 6
    assert "A known answer to calibrate on." in html and "no why yet" in html
    assert f'href="#n-{nodes["sweep"].short}"' in html  # the warning links to its node
    assert "Is &lt;b&gt;bold&lt;/b&gt; escaped?" in html and "<b>bold</b>" not in html


@pytest.mark.usefixtures("quiet_postgres")  # a cache hit on PostgreSQL needs no commit elsewhere
def test_the_tree_page_counts_the_log_once_and_again_only_after_a_write(
        server: Server, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree and `upstack check` both count from one pass over every entry: once a page, once a write."""
    from upstack.store import tree as store_tree

    nodes = _seed(workspace)
    passes: list[int] = []
    counted = store_tree.activity
    monkeypatch.setattr(store_tree, "activity", lambda db: passes.append(1) or counted(db))
    client = server.client()
    first = client.get("/tree.json").json()
    assert len(passes) == 1 and first["tree"][0]["entries"] == 7
    # Nothing written since: the page is not counted again. quiet_postgres holds off this run's other
    # tests, not a thread or process one of them left behind (or autovacuum): when the store's
    # generation moved while the two pages were asked, they are asked again.
    db = workspace.store().db
    for _ in range(50):
        before = cache.generation(db)
        assert client.get("/tree.json").status_code == 200
        counted_before = len(passes)
        assert client.get("/tree").status_code == 200
        if cache.generation(db) == before:
            break
    else:
        pytest.fail("a commit landed while each of 50 pairs of pages was asked")
    assert len(passes) == counted_before  # the second came from the first's count
    capture.note(workspace, "Another sweep result.", under=nodes["sweep"].id, kind="learning")
    workspace.ingest()  # written by this process, not by the server
    after = client.get("/tree.json").json()
    assert len(passes) == counted_before + 1 and after["tree"][0]["entries"] == 8
    ioi = after["tree"][0]["children"][0]
    assert (ioi["entries"], ioi["learnings"]) == (6, 2)


def test_a_node_page_and_its_json_twin(server: Server, workspace: Workspace) -> None:
    nodes = _seed(workspace)
    tree.set_status(workspace, nodes["question"].id, "done", "Heads found.")
    client = server.client()
    data = client.get(f"/tree/{nodes['question'].short}.json").json()
    assert data["node"]["title"] == "Which heads carry IOI?" and data["status"] == "answered"
    assert [p["title"] for p in data["parents"]] == ["IOI circuit", "Trustworthy interpretability"]
    assert data["reaches_agenda"] is True
    assert [c["title"] for c in data["children"]] == ["Per-head patching sweep"]
    assert [e["title"] for e in data["entries"]] == ["Patching and ablation answer different questions.",
                                                     "Patching layer 9 restores the logit diff."]
    assert [h["text"] for h in data["history"]] == ["created (open)", "status open → answered"]
    assert data["history"][1]["reason"] == "Heads found."
    html = client.get(f"/tree/{nodes['question'].short}").text
    assert "Defines reproduced." in html and "answered" in html and "Heads found." in html
    assert f'href="/tree#n-{nodes["project"].short}"' in html  # the why-chain up to the agenda
    assert client.get("/tree/zzzzzzz.json").status_code == 404
    missing = client.get("/tree/zzzzzzz")
    assert missing.status_code == 404 and "no node with id" in missing.text


# -- ideas ----------------------------------------------------------------------------------------

def _idea(ws: Workspace) -> str:
    return ideas.capture_idea(ws, "Attribution patching could replace the head sweep.",
                              hypothesis="Gradients rank heads like patching does.",
                              cheapest_test="Rank the 144 heads both ways, compare the top 10.",
                              cost_hours=2, value="Sweeps in seconds.", value_score=4).short


def test_the_idea_board_has_a_column_per_state(server: Server, workspace: Workspace) -> None:
    short = _idea(workspace)
    parked = ideas.capture_idea(workspace, "Probe for eval awareness.").short
    ideas.set_state(workspace, parked, "parked", "Next quarter.")
    client = server.client()
    data = client.get("/ideas.json").json()
    assert [c["state"] for c in data["columns"]] == ["candidate", "de-risking", "active", "parked", "pruned", "done"]
    columns = {c["state"]: c["ideas"] for c in data["columns"]}
    (card,) = columns["candidate"]
    assert (card["short"], card["cost_hours"], card["value_score"]) == (short, 2.0, 4)
    assert card["cheapest_test"] == "Rank the 144 heads both ways, compare the top 10."
    assert [i["reason"] for i in columns["parked"]] == ["Next quarter."]
    html = client.get("/ideas").text
    assert f'id="i-{short}"' in html and "Gradients rank heads like patching does." in html
    assert "Sweeps in seconds." in html and "2 h" in html and f'action="/ideas/{short}/prune"' in html
    assert "Parked: Next quarter." in html
    assert client.get("/ideas.json", params={"order": "sideways"}).status_code == 400


def test_pruning_needs_a_reason_and_a_csrf_token(server: Server, workspace: Workspace) -> None:
    short = _idea(workspace)
    client = server.client()
    csrf = _csrf(client)

    def state() -> tuple[str, int]:
        idea = ideas.get_idea(workspace, short)
        return idea.state, len(idea.events)

    before = state()
    for reason in ("", "   "):
        refused = client.post(f"/ideas/{short}/prune", data={"reason": reason, "csrf": csrf})
        assert refused.status_code == 400 and "pruning needs a reason" in refused.text
    as_json = client.post(f"/ideas/{short}/prune", data={"csrf": csrf}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and "pruning needs a reason" in as_json.json()["error"]
    assert client.post(f"/ideas/{short}/prune", data={"reason": "Forged."}).status_code == 403
    assert state() == before
    assert client.get(f"/e/{short}.json").json()["revisions"][-1]["number"] == 1
    pruned = client.post(f"/ideas/{short}/prune", data={"reason": "Gradients disagree on 6 of 10.", "csrf": csrf})
    assert pruned.status_code == 303 and pruned.headers["location"] == f"/ideas#i-{short}"
    columns = {c["state"]: c["ideas"] for c in client.get("/ideas.json").json()["columns"]}
    assert [(i["short"], i["reason"]) for i in columns["pruned"]] == [(short, "Gradients disagree on 6 of 10.")]
    # The reason is written into the idea, so search answers "have I tried this before?"
    found = client.get("/search.json", params={"q": "disagree"}).json()["results"]
    assert [r["short"] for r in found] == [short]
    assert client.post("/ideas/zzzzzzz/prune", data={"reason": "x", "csrf": csrf}).status_code == 404


def test_park_and_derisk_buttons(server: Server, workspace: Workspace) -> None:
    short = _idea(workspace)
    client = server.client()
    csrf = _csrf(client)
    assert client.post(f"/ideas/{short}/derisk", data={"csrf": csrf}).status_code == 303
    assert ideas.get_idea(workspace, short).state == "de-risking"
    assert client.post(f"/ideas/{short}/park", data={"csrf": csrf, "reason": "Later."}).status_code == 303
    assert ideas.get_idea(workspace, short).state == "parked"
    again = client.post(f"/ideas/{short}/park", data={"csrf": csrf})
    assert again.status_code == 400 and "already parked" in again.text


# -- review ---------------------------------------------------------------------------------------

def test_the_review_groups_by_project_with_figures_inline(server: Server, workspace: Workspace,
                                                          tmp_path: Path) -> None:
    nodes = _seed(workspace)
    figure = tmp_path / "logit_diff.png"
    figure.write_bytes(b"\x89PNG\r\n\x1a\n" + b"1" * 64)
    shown = capture.note(workspace, "Layer sweep plotted. #patching", kind="result", under=nodes["question"].id,
                         attach=[figure])
    capture.note(workspace, "My private check-in.", private=True)
    capture.note(workspace, "Old news from last year.", occurred_at="2025-01-01T10:00:00.000000Z")
    client = server.client()
    data = client.get("/review.json").json()  # default: the last 7 days
    titles = [p["title"] for p in data["projects"]]
    assert titles[0] == "IOI circuit"
    sections = {s["key"]: s["items"] for s in data["projects"][0]["sections"]}
    (plotted,) = [i for i in sections["done"] if i["type"] == "entry"]
    assert plotted["short"] == shown.short and [f["filename"] for f in plotted["figures"]] == ["logit_diff.png"]
    everything = str(data)
    assert "My private check-in." not in everything and "Old news from last year." not in everything
    html = client.get("/review").text
    attachment_id = plotted["figures"][0]["id"]
    assert f'<img src="/a/{attachment_id}"' in html and "<h2>IOI circuit</h2>" in html
    assert client.get(f"/a/{attachment_id}").content == figure.read_bytes()
    assert "My private check-in." not in html
    older = client.get("/review.json", params={"since": "2024-12-01", "until": "2025-02-01"}).json()
    assert [i["title"] for p in older["projects"] for s in p["sections"] for i in s["items"]
            if i["type"] == "entry"] == ["Old news from last year."]
    assert client.get("/review.json", params={"since": "not a date at all"}).status_code == 400


def test_the_new_pages_are_in_the_openapi_schema(server: Server) -> None:
    paths = server.client().get("/openapi.json").json()["paths"]
    assert {"/search.json", "/tree.json", "/tree/{ref}.json", "/ideas.json", "/review.json",
            "/ideas/{ref}/prune", "/ideas/{ref}/park", "/ideas/{ref}/derisk"} <= set(paths)
