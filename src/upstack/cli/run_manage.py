"""`upstack run rename|tag|note|move|rm|restore|history`: a run managed after it ran (issue 20).

Each command is a subcommand of `upstack run` (cli/runs.py adds them to its group)."""

from __future__ import annotations

import click

from upstack.cli.options import complete_nodes, json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.run import RunInfo
from upstack.services import run_manage, tree
from upstack.timeutil import local_display
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _done(ws: Workspace, run: RunInfo, what: str, as_json: bool) -> None:
    if as_json:
        print_json(run.to_dict())
    else:
        echo(f"{style(run.short, fg='yellow')}  {what}")
    warning = run_manage.server_warning(ws, run)
    if warning:
        echo(f"upstack: warning: {warning}", err=True)


@click.command(name="rename")
@click.argument("ref", metavar="ID")
@click.argument("name", nargs=-1, required=True)
@json_option
@pass_log
def rename(ws: Workspace, ref: str, name: tuple[str, ...], as_json: bool) -> None:
    """Give a run a new name (its result entry's title follows; its text stays)."""
    old = run_manage.get_run(ws, ref).name
    run = run_manage.rename(ws, ref, " ".join(name))
    _done(ws, run, f"renamed from {old!r} to {run.name!r}", as_json)


class _TagCommand(click.Command):
    """Takes ``-old`` as a tag to take off, not an option: ``run tag ID -old`` works without ``--``.
    Only the command's own options (``--json``, ``-h``/``--help``) are options; the rest are tags."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            return super().parse_args(ctx, args)
        own = {name for param in self.get_params(ctx) for name in getattr(param, "opts", [])}
        options = [a for a in args if a in own]
        return super().parse_args(ctx, [*options, "--", *(a for a in args if a not in own)])


@click.command(name="tag", cls=_TagCommand)
@click.argument("ref", metavar="ID")
@click.argument("changes", nargs=-1, required=True, metavar="+TAG|-TAG...")
@json_option
@pass_log
def tag(ws: Workspace, ref: str, changes: tuple[str, ...], as_json: bool) -> None:
    """Add (+tag) and take off (-tag) a run's tags; its result entry's tags follow.

    \b
    Example:
      upstack run tag 01JX +baseline -old
    """
    before = run_manage.get_run(ws, ref).tags
    run = run_manage.retag(ws, ref, list(changes))
    changed = [f"+{t}" for t in run.tags if t not in before] + [f"-{t}" for t in before if t not in run.tags]
    _done(ws, run, f"tags {' '.join(changed)}; now: {', '.join(run.tags) or 'none'}", as_json)


@click.command(name="note")
@click.argument("ref", metavar="ID")
@click.argument("text", nargs=-1, required=True)
@json_option
@pass_log
def note(ws: Workspace, ref: str, text: tuple[str, ...], as_json: bool) -> None:
    """Add a note to a run, as run.note(...) does from the script."""
    run = run_manage.add_note(ws, ref, " ".join(text))
    _done(ws, run, "note added", as_json)


@click.command(name="move")
@click.argument("ref", metavar="ID")
@click.argument("node", metavar="NODE", shell_complete=complete_nodes)
@json_option
@pass_log
def move(ws: Workspace, ref: str, node: str, as_json: bool) -> None:
    """File a run (and its result entry) under another node: an id, or @title."""
    run = run_manage.move(ws, ref, node)
    where = tree.get_node(ws, run.node_id) if run.node_id else None
    _done(ws, run, f"filed under {where.short} {where.title}" if where else f"filed under {node}", as_json)


@click.command(name="rm")
@click.argument("ref", metavar="ID")
@json_option
@pass_log
def rm(ws: Workspace, ref: str, as_json: bool) -> None:
    """Delete a run and its result entry (restorable: upstack run restore ID)."""
    run = run_manage.delete(ws, ref)
    _done(ws, run, f"deleted (bring it back: upstack run restore {run.short})", as_json)


@click.command(name="restore")
@click.argument("ref", metavar="ID")
@json_option
@pass_log
def restore(ws: Workspace, ref: str, as_json: bool) -> None:
    """Bring back a deleted run and its result entry."""
    run = run_manage.restore(ws, ref)
    _done(ws, run, "restored", as_json)


@click.command(name="history")
@click.argument("ref", metavar="ID")
@json_option
@pass_log
def history(ws: Workspace, ref: str, as_json: bool) -> None:
    """Every change of a run (name, tags, node, deleted, restored), its resumes and its notes, oldest first."""
    changes = run_manage.history(ws, ref)
    if as_json:
        print_json([c.to_dict() for c in changes])
        return
    for change in changes:
        echo(f"{style(local_display(change.at), dim=True)}  {change.text}")


COMMANDS = [rename, tag, note, move, rm, restore, history]
