"""Options shared by several commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Collection
from typing import Any, TypeVar

import click

from upstack.cli.output import echo
from upstack.domain.filters import Filters
from upstack.domain.text import KINDS
from upstack.errors import BadInput
from upstack.timeutil import local_display, now_iso, parse_moment, parse_since, parse_until
from upstack.workspace import Workspace

__all__ = ["Number", "filter_options", "build_filters", "json_option", "pass_log", "ask_secret", "ask_until_valid",
           "at_option", "parse_at", "yes_option", "confirm_for_good", "complete_entries", "complete_nodes",
           "complete_entries_and_nodes"]

F = Callable[..., Any]
T = TypeVar("T")


def filter_options(func: F) -> F:
    for option in reversed([
        click.option("--project", "-p", metavar="NAME",
                     help="Only this project (or node); the start of its name will do."),
        click.option("--tag", "-t", "tags", multiple=True, metavar="TAG",
                     help="Only entries with this tag (repeat for all of several)."),
        click.option("--kind", "-k", "kinds", multiple=True, type=click.Choice(KINDS),
                     help="Only entries of this kind (repeatable)."),
        click.option("--since", metavar="WHEN",
                     help="From this day (e.g. 'last monday', '3 weeks ago': the whole day) or moment."),
        click.option("--until", metavar="WHEN",
                     help="Up to this day (e.g. yesterday: the whole day) or moment."),
        click.option("--starred", is_flag=True, help="Only entries you starred (`upstack star`)."),
    ]):
        func = option(func)
    return func


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def at_option(func: F) -> F:
    """``--at WHEN``, for every command that creates something: back-fill from paper notes."""
    return click.option("--at", "at", metavar="WHEN",
                        help="When it happened, e.g. 'yesterday 14:00' (a day alone: 09:00; the real time "
                             "is kept too).")(func)


def parse_at(at: str | None) -> str | None:
    """The stored form of ``--at``; a moment yet to come is refused: --at says when something
    happened (a node dated next week would count its commitment days from then)."""
    if not at:
        return None
    when = parse_moment(at, what="--at date")
    if when > now_iso():
        raise BadInput(f"--at date {at!r} is {local_display(when)}, which has not happened yet "
                       "(--at back-dates; leave it out for now)")
    return when


def build_filters(ws: Workspace, project: str | None, tags: tuple[str, ...], kinds: tuple[str, ...],
                  since: str | None, until: str | None, **extra: Any) -> Filters:
    """The filters a command's options ask for; ``--project`` may give the start of a project's
    name (a name that matches nothing is refused, saying which projects exist)."""
    from upstack.services.tree import project_filter  # the store: only for a command that reads

    return Filters(
        project=project_filter(ws, project) if project else None, tags=tuple(tags), kinds=tuple(kinds),
        since=parse_since(since, what="--since date") if since else None,
        until=parse_until(until, what="--until date") if until else None,
        **extra,
    )


def yes_option(func: F) -> F:
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(func)


def confirm_for_good(command: str, what: str, yes: bool) -> None:
    """Ask before something that cannot be undone (a purge); away from a terminal it needs --yes, so
    a script never destroys data by piping into a command that would have asked."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(f"{command} needs confirmation: run it in a terminal or pass --yes")
    click.confirm(f"{what} for good? This cannot be undone", abort=True)


def ask_secret(question: str) -> str:
    """A secret typed at the terminal, not echoed; the question goes to stderr (stdout may be JSON)."""
    return str(click.prompt(question, hide_input=True, err=True, default="", show_default=False))


def ask_until_valid(question: str, read: Callable[[str], T]) -> T | None:
    """One question at the terminal, asked again until ``read`` takes the answer (it raises BadInput
    with what is wrong); Enter skips it (None). A typo costs one line, never the answers before it."""
    while True:
        answer = str(click.prompt(question, default="", show_default=False)).strip()
        if not answer:
            return None
        try:
            return read(answer)
        except BadInput as wrong:
            echo(f"  {wrong}: try again, or Enter to skip", err=True)


class Number(click.ParamType):
    """A number option that refuses in plain words ("'6h' is not a number"), as the prompts do,
    not in Python's type names ("is not a valid float", "not in the range x>=1")."""

    def __init__(self, kind: type[int] | type[float], *, at_least: int | None = None) -> None:
        self.kind, self.at_least = kind, at_least
        self.name = "whole number" if kind is int else "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = self.kind(str(value).strip())
            except ValueError:
                self.fail(f"{str(value)[:80]!r} is not a {self.name}", param, ctx)
        if self.at_least is not None and number < self.at_least:
            self.fail(f"{number} is less than {self.at_least}", param, ctx)
        return number


def pass_log(func: F) -> F:
    """Like ``click.pass_obj``, for a command that reads the log: its workspace comes caught up,
    with what other commands and runs wrote since taken in (``Workspace.ingest``, once per
    command). Capture commands (`upstack note`) take ``click.pass_obj`` and never open the store."""
    return _passing(func, Workspace.ingest)


def pass_caught_up_on(ops: Collection[str]) -> Callable[[F], F]:
    """``pass_log`` for a command that reads records of ``ops`` only (`upstack checkin`): what waits
    in the journal is taken in only if it holds one of them (``Workspace.catch_up_on``), so a
    day of notes waiting does not slow it down."""
    return functools.partial(_passing, catch_up=lambda ws: ws.catch_up_on(ops))  # type: ignore[return-value]


def _passing(func: F, catch_up: Callable[[Workspace], object]) -> F:
    @functools.wraps(func)
    def caught_up(*args: Any, **kwargs: Any) -> Any:
        ws = click.get_current_context().find_object(Workspace)
        assert ws is not None, "the upstack group puts the Workspace on the context"
        if sys.stdin.isatty():  # sealed check-ins ask for their passphrase here (else UPSTACK_PASSPHRASE)
            ws.ask_passphrase = ask_secret
        catch_up(ws)
        return func(ws, *args, **kwargs)

    return caught_up  # type: ignore[return-value]


# Shell completion (README "Shell completion"): ids offered with their titles, matched by the
# start of an id or any part of a title. It reads the store as it is, and never fails the shell.

def complete_entries(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    return _complete(ctx, incomplete, ("entries",))


def complete_nodes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    return _complete(ctx, incomplete, ("nodes",))


def complete_entries_and_nodes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    return _complete(ctx, incomplete, ("entries", "nodes"))


def _complete(ctx: click.Context, incomplete: str, tables: tuple[str, ...]) -> list[Any]:
    from click.shell_completion import CompletionItem

    from upstack.services import recall  # the store: only when a shell asks

    root = ctx.find_root().params
    offers = [CompletionItem("last", help="the entry written last")] \
        if "entries" in tables and "last".startswith(incomplete.lower()) else []
    ws: Workspace | None = None
    try:
        ws = Workspace(home=root.get("home"), db=root.get("db"))
        if ws.db_url is None and not (ws.home / "upstack.db").exists():
            return offers  # no log here yet: nothing to offer, and nothing made by asking
        for table in tables:
            offers += [CompletionItem(short, help=title) for short, title in recall.complete(ws, incomplete, table)]
    except Exception:  # noqa: BLE001 - a shell asking for completions gets none rather than a traceback
        return offers
    finally:
        if ws is not None:
            ws.close()
    return offers
