#!/usr/bin/env python3
"""Interview practice's speed, side by side with the log's own commands in one run (issue 15).

    python bench/bench_practice.py [--sizes 1000,100000] [--attempts 500] [--runs 7] [--upstack CMD]

For each size: a workspace of that many entries (bench/corpus.py, imported as bench_log.py does)
plus ``--attempts`` practice attempts (imported from a CSV); then, as whole processes, the median of
``--runs`` timings of

- capture: `upstack practice log` beside `upstack note` (both journal only; the ratio is what matters);
- reading: `upstack practice due` (FSRS recomputed from every attempt) beside `upstack log -n 20`;
  the target is `practice due` <= 150 ms at 100k entries.

Each pair is timed alternately, so that a noisy neighbour slows both alike.
"""
from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402

TARGET_MS = 150


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed: {done.stderr.strip()}")
    return seconds * 1000


def side_by_side(a: list[str], b: list[str], env: dict[str, str], runs: int,
                 between: list[str] | None = None) -> tuple[float, float]:
    """Medians (ms) of ``a`` and ``b``, timed alternately after one untimed warm-up each."""
    times: tuple[list[float], list[float]] = ([], [])
    for index in range(runs + 1):
        for slot, argv in enumerate((a, b)):
            ms = timed([part.replace("{n}", str(index)) for part in argv], env)
            if index:
                times[slot].append(ms)
            if between:
                subprocess.run(between, env=env, capture_output=True)  # ingest, outside the timing
    return statistics.median(times[0]), statistics.median(times[1])


def practice_csv(path: Path, attempts: int, seed: int) -> None:
    rng = random.Random(seed)
    topics = ["graphs", "dp", "two pointers", "heaps", "trees", "intervals", "binary search", "design"]
    rows = ["problem,difficulty,topics,minutes,outcome,at"]
    for i in range(attempts):
        problem = f"problem-{rng.randrange(max(1, attempts // 3))}"
        day = 400 - i * 400 // attempts
        rows.append(f"{problem},{rng.choice(['easy', 'medium', 'medium', 'hard'])},{rng.choice(topics)},"
                    f"{rng.randrange(5, 70)},{rng.choice(['unaided', 'unaided', 'hints', 'failed'])},"
                    f"{day} days ago")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000", help="entries in the log, comma-separated (target: 100000)")
    parser.add_argument("--attempts", type=int, default=500, help="practice attempts in the log")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--upstack", default=f"{sys.executable} -m upstack", help="how to run upstack")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    upstack = shlex.split(args.upstack)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="upstack-bench-practice-"))
    version = subprocess.run(upstack + ["--version"], capture_output=True, text=True).stdout.strip()
    print("\n".join(machine_lines(version)))
    print(f"\n{args.attempts} practice attempts; medians of {args.runs} runs, each a whole process\n")
    print("| entries | practice log | note | ratio | practice due | log -n 20 | due target |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    failed = False
    for size in [int(s) for s in args.sizes.split(",")]:
        folder = work / f"n{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        journal = folder / "journal.json"
        corpus.write_jrnl_json(corpus.Generator(size).entries(size), journal)
        env = dict(os.environ, UPSTACK_HOME=str(folder / "home"), NO_COLOR="1",
                   XDG_CONFIG_HOME=str(folder / "config"), XDG_DATA_HOME=str(folder / "data"))
        env.pop("UPSTACK_DB", None)
        timed(upstack + ["import", "jrnl", str(journal)], env)
        practice_csv(folder / "practice.csv", args.attempts, size)
        timed(upstack + ["practice", "import", str(folder / "practice.csv")], env)
        ingest = upstack + ["log", "-n", "1"]
        log_ms, note_ms = side_by_side(
            upstack + ["practice", "log", "bench-{n}", "--minutes", "20", "--unaided", "-d", "medium"],
            upstack + ["note", "Bench note {n} on induction heads. #bench"], env, args.runs, between=ingest)
        due_ms, recent_ms = side_by_side(upstack + ["practice", "due"], upstack + ["log", "-n", "20"], env, args.runs)
        ok = due_ms <= TARGET_MS
        failed |= size >= 100_000 and not ok
        print(f"| {size:,} | {log_ms:.0f} ms | {note_ms:.0f} ms | {log_ms / note_ms:.2f} | {due_ms:.0f} ms | "
              f"{recent_ms:.0f} ms | {'ok' if ok else 'over'} (<= {TARGET_MS} ms) |", flush=True)
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
