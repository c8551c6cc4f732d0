#!/usr/bin/env python3
"""The path to a research job (issue 15), timed beside the log's own commands in one run.

    python bench/bench_path.py [--entries 100000] [--runs 7] [--attempts 500] [--projects 50]

One workspace: the bench corpus (bench/corpus.py, imported as a jrnl file), a ladder with steps done,
skipped and evidenced, learning resources with progress, ``--attempts`` interview-practice attempts
(imported from a CSV) and a portfolio of ``--projects`` write-ups, each from an entry with a figure.
Every figure is a whole process (what a person waits for at the prompt), timed alternately with
its peer so that a noisy neighbour slows both alike, the median of ``--runs`` after a warm-up:

| measured | beside | target |
|---|---|---|
| `upstack ladder`, `upstack practice due`, `upstack portfolio` | `upstack log -n 20` | <= 150 ms at 100k entries |
| `upstack practice log` (journal only) | `upstack note` | the capture target: as fast as `note` |
| `upstack portfolio site OUT/` | | <= 5 s for 50 projects |
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402

READ_TARGET_MS, SITE_TARGET_MS = 150, 5000


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{shlex.join(argv)} failed: {done.stderr.strip()}")
    return (time.perf_counter() - start) * 1000


def alternately(commands: list[list[str]], env: dict[str, str], runs: int,
                after: list[str] | None = None) -> list[float]:
    """Median ms of each command, timed in turn, ``runs`` rounds after one untimed round; ``after``
    runs (untimed) after each command, e.g. taking in what a capture wrote."""
    times: list[list[float]] = [[] for _ in commands]
    for round_ in range(runs + 1):
        for slot, argv in enumerate(commands):
            ms = timed([part.replace("{n}", str(round_)) for part in argv], env)
            if round_:
                times[slot].append(ms)
            if after:
                subprocess.run(after, env=env, capture_output=True)
    return [statistics.median(t) for t in times]


def practice_csv(path: Path, attempts: int, seed: int) -> None:
    rng = random.Random(seed)
    topics = ["graphs", "dp", "two pointers", "heaps", "trees", "intervals", "binary search", "design"]
    rows = ["problem,difficulty,topics,minutes,outcome,at"]
    for i in range(attempts):
        day = 400 - i * 400 // attempts
        rows.append(f"problem-{rng.randrange(max(1, attempts // 3))},"
                    f"{rng.choice(['easy', 'medium', 'medium', 'hard'])},{rng.choice(topics)},"
                    f"{rng.randrange(5, 70)},{rng.choice(['unaided', 'unaided', 'hints', 'failed'])},{day} days ago")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def seed_path(work: Path, env: dict[str, str], upstack: list[str], args: argparse.Namespace) -> None:
    """The ladder, resources and practice through the commands people type; the portfolio's write-ups
    (an entry with a figure each) through the services, in this process."""
    for argv in (["ladder", "done", "code"], ["ladder", "skip", "from-scratch", "--why", "not low-level"],
                 ["ladder", "evidence", "add", "github-page", "https://github.com/bench/bench"],
                 ["ladder", "resource", "progress", "arena", "chapter 2", "--minutes", "45"]):
        subprocess.run([*upstack, *argv], env=env, check=True, capture_output=True)
    practice_csv(work / "practice.csv", args.attempts, args.seed)
    subprocess.run([*upstack, "practice", "import", str(work / "practice.csv")], env=env, check=True,
                   capture_output=True)

    from PIL import Image

    from upstack.services import capture
    from upstack.services import portfolio as folio
    from upstack.workspace import Workspace

    with Workspace(home=work / "home") as ws:
        folio.set_profile(ws, name="Bench Person", links=[("GitHub", "https://github.com/bench")])
        for n in range(args.projects):
            picture = work / f"figure-{n}.png"
            buffer = io.BytesIO()
            Image.new("RGB", (640, 480), (n * 5 % 255, 90, 160)).save(buffer, "PNG")
            picture.write_bytes(buffer.getvalue())
            body = (f"Write-up {n}: what project {n} found.\n\n" + "A paragraph of findings. " * 40
                    + "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
            entry = capture.note(ws, body, attach=[picture])
            folio.add_item(ws, "write-up", f"Project {n}", sources=[entry.id], summary=f"Summary {n}.",
                           url=f"https://github.com/bench/p{n}", date="2026-01")


def log_workspace(name: str, entries: int, seed: int) -> tuple[Path, dict[str, str], list[str]]:
    """A fresh workspace holding the bench corpus (imported as a jrnl file, as a person would): its
    folder, the environment its commands run in, and how to run upstack."""
    work = Path(tempfile.mkdtemp(prefix=f"upstack-bench-{name}-"))
    env = {**os.environ, "UPSTACK_HOME": str(work / "home"), "NO_COLOR": "1"}
    env.pop("UPSTACK_DB", None)
    upstack = [sys.executable, "-m", "upstack"]
    corpus.write_jrnl_json(corpus.Generator(seed).entries(entries), work / "journal.json")
    subprocess.run([*upstack, "import", "jrnl", str(work / "journal.json")], env=env, check=True, capture_output=True)
    return work, env, upstack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the log (target: 100000)")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (medians)")
    parser.add_argument("--attempts", type=int, default=500, help="interview-practice attempts")
    parser.add_argument("--projects", type=int, default=50, help="portfolio write-ups (the site's pages)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    work, env, upstack = log_workspace("path", args.entries, args.seed)
    seed_path(work, env, upstack, args)
    print(f"set up in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    log_ms, ladder_ms, due_ms, folio_ms = alternately(
        [[*upstack, "log", "-n", "20"], [*upstack, "ladder"], [*upstack, "practice", "due"], [*upstack, "portfolio"]],
        env, args.runs)
    note_ms, attempt_ms = alternately(
        [[*upstack, "note", "bench note {n}"],
         [*upstack, "practice", "log", "bench-{n}", "--minutes", "20", "--unaided", "-d", "medium"]],
        env, args.runs, after=[*upstack, "log", "-n", "1"])
    site_ms = alternately([[*upstack, "portfolio", "site", str(work / "site-{n}")]], env, max(1, args.runs // 2))[0]

    def verdict(ms: float, target: float) -> str:
        return "PASS" if ms <= target else "MISS"

    lines = [f"### bench_path: {args.entries:,} entries, {args.attempts} attempts, {args.projects} projects, "
             f"median of {args.runs}", ""]
    lines += machine_lines(f"Python {sys.version.split()[0]}")
    lines += ["", "| command | median ms | beside | its ms | ratio | target | result |",
              "|---|---:|---|---:|---:|---|---|"]
    for name, ms in (("upstack ladder", ladder_ms), ("upstack practice due", due_ms), ("upstack portfolio", folio_ms)):
        lines.append(f"| `{name}` | {ms:.0f} | `upstack log -n 20` | {log_ms:.0f} | {ms / log_ms:.2f}x | "
                     f"<= {READ_TARGET_MS} ms | {verdict(ms, READ_TARGET_MS)} |")
    lines.append(f"| `upstack practice log` | {attempt_ms:.0f} | `upstack note` | {note_ms:.0f} | "
                 f"{attempt_ms / note_ms:.2f}x | as fast as note | {verdict(attempt_ms, note_ms * 1.1)} |")
    lines.append(f"| `upstack portfolio site OUT/` ({args.projects} projects) | {site_ms:.0f} | | | | "
                 f"<= {SITE_TARGET_MS} ms | {verdict(site_ms, SITE_TARGET_MS)} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
