#!/usr/bin/env python3
"""What logging live to a team server costs a training loop: upstack's run.log with the
workspace linked to a server (`upstack login`) against the same run not linked.

    python bench/bench_live.py [--runs 5] [--keys 4] [--steps 1000000] [--live-seconds 0.25]
                               [--quick] [--markdown-out FILE] [--workdir DIR] [--keep]

A team server (`upstack serve`, one account, SQLite) runs on loopback in its own process.
Each measurement is a fresh process that logs ``keys`` metrics for ``steps`` steps and
finishes the run, timing the logging loop and ``finish()`` apart:

- **local**: the workspace is not linked; the run writes its folder only;
- **live**: the workspace is linked; a thread sends what is new to the server every
  ``--live-seconds`` while the loop runs, and ``finish()`` sends the rest before it returns.

After each live run the benchmark checks that the server holds every point. The report gives
medians (min-max) and the live/local ratios. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench scripts' own helpers
from machine import machine_lines  # noqa: E402


def work(spec: dict) -> dict:
    """One run in this fresh process: log, finish, say how long each took."""
    import upstack

    run = upstack.run("bench-live", home=spec["home"], capture="none")
    keys = [f"k{i}" for i in range(spec["keys"])]
    t0 = time.perf_counter()
    for step in range(spec["steps"]):
        run.log({key: step * 0.001 + i for i, key in enumerate(keys)}, step=step)
    t1 = time.perf_counter()
    run.finish()
    t2 = time.perf_counter()
    return {"run": run.id, "log_s": t1 - t0, "finish_s": t2 - t1}


class Server:
    """`upstack serve` with one account, on a free loopback port."""

    def __init__(self, home: Path) -> None:
        from upstack.services import accounts
        from upstack.workspace import Workspace

        with Workspace(home=home) as ws:
            user, _ = accounts.add_user(ws, "bench")
            _, self.token = accounts.create_token(ws, user.id, "bench")
        env = {**os.environ, "UPSTACK_HOME": str(home)}
        self.process = subprocess.Popen([sys.executable, "-m", "upstack", "serve", "--port", "0"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            found = re.search(r"open: (http://\S+?)/", line)
            if found:
                self.url = found.group(1)
                return
        raise SystemExit("upstack serve stopped before printing its address")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def measure(mode: str, spec: dict, workdir: Path, server: Server, number: int) -> dict:
    home = workdir / f"{mode}-{number}"
    env = {**os.environ, "UPSTACK_HOME": str(home), "UPSTACK_RUN_LIVE_SECONDS": str(spec["live_seconds"])}
    if mode == "live":
        from upstack.services import sync
        from upstack.workspace import Workspace

        with Workspace(home=home) as ws:
            sync.login(ws, server.url, server.token)
    out = subprocess.run([sys.executable, __file__, "worker", json.dumps({**spec, "home": str(home)})], env=env,
                         capture_output=True, text=True, timeout=1800, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the {mode} worker failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "live":
        result["on_server"] = _points_on_server(server, result["run"])
        expected = spec["keys"] * spec["steps"]
        if result["on_server"] != expected:
            raise SystemExit(f"the server holds {result['on_server']} of {expected} points after finish()")
    shutil.rmtree(home, ignore_errors=True)
    return result


def _points_on_server(server: Server, run_id: str) -> int:
    import urllib.request

    request = urllib.request.Request(f"{server.url}/api/sync/runs.json",
                                     headers={"Authorization": f"Bearer {server.token}"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - our own loopback server
        states = json.load(answer)
    return sum(states.get(run_id, {}).get("metrics", {}).values())


def _stat(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(spec: dict, results: dict[str, list[dict]]) -> list[str]:
    points = spec["keys"] * spec["steps"]
    import platform

    import upstack

    lines = ["# bench_live: logging live to a team server", "",
             *machine_lines(f"Python {platform.python_version()}; upstack {upstack.__version__}"
                            f" ({Path(upstack.__file__).parent})"),
             f"- {spec['keys']} metrics × {spec['steps']:,} steps = {points:,} points per run; "
             f"live pushes every {spec['live_seconds']} s; {spec['runs']} runs per mode (median, min-max)", "",
             "| mode | log loop s | finish() s | total s | points/s |", "|---|---:|---:|---:|---:|"]
    medians = {}
    for mode, rows in results.items():
        total = [r["log_s"] + r["finish_s"] for r in rows]
        medians[mode] = (statistics.median(r["log_s"] for r in rows), statistics.median(total))
        lines.append(f"| {mode} | {_stat([r['log_s'] for r in rows])} | {_stat([r['finish_s'] for r in rows])} | "
                     f"{_stat(total)} | {points / statistics.median(total):,.0f} |")
    if len(medians) == 2:
        lines += ["", f"live / local: log loop {medians['live'][0] / medians['local'][0]:.2f}×, "
                      f"log loop plus finish() {medians['live'][1] / medians['local'][1]:.2f}×"]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["worker"]:
        print(json.dumps(work(json.loads(args[1]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per mode (the median is reported)")
    ap.add_argument("--keys", type=int, default=4, help="metrics logged at each step")
    ap.add_argument("--steps", type=int, default=1_000_000, help="steps per run")
    ap.add_argument("--live-seconds", type=float, default=0.25, help="UPSTACK_RUN_LIVE_SECONDS for the live runs")
    ap.add_argument("--quick", action="store_true", help="10,000 steps, 2 runs: does it work?")
    ap.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    ap.add_argument("--workdir", type=Path, help="where workspaces go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir")
    opts = ap.parse_args(args)
    spec = {"keys": opts.keys, "steps": 10_000 if opts.quick else opts.steps, "live_seconds": opts.live_seconds,
            "runs": 2 if opts.quick else opts.runs}
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="upstack-bench-live-"))
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(workdir / "server")
    results: dict[str, list[dict]] = {"local": [], "live": []}
    try:
        for number in range(spec["runs"]):  # the modes in turn, so noise falls on both alike
            for mode in results:
                results[mode].append(measure(mode, spec, workdir, server, number))
                print(f"{mode} #{number + 1}: {results[mode][-1]}", file=sys.stderr, flush=True)
    finally:
        server.stop()
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    lines = report(spec, results)
    print("\n".join(lines))
    if opts.markdown_out:
        opts.markdown_out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
