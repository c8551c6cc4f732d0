"""`upstack comment`, `star` and `unstar`: feedback on entries, and marks to find them again."""

from __future__ import annotations

import click

from upstack.cli.editing import open_editor, read_stdin
from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.errors import BadInput
from upstack.services import comments, linked, recall, stars
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_COMMENT_HELP = [
    "Write your comment above this line. It is shown under the entry (`upstack show ID`),",
    "and `upstack sync` takes it to the team server, where the entry's author is told.",
]


@click.command()
@click.argument("entry_id", metavar="ID")
@click.argument("text", nargs=-1)
@json_option
@pass_log
def comment(ws: Workspace, entry_id: str, text: tuple[str, ...], as_json: bool) -> None:
    """Comment on an entry: a question, a pointer, a doubt.

    TEXT is the comment; '-' reads it from standard input; with no TEXT your
    $EDITOR opens. Comments show in `upstack show`, and travel with `upstack sync`.

    \b
    Example:
      upstack comment 3k9qxa1 "Does this hold for GPT-2 medium?"
    """
    entry = recall.show(ws, entry_id)
    warning = linked.comment_warning(ws, entry)
    if warning:
        echo(style(f"warning: {warning}", fg="yellow"), err=True)
    if text == ("-",):
        body = read_stdin()
    elif text:
        body = " ".join(text)
    else:
        body = open_editor("", ws.settings.editor, _COMMENT_HELP) or ""
        if not body:
            raise BadInput("empty comment: nothing was saved")
    made = comments.add(ws, entry.id, body)
    if as_json:
        print_json(made)
    else:
        echo(f"{made['short']}  on {entry.short}  {entry.title}")


@click.command()
@click.argument("entry_ids", nargs=-1, required=True, metavar="ID...")
@pass_log
def star(ws: Workspace, entry_ids: tuple[str, ...]) -> None:
    """Star entries, to find them again with `upstack log --starred`.

    Your stars are yours: on a team server nobody else sees them, and `upstack
    sync` takes them along.
    """
    _set_stars(ws, entry_ids, True)


@click.command()
@click.argument("entry_ids", nargs=-1, required=True, metavar="ID...")
@pass_log
def unstar(ws: Workspace, entry_ids: tuple[str, ...]) -> None:
    """Take your star off entries."""
    _set_stars(ws, entry_ids, False)


def _set_stars(ws: Workspace, refs: tuple[str, ...], starred: bool) -> None:
    found = [recall.show(ws, ref) for ref in refs]  # every id checked before anything changes
    for entry in found:
        changed = stars.set_star(ws, entry.id, starred)[1]
        mark = "★" if starred else "☆"
        state = ("starred" if starred else "unstarred") if changed else \
            ("already starred" if starred else "was not starred")
        echo(f"{style(mark, fg='yellow')} {style(entry.short, fg='yellow')}  {entry.title}  {style(state, dim=True)}")


COMMANDS = [comment, star, unstar]
