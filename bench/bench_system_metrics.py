#!/usr/bin/env python3
"""What a run's system-metric sampling costs a CPU-bound training loop.

    PYTHONPATH=src python bench/bench_system_metrics.py [--runs 5] [--seconds 25] [--interval S]
                                                       [--markdown-out FILE]

Each measurement is a fresh process that starts a run (capture none) and times a fixed
pure-Python loop inside it (a multiply-add per iteration, ``run.log`` of two metrics every
1,000 iterations): once with system metrics at the interval (default: the run_system_seconds
setting's default) and once switched off (``system_metrics=False``), taking turns, ``--runs``
times each. Reported: medians, the ratio on/off, and what one sample costs (timed in-process:
psutil's readings, no GPU here) with the import of psutil, which happens on the run's
background thread. ``--seconds`` sizes the loop (calibrated once, switched off) so that several
samples fall inside it. Wall time moves with whatever else the machine runs; the process's CPU
time (every thread's, so the sampling's own included) is the steadier of the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import git_commit, machine_lines, report  # noqa: E402

TREE = Path(__file__).resolve().parent.parent

WORKER = r"""
import sys, time
import upstack

on, iterations, home = sys.argv[1] == "on", int(sys.argv[2]), sys.argv[3]
run = upstack.run("loop", home=home, capture="none", system_metrics=on)
start, cpu = time.perf_counter(), time.process_time()
total = 0.0
for i in range(iterations):
    total += (i % 97) * 1.0001
    if i % 1000 == 0:
        run.log({"loss": total, "i": i})
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu  # cpu: every thread's
run.finish()
print(elapsed, cpu)
"""


def _loop(on: bool, iterations: int, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process, background threads included) of the loop."""
    with tempfile.TemporaryDirectory() as home:
        out = subprocess.run([sys.executable, "-c", WORKER, "on" if on else "off", str(iterations), home],
                             env=env, capture_output=True, text=True, check=True).stdout
    wall, cpu = out.split()[-2:]
    return float(wall), float(cpu)


def _sample_cost() -> tuple[float, float]:
    """(ms to import psutil in a fresh process, µs per sample)."""
    code = ("import time; t = time.perf_counter(); import psutil; print((time.perf_counter() - t) * 1000)")
    imports = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(5)]
    from upstack.capture.system import SystemSampler

    sampler = SystemSampler(1.0, lambda line: None)
    sampler.sample()  # the first only starts it
    times = []
    for _ in range(200):
        start = time.perf_counter()
        sampler.sample()
        times.append(time.perf_counter() - start)
    sampler.stop()
    return statistics.median(imports), statistics.median(times) * 1e6


def main() -> int:
    from upstack.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=25.0, help="length of the loop, switched off")
    ap.add_argument("--interval", type=float, default=None, help="seconds between samples (default: the setting's)")
    ap.add_argument("--markdown-out", type=Path)
    args = ap.parse_args()
    interval = args.interval if args.interval is not None else float(Settings.run_system_seconds.default)
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env["UPSTACK_RUN_SYSTEM_SECONDS"] = str(interval)
    probe = 2_000_000
    iterations = int(probe * args.seconds / _loop(False, probe, env)[1])
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    for number in range(args.runs):  # in turn, so a drift of the machine falls on both
        for wanted, into in ((True, on), (False, off)) if number % 2 == 0 else ((False, off), (True, on)):
            into.append(_loop(wanted, iterations, env))
            print(f"  {'on ' if wanted else 'off'} wall {into[-1][0]:.3f} s, cpu {into[-1][1]:.3f} s", file=sys.stderr)
    imported, sample = _sample_cost()
    rows = []
    ratios = []
    for label, part in (("wall", 0), ("CPU (all threads)", 1)):
        got_on, got_off = [m[part] for m in on], [m[part] for m in off]
        ratios.append(statistics.median(got_on) / statistics.median(got_off))
        rows += [f"| {label}, system metrics on | {statistics.median(got_on):.3f} | "
                 f"{min(got_on):.3f}-{max(got_on):.3f} |",
                 f"| {label}, switched off | {statistics.median(got_off):.3f} | "
                 f"{min(got_off):.3f}-{max(got_off):.3f} |"]
    lines = [
        f"### bench_system_metrics, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
        *machine_lines(f"Python {sys.version.split()[0]}; upstack {git_commit(TREE)}"), "",
        f"A loop of {iterations:,} iterations (run.log every 1,000), {args.runs} runs each, in turn; "
        f"sampling every {interval:g} s.", "",
        "| what | median, s | min-max, s |", "|---|---:|---:|", *rows, "",
        f"on/off: wall **{ratios[0]:.4f}** ({(ratios[0] - 1) * 100:+.2f}%), CPU **{ratios[1]:.4f}** "
        f"({(ratios[1] - 1) * 100:+.2f}%); target ≤ +1%. One sample: {sample:.0f} µs "
        f"({sample / 1e6 / interval * 100:.4f}% of the interval); importing psutil: {imported:.0f} ms, once, "
        "on the run's background thread when the first sample is due.",
    ]
    return report(lines, args.markdown_out)


if __name__ == "__main__":
    raise SystemExit(main())
