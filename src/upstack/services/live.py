"""A run logging live to the team server its workspace is linked to (`upstack login`).

The run writes its folder as always; a background thread reads what is new in it every
``run_live_seconds`` and pushes that to the server (see ``services.runsync``), so collaborators
see the run's charts while it trains. It reads the folder as the store's ingest does: whole
records and whole metric chunks from where the last push the server confirmed ended. A push
that fails is tried again with the next one, from the same place; the server keeps nothing
twice. When the run ends, one last push sends the rest. If the server cannot be reached,
nothing is lost: the folder holds everything, and `upstack sync` sends it later.
"""

from __future__ import annotations

import sys
import threading
from array import array
from pathlib import Path
from typing import Any

from upstack.errors import Refused, UpstackError
from upstack.files import blob_path
from upstack.formats.metrics import read_chunk_stream
from upstack.formats.rundir import BLOBS, METRICS, RECORDS, read_records, size
from upstack.ids import short_id
from upstack.terminal import terminal_text

__all__ = ["LiveUpload"]

TIMEOUT = 15.0  # seconds one request may take: the run's end waits for the last (a pre-empted job has little time)
MOST_POINTS = 1_000_000  # points read for one push (24 MB): a long backlog goes over several


class LiveUpload:
    def __init__(self, remote: Any, directory: Path, run_id: str, every: float,
                 points: dict[str, int] | None = None, artifact_cap: float = 0) -> None:
        self.remote = remote
        self.artifact_cap = artifact_cap  # an artifact's files go when it is at most this many bytes
        self.directory = directory
        self.run_id = run_id
        self.every = every
        self.error: str = ""  # why the last push failed, if it did
        self.refused = False  # the server will not take this run: stop trying
        self._records_at = 0
        self._metrics_at = 0
        # Points sent per metric (their index in the series); a resumed run's new folder starts
        # where its earlier folder's points end (``points``), so no index is used twice.
        self._counts: dict[str, int] = dict(points or {})
        self._uploaded: set[str] = set()
        self._lock = threading.Lock()  # one push at a time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"upstack-live-{run_id[-7:]}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every) and not self.refused:
            self.push()

    def push(self) -> bool:
        """Send what is new since the last confirmed push; False (and ``error`` says why) if it failed."""
        from upstack.services.runsync import send

        with self._lock:
            if self.refused:
                return False
            records, records_at = self._new_records()
            series, metrics_at, counts, more = self._new_points()
            if more:  # more points than one push reads: the end goes with the last of them,
                records = records[:-1] if records and records[-1].op == "run.end" else records
                records_at = self._records_at  # and the records again with it (each applies once)
            try:
                send(self.remote, self.run_id, records, series, self._read_blob, self._uploaded, timeout=TIMEOUT,
                     artifact_cap=self.artifact_cap)
            except Refused as exc:
                self.refused, self.error = True, exc.reason
                return False
            except (UpstackError, OSError) as exc:
                self.error = str(exc)
                return False
            self._records_at, self._metrics_at, self._counts = records_at, metrics_at, counts
            self.error = ""
            return True

    def close(self) -> None:
        """After the run's end record is written: stop the thread and send the rest, saying on
        stderr if the server did not get it (the folder keeps it for `upstack sync`)."""
        self._stop.set()
        self._thread.join()
        where = (-1, -1)
        sent = True
        while sent and self._behind() and where != (self._records_at, self._metrics_at):  # until no progress
            where = (self._records_at, self._metrics_at)
            sent = self.push()
        # The server's reason is its text, not ours: cleaned before it reaches a terminal.
        if self.refused:
            print(terminal_text(f"upstack: {self.remote.url} refused run {short_id(self.run_id)}: "
                                f"{self.error}; it is kept here"), file=sys.stderr)
        elif not sent:
            print(terminal_text(f"upstack: run {short_id(self.run_id)} did not reach {self.remote.url}"
                                f" ({self.error}); it is kept here, and `upstack sync` sends it"),
                  file=sys.stderr)

    def _behind(self) -> bool:
        return any(size(self.directory / name) > at
                   for name, at in ((RECORDS, self._records_at), (METRICS, self._metrics_at)))

    def _new_records(self) -> tuple[list[Any], int]:
        records, at, _ = read_records(self.directory, self._records_at)  # problems: the store's ingest reports them
        return records, at

    def _new_points(self) -> tuple[dict[str, tuple[int, array, array, array]], int, dict[str, int], bool]:
        """New points by metric, from where the last confirmed push ended; the offset after them,
        the points per metric then, and whether there are more than one push reads."""
        counts = dict(self._counts)
        more = False
        series: dict[str, tuple[int, array, array, array]] = {}
        at = self._metrics_at
        try:
            with open(self.directory / METRICS, "rb") as handle:
                for chunk in read_chunk_stream(handle, at):
                    start, steps, times, values = series.setdefault(
                        chunk.key, (counts.get(chunk.key, 0), array("q"), array("d"), array("d")))
                    steps.extend(chunk.steps)
                    times.extend(chunk.times)
                    values.extend(chunk.values)
                    counts[chunk.key] = counts.get(chunk.key, 0) + len(chunk)
                    at = chunk.end
                    if sum(len(s[3]) for s in series.values()) >= MOST_POINTS:
                        more = True
                        break
        except FileNotFoundError:
            pass  # (damage is passed over; the store's ingest reports it)
        return series, at, counts, more

    def _read_blob(self, sha256: str) -> bytes:
        return blob_path(self.directory / BLOBS, sha256, nested=False).read_bytes()

