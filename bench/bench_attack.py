#!/usr/bin/env python3
"""Does a team server stay responsive to everyone else while one member sends it the slowest
requests they can? The other members' pages (p50/p99), alone and under attack, side by side.

    python bench/bench_attack.py [--entries 20000] [--engines sqlite,postgresql] [--rounds 5]
                                 [--requests 25] [--attackers 16] [--markdown-out FILE]

For each engine: the bench corpus imported, a tree, a run (bench_web's setup), then two
accounts (bench_web's team set-up): the owner, who sees the whole log, and a collaborator shown
part of it. `upstack serve` runs as shipped (4 handler threads; a member may have 2 requests
running at once and take 2 s of work in any 10 s), and, for comparison, with the share of time
lifted and with both limits lifted (``SERVERS``). Each round
times the collaborator's pages with nobody else on the server, then again while the owner, with
an API token, fires the slowest requests a member can from ``--attackers`` threads in a process
of their own, niced, standing in for another machine (searches at
the term limit over single-letter prefixes, the facet counts of common words, 64-character date
texts, queries beyond the limits). Medians over the rounds of each round's p50 and p99.
See bench/README.md.
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
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench scripts' own helpers
import bench_web as web  # noqa: E402  (its server, set-up workers and corpus)
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402

PHASES = ("alone", "attacked")
REFUSED = "refused"  # the collaborator's requests answered 429 (their own share of time used up)
SERVERS = {"as shipped (2 requests at once, 2 s of work in any 10 s, a member)": {},
           "the share of time lifted (2 requests at once only)": {"UPSTACK_USER_SECONDS": "1000000"},
           "both limits lifted": {"UPSTACK_USER_REQUESTS": "1000", "UPSTACK_USER_SECONDS": "1000000"}}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
WARM_UP = 12.0  # seconds the attack runs before the collaborator is timed (web/limits.py: WINDOW is 10)
ATTACK = (  # (path, what it is): the slowest a member can ask for, within the limits and beyond them
    ("/search.json?q=" + "+OR+".join([f"{c}*" for c in LETTERS] + [f"{c}e*" for c in "pdcrst"]),
     "32 single-letter prefixes OR'd"),
    ("/search/facets?q=patching+OR+induction+OR+layer", "facet counts of common words"),
    ("/search.json?q=patching+induction+-zzz&limit=200", "a common AND, 200 results"),
    ("/log.json?since=" + "3+weeks+ago+and+then+" * 3 + "3+w", "64-character date text"),
    ("/search.json?q=" + "(" * 200 + "x", "200-deep parentheses (refused)"),
    ("/log.json?since=" + "x" * 5000, "5 kB date text (refused)"),
)


# === set-up workers: run under the upstack Python ================================================

def work_members(spec: dict) -> dict:
    """bench_web's team (an owner and a collaborator), and an API token for the owner."""
    from upstack.services import accounts
    from upstack.workspace import Workspace

    team = web.work_team(spec)
    with Workspace(home=spec["home"], db=spec["db"]) as ws:
        owner = accounts.find_user(ws, "owner")
        token = accounts.create_token(ws, owner.id, "bench attacker")[1]
    return {**team, "token": token}


WORKERS = {**web.WORKERS, "members": work_members}


def worker(args: argparse.Namespace, kind: str, spec: dict) -> dict:
    out = subprocess.run([args.upstack_python, __file__, "worker", kind, json.dumps(spec)], env=args.env,
                         capture_output=True, text=True)
    if out.returncode:
        raise web.BenchError(f"worker {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# === measuring ===================================================================================

class Attacker:
    """The owner's token in ``threads`` clients looping over ``ATTACK`` until stopped.

    They run in a process of their own, at the lowest CPU priority: they stand in for another
    machine, so neither their CPU nor their hold on a Python lock may count as the server's
    or slow the collaborator's client. The server's work answering them counts in full."""

    def __init__(self, base: str, token: str, threads: int) -> None:
        self.answers: Counter[int | str] = Counter()
        self._command = [sys.executable, __file__, "attack", base, token, str(threads)]

    def __enter__(self) -> Attacker:
        self._process = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                         preexec_fn=lambda: os.nice(19))
        if self._process.stdout.readline().strip() != "ready":  # in full swing (``attack``)
            raise web.BenchError("the attacker did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        out, _ = self._process.communicate("")  # stdin closed: stop, and report the answers
        self.answers.update({int(k) if k.isdigit() else k: v for k, v in json.loads(out).items()})


def attack(base: str, token: str, threads: int) -> None:
    """The attacker's process: attack until stdin closes, then print the answers (JSON)."""
    import httpx

    stop = threading.Event()
    answers: Counter[str] = Counter()
    lock = threading.Lock()

    def loop(first: int) -> None:
        with httpx.Client(base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
            i = first
            while not stop.is_set():
                try:
                    status = str(client.get(ATTACK[i % len(ATTACK)][0]).status_code)
                except httpx.HTTPError as exc:  # a connection the server closed: counted, and on with the next
                    status = type(exc).__name__
                with lock:
                    answers[status] += 1
                i += 1

    workers = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    full_swing = time.monotonic() + WARM_UP  # a member's share of time is counted over 10 s: used up by then
    while sum(answers.values()) < 2 * threads or time.monotonic() < full_swing:
        time.sleep(0.05)
    print("ready", flush=True)
    sys.stdin.read()
    stop.set()
    for worker in workers:
        worker.join()
    print(json.dumps(answers), flush=True)


def victim_times(server: web.Server, pages: list[tuple[str, str]], requests: int,
                 pace: float = 0.0) -> dict[str, list[float]]:
    """The collaborator's pages, round-robin on one keep-alive connection, one starting every ``pace``
    seconds at the most: seconds per request."""
    import httpx

    times: dict[str, list[float]] = {name: [] for name, _ in pages}
    with httpx.Client(base_url=server.base, headers={"Cookie": server.cookie}, timeout=120) as client:
        for _ in range(requests):
            for name, path in pages:
                t0 = time.perf_counter()
                response = client.get(path)
                took = time.perf_counter() - t0
                time.sleep(max(0.0, pace - (time.perf_counter() - t0)))
                if response.status_code == 429:  # the collaborator's own share used up: counted, not timed
                    times.setdefault(REFUSED, []).append(took)
                    continue
                times[name].append(took)
                if response.status_code != 200:
                    raise web.BenchError(f"the collaborator's {path} answered {response.status_code}")
    return times


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def measure(args: argparse.Namespace, home: Path, db: str | None, members: dict, env: dict) -> dict:
    pages = [("timeline", "/"), *((f"search `{q}`", f"/search?q={q}") for q in web.SEARCHES), ("tree", "/tree")]
    server = web.Server(args.upstack_python, home, db, env, session=members["session"])
    rounds: list[dict] = []
    try:
        victim_times(server, pages, 2)  # warm-up
        for _ in range(args.rounds):
            one: dict = {"alone": victim_times(server, pages, args.requests, args.pace)}
            with Attacker(server.base, members["token"], args.attackers) as attacker:
                one["attacked"] = victim_times(server, pages, args.requests, args.pace)
            one["attacker"] = dict(attacker.answers)
            rounds.append(one)
            server.wait_idle()
    finally:
        server.stop()
    summary: dict = {"pages": {}, "attacker": sum((Counter(r["attacker"]) for r in rounds), Counter()),
                     "refused": {phase: sum(len(r[phase].get(REFUSED, [])) for r in rounds) for phase in PHASES},
                     "asked": args.rounds * args.requests * len(pages)}
    for name, _ in pages:
        summary["pages"][name] = {phase: {
            "p50": statistics.median(statistics.median(r[phase][name]) for r in rounds) * 1000,
            "p99": statistics.median(_p99(r[phase][name]) for r in rounds) * 1000} for phase in PHASES}
    return summary


def run_engine(engine: str, args: argparse.Namespace, journal: Path, log) -> dict:
    home = args.workdir / engine / "home"
    shutil.rmtree(home.parent, ignore_errors=True)
    home.mkdir(parents=True)
    db = args.pg_url if engine == "postgresql" else None
    if db:
        worker(args, "database", {"url": db})
    subprocess.run([args.upstack_python, "-m", "upstack", "--home", str(home), *(["--db", db] if db else []),
                    "import", "jrnl", str(journal)], env=args.env, check=True, stdout=subprocess.DEVNULL)
    worker(args, "setup", {"home": str(home), "db": db, "seed": args.seed, "points": 20_000,
                           "depth": args.entries // 2})
    members = worker(args, "members", {"home": str(home), "db": db, "seed": args.seed})
    log(f"## {engine}: {args.entries:,} entries; the collaborator is shown {members['shown']:.0%} of them")
    results = {}
    for label, setting in list(SERVERS.items())[:args.servers]:
        results[label] = measure(args, home, db, members, {**args.env, **setting})
        log(f"  {label}: " + ", ".join(f"{n} {v['alone']['p50']:.1f}/{v['attacked']['p50']:.1f} ms"
                                       for n, v in results[label]["pages"].items()))
    if db and not args.keep:
        worker(args, "database", {"url": db, "drop_only": True})
    return results


# === the report ==================================================================================

def report(results: dict[str, dict], args: argparse.Namespace, header: list[str]) -> list[str]:
    lines = [f"### bench_attack, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "", *header, "",
             f"{args.entries:,} entries; {args.rounds} rounds of {args.requests} requests a page a phase "
             f"(medians over the rounds of each round's p50 and p99), one every {args.pace:g} s at the most; "
             f"the attacker: {args.attackers} threads.", ""]
    for engine, by_server in results.items():
        for label, summary in by_server.items():
            lines += [f"**{engine}, {label}**: the collaborator's pages, ms", "",
                      "| page | alone p50 | alone p99 | attacked p50 | attacked p99 | ratio p50 | ratio p99 |",
                      "|---|---:|---:|---:|---:|---:|---:|"]
            for name, v in summary["pages"].items():
                alone, attacked = v["alone"], v["attacked"]
                lines.append(f"| {name} | {alone['p50']:.1f} | {alone['p99']:.1f} | {attacked['p50']:.1f} | "
                             f"{attacked['p99']:.1f} | {attacked['p50'] / alone['p50']:.1f}x | "
                             f"{attacked['p99'] / alone['p99']:.1f}x |")
            counts = sorted(summary["attacker"].items(), key=str)
            answers = ", ".join(f"{status}: {count:,}" for status, count in counts)
            refused = summary["refused"]
            lines += ["", f"The attacker's answers: {answers}. The collaborator's requests refused 429: "
                          f"{refused['alone']} of {summary['asked']} alone, {refused['attacked']} of "
                          f"{summary['asked']} attacked.", ""]
    return lines


def options(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds, each alone then attacked (medians reported)")
    ap.add_argument("--requests", type=int, default=25, help="requests per page, phase and round")
    ap.add_argument("--attackers", type=int, default=16, help="the attacking member's concurrent threads")
    ap.add_argument("--pace", type=float, default=0.25,
                    help="seconds from one of the collaborator's requests to the next, at the least (a brisk "
                         "reader: 4 pages a second; back to back they would use up their own share of time)")
    ap.add_argument("--servers", type=int, default=len(SERVERS),
                    help="how many of the server settings to measure, in order: as shipped, the share of time "
                         "lifted, both limits lifted (the last takes longest: every page waits seconds)")
    ap.add_argument("--entries", type=int, default=20_000, help="log size")
    ap.add_argument("--engines", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--pg-url", default=web.DEFAULT_PG, help="PostgreSQL database to (re)create for the benchmark")
    ap.add_argument("--upstack-python", default=sys.executable, help="the Python that has upstack installed")
    ap.add_argument("--seed", type=int, default=20240611, help="corpus seed")
    ap.add_argument("--workdir", type=Path, help="where workspaces go (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir and the PostgreSQL database")
    ap.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["attack"]:
        attack(argv[1], argv[2], int(argv[3]))
        return 0
    if argv[:1] == ["worker"]:  # a set-up step, inside the upstack interpreter
        kind, spec = argv[1], json.loads(argv[2])
        print(json.dumps(WORKERS[kind](spec)))
        return 0
    args = options(argv)
    tmp = None
    if args.workdir is None:
        tmp = args.workdir = Path(tempfile.mkdtemp(prefix="upstack-bench-attack-"))
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    args.env.update(XDG_CONFIG_HOME=str(args.workdir / "xdg-config"), NO_COLOR="1", PYTHONUNBUFFERED="1")
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    try:
        header = machine_lines(web._versions(args.upstack_python, "python"))
        log("\n".join(header))
        journal = args.workdir / "journal.json"
        corpus.write_jrnl_json(corpus.Generator(args.seed).entries(args.entries), journal)
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
        results = {engine: run_engine(engine, args, journal, log) for engine in engines}
    except (web.BenchError, subprocess.CalledProcessError) as exc:
        print(f"\nbenchmark stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    lines = report(results, args, header)
    print("\n" + "\n".join(lines))
    if args.markdown_out:
        args.markdown_out.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
