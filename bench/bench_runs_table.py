#!/usr/bin/env python3
"""The runs table filtered and sorted by a metric, 10,000 runs, beside MLflow's ``search_runs`` (issue 20).

    python bench/bench_runs_table.py [--runs 10000] [--rounds 7] [--workdir DIR] [--mlflow-python PY]

The same runs in both: each with config (lr, seed, width, optimiser), ten points of ``loss`` and of
``val_acc``, and a summary value; MLflow's in its SQLite tracking store (made through MLflow's own
client, ~30 ms a run: the stores are kept in ``--workdir`` and made once per size), upstack's in its
SQLite workspace (records through the store's one write path, then each run's result entry).

Measured, each round in fresh processes, rounds interleaved, medians of ``--rounds`` after a warm-up:

| measured | target |
|---|---|
| upstack `list_runs(where=["val_acc>0.9"], sort="final(loss)", limit=100)`, warm (web and CLI) | <= 100 ms |
| MLflow `search_runs(filter_string="metrics.val_acc > 0.9", order_by=["metrics.loss ASC"], ...)`, warm | the peer |
| `upstack runs --where val_acc>0.9 --sort 'final(loss)' -n 100 --json`, a whole command | (shown) |

Warm means the second call in a process that has opened its store once (as a web server has); a
call's time is the median of five in that process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_lines  # noqa: E402

TARGET_MS = 100
WHERE, SORT, LIMIT = "val_acc>0.9", "final(loss)", 100
MLFLOW_FILTER, MLFLOW_ORDER = "metrics.val_acc > 0.9", "metrics.loss ASC"
ROOT = Path(__file__).resolve().parent.parent


def _specs(count: int) -> list[dict]:
    """The runs, the same for both trackers: a sweep over lr x width x seed."""
    rng = random.Random(20)
    runs = []
    for i in range(count):
        lr = [1e-4, 3e-4, 1e-3, 3e-3][i % 4]
        width = [64, 128, 256, 512, 1024][(i // 4) % 5]
        final = rng.uniform(0.05, 2.0)
        runs.append({"config": {"lr": lr, "width": width, "seed": i // 20, "optim": "adam" if i % 3 else "sgd"},
                     "loss": [final + (9 - s) * 0.1 for s in range(10)],
                     "val_acc": [min(1.0, (1 - final / 2.2) * (s + 1) / 10) for s in range(10)],
                     "tokens": 1000 + i})
    return runs


# == workers: run in their own interpreter, print one JSON line ==================================

def work_upstack_make(home: str, count: int) -> dict:
    from array import array

    from upstack.formats.journal import Record
    from upstack.formats.metrics import Chunk
    from upstack.ids import new_id
    from upstack.store import runs as store_runs
    from upstack.timeutil import now_iso
    from upstack.workspace import Workspace

    start = time.perf_counter()
    with Workspace(home=home) as ws:
        store = ws.store()
        ids = []
        specs = _specs(count)
        for batch in range(0, count, 500):
            records = []
            for spec in specs[batch:batch + 500]:
                run_id = new_id()
                ids.append(run_id)
                at = now_iso()
                records += [Record(new_id(), "run.start", ws.workspace_id, at,
                                   {"run_id": run_id, "name": "sweep", "config": spec["config"], "tags": [],
                                    "goals": {}, "started_at": at}),
                            Record(new_id(), "run.summary", ws.workspace_id, at,
                                   {"run_id": run_id, "values": {"tokens": spec["tokens"]}}),
                            Record(new_id(), "run.end", ws.workspace_id, at,
                                   {"run_id": run_id, "status": "finished", "ended_at": at, "error": ""})]
            store.write(records)
        with store.db.transaction() as db:
            for run_id, spec in zip(ids, specs, strict=True):
                store_runs.add_chunks(db, run_id, [
                    Chunk(key, array("q", range(10)), array("d", [time.time()] * 10), array("d", spec[key]))
                    for key in ("loss", "val_acc")])
                store_runs.finalize(db, run_id, ws.workspace_id)
    return {"seconds": time.perf_counter() - start}


def work_upstack_query(home: str) -> dict:
    from upstack.services import runs as run_service
    from upstack.workspace import Workspace

    with Workspace(home=home) as ws:
        ws.ingest()
        found = run_service.list_runs(ws, where=[WHERE], sort=SORT, limit=LIMIT)  # warms the store
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            found = run_service.list_runs(ws, where=[WHERE], sort=SORT, limit=LIMIT)
            times.append((time.perf_counter() - t0) * 1000)
    finals = [next(m.last for m in r.metrics if m.key == "loss") for r in found]
    return {"ms": statistics.median(times), "count": len(found), "first": finals[:3]}


def work_mlflow_make(db: str, count: int) -> dict:
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    start = time.perf_counter()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.create_experiment("bench")
    for spec in _specs(count):
        run = client.create_run(experiment, run_name="sweep")
        now = int(time.time() * 1000)
        metrics = [Metric(key, value, now, step) for key in ("loss", "val_acc") for step, value in enumerate(spec[key])]
        params = [Param(k, str(v)) for k, v in spec["config"].items()] + [Param("tokens", str(spec["tokens"]))]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        client.set_terminated(run.info.run_id)
    return {"seconds": time.perf_counter() - start, "experiment": experiment}


def work_mlflow_query(db: str) -> dict:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.get_experiment_by_name("bench").experiment_id

    def search() -> list:
        return client.search_runs([experiment], filter_string=MLFLOW_FILTER, order_by=[MLFLOW_ORDER],
                                  max_results=LIMIT)

    found = search()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        found = search()
        times.append((time.perf_counter() - t0) * 1000)
    return {"ms": statistics.median(times), "count": len(found),
            "first": [r.data.metrics["loss"] for r in found[:3]]}


WORKERS = {"upstack-make": work_upstack_make, "upstack-query": work_upstack_query,
           "mlflow-make": work_mlflow_make, "mlflow-query": work_mlflow_query}


# == the driver ==================================================================================

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["MLFLOW_TRACKING_URI"] = ""
    return env


def _worker(python: str, name: str, *args: object) -> dict:
    done = subprocess.run([python, __file__, "worker", name, *map(str, args)], env=_env(),
                          capture_output=True, text=True, timeout=7200)
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=_env(), capture_output=True, text=True)
    ms = (time.perf_counter() - t0) * 1000
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return ms


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        name, *args = sys.argv[2:]
        print(json.dumps(WORKERS[name](*(int(a) if a.isdigit() else a for a in args))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/upstack-bench-runs-table"))
    parser.add_argument("--upstack-python", default=sys.executable)
    parser.add_argument("--mlflow-python", default=str(ROOT.parent / "venv-bench/bin/python"),
                        help="a Python with mlflow (mlflow-skinny, sqlalchemy, alembic) installed")
    args = parser.parse_args()
    work = args.workdir / str(args.runs)
    home, mlflow_db = work / "upstack", work / "mlflow.db"
    work.mkdir(parents=True, exist_ok=True)
    if not (home / "made").exists():
        made = _worker(args.upstack_python, "upstack-make", home, args.runs)
        (home / "made").write_text(json.dumps(made))
        print(f"upstack store made in {made['seconds']:.0f} s", file=sys.stderr)
    if not (work / "mlflow-made").exists():
        mlflow_db.unlink(missing_ok=True)
        made = _worker(args.mlflow_python, "mlflow-make", mlflow_db, args.runs)
        (work / "mlflow-made").write_text(json.dumps(made))
        print(f"MLflow store made in {made['seconds']:.0f} s", file=sys.stderr)
    cli = [args.upstack_python, "-m", "upstack", "runs", "--where", WHERE, "--sort", SORT, "-n", str(LIMIT), "--json"]
    cli_env = {"UPSTACK_HOME": str(home)}
    os.environ.update(cli_env)  # _env() drops UPSTACK_*; the command needs its home
    results: dict[str, list[float]] = {"upstack": [], "mlflow": [], "cli": []}
    counts = {}
    for round_ in range(args.rounds + 1):
        ours = _worker(args.upstack_python, "upstack-query", home)
        theirs = _worker(args.mlflow_python, "mlflow-query", mlflow_db)
        t0 = time.perf_counter()
        done = subprocess.run(cli, env={**_env(), **cli_env}, capture_output=True, text=True)
        command_ms = (time.perf_counter() - t0) * 1000
        if done.returncode:
            raise SystemExit(f"upstack runs failed: {done.stderr[-2000:]}")
        counts = {"upstack": ours["count"], "mlflow": theirs["count"], "cli": len(json.loads(done.stdout))}
        if [round(x, 9) for x in ours["first"]] != [round(x, 9) for x in theirs["first"]]:
            raise SystemExit(f"the two disagree: upstack's first finals {ours['first']}, MLflow's {theirs['first']}")
        if round_:
            results["upstack"].append(ours["ms"])
            results["mlflow"].append(theirs["ms"])
            results["cli"].append(command_ms)
    med = {k: statistics.median(v) for k, v in results.items()}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    versions = subprocess.run([args.mlflow_python, "-c", "import mlflow; print(mlflow.__version__)"],
                              capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    lines = [f"#### The runs table, {args.runs:,} runs, filtered and sorted by a metric", "",
             *machine_lines(f"python {sys.version.split()[0]}, MLflow {versions} (SQLite store); load average "
                            f"after: {load}; commit {commit}"), "",
             "| measured | median ms (min-max) | verdict |", "|---|---:|---|",
             f"| upstack `list_runs(where=['{WHERE}'], sort='{SORT}', limit={LIMIT})`, warm | "
             f"{med['upstack']:.1f} ({min(results['upstack']):.1f}-{max(results['upstack']):.1f}) | "
             f"{'PASS' if med['upstack'] <= TARGET_MS else 'FAIL'} (<= {TARGET_MS} ms); "
             f"{med['mlflow'] / med['upstack']:.1f}x faster than MLflow |",
             f"| MLflow `search_runs(filter_string='{MLFLOW_FILTER}', order_by=['{MLFLOW_ORDER}'], "
             f"max_results={LIMIT})`, warm | {med['mlflow']:.1f} ({min(results['mlflow']):.1f}-"
             f"{max(results['mlflow']):.1f}) | the peer |",
             f"| `upstack runs --where '{WHERE}' --sort '{SORT}' -n {LIMIT} --json`, a whole process | "
             f"{med['cli']:.0f} ({min(results['cli']):.0f}-{max(results['cli']):.0f}) | (shown) |", "",
             f"Each found {counts['upstack']} / {counts['mlflow']} / {counts['cli']} runs (a page of {LIMIT}), "
             "with the same three lowest final losses first; medians of "
             f"{args.rounds} rounds after a warm-up, each call the median of five in its process."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
