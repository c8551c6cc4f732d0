"""A third attack on issue 18's last changes: a workspace private on a shared machine (files.make_private_dirs,
Workspace.open_to_others, doctor --fix), a check-in that takes in the journal only when it holds check-ins
(Workspace.catch_up_on), `checkin --clear`, the passphrase `serve` asks as it starts, a member's UTC offset
kept from teammates, the store's lazy imports, and `pace`'s compares_from. Each test is one attack; the holes
it found (strict xfails when found) are fixed, and their tests stay. Store behaviour runs on both engines."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from attack_common import entry_create, rec, run_records
from conftest import CLI, assert_refused_unchanged
from upstack.cli.main import cli
from upstack.ids import new_id
from upstack.services import accounts, wellbeing, wellbeing_seal
from upstack.timeutil import today_local
from upstack.workspace import Workspace

MARK = "QZATTACKC"
PASSPHRASE = "correct horse battery"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask of a shared machine (others may read what is made)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def fresh_keys() -> Iterator[None]:
    """Each test stands for separate commands: no key derived by an earlier one is remembered."""
    wellbeing_seal.forget_keys()
    yield
    wellbeing_seal.forget_keys()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _invoke(run: CLI, *args: str, env: dict[str, str | None] | None = None) -> Any:
    """The CLI with exceptions caught (a traceback is a failed exit, not an error of the test)."""
    return CliRunner().invoke(cli, list(args), env={**run.env, **(env or {})})


def _hand_made_line(home: Path, raw: dict[str, Any]) -> None:
    """A journal line as a hand or another tool writes it (no checksum: read as it is)."""
    journal = home / "journal"
    journal.mkdir(parents=True, exist_ok=True)
    with open(journal / "log.jsonl", "a", encoding="utf-8") as handle:
        handle.write("\n" + json.dumps(raw) + "\n")


def _raw(op: Any, data: Any) -> dict[str, Any]:
    return {"v": 1, "id": new_id(), "op": op, "workspace": "hand", "at": "2026-01-01T00:00:00.000000Z", "data": data}


# == 1. A workspace private on a shared machine ====================================================

@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize("mask", [0o002, 0o022, 0o077])
def test_folders_and_an_outside_database_are_private_whatever_the_umask(tmp_path: Path, mask: int) -> None:
    """Held: with the umask 002, 022 or 077, a workspace under missing parents and its SQLite database kept
    elsewhere, under missing parents too: every folder made is 0o700, the database and its -wal 0o600, and
    doctor finds nothing to say about privacy."""
    os.umask(mask)
    db = tmp_path / "disk" / "deep" / "log.db"
    run = CLI(tmp_path / "a" / "b" / "home", f"sqlite:///{db}")
    run.ok("note", f"{MARK} note")
    run.ok("checkin", "--sleep", "7")
    run.ok("log")
    folders = [p for p in tmp_path.rglob("*") if p.is_dir()]
    assert {str(p): oct(_mode(p)) for p in folders if _mode(p) != 0o700} == {}
    assert _mode(db) == 0o600
    assert not db.with_name("log.db-wal").exists() or _mode(db.with_name("log.db-wal")) == 0o600
    assert "privacy" not in run.ok("doctor")


@pytest.mark.usefixtures("open_umask")
def test_a_symlinked_home_is_named_and_closed_through_its_link(tmp_path: Path) -> None:
    """Held: a workspace home that is a symlink to a folder others can read is named by doctor and by
    checkin's warning; doctor --fix closes the folder it points to (the link itself has no mode)."""
    real = tmp_path / "real"
    real.mkdir(mode=0o755)
    real.chmod(0o755)
    link = tmp_path / "link"
    link.symlink_to(real)
    run = CLI(link, None)
    result = run("checkin", "--sleep", "7")
    assert result.exit_code == 0 and "other users of this machine" in result.stderr
    run.ok("doctor", "--fix")
    assert _mode(real) == 0o700
    assert "other users" not in run("checkin", "--energy", "2").stderr


@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize("how", ["symlink", "dotdot"])
def test_a_database_outside_the_home_is_named_when_others_can_read_it(tmp_path: Path, how: str) -> None:
    """The home is 0o700; the database file itself, readable by anyone who knows its path, is 0o644 (made
    by an older upstack, or by hand)."""
    disk = tmp_path / "big-disk"
    disk.mkdir(mode=0o755)
    disk.chmod(0o755)
    moved = disk / "upstack.db"
    if how == "symlink":
        run = CLI(tmp_path / "home", None)
        run.ok("checkin", "--sleep", "7")
        (run.home / "upstack.db").rename(moved)
        (run.home / "upstack.db").symlink_to(moved)
    else:
        run = CLI(disk / "home", f"sqlite:///{disk / 'home' / '..' / 'upstack.db'}")
        run.ok("checkin", "--sleep", "7")
    moved.chmod(0o644)
    assert _mode(run.home) == 0o700 and _mode(moved) == 0o644
    findings = [f for f in json.loads(run.ok("doctor", "--json"))["findings"] if f["check"] == "privacy"]
    assert findings, "a database every user of the machine can read, and doctor says nothing"


def test_doctor_fix_only_takes_permissions_away(tmp_path: Path) -> None:
    run = CLI(tmp_path / "home", None)
    run.ok("note", f"{MARK} archived")
    run.ok("log")
    run.home.chmod(0o555)  # archived: readable by all, written by none
    try:
        run.ok("doctor", "--fix")
        assert _mode(run.home) == 0o500, oct(_mode(run.home))
    finally:
        run.home.chmod(0o700)


@pytest.mark.usefixtures("open_umask")
def test_a_migration_backup_is_its_owners_only(tmp_path: Path) -> None:
    from helpers_reliability import make_workspace

    home = tmp_path / "home"
    make_workspace(home, None, 17, [f"{MARK} old note"], [])
    run = CLI(home, None)
    run.ok("log")  # migrates, after a copy of the database
    [copy] = list((home / "backups").iterdir())
    assert (oct(_mode(home / "backups")), oct(_mode(copy))) == (oct(0o700), oct(0o600))


@pytest.mark.usefixtures("open_umask")
def test_a_running_runs_folders_are_all_private(tmp_path: Path) -> None:
    import upstack

    home = tmp_path / "home"
    with upstack.run("private run", home=home, capture="none") as made:
        made.log({"loss": 0.5})
        folders = [p for p in (home / "runs").rglob("*") if p.is_dir()]
        assert folders and {str(p): oct(_mode(p)) for p in folders if _mode(p) != 0o700} == {}


@pytest.mark.usefixtures("open_umask")
def test_journal_lines_kept_aside_are_private(run: CLI) -> None:
    run.ok("checkin", "--sleep", "7")
    _hand_made_line(run.home, _raw("entry.create", {"title": MARK}))
    with open(run.home / "journal" / "log.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"v":1,"id":"cut short\n')
    run.ok("log")
    bad = run.home / "journal" / "bad"
    kept = [p for p in bad.iterdir()]
    assert kept and (oct(_mode(bad)), {oct(_mode(p)) for p in kept}) == (oct(0o700), {oct(0o600)})


@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize("form", [("--include-wellbeing",), ("--server-backup",),
                                  ("--format", "markdown", "--include-private")], ids=" ".join)
def test_an_export_holding_private_things_is_its_owners_only(run: CLI, tmp_path: Path, form: tuple[str, ...]) -> None:
    run.ok("note", f"{MARK} private", "--private")
    run.ok("checkin", "--sleep", "4")
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / ("md" if "markdown" in form else "e.json")
    run.ok("export", *form, "--out", str(target))
    made = [target, *target.rglob("*")] if target.is_dir() else [target]
    assert len(made) >= 1 and {str(p): oct(_mode(p)) for p in made if _mode(p) & 0o077} == {}


# == 2. A check-in takes in the journal only when it holds check-ins ================================

@pytest.mark.parametrize("op", [[], {}, ["checkin.log"]], ids=repr)
def test_a_waiting_line_with_an_odd_op_does_not_stop_a_check_in(run: CLI, op: Any) -> None:
    run.ok("checkin", "--sleep", "7")
    _hand_made_line(run.home, _raw(op, {"subject": "x"}))
    result = _invoke(run, "checkin", "--energy", "2")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("op", [5, None, "", "checkin", ".log", "checkin.log.x", "entry", "__init__.x"], ids=repr)
def test_odd_ops_are_set_aside_by_every_command(run: CLI, op: Any) -> None:
    """Held: a line whose op is a number, nothing, or a family the store does not know (store/apply routes
    by the part before the dot) is set aside as unknown by ingest, and neither checkin nor log dies."""
    run.ok("checkin", "--sleep", "7")
    _hand_made_line(run.home, _raw(op, {"subject": "x"}))
    checked = _invoke(run, "checkin", "--energy", "2")
    assert checked.exit_code == 0, checked.output
    read = _invoke(run, "log")
    assert read.exit_code == 0, read.output
    assert run.ok("checkin", "list", "--json").count('"energy": 2') == 1


def test_a_pending_sign_and_check_in_are_read_by_the_next_check_in(run: CLI) -> None:
    """Held: a sign added and a check-in made, both still in the journal (nothing read the log since), are
    taken in by the next check-in: it scores the new sign and clears the answer just given."""
    run.ok("checkin", "signs", "add", "skipping lunch")
    run.ok("note", f"{MARK} waits")  # a note waiting beside them
    run.ok("checkin", "--sign", "skipping lunch=2", "--energy", "1")
    run.ok("checkin", "--clear", "energy")
    [day] = json.loads(run.ok("checkin", "list", "--json"))
    assert (day["energy"], day["signs"]) == (None, {"skipping-lunch": 2})
    assert MARK in run.ok("log")


def test_a_check_in_leaves_notes_waiting_and_the_next_read_takes_them(run: CLI) -> None:
    """Held: a check-in does not take in notes alone (quick), and loses none: the next read shows them."""
    for number in range(3):
        run.ok("note", f"{MARK} note {number}")
    run.ok("checkin", "--sleep", "7")
    assert (run.home / "journal" / "log.jsonl").exists()
    shown = run.ok("log")
    assert all(f"{MARK} note {n}" in shown for n in range(3))


def test_a_damaged_check_in_line_waiting_is_refused_not_read(run: CLI) -> None:
    """Held: a check-in's line whose checksum no longer matches (a flipped bit) is not applied: the next
    check-in reads the day as it was, and the line is set aside for a person to look at."""
    run.ok("checkin", "--sleep", "7")
    run.ok("checkin", "list")
    ws = Workspace(home=run.home, db=run.db_url)
    try:
        ws.append([ws.record("checkin.log", {"subject": today_local().isoformat(), "at": "2999-01-01T00:00:00.000000Z",
                                             "energy": 3, "local_only": True})])
    finally:
        ws.close()
    path = run.home / "journal" / "log.jsonl"
    path.write_text(path.read_text().replace('"energy":3', '"energy":0'))
    run.ok("checkin", "--mood", "2")
    [day] = json.loads(run.ok("checkin", "list", "--json"))
    assert (day["sleep_hours"], day["energy"], day["mood"]) == (7, None, 2)


# == 3. checkin --clear ===========================================================================

@pytest.mark.parametrize("name", ["Sleep", "Mood", "hours worked"])
def test_a_sign_cannot_be_named_like_a_question(run: CLI, name: str) -> None:
    """Found: a sign named Sleep or Mood could never be cleared (--clear NAME read it as the question).
    Such a name is refused as the sign is made or renamed, so --clear NAME has one meaning."""
    assert_refused_unchanged(run, ["checkin", "signs", "add", name], "one of the check-in's own questions")
    assert_refused_unchanged(run, ["checkin", "signs", "rename", "snacking", name], "one of the check-in's own")
    run.ok("checkin", "--sleep", "7", "--mood", "2", "--sign", "snacking=3")
    run.ok("checkin", "--clear", "sleep", "--clear", "snacking")
    [day] = json.loads(run.ok("checkin", "list", "--json"))
    assert (day["sleep_hours"], day["mood"], day["signs"]) == (None, 2, {})


@pytest.mark.parametrize("cleared", ["energy", ["energy", 1], {"energy": True}, [["sleep_hours"]], 7, True],
                         ids=repr)
def test_hand_made_cleared_values_are_never_a_crash(run: CLI, cleared: Any) -> None:
    """Held: a hand-made check-in line whose `cleared` is not a list of names is not read (the day stays
    as its other records say); checkin, list, pace and the CSV export all still answer."""
    run.ok("checkin", "--sleep", "7", "--energy", "2")
    _hand_made_line(run.home, _raw("checkin.log", {"subject": today_local().isoformat(), "at": "2999-01-01T00:00:00Z",
                                                   "local_only": True, "cleared": cleared, "mood": 1}))
    run.ok("checkin", "--note", "after")
    [day] = json.loads(run.ok("checkin", "list", "--json"))
    assert (day["sleep_hours"], day["energy"], day["mood"], day["note"]) == (7, 2, None, "after")
    run.ok("pace")
    run.ok("checkin", "export")


@pytest.mark.usefixtures("fresh_keys")
def test_clear_on_sealed_check_ins_and_an_export_round_trip(run: CLI, tmp_path: Path, monkeypatch: Any) -> None:
    """Held: on locked check-ins --clear needs the passphrase, clears a sign renamed and one retired since,
    and an export --include-wellbeing imported elsewhere reads the same day."""
    monkeypatch.setenv(wellbeing_seal.PASSPHRASE_ENV, PASSPHRASE)
    run.ok("checkin", "--sleep", "6", "--energy", "2", "--sign", "snacking=2", "--sign", "video games=1",
           "--note", "n")
    run.ok("checkin", "lock")
    run.ok("checkin", "signs", "rename", "snacking", "grazing")
    run.ok("checkin", "signs", "retire", "video games")
    run.ok("checkin", "--clear", "grazing", "--clear", "video games", "--clear", "note")
    before = json.loads(run.ok("checkin", "list", "--json"))
    assert (before[0]["signs"], before[0]["note"], before[0]["energy"]) == ({}, "", 2)
    run.ok("export", "--include-wellbeing", "--out", str(tmp_path / "e.json"))
    elsewhere = CLI(tmp_path / "elsewhere", None)
    elsewhere.ok("import", str(tmp_path / "e.json"))
    wellbeing_seal.forget_keys()
    assert json.loads(elsewhere.ok("checkin", "list", "--json")) == before
    wellbeing_seal.forget_keys()
    monkeypatch.delenv(wellbeing_seal.PASSPHRASE_ENV)
    refused = run("checkin", "--clear", "sleep")
    assert refused.exit_code == 1 and "locked" in refused.stderr


def test_clear_refuses_bad_names_in_one_line(run: CLI) -> None:
    """Held: --clear of a name that is no question and no sign, of an answer the day does not hold, or of
    one given at once, is one line and exit 1, with nothing written."""
    run.ok("checkin", "--sleep", "7")
    for args in (("--clear", "sleep_hours"), ("--clear", ""), ("--clear", "x" * 5000), ("--clear", "energy"),
                 ("--clear", "sleep", "--sleep", "6"), ("--clear", "snacking"),
                 ("--clear", "sleep", "--at", "tomorrow")):
        result = run("checkin", *args)
        assert result.exit_code in (1, 2) and len(result.stderr.strip().splitlines()) == 1, (args, result.output)
    [day] = json.loads(run.ok("checkin", "list", "--json"))
    assert day["sleep_hours"] == 7


# == 4. serve opens locked check-ins once; due says they are locked =================================

def _serve(run: CLI, monkeypatch: Any, env: dict[str, str | None]) -> tuple[Any, list[object]]:
    import upstack.cli.serve as serve_module

    served: list[object] = []
    monkeypatch.setattr(serve_module, "run_server", lambda ws, host, port, team=False: served.append(team))
    return _invoke(run, "serve", env=env), served


@pytest.mark.usefixtures("fresh_keys")
def test_a_team_server_never_asks_for_or_opens_a_passphrase(run: CLI, monkeypatch: Any) -> None:
    """Held: once the workspace has accounts, `serve` neither asks at a terminal nor opens a seal, even with
    UPSTACK_PASSPHRASE set and the check-ins reported locked."""
    ws = Workspace(home=run.home, db=run.db_url)
    try:
        accounts.add_user(ws, "ada")
    finally:
        ws.close()

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a team server opened the check-ins")

    monkeypatch.setattr(wellbeing_seal, "is_locked", lambda ws: True)
    monkeypatch.setattr(wellbeing_seal, "verify", never)
    monkeypatch.setattr("upstack.cli.options.ask_secret", never)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    result, served = _serve(run, monkeypatch, {wellbeing_seal.PASSPHRASE_ENV: PASSPHRASE})
    assert result.exit_code == 0 and served == [True], result.output


@pytest.mark.usefixtures("fresh_keys")
def test_serve_with_a_wrong_or_empty_passphrase(run: CLI, monkeypatch: Any) -> None:
    """Held: locked check-ins and a wrong UPSTACK_PASSPHRASE stop `serve` in one line before it listens; an
    empty one without a terminal says why /pace cannot open them and serves the rest."""
    run.ok("checkin", "--sleep", "7")
    monkeypatch.setenv(wellbeing_seal.PASSPHRASE_ENV, PASSPHRASE)
    run.ok("checkin", "lock")
    wellbeing_seal.forget_keys()
    wrong, served = _serve(run, monkeypatch, {wellbeing_seal.PASSPHRASE_ENV: "not the passphrase at all"})
    assert wrong.exit_code == 1 and served == [] and len(wrong.stderr.strip().splitlines()) == 1, wrong.output
    wellbeing_seal.forget_keys()
    empty, served = _serve(run, monkeypatch, {wellbeing_seal.PASSPHRASE_ENV: ""})
    assert empty.exit_code == 0 and served == [False] and "locked" in empty.stderr, empty.output
    due = _invoke(run, "due", env={wellbeing_seal.PASSPHRASE_ENV: "", "UPSTACK_CHECKIN_REMINDER": "1"})
    assert due.exit_code == 0 and "locked" in due.stdout, due.output


@pytest.mark.usefixtures("fresh_keys")
def test_enter_at_serves_passphrase_question_serves_the_rest(run: CLI, monkeypatch: Any) -> None:
    from types import SimpleNamespace

    import upstack.cli.serve as serve_module

    run.ok("checkin", "--sleep", "7")
    monkeypatch.setenv(wellbeing_seal.PASSPHRASE_ENV, PASSPHRASE)
    run.ok("checkin", "lock")
    wellbeing_seal.forget_keys()
    monkeypatch.delenv(wellbeing_seal.PASSPHRASE_ENV)
    monkeypatch.setattr(serve_module, "sys", SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True)))
    monkeypatch.setattr("upstack.cli.options.ask_secret", lambda question: "")  # Enter
    result, served = _serve(run, monkeypatch, {})
    assert (result.exit_code, served) == (0, [False]), result.output


# == 5. A member's UTC offset goes back to them only ================================================

ZONE = "+05:45"  # Kathmandu: an offset nothing else in a test uses


def _eves_work_in_kathmandu(team: Any) -> tuple[str, str]:
    entry_id, run_id = new_id(), new_id()
    eve = team.api(team.eve)
    pushed = eve.post("/api/sync/push", json={"records": [
        rec("entry.create", entry_create(entry_id, team.project, utc_offset=ZONE, title=f"{MARK} from Kathmandu"))]})
    assert pushed.json()["applied"] == 1, pushed.text
    ran = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, team.project, start={"utc_offset": ZONE},
        extra=[rec("run.summary", {"run_id": run_id, "learned": f"{MARK} learned", "learning_id": new_id()})])})
    assert ran.status_code == 200, ran.text
    assert team.ws.store().db.scalar("SELECT utc_offset FROM entries WHERE id = ?", (entry_id,)) == ZONE
    return entry_id, run_id


def _json_pages(entry_id: str, run_id: str) -> list[str]:
    from upstack.ids import id_key

    ref, run_ref = id_key(entry_id)[:7], id_key(run_id)[:7]
    return ["/log.json", f"/e/{ref}.json", f"/e/{run_ref}.json", "/search.json?q=QZATTACKC", "/tree.json",
            "/runs.json", f"/runs/{run_ref}.json", f"/runs/compare.json?runs={run_ref}", f"/runs/{run_ref}/series.json",
            "/review.json", "/due.json", "/people.json", "/api/sync/runs.json", "/api/sync/manifest.json",
            "/notifications.json", "/account.json", "/admin.json"]


@pytest.mark.parametrize("who", ["ada", "bob", "mal"])
def test_no_page_or_pull_gives_a_members_zone_to_anyone_else(team: Any, who: str) -> None:
    """Held: Eve's note, run, the run's result and its learning, written in Kathmandu: the owner (who owns
    what nobody signed in wrote), a viewer and an outsider get her zone from no JSON page, no sync pull and
    no run pull; Eve's own pull carries it."""
    entry_id, run_id = _eves_work_in_kathmandu(team)
    client = team.api(getattr(team, who))
    seen: set[str] = set()
    for path in _json_pages(entry_id, run_id):
        answer = client.get(path)
        assert answer.status_code in (200, 403, 404, 422) and ZONE not in answer.text, (path, answer.status_code)
        if answer.status_code == 200 and MARK in answer.text:
            seen.add(path)
    manifest = client.get("/api/sync/manifest.json").json()
    entries = [e for e in json.dumps(manifest).split('"') if len(e) == 26]
    pulled = client.post("/api/sync/pull", json={"entries": [entry_id, run_id, *entries], "nodes": [team.project]})
    ran = client.post(f"/api/runs/{run_id}/pull", json={"have": {}})
    assert ZONE not in pulled.text and ZONE not in ran.text
    if who != "mal":  # the pages showed Eve's work itself: the zone was there to leak
        assert {"/log.json", "/runs.json"} <= seen and MARK in pulled.text and '"run.start"' in ran.text
    own = team.api(team.eve)
    assert ZONE in own.post("/api/sync/pull", json={"entries": [entry_id, run_id]}).text
    assert ZONE in own.post(f"/api/runs/{run_id}/pull", json={"have": {}}).text


def test_a_run_gone_silent_on_a_team_server_keeps_its_zone_for_its_author(team: Any) -> None:
    """Held: Eve's run, pushed from Kathmandu, goes silent; the server marks it crashed and writes its result
    as Eve's: Bob pulls that result without her zone, Eve with it."""
    run_id = new_id()
    eve = team.api(team.eve)
    ran = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, team.project, end=False, start={"utc_offset": ZONE})})
    assert ran.status_code == 200, ran.text
    db = team.ws.store().db
    db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", ("2020-01-01T00:00:00.000000Z", run_id))
    team.ws.ingest()
    assert db.scalar("SELECT status FROM runs WHERE id = ?", (run_id,)) == "crashed"
    assert db.scalar("SELECT author_id FROM entries WHERE id = ?", (run_id,)) == team.eve.id
    bob = team.api(team.bob).post("/api/sync/pull", json={"entries": [run_id]})
    own = eve.post("/api/sync/pull", json={"entries": [run_id]})
    assert run_id in bob.text and ZONE not in bob.text and ZONE in own.text


def test_a_team_servers_export_for_others_carries_no_members_zone(team: Any) -> None:
    import io

    from upstack.domain import access
    from upstack.services.jsondump import export_json

    _eves_work_in_kathmandu(team)
    out = io.StringIO()
    with access.acting_as(access.OWNER):
        export_json(team.ws, out)
    assert MARK in out.getvalue() and ZONE not in out.getvalue()


# == 6. Lazy imports: unknown families, migrations from an old database ============================

def test_a_pending_check_in_on_an_old_database_is_taken_in_after_migrating(tmp_path: Path, db_url: str | None,
                                                                           run: CLI) -> None:
    """Held: a workspace at schema 13 (before the path's records existed) with a note and a check-in
    waiting: the check-in migrates it, takes both in, and reads the day."""
    from helpers_reliability import make_workspace

    make_workspace(run.home, db_url, 13, [f"{MARK} old"], [f"{MARK} waiting"])
    ws = Workspace(home=run.home, db=db_url)
    try:
        ws.append([ws.record("checkin.log", {"subject": today_local().isoformat(), "at": "2026-01-01T00:00:00.000000Z",
                                             "sleep_hours": 5, "local_only": True})])
    finally:
        ws.close()
    run.ok("checkin", "--energy", "2")
    [day] = json.loads(run.ok("checkin", "list", "--json"))
    assert (day["sleep_hours"], day["energy"]) == (5, 2)
    assert f"{MARK} waiting" in run.ok("log")


# == 7. pace --json compares_from ===================================================================

def test_compares_from_after_a_long_gap(workspace: Workspace) -> None:
    from upstack.domain import pace as rule_
    from upstack.services import pace

    today = today_local()
    for back in range(150, 119, -1):
        wellbeing.check_in(workspace, day=today - timedelta(days=back), sleep_hours=7, energy=2, mood=2)
    wellbeing.check_in(workspace, sleep_hours=5, energy=1, mood=1)
    workspace.ingest()
    found = pace.pace(workspace)
    assert not any(t.enough for t in found.trends)
    assert found.compares_from is not None and found.compares_from == rule_.compares_from([today], today)
    assert found.compares_from >= today + timedelta(days=29), found.compares_from  # the weeks before hold none
