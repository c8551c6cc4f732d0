"""`upstack note` and `upstack attach`."""

from __future__ import annotations

import click

from upstack.cli.editing import open_editor, read_stdin
from upstack.cli.options import at_option, complete_entries, complete_nodes, json_option, parse_at, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.entry import OUTCOMES
from upstack.domain.text import KINDS
from upstack.errors import BadInput
from upstack.services import capture, learning, linked
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_NOTE_HELP = [
    "Write your note above this line. The first sentence is its title;",
    "#tags anywhere become tags; [[Title]] or [[id]] links to another entry.",
    "Nothing below the line is kept. Leave it empty to cancel.",
]


@click.command()
@click.argument("text", nargs=-1)
@click.option("--kind", "-k", type=click.Choice(KINDS), default="note", show_default=True,
              help="What this entry is (a question is one to put to someone).")
@click.option("--under", "-u", metavar="NODE", shell_complete=complete_nodes,
              help="File it under this node of the tree "
              "(default: the focus set by `upstack focus`).")
@click.option("--project", "-p", metavar="NAME",
              help="File it under this project: its name, or the start of it.")
@click.option("--create", is_flag=True, help="Make the --project if none has that name.")
@click.option("--tag", "-t", "tags", multiple=True, metavar="TAG", help="Add a tag (repeatable).")
@click.option("--private", is_flag=True, help="Only you will ever see it.")
@click.option("--attach", "-a", "files", multiple=True, metavar="FILE",
              help="Attach a file (repeatable).")
@at_option
@click.option("--expected", metavar="TEXT", help="A result: what you expected.")
@click.option("--happened", metavar="TEXT", help="A result: what happened.")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="A result: how it came out.")
@click.option("--learned", metavar="TEXT", help="What it taught you (saved as a learning).")
@click.option("--revisit", metavar="WHEN", help="A decision: when to ask 'was this right?' ('in 3 months', "
              "2027-03-01); `upstack due` lists it then, until you record what it taught (`upstack learned`).")
@json_option
@click.pass_obj
def note(ws: Workspace, text: tuple[str, ...], kind: str, under: str | None, project: str | None,
         create: bool, tags: tuple[str, ...], private: bool, files: tuple[str, ...], at: str | None,
         expected: str | None, happened: str | None, outcome: str | None, learned: str | None,
         revisit: str | None, as_json: bool) -> None:
    """Write an entry into the log.

    TEXT is the note; '-' reads it from standard input; with no TEXT your
    $EDITOR opens. Prints the new entry's id.

    \b
    Example:
      upstack note "Patching layer 5 kills the effect. Next: head 5.1 #patching #ioi"
    """
    occurred_at = parse_at(at)
    if create and not project:
        raise click.UsageError("--create makes the project --project names: give --project NAME")
    if project and not under:  # with both, capture.note says to give one
        project = capture.project_for(ws, project, create=create)
    meta = learning.result_meta(kind, expected, happened, outcome)
    if revisit is not None:
        meta |= learning.revisit_meta(kind, revisit)
    if text == ("-",):
        body = read_stdin()
    elif text:
        body = " ".join(text)
    else:
        edited = open_editor("", ws.settings.editor, _NOTE_HELP)
        if not edited:
            raise BadInput("empty note: nothing was saved")
        body = edited
    entry = capture.note(ws, body, kind=kind, project=project, under=under, private=private,
                         attach=list(files), occurred_at=occurred_at, tags=list(tags),
                         meta=meta)
    if as_json:
        print_json(entry.to_dict())
    else:
        echo(entry.short)
    warning = linked.note_warning(ws, entry.node_id)  # in a workspace linked to a team server
    if warning:
        echo(style(f"warning: {warning}", fg="yellow"), err=True)
    if learned:
        lesson = learning.learned(ws, entry.id, learned)
        if not as_json:
            echo(style(f"learning {lesson.short} recorded", dim=True), err=True)
    if entry.node_id is None and not project and (ws.home / "tree-in-use").exists():
        echo(style("note: filed under no node, so it traces to no agenda "
                   "(use --under NODE or `upstack focus NODE`)", fg="yellow"), err=True)


@click.command()
@click.argument("entry_id", metavar="ID", shell_complete=complete_entries)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@json_option
@pass_log
def attach(ws: Workspace, entry_id: str, files: tuple[str, ...], as_json: bool) -> None:
    """Attach files to an existing entry; prints each attachment's id."""
    attachments = capture.attach(ws, entry_id, list(files))
    if as_json:
        print_json([a.to_dict() for a in attachments])
    else:
        for item in attachments:
            echo(f"{item.short}  {item.filename}")


@click.command(name="learned")
@click.argument("entry_id", metavar="ID", shell_complete=complete_entries)
@click.argument("text", nargs=-1, required=True)
@at_option
@json_option
@pass_log
def learned_command(ws: Workspace, entry_id: str, text: tuple[str, ...], at: str | None,
                    as_json: bool) -> None:
    """Record what an entry (a result, an experiment's note) taught you, after the fact.

    Saved as an entry of kind learning, linked to ID and filed where ID is.
    A failed experiment that taught you something is progress.
    """
    lesson = learning.learned(ws, entry_id, " ".join(text), occurred_at=parse_at(at))
    if as_json:
        print_json(lesson.to_dict())
    else:
        echo(lesson.short)


COMMANDS = [note, attach, learned_command]
