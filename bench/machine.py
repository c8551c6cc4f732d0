"""The machine a benchmark ran on, for the report's header (shared by the bench scripts)."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path


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
            f"- {versions}"]
