"""Two real processes racing on one file, for tests/test_purge_race.py.

Run as a script by the processes the test starts, one line on stdin per round:

    python helpers_purge_race.py purger HOME DB ROUNDS FILES
        each round: a note with FILES/ROUND attached, "ready ROUND"; then, told "go",
        purges that note (the file is used by nothing else it knows of), "purged ROUND"
    python helpers_purge_race.py capturer HOME DB ROUNDS FILES
        each round, told "go DELAY": waits DELAY seconds, then captures FILES/ROUND
        (a new note on even rounds, `attach` to a note of its own on odd ones) and prints
        "kept ROUND ENTRY-ID" once the capture returned, i.e. was acknowledged

DB is '-' for SQLite.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def round_file(files: Path, number: int) -> Path:
    return files / f"round-{number}.csv"


def _purger(home: str, db: str, rounds: str, files: str) -> None:
    from upstack.services import capture, curate
    from upstack.workspace import Workspace

    ws = Workspace(home=home, db=None if db == "-" else db)
    for number in range(int(rounds)):
        entry = capture.note(ws, f"Purged {number}.", attach=[round_file(Path(files), number)])
        target = curate.purge_target(ws, entry.id)  # ingests: the note is in the store now
        print(f"ready {number}", flush=True)
        sys.stdin.readline()
        curate.purge(ws, target)
        print(f"purged {number}", flush=True)


def _capturer(home: str, db: str, rounds: str, files: str) -> None:
    from upstack.services import capture
    from upstack.workspace import Workspace

    ws = Workspace(home=home, db=None if db == "-" else db)
    holder = capture.note(ws, "Holds the files attached later.")
    for number in range(int(rounds)):
        delay = float(sys.stdin.readline().split()[1])
        time.sleep(delay)  # spreads the capture over the purge's course, round by round
        path = round_file(Path(files), number)
        if number % 2 == 0:
            entry_id = capture.note(ws, f"Kept {number}.", attach=[path]).id
        else:
            capture.attach(ws, holder.id, [path])
            entry_id = holder.id
        print(f"kept {number} {entry_id}", flush=True)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"purger": _purger, "capturer": _capturer}[command](*rest)
