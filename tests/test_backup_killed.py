"""A `backup` killed with SIGKILL leaves nothing holding private entries behind (issue 12, item 18).

A real `upstack backup` process is killed while its copy is on disk: that copy is one only its
user can open, and the next `doctor`, or the next backup, removes it. On both engines.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from helpers_reliability import finish, spawn, upstack, upstack_args
from upstack.services import capture
from upstack.workspace import Workspace

SECRET = "Zq7vPrivateMarker"
FILES = 24  # of 1 MiB each: a backup verifies and copies them, which takes a moment to kill it in


def _fill(home: Path, db_url: str | None, files: Path) -> None:
    files.mkdir()
    with Workspace(home=home, db=db_url) as ws:
        capture.note(ws, f"Slept badly, {SECRET}.", private=True)
        for number in range(FILES):
            path = files / f"activations-{number}.bin"
            path.write_bytes(bytes([number]) * (1 << 20))
            capture.note(ws, f"Activations {number}.", attach=[path])
        ws.ingest()


def _unfinished(dest: Path) -> list[Path]:
    return sorted(p for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}.partial-"))


def _kill_mid_backup(home: Path, db_url: str | None, parent: Path) -> Path:
    """Start backups until one is killed while its copy, private entry included, is on disk;
    return that copy."""
    for attempt in range(20):
        dest = parent / f"killed-{attempt}"
        proc = spawn(upstack_args("backup", str(dest)), home, db_url)
        found: list[Path] = []
        while proc.poll() is None and not found:
            found = [p for p in _unfinished(dest) if (p / "upstack.db").exists()]
            time.sleep(0.002)
        if found:
            proc.kill()
        result = finish(proc)
        if result.killed:
            assert not dest.exists()
            return found[0]
        assert result.returncode == 0, result.describe()  # finished first: try again
    raise AssertionError("no backup could be caught with its copy on disk")


def _bytes_under(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_killed_backup_leaves_nothing_private_behind(engine: str, db_url: str | None,
                                                       tmp_path: Path) -> None:
    home, parent = tmp_path / "home", tmp_path / "backups"
    parent.mkdir()
    _fill(home, db_url, tmp_path / "files")

    left = _kill_mid_backup(home, db_url, parent)
    assert stat.S_IMODE(left.stat().st_mode) & 0o077 == 0, "others can open the killed backup's copy"
    report = json.loads(upstack(home, db_url, "doctor", "--json").stdout)
    assert report["ok"] is True
    assert [(f["check"], f["severity"]) for f in report["findings"]] == [("backup", "warning")]
    assert not left.exists()

    left = _kill_mid_backup(home, db_url, parent)
    dest = parent / "finished"
    counts = json.loads(upstack(home, db_url, "backup", str(dest), "--json").stdout)
    assert counts == {"dest": str(dest), "entries": FILES + 1, "files": FILES}
    assert not left.exists()
    assert sorted(p.name for p in parent.iterdir()) == ["finished"]
    assert stat.S_IMODE(dest.stat().st_mode) & 0o077 == 0  # the backup holds private entries too
    assert SECRET.encode() in _bytes_under(dest)
    assert json.loads(upstack(dest, None, "doctor", "--json").stdout) == {"ok": True, "findings": []}
    assert not (home / ".backups-unfinished").exists() or not os.listdir(home / ".backups-unfinished")


def test_a_running_backup_is_left_alone(tmp_path: Path) -> None:
    """Clearing what killed backups left while a backup runs removes nothing of it."""
    from upstack.services.maintenance import clear_killed_backups

    home, parent = tmp_path / "home", tmp_path / "backups"
    parent.mkdir()
    _fill(home, None, tmp_path / "files")
    dest = parent / "running"
    proc = spawn(upstack_args("backup", str(dest)), home, None)
    overlapped = 0
    while proc.poll() is None:
        before = _unfinished(dest)
        assert clear_killed_backups(home) == []
        overlapped += bool(before and _unfinished(dest) == before)
        time.sleep(0.002)
    assert finish(proc).returncode == 0
    assert overlapped, "the backup was never seen running"
    assert json.loads(upstack(dest, None, "doctor", "--json").stdout) == {"ok": True, "findings": []}
