#!/usr/bin/env python3
"""A check-in and `upstack pace` (issue 18), timed beside `upstack note` and `upstack log -n 20` in one run.

    python bench/bench_pace.py [--entries 100000] [--days 730] [--runs 7]

One workspace: the bench corpus (bench/corpus.py, imported as a jrnl file) and ``--days`` days of daily
check-ins (sleep, energy, mood, hours, three signs), written through the service in this process. Each
figure is a whole process, timed alternately with its peer, the median of ``--runs`` after a warm-up:

| measured | beside | target |
|---|---|---|
| `upstack checkin --sleep ... --sign ...` (flags) | `upstack note` | <= 100 ms |
| `upstack pace` | `upstack log -n 20` | <= 150 ms |
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_path import alternately, log_workspace  # noqa: E402
from machine import machine_lines  # noqa: E402

CHECKIN_TARGET_MS, PACE_TARGET_MS = 100, 150


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    work, env, upstack = log_workspace("pace", args.entries, args.seed)
    try:
        from upstack.services import wellbeing
        from upstack.workspace import Workspace

        rng = random.Random(args.seed)
        with Workspace(home=work / "home") as ws:
            for back in range(args.days, 0, -1):
                day = date.today() - timedelta(days=back)
                wellbeing.check_in(ws, day=day, sleep_hours=round(rng.uniform(5, 8.5), 1),
                                   energy=rng.randrange(4), mood=rng.randrange(4), hours_worked=rng.randrange(4, 11),
                                   sign_scores={s: rng.randrange(4) for s in wellbeing.DEFAULT_SIGNS})
        note, checkin = alternately([[*upstack, "note", "Bench note {n}."],
                                     [*upstack, "checkin", "--sleep", "7", "--energy", "2", "--mood", "2",
                                      "--sign", "snacking=1"]], env, args.runs)
        log, pace = alternately([[*upstack, "log", "-n", "20"], [*upstack, "pace"]], env, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"## bench_pace: {args.entries:,} entries, {args.days:,} days of check-ins, median of {args.runs} runs\n")
    print("\n".join(machine_lines(f"python {sys.version.split()[0]}")))
    print("\n| command | median ms | verdict |\n|---|---:|---|")
    rows = [("`upstack note`", note, ""),
            ("`upstack checkin` (flags)", checkin,
             f"{'PASS' if checkin <= CHECKIN_TARGET_MS else 'FAIL'} (<= {CHECKIN_TARGET_MS} ms), "
             f"{checkin / note:.2f}x `note`"),
            ("`upstack log -n 20`", log, ""),
            ("`upstack pace`", pace,
             f"{'PASS' if pace <= PACE_TARGET_MS else 'FAIL'} (<= {PACE_TARGET_MS} ms), {pace / log:.2f}x `log -n 20`")]
    for name, ms, verdict in rows:
        print(f"| {name} | {ms:,.0f} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
