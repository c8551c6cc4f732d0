"""Options shared by several commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from upstack.domain.filters import Filters
from upstack.domain.text import KINDS
from upstack.timeutil import parse_when
from upstack.workspace import Workspace

__all__ = ["filter_options", "build_filters", "json_option", "pass_log"]

F = Callable[..., Any]


def filter_options(func: F) -> F:
    for option in reversed([
        click.option("--project", "-p", metavar="NAME", help="Only this project."),
        click.option("--tag", "-t", "tags", multiple=True, metavar="TAG",
                     help="Only entries with this tag (repeat for all of several)."),
        click.option("--kind", "-k", "kinds", multiple=True, type=click.Choice(KINDS),
                     help="Only entries of this kind (repeatable)."),
        click.option("--since", metavar="WHEN", help="From this date (e.g. 'last monday')."),
        click.option("--until", metavar="WHEN", help="Up to this date (e.g. yesterday)."),
        click.option("--starred", is_flag=True, help="Only entries you starred (`upstack star`)."),
    ]):
        func = option(func)
    return func


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def build_filters(project: str | None, tags: tuple[str, ...], kinds: tuple[str, ...],
                  since: str | None, until: str | None, **extra: Any) -> Filters:
    return Filters(
        project=project, tags=tuple(tags), kinds=tuple(kinds),
        since=parse_when(since, what="--since date") if since else None,
        until=parse_when(_whole_day(until), what="--until date") if until else None,
        **extra,
    )


def _whole_day(text: str) -> str:
    """--until 2024-03-01 includes that whole day."""
    stripped = text.strip()
    if len(stripped) == 10 and stripped[4] == "-" and stripped[7] == "-":
        return stripped + "T23:59:59.999999"
    return text


def pass_log(func: F) -> F:
    """Like ``click.pass_obj``, for a command that reads the log: its workspace comes caught up,
    with what other commands and runs wrote since taken in (``Workspace.ingest``, once per
    command). Capture commands (`upstack note`) take ``click.pass_obj`` and never open the store."""

    @functools.wraps(func)
    def caught_up(*args: Any, **kwargs: Any) -> Any:
        ws = click.get_current_context().find_object(Workspace)
        assert ws is not None, "the upstack group puts the Workspace on the context"
        ws.ingest()
        return func(ws, *args, **kwargs)

    return caught_up  # type: ignore[return-value]
