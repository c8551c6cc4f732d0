"""The machine a benchmark ran on, for the report's header (shared by the bench scripts)."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

# A person's upstack runs from cached bytecode: pip compiles what it installs, and Python writes
# __pycache__ on a module's first import. Some shells and containers set PYTHONDONTWRITEBYTECODE,
# which makes every process compile its ~150 modules again (80-100 ms a command on the bench
# machine): that times the container, not upstack. Every bench imports this module, so no timed
# process inherits it; machine_lines says so in each report.
BYTECODE_WAS_OFF = os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_lines(versions: str) -> list[str]:
    """Date, machine and a line of tool versions, as Markdown list items."""
    return [f"- date: {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
            f"- machine: {platform.platform()}, {cpu_model()}, {os.cpu_count()} cores",
            f"- {versions}",
            "- bytecode: cached, as after an install"
            + (" (PYTHONDONTWRITEBYTECODE was set in this shell and is dropped for the timed processes)"
               if BYTECODE_WAS_OFF else "")]


def git_commit(tree: Path) -> str:
    """The short commit a source tree is at ("?" outside git)."""
    import subprocess

    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip() or "?"


def report(lines: list[str], out: Path | None) -> int:
    """Print a Markdown report, and write it to ``out`` when given; the exit status (0)."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return 0
