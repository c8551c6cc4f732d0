"""`upstack doctor` and `upstack backup`."""

from __future__ import annotations

from pathlib import Path

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.cli.progress import progress_bar
from upstack.services import maintenance
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.command()
@click.option("--fix", is_flag=True, help="Rebuild the search index if it is out of step, and close the "
                                          "workspace to other users of this machine if it is open to them.")
@json_option
@pass_log
def doctor(ws: Workspace, fix: bool, as_json: bool) -> None:
    """Check the database, revisions and run data, the search index, every attached file and the journal.

    Exits 1 if anything is damaged, naming each problem.
    """
    with progress_bar("checking") as update:
        findings = maintenance.doctor(ws, update)
    if fix and any(f.check == "privacy" for f in findings):
        closed = {str(path) for path in maintenance.close_to_others(ws)}
        for path in sorted(closed):
            echo(f"closed {path} to other users of this machine", err=True)
        findings = [f for f in findings if not (f.check == "privacy" and f.subject in closed)]
    if fix and any(f.check == "search" for f in findings):
        count = maintenance.reindex(ws)
        echo(f"rebuilt the search index for {plural(count, 'entry', 'entries')}", err=True)
        findings = maintenance.doctor(ws)
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        print_json({"ok": not errors, "findings": [f.to_dict() for f in findings]})
    else:
        for finding in findings:
            color = "red" if finding.severity == "error" else "yellow"
            echo(style(f"{finding.severity}: ", fg=color)
                 + f"[{finding.check}] {finding.subject}: {finding.message}")
        if not errors:
            echo("ok: database, revisions, run data, search index and files are all intact"
                 + (f" ({plural(len(findings), 'warning')})" if findings else ""))
    if errors:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@json_option
@pass_log
def backup(ws: Workspace, dest: Path, as_json: bool) -> None:
    """Write a consistent snapshot of the workspace to DEST.

    Safe while other processes keep writing. DEST becomes a workspace of its
    own: `UPSTACK_HOME=DEST upstack log` reads it.
    """
    counts = maintenance.backup(ws, dest)
    if as_json:
        print_json({"dest": str(dest), **counts})
    else:
        entries, files = counts["entries"], counts["files"]
        echo(f"backed up {entries} {'entry' if entries == 1 else 'entries'} and {files} "
             f"{'file' if files == 1 else 'files'} to {dest}")


COMMANDS = [doctor, backup]
