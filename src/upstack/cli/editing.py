"""Text from the command line, stdin or $EDITOR, checked to be UTF-8."""

from __future__ import annotations

import sys

import click

from upstack.errors import BadInput

__all__ = ["read_stdin", "open_editor", "SCISSORS"]

SCISSORS = "# ------------------------ >8 ------------------------"


def read_stdin() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"standard input is not UTF-8 text (byte {exc.start})") from None


def open_editor(text: str, editor: str | None, help_lines: list[str]) -> str | None:
    """Edit text in $EDITOR; lines below the scissors line are ignored."""
    if not sys.stdin.isatty():
        raise BadInput("no text given and no terminal to open an editor: pass the text, "
                       "or '-' to read standard input")
    template = text + "\n" + SCISSORS + "\n" + "\n".join("# " + line for line in help_lines) + "\n"
    edited = click.edit(template, editor=editor, extension=".md", require_save=True)
    if edited is None:
        return None
    return edited.split(SCISSORS, 1)[0].strip()
