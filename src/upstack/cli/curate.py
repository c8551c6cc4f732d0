"""`upstack edit`, `rm`, `restore`, `purge`."""

from __future__ import annotations

import click

from upstack.cli.editing import open_editor, read_stdin
from upstack.cli.options import complete_entries, confirm_for_good, json_option, pass_log, yes_option
from upstack.cli.output import echo, plural, print_json, style
from upstack.domain.entry import Entry
from upstack.domain.text import KINDS
from upstack.services import curate, linked, recall
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_EDIT_HELP = [
    "Edit the entry above this line: the first line is the title, the body follows.",
    "The earlier text is kept as a revision (`upstack history ID`).",
]


@click.command()
@click.argument("entry_id", metavar="ID", shell_complete=complete_entries)
@click.option("--text", "new_text", metavar="TEXT",
              help="Replace the text without an editor ('-' reads standard input).")
@click.option("--kind", "-k", type=click.Choice(KINDS), help="Change the entry's kind.")
@json_option
@pass_log
def edit(ws: Workspace, entry_id: str, new_text: str | None, kind: str | None,
         as_json: bool) -> None:
    """Edit an entry in $EDITOR; the earlier version is kept."""
    entry = recall.show(ws, entry_id)
    warning = linked.edit_warning(ws, entry)  # said before the editor opens, not at the next sync
    if warning:
        echo(style(f"warning: {warning}", fg="yellow"), err=True)
    if new_text == "-":
        text: str | None = read_stdin()
    elif new_text is not None:
        text = new_text
    elif kind is not None:
        text = curate.edit_text(entry)
    else:
        text = open_editor(curate.edit_text(entry), ws.settings.editor, _EDIT_HELP)
        if text is None:
            echo("No changes.")
            return
    updated = curate.edit(ws, entry.id, text or "", kind=kind)
    if updated is None:
        echo("No changes.")
    elif as_json:
        print_json(updated.to_dict())
    else:
        echo(updated.short)


@click.command(name="rm")
@click.argument("entry_ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_entries)
@pass_log
def remove(ws: Workspace, entry_ids: tuple[str, ...]) -> None:
    """Delete entries (restorable with `upstack restore`)."""
    for ref in entry_ids:
        entry = curate.remove(ws, ref)
        echo(f"{entry.short}  deleted (undo: upstack restore {entry.short})")


@click.command()
@click.argument("entry_ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete_entries)
@pass_log
def restore(ws: Workspace, entry_ids: tuple[str, ...]) -> None:
    """Bring deleted entries back (`last`: the entry deleted last)."""
    for ref in entry_ids:
        entry = curate.restore(ws, ref)
        echo(f"{entry.short}  restored")


@click.command()
@click.argument("target_id", metavar="ID", shell_complete=complete_entries)
@yes_option
@pass_log
def purge(ws: Workspace, target_id: str, yes: bool) -> None:
    """Remove an entry's content, or one attachment, for good.

    For a pasted secret or a huge file. Leaves a tombstone saying that
    something was purged and when; files no other entry uses are deleted.
    """
    target = curate.purge_target(ws, target_id)
    if isinstance(target, Entry):
        what = (f"entry {target.short} \"{target.title}\" with its "
                f"{plural(len(target.attachments), 'attachment')} and every earlier revision")
    else:
        what = f"attachment {target.short} ({target.filename})"
    confirm_for_good("purge", f"Purge {what}", yes)
    removed = curate.purge(ws, target)
    echo(f"{target.short}  purged" + (f"; {plural(len(removed), 'file')} deleted" if removed else ""))


COMMANDS = [edit, remove, restore, purge]

