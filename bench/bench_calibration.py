#!/usr/bin/env python3
"""`upstack calibration` (issue 19) on 5,000 predictions, timed beside `upstack log -n 20` in one run.

    python bench/bench_calibration.py [--entries 100000] [--predictions 5000] [--runs 7]

One workspace: the bench corpus (bench/corpus.py, imported as a jrnl file), a few projects with
experiments, and ``--predictions`` predictions made over the corpus's two years, written as the
journal records services/predictions.py writes (``entry.create`` + ``prediction.make``, then
``prediction.forecast`` updates and ``prediction.resolve``) in batches, in this process: a few
thousand `predict add` processes would take an hour and time nothing of interest. About 80% are
resolved: most after their forecasts (scored), some with evidence older than every forecast ("made
after", left out), some annulled; a third of them updated once or twice with a reason; the rest open,
some with a resolve-by day. Each figure is a whole process; each round runs `log -n 20` (the issue's
peer), `calibration`, `calibration --json` and `predict list --open` in turn; medians of ``--runs``
rounds after a warm-up:

| measured | beside | target |
|---|---|---|
| `upstack calibration`, `upstack calibration --json` | `upstack log -n 20` | <= 150 ms |
| `upstack predict list --open` | `upstack log -n 20` | (shown, no target) |
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_path import alternately, log_workspace  # noqa: E402
from machine import machine_lines  # noqa: E402

CALIBRATION_TARGET_MS = 150
BATCH = 250  # predictions a store write (about 4 records each)
CLAIMS = ["The probe beats chance on held-out prompts", "Patching head {h} restores {pct}% of the logit difference",
          "The SAE's dead-feature fraction stays under {pct}%", "Steering along feature {f} flips refusals",
          "Layer {l} carries the name-mover signal", "The ablation drops accuracy by more than {pct} points",
          "Induction heads form before step {s}k", "The eval's pass rate moves by more than {pct}%"]


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _probability(rng: random.Random, lo: float = 0.05, hi: float = 0.95) -> float:
    return round(min(hi, max(lo, rng.betavariate(2, 2))) * 20) / 20


def prediction_records(ws: Any, rng: random.Random, n: int, nodes: list[str], now: datetime) -> list[Any]:
    """The records of one prediction made ``n``: its entry, its first forecast, maybe updates, and (for
    about 80%) its resolution, at times spread over the corpus's two years."""
    from upstack.ids import new_id

    records: list[Any] = []
    made = now - timedelta(days=rng.uniform(2, 720), minutes=rng.uniform(0, 600))
    claim = rng.choice(CLAIMS).format(h=f"{rng.randrange(12)}.{rng.randrange(12)}", pct=rng.randrange(5, 95),
                                      f=rng.randrange(100, 65000), l=rng.randrange(12), s=rng.randrange(1, 40))
    entry_id, node_id = new_id(), rng.choice(nodes)
    p = _probability(rng)
    truth = rng.random() < min(0.97, max(0.03, p + rng.uniform(-0.2, 0.2)))  # roughly calibrated
    resolve_by = (made + timedelta(days=rng.randrange(7, 90))).date().isoformat() if rng.random() < 0.5 else None
    records.append(ws.record("entry.create", {
        "id": entry_id, "revision_id": new_id(), "kind": "prediction", "title": f"{claim} (#{n})",
        "body": "Resolved by: the held-out eval of the experiment's final run." if rng.random() < 0.5 else "",
        "extra_tags": [], "private": rng.random() < 0.05, "node_id": node_id, "occurred_at": _at(made),
        "created_at": _at(made), "attachments": [], "utc_offset": "+00:00"}))
    records.append(ws.record("prediction.make", {
        "entry_id": entry_id, "at": _at(made), "probability": p, "reason": "", "target_kind": "node",
        "target_id": node_id, "resolve_by": resolve_by}))
    last = made
    for _ in range(rng.choice([0, 0, 0, 0, 1, 1, 2])):
        last += timedelta(days=rng.uniform(0.5, 10))
        p = min(0.95, max(0.05, round(p + rng.uniform(-0.25, 0.25), 2)))
        records.append(ws.record("prediction.forecast", {
            "entry_id": entry_id, "probability": p, "reason": "the pilot run came in", "at": _at(last)}))
    if last > now - timedelta(days=3) or rng.random() < 0.2:
        return records  # open
    kind = rng.random()
    if kind < 0.06:
        outcome, evidence_at = "annulled", last + timedelta(days=rng.uniform(1, 30))
    elif kind < 0.14:  # the result existed before the prediction was written down: made after
        outcome, evidence_at = ("true" if truth else "false"), made - timedelta(days=rng.uniform(0.1, 5))
    else:
        outcome, evidence_at = ("true" if truth else "false"), last + timedelta(days=rng.uniform(0.2, 40))
    evidence_at = min(evidence_at, now - timedelta(hours=1))
    at = max(evidence_at, last) + timedelta(minutes=rng.uniform(1, 600))
    records.append(ws.record("prediction.resolve", {
        "entry_id": entry_id, "outcome": outcome, "value": None, "evidence_id": None,
        "evidence_at": _at(evidence_at), "reason": "", "at": _at(min(at, now))}))
    return records


def seed_predictions(home: Path, count: int, seed: int) -> dict[str, int]:
    """Projects with experiments, and ``count`` predictions filed under them, in batches; what was made."""
    from upstack.services import tree
    from upstack.workspace import Workspace

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with Workspace(home=home) as ws:
        agenda = tree.add_node(ws, "agenda", "Find the circuits that matter", why="Oversight needs them.")
        nodes = []
        for p in range(5):
            project = tree.add_node(ws, "project", f"Project {p}", why="It moves the agenda.", under=agenda.id)
            nodes += [tree.add_node(ws, "experiment", f"Experiment {p}.{e}", why="It answers the project's question.",
                                    under=project.id).id for e in range(8)]
        made = 0
        while made < count:
            batch: list[Any] = []
            for n in range(made, min(count, made + BATCH)):
                batch += prediction_records(ws, rng, n, nodes, now)
            ws.store().write(batch)
            made = min(count, made + BATCH)
        db = ws.store().db
        counts = {row["kind"]: int(row["n"]) for row in db.query(
            "SELECT kind, count(*) AS n FROM prediction_events GROUP BY kind")}
        counts["predictions"] = int(db.scalar("SELECT count(*) FROM predictions") or 0)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--predictions", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep", action="store_true", help="keep the workspace (its path is printed)")
    args = parser.parse_args()
    started = time.perf_counter()
    work, env, upstack = log_workspace("calibration", args.entries, args.seed)
    try:
        counts = seed_predictions(work / "home", args.predictions, args.seed)
        seeded = time.perf_counter() - started
        check = subprocess.run([*upstack, "calibration"], env=env, capture_output=True, text=True, check=True)
        print(check.stdout, file=sys.stderr)
        log, table, as_json, open_list = alternately(
            [[*upstack, "log", "-n", "20"], [*upstack, "calibration"], [*upstack, "calibration", "--json"],
             [*upstack, "predict", "list", "--open"]], env, args.runs)
    finally:
        if args.keep:
            print(f"kept: UPSTACK_HOME={work / 'home'}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"## bench_calibration: {args.entries:,} entries, {counts['predictions']:,} predictions "
          f"({counts.get('forecast', 0):,} forecasts, {counts.get('resolve', 0):,} resolutions), "
          f"median of {args.runs} runs\n")
    print("\n".join(machine_lines(f"python {sys.version.split()[0]}; load average after: {load}; "
                                  f"set up in {seeded:.0f} s")))
    print("\n| command | median ms | verdict |\n|---|---:|---|")

    def verdict(ms: float) -> str:
        return (f"{'PASS' if ms <= CALIBRATION_TARGET_MS else 'FAIL'} (<= {CALIBRATION_TARGET_MS} ms), "
                f"{ms / log:.2f}x `log -n 20`")

    rows = [("`upstack log -n 20`", log, ""), ("`upstack calibration`", table, verdict(table)),
            ("`upstack calibration --json`", as_json, verdict(as_json)),
            ("`upstack predict list --open`", open_list, f"{open_list / log:.2f}x `log -n 20`")]
    for name, ms, said in rows:
        print(f"| {name} | {ms:,.0f} | {said} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
