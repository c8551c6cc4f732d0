"""Final attack on today's changes: members' UTC offsets through sync, /pace on a team server and
in local mode, Markdown export's private folders. Each hole found is an xfail(strict) test."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

import pytest

from attack_common import entry_create, rec, run_records, status, team  # noqa: F401
from upstack.ids import new_id
from upstack.workspace import Workspace
from webserver import serve

ZONE = "+05:45"


def _push_entry(team, user, **more):  # noqa: ANN001, ANN202, F811
    client = team.api(user)
    entry = entry_create(node_id=team.project, utc_offset=ZONE, **more)
    answer = client.post("/api/sync/push", json={"records": [rec("entry.create", entry)]})
    assert answer.status_code == 200 and not answer.json().get("refused"), answer.text
    return entry


def _push_run(team, user):  # noqa: ANN001, ANN202, F811
    client = team.api(user)
    run_id = new_id()
    answer = client.post(f"/api/runs/{run_id}/push",
                         json={"records": run_records(run_id, team.project, start={"utc_offset": ZONE})})
    assert answer.status_code == 200, answer.text
    return run_id


@pytest.mark.parametrize("reader", ["ada", "bob", "mal"])
def test_entry_zone_not_pulled_by_others(team, reader: str) -> None:  # noqa: F811
    entry = _push_entry(team, team.eve)
    stored = team.ws.store().db.scalar("SELECT utc_offset FROM entries WHERE id = ?", (entry["id"],))
    client = team.api(getattr(team, reader))
    got = client.post("/api/sync/pull", json={"entries": [entry["id"]], "nodes": [team.project], "have": {}})
    assert ZONE not in got.text, (stored, got.text[:400])
    for path in ("/log.json", f"/entries/{entry['id']}.json", "/api/sync/manifest.json"):
        assert ZONE not in client.get(path).text, path


def test_entry_zone_pulled_by_author(team) -> None:  # noqa: F811
    entry = _push_entry(team, team.eve)
    got = team.api(team.eve).post("/api/sync/pull", json={"entries": [entry["id"]], "have": {}})
    assert ZONE in got.text


@pytest.mark.parametrize("reader", ["ada", "bob", "mal"])
def test_run_zone_not_pulled_by_others(team, reader: str) -> None:  # noqa: F811
    run_id = _push_run(team, team.eve)
    stored = team.ws.store().db.scalar("SELECT utc_offset FROM runs WHERE id = ?", (run_id,))
    client = team.api(getattr(team, reader))
    got = client.post(f"/api/runs/{run_id}/pull", json={"have": {}})
    assert ZONE not in got.text, (stored, got.text[:400])
    # its result entry (and any learning) carry the run's zone too
    pulled = client.post("/api/sync/pull", json={"entries": [run_id], "nodes": [team.project], "have": {}})
    assert ZONE not in pulled.text, pulled.text[:400]
    for path in ("/runs.json", f"/runs/{run_id}.json", "/api/sync/runs.json", "/log.json"):
        assert ZONE not in client.get(path).text, path


def test_learning_zone_not_pulled_by_others(team) -> None:  # noqa: F811
    eve = team.api(team.eve)
    run_id, learning = new_id(), new_id()
    summary = rec("run.summary", {"run_id": run_id, "values": {"learned": "QUALEARN it", "learning_id": learning}})
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, team.project, start={"utc_offset": ZONE}, extra=[summary])})
    assert answer.status_code == 200, answer.text
    for reader in (team.ada, team.bob):
        got = team.api(reader).post("/api/sync/pull", json={"entries": [learning, run_id], "have": {}})
        assert ZONE not in got.text, got.text[:400]


@pytest.mark.parametrize("who", ["ada", "bob", "eve", "mal"])
def test_pace_is_404_on_team_server(team, who: str) -> None:  # noqa: F811
    client = team.api(getattr(team, who))
    assert status(client, "/pace") == 404
    assert status(client, "/pace.json") == 404
    assert status(client, "/pace", "POST", data={"energy": "2"}) == 404
    assert status(client, "/pace?day=yesterday") == 404


def test_pace_post_writes_nothing_on_team_server(team) -> None:  # noqa: F811
    for user in (team.ada, team.bob, team.eve, team.mal):
        team.api(user).post("/pace", data={"energy": "2", "mood": "1", "sign-x": "3"})
    count = team.ws.store().db.scalar("SELECT COUNT(*) FROM path_records WHERE op LIKE 'checkin%'")
    assert not count


@pytest.fixture
def local(tmp_path: Path, db_url: str | None):  # noqa: ANN201
    home = tmp_path / "local"
    ws = Workspace(home=home, db=db_url)
    ws.store()
    with serve(home, db_url) as server:
        yield server, ws
    ws.close()


@pytest.mark.parametrize("form", [
    {"energy": "9"}, {"energy": "-1"}, {"energy": "nan"}, {"sleep_hours": "nan"}, {"sleep_hours": "inf"},
    {"sleep_hours": "1e308"}, {"hours_worked": "-5"}, {"mood": "2.5"}, {"mood": "\x00"},
    {"note": "x" * 2_000_000}, {"sign-nosuch": "2"}, {"sign-": "2"}, {"sign-../x": "1"},
    {"sign-nosuch": ""}, {"energy": "", "mood": "", "note": "", "day": "2001-01-01"},
    {"day": "9999-12-31", "energy": "1"}, {"day": "x" * 100_000}, {"energy": "1" * 5000},
    {"sleep_hours": "1" * 5000}, {"note": "\x00"},
])
def test_pace_local_malformed(local, form: dict[str, str]) -> None:
    server, _ = local
    c = server.client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/pace").text).group(1)
    answer = status(c, "/pace", "POST", data={"csrf": csrf, **form})
    assert answer < 500, answer
    as_json = status(c, "/pace", "POST", data={"csrf": csrf, **form}, headers={"Accept": "application/json"})
    assert as_json < 500, as_json
    assert status(c, "/pace") < 500


@pytest.mark.parametrize("title", ["../../escape", "..", "a/../../b", "/etc/passwd", ".hidden", "~/x"])
def test_markdown_private_export_modes_and_names(workspace, tmp_path: Path, title: str) -> None:
    from upstack.interop.markdown import export_markdown
    from upstack.services import capture

    capture.note(workspace, f"{title}\n\nsecret body", private=True)
    out = tmp_path / "deep" / "vault"
    export_markdown(workspace, out, include_private=True)
    written = [p for p in (tmp_path / "deep").rglob("*") if p.is_file()]
    assert written and all(out in p.parents for p in written), written
    for p in [out, out.parent, *(p for p in out.rglob("*"))]:
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode & 0o077 == 0, (p, oct(mode))


def test_markdown_export_refuses_symlinked_folder(workspace, tmp_path: Path) -> None:
    from upstack.errors import BadInput
    from upstack.interop.markdown import export_markdown
    from upstack.services import capture

    capture.note(workspace, "Secret in attachments", private=True)
    out = tmp_path / "vault"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "attachments").symlink_to(tmp_path / "elsewhere")
    with contextlib.suppress(BadInput):
        export_markdown(workspace, out, include_private=True)
    assert not list((tmp_path / "elsewhere").iterdir())
