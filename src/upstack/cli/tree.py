"""`upstack add`, `node show|edit|move|status`, `focus`, `why`, `tree`."""

from __future__ import annotations

import sys

import click

from upstack.cli.editing import open_editor
from upstack.cli.mentor import consult, llm_options, may_send
from upstack.cli.options import (
    at_option,
    complete_entries_and_nodes,
    complete_nodes,
    json_option,
    parse_at,
    pass_log,
)
from upstack.cli.output import echo, entry_line, plural, print_json, style
from upstack.domain.tree import NODE_KINDS, STATUSES, Node, status_label
from upstack.services import checks, progress, stuck
from upstack.services import tree as tree_service
from upstack.timeutil import local_display
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_STATUS_COLOURS = {"open": "white", "active": "green", "blocked": "red", "parked": "yellow", "done": "blue",
                   "dropped": "bright_black"}


def _node_line(node: Node) -> str:
    return (f"{style(node.short, fg='yellow')}  {style(f'{node.kind:<10}', fg='cyan')} "
            f"{style(f'[{status_label(node)}]', fg=_STATUS_COLOURS.get(node.status))}  {node.title}")


@click.command()
@click.argument("kind", type=click.Choice(NODE_KINDS))
@click.argument("title", nargs=-1, required=True)
@click.option("--why", "-w", default="", help="How it moves its parent (one or two sentences).")
@click.option("--under", "-u", metavar="PARENT", help="The node it serves.", shell_complete=complete_nodes)
@click.option("--status", "-s", default="open", show_default=True,
              help=f"One of {', '.join(STATUSES)}.")
@click.option("--override", metavar="WHY", default="",
              help="Go past the active-project limit, saying why.")
@at_option
@json_option
@pass_log
def add(ws: Workspace, kind: str, title: tuple[str, ...], why: str, under: str | None,
        status: str, override: str, at: str | None, as_json: bool) -> None:
    """Add a node to the theory-of-change tree: agenda → project → question → experiment.

    A research question here is a node; `note --kind question` is a question to
    put to someone. Prints the new node's id.

    \b
    Example:
      upstack add question "Is feature splitting an artefact of dictionary size?" \\
        --under PROJECT --why "Decides whether the method generalises."
    """
    node = tree_service.add_node(ws, kind, " ".join(title), why=why, under=under, status=status,
                                 override=override, created_at=parse_at(at))
    if as_json:
        print_json(node.to_dict())
    else:
        echo(node.short)
        if not node.why:
            echo(style("no --why yet: say how this moves its parent "
                       f"(upstack node edit {node.short} --why \"...\")", fg="yellow"), err=True)


@click.group()
def node() -> None:
    """Show and change nodes of the theory-of-change tree."""


@node.command(name="show")
@click.argument("node_id", metavar="ID", shell_complete=complete_nodes)
@json_option
@pass_log
def node_show(ws: Workspace, node_id: str, as_json: bool) -> None:
    """A node: its why, where it sits, its children, its history and recent entries."""
    view = tree_service.show_node(ws, node_id)
    if as_json:
        print_json(view.to_dict())
        return
    echo(_node_line(view.node))
    echo("  why: " + (view.node.why or style("(none yet)", fg="yellow")))
    for parent in view.chain:
        echo(style(f"  under {parent.kind} {parent.short}: {parent.title}", dim=True))
    if view.children:
        echo()
        echo(style("Children", bold=True))
        for child in view.children:
            echo("  " + _node_line(child))
    if view.entries:
        echo()
        echo(style("Recent entries", bold=True))
        for entry in view.entries:
            echo("  " + entry_line(entry))
    echo()
    echo(style("History", bold=True))
    for event in view.history:
        text = tree_service.describe_event(event, view.node.kind)
        reason = f": {event['reason']}" if event["reason"] else ""
        echo(f"  {style(local_display(event['at']), dim=True)}  {text}{reason}")


@node.command(name="edit")
@click.argument("node_id", metavar="ID", shell_complete=complete_nodes)
@click.option("--title", help="A new title.")
@click.option("--why", help="A new why.")
@pass_log
def node_edit(ws: Workspace, node_id: str, title: str | None, why: str | None) -> None:
    """Change a node's title or why (the old ones stay in its history)."""
    echo(_node_line(tree_service.edit_node(ws, node_id, title=title, why=why)))


@node.command(name="move")
@click.argument("node_id", metavar="ID", shell_complete=complete_nodes)
@click.option("--under", "-u", metavar="PARENT", help="The new parent.", shell_complete=complete_nodes)
@click.option("--top", is_flag=True, help="Move it to the top (no parent).")
@pass_log
def node_move(ws: Workspace, node_id: str, under: str | None, top: bool) -> None:
    """Re-parent a node (never under itself or its descendants)."""
    if bool(under) == top:
        raise click.UsageError("give exactly one of --under PARENT or --top")
    echo(_node_line(tree_service.move_node(ws, node_id, under)))


@node.command(name="status")
@click.argument("node_id", metavar="ID", shell_complete=complete_nodes)
@click.argument("status", metavar="STATUS")
@click.option("--reason", "-r", default="", help="Why (kept in the node's history).")
@click.option("--override", metavar="WHY", default="",
              help="Break a commitment rule (active-project limit, minimum commitment), saying why.")
@pass_log
def node_status(ws: Workspace, node_id: str, status: str, reason: str, override: str) -> None:
    """Set a node's status: open, active, blocked, parked, done (answered), dropped.

    At most `active_projects` projects are active at once (default 1), and an
    active node is not dropped within `min_commitment_days` (default 14):
    --override WHY goes past either, and the reason is kept.
    """
    echo(_node_line(tree_service.set_status(ws, node_id, status, reason, override)))


@node.command(name="rm")
@click.argument("node_id", metavar="ID", shell_complete=complete_nodes)
@click.option("--reason", "-r", default="", help="Why (kept in the node's history).")
@pass_log
def node_rm(ws: Workspace, node_id: str, reason: str) -> None:
    """Delete a node with no children (restorable with `upstack node restore`)."""
    removed = tree_service.remove_node(ws, node_id, reason)
    echo(f"{removed.short}  deleted (undo: upstack node restore {removed.short})")


@node.command(name="restore")
@click.argument("node_id", metavar="ID", shell_complete=complete_nodes)
@pass_log
def node_restore(ws: Workspace, node_id: str) -> None:
    """Bring a deleted node back."""
    echo(_node_line(tree_service.restore_node(ws, node_id)))


@click.command()
@click.argument("node_id", metavar="NODE", required=False, shell_complete=complete_nodes)
@click.option("--clear", is_flag=True, help="Stop filing notes under a node by default.")
@pass_log
def focus(ws: Workspace, node_id: str | None, clear: bool) -> None:
    """File today's notes under NODE without typing --under each time."""
    if clear:
        tree_service.set_focus(ws, None)
        echo("no focus: notes go where --under or --project says")
        return
    current = tree_service.set_focus(ws, node_id) if node_id else tree_service.focus(ws)
    echo(_node_line(current) if current else "no focus (set one with `upstack focus NODE`)")


@click.command()
@click.argument("object_id", metavar="ID", shell_complete=complete_entries_and_nodes)
@json_option
@pass_log
def why(ws: Workspace, object_id: str, as_json: bool) -> None:
    """Trace an entry or a node up to its agenda, each link with its why."""
    trace = tree_service.trace_why(ws, object_id)
    if as_json:
        print_json(trace.to_dict())
        return
    if trace.entry:
        echo(entry_line(trace.entry))
    for depth, link in enumerate(trace.chain):
        indent = "  " * (depth + (1 if trace.entry else 0))
        echo(f"{indent}↑ {_node_line(link)}")
        echo(f"{indent}  " + (style("why: ", dim=True) + link.why if link.why
                              else style("why: (none written: say how this moves its parent)",
                                         fg="yellow")))
    if not trace.chain or tree_service.asks_why(ws, trace.chain):  # not asked of a chain shared with you
        echo(style("warning: this does not trace up to an agenda; if you can't say why it "
                   "matters, you may be spinning your wheels", fg="red"))


@click.command(name="tree")
@click.option("--open-only", is_flag=True, help="Hide done and dropped nodes.")
@json_option
@pass_log
def tree_command(ws: Workspace, open_only: bool, as_json: bool) -> None:
    """The theory-of-change tree with status, entries, learnings and last activity."""
    roots = tree_service.tree(ws, include_closed=not open_only)
    if as_json:
        print_json([r.to_dict() for r in roots])
        return
    if not roots:
        echo('No nodes yet. Start with: upstack add agenda "..." --why "..."')

    def show(row: tree_service.TreeRow) -> None:
        facts = f"{plural(row.entries, 'entry', 'entries')}, {plural(row.learnings, 'learning')}"
        if row.last:
            facts += f", last {local_display(row.last)}"
        echo("  " * row.depth + _node_line(row.node) + "  " + style(facts, dim=True))
        for child in row.children:
            show(child)

    for root in roots:
        show(root)


_NAMED = 10  # orphan entries `upstack check` names; `upstack log --orphans` lists them all


@click.command()
@click.option("--days", type=int, help="Recent days to look at (default: the check_days setting, 7).")
@click.option("--stale-weeks", type=int,
              help="Weeks without activity before a project is stale (default 4).")
@json_option
@pass_log
def check(ws: Workspace, days: int | None, stale_weeks: int | None, as_json: bool) -> None:
    """Flag work that cannot say why it matters, and trees left to go stale.

    Entries that trace to no agenda are named (the newest ten; `--json` lists all,
    as `upstack log --orphans` does).
    """
    report = checks.check(ws, days=days, stale_weeks=stale_weeks, named=None if as_json else _NAMED)
    if as_json:
        print_json(report.to_dict())
        return
    for flag in report.flags:
        echo(style(f"{flag.check:<13}", fg="yellow") + f" {flag.subject}  {flag.message}")
        for entry in flag.entries:
            echo(f"{'':14}{style(entry['short'], fg='yellow')}  {entry['title']}")
        if flag.check == "orphan" and flag.entries and len(flag.entries) == _NAMED:
            echo(style(f"{'':14}all of them: upstack log --orphans -n 0", dim=True))
    summary = (f"last {plural(report.days, 'day')}: {plural(report.recent_entries, 'entry', 'entries')}, "
               f"{report.recent_untraceable} with no path to an agenda")
    echo(("ok: nothing to flag; " if not report.flags else "") + summary)


@click.command(name="progress")
@click.option("--weeks", default=8, show_default=True, help="How many weeks back.")
@click.option("--project", "-p", metavar="NAME", help="Only this project (the start of its name will do).")
@json_option
@pass_log
def progress_command(ws: Workspace, weeks: int, project: str | None, as_json: bool) -> None:
    """Progress per week and project, counted in learnings rather than successes."""
    if project:
        project = tree_service.project_title(ws, project, also=(progress.NO_PROJECT,))
    rows = progress.progress(ws, weeks=weeks, project=project)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        echo(f"Nothing written in the last {plural(weeks, 'week')}.")
        return
    width = max(len(r.project) for r in rows)
    echo(style(f"{'week':<9} {'project':<{width}} entries learnings results "
               "failed-but-learned experiments runs ideas-pruned", bold=True))
    for r in rows:
        echo(f"{r.week:<9} {r.project:<{width}} {r.entries:>7} {r.learnings:>9} {r.results:>7} "
             f"{r.failed_but_learned:>18} {r.experiments:>11} {r.runs:>4} {r.ideas_pruned:>12}")


@click.command()
@click.argument("node_id", metavar="NODE", shell_complete=complete_nodes)
@click.option("--to", metavar="NAME", help="Who the question is for (a mentor, a collaborator).")
@click.option("--days", default=14, show_default=True, help="How far back 'what I tried' goes.")
@click.option("--no-edit", is_flag=True, help="Save the draft without opening $EDITOR.")
@click.option("--llm", "use_llm", is_flag=True,
              help="Send the question to a language model and keep its answer (needs upstack[llm]).")
@llm_options
@at_option
@pass_log
def ask(ws: Workspace, node_id: str, to: str | None, days: int, no_edit: bool, use_llm: bool,
        model: str | None, show: bool, yes: bool, at: str | None) -> None:
    """Draft a question for a mentor or collaborator from what you are stuck on.

    The draft holds the trace (what you are trying to do and why), what you
    tried, what you expected and what happened; you write the question itself.
    It is saved as an entry of kind question under NODE. With --llm it goes to
    a language model too (never a private entry, a check-in, someone else's
    work or a run's provenance; secrets redacted; shown before it is sent), and
    its answer is kept as an entry linked to the question.
    """
    occurred_at = parse_at(at)  # a date that cannot be read is refused before the editor opens
    if (model or show or yes) and not use_llm:
        raise click.UsageError("--model, --show and --yes are for --llm")
    if use_llm:
        from upstack.services import mentor as mentor_service

        node, draft = stuck.draft_question(ws, node_id, to=to, days=days, keep=mentor_service.may_leave,
                                           keep_node=mentor_service.node_may_leave(ws))
    else:
        node, draft = stuck.draft_question(ws, node_id, to=to, days=days)
    text: str | None = draft
    if not no_edit and not show and sys.stdin.isatty():
        text = open_editor(draft, ws.settings.editor, ["Edit the question; nothing below is kept."])
        if not text:
            echo("Nothing saved.")
            return
    if use_llm:
        _, prompt = mentor_service.question_prompt(ws, node.id, text or draft, days=days)
        if show:
            echo(prompt.shown())
            return
        chosen = may_send(model, yes)  # before the question is kept: a refusal leaves nothing
    entry = stuck.ask(ws, node.id, text or draft, occurred_at=occurred_at)
    echo(entry.short)
    if use_llm:
        consult(ws, prompt, model=chosen, yes=yes, node_id=node.id, answers=entry.id, about=f"\"{node.title}\"")
    elif no_edit or not sys.stdin.isatty():
        echo(style(f"draft saved: finish it with `upstack edit {entry.short}`", dim=True), err=True)


COMMANDS = [add, node, focus, why, tree_command, check, progress_command, ask]
