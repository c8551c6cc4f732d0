"""Attack on issue 20's team-server surfaces: artifacts, run changes, panels, the runs table's where/sort
and groups, resume over sync. Real server (tests/attack_common.py's team: ada owns, bob viewer, eve
editor, mal outsider). Each hole found is a test here: fixed, or a strict xfail saying what is wrong."""

from __future__ import annotations

import hashlib
from array import array
from pathlib import Path
from typing import Any

import httpx
import pytest

from attack_common import Team, rec, run_records, status, team  # noqa: F401  (a fixture)
from upstack.capture.artifacts import build_manifest
from upstack.domain import access
from upstack.domain.artifact import manifest_digest
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import artifacts
from upstack.services.record_shapes import problem
from upstack.services.runsync import wire_points
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def _files(name: str, count: int = 1, size: int = 9) -> list[dict[str, Any]]:
    if count == 1:
        return [{"path": f"{name}.bin", "sha256": hashlib.sha256(name.encode()).hexdigest(), "size": size,
                 "mode": 0o644}]
    return [{"path": f"d/{n}.bin", "sha256": hashlib.sha256(f"{name}{n}".encode()).hexdigest(), "size": size,
             "mode": 0o644} for n in range(count)]


def _made(run_id: str, name: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    folder = len(files) > 1 or "/" in files[0]["path"]
    return rec("run.artifact", {"run_id": run_id, "name": name, "kind": "model", "folder": folder, "files": files,
                                "digest": manifest_digest(files, folder), "at": now_iso()})


def _push(client: httpx.Client, run_id: str, node: str | None, extra: list[dict[str, Any]] | None = None,
          points: dict[str, Any] | None = None, start: dict[str, Any] | None = None) -> httpx.Response:
    return client.post(f"/api/runs/{run_id}/push", json={
        "records": run_records(run_id, node, extra=extra, start=start), "points": points or {}})


def _points(n: int, value: float = 1.0) -> dict[str, Any]:
    return wire_points(0, array("q", range(n)), array("d", [float(i) for i in range(n)]), array("d", [value] * n))


def _versions_of(client: httpx.Client, name: str) -> list[int]:
    answer = client.get(f"/artifacts/{name}.json")
    return [v["version"] for v in answer.json()["versions"]] if answer.status_code == 200 else []


# == 1. Artifacts =================================================================================

def test_an_artifact_whose_sizes_overflow_is_refused_at_the_door_not_dropped_after_a_200(team: Team) -> None:  # noqa: F811
    """Found: a manifest of 1,100 files of 2**53 bytes each (each within the door's bound) passed the door,
    the push answered 200, and the store set the record aside (the total overflows its 64-bit column):
    the pusher was told it was kept, and it was not. Fixed: the door refuses a manifest whose sizes add
    up to more than record_shapes.MOST_BYTES, with a one-line reason."""
    eve = team.api(team.eve)
    run_id = new_id()
    answer = _push(eve, run_id, team.project, [_made(run_id, "overflowing", _files("over", 1100, 2**53))])
    assert answer.status_code == 400, answer.text[:300]
    assert "add up" in answer.json()["error"] and "\n" not in answer.json()["error"]
    fine = new_id()
    assert _push(eve, fine, team.project, [_made(fine, "bigbutfine", _files("fine", 2, 2**52))]).status_code == 200
    assert _versions_of(eve, "bigbutfine") == [0]


def test_an_editor_cannot_break_the_artifacts_list_with_many_large_versions(team: Team) -> None:  # noqa: F811
    """Found (SQLite): 1,200 versions of one name at 2**53 bytes each (each one a valid manifest) made
    `/artifacts` and `/artifacts.json` answer 500 ("integer overflow" summing their sizes) for everyone
    who may see that project. Fixed: the list sums sizes as a float (store/artifacts.summaries)."""
    eve, bob = team.api(team.eve), team.api(team.bob)
    for batch in range(3):
        run_id = new_id()
        made = [_made(run_id, "many", [{"path": "m.bin", "sha256": hashlib.sha256(f"{batch}.{n}".encode()).hexdigest(),
                                        "size": 2**53, "mode": 0o644}]) for n in range(400)]
        assert _push(eve, run_id, team.project, made).status_code == 200
    for client in (bob, eve):
        assert status(client, "/artifacts") == 200
        listed = client.get("/artifacts.json")
        assert listed.status_code == 200, listed.text[:300]
        [many] = [a for a in listed.json()["artifacts"] if a["name"] == "many"]
        assert many["versions"] == 1200 and many["size"] >= 1200 * 2**53 * 0.99


def test_version_numbers_do_not_count_versions_the_reader_may_not_see(team: Team) -> None:  # noqa: F811
    """Found: ada's unfiled (private) run stores "gap" v0, her run in the shared project stores other
    content of "gap" as v1. Bob saw only v1, `latest: 1` with `versions: 1` in /artifacts.json: that a
    private version exists was told to him, a count of what he may not see. Now the numbers are read
    out to their owner alone; bob names the version by its digest, and a number of hers names nothing
    to him, whether or not it exists."""
    ada, bob = team.api(team.ada), team.api(team.bob)
    hidden, shared = new_id(), new_id()
    assert _push(ada, hidden, None, [_made(hidden, "gap", _files("gapA"))]).status_code == 200
    assert _push(ada, shared, team.project, [_made(shared, "gap", _files("gapB"))]).status_code == 200
    assert _versions_of(ada, "gap") == [0, 1]
    [listed] = bob.get("/artifacts.json").json()["artifacts"]
    assert (listed["versions"], listed["latest"]) == (1, None)
    [seen] = bob.get("/artifacts/gap.json").json()["versions"]
    digest = manifest_digest(_files("gapB"), False)
    assert seen["version"] is None and seen["label"] == f"gap@{digest[:12]}" and seen["anchor"] == f"d{digest[:12]}"
    page = bob.get("/artifacts/gap").text
    assert "gap:v" not in page and f"gap@{digest[:12]}" in page
    ws = team.ws
    with access.acting_as(team.as_user(team.bob)):
        assert artifacts.find(ws, f"gap@{digest[:8]}").digest == digest
        assert artifacts.find(ws, "gap").digest == digest
        answers = []
        for number in (0, 1, 7):  # hidden, shown, none at all: the same answer
            with pytest.raises(BadInput) as refused:
                artifacts.find(ws, f"gap:v{number}")
            answers.append(str(refused.value).replace(str(number), "N"))
        assert len(set(answers)) == 1 and "@DIGEST" in answers[0]


def test_a_digest_names_a_version_whoever_else_has_the_name(team: Team) -> None:  # noqa: F811
    """Two people's artifacts of one name: NAME alone is the reader's own (or ambiguous to a third), while
    NAME@DIGEST names either, for anyone who may see it."""
    ada, eve = team.api(team.ada), team.api(team.eve)
    hers, his = new_id(), new_id()
    assert _push(ada, hers, team.project, [_made(hers, "twin", _files("twinA"))]).status_code == 200
    assert _push(eve, his, team.project, [_made(his, "twin", _files("twinE"))]).status_code == 200
    adas, eves = manifest_digest(_files("twinA"), False), manifest_digest(_files("twinE"), False)
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        assert (artifacts.find(ws, "twin").digest, artifacts.find(ws, "twin:v0").digest) == (adas, adas)
        assert artifacts.find(ws, f"twin@{eves[:8]}").version is None  # eve's, by content, unnumbered
    with access.acting_as(team.as_user(team.bob)):
        with pytest.raises(BadInput, match="2 people have an artifact named 'twin'.*twin@DIGEST"):
            artifacts.find(ws, "twin")
        assert artifacts.find(ws, f"twin@{adas[:8]}").digest == adas
        assert artifacts.find(ws, f"twin@{eves[:8]}").digest == eves


# == 5. Resume over sync ==========================================================================

PREDICTION = {"claim": "loss ends low", "probability": 0.99, "metric": "loss", "comparison": "below",
              "threshold": 1.0}


def _predict(run_id: str) -> dict[str, Any]:
    return rec("run.predict", {"run_id": run_id, "entry_id": new_id(), "at": now_iso(), **PREDICTION})


def test_a_resume_does_not_let_a_run_predict_once_its_result_is_in(team: Team) -> None:  # noqa: F811
    """Found: a run's prediction of itself is refused once it has ended (issue 19), but a `run.resume`
    pushed for the ended run made it running again, and a prediction pushed next was taken and scored
    as made before its evidence (Brier 0.0001 on a loss already known to be 0.1): calibration for
    free. The same in one push for a new run (start, end, resume, predict). Fixed: a run that ended or
    was resumed predicts nothing new, at the door (400) and in the store (store.predictions.from_run)."""
    eve = team.api(team.eve)
    run_id = new_id()
    assert _push(eve, run_id, team.project, points={"loss": _points(5, 0.1)}).status_code == 200
    resumed = eve.post(f"/api/runs/{run_id}/push", json={"records": [rec("run.resume", {"run_id": run_id,
                                                                                         "at": now_iso()})]})
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    late = eve.post(f"/api/runs/{run_id}/push", json={"records": [_predict(run_id)]})
    assert late.status_code == 400 and "has ended" in late.json()["error"], late.text[:300]
    other = new_id()
    at_once = eve.post(f"/api/runs/{other}/push", json={"records": [
        *run_records(other, team.project), rec("run.resume", {"run_id": other, "at": now_iso()}), _predict(other)]})
    assert at_once.status_code == 400, at_once.text[:300]
    for run in (run_id, other):
        assert eve.post(f"/api/runs/{run}/push", json={"records": [
            rec("run.end", {"run_id": run, "status": "finished", "ended_at": now_iso()})]}).status_code in (200, 404)
    assert eve.get("/people/eve/calibration.json").json()["n"] == 0
    fresh = new_id()  # a run predicting as it starts still may, and a resumed one keeps what it predicted
    assert _push(eve, fresh, team.project, extra=[_predict(fresh)], points={"loss": _points(3, 0.5)}).status_code == 200
    assert eve.get("/people/eve/calibration.json").json()["n"] == 1


def _links(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"path": path, "link": target, "size": 0, "mode": 0o777} for path, target in pairs]


ESCAPES = [  # each link's target stays inside when read alone; made together, they reach outside
    _links(("a/b/c", "../.."), ("r", "a/b/c/../.."), ("r/ESCAPED/l", "x")),
    _links(("up", ".."), ("up/ESCAPED", "x")),  # ('up' at the top pointing at '..' is refused alone)
    _links(("d/up", ".."), ("r", "d/up/.."), ("r/ESCAPED", "x")),
    _links(("D/up", ".."), ("r", "d/UP/.."), ("r/ESCAPED", "x")),  # a case-insensitive file system
    _links(("d/up", ".."), ("d/UP/ESCAPED", "x")),
]


@pytest.mark.parametrize("files", ESCAPES)
def test_a_pulled_manifest_cannot_make_anything_outside_where_it_is_saved(tmp_path: Path, files: list[dict[str, Any]]
                                                                          ) -> None:
    """Found (high): links are checked one at a time, as text (domain.artifact.link_stays_inside), but a
    target that goes through another link of the same manifest, or a path under a link, resolves
    wherever that link points. A teammate's manifest (link a/b/c -> ../.., link r -> a/b/c/../.., link
    r/ESCAPED/l -> x) passed the door; pulled by `upstack sync`, `upstack save` (or a script's
    `use_artifact`, into the cache) made folders and links outside the destination (and a file, from
    any blob the reader holds). Fixed: domain.artifact.links_problem refuses such a manifest at the door,
    when a pulled record is taken, when saving, and when capturing a folder."""
    run_id = new_id()
    data = {"run_id": run_id, "name": "evil", "kind": "model", "folder": True, "files": files,
            "digest": manifest_digest(files, True), "at": now_iso()}
    assert "link" in problem("run.artifact", data)  # the door (a push) and a pull both refuse it
    ws = Workspace(home=tmp_path / "home")
    try:  # a manifest already stored (taken before the door knew): save makes nothing of it
        ws.store().write([ws.record("run.start", {"run_id": run_id, "name": "x", "started_at": now_iso()}),
                          ws.record("run.artifact", data),
                          ws.record("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})])
        (tmp_path / "out" / "deep").mkdir(parents=True)
        with pytest.raises(BadInput, match="link"):
            artifacts.save(ws, "evil", tmp_path / "out" / "deep" / "got")
        with pytest.raises(BadInput, match="link"):
            artifacts.resolver(ws)("evil")
    finally:
        ws.close()
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["deep"]
    assert not list((tmp_path / "home").rglob("ESCAPED"))


def test_a_folder_whose_links_chain_outside_is_not_captured_and_plain_links_still_are(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "ckpt-3").mkdir(parents=True)
    (folder / "ckpt-3" / "weights.bin").write_bytes(b"w")
    (folder / "latest").symlink_to("ckpt-3")
    (folder / "best").symlink_to("latest")  # a link naming a link as its last part: fine
    stored: list[Path] = []

    def store(path: Path) -> tuple[str, int]:
        stored.append(path)
        return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size

    files, is_folder = build_manifest(folder, store)
    assert is_folder and [f["path"] for f in files] == ["best", "ckpt-3/weights.bin", "latest"]
    (folder / "ckpt-3" / "up").symlink_to("..")
    (folder / "sneaky").symlink_to("ckpt-3/up/..")  # each stays inside as text; together: the parent
    with pytest.raises(BadInput, match="another link"):
        build_manifest(folder, store)


def test_the_team_server_refuses_a_manifest_whose_links_chain_outside(team: Team) -> None:  # noqa: F811
    eve, bob = team.api(team.eve), team.api(team.bob)
    run_id = new_id()
    made = rec("run.artifact", {"run_id": run_id, "name": "evil", "kind": "model", "folder": True,
                                "files": ESCAPES[0], "digest": manifest_digest(ESCAPES[0], True), "at": now_iso()})
    answer = _push(eve, run_id, team.project, [made])
    assert answer.status_code == 400 and "another link" in answer.json()["error"], answer.text[:300]
    assert bob.get("/artifacts/evil.json").status_code == 404


# == 3. Panels ====================================================================================

TEX = [("a$b", "l$\\x$"), ("$\\frac{$", "$\\undefined$"), ("x$^{", "loss")]


def test_a_teammates_run_name_or_metric_key_cannot_break_a_panels_picture(team: Team) -> None:  # noqa: F811
    """Found: matplotlib reads '$...$' in a label as TeX; a metric key 'l$\\x$' (or a run name like it)
    logged by an editor made `/panels/{id}.png` a 500 with a traceback for every reader, and so an
    export of any entry embedding that panel. Fixed: panels and `upstack plot` draw text as text
    (matplotlib's text.parse_math off)."""
    pytest.importorskip("matplotlib")
    eve, bob = team.api(team.eve), team.api(team.bob)
    runs = []
    for name, key in TEX:
        run_id = new_id()
        assert _push(eve, run_id, team.project, points={key: _points(5, 0.1)}, start={"name": name}).status_code == 200
        runs.append(run_id)
    made = eve.post("/panels", data={"keys": ",".join(k for _, k in TEX), "runs": " ".join(runs),
                                     "under": team.project, "title": "$\\bad{$"})
    assert made.status_code == 200, made.text[:300]
    for client in (bob, eve):
        picture = client.get(f"/panels/{made.json()['id']}.png")
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG"), picture.text[:300]


def test_upstack_plot_draws_a_tex_looking_name_as_text(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import upstack
    from upstack.services import run_plot

    ids = []
    for name, key in TEX:
        with upstack.run(name, home=tmp_path / "home", capture="none") as run:
            run.log({key: 0.5, "acc": 0.5}, step=0)
            run.log({key: 0.25, "acc": 0.75}, step=1)
        ids.append(run.id)
    ws = Workspace(home=tmp_path / "home")
    try:
        ws.ingest()
        out = run_plot.plot(ws, ids[:1], [TEX[0][1]], tmp_path / "one.png")
        assert out.read_bytes().startswith(b"\x89PNG")
        both = run_plot.plot(ws, ids, ["acc"], tmp_path / "all.png")  # labelled by the runs' names
        assert both.read_bytes().startswith(b"\x89PNG")
    finally:
        ws.close()


def test_naming_a_file_in_a_manifest_does_not_keep_it_from_a_purge(team: Team) -> None:  # noqa: F811
    """Found: a purge frees a file's bytes unless an attachment or an artifact still names it; on a team
    server, any manifest counted, even one whose owner never uploaded the file. Eve saw a file ada had
    attached in the shared project, named its hash in an artifact of her own, and ada's purge (a secret
    attached by mistake) left its bytes on the server's disk, and in its dumps. Fixed: on a team
    server an artifact holds a file only when its owner uploaded it (as its bytes count as there,
    services.artifacts.missing_bytes)."""
    from upstack.domain import access
    from upstack.services import curate
    from upstack.store import queries

    ada, eve = team.api(team.ada), team.api(team.eve)
    secret = b"QUSECRET api key attached by mistake"
    sha = hashlib.sha256(secret).hexdigest()
    assert ada.put(f"/api/blobs/{sha}", content=secret).status_code == 204
    at = now_iso()
    entry = {"id": new_id(), "revision_id": new_id(), "kind": "note", "title": "QUATTACK", "body": "b",
             "node_id": team.project, "occurred_at": at, "created_at": at}
    attach = {"entry_id": entry["id"], "attachments": [{"id": new_id(), "sha256": sha, "filename": "f.txt",
                                                        "media_type": "text/plain", "size": len(secret),
                                                        "created_at": at}]}
    pushed = ada.post("/api/sync/push", json={"records": [rec("entry.create", entry), rec("entry.attach", attach)]})
    assert pushed.json()["applied"] == 2, pushed.text[:300]
    assert eve.get(f"/api/blobs/{sha}").content == secret  # eve may see it: she knows its hash
    run_id = new_id()
    files = [{"path": "pinned.bin", "sha256": sha, "size": len(secret), "mode": 0o644}]
    assert _push(eve, run_id, team.project, [_made(run_id, "pin", files)]).status_code == 200
    mine = new_id()  # an artifact whose owner uploaded the file does hold it
    own = b"eve's own weights"
    assert eve.put(f"/api/blobs/{hashlib.sha256(own).hexdigest()}", content=own).status_code == 204
    kept = [{"path": "w.bin", "sha256": hashlib.sha256(own).hexdigest(), "size": len(own), "mode": 0o644}]
    assert _push(eve, mine, team.project, [_made(mine, "weights", kept)]).status_code == 200
    with access.acting_as(access.OWNER):
        removed = curate.purge(team.ws, queries.get_entry(team.ws.store().db, entry["id"]))
        assert removed == [sha] and not team.ws.blobs.path(sha).exists()
        assert team.ws.store().delete_unused_blobs({hashlib.sha256(own).hexdigest()}) == []
