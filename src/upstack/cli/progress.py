"""Progress bars on stderr for work a person waits on, only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[..., None] | None]:
    """Yields ``update(done, total)`` (or ``update(label, done, total)``), or None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # rich costs ~35 ms: only for long, interactive work
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(*args: object) -> None:
            *label, done, total = args
            bar.update(task, completed=int(done), total=int(total),  # type: ignore[call-overload]
                       description=str(label[0]) if label else description)

        yield update
