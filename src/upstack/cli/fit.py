"""`upstack fit`: personal-fit notes, what energised and what drained you (services/fit.py). Kept on
this machine only."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date

import click

from upstack.cli.options import ask_until_valid, json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.services import fit as service
from upstack.timeutil import parse_day
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_KINDS = ", ".join(service.KINDS)


def _ask(ws: Workspace) -> dict[str, object]:
    """Each question asked again until its kinds are kinds of work (Enter skips it); the passphrase
    first, when the check-ins are locked."""
    from upstack.services import wellbeing_seal

    wellbeing_seal.verify(ws)
    echo(style(f"A fit note (Enter skips a question). Kinds of work: {_KINDS}. Kept on this machine only.",
               dim=True))

    def kinds(what: str) -> Callable[[str], list[str]]:
        return lambda text: list(service.parse_kinds([text], what))

    return {"energised": ask_until_valid("What energised you lately (kinds, comma-separated)", kinds("energised"))
            or [],
            "drained": ask_until_valid("What drained you", kinds("drained")) or [],
            "good_at": ask_until_valid("What went well, that you seem good at", kinds("good at")) or [],
            "text": click.prompt("A few words", default="", show_default=False)}


@click.group(invoke_without_command=True)
@json_option
@pass_log
@click.pass_context
def fit(ctx: click.Context, ws: Workspace, as_json: bool) -> None:
    """Personal fit: what energises and what drains you, by kind of work.

    The guide: early on, personal fit matters more than guessing the most impactful area. Note
    now and then what energised and what drained you (reading, coding, experiments, writing,
    talking); this summary shows the pattern over months. Kept on this machine only.

    \b
    Examples:
      upstack fit note --energised experiments,coding --drained reading --text "the probe sweep was fun"
      upstack fit                       # the summary
      upstack fit list
    """
    if ctx.invoked_subcommand is not None:
        return
    found = service.summary(ws)
    count = len(service.notes(ws))
    if as_json:
        print_json({"notes": count, "kinds": [k.to_dict() for k in found]})
        return
    if not count:
        echo("no fit notes yet: `upstack fit note` asks what energised and what drained you")
        return
    echo(style(f"from {count} fit note{'s' if count != 1 else ''}; last three months in brackets", dim=True))
    echo(style(f"{'':<13}{'energised':>12}{'drained':>12}{'good at':>12}", dim=True))
    for kind in found:
        cells = [f"{getattr(kind, a)} ({kind.recent.get(a, 0)})" for a in ("energised", "drained", "good_at")]
        echo(f"{kind.kind:<13}" + "".join(f"{c:>12}" for c in cells))


@fit.command("note")
@click.option("--energised", multiple=True, metavar="KINDS", help=f"Kinds of work that energised you ({_KINDS}).")
@click.option("--drained", multiple=True, metavar="KINDS", help="Kinds of work that drained you.")
@click.option("--good-at", "good_at", multiple=True, metavar="KINDS", help="Kinds of work you seemed good at.")
@click.option("--text", default="", help="A few words.")
@click.option("--at", "day", metavar="DAY", help="A day gone by ('yesterday', 2026-12-01).")
@json_option
@pass_log
def fit_note(ws: Workspace, energised: tuple[str, ...], drained: tuple[str, ...], good_at: tuple[str, ...],
             text: str, day: str | None, as_json: bool) -> None:
    """Write a fit note (with no options at a terminal, it asks)."""
    given: dict[str, object] = {"energised": list(energised), "drained": list(drained), "good_at": list(good_at),
                                "text": text}
    when = date.fromisoformat(parse_day(day, what="fit note day", prefer="past")) if day else None
    if not any(given.values()):
        if not sys.stdin.isatty():
            raise click.UsageError("say what energised or drained you (--energised coding --drained reading), "
                                   "or run it at a terminal to be asked")
        given = _ask(ws)
    found = service.note(ws, day=when, **given)  # type: ignore[arg-type]
    if as_json:
        print_json(found.to_dict())
        return
    echo(f"kept a fit note for {found.day} " + style("(kept on this machine only)", dim=True))


@fit.command("list")
@json_option
@pass_log
def fit_list(ws: Workspace, as_json: bool) -> None:
    """Your fit notes, newest first."""
    found = list(reversed(service.notes(ws)))
    if as_json:
        print_json([n.to_dict() for n in found])
        return
    if not found:
        echo("no fit notes yet")
        return
    for item in found:
        parts = [f"+{', '.join(item.energised)}" if item.energised else "",
                 f"-{', '.join(item.drained)}" if item.drained else "",
                 f"good at {', '.join(item.good_at)}" if item.good_at else ""]
        text = style(f"  {item.text}", dim=True) if item.text else ""
        echo(f"{style(item.day, fg='yellow')}  " + "; ".join(p for p in parts if p) + text)


COMMANDS = [fit]
