"""The group chart in Chromium: 50 runs of 100,000 points each, grouped, drawn as means with bands.

Builds a workspace (once; kept with --workdir) of RUNS runs, each logging POINTS points of ``loss``,
in GROUPS config groups (lr) of seeds; serves it in-process; and loads
``/runs/groups?by=lr&key=loss`` in Chromium (Playwright driving Debian's chromium), each load in a
fresh browser context. The time is from navigation start to the chart container's
``data-drawn="true"`` (set by static/run_groups.js once every group's line and band is drawn);
median of --loads after one warm-up load. Also timed: ``services.run_charts.group_series`` alone
(every run, one group, the server's share of the work). Target (issue 20): <= 1 s.

    PYTHONPATH=src python bench/bench_group_chart.py            # 50 x 100,000, 7 loads
    PYTHONPATH=src python bench/bench_group_chart.py --runs 10 --points 10000 --loads 3   # a quick look
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = os.environ.get("UPSTACK_BENCH_CHROMIUM", "/usr/bin/chromium")
TOKEN = "bench-token-0123456789abcdef"
TARGET_MS = 1000.0
_WATCH = """
(() => {
  const seen = () => {
    if (window.__drawnAt === undefined && document.querySelector('#charts[data-drawn="true"]'))
      window.__drawnAt = performance.now();
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


def build(home: Path, runs: int, points: int, groups: int) -> None:
    import upstack
    from upstack.workspace import Workspace

    with Workspace(home=home) as ws:
        if len(ws.store().db.query("SELECT id FROM runs")) >= runs:
            return
    started = time.perf_counter()
    for n in range(runs):
        lr = 10 ** -(1 + n % groups)
        with upstack.run("group-bench", home=home, capture="none", config={"lr": lr, "seed": n // groups}) as run:
            for step in range(points):
                run.log({"loss": 0.1 + 2.4 * math.exp(-step * lr / 100) + 0.02 * math.sin(step + n)}, step=step)
        print(f"  run {n + 1}/{runs} logged ({time.perf_counter() - started:.0f} s)", file=sys.stderr, end="\r")
    with Workspace(home=home) as ws:
        ws.ingest()
    print(file=sys.stderr)


def serve(home: Path) -> tuple[str, object, threading.Thread]:
    import uvicorn

    from upstack.web.app import create_app
    from upstack.workspace import Workspace

    ws = Workspace(home=home)
    app = create_app(ws, token=TOKEN)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def service_time(home: Path) -> float:
    from upstack.services import run_charts
    from upstack.services import runs as run_service
    from upstack.workspace import Workspace

    with Workspace(home=home) as ws:
        ids = [r.id for r in run_service.list_runs(ws)]
        times = []
        for n in range(5):
            started = time.perf_counter()
            run_charts.group_series(ws, ids, "loss", points=1000 + n)  # a new answer each time: none kept
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def draw_times(base: str, loads: int, timeout_s: float, *, computed: bool = False) -> tuple[float, list[float]]:
    """The first load's time (the server has computed nothing yet) and the next ``loads``' times
    (the ended runs' group lines are kept in memory by the server, as a run's thinned series are).
    ``computed``: every load asks for a bucket count not asked before, so the server computes every
    group line again each time (nothing it kept can answer)."""
    from playwright.sync_api import sync_playwright

    times, first = [], 0.0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            for i in range(1 + loads):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(f"{base}/?token={TOKEN}")  # the session cookie
                page.add_init_script(_WATCH)
                points = f"&points={1001 + i}" if computed else ""
                page.goto(f"{base}/runs/groups?by=lr&key=loss{points}", wait_until="commit", timeout=timeout_s * 1000)
                page.wait_for_selector('#charts[data-drawn="true"]', state="attached", timeout=timeout_s * 1000)
                if page.get_attribute("figure.group-chart", "data-drawn") != "true":
                    raise SystemExit("the group chart did not draw")
                drawn_ms = page.evaluate("() => window.__drawnAt")
                if i:
                    times.append(drawn_ms)
                else:
                    first = drawn_ms
                context.close()
        finally:
            browser.close()
    return first, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--loads", type=int, default=7, help="timed page loads (median reported); >= 5")
    parser.add_argument("--workdir", type=Path, help="keep the workspace here (built once)")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="group-bench-"))
    home = root / f"runs{args.runs}x{args.points}"
    build(home, args.runs, args.points, args.groups)
    server_ms = service_time(home)
    base, server, thread = serve(home)
    try:
        first, times = draw_times(base, args.loads, args.timeout)
        _, computed = draw_times(base, args.loads, args.timeout, computed=True)
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(timeout=10)
    median = statistics.median(times)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"### bench_group_chart, {stamp}\n")
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end; SQLite.\n")
    print("| what | runs × points | median ms | min – max ms | target | result |")
    print("|---|---|---|---|---|---|")
    print(f"| group chart drawn in Chromium (navigation → data-drawn), {len(times)} loads | {args.runs} × "
          f"{args.points:,} | {median:,.0f} | {min(times):,.0f} – {max(times):,.0f} | ≤ {TARGET_MS:,.0f} | "
          f"{'ok' if median <= TARGET_MS else 'MISSED'} |")
    cold = statistics.median(computed)
    print(f"| the same, each load computing every group line anew (a new bucket count each time), "
          f"{len(computed)} loads | {args.runs} × {args.points:,} | {cold:,.0f} | {min(computed):,.0f} – "
          f"{max(computed):,.0f} | ≤ {TARGET_MS:,.0f} | {'ok' if cold <= TARGET_MS else 'MISSED'} |")
    print(f"| the very first load (Chromium's first page too) | {args.runs} × {args.points:,} | {first:,.0f} | | | |")
    print(f"| `run_charts.group_series` alone (all runs, one group, 1,000 buckets), 5 calls | {args.runs} × "
          f"{args.points:,} | {server_ms:,.0f} | | | |")


if __name__ == "__main__":
    main()
