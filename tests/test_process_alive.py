"""formats.rundir.process_alive: the one test of "is that pid still running" that crash detection,
resume, sweeps and an import's staging cleanup all ask."""

from __future__ import annotations

import os
import subprocess
import sys

from upstack.formats.rundir import process_alive


def test_a_pid_is_alive_until_it_ends_and_a_zombie_is_not() -> None:
    assert process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    assert process_alive(child.pid)
    assert child.stdin is not None
    child.stdin.close()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not reaped: a zombie
    assert not process_alive(child.pid)
    child.wait()
    assert not process_alive(child.pid)


def test_a_pid_no_process_can_have_is_not_alive() -> None:
    for pid in (0, -1, 2**31, 10**20):  # os.kill(0) is this process group; the others overflow
        assert not process_alive(pid)
