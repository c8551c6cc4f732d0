"""The link from a laptop to a team server: `upstack login URL` keeps it, and `upstack sync`
and live runs call the server's API over it with the token it holds.

Importing this module loads no SQL store: a run logging live uses it for ``remote`` alone.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from upstack.errors import BadInput, Refused, Unauthorized, UpstackError
from upstack.files import make_private_dirs, write_atomically
from upstack.services.linked import save_roles
from upstack.workspace import Workspace

__all__ = ["Remote", "login", "remote", "fetch_blob", "REMOTE_FILE"]

REMOTE_FILE = "remote.json"


class _Busy(Exception):
    """A 429: the server names how many seconds to wait before trying again."""

    def __init__(self, wait: float, detail: str) -> None:
        super().__init__(detail)
        self.wait, self.detail = min(wait, 60.0), detail


@dataclass(frozen=True)
class Remote:
    url: str
    token: str
    login: str

    def call(self, method: str, path: str, body: bytes | None = None, *,
             content_type: str = "application/json", timeout: float = 120) -> bytes:
        """One request; a 429 (this member's share of the server in use: busy, not refused) is
        tried again after the wait the server names, for up to ``min(timeout, 60)`` seconds."""
        patience = time.monotonic() + min(timeout, 60.0)
        while True:
            try:
                return self._call_once(method, path, body, content_type, timeout)
            except _Busy as busy:
                if time.monotonic() + busy.wait > patience:
                    raise UpstackError(f"{self.url} is busy with your other requests: {busy.detail[:300]}; "
                                       "nothing was lost, run it again in a minute") from None
                time.sleep(busy.wait)

    def _call_once(self, method: str, path: str, body: bytes | None, content_type: str, timeout: float) -> bytes:
        request = urllib.request.Request(self.url.rstrip("/") + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user's own server
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, AttributeError):  # our servers answer {"error": ...}
                detail = str(json.loads(detail).get("error") or json.loads(detail).get("detail") or detail)
            if exc.code == 429:
                wait = exc.headers.get("Retry-After", "1")
                raise _Busy(float(wait) if wait.isdigit() else 1.0, detail) from None
            if exc.code == 401:
                raise Unauthorized(f"{self.url} refused the token (revoked?): run `upstack login {self.url}` "
                                   "again with a new one") from None
            message = f"{self.url} answered {exc.code} to {method} {path}: {detail[:300]}"
            if 400 <= exc.code < 500:
                raise Refused(message, detail[:300]) from None
            raise UpstackError(message) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UpstackError(f"cannot reach {self.url}: {reason}; nothing was lost, try again when it is "
                               "reachable") from None

    def json(self, method: str, path: str, payload: Any = None, *, timeout: float = 120) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        return json.loads(self.call(method, path, body, timeout=timeout))


def login(ws: Workspace, url: str, token: str) -> Remote:
    """Check the token against the server and keep both (readable by this user only)."""
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"{url!r} is not a server address: give it as https://host (or http://host:port)")
    if not token.strip():
        raise BadInput("no token: make one on the server's account page (Your account → API tokens)")
    probe = Remote(url.rstrip("/"), token.strip(), "")
    me = probe.json("GET", "/api/me.json")
    if me.get("token_scope") == "read-only":
        raise BadInput("that token is read-only, and `upstack sync` sends as well as reads: make a full or "
                       "sync-only token on the server's account page")
    found = Remote(probe.url, probe.token, str(me["login"]))
    path = ws.home / REMOTE_FILE
    make_private_dirs(ws.home)
    write_atomically(path, json.dumps(asdict(found)), permissions=0o600)  # it holds the token
    save_roles(ws, found.url, me)  # what the server will take from them is known from now on
    return found


def remote(ws: Workspace) -> Remote:
    try:
        data = json.loads((ws.home / REMOTE_FILE).read_text())
        return Remote(url=data["url"], token=data["token"], login=data["login"])
    except FileNotFoundError:
        raise BadInput("this workspace is not linked to a server: run `upstack login URL` first") from None
    except (ValueError, KeyError, TypeError):
        raise BadInput(f"{ws.home / REMOTE_FILE} is damaged: run `upstack login URL` again") from None



def fetch_blob(ws: Workspace, server: Remote, sha256: str) -> bool:
    """Download a file this workspace lacks (checked against its hash); whether it was needed."""
    if ws.blobs.verify(sha256) is None:
        return False
    if ws.blobs.put_bytes(server.call("GET", f"/api/blobs/{sha256}")) != sha256:
        raise UpstackError(f"{server.url} sent a file that does not match its hash {sha256[:12]}; "
                           "nothing of it was kept")
    return True

