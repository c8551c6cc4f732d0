"""`upstack vault`: a folder of Markdown kept in step with the log both ways (interop/vault_sync.py)."""

from __future__ import annotations

from pathlib import Path

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, print_json
from upstack.cli.progress import progress_bar
from upstack.domain.text import plural
from upstack.interop import vault_sync
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

# What each count says: the noun for one, for more, and what was done to them.
_SAID = {"import": ("note", "notes", "read into the log"), "write": ("note", "notes", "written to the folder"),
         "conflicts": ("note", "notes", "changed on both sides"), "new_files": ("new file", "new files", "written"),
         "delete_entries": ("entry", "entries", "deleted (restorable)"),
         "remove_files": ("file", "files", "removed"), "moves": ("note", "notes", "moved or renamed")}


def _show(report: vault_sync.Report, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    said = [f"{plural(count, _SAID[key][0], _SAID[key][1])} {_SAID[key][2]}"
            for key, count in report.counts.items() if count]
    if report.dry_run:
        echo(f"a sync of {report.root} would do: " + ("; ".join(said) if said else "nothing"))
    else:
        echo(f"synced {report.root}: " + ("; ".join(said) if said else "nothing to do"))
    for name in report.conflicts:
        echo(f"changed on both sides: both kept, the log's text in {name} (the file's is the entry's "
             "new revision); merge what you want by hand, then delete the copy (it is never synced)")
    for warning in report.warnings:
        echo(f"upstack: warning: {warning}", err=True)
    for problem in report.problems:
        echo(f"skipped {problem}")


@click.group()
def vault() -> None:
    """A folder of Markdown (an Obsidian vault) kept in step with the log, both ways.

    \b
    Examples:
      upstack vault link ~/Notes
      upstack vault sync
    """


@vault.command("link")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--include-private", is_flag=True, help="Private entries go into the folder too.")
@json_option
@pass_log
def vault_link(ws: Workspace, directory: Path, include_private: bool, as_json: bool) -> None:
    """Link a folder and sync it: upstack writes notes into it and adds an `id:` line to notes it reads."""
    found = vault_sync.link(ws, directory, include_private)
    if not as_json:
        echo(f"linked {found.root}: upstack will write notes into this folder, and add an `id:` line to the "
             "front matter of each note it imports")
    with progress_bar("Syncing") as progress:
        report = vault_sync.sync(ws, progress=progress)
    _show(report, as_json)


@vault.command("unlink")
@json_option
@pass_log
def vault_unlink(ws: Workspace, as_json: bool) -> None:
    """Forget the linked folder (its files and the log's entries stay as they are)."""
    found = vault_sync.unlink(ws)
    if as_json:
        print_json({"unlinked": found.root})
    else:
        echo(f"unlinked {found.root} (nothing in it was changed)")


@vault.command("status")
@json_option
@pass_log
def vault_status(ws: Workspace, as_json: bool) -> None:
    """What `upstack vault sync` would do now (writes nothing)."""
    _show(vault_sync.status(ws), as_json)


@vault.command("sync")
@click.option("--force", is_flag=True, help="Go ahead though the sync deletes more than vault_delete_limit.")
@json_option
@pass_log
def vault_sync_command(ws: Workspace, force: bool, as_json: bool) -> None:
    """Sync the linked folder both ways: edits on either side, new notes, deletes, moves."""
    with progress_bar("Syncing") as progress:
        report = vault_sync.sync(ws, force=force, progress=progress)
    _show(report, as_json)


COMMANDS = [vault]
