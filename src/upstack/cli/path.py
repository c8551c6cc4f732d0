"""`upstack path`: who may read your path to a research job (your mentors), and whose you may read."""

from __future__ import annotations

import click

from upstack.cli.options import pass_log
from upstack.cli.output import echo, print_json
from upstack.services import path_access
from upstack.services.path_access import Shown
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.group()
def path() -> None:
    """Your path on a team server: show your ladder, portfolio or pipeline to mentors.

    Your path is private: nothing of it is shown to anyone until you name a mentor.
    Your practice log is never shown to anyone.
    """


@path.group()
def mentor() -> None:
    """Members you show parts of your path to (ladder, portfolio, pipeline, contacts, calibration)."""


def _line(shown: Shown) -> str:
    return f"{shown.login:<20} {', '.join(shown.parts):<18} since {shown.since[:10]}"


@mentor.command("add")
@click.argument("login")
@click.option("--ladder", is_flag=True, help="Show your ladder (and its learning resources).")
@click.option("--portfolio", is_flag=True, help="Show your portfolio.")
@click.option("--pipeline", is_flag=True, help="Show your opportunities and applications (read-only).")
@click.option("--contacts", is_flag=True, help="Show your contacts and outreach too (never the local-only ones).")
@click.option("--calibration", is_flag=True, help="Show your calibration: your scores and reliability over your "
              "own predictions (a prediction they may not see stays unnamed).")
@pass_log
def mentor_add(ws: Workspace, login: str, ladder: bool, portfolio: bool, pipeline: bool, contacts: bool,
               calibration: bool) -> None:
    """Show LOGIN parts of your path: your ladder and portfolio unless you name parts; your pipeline,
    contacts and calibration only when named; never your practice log.

    On a laptop linked to a team server, the server checks LOGIN at your next `upstack sync`.
    Adding a mentor again replaces what they are shown.
    """
    named = (("ladder", ladder), ("portfolio", portfolio), ("pipeline", pipeline), ("contacts", contacts),
             ("calibration", calibration))
    parts = tuple(p for p, given in named if given) or path_access.DEFAULT_PARTS
    shown = path_access.show(ws, login, parts)
    echo(f"{shown.login} may now read your {', '.join(shown.parts)}")


@mentor.command("rm")
@click.argument("login")
@pass_log
def mentor_rm(ws: Workspace, login: str) -> None:
    """Stop showing LOGIN your path."""
    path_access.stop_showing(ws, login)
    echo(f"{login} no longer reads your path")


@mentor.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_log
def mentor_list(ws: Workspace, as_json: bool) -> None:
    """Whom you show your path to, and which parts."""
    found = path_access.mentors_of(ws)
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    if not found:
        echo("your path is private: `upstack path mentor add LOGIN` shows a member your ladder and portfolio "
             "(--pipeline, --contacts: those too)")
    for shown in found:
        echo(_line(shown))


@path.command("shown")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_log
def shown(ws: Workspace, as_json: bool) -> None:
    """Whose paths you may read (people who named you their mentor), and which parts."""
    found = path_access.shown_to_me(ws)
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    if not found:
        echo("nobody shows you their path yet")
    for item in found:
        echo(_line(item))


COMMANDS = [path]
