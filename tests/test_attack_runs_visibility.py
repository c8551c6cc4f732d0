"""A run whose result entry its author deleted must be hidden from everyone else, by every read path."""

from __future__ import annotations

import base64
import hashlib
from array import array

import pytest

from attack_common import rec, run_records
from upstack.ids import new_id, short_id
from upstack.timeutil import now_iso

MARK = "QURUNSECRETNAME"
CONF = "QUCONFIGSECRET"
BLOB = b"\x89PNG\r\n\x1a\nQUFIGSECRET" + b"\0" * 16


def _points(n: int) -> dict:
    enc = lambda a: base64.b64encode(a.tobytes()).decode()  # noqa: E731
    return {"loss": {"from": 0, "steps": enc(array("q", range(n))), "times": enc(array("d", [1.0] * n)),
                     "values": enc(array("d", [0.5] * n))}}


@pytest.fixture
def hidden_run(team):  # noqa: ANN001, ANN201
    ada = team.api(team.ada)
    sha = hashlib.sha256(BLOB).hexdigest()
    assert ada.put(f"/api/blobs/{sha}", content=BLOB).status_code == 204
    run_id = new_id()
    fig_id = new_id()
    figure = rec("run.figure", {"run_id": run_id, "title": "QUFIGTITLESECRET", "attachments": [
        {"id": fig_id, "sha256": sha, "filename": "fig.png", "media_type": "image/png", "size": len(BLOB),
         "created_at": now_iso()}]})
    note = rec("run.note", {"run_id": run_id, "text": "QUNOTESECRET", "at": now_iso()})
    summary = rec("run.summary", {"run_id": run_id, "values": {"QUSUMMARYKEY": 1.0}, "learned": "QULEARNEDSECRET"})
    records = run_records(run_id, team.project, start={"name": MARK, "config": {"k": CONF}, "tags": ["qutagsecret"]},
                          extra=[figure, note, summary])
    answer = ada.post(f"/api/runs/{run_id}/push", json={"records": records, "points": _points(5)})
    assert answer.status_code == 200, answer.text
    bob = team.api(team.bob)
    assert MARK in bob.get("/runs.json").text  # visible before
    gone = ada.post("/api/sync/push", json={"records": [rec("entry.delete", {"entry_id": run_id, "at": now_iso()})]})
    assert gone.json()["applied"] == 1, gone.text
    return run_id, sha, fig_id


SECRETS = (MARK, CONF, "QUFIGSECRET", "QUFIGTITLESECRET", "QUNOTESECRET", "QUSUMMARYKEY", "QULEARNEDSECRET",
           "qutagsecret")


def test_deleted_result_hides_run_everywhere(team, hidden_run) -> None:  # noqa: ANN001
    run_id, sha, fig_id = hidden_run
    leaks = {}
    for who in ("bob", "eve"):
        client = team.api(getattr(team, who))
        gets = ["/runs.json", "/runs", f"/runs/{run_id}.json", f"/runs/{short_id(run_id)}.json",
                f"/runs/{run_id}/series.json?key=loss", f"/runs/{run_id}/series.csv?key=loss",
                f"/runs/{run_id}/series.json", f"/runs/{run_id}/series.csv",
                f"/runs/compare.json?ids={run_id}", f"/runs/compare?ids={run_id}",
                f"/runs/compare.json?ids={short_id(run_id)},{short_id(run_id)}",
                "/runs.json?q=" + CONF, "/runs.json?config=k=" + CONF,
                "/search.json?q=" + MARK, "/search.json?q=QUNOTESECRET", "/search.json?q=qutagsecret",
                "/search/facets?q=zebra", "/search.json?q=%23qutagsecret",
                "/tree.json", f"/tree/{team.project}.json", f"/tree/{team.project}", "/review.json", "/review",
                "/log.json", "/", f"/e/{run_id}.json", "/api/sync/runs.json", "/api/sync/manifest.json",
                f"/api/blobs/{sha}", f"/a/{fig_id}", "/ideas.json", "/notifications.json"]
        for path in gets:
            try:
                answer = client.get(path)
            except Exception as exc:  # noqa: BLE001
                leaks[f"{who} GET {path}"] = [repr(exc)]
                continue
            text = answer.text
            for echoed in (path.split("q=")[-1], path.split("q=")[-1].replace("%23", "#")) if "q=" in path else ():
                text = text.replace(echoed, "")
            found = [s for s in SECRETS if s in text] + (["run id"] if run_id in text and answer.status_code < 400 else [])
            if answer.status_code >= 500:
                found.append(f"status {answer.status_code}")
            if found:
                leaks[f"{who} GET {path}"] = found
        pulled = client.post(f"/api/runs/{run_id}/pull", json={"have": {}})
        if pulled.status_code == 200:
            leaks[f"{who} pull"] = pulled.text[:200]
        pulled = client.post("/api/sync/pull", json={"entries": [run_id], "nodes": [], "have": {}})
        if run_id in pulled.text:
            leaks[f"{who} sync pull"] = pulled.text[:200]
    assert not leaks, "\n".join(f"{k}: {v}" for k, v in leaks.items())


def test_overlay_and_csv_of_hidden_run_next_to_a_visible_one(team, hidden_run) -> None:  # noqa: ANN001
    run_id, _, _ = hidden_run
    ada = team.api(team.ada)
    visible = new_id()
    assert ada.post(f"/api/runs/{visible}/push", json={"records": run_records(visible, team.project),
                                                       "points": _points(4)}).status_code == 200
    bob = team.api(team.bob)
    csv = bob.get(f"/runs/{visible}/series.csv?key=loss")
    assert csv.status_code == 200 and csv.text.count("\n") >= 4, (csv.status_code, csv.text[:200])
    leaks = {}
    for path in (f"/runs/{visible}.json?with={run_id}", f"/runs/{visible}?with={run_id}",
                 f"/runs/{visible}.json?with={short_id(run_id)}", f"/runs/compare.json?ids={visible},{run_id}",
                 f"/runs/compare.json?ids={visible}&ids={run_id}"):
        answer = bob.get(path)
        if answer.status_code == 200 and (MARK in answer.text or run_id in answer.text):
            leaks[path] = answer.text[:200]
    assert not leaks, leaks
