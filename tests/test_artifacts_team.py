"""Artifacts on a team server: sync sends every version's description and its files up to the cap (more on
request); a version is seen as its producing run is; a run may not say it used one its pusher cannot see."""

from __future__ import annotations

from pathlib import Path

import pytest

import upstack
from attack_common import Team, rec, run_records
from upstack.domain import access
from upstack.domain.artifact import manifest_digest
from upstack.errors import NotFound
from upstack.ids import new_id, short_id
from upstack.services import accounts, artifacts
from upstack.services import sync as sync_service
from upstack.services.artifact_sync import send_version
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def _laptop(team: Team, tmp_path: Path, who: accounts.User) -> Workspace:
    laptop = Workspace(home=tmp_path / who.login)
    sync_service.login(laptop, team.server.url, accounts.create_token(team.ws, who.id, "laptop")[1])
    return laptop


def _produce(laptop: Workspace, path: Path, name: str) -> str:
    with upstack.run("train", home=laptop.home, capture="none") as run:
        run.artifact(path, name=name)
    laptop.ingest()
    return run.id


def _artifact_record(run_id: str, name: str, content: bytes = b"") -> dict[str, object]:
    import hashlib

    files = [{"path": f"{name}.bin", "sha256": hashlib.sha256(content or name.encode()).hexdigest(), "size": 9,
              "mode": 0o644}]
    return rec("run.artifact", {"run_id": run_id, "name": name, "kind": "model", "folder": False, "files": files,
                                "digest": manifest_digest(files, False), "at": now_iso()})


def test_sync_sends_descriptions_and_bytes_up_to_the_cap(team: Team, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_SYNC_ARTIFACT_MB", "0.001")  # 1,000 bytes, for the run's live upload too
    (tmp_path / "small.bin").write_bytes(b"s" * 100)
    (tmp_path / "large.bin").write_bytes(b"L" * 5000)
    offline = Workspace(home=tmp_path / "ada")
    _produce(offline, tmp_path / "small.bin", "small")  # before the link: `upstack sync` sends it
    _produce(offline, tmp_path / "large.bin", "large")
    offline.close()
    laptop = _laptop(team, tmp_path, team.ada)
    (tmp_path / "later.bin").write_bytes(b"l" * 5000)
    _produce(laptop, tmp_path / "later.bin", "later")  # linked: the run's live upload sends it, as large
    sync_service.sync(laptop)
    with access.acting_as(team.as_user(team.ada)):
        small = artifacts.find(team.ws, "small:v0")
        large = artifacts.find(team.ws, "large:v0")
        assert artifacts.missing_bytes(team.ws, small) == []
        assert artifacts.missing_bytes(team.ws, large) == ["large.bin"]  # above the cap: described, not sent
        assert artifacts.missing_bytes(team.ws, artifacts.find(team.ws, "later")) == ["later.bin"]
    version, sent = send_version(laptop, "large:v0")  # on request
    assert sent == 1
    with access.acting_as(team.as_user(team.ada)):
        assert artifacts.missing_bytes(team.ws, artifacts.find(team.ws, "large:v0")) == []
    with access.acting_as(team.as_user(team.bob)):  # ada's own runs: nothing of them, not even a count
        assert artifacts.list_artifacts(team.ws) == []
        with pytest.raises(NotFound):
            artifacts.find(team.ws, "small")
    bob = team.api(team.bob)
    assert "small" not in bob.get("/artifacts.json").text
    hidden, missing = bob.get("/artifacts/small.json"), bob.get("/artifacts/nosuch.json")  # hidden answers as missing
    assert (hidden.status_code, hidden.text.replace("small", "nosuch")) == (missing.status_code, missing.text) \
        and hidden.status_code == 404
    laptop.close()


def test_use_of_an_artifact_the_pusher_cannot_see_is_refused(team: Team) -> None:
    ada, bob = team.api(team.ada), team.api(team.bob)
    private_run, shared_run = new_id(), new_id()
    private = _artifact_record(private_run, "privmodel")
    shared = _artifact_record(shared_run, "sharedmodel")
    for run_id, node, made in ((private_run, None, private), (shared_run, team.project, shared)):
        answer = ada.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, node, extra=[made]),
                                                             "points": {}})
        assert answer.status_code == 200, answer.text
    for made, expected in ((private, 400), (shared, 200)):
        run_id = new_id()
        use = rec("run.use_artifact", {"run_id": run_id, "name": made["data"]["name"],  # type: ignore[index]
                                       "digest": made["data"]["digest"],  # type: ignore[index]
                                       "producer": made["data"]["run_id"], "at": now_iso()})  # type: ignore[index]
        answer = bob.post(f"/api/runs/{run_id}/push",
                          json={"records": run_records(run_id, None, extra=[use]), "points": {}})
        assert answer.status_code == expected, answer.text
        if expected == 400:
            assert "may see" in answer.text and "privmodel" in answer.text  # what bob named, nothing more
    with access.acting_as(team.as_user(team.bob)):
        names = [a.name for a in artifacts.list_artifacts(team.ws)]
        assert names == ["sharedmodel"]
        [version] = artifacts.show(team.ws, "sharedmodel")
        assert len(version.used_by) == 1 and version.produced_by[0]["run_id"] == shared_run
    with access.acting_as(team.as_user(team.ada)):
        assert sorted(a.name for a in artifacts.list_artifacts(team.ws)) == ["privmodel", "sharedmodel"]


def test_a_manifest_leaving_its_folder_is_refused_at_the_door(team: Team) -> None:
    ada = team.api(team.ada)
    run_id = new_id()
    files = [{"path": "../../outside", "sha256": "0" * 64, "size": 1, "mode": 0o644}]
    bad = rec("run.artifact", {"run_id": run_id, "name": "escape", "kind": "model", "folder": True, "files": files,
                               "digest": manifest_digest(files, True), "at": now_iso()})
    answer = ada.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, None, extra=[bad]),
                                                         "points": {}})
    assert answer.status_code == 400 and "leaves its folder" in answer.text


def test_naming_someone_elses_file_does_not_tell_that_it_is_there(team: Team) -> None:
    import hashlib

    ada, bob = team.api(team.ada), team.api(team.bob)
    content = b"ada's checkpoint bytes"
    sha = hashlib.sha256(content).hexdigest()
    assert ada.put(f"/api/blobs/{sha}", content=content).status_code == 204
    for client, name in ((ada, "adacopy"), (bob, "bobguess")):
        run_id = new_id()
        made = _artifact_record(run_id, name, content)
        answer = client.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, None, extra=[made]),
                                                                "points": {}})
        assert answer.status_code == 200, answer.text
    assert ada.get("/artifacts/adacopy.json").json()["versions"][0]["bytes_here"] is True
    assert bob.get("/artifacts/bobguess.json").json()["versions"][0]["bytes_here"] is False


def test_a_private_producer_of_a_shared_version_stays_hidden(team: Team) -> None:
    ada, bob = team.api(team.ada), team.api(team.bob)
    private_run, shared_run, bob_run = new_id(), new_id(), new_id()
    for run_id, node in ((private_run, None), (shared_run, team.project)):  # the same content twice: one version
        made = _artifact_record(run_id, "dup", b"same bytes")
        answer = ada.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, node, extra=[made]),
                                                             "points": {}})
        assert answer.status_code == 200, answer.text
    version = bob.get("/artifacts/dup.json").json()["versions"]
    assert [v["version"] for v in version] == [None]  # a number is its owner's to see
    assert [r["run_id"] for r in version[0]["produced_by"]] == [shared_run]
    use = rec("run.use_artifact", {"run_id": bob_run, "name": "dup", "digest": version[0]["digest"],
                                   "producer": shared_run, "at": now_iso()})
    answer = bob.post(f"/api/runs/{bob_run}/push", json={"records": run_records(bob_run, None, extra=[use]),
                                                         "points": {}})
    assert answer.status_code == 200, answer.text
    pulled = bob.post(f"/api/runs/{bob_run}/pull", json={"have": {}})
    assert pulled.status_code == 200 and "run.use_artifact" in pulled.text
    for text in (pulled.text, bob.get("/artifacts/dup.json").text, bob.get("/artifacts/dup").text,
                 bob.get(f"/runs/{bob_run}.json").text):
        assert private_run not in text and short_id(private_run) not in text
    with access.acting_as(team.as_user(team.ada)):
        [mine] = artifacts.show(team.ws, "dup")
        assert [r["run_id"] for r in mine.produced_by] == [private_run, shared_run]
