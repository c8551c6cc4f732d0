"""An editor poisons a real team server with records that pass its door; a collaborator's
`upstack sync` then crashes with a traceback (issue 11 item 5 says it must not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from attack_common import rec, run_records
from upstack.ids import new_id
from upstack.services import accounts


def _laptop_sync(team, tmp_path: Path, user) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    home = tmp_path / f"laptop-{user.login}"
    home.mkdir(parents=True, exist_ok=True)
    token = accounts.create_token(team.ws, user.id, "laptop")[1]
    (home / "remote.json").write_text(json.dumps({"url": team.server.url, "token": token, "login": user.login}))
    env = {**os.environ, "UPSTACK_HOME": str(home), "NO_COLOR": "1"}
    env.pop("UPSTACK_DB", None)
    return subprocess.run([sys.executable, "-m", "upstack", "sync"], env=env, capture_output=True, text=True,
                          timeout=300)


def _tail(done: subprocess.CompletedProcess[str]) -> str:
    return " | ".join(done.stderr.strip().splitlines()[-3:])


def test_run_with_date_only_start_crashes_collaborators_sync(team, tmp_path: Path) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    records = run_records(run_id, team.project, start={"started_at": "2026-01-01"})
    eve.post(f"/api/runs/{run_id}/push", json={"records": records})  # the server answers 500 here
    done = _laptop_sync(team, tmp_path, team.bob)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), _tail(done)
    done = _laptop_sync(team, tmp_path, team.ada)  # the project's owner too
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), _tail(done)


def test_run_with_deep_config_crashes_collaborators_sync(team, tmp_path: Path) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    nested: dict = {"v": 1}
    for _ in range(900):
        nested = {"a": nested}
    eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, team.project,
                                                                      start={"config": nested})})
    done = _laptop_sync(team, tmp_path, team.bob)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), _tail(done)


def test_entry_with_date_only_times_then_collaborator_cli(team, tmp_path: Path) -> None:  # noqa: ANN001
    """An entry with occurred_at '2026-01-01' pulled by bob: then `upstack log` / `show` on the laptop."""
    from attack_common import entry_create
    eve = team.api(team.eve)
    entry = entry_create(node_id=team.project, occurred_at="2026-01-01", created_at="2026-01-01T00:00:00+05:00")
    assert eve.post("/api/sync/push", json={"records": [rec("entry.create", entry)]}).json()["applied"] == 0
    done = _laptop_sync(team, tmp_path, team.bob)
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), _tail(done)
    env = {**os.environ, "UPSTACK_HOME": str(tmp_path / "laptop-bob"), "NO_COLOR": "1"}
    broken = {}
    for args in (["log"], ["show", entry["id"]], ["search", "QUATTACK"], ["review"], ["tree"], ["export", "--out", str(tmp_path / "export.json")]):
        run = subprocess.run([sys.executable, "-m", "upstack", *args], env=env, capture_output=True, text=True,
                             timeout=120, cwd=tmp_path)
        if "Traceback" in run.stderr:
            broken[" ".join(args)] = _tail(run)
    assert not broken, broken


def test_long_multibyte_attachment_name_breaks_save_and_export(team, tmp_path: Path) -> None:  # noqa: ANN001
    """attachment_name keeps 120 *characters*; 120 CJK characters are 360 bytes, over the 255-byte
    limit of a file name on Linux/macOS file systems: `upstack save` and Markdown export then fail."""
    import hashlib

    from attack_common import entry_create
    from upstack.timeutil import now_iso
    eve = team.api(team.eve)
    entry = entry_create(node_id=team.project)
    blob = b"\x89PNG\r\n\x1a\nQULONGNAME"
    sha = hashlib.sha256(blob).hexdigest()
    assert eve.put(f"/api/blobs/{sha}", content=blob).status_code == 204
    attachment_id = new_id()
    attach = {"entry_id": entry["id"], "attachments": [{"id": attachment_id, "sha256": sha, "filename": "漢" * 130,
                                                        "media_type": "image/png", "size": len(blob),
                                                        "created_at": now_iso()}]}
    answer = eve.post("/api/sync/push", json={"records": [rec("entry.create", entry), rec("entry.attach", attach)]})
    assert answer.json()["applied"] == 2, answer.text
    done = _laptop_sync(team, tmp_path, team.bob)
    assert "Traceback" not in done.stderr, _tail(done)
    env = {**os.environ, "UPSTACK_HOME": str(tmp_path / "laptop-bob"), "NO_COLOR": "1"}
    broken = {}
    out = tmp_path / "out"
    out.mkdir()
    for args in (["save", attachment_id], ["save", attachment_id, str(out)],
                 ["export", "--format", "markdown", str(tmp_path / "vault")]):
        run = subprocess.run([sys.executable, "-m", "upstack", *args], env=env, capture_output=True, text=True,
                             timeout=120, cwd=out)
        if "Traceback" in run.stderr or run.returncode not in (0, 1):  # the two saves meet: one line, exit 1
            broken[" ".join(args)] = (run.returncode, _tail(run) or run.stdout[-200:])
    assert not broken, broken
