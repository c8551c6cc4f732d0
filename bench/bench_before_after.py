#!/usr/bin/env python3
"""Two versions of upstack side by side, in one run: capture, search and run logging.

    python bench/bench_before_after.py --before DIR --after DIR [--entries 10000] [--runs 7]
                                       [--points 200000] [--markdown-out FILE]

``--before`` and ``--after`` are source trees (a `git worktree` of each commit): each command
runs as its own process with ``PYTHONPATH=DIR/src`` under this Python, so both use the same
interpreter and libraries and differ only in upstack's code. Each version gets its own workspace
of the bench corpus (``--entries``, imported with `upstack import jrnl`), and then, in turn
(before, after, before, after, ...: a drift of the machine's speed falls on both alike):

- **note**: `upstack note` into that workspace (the capture path: start-up, a journal append);
- **search**: `upstack search induction` (start-up, ingest of what is pending, a ranked search);
- **run logging**: a script that starts a run, logs ``--points`` points of 4 metrics and
  finishes it (the capture path of `upstack.run`, then `upstack runs` to take it in).

Whole processes are timed (start-up included): that is what a person waits for. The report gives
each version's median and the after/before ratio of the medians. See bench/README.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench scripts' own helpers
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402

RUN_SCRIPT = """
import upstack
with upstack.run("bench", capture="none") as run:
    for step in range({points} // 4):
        run.log({{"loss": 1.0 / (step + 1), "acc": step % 7, "lr": 0.001, "l0": step % 13}}, step=step)
"""


class Version:
    def __init__(self, name: str, tree: Path, work: Path) -> None:
        self.name, self.tree = name, tree.resolve()
        self.home = work / name / "home"
        self.env = {**os.environ, "PYTHONPATH": str(self.tree / "src"), "UPSTACK_HOME": str(self.home),
                    "NO_COLOR": "1", "XDG_CONFIG_HOME": str(work / name / "xdg")}
        self.env.pop("UPSTACK_DB", None)

    def upstack(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "upstack", *args]

    def run(self, command: list[str]) -> float:
        started = time.perf_counter()
        done = subprocess.run(command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"{self.name}: {' '.join(command[2:])} failed: {done.stderr.strip()[-2000:]}")
        return took


def _commit(tree: Path) -> str:
    found = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "src"], capture_output=True,
                           text=True).stdout.strip()
    return (found.stdout.strip() or str(tree)) + (" with changes" if dirty else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="source tree of the earlier version")
    ap.add_argument("--after", type=Path, required=True, help="source tree of the later version")
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7, help="timed runs per measurement and version (median)")
    ap.add_argument("--points", type=int, default=200_000, help="points a run logs")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--markdown-out", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="upstack-bench-before-after-"))
    try:
        journal = work / "journal.json"
        corpus.write_jrnl_json(corpus.Generator(args.seed).entries(args.entries), journal)
        script = work / "run_script.py"
        script.write_text(RUN_SCRIPT.format(points=args.points), encoding="utf-8")
        versions = [Version("before", args.before, work), Version("after", args.after, work)]
        for version in versions:
            version.run(version.upstack("import", "jrnl", str(journal)))
            version.run(version.upstack("search", "warm"))  # ingested and migrated before timing
        tasks = {
            "note (capture)": lambda v: v.upstack("note", "Patched head 7.3: the induction score dropped"),
            "search `induction`": lambda v: v.upstack("search", "induction"),
            f"run logging ({args.points:,} points, then `upstack runs`)": lambda v: [
                sys.executable, str(script)],
        }
        times: dict[str, dict[str, list[float]]] = {t: {v.name: [] for v in versions} for t in tasks}
        for task, command in tasks.items():
            for i in range(args.runs + 1):  # the first round warms up and is not counted
                for version in versions:
                    took = version.run(command(version))
                    if task.startswith("run logging"):
                        took += version.run(version.upstack("runs", "-n", "1"))
                    if i:
                        times[task][version.name].append(took)
        versions_line = (f"Python {sys.version.split()[0]}; before: {_commit(args.before)}; "
                         f"after: {_commit(args.after)}")
        lines = [f"### bench_before_after, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "", *machine_lines(versions_line),
                 "", f"{args.entries:,} entries; {args.runs} runs each, "
                 "in turn (medians of whole processes, start-up included)", "",
                 "| what | before, ms | after, ms | after/before |", "|---|---:|---:|---:|"]
        for task in tasks:
            before = statistics.median(times[task]["before"]) * 1000
            after = statistics.median(times[task]["after"]) * 1000
            lines.append(f"| {task} | {before:.0f} | {after:.0f} | {after / before:.2f}x |")
        report = "\n".join(lines) + "\n"
        print(report)
        if args.markdown_out:
            args.markdown_out.write_text(report, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
