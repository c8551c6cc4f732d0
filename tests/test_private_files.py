"""A workspace is its owner's only on a shared machine: every folder upstack makes for it is 0o700
and its SQLite database 0o600, whatever the umask; `doctor` names a workspace others can read (one
made before, or opened by hand) and `doctor --fix` closes it."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import upstack
from conftest import CLI


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask of a shared machine, which lets others read what is made with it."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_every_folder_upstack_makes_is_its_owners_only(tmp_path: Path, run: CLI) -> None:
    run.home = tmp_path / "nested" / "deeper" / "home"  # folders above the workspace made by upstack too
    run.ok("note", "a note with an attachment", "--attach", str(_file(tmp_path)))
    run.ok("checkin", "--sleep", "7", "--energy", "2")
    with upstack.run("private run", home=run.home, db=run.db_url, capture="none") as made:
        made.log({"loss": 0.5})
    run.ok("log")
    run.ok("backup", str(tmp_path / "nested" / "backup"))
    folders = [p for p in (tmp_path / "nested").rglob("*") if p.is_dir()] + [tmp_path / "nested"]
    assert len(folders) > 5 and (run.home / "blobs").is_dir()
    assert {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in folders if _mode(p) != 0o700} == {}
    if run.db_url is None:
        assert _mode(run.home / "upstack.db") == 0o600
        wal = run.home / "upstack.db-wal"
        assert not wal.exists() or _mode(wal) == 0o600
    result = run("checkin", "--mood", "2")
    assert result.exit_code == 0 and "other users" not in result.stderr
    assert "privacy" not in run.ok("doctor")


@pytest.mark.usefixtures("open_umask")
def test_doctor_names_a_workspace_others_can_read_and_fix_closes_it(run: CLI) -> None:
    run.ok("checkin", "--sleep", "7")
    run.home.chmod(0o755)  # made by an older upstack, or opened by hand
    result = run("checkin", "--energy", "2")
    assert result.exit_code == 0
    assert "other users of this machine can read this workspace" in result.stderr
    report = json.loads(run.ok("doctor", "--json"))
    assert report["ok"] is True  # worth knowing, not damage
    [finding] = [f for f in report["findings"] if f["check"] == "privacy"]
    assert finding["subject"] == str(run.home) and finding["severity"] == "warning"
    fixed = run("doctor", "--fix")
    assert fixed.exit_code == 0 and f"closed {run.home}" in fixed.stderr and "privacy" not in fixed.stdout
    assert _mode(run.home) == 0o700
    assert not [f for f in json.loads(run.ok("doctor", "--json"))["findings"] if f["check"] == "privacy"]


@pytest.mark.usefixtures("open_umask")
def test_a_sqlite_database_kept_outside_the_workspace_is_checked_too(tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-disk"
    elsewhere.mkdir()
    run = CLI(tmp_path / "home", f"sqlite:///{elsewhere / 'log.db'}")
    run.ok("checkin", "--sleep", "7")
    assert _mode(elsewhere / "log.db") == 0o600  # made by upstack: its owner's
    (elsewhere / "log.db").chmod(0o644)
    findings = [f for f in json.loads(run.ok("doctor", "--json"))["findings"] if f["check"] == "privacy"]
    # The -wal and -shm SQLite makes beside it while doctor reads take its mode, so they are named too.
    assert [f["subject"] for f in findings] == [str(elsewhere / n) for n in ("log.db", "log.db-wal", "log.db-shm")]
    run.ok("doctor", "--fix")
    assert _mode(elsewhere / "log.db") == 0o600
    assert not [f for f in json.loads(run.ok("doctor", "--json"))["findings"] if f["check"] == "privacy"]
    assert _mode(elsewhere) == 0o755  # a folder not upstack's is left as it is


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "figure.txt"
    path.write_text("a figure\n")
    return path
