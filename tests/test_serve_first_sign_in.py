"""`upstack serve` after `upstack user add`, before anyone has signed in: it says so, and how to get
in (a fresh link printed only to a terminal: links are secrets), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from conftest import CLI
from upstack.services import accounts
from upstack.workspace import Workspace

PASSWORD = "correct horse battery staple 42"


@contextmanager
def _serving(run: CLI, *, terminal: bool) -> Iterator[list[str]]:
    """`upstack serve --port 0` as a person starts it (stdout a terminal or a pipe): the lines it
    printed up to "stop it with Ctrl-C"."""
    env = {**os.environ, **{k: v for k, v in run.env.items() if v is not None}, "PYTHONUNBUFFERED": "1"}
    if not run.db_url:
        env.pop("UPSTACK_DB", None)
    reader, writer = pty.openpty() if terminal else os.pipe()
    process = subprocess.Popen([sys.executable, "-m", "upstack", "serve", "--port", "0"], env=env,
                               stdout=writer, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(writer)
    try:
        text, deadline = b"", time.monotonic() + 60
        while b"stop it with Ctrl-C" not in text:
            assert time.monotonic() < deadline and process.poll() is None, text.decode()
            if select.select([reader], [], [], 1)[0]:
                text += os.read(reader, 4096)
        yield text.decode().replace("\r\n", "\n").splitlines()
    finally:
        process.terminate()
        process.communicate(timeout=20)
        os.close(reader)


def _address(lines: list[str]) -> str:
    found = next(re.match(r"open: (http://127\.0\.0\.1:\d+/)$", line) for line in lines if line.startswith("open:"))
    assert found
    return found.group(1)


def test_serve_before_anyone_joined_says_how_to_get_in_and_prints_no_link_into_a_pipe(run: CLI) -> None:
    run.ok("user", "add", "alice")
    run.ok("user", "add", "bob")
    with _serving(run, terminal=False) as lines:
        address = _address(lines)
        assert "nobody has signed in yet: alice gets in with the invitation link `upstack user add` printed," \
            in lines
        command = f"upstack user reset alice --url {address}"
        assert f"or with a new one: {command}" in lines
        assert not any("/reset/" in line or "/join/" in line for line in lines)  # no secret in a pipe
        printed = run.ok(*command.split()[1:])  # the command, as printed, makes a link to this server
        link = printed.splitlines()[-1]
        assert link.startswith(f"{address}reset/")
        with httpx.Client(timeout=30) as client:
            assert client.get(link).status_code == 200
    with Workspace(home=run.home, db=run.db_url) as ws:
        accounts.accept_link(ws, link.rsplit("/", 1)[1], PASSWORD)
    with _serving(run, terminal=False) as lines:
        assert not any("nobody has signed in" in line for line in lines)  # alice can sign in now


def test_serve_at_a_terminal_prints_a_fresh_link_that_lets_the_first_admin_in(run: CLI) -> None:
    run.ok("user", "add", "alice")
    with _serving(run, terminal=True) as lines:
        address = _address(lines)
        [line] = [line for line in lines if line.startswith("or with this new link")]
        found = re.search(rf"{re.escape(address)}reset/(\S+)$", line)
        assert found and "(it works once, for 24 hours)" in line
        with httpx.Client(timeout=30) as client:
            assert client.get(found.group(0)).status_code == 200
    with Workspace(home=run.home, db=run.db_url) as ws:
        assert accounts.accept_link(ws, found.group(1), PASSWORD).login == "alice"
        assert accounts.first_to_join(ws) is None


@pytest.mark.parametrize("joined", [False, True])
def test_first_to_join_is_the_owner_until_anyone_joins(workspace: Workspace, joined: bool) -> None:
    assert accounts.first_to_join(workspace) is None  # no accounts: no sign-in page at all
    _, first = accounts.add_user(workspace, "alice")
    _, second = accounts.add_user(workspace, "bob", admin=True)
    if joined:
        accounts.accept_link(workspace, second, PASSWORD)
    found = accounts.first_to_join(workspace)
    assert (found.login if found else None) == (None if joined else "alice")
