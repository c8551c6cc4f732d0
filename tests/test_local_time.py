"""Local time (issue 18): entries, runs and check-ins record the writer's UTC offset, and `upstack pace`
reads each time on the clock of the zone it was written in (one written before offsets were recorded,
in this machine's zone now); the offset survives a team server and a JSON export, and the sync door and
an import refuse one that is not an offset (both engines)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import CLI, round_trip, time_zone
from upstack.formats.journal import make_record
from upstack.ids import new_id
from upstack.services import accounts, capture, pace, wellbeing
from upstack.services import sync as sync_service
from upstack.services.runstart import start_run
from upstack.timeutil import offset_minutes, simulated_clock, to_iso, utc_offset, wall_time
from upstack.workspace import Workspace

KOLKATA, LOS_ANGELES = "Asia/Kolkata", "America/Los_Angeles"
NIGHT = date(2026, 11, 10)  # a Tuesday; Los Angeles is on standard time (UTC-08:00) then


def _offset_in(zone: str, moment: datetime | None = None) -> str:
    """The zone's offset at ``moment`` (now), worked out from the zone database, not by upstack."""
    offset = (moment or datetime.now(ZoneInfo(zone))).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _column(ws: Workspace, table: str, row_id: str) -> Any:
    return ws.store().db.scalar(f"SELECT utc_offset FROM {table} WHERE id = ?", (row_id,))


def _late_nights(ws: Workspace, day: date) -> str:
    """The late-activity sparkline `upstack pace` draws for the four weeks up to ``day``."""
    return pace.pace(ws, day=day).sparks["late_activity"]


def _at(zone: str, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone))


def _a_day_at_noon_before(ws: Workspace, zone: str) -> None:
    """A note at noon ten days before ``NIGHT``, written in ``zone``: the log's rhythm starts there (pace
    counts no days off before a person's first writing), so the night after it stands out."""
    with time_zone(zone), simulated_clock(_at(zone, NIGHT - timedelta(days=10), time(12, 0))):
        capture.note(ws, "Reading day.")


# -- what is recorded -------------------------------------------------------------------------------

@pytest.mark.parametrize("zone", [KOLKATA, LOS_ANGELES])
def test_every_way_of_writing_an_entry_records_the_writers_offset(run: CLI, zone: str) -> None:
    with time_zone(zone):
        expected = _offset_in(zone)
        project = run.ok("add", "project", "Probes", "--why", "Find the feature.").split()[0]
        written = [run.ok("note", "A note.").strip(),
                   run.ok("note", "--kind", "result", "Probe accuracy 0.91.", "--learned", "Probes work.").strip(),
                   run.ok("idea", "Probe the residual stream.").split()[0],
                   run.ok("ask", project, "--no-edit").strip()]
        ids = [e["id"] for e in json.loads(run.ok("log", "--json", "-n", "0"))]
    assert len(ids) == len(written) + 1  # and the learning the result taught
    with Workspace(home=run.home, db=run.db_url) as ws:
        assert {_column(ws, "entries", i) for i in ids} == {expected}


def test_a_run_and_a_check_in_record_the_offset_and_a_runs_result_keeps_its_runs(workspace: Workspace) -> None:
    with time_zone(KOLKATA):
        with start_run(workspace, "probe-sweep", capture="none") as r:
            r.log({"loss": 0.5}, step=0)
        wellbeing.check_in(workspace, sleep_hours=7, energy=2)
        workspace.ingest()
    assert _column(workspace, "runs", r.id) == "+05:30"
    assert _column(workspace, "entries", r.id) == "+05:30"  # its result entry, made when it ended
    [checkin] = wellbeing.read_records(workspace, "checkin.log")
    assert checkin.data["utc_offset"] == "+05:30"


def test_a_zone_no_place_uses_records_no_offset(workspace: Workspace) -> None:
    with time_zone("XYZ-15"):  # POSIX: UTC+15, beyond any place's
        assert utc_offset() is None
        entry = capture.note(workspace, "Written on a misconfigured machine.")
    assert _column(workspace, "entries", entry.id) is None


def test_offsets_are_read_and_refused_as_written() -> None:
    assert [offset_minutes(t) for t in ("+05:30", "-08:00", "+14:00", "-12:00", "+00:00")] == [330, -480, 840,
                                                                                               -720, 0]
    for wrong in ("+99:00", "+14:15", "-12:30", "+5:30", "05:30", "+05:60", "+0530", "+٠٥:٣٠", "x" * 10_000, 330,
                  None):
        with pytest.raises(ValueError) as refused:
            offset_minutes(wrong)
        assert len(str(refused.value)) < 100  # says what is wrong without repeating a long text
    stored = "2026-11-10T18:00:00.000000Z"
    assert wall_time(stored, "+05:30") == datetime(2026, 11, 10, 23, 30)
    with time_zone(LOS_ANGELES):
        assert wall_time(stored, None) == datetime(2026, 11, 10, 10, 0)  # no offset: this zone now
        assert wall_time(stored, "+99:00") == datetime(2026, 11, 10, 10, 0)  # none that is one either


# -- how pace reads it ------------------------------------------------------------------------------

def test_a_late_entry_written_in_kolkata_is_late_when_read_in_los_angeles(workspace: Workspace) -> None:
    _a_day_at_noon_before(workspace, KOLKATA)
    with time_zone(KOLKATA), simulated_clock(_at(KOLKATA, NIGHT, time(23, 30))):
        capture.note(workspace, "Still debugging the probe at half past eleven.")
    for reader in (LOS_ANGELES, KOLKATA, "UTC"):
        with time_zone(reader):
            nights = _late_nights(workspace, NIGHT)
        # In Los Angeles it was 10:00 that morning: read in the reader's zone, it would not be late.
        assert nights[-1] == "█" and set(nights[:-1].strip()) == {"▁"}, (reader, nights)


def test_an_entry_from_before_offsets_is_read_in_the_zone_now(workspace: Workspace) -> None:
    """As an older upstack wrote it: no offset. 23:30 in Los Angeles is 13:00 the next day in Kolkata."""
    _a_day_at_noon_before(workspace, LOS_ANGELES)
    created = to_iso(_at(LOS_ANGELES, NIGHT, time(23, 30)))
    workspace.append([make_record("entry.create", workspace.workspace_id, {
        "id": new_id(), "revision_id": new_id(), "kind": "note", "title": "Written by an older upstack.",
        "body": "", "extra_tags": [], "private": False, "project": None, "node_id": None,
        "occurred_at": created, "created_at": created, "attachments": [], "meta": {}})])
    with time_zone(LOS_ANGELES):
        assert _late_nights(workspace, NIGHT)[-1] == "█"
    with time_zone(KOLKATA):
        assert set(_late_nights(workspace, NIGHT + timedelta(days=1)).strip()) == {"▄"}  # one level: none late


def test_a_run_started_late_counts_in_the_starters_own_time_and_its_end_does_not(workspace: Workspace) -> None:
    with time_zone(KOLKATA), simulated_clock(_at(KOLKATA, NIGHT, time(23, 45))) as clock:
        run = start_run(workspace, "overnight-sweep", capture="none")
        clock.set(_at(KOLKATA, NIGHT + timedelta(days=1), time(9, 0)))  # it ends the next morning
        run.finish()
    workspace.ingest()
    with time_zone(LOS_ANGELES):
        found = pace.pace(workspace, day=NIGHT + timedelta(days=1))
    # Late the evening it was started; no work the next day, when its result entry was made by the run,
    # not written by the person.
    assert found.sparks["late_activity"][-2:] == "█▁", found.sparks
    assert found.sparks["worked_day"][-2:] == "█▁", found.sparks


# -- where it travels -------------------------------------------------------------------------------

@pytest.fixture
def kolkata_laptop(tmp_path: Path) -> Iterator[tuple[Workspace, str, str]]:
    """A laptop in Kolkata with a note and a finished run: (its workspace, the note's id, the run's)."""
    laptop = Workspace(home=tmp_path / "laptop", run_capture="none")
    with time_zone(KOLKATA):
        note = capture.note(laptop, "Written in Kolkata.")
        with start_run(laptop, "kolkata-sweep") as r:
            r.log({"loss": 0.25}, step=0)
        laptop.ingest()
    yield laptop, note.id, r.id
    laptop.close()


def test_the_offset_survives_a_team_server_and_back(team: Any, kolkata_laptop: tuple[Workspace, str, str],
                                                    tmp_path: Path) -> None:
    laptop, note_id, run_id = kolkata_laptop
    sync_service.login(laptop, team.server.url, accounts.create_token(team.ws, team.ada.id, "laptop")[1])
    report = sync_service.sync(laptop)
    assert report.refused == [] and report.runs_sent == 1
    for row_id, table in ((note_id, "entries"), (run_id, "runs"), (run_id, "entries")):
        assert _column(team.ws, table, row_id) == "+05:30", (table, row_id)
    with time_zone(LOS_ANGELES):  # the same person's other machine, on another continent
        other = Workspace(home=tmp_path / "other")
        sync_service.login(other, team.server.url, accounts.create_token(team.ws, team.ada.id, "other")[1])
        assert sync_service.sync(other).refused == []
    try:
        for row_id, table in ((note_id, "entries"), (run_id, "runs"), (run_id, "entries")):
            assert _column(other, table, row_id) == "+05:30", (table, row_id)
    finally:
        other.close()


def test_a_members_zone_goes_back_to_them_only(team: Any, tmp_path: Path) -> None:
    """Eve's note and run, written in Kolkata under the shared project: Bob, who may read both, pulls
    them without her zone (it would tell him where in the world she is); Eve's other machine gets it."""
    from attack_common import entry_create, rec, run_records

    entry_id, run_id = new_id(), new_id()
    eve = team.api(team.eve)
    pushed = eve.post("/api/sync/push", json={"records": [
        rec("entry.create", entry_create(entry_id, team.project, utc_offset="+05:30"))]})
    assert pushed.json()["applied"] == 1, pushed.text
    ran = eve.post(f"/api/runs/{run_id}/push",
                   json={"records": run_records(run_id, team.project, start={"utc_offset": "+05:30"})})
    assert ran.status_code == 200, ran.text
    for who, zone in ((team.bob, None), (team.eve, "+05:30")):
        laptop = Workspace(home=tmp_path / who.login)
        try:
            sync_service.login(laptop, team.server.url, accounts.create_token(team.ws, who.id, "laptop")[1])
            assert sync_service.sync(laptop).refused == []
            assert laptop.store().db.scalar("SELECT count(*) FROM runs WHERE id = ?", (run_id,)) == 1
            assert (_column(laptop, "entries", entry_id), _column(laptop, "runs", run_id)) == (zone, zone), who.login
        finally:
            laptop.close()


def _push(team: Any, op: str, data: dict[str, Any]) -> Any:
    return team.api(team.ada).post("/api/sync/push", json={"records": [
        {"id": new_id(), "op": op, "workspace": "laptop", "at": data["created_at"], "data": data}]})


@pytest.mark.parametrize("offset", ["+99:00", "x" * 10_000, 330, "+05:30\n", "-13:00"])
def test_the_sync_door_refuses_an_offset_that_is_not_one(team: Any, offset: object) -> None:
    at = to_iso(datetime.now().astimezone())
    entry = {"id": new_id(), "revision_id": new_id(), "kind": "note", "title": "Offset test", "body": "",
             "occurred_at": at, "created_at": at, "utc_offset": offset}
    answer = _push(team, "entry.create", entry)
    assert answer.status_code == 200, answer.text
    [refused] = answer.json()["refused"]
    assert refused["reason"].startswith("entry.create utc_offset:") and len(refused["reason"]) < 200
    assert _column(team.ws, "entries", entry["id"]) is None
    assert not team.ws.store().db.scalar("SELECT 1 FROM entries WHERE id = ?", (entry["id"],))

    run_id = new_id()
    start = {"id": new_id(), "op": "run.start", "workspace": "laptop", "at": at,
             "data": {"run_id": run_id, "name": "offset test", "started_at": at, "utc_offset": offset}}
    pushed = team.api(team.ada).post(f"/api/runs/{run_id}/push", json={"records": [start]})
    assert pushed.status_code == 400 and "utc_offset" in pushed.json()["error"], pushed.text
    assert not team.ws.store().db.scalar("SELECT 1 FROM runs WHERE id = ?", (run_id,))

    fine = _push(team, "entry.create", {**entry, "id": new_id(), "revision_id": new_id(), "utc_offset": "-09:30"})
    assert fine.json()["refused"] == [] and fine.json()["applied"] == 1  # the server is fine, and takes a good one


def test_the_offset_survives_a_json_export_and_import(run: CLI, tmp_path: Path, engine: str,
                                                      make_pg_url: Any) -> None:
    with time_zone(KOLKATA):
        run.ok("note", "Written in Kolkata.")
    copy = round_trip(run, tmp_path, engine, make_pg_url)  # every table, the offset's column too, as it was
    with Workspace(home=copy.home, db=copy.db_url) as ws:
        assert ws.store().db.scalar("SELECT utc_offset FROM entries") == "+05:30"

    export = tmp_path / "export.json"
    run.ok("export", "--out", str(export))
    dump = json.loads(export.read_text())
    dump["tables"]["entries"][0]["utc_offset"] = "+99:00"
    export.write_text(json.dumps(dump))
    target = CLI(tmp_path / "target", make_pg_url() if engine == "postgresql" else None)
    refused = target("import", str(export))
    assert refused.exit_code == 1 and "tables.entries[0].utc_offset" in refused.stderr, refused.output
    assert "+99:00 is no UTC offset a place uses" in refused.stderr
    assert json.loads(target.ok("log", "--json")) == []


def test_an_edit_after_bedtime_counts_as_late_work(workspace: Workspace) -> None:
    """The issue's signals: entries, runs started, and edits. An edit keeps no offset of its own: it is
    read in the zone now, as an older item is."""
    from upstack.services import curate

    with time_zone(LOS_ANGELES):
        _a_day_at_noon_before(workspace, LOS_ANGELES)
        with simulated_clock(_at(LOS_ANGELES, NIGHT, time(12, 0))):
            entry = capture.note(workspace, "Written at noon.")
        assert set(_late_nights(workspace, NIGHT).strip()) == {"▄"}  # none late yet
        with simulated_clock(_at(LOS_ANGELES, NIGHT, time(23, 40))):
            curate.edit(workspace, entry.id, "Written at noon, edited at twenty to midnight.")
        assert _late_nights(workspace, NIGHT)[-1] == "█"
