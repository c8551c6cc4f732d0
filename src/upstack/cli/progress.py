"""Progress bars on stderr for work a person waits on: only on a terminal, only for long jobs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["progress_bar"]

MANY = 200  # below this many items a bar would only flicker


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[..., None] | None]:
    """Yields ``update(done, total)`` (or ``update(label, done, total)``), or None off a terminal.

    The bar (rich, ~35 ms to import) appears at the first update with a total of
    at least ``MANY``.
    """
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None
    task: Any = None

    def update(*args: object) -> None:
        nonlocal bar, task
        *label, done, total = args
        if bar is None:
            if int(total) < MANY:  # type: ignore[call-overload]
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

            bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                           console=Console(stderr=True), transient=True)
            bar.start()
            task = bar.add_task(description, total=None)
        bar.update(task, completed=int(done), total=int(total),  # type: ignore[call-overload]
                   description=str(label[0]) if label else description)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()
