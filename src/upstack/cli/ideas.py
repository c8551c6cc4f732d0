"""`upstack idea`, `triage`, `ideas`, `derisk`, `promote`, `park`, `prune`, `done`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from upstack.cli.options import at_option, complete_entries, complete_nodes, json_option, parse_at, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.idea import IDEA_STATES, ORDERS, Idea
from upstack.domain.tree import Node, status_label
from upstack.errors import NotFound
from upstack.services import ideas as idea_service
from upstack.services import tree as tree_service
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_STATE_COLOURS = {"candidate": "white", "de-risking": "yellow", "active": "green",
                  "parked": "bright_black", "pruned": "red", "done": "blue"}


def _triage_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--hypothesis", "-H", help="What you believe, stated so it can be wrong."),
        click.option("--test", "cheapest_test", metavar="TEXT",
                     help="The cheapest, fastest thing that could kill the idea."),
        click.option("--kill", "kill_criteria", metavar="TEXT",
                     help="What result would make you drop it."),
        click.option("--cost", "cost_hours", metavar="HOURS", help="Estimated cost in hours."),
        click.option("--compute", metavar="TEXT", help="Compute it needs, e.g. '1 A100-day'."),
        click.option("--value", metavar="TEXT", help="Why it would matter, in your own words."),
        click.option("--score", "value_score", metavar="N", help="Expected value, 1 to 5."),
    ]):
        func = option(func)
    return func


def _idea_line(idea: Idea) -> str:
    facts = []
    if idea.value_score is not None:
        facts.append(f"value {idea.value_score}")
    if idea.cost_hours is not None:
        facts.append(f"{idea.cost_hours:g} h")
    return (f"{style(idea.short, fg='yellow')}  "
            f"{style(f'[{idea.state}]', fg=_STATE_COLOURS.get(idea.state))}  {idea.title}"
            + (style("  " + ", ".join(facts), dim=True) if facts else ""))


@click.command()
@click.argument("text", nargs=-1, required=True)
@_triage_options
@at_option
@json_option
@pass_log
def idea(ws: Workspace, text: tuple[str, ...], at: str | None, as_json: bool, **triage: Any) -> None:
    """Capture an idea; says so if it is close to one you pruned or parked.

    Prints the new idea's id.

    \b
    Example:
      upstack idea "Probe for deception in the residual stream." \\
        --test "Linear probe on 200 labelled prompts" --cost 4 --score 4
    """
    entry = idea_service.capture_idea(ws, " ".join(text), occurred_at=parse_at(at), **triage)
    close = idea_service.close_ideas(ws, entry.title + "\n" + entry.body, exclude=entry.id)
    if as_json:
        print_json({**idea_service.get_idea(ws, entry.id).to_dict(),
                    "close_to": [c.to_dict() for c in close]})
        return
    echo(entry.short)
    for found in close:
        verdict = f"{found.idea.state}: {found.idea.reason}" if found.idea.reason \
            else found.idea.state
        echo(style(f"close to {found.idea.state} idea {found.idea.short}: {found.idea.title} "
                   f"({verdict})", fg="yellow"), err=True)


@click.command()
@click.argument("idea_id", metavar="ID", shell_complete=complete_entries)
@_triage_options
@json_option
@pass_log
def triage(ws: Workspace, idea_id: str, as_json: bool, **fields: Any) -> None:
    """Add or change an idea's hypothesis, cheapest test, kill criteria, cost and value."""
    found = idea_service.triage(ws, idea_id, **fields)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_idea_line(found))
        echo(style(f"  waiting on: {found.waiting_on}", dim=True))


@click.command(name="ideas")
@click.option("--state", "-s", "states", multiple=True, type=click.Choice(IDEA_STATES),
              help="Only ideas in this state (repeatable; default: all but pruned and done).")
@click.option("--order", "-o", type=click.Choice(ORDERS), default="value-per-cost",
              show_default=True, help="How to rank them.")
@json_option
@pass_log
def ideas_command(ws: Workspace, states: tuple[str, ...], order: str, as_json: bool) -> None:
    """Ideas ranked by value per cost, each with what it is waiting on."""
    found = idea_service.list_ideas(ws, states=states, order=order)
    if as_json:
        print_json([i.to_dict() for i in found])
        return
    if not found and states:
        echo(f"No ideas are {' or '.join(states)}.")
    elif not found:
        echo('No ideas here yet. Capture one with: upstack idea "..."')
    for item in found:
        echo(_idea_line(item))
        echo(style(f"         waiting on: {item.waiting_on}", dim=True))


def _show_change(found: Idea, as_json: bool) -> None:
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_idea_line(found))


@click.command()
@click.argument("idea_id", metavar="ID", shell_complete=complete_entries)
@click.option("--reason", "-r", default="", help="Why, kept in the idea's history.")
@json_option
@pass_log
def derisk(ws: Workspace, idea_id: str, reason: str, as_json: bool) -> None:
    """Start de-risking an idea: run its cheapest disqualifying test."""
    _show_change(idea_service.set_state(ws, idea_id, "de-risking", reason), as_json)


@click.command()
@click.argument("idea_id", metavar="ID", shell_complete=complete_entries)
@click.option("--as", "kind", type=click.Choice(["project", "question"]), default="project",
              show_default=True, help="What the idea becomes in the tree.")
@click.option("--under", "-u", metavar="NODE", shell_complete=complete_nodes,
              help="The node the new project or question serves.")
@click.option("--link", metavar="NODE", shell_complete=complete_nodes,
              help="Link an existing node instead of creating one.")
@click.option("--reason", "-r", default="", help="Why, kept in the idea's history.")
@click.option("--override", metavar="WHY", default="",
              help="Break a commitment rule (active-project limit, minimum commitment), saying why.")
@json_option
@pass_log
def promote(ws: Workspace, idea_id: str, kind: str, under: str | None, link: str | None,
            reason: str, override: str, as_json: bool) -> None:
    """Commit to an idea: it becomes active, with a project (or question) node in the tree."""
    found, node = idea_service.promote(ws, idea_id, kind=kind, under=under, link=link,
                                       reason=reason, override=override)
    if as_json:
        print_json({**found.to_dict(), "node": node.to_dict()})
    else:
        echo(_idea_line(found))
        echo(f"  {node.kind} {node.short}: {node.title}")


@click.command()
@click.argument("idea_id", metavar="ID", shell_complete=complete_entries)
@click.option("--reason", "-r", default="", help="Why, kept in the idea's history.")
@json_option
@pass_log
def park(ws: Workspace, idea_id: str, reason: str, as_json: bool) -> None:
    """Set an idea aside for now, to revisit later."""
    _show_change(idea_service.set_state(ws, idea_id, "parked", reason), as_json)


@click.command()
@click.argument("idea_id", metavar="ID", shell_complete=complete_entries)
@click.option("--reason", "-r", default="", help="Why it is pruned (required).")
@click.option("--evidence", "-e", multiple=True, metavar="ENTRY", shell_complete=complete_entries,
              help="An entry that shows it (repeatable).")
@click.option("--override", metavar="WHY", default="",
              help="Break a commitment rule (active-project limit, minimum commitment), saying why.")
@json_option
@pass_log
def prune(ws: Workspace, idea_id: str, reason: str, evidence: tuple[str, ...], override: str,
          as_json: bool) -> None:
    """Drop an idea, with the reason; search keeps finding it, with the reason.

    What it was promoted to (`upstack promote`) is dropped with it, unless that is done: a
    project or question still active within its commitment needs --override too.
    """
    _show_with_node(ws, idea_service.set_state(ws, idea_id, "pruned", reason, list(evidence), override=override),
                    as_json)


def _show_with_node(ws: Workspace, found: Idea, as_json: bool) -> None:
    """The idea's new state, and the node it was promoted to (which pruning or finishing closes)."""
    node = _node_or_none(ws, found.node_id)
    if as_json:
        print_json({**found.to_dict(), **({"node": node.to_dict()} if node else {})})
        return
    echo(_idea_line(found))
    if node:
        echo(f"  {node.kind} {node.short} [{status_label(node)}]: {node.title}")


def _node_or_none(ws: Workspace, node_id: str | None) -> Node | None:
    try:
        return tree_service.get_node(ws, node_id) if node_id else None
    except NotFound:
        return None  # deleted since, or not the reader's to see


@click.command()
@click.argument("idea_id", metavar="ID", shell_complete=complete_entries)
@click.option("--reason", "-r", default="", help="What came of it.")
@json_option
@pass_log
def done(ws: Workspace, idea_id: str, reason: str, as_json: bool) -> None:
    """Mark an idea done; what it was promoted to (`upstack promote`) is done with it."""
    _show_with_node(ws, idea_service.set_state(ws, idea_id, "done", reason), as_json)


COMMANDS = [idea, triage, ideas_command, derisk, promote, park, prune, done]
