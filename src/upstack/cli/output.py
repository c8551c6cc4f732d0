"""Terminal output without heavy imports: styled lines, JSON, sizes, highlighted snippets."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from upstack.domain.entry import Entry
from upstack.timeutil import local_display

__all__ = ["echo", "style", "print_json", "entry_line", "human_size", "highlight", "use_color"]


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def style(text: str, **kwargs: Any) -> str:
    return click.style(text, **kwargs) if use_color() else text


def echo(text: str = "", *, err: bool = False) -> None:
    click.echo(text, err=err, color=use_color())


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def highlight(text: str, spans: list[tuple[int, int]] | list[list[int]]) -> str:
    if not spans or not use_color():
        return text
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(click.style(text[start:end], bold=True, fg="yellow"))
        last = end
    out.append(text[last:])
    return "".join(out)


def entry_line(entry: Entry, title: str | None = None) -> str:
    """One line of the timeline: short id, date, kind, title, tags, project, files."""
    parts = [
        style(entry.short, fg="yellow"),
        style(local_display(entry.occurred_at), dim=True),
        style(f"{entry.kind:<8}", fg="cyan"),
        title if title is not None else (entry.title or style("(purged)", dim=True)),
    ]
    extras = []
    if entry.starred:
        extras.append(style("★", fg="yellow"))
    if entry.tags:
        extras.append(style(" ".join("#" + t for t in entry.tags), fg="green"))
    if entry.project:
        extras.append(style(f"[{entry.project}]", fg="magenta"))
    if entry.attachments:
        extras.append(style(f"+{len(entry.attachments)} file"
                            f"{'s' if len(entry.attachments) > 1 else ''}", dim=True))
    if entry.private:
        extras.append(style("private", fg="red"))
    if entry.deleted_at:
        extras.append(style("deleted", fg="red"))
    return "  ".join(parts + extras)
