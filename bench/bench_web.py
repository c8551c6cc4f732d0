#!/usr/bin/env python3
"""Benchmark the web app's pages on a 100k-entry log, on SQLite and on PostgreSQL.

    python bench/bench_web.py [--entries 100000] [--engines sqlite,postgresql] [--runs 30]
                              [--duration 10] [--markdown-out FILE] [--workdir DIR] [--keep]
                              [--quick] [--upstack-python PY]

For each engine: build the workspace (the bench corpus imported with `upstack import jrnl`,
a theory-of-change tree, a run with a 1,000,000-point series), start `upstack serve` in
its own process, then measure every page as a client does: sequential keep-alive requests
(httpx; median and p95), load from 50 concurrent connections (wrk, or a Python load
generator if wrk is absent; requests/s, p99, errors) beside a static file as the ceiling,
and the run page's chart drawn in Chromium (Playwright).  See bench/README.md.
"""
from __future__ import annotations

# Only stdlib up here: this file is also the setup worker that runs inside the upstack
# interpreter (`bench_web.py worker SPEC`), which need not have httpx or Playwright.
import argparse
import asyncio
import dataclasses
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the bench scripts' own helpers
import corpus  # noqa: E402
from machine import machine_lines  # noqa: E402

PAGE_TARGET_MS = 50
CHART_TARGET_MS = 1000
COOKIE = "upstack_session"
CHROMIUM = os.environ.get("UPSTACK_BENCH_CHROMIUM", "/usr/bin/chromium")
DEFAULT_PG = "postgresql://upstack:upstack@127.0.0.1:5432/upstack_bench_web"
SEARCHES = ("induction", "patching")  # ~20% and ~55% of entries: typical and worst
PREFIX, MISSPELT = "inducti", "inductoin"
TEAM_PROJECTS = 5  # of 20: what the team server's collaborator is shown (see work_team)
SERIES_KEY = "loss"
# agenda -> project -> question -> experiment: 324 nodes
TREE_SHAPE = (("agenda", None, 4), ("project", "agenda", 20), ("question", "project", 100),
              ("experiment", "question", 200))


class BenchError(RuntimeError):
    pass


# === the setup worker: runs under the upstack Python, prints one JSON line ======================

def work_setup(spec: dict) -> dict:
    """Plant a tree, file 9 entries in 10 under it, log a long run; name the pages to visit."""
    import upstack
    from upstack.services import recall
    from upstack.services import tree as tree_service
    from upstack.workspace import Workspace

    rnd = random.Random(spec["seed"])
    home, db_url = spec["home"], spec["db"]
    t0 = time.perf_counter()
    made: dict[str, list[str]] = {}
    with Workspace(home=home, db=db_url) as ws:
        for kind, parent_kind, count in TREE_SHAPE:
            for i in range(count):
                title = f"{kind.title()} {i}: {rnd.choice(corpus.V['tech'])} on {rnd.choice(corpus.V['task'])}"
                node = tree_service.add_node(
                    ws, kind, title, why=f"It tells us whether {rnd.choice(corpus.V['thing'])} matters.",
                    under=rnd.choice(made[parent_kind]) if parent_kind else None,
                    status=rnd.choice(["open", "open", "open", "done", "blocked"]))
                made.setdefault(kind, []).append(node.id)
        db = ws.store().db
        leaves = made["question"] + made["experiment"]
        ids = [r["id"] for r in db.query("SELECT id FROM entries")]
        # No service re-files existing entries in bulk; bench_log.py does the same.
        filed = [(rnd.choice(leaves), i) for i in ids if rnd.random() < 0.9]
        with db.transaction():
            db.executemany("UPDATE entries SET node_id = ? WHERE id = ?", filed)
    t_tree = time.perf_counter()
    run = upstack.run("chart-benchmark", under=made["experiment"][0], home=home, db=db_url, capture="none")
    for step in range(spec["points"]):
        run.log({SERIES_KEY: 0.1 + 2.4 * math.exp(-step / 150_000) + rnd.gauss(0, 0.02)}, step=step)
    run.finish()
    t_run = time.perf_counter()
    with Workspace(home=home, db=db_url) as ws:
        ws.ingest()  # the run folder
        db = ws.store().db
        t_ingest = time.perf_counter()
        order = "FROM entries e WHERE e.deleted_at IS NULL AND e.private = 0 {} " \
                "ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1 OFFSET ?"
        count = int(db.scalar("SELECT count(*) FROM entries WHERE deleted_at IS NULL"))
        depth = min(spec["depth"], count - 2)
        before = db.scalar("SELECT e.id " + order.format(""), (depth,))
        entry_id = db.scalar("SELECT e.id " + order.format("AND e.node_id IS NOT NULL"), (depth,))
        entry = recall.show(ws, entry_id)
        rich = _rich_entry(ws, home, [r["title"] for r in db.query(
            "SELECT title FROM entries WHERE deleted_at IS NULL AND private = 0 ORDER BY id LIMIT 3")])
    return {"entries": count, "nodes": sum(len(v) for v in made.values()), "filed": len(filed),
            "depth": depth, "before": before, "entry": entry.short, "rich": rich, "run": run.short,
            "points": spec["points"], "tree_s": t_tree - t0, "log_s": t_run - t_tree,
            "ingest_s": t_ingest - t_run}


def _rich_entry(ws, home: str, titles: list[str]) -> str:
    """An entry as issue 14's entry page shows one: three [[wikilinks]] to other entries, math, code,
    a table, and an attached figure shown under the body. Its short id."""
    import struct
    import zlib

    from upstack.services import capture

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    figure = Path(home) / "loss.png"  # a valid 64x64 grey PNG
    pixels = b"".join(b"\x00" + bytes([128] * 64) for _ in range(64))
    figure.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 0, 0, 0, 0))
                       + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))
    links = ", ".join(f"[[{title}]]" for title in titles)
    body = (f"Loss falls as $\\mathcal{{L}} = -\\sum_i y_i \\log p_i$ predicts. See {links}, "
            "and [[no such entry]].\n\n```python\nrun.log({'loss': loss}, step=step)\n```\n\n"
            "| layer | effect |\n|---|---|\n| 5 | 0.42 |\n| 7 | 0.03 |\n")
    made = capture.note(ws, body, attach=[figure], tags=["bench"])
    ws.ingest()
    return made.short


def work_team(spec: dict) -> dict:
    """Make the workspace a team server: its owner and a collaborator shown part of the tree.

    The first account owns everything written before there were accounts (the whole log);
    the collaborator is a viewer on ``TEAM_PROJECTS`` of the 20 projects and what is below
    them. Returns the collaborator's session and the share of entries they are shown.
    """
    from upstack.domain import access
    from upstack.services import accounts
    from upstack.store.queries import reader_sql
    from upstack.workspace import Workspace

    with Workspace(home=spec["home"], db=spec["db"]) as ws:
        accounts.add_user(ws, "owner")
        collaborator, _ = accounts.add_user(ws, "collaborator")
        db = ws.store().db
        projects = [r["id"] for r in db.query("SELECT id FROM nodes WHERE kind = 'project' ORDER BY id")]
        for node_id in random.Random(spec["seed"]).sample(projects, TEAM_PROJECTS):
            accounts.share(ws, node_id, "collaborator", "viewer", by=None)
        with access.acting_as(accounts.audience_for(ws, collaborator)):
            visible, params = reader_sql(db)
            shown = int(db.scalar(f"SELECT count(*) FROM entries e WHERE e.deleted_at IS NULL AND {visible}", params))
        total = int(db.scalar("SELECT count(*) FROM entries WHERE deleted_at IS NULL"))
        session = accounts.start_session(ws, collaborator)
    return {"session": session, "shown": shown / total}


def work_create_database(spec: dict) -> dict:
    """A fresh PostgreSQL database (dropped first if it exists), made from the server's `postgres` one."""
    import psycopg

    parts = urlsplit(spec["url"])
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not spec.get("drop_only"):
            conn.execute(f'CREATE DATABASE "{name}"')
    return {"database": name}


def work_serve(spec: dict) -> dict:
    """The app as `upstack serve` builds it, on a socket made for TCP so that asyncio sets TCP_NODELAY.

    (`upstack serve` makes its listening socket with ``socket.socket(AF_INET)``, protocol 0;
    asyncio then leaves Nagle's algorithm on for every connection it accepts.)
    """
    import secrets
    import socket

    import uvicorn

    from upstack.web.app import create_app
    from upstack.workspace import Workspace

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    token = secrets.token_urlsafe(24)
    app = create_app(Workspace(home=spec["home"], db=spec["db"]), token=token)
    if spec.get("threads"):
        app = _thread_limited(app, spec["threads"])
    print(f"open: http://127.0.0.1:{listener.getsockname()[1]}/?token={token}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    return {}


def _thread_limited(app, tokens: int):
    """The app with at most ``tokens`` sync handlers at once (Starlette's threadpool; anyio's default is 40)."""
    import anyio.to_thread

    async def limited(scope, receive, send):
        anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
        await app(scope, receive, send)
    return limited


WORKERS = {"setup": work_setup, "team": work_team, "database": work_create_database, "serve": work_serve}


# === the server ===================================================================================

class Server:
    """The app in its own process; base URL and token from the address it prints.

    ``how`` is "serve" (`upstack serve --port 0`, as shipped) or "tcp-nodelay" (the same
    app on a listening socket made with IPPROTO_TCP: see ``work_serve``), optionally with
    a smaller threadpool: "tcp-nodelay-threads4".
    """

    def __init__(self, python: str, home: Path, db: str | None, env: dict, how: str = "serve",
                 session: str | None = None) -> None:
        self.database = urlsplit(db).path.lstrip("/") if db else None
        if how == "serve":
            argv = [python, "-m", "upstack", "--home", str(home), *(["--db", db] if db else []),
                    "serve", "--port", "0"]
        else:
            threads = _threads(how)
            argv = [python, __file__, "worker", "serve", json.dumps({"home": str(home), "db": db, "threads": threads})]
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        found = None
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            # A team server (the workspace has accounts) prints no token: its pages need a session.
            found = re.search(r"open: (http://[^/\s?]+)/?(?:\?token=(\S+))?", line)
            if found:
                break
        if not found:
            raise BenchError("upstack serve stopped before printing its address:\n" + "".join(self.output[-30:]))
        self.base, token = found.groups()
        self.token = session or token
        self.cookie = f"{COOKIE}={self.token}"
        threading.Thread(target=self._drain, daemon=True).start()  # the pipe must never fill
        for _ in range(200):  # the address is printed just before uvicorn listens
            try:
                _get(self.base, "/static/app.css", "")
                return
            except OSError:
                time.sleep(0.05)
        raise BenchError(f"upstack serve printed {self.base} but does not answer there")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output = (self.output + [line])[-200:]

    def peak_rss_mb(self) -> float | None:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else None

    def cpu_by_pid(self) -> dict[int, int]:
        """CPU ticks of the server and, on PostgreSQL, of the backends serving its database."""
        pids = [self.proc.pid]
        if self.database:
            for proc in Path("/proc").iterdir():
                try:
                    title = (proc / "cmdline").read_bytes().split(b"\0")[0].split()
                except OSError:
                    continue
                if title[:1] == [b"postgres:"] and _backend_database(title) == self.database.encode():
                    pids.append(int(proc.name))
        ticks = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a backend that just ended
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        return ticks

    def wait_idle(self, limit: float = 300) -> float:
        """Wait until the server has finished what a load run left queued; return the seconds waited.

        uvicorn runs a sync handler to its end even when its client has gone (timed out),
        so a page that cannot keep up leaves work that would slow the next measurement;
        on PostgreSQL that work is in the database's backends.
        """
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            before = self.cpu_by_pid()
            time.sleep(0.5)
            after = self.cpu_by_pid()
            used = sum(ticks - before.get(pid, 0) for pid, ticks in after.items())
            if used / os.sysconf("SC_CLK_TCK") < 0.025:  # under 5% of a core
                break
        return time.monotonic() - t0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # uvicorn shuts down gracefully on it
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _backend_database(title: list[bytes]) -> bytes | None:
    """The database in a PostgreSQL backend's process title, "postgres: [CLUSTER:] USER DATABASE HOST(PORT) ..."."""
    for i, word in enumerate(title[2:], 2):
        if b"(" in word or word == b"[local]":
            return title[i - 1]
    return None


def _threads(how: str) -> int:
    """The threadpool size a server name asks for ("tcp-nodelay-threads4"), 0 for the default."""
    found = re.search(r"-threads(\d+)$", how)
    return int(found.group(1)) if found else 0


def _get(base: str, path: str, cookie: str, timeout: float = 60) -> tuple[int, bytes]:
    """One GET on a new connection (stdlib only)."""
    import http.client

    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# === what is measured ============================================================================

@dataclass
class Page:
    name: str
    path: str
    target_ms: float | None = PAGE_TARGET_MS
    status: int = 0  # from the first request: 404 means the page is not built yet
    size: int = 0
    times: list[float] = field(default_factory=list)  # seconds, sequential requests
    cold: list[float] = field(default_factory=list)  # seconds, sequential, each after a commit (nothing cached)
    # Query parameter varied on each cold request: for what is cached whatever is committed.
    cold_vary: str | None = None
    load: list[dict] = field(default_factory=list)  # one dict per load run


def pages_for(setup: dict, fractions: dict[str, float]) -> list[Page]:
    run = setup["run"]
    return [
        Page("timeline, first page", "/"),
        Page(f"timeline, {setup['depth']:,} entries deep", f"/?before={setup['before']}"),
        Page("entry (filed, with its why-chain)", f"/e/{setup['entry']}"),
        Page("entry (wikilinks, math, code, table, a figure)", f"/e/{setup['rich']}"),
        *(Page(f"search `{q}` ({fractions[q]:.0%} of entries)", f"/search?q={q}") for q in SEARCHES),
        # The counts per kind, project and tag: the search page loads them after its results.
        *(Page(f"search facets `{q}` (after the results)", f"/search/facets?q={q}", None) for q in SEARCHES),
        # As you type: the last word is a prefix; a misspelt word is offered respelt ("Did you mean").
        Page(f"search as you type `{PREFIX}`", f"/search/results?q={PREFIX}"),
        Page(f"search misspelt `{MISSPELT}` (did you mean)", f"/search?q={MISSPELT}"),
        Page(f"quick switcher `{PREFIX}`", f"/switch.json?q={PREFIX}"),
        Page(f"tree ({setup['nodes']} nodes)", "/tree"),
        Page("runs list", "/runs"),  # leaves out runs whose result entry was deleted
        Page("run page (HTML)", f"/runs/{run}", None),
        # An ended run's thinned series is kept whatever is committed: cold asks for 1999, 1998, ... points.
        Page(f"run series JSON ({setup['points']:,} points)", f"/runs/{run}/series.json?key={SERIES_KEY}", None,
             cold_vary="points"),
        Page("static file (ceiling)", "/static/app.css", None),
    ]


def probe(server: Server, pages: list[Page]) -> None:
    """Visit each page once; a 404 marks a page not built yet, any other failure stops the run."""
    for page in pages:
        page.status, body = _get(server.base, page.path, server.cookie)
        page.size = len(body)
        if page.status not in (200, 404):
            raise BenchError(f"{page.path} answered {page.status}: {body[:300]!r}")


def sequential(server: Server, pages: list[Page], runs: int, warmup: int) -> None:
    """Round-robin over the pages (noise spreads evenly) on one keep-alive connection."""
    import httpx

    with httpx.Client(base_url=server.base, headers={"Cookie": server.cookie}, timeout=60) as client:
        for i in range(warmup + runs):
            for page in pages:
                t0 = time.perf_counter()
                response = client.get(page.path)
                elapsed = time.perf_counter() - t0
                if response.status_code != 200:
                    raise BenchError(f"{page.path} answered {response.status_code}")
                if i >= warmup:
                    page.times.append(elapsed)


class Committer:
    """Commits a real change nothing reads (a counter of its own in ``workspace_info``), as
    another process would commit a note.

    upstack keeps some answers (facet counts, totals, the tree's counts) until the store
    changes; after this commit none of them is current. (An ended run's thinned series
    is kept whatever is committed: see ``Page.cold_vary``.) A write that leaves every
    byte as it was would not do: SQLite then commits no page, and nothing has changed.
    """

    SQL = ("INSERT INTO workspace_info (key, value) VALUES ('bench_web.commits', {0}) "
           "ON CONFLICT (key) DO UPDATE SET value = excluded.value")

    def __init__(self, home: Path, db: str | None) -> None:
        self.count = 0
        if db:
            import psycopg

            self.conn = psycopg.connect(db, autocommit=True)
            self.sql = self.SQL.format("%s")
        else:
            import sqlite3

            self.conn = sqlite3.connect(home / "upstack.db", isolation_level=None, timeout=30)
            self.sql = self.SQL.format("?")

    def commit(self) -> None:
        self.count += 1
        self.conn.execute(self.sql, (str(self.count),))

    def close(self) -> None:
        self.conn.execute("DELETE FROM workspace_info WHERE key = 'bench_web.commits'")
        self.conn.close()


def cold(server: Server, pages: list[Page], runs: int, committer: Committer) -> None:
    """As ``sequential``, but each request comes right after a commit: nothing is served from a cache."""
    import httpx

    with httpx.Client(base_url=server.base, headers={"Cookie": server.cookie}, timeout=60) as client:
        for i in range(runs):
            for page in pages:
                committer.commit()
                path = page.path + (f"&{page.cold_vary}={1999 - i}" if page.cold_vary else "")
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - t0
                if response.status_code != 200:
                    raise BenchError(f"{page.path} answered {response.status_code}")
                page.cold.append(elapsed)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not found:
        raise BenchError(f"cannot read wrk's time {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def wrk_load(url: str, cookie: str, connections: int, duration: float, timeout: float) -> dict:
    threads = max(1, min(2, os.cpu_count() or 1, connections))
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", f"--timeout={timeout:g}s",
            "--latency", "-H", f"Cookie: {cookie}", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration * 3 + 60)
    text = out.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    done = re.search(r"(\d+) requests in", text)
    if out.returncode or not (rps and p99 and p50 and done):
        raise BenchError(f"wrk failed ({out.returncode}):\n{text}\n{out.stderr}")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    connect, read, write, timeouts = map(int, sockets.groups()) if sockets else (0, 0, 0, 0)
    # wrk counts a timed-out request among the requests but leaves it out of the latencies
    return {"rps": float(rps.group(1)), "p50_ms": _ms(p50.group(1)), "p99_ms": _ms(p99.group(1)),
            "requests": int(done.group(1)), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": connect + read + write + timeouts, "timeouts": timeouts}


def python_load(url: str, cookie: str, connections: int, duration: float, timeout: float) -> dict:
    """wrk's measurement in asyncio (keep-alive HTTP/1.1, one request in flight per connection)."""
    return asyncio.run(_python_load(url, cookie, connections, duration, timeout))


async def _python_load(url: str, cookie: str, connections: int, duration: float, timeout: float) -> dict:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookie}\r\n\r\n").encode()
    latencies: list[float] = []
    errors = {"non2xx": 0, "socket_errors": 0, "timeouts": 0}
    deadline = time.perf_counter() + duration

    async def one_client() -> None:
        reader = writer = None
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                t0 = time.perf_counter()
                async with asyncio.timeout(timeout):
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                    if length is None:
                        raise ValueError("no Content-Length")
                    await reader.readexactly(int(length.group(1)))
                latencies.append(time.perf_counter() - t0)
                if not 200 <= int(head.split(b" ", 2)[1]) < 400:
                    errors["non2xx"] += 1
            except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                errors["socket_errors"] += 1
                errors["timeouts"] += isinstance(exc, TimeoutError)
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(connections)))
    elapsed = time.perf_counter() - t0
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    return {"rps": len(latencies) / elapsed, "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000,
            "requests": len(latencies) + errors["timeouts"], **errors}


def load(server: Server, pages: list[Page], args: argparse.Namespace) -> None:
    measure = wrk_load if args.load_tool == "wrk" else python_load
    for i in range(args.load_runs):  # pages in turn, repeated: noise spreads over every page
        for page in pages:
            result = measure(server.base + page.path, server.cookie, args.connections, args.duration, args.timeout)
            result["drain_s"], result["duration"] = server.wait_idle(), args.duration
            page.load.append(result)
            print(f"    load {i + 1}/{args.load_runs} {page.name}: {result['rps']:.1f} req/s, "
                  f"p99 {_p99_text(result, args.timeout)} ms, {result['socket_errors'] + result['non2xx']} errors; "
                  f"server busy {result['drain_s']:.1f} s after", flush=True)


def _p99_text(result: dict, timeout: float) -> str:
    """wrk's p99; "> timeout" when more than 1% of the requests timed out (wrk leaves them out of its
    latencies), "> duration" when none was answered within the run."""
    if result["requests"] == 0:
        return f"> {result['duration'] * 1000:,.0f} (none answered)"
    if result["timeouts"] > 0.01 * result["requests"]:
        return f"> {timeout * 1000:,.0f}"
    return f"{result['p99_ms']:,.0f}"


# --- the chart in Chromium ------------------------------------------------------------------------
# Runs before the page's own scripts: notes (ms since navigation start) when the chart
# container says data-drawn="true", and when a canvas first appears (a fallback).
_WATCH_CHART = """
(() => {
  const seen = () => {
    const all = document.getElementById('charts');  // the run page's container of every chart
    const drawn = all ? '#charts[data-drawn="true"]' : '[data-drawn="true"]';
    if (window.__drawnAt === undefined && document.querySelector(drawn))
      window.__drawnAt = performance.now();
    if (window.__canvasAt === undefined && document.querySelector('canvas'))
      window.__canvasAt = performance.now();
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


def chart(server: Server, run: str, runs: int, timeout_s: float) -> dict:
    """Median time from navigation start to the drawn chart, each load in a fresh context (cold cache)."""
    from playwright.sync_api import sync_playwright

    times, fetched, how = [], {}, "data-drawn"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            for i in range(1 + runs):  # one warm-up load: Chromium's own start-up is not the page's
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.add_cookies([{"name": COOKIE, "value": server.token, "url": server.base}])
                page = context.new_page()
                page.add_init_script(_WATCH_CHART)
                responses: list = []
                page.on("response", lambda response, seen=responses: seen.append(response))
                page.goto(f"{server.base}/runs/{run}", wait_until="commit", timeout=timeout_s * 1000)
                try:
                    page.wait_for_function("window.__drawnAt !== undefined", timeout=timeout_s * 1000)
                    ms = page.evaluate("window.__drawnAt")
                except Exception as exc:  # Playwright's TimeoutError: fall back to the canvas
                    ms = page.evaluate("window.__canvasAt")
                    if ms is None:
                        raise BenchError(f"the run page drew no chart in {timeout_s:g} s") from exc
                    how = "a canvas appeared (data-drawn never set)"
                if i:
                    times.append(ms)
                for response in responses:
                    if "series" in response.url and response.ok:
                        fetched[response.url.split("?", 1)[1] if "?" in response.url else response.url] = \
                            len(response.body())
                links = page.eval_on_selector_all(
                    "a[href]", "els => [...new Set(els.map(e => e.href).filter(h => /series/.test(h)))]")
                context.close()
        finally:
            browser.close()
    return {"times": times, "how": how, "fetched": fetched, "downloads": [_download(server, u) for u in links]}


def _download(server: Server, url: str) -> dict:
    """A download link on the run page: its size and how many points it holds."""
    path = url[len(server.base):] if url.startswith(server.base) else url
    status, body = _get(server.base, path, server.cookie)
    points = None
    try:
        data = json.loads(body)
        lists = [v for v in (data.values() if isinstance(data, dict) else [data]) if isinstance(v, list)]
        points = max(map(len, lists)) if lists else None
    except ValueError:
        points = max(0, body.count(b"\n") - 1)  # CSV: lines after the header
    return {"path": path, "status": status, "bytes": len(body), "points": points}


# === one engine ===================================================================================

def run_engine(engine: str, args: argparse.Namespace, journal: Path, fractions: dict, log) -> list[dict]:
    """Build the engine's workspace once, then measure it behind each server in ``args.servers``."""
    home = args.workdir / engine / "home"
    shutil.rmtree(home.parent, ignore_errors=True)
    home.mkdir(parents=True)
    db = None
    if engine == "postgresql":
        db = args.pg_url
        worker(args, "database", {"url": db})
    log(f"\n## {engine}")
    t0 = time.perf_counter()
    subprocess.run([args.upstack_python, "-m", "upstack", "--home", str(home), *(["--db", db] if db else []),
                    "import", "jrnl", str(journal)], env=args.env, check=True, stdout=subprocess.DEVNULL)
    built = {"engine": engine, "import_s": time.perf_counter() - t0}
    log(f"  imported {args.entries:,} entries in {built['import_s']:.1f} s")
    setup = built["setup"] = worker(args, "setup", {
        "home": str(home), "db": db, "seed": args.seed, "points": args.points,
        "depth": args.depth or args.entries // 2})
    log(f"  {setup['nodes']} nodes ({setup['tree_s']:.1f} s), {setup['filed']:,} entries filed under them; "
        f"run {setup['run']}: {setup['points']:,} points logged in {setup['log_s']:.1f} s, "
        f"ingested in {setup['ingest_s']:.1f} s")
    results = []
    for how in args.servers:
        results.append({**built, **measure_server(how, home, db, setup, args, fractions, log)})
        args.done.append(results[-1])
        if args.json_out:  # after each server, so a later failure loses nothing measured
            save_results(args.json_out, args.done, args, args.header)
    if args.team:  # last: accounts make the workspace a team server for good
        results[0]["pages"] += measure_team(home, db, args, fractions, log)
        if args.json_out:
            save_results(args.json_out, args.done, args, args.header)
    if engine == "postgresql" and not args.keep:
        worker(args, "database", {"url": db, "drop_only": True})
    return results


def measure_server(how: str, home: Path, db: str | None, setup: dict, args: argparse.Namespace,
                   fractions: dict, log) -> dict:
    result: dict = {"server": how, "load_before": os.getloadavg()[0], "timeout": args.timeout}
    log(f"  server: {how} (load average {result['load_before']:.1f})")
    server = Server(args.upstack_python, home, db, args.env, how)
    try:
        pages = result["pages"] = pages_for(setup, fractions)
        probe(server, pages)
        live = [p for p in pages if p.status == 200]
        for p in pages:
            if p.status == 404:
                log(f"  {p.path}: 404, not built yet; skipped")
        time_pages(server, live, home, db, args, log, "")
        run_page = next(p for p in pages if p.path.startswith("/runs/") and "series" not in p.path)
        if run_page.status != 200:
            result["chart"] = {"skipped": "the run page is not built yet (404)"}
        elif args.chart_runs <= 0:
            result["chart"] = {"skipped": "--chart-runs 0"}
        elif not _has_playwright():
            result["chart"] = {"skipped": "Playwright is not installed here (pip install playwright)"}
        elif not os.access(CHROMIUM, os.X_OK):
            result["chart"] = {"skipped": f"no Chromium at {CHROMIUM} (apt-get install chromium)"}
        else:
            server.wait_idle()
            try:
                result["chart"] = chart(server, setup["run"], args.chart_runs, args.chart_timeout)
                log(f"  chart drawn: {', '.join(f'{t:.0f}' for t in result['chart']['times'])} ms")
            except Exception as exc:  # Playwright's errors: report, and keep what was measured
                result["chart"] = {"skipped": f"failed: {str(exc).splitlines()[0][:200]}"}
                log(f"  chart failed: {exc}")
        result["server_rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
    result["load_after"] = os.getloadavg()[0]
    return result


def time_pages(server: Server, pages: list[Page], home: Path, db: str | None, args: argparse.Namespace, log,
               label: str) -> None:
    """Sequential requests, then cold ones (each right after a commit), then load: into each Page."""
    sequential(server, pages, args.runs, args.warmup)
    log(f"  {label}sequential: " + ", ".join(f"{p.name} {statistics.median(p.times) * 1000:.1f} ms" for p in pages))
    if args.cold_runs > 0:
        committer = Committer(home, db)
        try:
            cold(server, pages, args.cold_runs, committer)
        finally:
            committer.close()
        log(f"  {label}cold: " + ", ".join(f"{p.name} {statistics.median(p.cold) * 1000:.1f} ms" for p in pages))
    load(server, pages, args)


def measure_team(home: Path, db: str | None, args: argparse.Namespace, fractions: dict, log) -> list[Page]:
    """Search as a signed-in collaborator on the same log served as a team server (see ``work_team``)."""
    team = worker(args, "team", {"home": str(home), "db": db, "seed": args.seed})
    log(f"  team server: a collaborator shown {team['shown']:.0%} of the entries")
    pages = [Page(f"search `{q}` ({fractions[q]:.0%}), team server, a collaborator shown {team['shown']:.0%}",
                  f"/search?q={q}") for q in SEARCHES]
    server = Server(args.upstack_python, home, db, args.env, session=team["session"])
    try:
        probe(server, pages)
        time_pages(server, pages, home, db, args, log, "team ")
    finally:
        server.stop()
    return pages


def worker(args: argparse.Namespace, kind: str, spec: dict) -> dict:
    out = subprocess.run([args.upstack_python, __file__, "worker", kind, json.dumps(spec)], env=args.env,
                         capture_output=True, text=True)
    if out.returncode:
        raise BenchError(f"worker {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


# === report ======================================================================================

def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def server_label(how: str) -> str:
    if how == "serve":
        return "`upstack serve` as shipped"
    threads = _threads(how)
    return (f"the same app on a TCP_NODELAY socket (`--servers {how}`)"
            + (f", threadpool limited to {threads} threads" if threads else ""))


REPORTED_ARGS = ("entries", "quick", "runs", "warmup", "cold_runs", "load_tool", "connections", "duration",
                 "timeout", "load_runs", "servers")


def save_results(path: Path, results: list[dict], args: argparse.Namespace, header: list[str]) -> None:
    """Every measurement as JSON, so the report can be made again (`--from-json`)."""
    plain = [{**r, "pages": [dataclasses.asdict(p) for p in r["pages"]]} for r in results]
    path.write_text(json.dumps({"header": header, "args": {k: getattr(args, k) for k in REPORTED_ARGS},
                                "results": plain}, indent=1))


def load_results(paths: list[Path]) -> tuple[list[dict], argparse.Namespace, list[str]]:
    """Results saved by --json-out; from several files, a later (engine, server) replaces an earlier one."""
    found: dict[tuple[str, str], dict] = {}
    header: list[str] = []
    for path in paths:
        saved = json.loads(path.read_text())
        for r in saved["results"]:
            found[r["engine"], r["server"]] = {**r, "pages": [Page(**p) for p in r["pages"]]}
        header += [line for line in saved["header"] if line not in header]
        args = argparse.Namespace(**saved["args"])
    results = list(found.values())
    args.servers = list(dict.fromkeys(r["server"] for r in results))
    return results, args, header


def report(results: list[dict], args: argparse.Namespace, header: list[str]) -> tuple[list[str], bool]:
    """The Markdown report, and whether a load run saw errors."""
    tool = "wrk" if args.load_tool == "wrk" else "a Python asyncio load generator (wrk not found)"
    lines = ["# upstack web pages: latency and load", ""] + header + [
        f"- {args.entries:,} entries{' (--quick)' if args.quick else ''}; sequential: {args.runs} requests "
        f"per page after {args.warmup} warm-up, one keep-alive connection (httpx), pages in turn; "
        f"cold: {getattr(args, 'cold_runs', 0)} more, each right after a commit (nothing cached); "
        f"load: {tool}, {args.connections} connections for {args.duration:g} s, "
        f"timeout {args.timeout:g} s, {args.load_runs} run(s) per page, pages in turn (medians of the runs)",
        "- 1-minute load average before each server's measurements: " + ", ".join(
            f"{r['engine']} {r['server']} {r['load_before']:.1f}" for r in results)]
    errors_seen = False
    for how in args.servers:
        lines += ["", f"Server: {server_label(how)}", "",
                  "| page | engine | KB | median ms | p95 ms | target | result | cold ms | req/s | p99 ms | errors "
                  "| req/s vs static |", "|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|"]
        for res in (r for r in results if r["server"] == how):
            rows, errors = _page_rows(res)
            lines += rows
            errors_seen |= errors
    lines += ["", "| chart | engine | server | points | drawn, median ms | min – max ms | target | result "
              "| fetched by the chart | exact data on the page |", "|---|---|---|---:|---:|---:|---|---|---|---|"]
    for res in results:
        lines.append(_chart_row(res))
    lines += ["", "| engine | import | tree + filing | log the run | ingest the run | server peak RSS |",
              "|---|---:|---:|---:|---:|---:|"]
    for res in results:
        if res["server"] == args.servers[0]:
            st = res["setup"]
            rss = " / ".join(f"{r['server']} {r['server_rss_mb']:.0f} MB" for r in results
                             if r["engine"] == res["engine"] and r.get("server_rss_mb"))
            lines.append(f"| {res['engine']} | {res['import_s']:.1f} s | {st['tree_s']:.1f} s | {st['log_s']:.1f} s "
                         f"| {st['ingest_s']:.1f} s | {rss or '–'} |")
    lines += _ratios(results, args.servers)
    return lines + [""], errors_seen


def _page_rows(res: dict) -> tuple[list[str], bool]:
    pages, rows, errors_seen = res["pages"], [], False
    static = next((p for p in pages if p.path.startswith("/static/") and p.load), None)
    ceiling = statistics.median(r["rps"] for r in static.load) if static else None
    for p in pages:
        if p.status != 200:
            rows.append(f"| {p.name} | {res['engine']} | – | not built yet ({p.status}) | | | | | | | | |")
            continue
        med, p95 = statistics.median(p.times) * 1000, _p95(p.times) * 1000
        target = f"≤ {p.target_ms:g} ms" if p.target_ms else "–"
        verdict = ("PASS" if med <= p.target_ms else "MISS") if p.target_ms else ""
        rps = statistics.median(r["rps"] for r in p.load)
        p99 = _p99_text(sorted(p.load, key=_p99_key)[len(p.load) // 2], res["timeout"])
        errors = sum(r["non2xx"] + r["socket_errors"] for r in p.load)
        errors_seen |= errors > 0
        share = "ceiling" if p is static else (f"{rps / ceiling:.1%}" if ceiling else "–")
        rate = f"{rps:,.0f}" if rps >= 10 else f"{rps:.1f}"
        cold_ms = f"{statistics.median(p.cold) * 1000:.1f}" if p.cold else "–"
        rows.append(f"| {p.name} | {res['engine']} | {p.size / 1024:.0f} | {med:.1f} | {p95:.1f} | {target} "
                    f"| {verdict} | {cold_ms} | {rate} | {p99} | {errors} | {share} |")
    return rows, errors_seen


def _p99_key(result: dict) -> float:
    if result["requests"] == 0 or result["timeouts"] > 0.01 * result["requests"]:
        return math.inf
    return result["p99_ms"]


def _chart_row(res: dict) -> str:
    c, points = res.get("chart", {}), res["setup"]["points"]
    where = f"| {res['engine']} | {res['server']} | {points:,}"
    if "times" not in c:
        return f"| run page in Chromium {where} | {c.get('skipped', '–')} | | | | | |"
    med = statistics.median(c["times"])
    fetched = "; ".join(f"{q}: {n / 1024:,.0f} KB" for q, n in c["fetched"].items()) or "–"
    downloads = "; ".join(f"`{d['path']}` {d['bytes'] / 1024:,.0f} KB, {d['points']:,} points"
                          if d["points"] is not None else f"`{d['path']}` {d['bytes'] / 1024:,.0f} KB"
                          for d in c["downloads"]) or "no download link found"
    return (f"| run page in Chromium ({c['how']}) {where} | {med:.0f} | {min(c['times']):.0f} – "
            f"{max(c['times']):.0f} | ≤ {CHART_TARGET_MS} ms | {'PASS' if med <= CHART_TARGET_MS else 'MISS'} "
            f"| {fetched} | {downloads} |")


def _ratios(results: list[dict], servers: list[str]) -> list[str]:
    """Median sequential latency: PostgreSQL / SQLite per server, and each other server / the first."""
    pairs = []
    for how in servers:
        by_engine = {r["engine"]: r for r in results if r["server"] == how}
        if len(by_engine) == 2:
            pairs.append((f"postgresql / sqlite, {how}", by_engine["sqlite"], by_engine["postgresql"]))
    for how in servers[1:]:
        for first in (r for r in results if r["server"] == servers[0]):
            other = next(r for r in results if r["server"] == how and r["engine"] == first["engine"])
            pairs.append((f"{how} / {servers[0]}, {first['engine']}", first, other))
    if not pairs:
        return []
    lines = ["", "Ratios of median sequential latency:", "",
             "| page | " + " | ".join(label for label, _, _ in pairs) + " |",
             "|---|" + "---:|" * len(pairs)]
    for n, page in enumerate(pairs[0][1]["pages"]):
        cells = []
        for _, a, b in pairs:
            if n >= min(len(a["pages"]), len(b["pages"])):  # the team server's pages: the first server's only
                cells.append("–")
                continue
            pa, pb = a["pages"][n], b["pages"][n]
            cells.append(f"{statistics.median(pb.times) / statistics.median(pa.times):.2f}x"
                         if pa.times and pb.times else "–")
        lines.append(f"| {page.name} | " + " | ".join(cells) + " |")
    return lines


def _versions(python: str, tool: str) -> str:
    code = ("import platform, pathlib, upstack; p = pathlib.Path(upstack.__file__).parent; "
            "print(platform.python_version(), upstack.__version__, "
            "('' if 'site-packages' in str(p) else 'editable, ') + str(p))")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise BenchError(f"{python} cannot import upstack:\n{out.stderr[-2000:]}")
    py, version, where = out.stdout.strip().split(" ", 2)
    found = [f"Python {py}", f"upstack {version} ({where})"]
    if tool == "wrk":
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        found.append((wrk.stdout or wrk.stderr).split(" Copyright")[0].strip())
    if _has_playwright() and os.access(CHROMIUM, os.X_OK):
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
        found.append(chromium or "Chromium")
    pg = subprocess.run([python, "-c", "import psycopg; print(psycopg.__version__)"], capture_output=True,
                        text=True).stdout.strip()
    if pg:
        found.append(f"psycopg {pg}")
    return "; ".join(found)


# === main ========================================================================================

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:  # inside the upstack interpreter
        print(json.dumps(WORKERS[argv[1]](json.loads(argv[2]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=100_000, help="log size")
    ap.add_argument("--engines", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--runs", type=int, default=30, help="sequential requests per page (median, p95)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed sequential requests per page first")
    ap.add_argument("--cold-runs", type=int, default=10,
                    help="sequential requests per page, each after a commit so nothing is cached (median); 0 skips")
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per page and run")
    ap.add_argument("--connections", type=int, default=50, help="concurrent connections under load")
    ap.add_argument("--load-runs", type=int, default=3, help="load runs per page (medians reported)")
    ap.add_argument("--timeout", type=int, default=10, help="seconds; a slower request counts as an error")
    ap.add_argument("--load-tool", choices=["wrk", "python"], help="default: wrk if on PATH, else python")
    ap.add_argument("--chart-runs", type=int, default=5, help="run page loads in Chromium (median); 0 skips")
    ap.add_argument("--chart-timeout", type=float, default=30, help="seconds to wait for the chart")
    ap.add_argument("--points", type=int, default=1_000_000, help="points in the run's series")
    ap.add_argument("--depth", type=int, help="entries above the deep timeline page (default: half the log)")
    ap.add_argument("--servers", default="serve",
                    help="comma-separated; serve: `upstack serve` as shipped; tcp-nodelay: the same app on a "
                    "socket made with IPPROTO_TCP, so asyncio turns Nagle's algorithm off (see README)")
    ap.add_argument("--no-team", dest="team", action="store_false",
                    help="skip searching as a signed-in collaborator on the log served as a team server")
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL database to (re)create for the benchmark")
    ap.add_argument("--upstack-python", default=sys.executable,
                    help="the Python that has upstack installed (default: this one)")
    ap.add_argument("--seed", type=int, default=20240611, help="corpus seed")
    ap.add_argument("--quick", action="store_true", help="small sizes and short load: does it work?")
    ap.add_argument("--workdir", type=Path, help="where workspaces go (default: temp)")
    ap.add_argument("--keep", action="store_true", help="keep the workdir and the PostgreSQL database")
    ap.add_argument("--markdown-out", type=Path, help="also write the report to this file")
    ap.add_argument("--json-out", type=Path, help="also write every measurement to this file")
    ap.add_argument("--from-json", type=Path, nargs="+",
                    help="measure nothing: make the report from --json-out files (later ones win)")
    args = ap.parse_args(argv)
    if args.from_json:
        results, saved_args, header = load_results(args.from_json)
        return write_report(results, saved_args, header, args.markdown_out)
    if args.quick:  # new defaults; options given on the command line still win
        ap.set_defaults(entries=2000, runs=10, cold_runs=3, duration=3, load_runs=1, chart_runs=2, points=100_000)
        args = ap.parse_args(argv)
    args.load_tool = args.load_tool or ("wrk" if shutil.which("wrk") else "python")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.servers = [e.strip() for e in args.servers.split(",") if e.strip()]
    servers = [h for h in args.servers if not re.fullmatch(r"serve|tcp-nodelay(-threads\d+)?", h)]
    if unknown := set(engines) - {"sqlite", "postgresql"} or servers:
        ap.error(f"unknown engine(s) or server(s): {', '.join(sorted(unknown))}")
    tmp = None
    if args.workdir is None:
        tmp = args.workdir = Path(tempfile.mkdtemp(prefix="upstack-bench-web-"))
    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    args.env.update(XDG_CONFIG_HOME=str(args.workdir / "xdg-config"), NO_COLOR="1", PYTHONUNBUFFERED="1")
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    try:
        header = args.header = machine_lines(_versions(args.upstack_python, args.load_tool))
        args.done = []
        log("\n".join(header))
        if args.load_tool == "python":
            log("wrk not found (apt-get install wrk): load comes from a Python asyncio generator instead")
        t0 = time.perf_counter()
        entries = corpus.Generator(args.seed).entries(args.entries)
        fractions = {q: corpus.doc_frequency(entries, q) for q in SEARCHES}
        journal = args.workdir / "journal.json"
        corpus.write_jrnl_json(entries, journal)
        del entries
        log(f"corpus: {args.entries:,} entries written in {time.perf_counter() - t0:.1f} s")
        results = [r for engine in engines for r in run_engine(engine, args, journal, fractions, log)]
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"\nbenchmark stopped: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json_out:
        save_results(args.json_out, results, args, header)
    return write_report(results, args, header, args.markdown_out)


def write_report(results: list[dict], args: argparse.Namespace, header: list[str], out: Path | None) -> int:
    lines, errors_seen = report(results, args, header)
    print("\n" + "\n".join(lines))
    if out:
        out.write_text("\n".join(lines))
        print(f"written to {out}")
    return 1 if errors_seen else 0


if __name__ == "__main__":
    sys.exit(main())
