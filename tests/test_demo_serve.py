"""`upstack demo` serves when the README says it does: run at a terminal (stdin and stdout), and
not when its output goes to a pipe, unless told (`--serve` / `--no-serve`)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _demo_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "UPSTACK_HOME": str(tmp_path / "mine"), "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("UPSTACK_DB", None)
    return env


def test_the_readme_says_when_the_demo_serves() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "run at a terminal, it then serves the demo in the browser app" in readme
    assert "`--no-serve` skips it, and `--serve` serves even when its output goes to a file or a pipe" in readme


def test_at_a_terminal_the_demo_serves_until_stopped(tmp_path: Path) -> None:
    primary, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "upstack", "demo", "--home", str(tmp_path / "demo"),
                                "--port", "0"], env=_demo_env(tmp_path), stdin=terminal, stdout=terminal,
                               stderr=subprocess.PIPE)
    os.close(terminal)
    try:
        text, deadline = "", time.monotonic() + 120
        while not (found := re.search(r"^open: (http://127\.0\.0\.1:\d+/\?token=\S+)\r?$", text, flags=re.M)):
            assert time.monotonic() < deadline and process.poll() is None, text
            if select.select([primary], [], [], 1)[0]:
                text += os.read(primary, 65536).decode()
        with httpx.Client(follow_redirects=True, timeout=30) as client:
            page = client.get(found.group(1))
            assert page.status_code == 200 and "Week 3 summary" in page.text
        assert process.poll() is None  # still serving
    finally:
        process.terminate()
        process.communicate(timeout=20)
        os.close(primary)


def test_into_a_pipe_the_demo_prints_and_returns(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "upstack", "demo", "--home", str(tmp_path / "demo")],
                          env=_demo_env(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Try next" in done.stdout and "open: " not in done.stdout
