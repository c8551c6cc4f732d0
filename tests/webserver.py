"""A real upstack server on a free loopback port, in a thread, for web and browser tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class Server:
    url: str
    token: str | None  # None: a team server, where clients sign in
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, *, signed_in: bool = True) -> httpx.Client:
        """An HTTP client (closed when the server stops), with the session cookie unless told not to."""
        cookies = {"upstack_session": self.token} if signed_in and self.token else {}
        made = httpx.Client(base_url=self.url, cookies=cookies, follow_redirects=False, timeout=30)
        self.clients.append(made)
        return made


@contextmanager
def serve(home: Path, db: str | None, token: str | None = "test-token-0123456789",
          extend: Callable[[Any], None] | None = None, **options: object) -> Iterator[Server]:
    """``extend`` is called with the app before it serves (a test adds a route, say)."""
    from upstack.web.app import create_app
    from upstack.workspace import Workspace

    with Workspace(home=home, db=db) as workspace:
        app = create_app(workspace, token=token, **options)  # type: ignore[arg-type]
        if extend is not None:
            extend(app)
        with serve_app(app, token) as running:
            yield running


@contextmanager
def serve_app(app: Any, token: str | None) -> Iterator[Server]:
    """``app`` served until the block ends (``token``: the one it was made with, None for a team server)."""
    import uvicorn

    # Port 0: the server binds a free port itself, so servers started at once (tests running in
    # parallel) never race for one that a probe found free a moment earlier.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    running = Server(f"http://127.0.0.1:{port}", token)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        thread.join(10)
