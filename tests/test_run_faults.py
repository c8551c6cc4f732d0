"""A run under faults: a disk full for a while, forked data-loader workers, a kill soon after the start.

Real processes, a real full file system (a small tmpfs, mounted for the test: needs root),
real SIGKILL. A run that meets the full disk writes its folder there; the workspace (and so
the store, on both engines) lives elsewhere.
"""

from __future__ import annotations

import errno
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, round_trip
from test_runs import _env, _script  # a run's script and environment, as the other run tests make them
from upstack.domain.run import RunInfo
from upstack.formats.metrics import encode_chunk, read_chunk_stream
from upstack.formats.rundir import METRICS
from upstack.ids import short_id
from upstack.services import recall
from upstack.services import runs as run_service
from upstack.timeutil import parse_iso
from upstack.workspace import Workspace

WAIT = 120.0  # seconds any one condition may take on a busy machine before the test fails


# -- a small disk, and a process to watch ------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of its own: filling it fills nothing else."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Write a ballast file until the disk says it is full."""
    ballast = disk / "ballast"
    block = b"\0" * (64 << 10)
    with open(ballast, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return ballast


class Watched:
    """A process whose stdout and stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True)
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, lines: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.append(line.rstrip("\n"))

    def wait_for(self, what: str, found: Callable[[], object]) -> object:
        """Until ``found()`` is true (its value), failing with what the process said if it never is."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            value = found()
            if value:
                return value
            if self.process.poll() is not None:
                value = found()
                if value:
                    return value
                break
            time.sleep(0.02)
        self.process.kill()
        self.finish()
        raise AssertionError(f"never {what}; exit {self.process.returncode}\nstdout: {self.out[-5:]}\n"
                             f"stderr: {self.err}")

    def line(self, pattern: str, stream: str = "out") -> re.Match[str]:
        """The first line matching ``pattern``, waited for."""
        lines = self.out if stream == "out" else self.err
        regex = re.compile(pattern)
        return self.wait_for(f"printed {pattern!r}", lambda: next(
            (m for m in map(regex.search, list(lines)) if m), None))  # type: ignore[return-value]

    def last_step(self) -> int:
        steps = [int(line.split()[1]) for line in list(self.out) if line.startswith("step ")]
        return steps[-1] if steps else -1

    def finish(self) -> int:
        code = self.process.wait(timeout=WAIT)
        for reader in self._readers:
            reader.join(timeout=WAIT)
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()
        return code


def _only_run(ws: Workspace) -> RunInfo:
    ws.ingest()  # what the run's process wrote to its folder
    (info,) = run_service.list_runs(ws)
    return info


# -- a full disk for a while --------------------------------------------------------------

TRAINING = """
    import sys, time, upstack
    from pathlib import Path
    marker, stop = Path(sys.argv[1]), Path(sys.argv[2])
    run = upstack.run("through-a-full-disk", capture="none")
    step, seen = 0, False
    while True:
        run.log({"loss": float(step), "acc": 0.5}, step=step)
        if step % 1000 == 0:
            run.note(f"at step {step}")  # kept in memory too while the disk is full
        if step % 100 == 0:
            print("step", step, flush=True)
            if not seen and marker.exists():  # every step from here on is logged after the disk came back
                print("marker", step, flush=True)
                seen = True
            if stop.exists():
                break
        step += 1
        time.sleep(0.0002)
    run.finish()
    print("logged", step + 1, flush=True)
"""


@pytest.mark.parametrize("memory", ["enough", "too little"])
def test_a_disk_full_for_seconds_keeps_the_writer_and_says_what_was_lost(
        workspace: Workspace, run: CLI, tmp_path: Path, small_disk: Path, memory: str, engine: str,
        make_pg_url: Any) -> None:
    most = 1000 if memory == "too little" else 4_000_000  # metric points kept while the disk refuses them
    marker, stop = tmp_path / "disk-is-back", tmp_path / "stop"
    trainer = Watched([sys.executable, str(_script(tmp_path, TRAINING)), str(marker), str(stop)],
                      _env(workspace, UPSTACK_RUN_DIR=str(small_disk), UPSTACK_RUN_FLUSH_SECONDS="0.2",
                           UPSTACK_RUN_UNWRITTEN_POINTS=str(most)))
    trainer.line(r"^step 1000$")
    ballast = fill(small_disk)
    trainer.line(r"cannot write to .*No space left on device", "err")
    if memory == "too little":
        trainer.line(r"dropping the oldest", "err")
    else:  # full for a while: a few thousand more steps
        failed_at = trainer.last_step()
        trainer.wait_for("logged on", lambda: trainer.last_step() >= failed_at + 3000)
    ballast.unlink()
    marker.touch()
    back = int(trainer.line(r"^marker (\d+)$").group(1))
    trainer.line(r"writing again", "err")
    stop.touch()
    logged = int(trainer.line(r"^logged (\d+)$").group(1))
    assert trainer.finish() == 0, trainer.err

    assert run_service.ingest(workspace, [small_disk]).problems == []
    info = _only_run(workspace)
    assert info.status == "finished"
    loss = run_service.series(workspace, info.short, "loss")
    acc = run_service.series(workspace, info.short, "acc")
    stored = len(loss) + len(acc)
    assert stored + info.points_lost == 2 * logged  # every point is stored or counted as lost
    notes = [i.data["text"] for i in run_service.get_run(workspace, info.short).items if i.kind == "note"]
    assert notes == [f"at step {step}" for step in range(0, logged, 1000)]
    for series in (loss, acc):
        steps = list(series.steps)
        assert steps == sorted(set(steps))  # in order, none twice
        assert steps[-(logged - back):] == list(range(back, logged))  # all logged after the disk came back
    if memory == "enough":
        assert info.points_lost == 0 and list(loss.steps) == list(range(logged))
        assert list(acc.steps) == list(range(logged))
        assert any("writing again, nothing lost" in line for line in trainer.err)
    else:
        assert info.points_lost > 0
        said = f"{info.points_lost:,} points lost to write errors"
        assert info.status_text == f"finished, {said}"
        entry = recall.show(workspace, info.short)
        assert said in entry.title and f"**Points lost:** {info.points_lost:,} metric points" in entry.body
        assert said in run.ok("runs") and said in run.ok("run", "show", info.short)
        copy = round_trip(run, tmp_path, engine, make_pg_url)  # the count travels with the run
        assert said in copy.ok("run", "show", info.short)
    # No half-written chunk was left for a reader to stumble over.
    damage: list[str] = []
    with open(small_disk / info.id / METRICS, "rb") as handle:
        assert sum(len(c) for c in read_chunk_stream(handle, 0, damage.append)) == stored
    assert damage == []


def test_a_run_that_cannot_start_on_a_full_disk_says_so_in_one_line(
        workspace: Workspace, tmp_path: Path, small_disk: Path) -> None:
    fill(small_disk)
    script = _script(tmp_path, """
        import upstack
        from upstack.errors import UpstackError
        try:
            upstack.run("no-room", capture="none")
        except UpstackError as exc:
            print("refused:", exc)
    """)
    done = subprocess.run([sys.executable, str(script)], env=_env(workspace, UPSTACK_RUN_DIR=str(small_disk)),
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("refused: cannot start a run in ") and "No space left" in done.stdout
    assert [p.name for p in small_disk.iterdir()] == ["ballast"]  # no half-made run folder


def test_a_torn_chunk_in_the_middle_hides_nothing_after_it(workspace: Workspace, tmp_path: Path) -> None:
    """A run folder written before failed writes were cut back (or on a disk that would not cut
    them): the torn chunk is passed over, reported once, and what follows it is stored."""
    scratch = tmp_path / "scratch"
    script = _script(tmp_path, """
        import upstack
        with upstack.run("torn", capture="none") as run:
            for step in range(300):
                run.log({"loss": float(step)}, step=step)
        print(run.id)
    """)
    run_id = subprocess.run([sys.executable, str(script)], env=_env(workspace, UPSTACK_RUN_DIR=str(scratch)),
                            check=True, capture_output=True, text=True, timeout=WAIT).stdout.strip()
    metrics = scratch / run_id / METRICS
    with open(metrics, "rb") as handle:
        (whole,) = read_chunk_stream(handle, 0)
    first, second, third = (encode_chunk("loss", whole.steps[a:a + 100], whole.times[a:a + 100],
                                         whole.values[a:a + 100]) for a in (0, 100, 200))
    metrics.write_bytes(first + second[:40] + second + third)  # a write that stopped 40 bytes in, then more
    report = run_service.ingest(workspace, [scratch])
    assert len(report.problems) == 1 and "40 bytes of unreadable metric data" in report.problems[0]
    assert list(run_service.series(workspace, short_id(run_id), "loss").steps) == list(range(300))
    assert run_service.ingest(workspace, [scratch]).problems == []  # passed over once, not at every ingest


# -- forked data-loader workers -----------------------------------------------------------

def test_points_logged_in_forked_workers_are_kept(workspace: Workspace, tmp_path: Path) -> None:
    script = _script(tmp_path, """
        import multiprocessing, os, upstack
        run = upstack.run("with-workers", capture="none")

        def worker(rank):  # what a DataLoader worker (forked) does
            for i in range(500):
                run.log({f"worker{rank}/load_ms": float(i)}, step=i)
            run.note(f"worker {rank} done")

        for step in range(1000):
            run.log({"loss": float(step)}, step=step)
        workers = [multiprocessing.get_context("fork").Process(target=worker, args=(r,)) for r in range(3)]
        for w in workers:
            w.start()
        child = os.fork()
        if child == 0:  # a bare fork that leaves without any clean-up
            for i in range(200):
                run.log({"raw/sample": float(i)}, step=i)
            os._exit(0)
        for step in range(1000, 2000):
            run.log({"loss": float(step)}, step=step)
        os.waitpid(child, 0)
        for w in workers:
            w.join()
            assert w.exitcode == 0
        run.finish()
    """)
    done = subprocess.run([sys.executable, str(script)], env=_env(workspace), capture_output=True, text=True,
                          timeout=WAIT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    info = _only_run(workspace)
    assert info.status == "finished"
    counts = {m.key: m.count for m in info.metrics}
    assert counts == {"loss": 2000, "raw/sample": 200, **{f"worker{r}/load_ms": 500 for r in range(3)}}
    for rank in range(3):
        assert list(run_service.series(workspace, info.short, f"worker{rank}/load_ms").steps) == list(range(500))
    assert list(run_service.series(workspace, info.short, "loss").steps) == list(range(2000))
    notes = run_service.get_run(workspace, info.short).items
    assert sorted(i.data["text"] for i in notes if i.kind == "note") == [f"worker {r} done" for r in range(3)]


# -- killed soon after the start ----------------------------------------------------------

def _killed(workspace: Workspace, tmp_path: Path, after: str, **env: str) -> RunInfo:
    script = _script(tmp_path, """
        import time, upstack
        run = upstack.run("short-lived")
        began = time.monotonic()
        print("started", flush=True)
        step = 0
        while True:
            run.log({"loss": 1.0}, step=step)
            step += 1
            time.sleep(0.001)
            if step % 100 == 0 and time.monotonic() - began > 3:
                print("three seconds", flush=True)
    """)
    process = Watched([sys.executable, str(script)], _env(workspace, **env))
    process.line(after)
    process.process.send_signal(signal.SIGKILL)
    assert process.finish() == -signal.SIGKILL
    info = _only_run(workspace)
    assert info.status == "crashed"
    return info


def test_a_run_killed_seconds_in_ends_when_it_was_last_alive(workspace: Workspace, tmp_path: Path) -> None:
    # Provenance is captured (the default), as most runs do: it must not keep the run from saying it lives.
    info = _killed(workspace, tmp_path, "^three seconds$", UPSTACK_RUN_FLUSH_SECONDS="0.2")
    assert info.ended_at is not None
    lived = (parse_iso(info.ended_at) - parse_iso(info.started_at)).total_seconds()
    assert lived >= 1.5  # alive for 3 s, saying so every 0.2 s
    title = recall.show(workspace, info.short).title
    assert re.match(r"Run short-lived crashed after at least \d+ s", title), title


def test_sigterm_in_the_middle_of_a_note_ends_the_run_once(workspace: Workspace, tmp_path: Path) -> None:
    # Each note is written (and fsync'd) as it is made: the signal mostly lands inside that write.
    script = _script(tmp_path, """
        import upstack
        run = upstack.run("noting", capture="none")
        number = 0
        while True:
            run.note(f"note {number}")
            number += 1
            if number == 50:
                print("ready", flush=True)
    """)
    process = Watched([sys.executable, str(script)], _env(workspace))
    process.line("^ready$")
    process.process.terminate()
    assert process.finish() == -signal.SIGTERM
    info = _only_run(workspace)
    assert info.status == "interrupted"
    notes = [i.data["text"] for i in run_service.get_run(workspace, info.short).items if i.kind == "note"]
    assert len(notes) >= 50 and notes == [f"note {n}" for n in range(len(notes))]


def test_a_run_killed_at_once_does_not_claim_it_ran_0_s(workspace: Workspace, tmp_path: Path) -> None:
    info = _killed(workspace, tmp_path, "^started$")
    assert info.ended_at is not None and info.ended_at >= info.started_at
    title = recall.show(workspace, info.short).title
    assert " 0 s" not in title
    assert re.match(r"Run short-lived crashed after (an unknown time|at least \d+ s)", title), title
