"""Fail closed, removed members, admins, unsigned routes."""

from __future__ import annotations

import httpx

from attack_common import entry_create, rec, run_records
from upstack.ids import new_id
from upstack.services import accounts
from upstack.timeutil import now_iso


def test_unsigned_routes(team) -> None:  # noqa: ANN001
    anon = httpx.Client(base_url=team.server.url, timeout=30)
    team.server.clients.append(anon)
    leaks = {}
    for path in ("/openapi.json", "/api/docs", "/docs", "/redoc", "/api/docs/oauth2-redirect",
                 "/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml", "/static//etc/passwd",
                 "/static/..%2f..%2f..%2fpyproject.toml", "/login.json", "/login/../log.json", "/join/x.json",
                 "/reset/x.json", "/api/sync/manifest.json", "/api/sync/runs.json", "/log.json", "/runs.json",
                 "/loginx", "/static", "/static/"):
        answer = anon.get(path, headers={"Accept": "application/json"})
        if answer.status_code == 200 and ("Probing" in answer.text or "[project]" in answer.text
                                          or "entries" in answer.text or "root:" in answer.text):
            leaks[path] = answer.text[:120]
        if answer.status_code >= 500:
            leaks[path] = answer.status_code
    for token in ("x", "Bearer", "null", "x" * 5000):
        answer = anon.get("/api/sync/manifest.json", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 401:
            leaks[f"token {token!r}"] = answer.status_code
    answer = anon.post("/api/sync/push", json={"records": [rec("entry.create", entry_create())]})
    if answer.status_code not in (401, 403):
        leaks["unsigned push"] = answer.status_code
    assert not leaks, leaks


def test_removed_member_token_dies(team) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    assert eve.get("/api/me.json").status_code == 200
    accounts.remove_user(team.ws, "eve", by=team.ada.id)
    assert eve.get("/api/me.json").status_code == 401
    answer = eve.post("/api/sync/push", json={"records": [rec("entry.create", entry_create(node_id=team.project))]})
    assert answer.status_code == 401, answer.text


def test_unshared_editor_cannot_log_to_old_run_under_project(team) -> None:  # noqa: ANN001
    """eve starts a running run under P, then loses her share; she can still append to that run, and
    finishing it writes a result entry under P, a node she no longer holds any role on."""
    eve = team.api(team.eve)
    run_id = new_id()
    assert eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, team.project, end=False)}
                    ).status_code == 200
    accounts.unshare(team.ws, team.project, "eve", by=None)
    later = eve.post(f"/api/runs/{run_id}/push", json={"records": [
        rec("run.note", {"run_id": run_id, "text": "QUAFTERUNSHARE", "at": now_iso()}),
        rec("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})]})
    node = team.ws.store().db.scalar("SELECT node_id FROM entries WHERE id = ?", (run_id,))
    assert later.status_code != 200 or node != team.project, \
        "a former editor filed a new entry (the run's result) under the project after losing her share"


def test_second_admin_sees_nothing_through_sync(team) -> None:  # noqa: ANN001
    root, _ = accounts.add_user(team.ws, "root", admin=True)
    ada = team.api(team.ada)
    private = entry_create(node_id=team.project, private=True)
    ada.post("/api/sync/push", json={"records": [rec("entry.create", private)]})
    client = team.api(root)
    manifest = client.get("/api/sync/manifest.json").json()
    assert private["id"] not in manifest["entries"]
    got = client.post("/api/sync/pull", json={"entries": [private["id"]], "nodes": [team.project], "have": {}})
    assert private["id"] not in got.text and team.project not in got.text, got.text[:300]
    assert root.id  # admin may not push under the project either
    answer = client.post("/api/sync/push", json={"records": [rec("entry.create", entry_create(node_id=team.project))]})
    assert answer.json()["refused"], answer.text
