"""`purge` racing a capture of the same file (issue 12, item 15), with real processes.

Round after round, one process purges the only note using a file while another captures that
same file (a new note, or `attach`), started at a different moment of the purge each round. An
acknowledged capture must never be left pointing at a file the purge deleted. On both engines.
"""

from __future__ import annotations

import hashlib
import json
import queue
import random
import subprocess
import sys
import threading
from pathlib import Path

import helpers_purge_race
from helpers_reliability import env_for, upstack
from upstack.services import recall
from upstack.workspace import Workspace

ROUNDS = 16


class Script:
    """A helper process fed a line per step, whose output lines are read as they come."""

    def __init__(self, home: Path, db_url: str | None, *args: object) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, helpers_purge_race.__file__,
             *(str(a) for a in args)],
            env=env_for(home, db_url), cwd=home.parent, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("")  # the process ended

    def say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, prefix: str) -> list[str]:
        line = self.lines.get(timeout=120)
        if not line.startswith(prefix):
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"expected {prefix!r}, got {line!r}\n{err}")
        return line.split()

    def finish(self) -> None:
        _, err = self.proc.communicate(timeout=120)
        assert self.proc.returncode == 0 and not err.strip(), err


def test_a_capture_racing_purge_never_points_at_a_deleted_file(engine: str, db_url: str | None,
                                                               tmp_path: Path) -> None:
    home, files = tmp_path / "home", tmp_path / "files"
    files.mkdir()
    sha = {}
    for number in range(ROUNDS):
        content = f"step,loss\n{number},0.{number}\n".encode()
        helpers_purge_race.round_file(files, number).write_bytes(content)
        sha[number] = hashlib.sha256(content).hexdigest()
    db_arg = db_url or "-"
    upstack(home, db_url, "log")  # made and migrated before the two start
    rng = random.Random(f"purge-race-{engine}")
    purger = Script(home, db_url, "purger", home, db_arg, ROUNDS, files)
    capturer = Script(home, db_url, "capturer", home, db_arg, ROUNDS, files)
    kept: dict[int, str] = {}
    try:
        for number in range(ROUNDS):
            purger.expect(f"ready {number}")
            # The capture starts somewhere within the purge's course (a purge takes some
            # tens of milliseconds here): early, in the middle, or as it deletes.
            capturer.say(f"go {rng.uniform(0, 0.08):.4f}")
            purger.say("go")
            purger.expect(f"purged {number}")
            kept[number] = capturer.expect(f"kept {number}")[2]
        purger.finish()
        capturer.finish()
    finally:
        for script in (purger, capturer):
            if script.proc.poll() is None:
                script.proc.kill()

    with Workspace(home=home, db=db_url) as ws:
        dangling = []
        for number, entry_id in kept.items():
            attached = [a for a in recall.show(ws, entry_id).attachments if a.sha256 == sha[number]]
            assert attached, f"round {number}: the acknowledged capture has no attachment"
            if ws.blobs.verify(sha[number]) is not None:
                dangling.append(number)
        assert not dangling, f"acknowledged attachments whose file purge deleted, rounds {dangling}"
    report = json.loads(upstack(home, db_url, "doctor", "--json").stdout)
    assert report["ok"] is True, report

