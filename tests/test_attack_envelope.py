"""The record envelope (id, workspace, at) and metric keys are not in the per-op schemas."""

from __future__ import annotations

import base64
from array import array

import pytest

from attack_common import entry_create, rec, run_records, status
from upstack.ids import new_id
from upstack.timeutil import now_iso


@pytest.fixture(autouse=True)
def _others(team) -> None:  # noqa: ANN001
    team.others = (team.api(team.bob), team.api(team.ada))  # tokens made before any attack


def _after(team) -> dict[str, int]:  # noqa: ANN001
    """What others get afterwards from a few routes (the server must still serve them)."""
    bob, ada = team.others
    return {f"{who} {p}": status(c, p) for who, c in (("bob", bob), ("ada", ada))
            for p in ("/log.json", "/runs.json", "/api/sync/manifest.json", "/tree.json")}


@pytest.mark.parametrize("field", ["id", "workspace", "at"])
def test_nul_in_envelope_of_sync_push(team, field: str) -> None:  # noqa: ANN001
    mal = team.api(team.mal)
    record = rec("entry.create", entry_create())
    record[field] = "x\x00y" if field != "at" else now_iso() + "\x00"
    answer = status(mal, "/api/sync/push", "POST", json={"records": [record]})
    after = _after(team)
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def test_nul_in_attach_record_at(team) -> None:  # noqa: ANN001
    import hashlib
    mal = team.api(team.mal)
    entry = entry_create()
    mal.post("/api/sync/push", json={"records": [rec("entry.create", entry)]})
    blob = b"QUNULBLOB"
    sha = hashlib.sha256(blob).hexdigest()
    mal.put(f"/api/blobs/{sha}", content=blob)
    attach = {"entry_id": entry["id"], "attachments": [{"id": new_id(), "sha256": sha, "filename": "f.txt",
                                                        "media_type": "text/plain", "size": len(blob),
                                                        "created_at": now_iso()}]}
    answer = status(mal, "/api/sync/push", "POST", json={"records": [rec("entry.attach", attach, at="t\x00")]})
    after = _after(team)
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def _points(key: str, n: int = 3) -> dict:
    enc = lambda a: base64.b64encode(a.tobytes()).decode()  # noqa: E731
    return {key: {"from": 0, "steps": enc(array("q", range(n))), "times": enc(array("d", [1.0] * n)),
                  "values": enc(array("d", [0.5] * n))}}


@pytest.mark.parametrize("key", ["a\x00b", "k" * 200_000])
def test_odd_metric_keys(team, key: str) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    answer = status(eve, f"/api/runs/{run_id}/push", "POST",
                    json={"records": run_records(run_id, team.project), "points": _points(key)})
    bob = team.others[0]
    after = {p: status(bob, p) for p in ("/runs.json", f"/runs/{run_id}.json", f"/runs/{run_id}", "/log.json",
                                         "/api/sync/runs.json")}
    after["pull"] = status(bob, f"/api/runs/{run_id}/pull", "POST", json={"have": {}})
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def test_nul_in_run_record_envelope(team) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    records = run_records(run_id, team.project)
    records[0]["id"] = "s\x00"
    answer = status(eve, f"/api/runs/{run_id}/push", "POST", json={"records": records})
    after = _after(team)
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def test_nul_record_id_poison_survives_a_restart(team) -> None:  # noqa: ANN001
    """After the push, a fresh Workspace on the server's home (a restarted server, the admin's CLI)
    still cannot open its store: the record stays in the journal and every ingest retries it."""
    from upstack.workspace import Workspace
    mal = team.api(team.mal)
    record = rec("entry.create", entry_create())
    record["id"] = "x\x00y"
    status(mal, "/api/sync/push", "POST", json={"records": [record]})
    fresh = Workspace(home=team.ws.home, db=team.ws.db_url)
    try:
        fresh.ingest()
    finally:
        fresh.close()


@pytest.mark.parametrize("where", ["title", "id", "workspace", "tag"])
def test_lone_surrogate(team, where: str) -> None:  # noqa: ANN001
    """JSON '\\ud800' is valid JSON and decodes to a lone surrogate that UTF-8 cannot encode."""
    import json as _json
    mal = team.api(team.mal)
    record = rec("entry.create", entry_create())
    if where == "title":
        record["data"]["title"] = "QUSURR \ud800"
    elif where == "tag":
        record["data"]["extra_tags"] = ["\ud800"]
    else:
        record[where] = "\ud800"
    raw = _json.dumps({"records": [record]})  # ensure_ascii: the surrogate travels as \\ud800
    answer = status(mal, "/api/sync/push", "POST", content=raw, headers={"Content-Type": "application/json"})
    after = _after(team)
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


@pytest.mark.parametrize("size", [2**63, 10**30])
def test_huge_attachment_size(team, size: int) -> None:  # noqa: ANN001
    """Attachment.size is StrictInt ge=0 with no upper bound; the column is an integer."""
    import hashlib
    mal = team.api(team.mal)
    entry = entry_create()
    mal.post("/api/sync/push", json={"records": [rec("entry.create", entry)]})
    blob = b"QUSIZEBLOB"
    sha = hashlib.sha256(blob).hexdigest()
    mal.put(f"/api/blobs/{sha}", content=blob)
    attach = {"entry_id": entry["id"], "attachments": [{"id": new_id(), "sha256": sha, "filename": "f.txt",
                                                        "media_type": "text/plain", "size": size,
                                                        "created_at": now_iso()}]}
    answer = status(mal, "/api/sync/push", "POST", json={"records": [rec("entry.attach", attach)]})
    after = _after(team)
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def test_huge_point_index(team) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    points = _points("loss")
    points["loss"]["from"] = 10**30
    answer = status(eve, f"/api/runs/{run_id}/push", "POST", json={"records": run_records(run_id, team.project, end=False),
                                                                   "points": points})
    after = _after(team)
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def test_huge_step_in_run_table_and_summary_ints(team) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    extra = [rec("run.summary", {"run_id": run_id, "values": {"big": 10**400}}),
             rec("run.table", {"run_id": run_id, "columns": ["a"], "rows": [["1"]], "row_count": 10**30})]
    answer = status(eve, f"/api/runs/{run_id}/push", "POST", json={"records": run_records(run_id, team.project, extra=extra)})
    bob = team.others[0]
    after = {p: status(bob, p) for p in ("/runs.json", f"/runs/{run_id}.json", f"/runs/{run_id}", "/log.json",
                                         f"/e/{run_id}.json")}
    after["pull"] = status(bob, f"/api/runs/{run_id}/pull", "POST", json={"have": {}})
    assert answer < 500 and all(s < 500 for s in after.values()), (answer, after)


def test_huge_attachment_size_poison_survives_a_restart(team) -> None:  # noqa: ANN001
    """An outsider (no role anywhere) attaches a file to their own unfiled entry with size 2**63:
    the record is journaled, every ingest fails on it, on both engines, also after a restart."""
    import hashlib

    from upstack.workspace import Workspace
    mal = team.api(team.mal)
    entry = entry_create()
    blob = b"QUSIZEBLOB2"
    sha = hashlib.sha256(blob).hexdigest()
    mal.put(f"/api/blobs/{sha}", content=blob)
    attach = {"entry_id": entry["id"], "attachments": [{"id": new_id(), "sha256": sha, "filename": "f.txt",
                                                        "media_type": "text/plain", "size": 2**63,
                                                        "created_at": now_iso()}]}
    status(mal, "/api/sync/push", "POST", json={"records": [rec("entry.create", entry), rec("entry.attach", attach)]})
    fresh = Workspace(home=team.ws.home, db=team.ws.db_url)
    try:
        fresh.ingest()
    finally:
        fresh.close()
