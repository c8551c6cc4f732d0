"""`upstack review`: the digest for collaborators."""

from __future__ import annotations

from pathlib import Path

import click

from upstack.cli.options import pass_log
from upstack.cli.output import echo
from upstack.errors import BadInput
from upstack.files import write_atomically
from upstack.services import review as review_service
from upstack.services.progress import NO_PROJECT
from upstack.services.tree import project_title
from upstack.timeutil import parse_since, parse_until
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.command()
@click.option("--week", "period", flag_value="week", default=True,
              help="The last seven days (the default).")
@click.option("--since", metavar="WHEN",
              help="From this day instead, e.g. 'last monday' (the whole day), or moment.")
@click.option("--until", metavar="WHEN", help="Up to this day (the whole day) or moment (default: now).")
@click.option("--project", "-p", metavar="NAME", help="Only this project (the start of its name will do).")
@click.option("--format", "-f", "fmt", type=click.Choice(["markdown", "html"]),
              default="markdown", show_default=True,
              help="html: one self-contained page with the figures embedded.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE instead of standard output.")
@pass_log
def review(ws: Workspace, period: str, since: str | None, until: str | None,
           project: str | None, fmt: str, out: Path | None) -> None:
    """A digest per project: done, learned, decided, open questions, pruned ideas, next steps.

    Ready to paste to collaborators. Private entries are never included.
    """
    if project:
        project = project_title(ws, project, also=(NO_PROJECT,))
    built = review_service.build_review(
        ws, since=parse_since(since, what="--since date") if since else None,
        until=parse_until(until, what="--until date") if until else None, project=project)
    if out is None:
        echo(review_service.to_html(ws, built) if fmt == "html" else review_service.to_markdown(built), nl=False)
        return
    try:
        if fmt == "html":
            write_atomically(out, review_service.to_html(ws, built))
            echo(f"review written to {out}")
        else:  # its figures in a folder beside it, linked by path: any Markdown tool shows them
            shown = review_service.write_markdown(ws, built, out)
            echo(f"review written to {out}" + (f", its figures in {out.stem} files/" if shown else ""))
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror}") from None


COMMANDS = [review]
