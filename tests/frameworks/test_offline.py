"""The network watch these tests rely on sees a connection (so "no connection tried" means something)."""

from __future__ import annotations

import contextlib
import socket

from framework_runs import REMOTE_CONNECTIONS


def test_a_connection_off_the_machine_is_seen() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe, contextlib.suppress(OSError):
        probe.settimeout(0.01)
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
    assert REMOTE_CONNECTIONS == ["('192.0.2.1', 9)"]
    REMOTE_CONNECTIONS.clear()  # (seen on purpose: the fixture that fails a test on it is satisfied)
