"""A run's changes after the fact travel with `upstack sync` to a team server and back, and its door
takes them from the run's author only: a move only under a node they may file under; a run or node
they may not see answers as one that is not there (issue 20)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

import upstack
from attack_common import Team, node_create, rec, run_records
from upstack.domain import access
from upstack.ids import new_id, short_id
from upstack.services import accounts, curate, recall, run_manage, tree
from upstack.services import runs as run_service
from upstack.services import sync as sync_service
from upstack.services.jsondump import dump_tables
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def _laptop(team: Team, tmp_path: Path, name: str, user: accounts.User) -> Workspace:
    ws = Workspace(home=tmp_path / name)
    sync_service.login(ws, team.server.url, accounts.create_token(team.ws, user.id, "laptop")[1])
    return ws


def _synced_run(team: Team, tmp_path: Path, name: str) -> tuple[Workspace, str]:
    """Eve's laptop (an editor on the project), with a run of hers under the project, synced."""
    laptop = _laptop(team, tmp_path, "eve", team.eve)
    sync_service.sync(laptop)
    with upstack.run(name, under=team.project, home=laptop.home, capture="none") as made:
        made.log({"loss": 0.5}, step=0)
    sync_service.sync(laptop)
    return laptop, made.id


def _history(ws: Workspace, run_id: str) -> list[tuple[str, object, object, str]]:
    """(change, old, new, text) of each change: a move says where from on every machine (its record
    carries it; the run itself comes under the node it is under now)."""
    return [(c.change, c.old, c.new, c.text) for c in run_manage.history(ws, run_id)]


def test_each_change_travels_to_the_server_and_back(team: Team, tmp_path: Path) -> None:
    laptop = _laptop(team, tmp_path, "eve", team.eve)  # an editor on the shared project
    sync_service.sync(laptop)
    question = tree.add_node(laptop, "question", "Does depth matter?", under=team.project)
    with upstack.run("probe", under=team.project, home=laptop.home, capture="none", tags=["probe"]) as made:
        made.log({"loss": 0.5}, step=0)
    laptop.ingest()
    run_id = made.id
    curate.edit(laptop, run_id, recall.show(laptop, run_id).title + "\n\nMy reading of it, by hand.")
    assert sync_service.sync(laptop).refused == []

    run_manage.rename(laptop, run_id, "probe-depth")
    run_manage.retag(laptop, run_id, ["+depth", "-probe"])
    run_manage.add_note(laptop, run_id, "Layer 6 is where it turns.")
    run_manage.move(laptop, run_id, question.id)
    assert sync_service.sync(laptop).refused == []
    with access.acting_as(team.as_user(team.eve)):
        there = run_service.get_run(team.ws, run_id)
        assert (there.name, there.tags, there.node_id) == ("probe-depth", ["depth"], question.id)
        assert [i.data["text"] for i in there.items if i.kind == "note"] == ["Layer 6 is where it turns."]
        entry = recall.show(team.ws, run_id)
        assert entry.title.startswith("Run probe-depth finished") and entry.body == "My reading of it, by hand."
        assert entry.node_id == question.id and "depth" in entry.tags
        assert _history(team.ws, run_id) == _history(laptop, run_id)

    run_manage.delete(laptop, run_id)
    assert sync_service.sync(laptop).refused == []
    with access.acting_as(team.as_user(team.eve)):
        assert run_service.get_run(team.ws, run_id).deleted_at and run_service.list_runs(team.ws) == []
    with access.acting_as(team.as_user(team.bob)):  # a viewer of the project: gone for him
        assert run_service.list_runs(team.ws) == []
    bob = team.api(team.bob)
    assert bob.get(f"/runs/{run_id}").status_code == 404
    assert "probe-depth" not in bob.get("/runs.json").text

    run_manage.restore(laptop, run_id)
    assert sync_service.sync(laptop).refused == []
    sync_service.sync(laptop)  # the server's earlier deletion of the result does not come back
    assert recall.show(laptop, run_id).deleted_at is None
    with access.acting_as(team.as_user(team.eve)):
        assert run_service.get_run(team.ws, run_id).deleted_at is None
        assert recall.show(team.ws, run_id).deleted_at is None
    with access.acting_as(team.as_user(team.bob)):
        assert [r.id for r in run_service.list_runs(team.ws)] == [run_id]

    before = (dump_tables(laptop.store().db), dump_tables(team.ws.store().db))
    again = sync_service.sync(laptop)
    assert (again.pushed, again.pulled, again.refused) == (0, 0, [])
    assert (dump_tables(laptop.store().db), dump_tables(team.ws.store().db)) == before

    # Her other machine gets the run as it is now, with its whole history.
    other = _laptop(team, tmp_path, "eve-desktop", team.eve)
    sync_service.sync(other)
    assert _history(other, run_id) == _history(laptop, run_id)
    [moved] = [c for c in run_manage.history(other, run_id) if c.change == "node"]
    assert (moved.old, moved.new) == (team.project, question.id) and moved.text.startswith("moved from Probing")
    mine = run_service.get_run(other, run_id)
    assert (mine.name, mine.tags, mine.node_id, mine.deleted_at) == ("probe-depth", ["depth"], question.id, None)
    assert recall.show(other, run_id).body == "My reading of it, by hand."
    for ws in (laptop, other):
        ws.close()


def test_a_change_made_on_the_server_comes_down_to_the_laptop(team: Team, tmp_path: Path) -> None:
    laptop, run_id = _synced_run(team, tmp_path, "probe")
    with access.acting_as(team.as_user(team.eve)):  # her web page on the server
        run_manage.rename(team.ws, run_id, "renamed-on-the-web")
        run_manage.delete(team.ws, run_id)
    sync_service.sync(laptop)
    run = run_service.get_run(laptop, run_id)
    assert (run.name, bool(run.deleted_at)) == ("renamed-on-the-web", True)
    assert run_service.list_runs(laptop) == []
    laptop.close()


def _pushed(team: Team, user: accounts.User, run_id: str, records: list[dict[str, object]]) -> tuple[int, str]:
    answer = team.api(user).post(f"/api/runs/{run_id}/push", json={"records": records, "points": {}})
    return answer.status_code, answer.text


def test_the_door_takes_a_runs_changes_from_its_author_only(team: Team) -> None:
    run_id = new_id()
    assert _pushed(team, team.eve, run_id, run_records(run_id, team.project))[0] == 200
    rename = rec("run.rename", {"run_id": run_id, "name": "QUSTOLEN", "at": now_iso()})
    # someone else's run, seen (bob, a viewer there) or not (mal): the same answer as no run at all
    for user in (team.bob, team.mal):
        nowhere = new_id()
        assert _pushed(team, user, run_id, [rename]) == _pushed(team, user, nowhere, [
            rec("run.rename", {"run_id": nowhere, "name": "QUSTOLEN", "at": now_iso()})])
        assert _pushed(team, user, run_id, [rename])[0] == 404
    with access.acting_as(access.OWNER):
        hidden = tree.add_node(team.ws, "project", "Not shared with anyone")
    # a node she may not see, and one that is not there: refused alike, naming neither
    answers = [_pushed(team, team.eve, run_id, [rec("run.move", {"run_id": run_id, "node_id": node, "at": now_iso()})])
               for node in (hidden.id, new_id())]
    assert answers[0][0] == answers[1][0] == 400 and "Not shared" not in answers[0][1]
    assert re.sub(r"record \w+", "", answers[0][1]) == re.sub(r"record \w+", "", answers[1][1])
    # a viewer cannot file his own run under the project
    own = new_id()
    assert _pushed(team, team.bob, own, run_records(own, None))[0] == 200
    moved = _pushed(team, team.bob, own, [rec("run.move", {"run_id": own, "node_id": team.project, "at": now_iso()})])
    assert moved[0] == 400 and "may not file runs" in moved[1]
    # a change's id must name nothing else
    taken = _pushed(team, team.eve, run_id, [{**rename, "id": team.project}])
    assert taken[0] == 400 and "taken" in taken[1]
    # whoever the record says made it, the pusher did
    assert _pushed(team, team.eve, run_id, [{**rename, "data": {**rename["data"], "by": team.ada.id}}])[0] == 200
    with access.acting_as(team.as_user(team.eve)):
        run = run_service.get_run(team.ws, run_id)
        assert run.name == "QUSTOLEN" and run.node_id == team.project
        assert run_manage.history(team.ws, run_id)[-1].by == team.eve.id


def test_the_run_page_manages_a_run_for_its_author_only(team: Team) -> None:
    run_id = new_id()
    assert _pushed(team, team.eve, run_id, run_records(run_id, team.project, start={"name": "QURUNEVE"}))[0] == 200
    eve, bob, mal = team.api(team.eve), team.api(team.bob), team.api(team.mal)
    page = eve.get(f"/runs/{run_id}", headers={"Accept": "text/html"}).text
    assert 'id="run-rename"' in page and "started as QURUNEVE" in page and 'value="QURUNEVE"' in page
    assert 'id="run-rename"' not in bob.get(f"/runs/{run_id}", headers={"Accept": "text/html"}).text
    renamed = eve.post(f"/runs/{run_id}/rename", data={"name": "QURUNEVE renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "QURUNEVE renamed"
    assert bob.post(f"/runs/{run_id}/rename", data={"name": "bob's"}).status_code == 403  # sees it, not his
    for client in (mal, bob):  # one they cannot see answers as one that is not there
        assert client.post(f"/runs/{new_id()}/delete").status_code == 404
    assert mal.post(f"/runs/{run_id}/delete").status_code == 404
    assert httpx.post(f"{team.server.url}/runs/{run_id}/delete").status_code in (401, 403)  # no one signed in
    with access.acting_as(access.OWNER):
        hidden = tree.add_node(team.ws, "project", "QUHIDDENNODE")
    moved = eve.post(f"/runs/{run_id}/move", data={"node": hidden.id})
    assert moved.status_code == 404 and "QUHIDDENNODE" not in moved.text
    assert eve.post(f"/runs/{run_id}/tag", data={"tags": "+depth"}).json()["tags"] == ["depth"]
    assert eve.post(f"/runs/{run_id}/note", data={"text": "A note from the web."}).status_code == 200
    assert eve.post(f"/runs/{run_id}/delete").json()["deleted_at"]
    assert bob.get(f"/runs/{run_id}").status_code == 404 and "QURUNEVE" not in bob.get("/runs.json").text
    assert "QURUNEVE" in eve.get("/runs.json?deleted=true").text and "QURUNEVE" not in eve.get("/runs.json").text
    assert eve.post(f"/runs/{run_id}/restore").json()["deleted_at"] is None
    history = eve.get(f"/runs/{run_id}.json").json()["history"]
    assert [c["change"] for c in history] == ["started", "name", "tags", "note", "deleted", "restored"]


def test_a_move_needs_the_right_to_file_where_the_run_lands(team: Team) -> None:
    own = new_id()  # bob's own run, unfiled; he only views the project
    assert _pushed(team, team.bob, own, run_records(own, None))[0] == 200
    bob = team.api(team.bob)
    refused = bob.post(f"/runs/{own}/move", data={"node": team.project})
    assert refused.status_code == 403 and "may not file runs" in refused.text
    with access.acting_as(team.as_user(team.bob)):
        assert run_service.get_run(team.ws, own).node_id is None and run_manage.history(team.ws, own)[-1].change == \
            "started"
    accounts.share(team.ws, team.project, "bob", "editor", by=None)  # made an editor there, he may
    assert bob.post(f"/runs/{own}/move", data={"node": team.project}).json()["node_id"] == team.project


def test_history_names_no_node_its_reader_may_not_see(team: Team, tmp_path: Path) -> None:
    eve, bob = team.api(team.eve), team.api(team.bob)
    mine = node_create(kind="project", title="QUEVESOWNPROJECT")  # hers, shared with nobody
    assert eve.post("/api/sync/push", json={"records": [rec("node.create", mine)]}).json()["applied"] == 1
    run_id = new_id()
    assert _pushed(team, team.eve, run_id, run_records(run_id, mine["id"]))[0] == 200
    assert eve.post(f"/runs/{run_id}/move", data={"node": team.project}).status_code == 200
    shown = bob.get(f"/runs/{run_id}.json")  # now under the project he views
    assert shown.status_code == 200 and "QUEVESOWNPROJECT" not in shown.text and mine["id"] not in shown.text
    moved = shown.json()["history"][-1]
    assert moved["change"] == "node" and moved["old"] is None and moved["text"].startswith("moved from a node you")
    assert eve.get(f"/runs/{run_id}.json").json()["history"][-1]["old"] == mine["id"]  # hers
    laptop = _laptop(team, tmp_path, "bob", team.bob)  # his laptop gets the move without where it was from
    sync_service.sync(laptop)
    [moved_there] = [c for c in run_manage.history(laptop, run_id) if c.change == "node"]
    assert moved_there.text == f"moved to Probing ({short_id(team.project)})"
    assert mine["id"] not in json.dumps(dump_tables(laptop.store().db))
    laptop.close()


def test_a_laptop_says_at_once_when_the_server_will_not_take_a_change(team: Team, tmp_path: Path) -> None:
    eve, run_id = _synced_run(team, tmp_path, "eves")
    bob = _laptop(team, tmp_path, "bob", team.bob)  # views the project: her run comes down
    sync_service.sync(bob)
    renamed = run_manage.rename(bob, run_id, "bob was here")
    assert "will not take this change" in run_manage.server_warning(bob, renamed)
    assert run_manage.server_warning(eve, run_service.get_run(eve, run_id)) == ""
    report = sync_service.sync(bob)
    assert {r["subject"] for r in report.refused} == {run_id}  # the run, and its result entry's new title
    with access.acting_as(team.as_user(team.eve)):
        assert run_service.get_run(team.ws, run_id).name == "eves"
    for ws in (eve, bob):
        ws.close()
