#!/usr/bin/env python3
"""Benchmark metric logging, upstack's run.log against MLflow on SQLite.

    python bench/bench_runs.py [--runs 5] [--quick] [--markdown-out FILE] [--no-mlflow]
                               [--upstack-python PY] [--mlflow-python PY] [--workdir DIR]

Every measurement is a fresh process (cold imports; peak RSS from
``getrusage(RUSAGE_SELF)`` inside it), repeated ``--runs`` times; the report
gives medians with min-max.  Throughput is end to end: points divided by the
time from just before the first ``run.log`` call until ``run_service.series``
has returned every key's full series (finish, ingest into SQLite and read
included).  MLflow runs in its own venv, bench/.venv-mlflow, made on first use.
See bench/README.md.
"""
from __future__ import annotations

# Only stdlib up here: this file is also the worker that runs inside the upstack and
# MLflow interpreters (`bench_runs.py worker KIND SPEC`), which have nothing else.
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench scripts' own helpers
from machine import machine_lines  # noqa: E402

BENCH = Path(__file__).resolve().parent
MLFLOW_VENV = BENCH / ".venv-mlflow"
MLFLOW_BATCH = 1000  # MLflow's own cap on metrics per log_batch call
TIMEOUT = 1800  # seconds for one measurement process


# === workers: run in a fresh process, print one JSON line ======================================

def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _scales(keys: int) -> list[tuple[str, float]]:
    return [(f"k{i}", 1.0 + i / 10) for i in range(keys)]


def work_upstack_log(spec: dict) -> dict:
    """Log keys x steps from a training-like loop; time until every series reads back in full."""
    import upstack

    pairs = _scales(spec["keys"])
    steps = spec["steps"]
    t_start = time.perf_counter()
    run = upstack.run("bench", home=spec["home"], capture="none")
    t0 = time.perf_counter()
    for step in range(steps):
        base = 1.0 / (step + 1)
        run.log({key: base * scale for key, scale in pairs}, step=step)
    t_loop = time.perf_counter()
    run.finish()
    t_finish = time.perf_counter()
    rss_logging = _peak_rss_mb()
    # Importing the store is part of making the points queryable, so it is inside the timing.
    from upstack.services import runs as run_service
    from upstack.workspace import Workspace

    ws = Workspace(home=spec["home"])
    ws.ingest()  # takes the run folder into SQLite
    t_ingest = time.perf_counter()
    last = 1.0 / steps
    for key, scale in pairs:
        series = run_service.series(ws, run.short, key)
        if len(series) != steps or series.steps[-1] != steps - 1 or series.values[-1] != last * scale:
            raise SystemExit(f"{key}: read back {len(series)} points, expected {steps}")
        del series
    t_read = time.perf_counter()
    ws.close()
    # The same loop without the log call, for the cost of one call.
    t_base = time.perf_counter()
    for step in range(steps):
        base = 1.0 / (step + 1)
        _ = {key: base * scale for key, scale in pairs}
    base_s = time.perf_counter() - t_base
    return {"points": steps * len(pairs), "calls": steps, "start_s": t0 - t_start,
            "loop_s": t_loop - t0, "finish_s": t_finish - t_loop, "ingest_s": t_ingest - t_finish,
            "read_s": t_read - t_ingest, "e2e_s": t_read - t0, "base_s": base_s,
            "rss_logging_mb": rss_logging, "rss_mb": _peak_rss_mb(), "run": run.short}


def work_upstack_prepare(spec: dict) -> dict:
    """A workspace with its store made (and one small run in it), as a person's would be."""
    import upstack
    from upstack.workspace import Workspace

    run = upstack.run("setup", home=spec["home"], capture="none")
    run.log({"loss": 1.0}, step=0)
    run.finish()
    ws = Workspace(home=spec["home"])
    ws.ingest()  # the store made, the run taken in
    ws.close()
    return {"run": run.short}


def work_upstack_read(spec: dict) -> dict:
    """Read one whole series back from an ingested workspace (the store open included)."""
    t0 = time.perf_counter()
    from upstack.services import runs as run_service
    from upstack.workspace import Workspace

    t1 = time.perf_counter()
    ws = Workspace(home=spec["home"])
    series = run_service.series(ws, spec["run"], spec["key"])
    t2 = time.perf_counter()
    ws.close()
    if len(series) != spec["points"]:
        raise SystemExit(f"read back {len(series)} points, expected {spec['points']}")
    return {"import_s": t1 - t0, "read_s": t2 - t1, "rss_mb": _peak_rss_mb()}


def work_mlflow_log(spec: dict) -> dict:
    """The same loop logging to MLflow: log_batch, log_metric (sync or async) or log_metrics."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    mlflow.set_tracking_uri(f"sqlite:///{spec['db']}")
    active = mlflow.start_run()  # creates the database: not timed
    run_id = active.info.run_id
    client = MlflowClient()
    pairs = _scales(spec["keys"])
    steps, mode = spec["steps"], spec["mode"]
    t0 = time.perf_counter()
    if mode == "log_batch":
        batch: list = []
        for step in range(steps):
            base = 1.0 / (step + 1)
            now_ms = int(time.time() * 1000)
            batch.extend(Metric(key, base * scale, now_ms, step) for key, scale in pairs)
            if len(batch) >= MLFLOW_BATCH:
                client.log_batch(run_id, metrics=batch)
                batch = []
        if batch:
            client.log_batch(run_id, metrics=batch)
    elif mode == "log_metrics":
        for step in range(steps):
            base = 1.0 / (step + 1)
            mlflow.log_metrics({key: base * scale for key, scale in pairs}, step=step)
    else:
        synchronous = mode == "log_metric"
        for step in range(steps):
            base = 1.0 / (step + 1)
            for key, scale in pairs:
                mlflow.log_metric(key, base * scale, step=step, synchronous=synchronous)
        if not synchronous:
            mlflow.flush_async_logging()  # the points are durable once this returns
    t_end = time.perf_counter()
    for key, _ in pairs:
        got = len(client.get_metric_history(run_id, key))
        if got != steps:
            raise SystemExit(f"{key}: MLflow has {got} points, expected {steps}")
    t_read = time.perf_counter()
    mlflow.end_run()
    calls = steps if mode == "log_metrics" else steps * len(pairs)
    if mode == "log_batch":
        calls = -(-steps * len(pairs) // MLFLOW_BATCH)
    return {"points": steps * len(pairs), "calls": calls, "e2e_s": t_end - t0,
            "read_s": t_read - t_end, "rss_mb": _peak_rss_mb()}


WORKERS = {"upstack-log": work_upstack_log, "upstack-prepare": work_upstack_prepare,
           "upstack-read": work_upstack_read, "mlflow-log": work_mlflow_log}

# Start-up is timed with nothing imported first (not even this file's imports).
UPSTACK_STARTUP = """
import sys, time
t0 = time.perf_counter()
import upstack
t1 = time.perf_counter()
run = upstack.run("startup", home=sys.argv[1], capture=sys.argv[2] or None)
t2 = time.perf_counter()
run.finish()
import json, resource
print(json.dumps({"import_s": t1 - t0, "call_s": t2 - t1, "ready_s": t2 - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
MLFLOW_STARTUP = """
import sys, time
t0 = time.perf_counter()
import mlflow
t1 = time.perf_counter()
mlflow.set_tracking_uri(sys.argv[1])
mlflow.start_run()
t2 = time.perf_counter()
mlflow.end_run()
import json, resource
print(json.dumps({"import_s": t1 - t0, "call_s": t2 - t1, "ready_s": t2 - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


# === the driver ===================================================================================
# It must stay small: on Linux a child's ru_maxrss starts at the RSS of the process that
# forked it, so a big driver would raise every child's peak.  The report gives this floor.

class BenchError(RuntimeError):
    pass


@dataclass
class Sizes:
    same_points: tuple[int, int]  # (keys, steps): the 100,000 points MLflow logs too
    million: tuple[int, int]
    one_key: tuple[int, int]
    ten_million: tuple[int, int]
    readback: tuple[int, int]
    mlflow_short_batch: tuple[int, int]
    mlflow_per_call: tuple[int, int]  # log_metric, async log_metric, log_metrics

    @classmethod
    def full(cls) -> Sizes:
        return cls((10, 10_000), (10, 100_000), (1, 1_000_000), (10, 1_000_000), (1, 1_000_000),
                   (10, 2_000), (10, 200))

    @classmethod
    def quick(cls) -> Sizes:
        return cls((10, 1_000), (10, 10_000), (1, 10_000), (10, 100_000), (1, 10_000),
                   (10, 200), (10, 10))


@dataclass
class Measured:
    """Every run of one measurement (each a dict from a worker), or why it failed."""

    runs: list[dict] = field(default_factory=list)
    error: str | None = None

    def median(self, key: str) -> float | None:
        values = [r[key] for r in self.runs if key in r]
        return statistics.median(values) if values else None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = Sizes.quick() if args.quick else Sizes.full()
        self.runs = 1 if args.quick else args.runs
        self.warmup = 0 if args.quick else args.warmup
        self.results: dict[str, Measured] = {}
        self.workdir: Path = args.workdir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("UPSTACK_", "MLFLOW_"))}
        self.env["NO_COLOR"] = "1"
        self.counter = 0

    # -- processes -------------------------------------------------------------------------
    def _process(self, argv: list[str]) -> dict:
        proc = subprocess.run(argv, env=self.env, cwd=self.workdir, capture_output=True, text=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise BenchError(f"exit {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-1500:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def worker(self, python: str, kind: str, spec: dict) -> dict:
        return self._process([python, str(Path(__file__).resolve()), "worker", kind, json.dumps(spec)])

    def snippet(self, python: str, code: str, *args: str) -> dict:
        return self._process([python, "-c", code, *args])

    def home(self, label: str) -> Path:
        self.counter += 1
        return self.workdir / f"{self.counter:03d}-{label}"

    def measure(self, name: str, label: str, once, runs: int, warmup: int = 0, headline=None) -> None:
        """Call once(i) -> dict for warm-up plus timed runs; keep the timed ones under name."""
        got = self.results[name] = Measured()
        for i in range(warmup + runs):
            tag = "warm-up" if i < warmup else f"run {i - warmup + 1}/{runs}"
            print(f"  {label}: {tag} ...", end="", flush=True)
            try:
                result = once(i)
            except (BenchError, subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as exc:
                got.error = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else repr(exc)
                print(f" FAILED: {got.error}", flush=True)
                return
            if i >= warmup:
                got.runs.append(result)
            print(f" {headline(result) if headline else ''}", flush=True)

    # -- upstack ---------------------------------------------------------------------------
    def upstack_template(self) -> Path:
        template = self.workdir / "template-workspace"
        if not template.exists():
            self.worker(self.args.upstack_python, "upstack-prepare", {"home": str(template)})
        return template

    def upstack_log(self, name: str, keys: int, steps: int, runs: int, warmup: int,
                    keep: Path | None = None) -> None:
        def once(i: int) -> dict:
            home = keep or self.home(name)
            shutil.rmtree(home, ignore_errors=True)
            shutil.copytree(self.upstack_template(), home)  # an existing workspace: its store already made
            try:
                return self.worker(self.args.upstack_python, "upstack-log",
                                   {"home": str(home), "keys": keys, "steps": steps})
            finally:
                if keep is None:
                    shutil.rmtree(home, ignore_errors=True)

        self.measure(name, f"upstack {keys} key(s) x {steps:,} steps", once, runs, warmup,
                     lambda r: f"{r['points'] / r['e2e_s']:,.0f} points/s, peak {r['rss_mb']:.0f} MB")

    def upstack_read(self, runs: int, warmup: int) -> None:
        keys, steps = self.sizes.readback
        home = self.workdir / "readback-workspace"
        print(f"  preparing a workspace with a {steps:,}-point series ...", flush=True)
        self.upstack_log("readback-setup", keys, steps, 1, 0, keep=home)
        setup = self.results.pop("readback-setup")
        if setup.error:
            self.results["readback"] = Measured(error=setup.error)
            return
        spec = {"home": str(home), "run": setup.runs[0]["run"], "key": "k0", "points": steps}
        self.measure("readback", f"read back a {steps:,}-point series",
                     lambda i: self.worker(self.args.upstack_python, "upstack-read", spec), runs, warmup,
                     lambda r: f"{r['read_s'] * 1000:.0f} ms")
        shutil.rmtree(home, ignore_errors=True)

    def upstack_startup(self, runs: int, warmup: int) -> None:
        py = self.args.upstack_python
        fresh = lambda i: self.snippet(py, UPSTACK_STARTUP, str(self.home("startup")), "none")  # noqa: E731
        self.measure("startup-upstack", "upstack.run(), existing workspace",
                     lambda i: self.snippet(py, UPSTACK_STARTUP, str(self.upstack_template()), "none"), runs, warmup,
                     lambda r: f"{r['call_s'] * 1000:.1f} ms (+ import {r['import_s'] * 1000:.1f} ms)")
        self.measure("startup-upstack-new", "upstack.run(), new workspace", fresh, runs, warmup,
                     lambda r: f"{r['call_s'] * 1000:.1f} ms")
        self.measure("startup-upstack-capture", "upstack.run() with default capture, existing workspace",
                     lambda i: self.snippet(py, UPSTACK_STARTUP, str(self.upstack_template()), ""), runs, warmup,
                     lambda r: f"{r['call_s'] * 1000:.1f} ms")

    # -- MLflow ----------------------------------------------------------------------------
    def mlflow_log(self, name: str, mode: str, keys: int, steps: int, runs: int) -> None:
        def once(i: int) -> dict:
            folder = self.home(name)
            folder.mkdir(parents=True)
            try:
                return self.worker(self.args.mlflow_python, "mlflow-log",
                                   {"db": str(folder / "mlflow.db"), "keys": keys, "steps": steps,
                                    "mode": mode})
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        self.measure(name, f"MLflow {mode}, {keys} keys x {steps:,} steps", once, runs, 0,
                     lambda r: f"{r['points'] / r['e2e_s']:,.0f} points/s")

    def mlflow_startup(self, runs: int, warmup: int) -> None:
        py = self.args.mlflow_python
        existing = self.home("mlflow-startup")
        existing.mkdir(parents=True)
        uri = f"sqlite:///{existing / 'mlflow.db'}"

        def again(i: int) -> dict:
            if not (existing / "mlflow.db").exists():  # made by a first, untimed run
                self.snippet(py, MLFLOW_STARTUP, uri)
            return self.snippet(py, MLFLOW_STARTUP, uri)

        def first(i: int) -> dict:
            folder = self.home("mlflow-first")
            folder.mkdir(parents=True)
            return self.snippet(py, MLFLOW_STARTUP, f"sqlite:///{folder / 'mlflow.db'}")

        self.measure("startup-mlflow", "mlflow.start_run(), existing database",
                     again, runs, warmup,
                     lambda r: f"{r['call_s'] * 1000:.0f} ms (+ import {r['import_s'] * 1000:.0f} ms)")
        self.measure("startup-mlflow-new", "mlflow.start_run(), new database", first, min(runs, 3), 0,
                     lambda r: f"{r['call_s'] * 1000:.0f} ms")

    # -- the plan --------------------------------------------------------------------------
    def run_all(self) -> None:
        s, R, W = self.sizes, self.runs, self.warmup
        slow = max(1, min(R, 3))
        steps = [
            ("upstack start-up", lambda: self.upstack_startup(R, W)),
            ("upstack end to end, the points MLflow logs",
             lambda: self.upstack_log("up-same", *s.same_points, R, W)),
            ("upstack end to end, 1M points at 10 keys per call",
             lambda: self.upstack_log("up-million", *s.million, R, W)),
            ("upstack end to end, 1 key per call", lambda: self.upstack_log("up-one-key", *s.one_key, R, W)),
            ("upstack end to end, 10M points (memory)",
             lambda: self.upstack_log("up-ten-million", *s.ten_million, slow, 0)),
            ("upstack read-back", lambda: self.upstack_read(R, W)),
        ]
        if self.args.mlflow_python:
            steps += [
                ("MLflow start-up", lambda: self.mlflow_startup(R, W)),
                ("MLflow log_batch, the same points",
                 lambda: self.mlflow_log("ml-batch", "log_batch", *s.same_points, R)),
                ("MLflow log_batch, a shorter run",
                 lambda: self.mlflow_log("ml-batch-short", "log_batch", *s.mlflow_short_batch, slow)),
                ("MLflow log_metric", lambda: self.mlflow_log("ml-metric", "log_metric", *s.mlflow_per_call, slow)),
                ("MLflow log_metric, asynchronous",
                 lambda: self.mlflow_log("ml-async", "log_metric_async", *s.mlflow_per_call, slow)),
                ("MLflow log_metrics (10 keys per call, like run.log)",
                 lambda: self.mlflow_log("ml-metrics", "log_metrics", *s.mlflow_per_call, slow)),
            ]
        t0 = time.perf_counter()
        for i, (title, step) in enumerate(steps, 1):
            print(f"[{i}/{len(steps)}] {title}  ({time.perf_counter() - t0:.0f} s so far)", flush=True)
            step()


# === the report ===================================================================================

def _rate(r: dict) -> float:
    return r["points"] / r["e2e_s"]


def _per_call_us(r: dict) -> float:
    return (r["loop_s"] - r["base_s"]) / r["calls"] * 1e6


def _derive(m: Measured, fn, keep_rss: bool = True) -> Measured:
    """One derived number per run, under "v" (with the run's peak RSS)."""
    runs = [{"v": fn(r), **({"rss_mb": r["rss_mb"]} if keep_rss and "rss_mb" in r else {})} for r in m.runs]
    return Measured(runs, m.error)


@dataclass
class Number:
    """How to show one kind of number: the digits, and the unit after the median."""

    digits: str
    unit: str

    def __call__(self, value: float) -> str:
        return format(value, self.digits)


RATE, MICRO, MILLI, MEGA = Number(",.0f", "pts/s"), Number(".2f", "µs"), Number(",.0f", "ms"), Number("+,.0f", "MB")


def _short(keys_steps: tuple[int, int]) -> str:
    points = keys_steps[0] * keys_steps[1]
    return f"{points // 1_000_000}M" if points >= 1_000_000 else f"{points // 1000}k"


def _throughput_rows(bench: Bench) -> list[list[str]]:
    """measurement, size, median, min-max, peak RSS, target, result, vs MLflow."""
    res, s, quick = bench.results, bench.sizes, bench.args.quick
    get = lambda name: res.get(name, Measured(error="not run"))  # noqa: E731
    size = lambda ks: f"{ks[0]} x {ks[1]:,} = {ks[0] * ks[1]:,}"  # noqa: E731
    rows: list[list[str]] = []

    def row(label: str, where: str, m: Measured, num: Number, target: str = "", ok=None, vs: str = "–") -> None:
        if m.error or not m.runs:
            rows.append([label, where, f"error: {m.error}" if m.error else "not run", "", "", target, "", vs])
            return
        values = [r["v"] for r in m.runs]
        med = statistics.median(values)
        spread = f"{num(min(values))} – {num(max(values))}" if len(values) > 1 else ""
        peak = f"{max(r['rss_mb'] for r in m.runs):.0f}" if "rss_mb" in m.runs[0] else ""
        verdict = "" if ok is None else "– (quick)" if quick else "PASS" if ok(med) else "MISS"
        rows.append([label, where, f"{num(med)} {num.unit}", spread, peak, target, verdict, vs])

    rate = lambda name: _derive(get(name), _rate)  # noqa: E731
    ml_batch = rate("ml-batch")
    same = rate("up-same")
    ratio = same.median("v") / ml_batch.median("v") if same.runs and ml_batch.runs else None
    row("upstack run.log, 10 keys/call, end to end", size(s.same_points), same, RATE,
        "≥ 20x MLflow log_batch", (lambda v: ratio >= 20) if ratio else None, f"{ratio:.0f}x" if ratio else "–")
    row("upstack run.log, 10 keys/call, end to end", size(s.million), rate("up-million"), RATE,
        "≥ 1,000,000 pts/s", lambda v: v >= 1_000_000)
    row("upstack run.log, 1 key/call, end to end", size(s.one_key), rate("up-one-key"), RATE,
        "≥ 300,000 pts/s", lambda v: v >= 300_000)
    row("upstack run.log, 10 keys/call, end to end", size(s.ten_million), rate("up-ten-million"), RATE)

    ml_call = _derive(get("ml-metrics"), lambda r: r["e2e_s"] / r["calls"] * 1e6).median("v")
    call10 = _derive(get("up-million"), _per_call_us, keep_rss=False)
    row("one run.log call in the loop, 10 keys", size(s.million), call10, MICRO, "≤ 5 µs", lambda v: v <= 5,
        f"{ml_call / call10.median('v'):,.0f}x (a log_metrics call: {ml_call / 1000:,.1f} ms)"
        if ml_call and call10.runs else "–")
    row("one run.log call in the loop, 1 key", size(s.one_key),
        _derive(get("up-one-key"), _per_call_us, keep_rss=False), MICRO)

    one, ten = get("up-million"), get("up-ten-million")
    for what, key in (("log + finish", "rss_logging_mb"), ("whole process: + ingest, read", "rss_mb")):
        label = f"peak RSS, {_short(s.million)} → {_short(s.ten_million)} points ({what})"
        if one.runs and ten.runs:
            low, high = one.median(key), ten.median(key)
            row(label, f"{low:.0f} → {high:.0f} MB", Measured([{"v": high - low}]), MEGA, "≤ +100 MB",
                lambda v: v <= 100)
        else:
            row(label, "", Measured(error=one.error or ten.error or "not run"), MEGA)
    row("read back one series (store open + series())", f"{s.readback[0] * s.readback[1]:,}",
        _derive(get("readback"), lambda r: r["read_s"] * 1000), MILLI, "≤ 500 ms", lambda v: v <= 500)

    for name, label, ks in (
            ("ml-batch", f"MLflow log_batch, {MLFLOW_BATCH:,} metrics/call", s.same_points),
            ("ml-batch-short", f"MLflow log_batch, {MLFLOW_BATCH:,} metrics/call", s.mlflow_short_batch),
            ("ml-metric", "MLflow log_metric", s.mlflow_per_call),
            ("ml-async", "MLflow log_metric(synchronous=False), then flush", s.mlflow_per_call),
            ("ml-metrics", "MLflow log_metrics, 10 keys/call", s.mlflow_per_call)):
        if name in res:
            row(label, size(ks), rate(name), RATE)
    return rows


STARTUPS = (("startup-upstack", "upstack.run(), existing workspace, capture=\"none\""),
            ("startup-upstack-new", "upstack.run(), new workspace, capture=\"none\""),
            ("startup-upstack-capture", "upstack.run(), existing workspace, default capture (git, host, ...)"),
            ("startup-mlflow", "mlflow.start_run(), SQLite database made by an earlier run"),
            ("startup-mlflow-new", "mlflow.start_run(), first run: creates the database"))


def _startup_rows(bench: Bench) -> list[list[str]]:
    """start-up, import ms, call ms, min-max, import + call ms, peak RSS, MLflow / upstack."""
    ml = bench.results.get("startup-mlflow")
    ml_ready = ml.median("ready_s") if ml else None
    rows = []
    for name, label in STARTUPS:
        m = bench.results.get(name)
        if m is None:
            continue
        if m.error or not m.runs:
            rows.append([label, f"error: {m.error}" if m.error else "not run", "", "", "", "", ""])
            continue
        calls = [r["call_s"] * 1000 for r in m.runs]
        ready = m.median("ready_s")
        vs = f"{ml_ready / ready:.0f}x" if ml_ready and name.startswith("startup-upstack") else "–"
        rows.append([label, f"{m.median('import_s') * 1000:,.0f}", f"{statistics.median(calls):,.1f}",
                     f"{min(calls):,.1f} – {max(calls):,.1f}" if len(calls) > 1 else "",
                     f"{ready * 1000:,.0f}", f"{max(r['rss_mb'] for r in m.runs):.0f}", vs])
    return rows


def _phases(bench: Bench) -> list[list[str]]:
    rows = []
    for name, ks in (("up-same", bench.sizes.same_points), ("up-million", bench.sizes.million),
                     ("up-one-key", bench.sizes.one_key), ("up-ten-million", bench.sizes.ten_million)):
        m = bench.results.get(name)
        if not m or not m.runs:
            continue
        call = _derive(m, _per_call_us).median("v")
        rows.append([f"{ks[0]} x {ks[1]:,}"] + [f"{m.median(k):.3f}" for k in (
            "loop_s", "base_s", "finish_s", "ingest_s", "read_s", "e2e_s")] + [
            f"{call:.2f}", f"{m.median('rss_logging_mb'):.0f}", f"{m.median('rss_mb'):.0f}"])
    return rows


def _table(head: list[str], align: str, rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"] + [
        "| " + " | ".join(r) + " |" for r in rows]


def machine_info(versions: dict[str, str]) -> list[str]:
    return machine_lines("; ".join(f"{k}: {v}" for k, v in versions.items()))


def report(bench: Bench, versions: dict[str, str]) -> tuple[list[str], bool]:
    """The report's lines, and whether any measurement failed."""
    slow = max(1, min(bench.runs, 3))
    runs = "1 run each (--quick: reduced sizes, targets not judged)" if bench.args.quick else (
        f"{bench.runs} timed runs after {bench.warmup} warm-up, median; {slow} runs without warm-up for the "
        "10M-point case, the short log_batch, the MLflow per-call cases and MLflow's first start-up")
    lines = ["# upstack run.log vs MLflow: metric logging benchmark", ""] + machine_info(versions) + [
        f"- {runs}; every run a fresh process; sizes are keys x steps = points", ""]
    lines += _table(["measurement", "points", "median", "min – max", "peak RSS MB", "target", "result",
                     "vs MLflow"], "llrrrllr", _throughput_rows(bench))
    lines += ["", "Start-up (a fresh process; times in ms):", ""]
    lines += _table(["start-up", "import", "call", "call min – max", "import + call", "peak RSS MB",
                     "MLflow / upstack"], "lrrrrrr", _startup_rows(bench))
    lines += ["", "Where upstack's time goes (seconds, medians; `loop without log` is the same loop with the "
              "call left out):", ""]
    lines += _table(["keys x steps", "loop", "loop without log", "finish", "ingest", "read", "end to end",
                     "µs per call", "peak RSS log + finish MB", "peak RSS total MB"], "lrrrrrrrrr", _phases(bench))
    return lines + [""], any(m.error for m in bench.results.values())


# === setup and main ===============================================================================

def ensure_mlflow(python: str | None) -> str:
    if python:
        return python
    exe = MLFLOW_VENV / "bin" / "python"
    if not exe.exists():
        print(f"creating {MLFLOW_VENV} and installing mlflow from PyPI ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True)
        subprocess.run([str(exe), "-m", "pip", "install", "-q", "mlflow"], check=True)
    return str(exe)


def _ask(python: str, code: str) -> str:
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
        return out.stdout.strip() or f"unknown ({out.stderr.strip().splitlines()[-1:]})"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc.__class__.__name__})"


def versions_of(args: argparse.Namespace) -> dict[str, str]:
    py = "import platform; print(platform.python_version())"
    found = {"Python": _ask(args.upstack_python, py)}
    where = _ask(args.upstack_python, "import upstack, pathlib; print(upstack.__version__, "
                 "pathlib.Path(upstack.__file__).parent)")
    version, _, path = where.partition(" ")
    if where.startswith("unknown"):
        found["upstack"] = where
    else:
        found["upstack"] = f"{version} ({'' if 'site-packages' in path else 'editable, '}{path})"
    if args.mlflow_python:
        found["MLflow"] = _ask(args.mlflow_python, "import mlflow; print(mlflow.__version__)") + " (SQLite backend)"
        mlpy = _ask(args.mlflow_python, py)
        if mlpy != found["Python"]:
            found["MLflow's Python"] = mlpy
    floor = _ask(args.upstack_python, "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    found["RSS floor (bare python)"] = f"{int(floor) / 1024:.0f} MB" if floor.isdigit() else floor
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:  # inside a measurement process
        print(json.dumps(WORKERS[argv[1]](json.loads(argv[2]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per measurement (the median is reported)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (fast cases only)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run: check that it works")
    ap.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    ap.add_argument("--no-mlflow", action="store_true", help="run upstack's side only")
    ap.add_argument("--upstack-python", default=sys.executable,
                    help="the Python that has upstack installed (default: this one)")
    ap.add_argument("--mlflow-python", help=f"a Python with mlflow (default: {MLFLOW_VENV.relative_to(BENCH.parent)}"
                    "/bin/python, created on first use)")
    ap.add_argument("--workdir", type=Path, help="where workspaces and databases go (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir")
    args = ap.parse_args(argv)
    args.mlflow_python = None if args.no_mlflow else ensure_mlflow(args.mlflow_python)
    tmp = None
    if args.workdir is None:
        tmp = args.workdir = Path(tempfile.mkdtemp(prefix="upstack-bench-runs-"))
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    versions = versions_of(args)
    print("\n".join(machine_info(versions)), flush=True)
    bench = Bench(args)
    try:
        bench.run_all()
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    lines, failed = report(bench, versions)
    print("\n" + "\n".join(lines))
    if args.markdown_out:
        args.markdown_out.write_text("\n".join(lines))
        print(f"written to {args.markdown_out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
