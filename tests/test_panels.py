"""Chart panels: saved per project with revisions and soft delete (both engines), their data filtered by
the reader on a team server, embedded in entries as ![caption](upstack:panel/ID), exported as PNGs."""

from __future__ import annotations

import base64
import re
from array import array
from collections.abc import Iterator
from pathlib import Path

import pytest

import upstack
from attack_common import run_records, team  # noqa: F401 (a fixture)
from upstack.errors import BadInput, NotFound
from upstack.ids import new_id, short_id
from upstack.interop.markdown import export_markdown
from upstack.services import accounts, capture, tree
from upstack.services import panels as service
from upstack.web.markdown import render
from upstack.workspace import Workspace
from webserver import Server, serve

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(ws: Workspace, name: str, under: str | None = None, points: int = 50) -> str:
    with upstack.run(name, home=ws.home, db=ws.db_url, capture="none", under=under) as run:
        for step in range(points):
            run.log({"loss": 1.0 / (step + 1), "acc": step / points}, step=step)
    ws.ingest()
    return run.short


@pytest.fixture
def project(workspace: Workspace) -> str:
    return tree.add_node(workspace, "project", "Probing", why="To see.").short


def test_a_panel_is_saved_changed_moved_deleted_and_restored_with_its_history(workspace: Workspace,
                                                                             project: str) -> None:
    run = _run(workspace, "sweep", under=project)
    first = service.save_panel(workspace, service.spec_from(workspace, keys=["loss"]), under=project, title="Loss")
    second = service.save_panel(workspace, service.spec_from(workspace, keys=["acc", "loss"], runs=[run], log=True,
                                                             smoothing=0.6, x="time"), under=project)
    assert [p.id for p in service.list_panels(workspace, project)] == [first.id, second.id]
    assert len(second.spec.runs) == 1 and short_id(second.spec.runs[0]) == run
    assert second.spec.log and second.spec.x == "time" and second.spec.smoothing == 0.6

    changed = service.save_panel(workspace, service.spec_from(workspace, keys=["loss"], wide=True),
                                 panel=first.short, title="Loss, wide")
    assert changed.title == "Loss, wide" and changed.spec.wide
    assert [h["title"] for h in service.history(workspace, first.short)] == ["Loss", "Loss, wide"]

    moved = service.move_panel(workspace, second.short, -1)
    assert [p.id for p in moved] == [second.id, first.id]
    assert [p.id for p in service.list_panels(workspace, project)] == [second.id, first.id]

    service.delete_panel(workspace, first.short)
    assert [p.id for p in service.list_panels(workspace, project)] == [second.id]
    assert [p.id for p in service.list_panels(workspace, project, deleted=True)] == [first.id]
    service.restore_panel(workspace, first.short)
    assert {p.id for p in service.list_panels(workspace, project)} == {first.id, second.id}


def test_a_panel_draws_its_runs_or_the_newest_under_its_project(workspace: Workspace, project: str) -> None:
    runs = [_run(workspace, f"r{n}", under=project) for n in range(3)]
    elsewhere = _run(workspace, "elsewhere")
    newest = service.save_panel(workspace, service.spec_from(workspace, keys=["loss"]), under=project)
    drawn = service.data(workspace, newest.short)
    assert sorted(line["run"] for line in drawn["lines"]) == sorted(runs)
    named = service.save_panel(workspace, service.spec_from(workspace, keys=["loss", "acc"], runs=[elsewhere]),
                               under=project)
    lines = service.data(workspace, named.short)["lines"]
    assert [(line["run"], line["key"]) for line in lines] == [(elsewhere, "loss"), (elsewhere, "acc")]
    assert len(lines[0]["xs"]) == 50 and lines[0]["ys"][0] == 1.0
    page = service.data(workspace, newest.short, page_runs=[runs[0]])
    assert [line["run"] for line in page["lines"]] == [runs[0]]  # a run page's panel draws that run


def test_bad_panels_are_refused_in_one_line(workspace: Workspace, project: str) -> None:
    for bad in ({"keys": []}, {"keys": ["loss"], "smoothing": 1.5}, {"keys": ["loss"], "x": "epoch"},
                {"keys": [f"k{n}" for n in range(20)]},
                {"keys": [f"k{n}" for n in range(12)], "runs": [f"run{n}" for n in range(10)]}):  # 120 lines
        with pytest.raises(BadInput):
            service.spec_from(workspace, **bad)
    with pytest.raises(NotFound):
        service.spec_from(workspace, keys=["loss"], runs=["zzzzzzz"])
    with pytest.raises(NotFound):
        service.get_panel(workspace, "zzzzzzz")


def test_an_embedded_panel_renders_as_a_link_the_page_draws_and_exports_as_a_png(workspace: Workspace,
                                                                                project: str, tmp_path: Path) -> None:
    _run(workspace, "sweep", under=project)
    panel = service.save_panel(workspace, service.spec_from(workspace, keys=["loss"]), under=project, title="Loss")
    html = render(f"Here: {panel.to_dict()['embed']} and <script>x</script>")
    assert f'<a class="panel-embed" href="/panels/{panel.short}"' in html and ">Loss</a>" in html
    assert "<script" not in html
    assert service.png(workspace, panel.short).startswith(PNG_MAGIC)

    capture.note(workspace, f"The curve\n\n{panel.to_dict()['embed']}\n\n![gone](upstack:panel/zzzzzzz)", under=project)
    export_markdown(workspace, tmp_path / "vault")
    (text,) = [t for p in (tmp_path / "vault").rglob("*.md") if "The curve" in (t := p.read_text())]
    assert "upstack:panel" not in text
    pictures = list((tmp_path / "vault").rglob(f"panel {panel.short}.png"))
    assert len(pictures) == 1 and pictures[0].read_bytes().startswith(PNG_MAGIC)
    assert "chart panel gone: not available here" in text


def test_a_picture_for_others_leaves_out_runs_whose_result_is_private(workspace: Workspace, project: str) -> None:
    shared, private = _run(workspace, "shared", under=project), _run(workspace, "private", under=project)
    panel = service.save_panel(workspace, service.spec_from(workspace, keys=["loss"], runs=[shared, private]),
                               under=project)
    full_id = service.get_panel(workspace, panel.short).spec.runs[1]
    # The result entry made private, as an edit of its privacy would (no command sets a run's result private yet).
    workspace.store().db.execute("UPDATE entries SET private = 1 WHERE id = ?", (full_id,))
    assert [line["run"] for line in service.data(workspace, panel.short)["lines"]] == [shared, private]
    assert [line["run"] for line in service.data(workspace, panel.short, shared_only=True)["lines"]] == [shared]


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def test_the_panel_pages_and_forms(server: Server, workspace: Workspace, project: str) -> None:
    run = _run(workspace, "sweep", under=project)
    client = server.client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    client.headers.update({"Accept": "application/json", "X-CSRF-Token": csrf})
    made = client.post("/panels", data={"keys": "loss, acc", "runs": run, "under": project, "title": "Curves",
                                        "log": "true", "smoothing": "0.5"})
    assert made.status_code == 200, made.text
    panel = made.json()
    assert panel["spec"]["keys"] == ["loss", "acc"] and panel["spec"]["log"] is True
    grid = client.get("/panels.json", params={"under": project}).json()
    assert [p["short"] for p in grid["panels"]] == [panel["short"]]
    data = client.get(f"/panels/{panel['short']}/data.json").json()
    assert [line["key"] for line in data["lines"]] == ["loss", "acc"]
    assert client.get(f"/panels/{panel['short']}.png").content.startswith(PNG_MAGIC)
    assert client.get(f"/panels/{panel['short']}.json").json()["history"][0]["title"] == "Curves"
    assert client.post("/panels", data={"keys": "", "under": project}).status_code in (400, 422)
    assert client.post("/panels", data={"keys": "loss", "smoothing": "7"}).status_code in (400, 422)
    changed = client.post(f"/panels/{panel['short']}", data={"keys": "loss", "x": "time"})
    assert changed.status_code == 200 and changed.json()["spec"]["x"] == "time"
    assert client.post(f"/panels/{panel['short']}/delete").json()["deleted_at"]
    assert client.get("/panels.json", params={"under": project}).json()["panels"] == []
    assert client.post(f"/panels/{panel['short']}/restore").json()["deleted_at"] is None
    html = client.get("/panels", params={"under": project}, headers={"Accept": "text/html"})
    assert html.status_code == 200 and f'id="panel-{panel["short"]}"' in html.text
    assert client.get("/panels/zzzzzzz/data.json").status_code == 404


def _pushed_run(client, node_id: str | None, name: str) -> str:  # noqa: ANN001
    run_id = new_id()
    enc = lambda a: base64.b64encode(a.tobytes()).decode()  # noqa: E731
    points = {"loss": {"from": 0, "steps": enc(array("q", range(5))), "times": enc(array("d", [1.0] * 5)),
                       "values": enc(array("d", [0.5] * 5))}}
    records = run_records(run_id, node_id, start={"name": name})
    answer = client.post(f"/api/runs/{run_id}/push", json={"records": records, "points": points})
    assert answer.status_code == 200, answer.text
    return run_id


def test_on_a_team_server_a_panel_shows_each_reader_only_the_runs_they_may_see(team) -> None:  # noqa: ANN001, F811
    eve, bob, mal = team.api(team.eve), team.api(team.bob), team.api(team.mal)
    shared = _pushed_run(eve, team.project, "QUSHAREDRUN")
    private = _pushed_run(eve, None, "QUPRIVATERUN")  # unfiled: eve's alone
    made = eve.post("/panels", data={"keys": "loss", "runs": f"{shared} {private}", "under": team.project})
    assert made.status_code == 200, made.text
    panel = made.json()["short"]
    assert {line["run"] for line in eve.get(f"/panels/{panel}/data.json").json()["lines"]} == \
        {short_id(shared), short_id(private)}
    for path in (f"/panels/{panel}/data.json", f"/panels/{panel}.json", f"/panels.json?under={team.project}"):
        seen = bob.get(path)
        assert seen.status_code == 200, (path, seen.text)
        assert private not in seen.text and "QUPRIVATERUN" not in seen.text
        assert short_id(private) not in seen.text.lower()
    assert [line["run"] for line in bob.get(f"/panels/{panel}/data.json").json()["lines"]] == [short_id(shared)]
    assert bob.get(f"/panels/{panel}.png").content.startswith(PNG_MAGIC)
    # bob may not name eve's private run himself, nor change her panel, nor add one to a project he only views
    assert bob.post("/panels", data={"keys": "loss", "runs": private}).status_code == 404
    assert bob.post(f"/panels/{panel}", data={"keys": "acc"}).status_code == 403
    assert bob.post("/panels", data={"keys": "loss", "under": team.project}).status_code == 403
    # someone outside the project finds no panel at all
    for path in (f"/panels/{panel}/data.json", f"/panels/{panel}.json", f"/panels/{panel}.png"):
        assert mal.get(path).status_code == 404
    assert mal.post(f"/panels/{panel}/delete").status_code == 404
    # an edit by an editor who cannot see a run the panel names keeps that run for those who can
    accounts.share(team.ws, team.project, "ada", "editor", by=None)
    ada = team.api(team.ada)
    edited = ada.post(f"/panels/{panel}", data={"keys": "loss, acc", "runs": shared})
    assert edited.status_code == 200, edited.text
    assert edited.json()["spec"]["runs"] == [shared] and private not in edited.text
    assert {line["run"] for line in eve.get(f"/panels/{panel}/data.json").json()["lines"]} == \
        {short_id(shared), short_id(private)}
