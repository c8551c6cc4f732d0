#!/usr/bin/env python3
"""``run.log``'s cost and end-to-end throughput, two source trees taking turns in one run.

    python bench/bench_runs_before_after.py --before /tmp/before --after . [--runs 5]
                                            [--sizes 10x100000,1x1000000] [--markdown-out FILE]

``bench_runs.py`` measures one version; on a shared machine two of its runs minutes apart
see different loads. This runs the same measurement (``bench_runs.py worker upstack-log``:
a fresh process logs keys x steps, finishes, ingests and reads every series back) for the two
trees in turn (``PYTHONPATH=TREE/src``, the same Python), so a drift of the machine falls on
both, and reports medians: one call's cost ((loop - the same loop without the call) / calls)
and end-to-end points per second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import git_commit, machine_lines, report  # noqa: E402

BENCH_RUNS = Path(__file__).resolve().parent / "bench_runs.py"


def _worker(tree: Path, kind: str, spec: dict[str, object]) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env["PYTHONPATH"] = str(tree / "src")
    out = subprocess.run([sys.executable, str(BENCH_RUNS), "worker", kind, json.dumps(spec)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True)
    ap.add_argument("--after", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="10x100000,1x1000000", help="keys x steps, comma-separated")
    ap.add_argument("--markdown-out", type=Path)
    args = ap.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="upstack-bench-runs-"))
    results: dict[tuple[int, int], dict[str, list[dict[str, float]]]] = {s: {n: [] for n in trees} for s in sizes}
    try:
        templates = {}
        for name, tree in trees.items():
            templates[name] = work / f"template-{name}"
            _worker(tree, "upstack-prepare", {"home": str(templates[name])})
        for keys, steps in sizes:
            for number in range(args.runs + 1):  # the first round warms up and is not counted
                order = list(trees) if number % 2 == 0 else list(reversed(trees))
                for name in order:
                    home = work / f"home-{name}"
                    shutil.rmtree(home, ignore_errors=True)
                    shutil.copytree(templates[name], home)
                    got = _worker(trees[name], "upstack-log", {"home": str(home), "keys": keys, "steps": steps})
                    if number:
                        results[(keys, steps)][name].append(got)
                    print(f"  {name} {keys}x{steps:,}: {got['points'] / got['e2e_s']:,.0f} pts/s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [f"### bench_runs_before_after, {machine_lines('')[0][8:]}", "",
             *machine_lines(f"Python {sys.version.split()[0]}; before: {git_commit(trees['before'])}; "
                            f"after: {git_commit(trees['after'])}"), "",
             f"{args.runs} runs each after a warm-up, in turn; medians.", "",
             "| keys x steps | µs per call, before | after | after/before | end to end pts/s, before | after "
             "| after/before |", "|---|---:|---:|---:|---:|---:|---:|"]
    for (keys, steps), by_tree in results.items():
        cost = {n: statistics.median((r["loop_s"] - r["base_s"]) / r["calls"] * 1e6 for r in runs)
                for n, runs in by_tree.items()}
        rate = {n: statistics.median(r["points"] / r["e2e_s"] for r in runs) for n, runs in by_tree.items()}
        lines.append(f"| {keys} x {steps:,} | {cost['before']:.2f} | {cost['after']:.2f} | "
                     f"{cost['after'] / cost['before']:.2f}x | {rate['before']:,.0f} | {rate['after']:,.0f} | "
                     f"{rate['after'] / rate['before']:.2f}x |")
    return report(lines, args.markdown_out)


if __name__ == "__main__":
    raise SystemExit(main())
