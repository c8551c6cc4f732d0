#!/usr/bin/env python3
"""Benchmark upstack's research log against jrnl 4.x on the same corpus.

    python bench/bench_log.py [--sizes 1000,10000,100000] [--runs 5]
                              [--jrnl-sizes 1000,10000] [--upstack CMD]
                              [--markdown-out bench/RESULTS.md]

Every measurement is a whole process (what a person waits for at the prompt),
timed with time.perf_counter around subprocess start to exit; peak RSS comes
from os.wait4.  See bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402

BENCH = Path(__file__).resolve().parent
JRNL_VENV = BENCH / ".venv-jrnl"
# Fixed query set: (label, upstack argv, jrnl argv).  The corpus makes
# "induction" match ~20% of entries and "patching" more than half.
QUERIES = [
    ("patching", ["patching"], ["-contains", "patching"]),
    ("induction", ["induction"], ["-contains", "induction"]),
    ("mailbox", ["mailbox"], ["-contains", "mailbox"]),
    ("zombie", ["zombie"], ["-contains", "zombie"]),
    ("#ioi", ["#ioi"], ["#ioi"]),
]
PENDING_QUERY = "induction"


class BenchError(RuntimeError):
    pass


# --- process timing ---------------------------------------------------------
# On Linux a child's ru_maxrss starts from the RSS high-water mark of the
# process that forked it, so timing from this (large, corpus-holding) process
# would report at least its own peak for every child.  Commands are therefore
# started, timed and reaped by a tiny launcher started first thing in main().
LAUNCHER = r"""
import json, os, subprocess, sys, time
for line in sys.stdin:
    req = json.loads(line)
    with open(req["out"], "wb") as out, open(req["err"], "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(req["argv"], env=req["env"], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
    print(json.dumps([secs, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]), flush=True)
"""


class Launcher:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", LAUNCHER],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="upstack-bench-io-"))

    def run(self, argv, env, check=True):
        """Run argv once; return (seconds, peak_rss_mb, stdout_text)."""
        out, err = self.tmp / "out", self.tmp / "err"
        req = {"argv": [str(a) for a in argv], "env": env, "out": str(out), "err": str(err)}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        secs, rss_kb, rc = json.loads(self.proc.stdout.readline())
        text = out.read_text("utf-8", "replace")
        if check and rc != 0:
            raise BenchError(f"`{shlex.join(req['argv'])}` exited {rc}:\n"
                             f"{err.read_text('utf-8', 'replace')[-2000:]}")
        return secs, rss_kb / 1024, text  # ru_maxrss is KiB on Linux

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


_launcher: Launcher | None = None


def run(argv, env, check=True):
    return _launcher.run(argv, env, check)


def measure(step, runs, warmup, setup=None):
    """Call setup() (untimed) then step() -> (secs, rss, text); return summary."""
    secs, rss = [], []
    for i in range(warmup + runs):
        if setup:
            setup()
        s, r, _ = step()
        if i >= warmup:
            secs.append(s)
            rss.append(r)
    return {"ms": statistics.median(secs) * 1000, "min_ms": min(secs) * 1000,
            "rss_mb": max(rss), "runs": len(secs)}


def pair(*steps):
    """Several processes timed as one: summed time, max RSS."""
    total, peak, text = 0.0, 0.0, ""
    for s in steps:
        secs, rss, text = s()
        total, peak = total + secs, max(peak, rss)
    return total, peak, text


# --- tools ------------------------------------------------------------------
def ensure_jrnl(cmd: str | None) -> list[str]:
    if cmd:
        return shlex.split(cmd)
    exe = JRNL_VENV / "bin" / "jrnl"
    if not exe.exists():
        print(f"creating {JRNL_VENV} and installing jrnl 4.x from PyPI ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(JRNL_VENV)], check=True)
        subprocess.run([str(JRNL_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                        "jrnl>=4,<5"], check=True)
    return [str(exe)]


def upstack_argv(cmd: str | None) -> list[str]:
    if cmd:
        return shlex.split(cmd)
    exe = shutil.which("upstack")
    return [exe] if exe else [sys.executable, "-m", "upstack"]


def version(argv, env) -> str:
    try:
        out = subprocess.run(argv + ["--version"], env=env, capture_output=True, text=True,
                             timeout=60)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except Exception as exc:  # a missing --version must not stop the benchmark
        return f"unknown ({exc.__class__.__name__})"


def jrnl_env(root: Path, journal: Path, version: str) -> dict:
    """A private XDG tree holding a jrnl.yaml that points at `journal`."""
    cfg_dir = root / "xdg-config" / "jrnl"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    (root / "xdg-data").mkdir(exist_ok=True)
    config = {  # the keys of jrnl's own default config (jrnl/config.py)
        "version": version, "journals": {"default": {"journal": str(journal)}},
        "editor": "", "encrypt": False, "template": False, "default_hour": 9,
        "default_minute": 0, "timeformat": "%Y-%m-%d %H:%M", "tagsymbols": "#",
        "highlight": False, "linewrap": 79, "indent_character": "|",
        "colors": {"body": "none", "date": "none", "tags": "none", "title": "none"},
    }
    env = dict(os.environ, XDG_CONFIG_HOME=str(root / "xdg-config"),
               XDG_DATA_HOME=str(root / "xdg-data"), NO_COLOR="1")
    (cfg_dir / "jrnl.yaml").write_text(to_yaml(config))
    return env


def to_yaml(d: dict, indent: str = "") -> str:
    """Block-style YAML for nested dicts of scalars.  (A config that starts with
    '{' would be taken by jrnl for a jrnl 1.x JSON config and "upgraded".)"""
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.append(f"{indent}{k}:\n{to_yaml(v, indent + '  ')}")
        else:  # JSON scalars (quoted strings, true/false, numbers) are valid YAML
            out.append(f"{indent}{k}: {json.dumps(v)}\n")
    return "".join(out)


def same_entries(ours: list[dict], theirs: list[dict]) -> str | None:
    """None if jrnl's export equals ours, else a description of the first difference."""
    if len(ours) != len(theirs):
        return f"{len(theirs)} entries exported by jrnl, {len(ours)} written"
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        a, b = dict(a, tags=sorted(a["tags"])), dict(b, tags=sorted(b["tags"]))
        if a != b:
            return f"entry {i} differs:\n ours  {a}\n jrnl  {b}"
    return None


# --- one size ---------------------------------------------------------------
def bench_size(n, args, gen_seed, tools, results, log):
    work = args.workdir / f"n{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    gen = corpus.Generator(gen_seed)
    entries = gen.entries(n)
    words = sum(len((e.title + " " + e.body).split()) for e in entries)
    log(f"\n## {n} entries ({words / n:.0f} words/entry)")
    for label, _, _ in QUERIES:
        log(f"  query {label!r} matches {corpus.doc_frequency(entries, label):.1%} of entries")
    txt, js = work / "journal.txt", work / "journal.json"
    corpus.write_jrnl_text(entries, txt)
    ours = [e.jrnl_json() for e in entries]
    R, W = args.runs, args.warmup

    serial = iter(range(1, 10**9))

    def note_text(tag):
        """A fresh realistic note and the unique word in it."""
        word = f"{tag}{next(serial)}x{gen_seed}"
        return f"{gen.research_sentence()} Marker {word}. #bench", word

    use_jrnl = "jrnl" in tools and n in args.jrnl_sizes
    if use_jrnl:
        J = tools["jrnl"]
        env = jrnl_env(work, txt, args.jrnl_version)
        secs, _, out = run(J + ["--format", "json"], env)
        export = json.loads(out)
        problem = same_entries(ours, export["entries"])
        if problem:
            raise BenchError(f"jrnl does not read the journal as written: {problem}")
        js.write_text(out)  # upstack imports jrnl's own export
        log(f"  jrnl reads all {len(export['entries'])} entries back exactly "
            f"(export took {secs:.1f} s); upstack imports jrnl's own JSON export")
        jr = lambda *a: (lambda: run(J + list(a), env))  # noqa: E731
        res = results.setdefault("jrnl", {})
        res[("capture", n)] = measure(lambda: run(J + [note_text("jcap")[0]], env), R, W)
        for label, _, jq in QUERIES:
            res[(f"search {label}", n)] = measure(jr(*jq), R, W)
        res[("timeline -n 20", n)] = measure(jr("-n", "20"), R, W)

        def jpair():
            text, word = note_text("jpair")
            return pair(jr(text), jr("-contains", word))
        res[("capture+search", n)] = measure(jpair, R, W)
    else:
        corpus.write_jrnl_json(entries, js)

    if "upstack" in tools:
        U = tools["upstack"]
        home = work / "upstack-home"
        env = dict(os.environ, UPSTACK_HOME=str(home), NO_COLOR="1",
                   XDG_CONFIG_HOME=str(work / "u-config"), XDG_DATA_HOME=str(work / "u-data"))
        secs, rss, _ = run(U + ["import", "jrnl", str(js)], env)
        res = results.setdefault("upstack", {})
        res[("import", n)] = {"ms": secs * 1000, "min_ms": secs * 1000, "rss_mb": rss, "runs": 1}
        log(f"  upstack import jrnl: {secs:.2f} s, peak RSS {rss:.0f} MB")
        up = lambda *a: (lambda: run(U + list(a), env))  # noqa: E731
        run(U + ["log", "-n", "1"], env)  # ingest anything the import left pending
        for label, uq, _ in QUERIES:
            res[(f"search {label}", n)] = measure(up("search", *uq), R, W)
        res[("timeline -n 20", n)] = measure(up("log", "-n", "20"), R, W)
        res[("capture", n)] = measure(lambda: run(U + ["note", note_text("ucap")[0]], env), R, W)
        run(U + ["log", "-n", "1"], env)  # ingest the captures outside the timing
        missing = []

        def upair():
            text, word = note_text("upair")
            secs, rss, out = pair(up("note", text), up("search", word))
            if word not in out:
                missing.append(word)
            return secs, rss, out
        res[("capture+search", n)] = measure(upair, R, W)
        if missing:
            log(f"  WARNING: `upstack search WORD` right after `upstack note` did not print"
                f" the unique word in {len(missing)} of {R + W} runs (e.g. {missing[0]})")
        bench_tree(U, env, home, res, n, R, W, log)
        if args.pending:
            run(U + ["log", "-n", "1"], env)
            t0 = time.perf_counter()
            for i in range(args.pending):
                run(U + ["note", f"{gen.sentence(0.7)} Pending note {i}."], env)
            log(f"  wrote {args.pending} pending notes in {time.perf_counter() - t0:.1f} s")
            template = work / "upstack-home-pending"
            shutil.copytree(home, template, symlinks=True)

            def restore():
                shutil.rmtree(home)
                shutil.copytree(template, home, symlinks=True)
            res[(f"search, {args.pending} pending", n)] = measure(
                up("search", PENDING_QUERY), R, W, setup=restore)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


# --- the theory-of-change tree --------------------------------------------------
TREE_NODES = 2000
_TREE_SETUP = """
import random, sys
from upstack.ids import new_id
from upstack.workspace import Workspace
from upstack.timeutil import now_iso
ws, rnd, records, made = Workspace(home=sys.argv[1]), random.Random(7), [], {}
shape = [("agenda", None, 10), ("project", "agenda", 90), ("question", "project", 900),
         ("experiment", "question", 1000)]
for kind, parent_kind, count in shape:
    for i in range(count):
        node_id = new_id()
        parent = rnd.choice(made[parent_kind]) if parent_kind else None
        records.append(ws.record("node.create", {
            "id": node_id, "kind": kind, "title": f"{kind} {i}", "why": f"Moves its parent {i}.",
            "parent_id": parent, "status": rnd.choice(["open", "active", "done"]),
            "created_at": now_iso()}))
        made.setdefault(kind, []).append(node_id)
ws.journal.append(records)
ws.ingest()
db = ws.store().db
leaves = made["question"] + made["experiment"]
ids = [r["id"] for r in db.query("SELECT id FROM entries")]
with db.transaction():  # file nine entries in ten under the tree
    db.executemany("UPDATE entries SET node_id = ? WHERE id = ?",
                   [(rnd.choice(leaves), i) for i in ids if rnd.random() < 0.9])
row = db.one("SELECT max(occurred_at) AS last FROM entries")
entry = db.one("SELECT key FROM entries WHERE node_id IS NOT NULL ORDER BY id LIMIT 1")
print(row["last"], entry["key"][:7])
"""


def upstack_python(U: list[str]) -> str:
    """The Python that runs this upstack (beside its script, or the `-m upstack` one)."""
    if len(U) > 1 and U[1] == "-m":
        return U[0]
    beside = Path(U[0]).resolve().parent / "python"
    return str(beside) if beside.exists() else sys.executable


def bench_tree(U, env, home, res, n, R, W, log):
    """Give the log 2,000 nodes and file its entries under them; time why, tree, check, review."""
    proc = subprocess.run([upstack_python(U), "-c", _TREE_SETUP, str(home)], env=env,
                          capture_output=True, text=True, check=True)
    last, short = proc.stdout.split()
    log(f"  {TREE_NODES} nodes added, 90% of entries filed under them")
    up = lambda *a: (lambda: run(U + list(a), env))  # noqa: E731
    res[("why", n)] = measure(up("why", short), R, W)
    res[("tree", n)] = measure(up("tree"), R, W)
    res[("check", n)] = measure(up("check"), R, W)
    week_before = (dt.datetime.fromisoformat(last.replace("Z", "+00:00"))
                   - dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")
    res[("review, a week", n)] = measure(
        up("review", "--since", week_before, "--until", last.replace("Z", "+00:00")), R, W)


# --- report -----------------------------------------------------------------
def machine_info(tools_versions) -> list[str]:
    return machine_lines(f"Python {platform.python_version()}; " + "; ".join(
        f"{k}: {v}" for k, v in tools_versions.items()))


def table(results, sizes) -> list[str]:
    U, J = results.get("upstack", {}), results.get("jrnl", {})
    names = list(dict.fromkeys(k[0] for r in (U, J) for k in r))
    lines = ["| benchmark | entries | upstack median ms | upstack peak RSS MB "
             "| jrnl median ms | jrnl peak RSS MB | jrnl / upstack |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    cell = lambda r, f: f"{r[f]:.0f}" if r else "–"  # noqa: E731
    for name in names:
        for n in sizes:
            u, j = U.get((name, n)), J.get((name, n))
            if not (u or j):
                continue
            ratio = f"{j['ms'] / u['ms']:.1f}x" if u and j else "–"
            lines.append(f"| {name} | {n:,} | {cell(u, 'ms')} | {cell(u, 'rss_mb')} "
                         f"| {cell(j, 'ms')} | {cell(j, 'rss_mb')} | {ratio} |")
    return lines


def targets(results, pending) -> list[str]:
    U, J = results.get("upstack", {}), results.get("jrnl", {})
    searches = [f"search {q[0]}" for q in QUERIES]

    def ms(res, name, n):
        return res[(name, n)]["ms"] if (name, n) in res else None

    def check(label, values, ok):
        if any(v is None for v in values) or not values:
            return f"| {label} | n/a (not measured) | – |"
        worst = ok(values)
        return f"| {label} | {worst[1]} | {'PASS' if worst[0] else 'MISS'} |"

    rows = ["| target | measured (worst case) | result |", "|---|---|---|"]
    for name, keys in (("capture", ["capture"]), ("search", searches)):
        ratios = [None if None in (ms(J, k, 10000), ms(U, k, 10000))
                  else ms(J, k, 10000) / ms(U, k, 10000) for k in keys]
        rows.append(check(f"10k: {name} >= 10x faster than jrnl", ratios,
                          lambda v: (min(v) >= 10, f"{min(v):.1f}x")))
    pend = (f"search with {pending} pending", [f"search, {pending} pending"], 150)
    for name, keys, limit in (("capture", ["capture"], 100), ("search", searches, 150), pend):
        if name.startswith("search with") and not pending:
            continue
        rows.append(check(f"100k: median {name} <= {limit} ms", [ms(U, k, 100000) for k in keys],
                          lambda v, lim=limit: (max(v) <= lim, f"{max(v):.0f} ms")))
    for name, limit in (("why", 200), ("tree", 200), ("check", 200), ("review, a week", 500)):
        rows.append(check(f"100k + {TREE_NODES} nodes: median {name} <= {limit} ms",
                          [ms(U, name, 100000)],
                          lambda v, lim=limit: (max(v) <= lim, f"{max(v):.0f} ms")))
    for name, keys in (("capture", ["capture"]), ("search", searches)):
        growth = [None if None in (ms(U, k, 1000), ms(U, k, 100000))
                  else ms(U, k, 100000) / ms(U, k, 1000) for k in keys]
        rows.append(check(f"1k -> 100k: {name} time grows <= 1.5x", growth,
                          lambda v: (max(v) <= 1.5, f"{max(v):.2f}x")))
    return rows


def main(argv=None) -> int:
    ints = lambda s: [int(x) for x in s.split(",") if x.strip()]  # noqa: E731
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=ints, default=[1000, 10000, 100000])
    ap.add_argument("--jrnl-sizes", type=ints, default=[1000, 10000],
                    help="sizes at which jrnl is also run (it is slow at 100k)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per measurement (median)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    ap.add_argument("--pending", type=int, default=1000,
                    help="notes waiting to be ingested for the pending search (0: skip)")
    ap.add_argument("--upstack", help="upstack command (default: `upstack` on PATH, "
                    "else `python -m upstack`)")
    ap.add_argument("--jrnl", help="jrnl command (default: bench/.venv-jrnl/bin/jrnl, "
                    "created on first use)")
    ap.add_argument("--no-jrnl", action="store_true")
    ap.add_argument("--no-upstack", action="store_true")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--workdir", type=Path, help="where journals and workspaces go (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir")
    ap.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    global _launcher
    _launcher = Launcher()  # first, while this process is still small
    tmp = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="upstack-bench-")
        args.workdir = Path(tmp)

    tools, versions = {}, {}
    if not args.no_upstack:
        tools["upstack"] = upstack_argv(args.upstack)
        versions["upstack"] = version(tools["upstack"], os.environ)
    if not args.no_jrnl and set(args.jrnl_sizes) & set(args.sizes):
        tools["jrnl"] = ensure_jrnl(args.jrnl)
        versions["jrnl"] = version(tools["jrnl"], os.environ)
        # jrnl.yaml carries jrnl's version, or jrnl offers to "upgrade" it
        args.jrnl_version = versions["jrnl"].split()[-1].lstrip("v")
    floor = run(["/bin/true"], dict(os.environ))[1] if Path("/bin/true").exists() else 0
    versions["RSS floor (/bin/true via the launcher)"] = f"{floor:.0f} MB"
    print("\n".join(machine_info(versions)), flush=True)
    results = {}
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    try:
        for n in args.sizes:
            bench_size(n, args, args.seed, tools, results, log)
    except BenchError as exc:
        print(f"\nbenchmark stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        _launcher.close()
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    report = ["# upstack vs jrnl: log benchmark", ""] + machine_info(versions) + [
        f"- {args.runs} timed runs after {args.warmup} warm-up, median; whole processes; "
        f"corpus seed {args.seed}", ""] + table(results, args.sizes) + [""] + \
        targets(results, args.pending) + [""]
    print("\n" + "\n".join(report))
    if args.markdown_out:
        args.markdown_out.write_text("\n".join(report))
        print(f"written to {args.markdown_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
