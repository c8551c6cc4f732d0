"""Terminal output without heavy imports: styled lines, JSON, sizes, highlighted snippets.

Everything the CLI prints passes through ``echo`` or ``print_json`` (a test holds every other
module to that), and both make stored text safe for a terminal: text written by a collaborator
must never set the window title, hide a hyperlink, move the cursor or clear the screen.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import sys
from typing import IO, Any, cast

import click

from upstack.domain.entry import Entry
from upstack.domain.text import plural
from upstack.terminal import terminal_text
from upstack.timeutil import local_display

__all__ = ["echo", "style", "print_json", "entry_line", "human_size", "highlight", "use_color",
           "terminal_text", "json_stdout", "options_given", "plural"]

_JSON_UNSAFE = re.compile(r"[\x7f-\x9f]")
# Our own colours cannot be told from a collaborator's escape codes once they share a line, so
# `style` writes ESC as this per-process mark, which no stored text can contain, and `echo`
# turns marks back into ESC only after the line has been cleaned.
_ESC_MARK = f"\ufdd0{secrets.token_hex(8)}\ufdd1"


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def style(text: str, **kwargs: Any) -> str:
    if not use_color():
        return text
    return click.style(terminal_text(text), **kwargs).replace("\x1b", _ESC_MARK)


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print a line (on stderr with ``err``) with every control sequence in it made harmless."""
    click.echo(terminal_text(text).replace(_ESC_MARK, "\x1b"), err=err, nl=nl,
               color=use_color())


def _escape_for_json(text: str) -> str:
    # json.dumps escapes C0 but, with ensure_ascii off, writes DEL and C1 as they are; inside a
    # JSON string \u escapes say the same thing, so the data stays whole.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(value: Any) -> None:
    click.echo(_escape_for_json(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False)))


class _TerminalSafeJSON(io.TextIOBase):
    def __init__(self, out: IO[str]) -> None:
        super().__init__()
        self._out = out

    def write(self, text: str) -> int:
        return self._out.write(_escape_for_json(text))


def json_stdout() -> IO[str]:
    """Standard output for streamed JSON (an export): DEL and C1 are written as \\u escapes."""
    return cast(IO[str], _TerminalSafeJSON(sys.stdout))


def options_given(**options: object) -> str:
    """The filter options a command was given, as typed ('--project IOI --since "last monday"'),
    to say which found nothing; '' if none was."""
    import shlex  # only when a filter found nothing

    shown = []
    for name, value in options.items():
        for one in value if isinstance(value, (tuple, list)) else [value]:
            if one is None or one is False or one == "":
                continue
            flag = "--" + name.replace("_", "-")
            shown.append(flag if one is True else f"{flag} {shlex.quote(str(one))}")
    return " ".join(shown)


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
        out.append(style(text[start:end], bold=True, fg="yellow"))
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
