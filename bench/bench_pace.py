#!/usr/bin/env python3
"""A check-in and `upstack pace` (issue 18), timed beside `upstack note` and `upstack log -n 20` in one run.

    python bench/bench_pace.py [--entries 100000] [--days 730] [--runs 7]

One workspace: the bench corpus (bench/corpus.py, imported as a jrnl file) and ``--days`` days of daily
check-ins (sleep, energy, mood, hours, three signs), written through the service in this process. Each
figure is a whole process; each round runs `log -n 20`, a `note`, the check-in (that note waiting in the
journal, as after a day of notes) and `pace`, in turn; medians of ``--runs`` rounds after a warm-up:

| measured | beside | target |
|---|---|---|
| `upstack checkin --sleep ... --sign ...` (flags) | `upstack log -n 20`, `upstack note` | <= 100 ms |
| `upstack pace` | `upstack log -n 20` | <= 150 ms |

Then the check-ins are locked (`upstack checkin lock`, services/wellbeing_seal.py) and both are timed
again with ``UPSTACK_PASSPHRASE`` set, as their own rows: each such command derives the key once
(Argon2id, 64 MiB, 3 passes), so its target is stated apart: the unlocked figure plus one derivation.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_path import alternately, log_workspace  # noqa: E402
from machine import machine_lines  # noqa: E402

CHECKIN_TARGET_MS, PACE_TARGET_MS = 100, 150
PASSPHRASE = "a bench passphrase, long enough"


def _locked(ms: float, unlocked: float, target: float, derive: float) -> str:
    """Locked, a command's target is the unlocked one plus one key derivation (timed here); what it
    costs beyond the unlocked run and that derivation (importing the ciphers, opening the records) too."""
    limit = target + derive
    return (f"{'PASS' if ms <= limit else 'FAIL'} (<= {target} ms + {derive:.0f} ms deriving the key), "
            f"{ms - unlocked - derive:+.0f} ms beyond unlocked + deriving")


def _round(upstack: list[str]) -> list[list[str]]:
    return [[*upstack, "log", "-n", "20"], [*upstack, "note", "Bench note {n}."],
            [*upstack, "checkin", "--sleep", "7", "--energy", "2", "--mood", "2", "--sign", "snacking=1"],
            [*upstack, "pace"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    work, env, upstack = log_workspace("pace", args.entries, args.seed)
    try:
        from upstack.services import wellbeing, wellbeing_seal
        from upstack.store import path as store_path
        from upstack.workspace import Workspace

        rng = random.Random(args.seed)
        with Workspace(home=work / "home") as ws:
            for back in range(args.days, 0, -1):
                day = date.today() - timedelta(days=back)
                wellbeing.check_in(ws, day=day, sleep_hours=round(rng.uniform(5, 8.5), 1),
                                   energy=rng.randrange(4), mood=rng.randrange(4), hours_worked=rng.randrange(4, 11),
                                   sign_scores={s: rng.randrange(4) for s in wellbeing.DEFAULT_SIGNS})
        # One round: log -n 20 (the peer), a note, then the check-in with that note waiting in the
        # journal (as after a day of notes), then pace, which takes both in.
        log, note, checkin, pace = alternately(_round(upstack), env, args.runs)
        with Workspace(home=work / "home") as ws:
            wellbeing_seal.lock(ws, PASSPHRASE)
            seal = wellbeing_seal.Seal.parse(store_path.seal_text(ws.store().db) or "")
            started = time.perf_counter()
            seal.derive(PASSPHRASE)
            derive = (time.perf_counter() - started) * 1000
        locked_env = {**env, wellbeing_seal.PASSPHRASE_ENV: PASSPHRASE}
        _, _, checkin_locked, pace_locked = alternately(_round(upstack), locked_env, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"## bench_pace: {args.entries:,} entries, {args.days:,} days of check-ins, median of {args.runs} runs\n")
    print("\n".join(machine_lines(f"python {sys.version.split()[0]}")))
    print("\n| command | median ms | verdict |\n|---|---:|---|")
    rows = [("`upstack note`", note, ""),
            ("`upstack checkin` (flags), a note waiting", checkin,
             f"{'PASS' if checkin <= CHECKIN_TARGET_MS else 'FAIL'} (<= {CHECKIN_TARGET_MS} ms), "
             f"{checkin / log:.2f}x `log -n 20`, {checkin / note:.2f}x `note`"),
            ("`upstack log -n 20`", log, ""),
            ("`upstack pace`", pace,
             f"{'PASS' if pace <= PACE_TARGET_MS else 'FAIL'} (<= {PACE_TARGET_MS} ms), {pace / log:.2f}x `log -n 20`"),
            ("`upstack checkin` (flags), locked", checkin_locked,
             _locked(checkin_locked, checkin, CHECKIN_TARGET_MS, derive)),
            ("`upstack pace`, locked", pace_locked, _locked(pace_locked, pace, PACE_TARGET_MS, derive))]
    for name, ms, verdict in rows:
        print(f"| {name} | {ms:,.0f} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
