"""Attack on issue 20's latest changes on a team server (tests/attack_common.py's team: ada owns, bob
viewer, eve editor, mal outsider): artifact references NAME@DIGEST, ``run.move``'s ``from_node_id``,
and ``runs --tag`` / ``/runs.json?tag=``. Each hole found is a test here, failing before its fix."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from attack_common import Team, rec, run_records, team  # noqa: F401  (a fixture)
from upstack.domain import access
from upstack.domain.artifact import manifest_digest
from upstack.ids import new_id
from upstack.services import run_manage, tree
from upstack.timeutil import now_iso


def _push(client: httpx.Client, run_id: str, node: str | None, records: list[dict[str, Any]] | None = None,
          start: dict[str, Any] | None = None) -> httpx.Response:
    sent = records if records is not None else run_records(run_id, node, start=start)
    return client.post(f"/api/runs/{run_id}/push", json={"records": sent, "points": {}})


def _move(run_id: str, node: str, **more: Any) -> dict[str, Any]:
    return rec("run.move", {"run_id": run_id, "node_id": node, "at": now_iso(), **more})


def _secret(team: Team) -> str:  # noqa: F811
    with access.acting_as(access.OWNER):
        return tree.add_node(team.ws, "project", "QUSECRET title", why="Not shared.").id


def test_a_pushed_move_cannot_say_it_came_from_a_node_its_pusher_may_not_see(team: Team) -> None:  # noqa: F811
    """Found: the door checked a move's node_id, not its from_node_id: eve moved her run within the shared
    project saying it came from a node of ada's she may not see (or none at all), and ada's history of the
    run read 'moved from QUSECRET title', a place it never was (and a pull sent her that node's id as where
    it came from). Fixed: the door leaves out a from_node_id the pusher may not see, as a pull does; the
    store then takes where the run is."""
    secret = _secret(team)
    with access.acting_as(access.OWNER):
        sub = tree.add_node(team.ws, "question", "QUSUB", under=team.project).id
    eve = team.api(team.eve)
    for came_from in (secret, new_id()):
        run_id = new_id()
        assert _push(eve, run_id, team.project).status_code == 200
        assert _push(eve, run_id, None, [_move(run_id, sub, from_node_id=came_from)]).status_code == 200
        for who in (team.ada, team.bob, team.eve):
            with access.acting_as(team.as_user(who)):
                said = [c.text for c in run_manage.history(team.ws, run_id)]
            assert said[-1].startswith("moved from Probing ("), (who.login, said)
        pulled = team.api(team.ada).post(f"/api/runs/{run_id}/pull", json={"have": {}}).text
        assert came_from not in pulled


def test_a_pull_sends_no_move_into_a_node_the_puller_may_not_see(team: Team) -> None:  # noqa: F811
    """Found: ada moved a run of the shared project into her own project and back; bob (a viewer) pulled the
    run and got the middle move's node_id, the id of a node he may not see (its history said 'a node you
    cannot see', the record named it). Fixed: sync leaves such a move out, both from a pull's records and
    from the change ids it compares (so the laptop does not ask for it again)."""
    secret = _secret(team)
    ada, bob = team.api(team.ada), team.api(team.bob)
    run_id = new_id()
    assert _push(ada, run_id, team.project).status_code == 200
    for node in (secret, team.project):
        assert _push(ada, run_id, None, [_move(run_id, node)]).status_code == 200
    pulled = bob.post(f"/api/runs/{run_id}/pull", json={"have": {}})
    assert pulled.status_code == 200 and secret not in pulled.text
    moves = [r["data"] for r in pulled.json()["records"] if r["op"] == "run.move"]
    assert [m["node_id"] for m in moves] == [team.project] and "from_node_id" not in moves[0]
    states = bob.get("/api/sync/runs.json").json()
    listed = states.get("runs", states)[run_id]["changes"] if isinstance(states, dict) else None
    assert listed is not None and len(listed) == 1
    mine = ada.post(f"/api/runs/{run_id}/pull", json={"have": {}}).text  # ada sees it all
    assert mine.count(secret) == 2


def _made(run_id: str, name: str, seed: str) -> dict[str, Any]:
    files = [{"path": f"{seed}.bin", "sha256": hashlib.sha256(seed.encode()).hexdigest(), "size": 9, "mode": 0o644}]
    return rec("run.artifact", {"run_id": run_id, "name": name, "kind": "model", "folder": False, "files": files,
                                "digest": manifest_digest(files, False), "at": now_iso()})


def test_a_version_shows_no_trace_of_a_producer_the_reader_may_not_see(team: Team) -> None:  # noqa: F811
    """Found: ada stored one content from a run of her own (bob may not see it) and then from a run of the
    shared project: one version, that bob sees, but with the hidden run's time as its created_at (and as
    its name's updated_at in /artifacts.json) and the hidden run's record id as its id, on /artifacts/NAME
    and on the shared run's page: so bob learnt a run he may not see made it, and when. Fixed: a reader
    who does not own it sees it made when, and named as, its first producer that they may see made it."""
    ada, bob = team.api(team.ada), team.api(team.bob)
    hidden, shared = new_id(), new_id()
    made = _made(hidden, "same", "sameA")
    assert _push(ada, hidden, None, run_records(hidden, None, extra=[made])).status_code == 200
    made_again = _made(shared, "same", "sameA")
    assert made_again["data"]["at"] > made["data"]["at"]
    assert _push(ada, shared, None, run_records(shared, team.project, extra=[made_again])).status_code == 200
    [seen] = bob.get("/artifacts/same.json").json()["versions"]
    [on_page] = bob.get(f"/runs/{shared}.json").json()["artifacts"]["produced"]
    [listed] = bob.get("/artifacts.json").json()["artifacts"]
    for version in (seen, on_page):
        assert (version["id"], version["created_at"]) == (made_again["id"], made_again["data"]["at"])
        assert [p["run_id"] for p in version["produced_by"]] == [shared]
    assert listed["updated_at"] == made_again["data"]["at"]
    [hers] = ada.get("/artifacts/same.json").json()["versions"]  # its owner sees it all
    assert (hers["id"], hers["created_at"], hers["version"]) == (made["id"], made["data"]["at"], 0)
