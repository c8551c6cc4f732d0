#!/usr/bin/env python3
"""`upstack portfolio` beside `upstack log -n 20` at N entries, and a site export of 50 projects.

    python bench/bench_portfolio.py [--entries 100000] [--runs 5] [--projects 50]

The bench corpus (bench/corpus.py) is imported as a jrnl file; a portfolio of 50 write-ups is added,
each built from an entry with a figure attached and a Markdown body linking the others. Every
measurement is a whole process (what a person waits for at the prompt), the median of --runs after
one warm-up. Targets (issue 15): `portfolio` <= 150 ms at 100k entries; the site <= 5 s.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median milliseconds of ``runs`` runs after a warm-up."""
    subprocess.run(argv, env=env, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--projects", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="upstack-bench-portfolio-"))
    env = {**os.environ, "UPSTACK_HOME": str(work / "home"), "NO_COLOR": "1"}
    upstack = [sys.executable, "-m", "upstack"]
    journal = work / "journal.json"
    corpus.write_jrnl_json(corpus.Generator(7).entries(args.entries), journal)
    subprocess.run([*upstack, "import", "jrnl", str(journal)], env=env, check=True, capture_output=True)

    from PIL import Image  # the figures (a test dependency)

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
    lines = [f"# bench_portfolio: {args.entries:,} entries, {args.projects} projects, median of {args.runs}", ""]
    lines += machine_lines(f"Python {sys.version.split()[0]}")
    log_ms = timed([*upstack, "log", "-n", "20"], env, args.runs)
    folio_ms = timed([*upstack, "portfolio"], env, args.runs)
    site_ms = timed([*upstack, "portfolio", "site", str(work / "site")], env, max(1, args.runs // 2))
    lines += ["", "| command | ms | target |", "|---|---|---|",
              f"| `upstack log -n 20` | {log_ms:.0f} | (beside) |",
              f"| `upstack portfolio` | {folio_ms:.0f} | <= 150 |",
              f"| `upstack portfolio site OUT/` ({args.projects} projects) | {site_ms:.0f} | <= 5000 |"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
