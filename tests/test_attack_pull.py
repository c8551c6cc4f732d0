"""A malicious (or poisoned) server against a laptop's `upstack sync`: it must end with a one-line
error (exit 1), never a traceback, and never write outside the workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from upstack.ids import new_id
from upstack.timeutil import now_iso

EMPTY_MANIFEST = {"entries": {}, "nodes": [], "node_events": []}


@contextmanager
def fake_server(answer: Callable[[str, str, bytes], tuple[int, bytes]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, data = answer(self.command, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _do

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _sync(home: Path, url: str) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "remote.json").write_text(json.dumps({"url": url, "token": "t", "login": "me"}))
    env = {**os.environ, "UPSTACK_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "upstack", "sync"], env=env, capture_output=True, text=True,
                          timeout=120)


def _j(value: Any) -> bytes:
    return json.dumps(value).encode()


RUN = new_id()
ENTRY = new_id()


def _entry_record(**data: Any) -> dict[str, Any]:
    at = now_iso()
    return {"id": new_id(), "op": "entry.create", "workspace": "srv", "at": at,
            "data": {"id": ENTRY, "revision_id": new_id(), "kind": "note", "title": "t", "body": "b",
                     "occurred_at": at, "created_at": at, **data}}


HAS_ENTRY = {**EMPTY_MANIFEST, "entries": {ENTRY: {"revisions": ["r"], "attachments": [], "deleted": False}}}
HAS_RUN = {RUN: {"status": "finished", "summary": "x", "items": [], "metrics": {}}}


def router(**over: Any) -> Callable[[str, str, bytes], tuple[int, bytes]]:
    """A well-behaved fake server, but for the answers in ``over`` (by a word in the path)."""
    def answer(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        for word, value in over.items():
            if word.replace("_", "/") in path or word in path:
                return (200, value) if isinstance(value, bytes) else (200, _j(value))
        if "manifest" in path:
            return 200, _j(EMPTY_MANIFEST)
        if "runs.json" in path:
            return 200, _j({})
        if "sync/push" in path:
            return 200, _j({"applied": 0, "refused": [], "conflicts": [], "problems": []})
        if path.startswith("/api/runs/") and path.endswith("/push"):
            return 200, _j({"run": "x", "status": "finished", "metrics": {}})
        if "sync/pull" in path:
            return 200, _j({"records": []})
        return 404, _j({"error": "no"})
    return answer


SCENARIOS: dict[str, Callable[[str, str, bytes], tuple[int, bytes]]] = {
    "manifest is a list": router(manifest=[]),
    "manifest lacks keys": router(manifest={"entries": {}}),
    "manifest entry shape wrong": router(manifest={**EMPTY_MANIFEST, "entries": {ENTRY: 5}}),
    "push answer lacks applied": router(sync_push={}),
    "runs.json state wrong": router(**{"runs.json": {RUN: {"status": "finished"}}}),
    "run pull points is a list": router(**{"runs.json": HAS_RUN, "pull": {"records": [], "points": [], "more": False}}),
    "run pull answer lacks more": router(**{"runs.json": HAS_RUN, "pull": {"records": [], "points": {}}}),
    "run pull records not list": router(**{"runs.json": HAS_RUN, "pull": {"records": 5, "points": {}, "more": False}}),
    "run pull record not object": router(**{"runs.json": HAS_RUN, "pull": {"records": [5], "points": {}, "more": False}}),
    "pull answer records not a list": router(manifest=HAS_ENTRY, sync_pull={"records": 7}),
    "pull record not an object": router(manifest=HAS_ENTRY, sync_pull={"records": [7]}),
    "pulled attachment with path name": router(manifest=HAS_ENTRY, sync_pull={"records": [_entry_record()]}),
    "deeply nested json": router(manifest=b"[" * 200000 + b"]" * 200000),
    "not json": router(manifest=b"<html>hello</html>"),
    "me is not json": router(manifest=b"\xff\xfe"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_malicious_server_does_not_crash_sync(tmp_path: Path, name: str) -> None:
    home = tmp_path / "laptop"
    env = {**os.environ, "UPSTACK_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "upstack", "note", "a note to push"], env=env, check=True,
                   capture_output=True)
    with fake_server(SCENARIOS[name]) as url:
        done = _sync(home, url)
    assert "Traceback" not in done.stderr, f"{name}: " + " | ".join(done.stderr.strip().splitlines()[-3:])
    assert done.returncode in (0, 1), (done.returncode, done.stderr[-500:])
