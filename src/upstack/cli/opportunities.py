"""`upstack opp`: opportunities found (jobs, fellowships, grants, programmes, collaborations), their
deadlines, possible duplicates and kept postings; imports and the calendar are in cli/opp_import.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from upstack.cli import opp_import
from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.domain.pipeline import KINDS
from upstack.errors import BadInput
from upstack.services import opportunities as opps
from upstack.workspace import Workspace

__all__ = ["COMMANDS", "opp_line"]


def _when(deadline: str) -> str:
    if not deadline:
        return style("no deadline", dim=True)
    from upstack.timeutil import today_local

    if deadline < today_local().isoformat():
        return style(deadline.ljust(11), fg="red")
    return deadline.ljust(11)


def opp_line(opp: opps.Opportunity, width: int = 0) -> str:
    """One line of the list: deadline, kind, slug, title, where, and what needs a decision."""
    where = ", ".join(x for x in (opp.location, "remote" if opp.remote else "") if x)
    facts = [f"possible duplicate of {opp.duplicate_of}"] if opp.duplicate_of else []
    if opp.merged_into:
        facts.append(f"merged into {opp.merged_into}")
    elif opp.archived:
        facts.append("archived")
    return (f"{_when(opp.deadline)}  {opp.kind:<13} {style(opp.slug.ljust(width), fg='yellow')}  {opp.title}"
            + (style(f"  ({where})", dim=True) if where else "")
            + (style("  " + "; ".join(facts), fg="magenta") if facts else ""))


def _field_options(func: Any) -> Any:
    for option in reversed([
        click.option("--kind", "-k", metavar="KIND", help="job, fellowship, grant, programme or collaboration."),
        click.option("--org", "organisation", metavar="NAME", help="Who offers it."),
        click.option("--role", metavar="TEXT", help="The role, or the programme's or grant's name."),
        click.option("--link", metavar="URL", help="Where the posting is (the same link is the same opportunity)."),
        click.option("--source", metavar="TEXT", help="The board or list it came from, e.g. '80,000 Hours'."),
        click.option("--location", metavar="TEXT", help="Where it is based."),
        click.option("--remote/--not-remote", default=None, help="Whether it can be done remotely."),
        click.option("--deadline", "-d", metavar="DAY", help="The deadline: 2027-01-15, 'Jan 15', 'in 3 weeks'."),
        click.option("--area", "areas", multiple=True, metavar="AREA",
                     help="A research area, e.g. interpretability (repeatable)."),
        click.option("--notes", metavar="TEXT", help="Anything worth keeping with it."),
        click.option("--found", metavar="TEXT", help="Where or how you found it (a forum post, a friend)."),
    ]):
        func = option(func)
    return func


def _fields(areas: tuple[str, ...], fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "areas": list(areas) if areas else None}


def _done(opp: opps.Opportunity, said: str, as_json: bool) -> None:
    if as_json:
        print_json(opp.to_dict())
    else:
        echo(f"{said} {opp.slug}: {opp.title}")


@click.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Archived and merged ones too.")
@click.option("--kind", "-k", type=click.Choice(KINDS, case_sensitive=False), help="Only this kind.")
@json_option
@click.pass_context
def opp(ctx: click.Context, show_all: bool, kind: str | None, as_json: bool) -> None:
    """Opportunities: jobs, fellowships, grants, programmes and collaborations you found.

    Alone, `upstack opp` lists them, soonest deadline first. Apply to a variety of things,
    including some that seem out of reach, while you keep working; `upstack apply` tracks
    the applications, and `upstack due` what is due.

    \b
    Examples:
      upstack opp add --org "Redwood Research" --role "Research engineer" --deadline "Jan 15"
      upstack opp import jobs.csv --map org=Company --map role=Title
      upstack opp import https://www.alignmentforum.org/feed.xml --accept 1,3
      upstack opp calendar --out deadlines.ics
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command, show_all=show_all, kind=kind, as_json=as_json)


@opp.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Archived and merged ones too.")
@click.option("--kind", "-k", type=click.Choice(KINDS, case_sensitive=False), help="Only this kind.")
@json_option
@pass_log
def list_command(ws: Workspace, show_all: bool, kind: str | None, as_json: bool) -> None:
    """List opportunities, soonest deadline first (those without one last), with possible duplicates."""
    found = [o for o in opps.opportunities(ws, archived=show_all) if kind is None or o.kind == kind.lower()]
    if as_json:
        print_json([o.to_dict() for o in found])
        return
    if not found:
        echo("No opportunities yet: `upstack opp add --org NAME --role TEXT` or `upstack opp import FILE`.")
        return
    width = max(len(o.slug) for o in found)
    for item in found:
        echo(opp_line(item, width))
    doubtful = [o for o in found if o.duplicate_of and not o.archived]
    if doubtful:
        first = doubtful[0]
        echo(style(f"{plural(len(doubtful), 'possible duplicate')}: `upstack opp merge {first.slug} --into "
                   f"{first.duplicate_of}` if it is the same, `upstack opp distinct {first.slug}` if not",
                   dim=True))


@opp.command(name="add")
@_field_options
@json_option
@pass_log
def add_command(ws: Workspace, areas: tuple[str, ...], as_json: bool, **fields: Any) -> None:
    """Add an opportunity (the same link again fills in what was missing).

    \b
    Example:
      upstack opp add --kind fellowship --org MATS --role "Winter cohort" --deadline 2027-01-15 \\
        --link https://www.matsprogram.org/apply --area interpretability --found "80,000 Hours board"
    """
    done = opps.add(ws, **_fields(areas, fields))
    said = {"added": "added", "duplicate": "added", "merged": "filled in", "unchanged": "already kept:"}
    if as_json:
        print_json({**done.opportunity.to_dict(), "outcome": done.outcome})
        return
    _done(done.opportunity, said[done.outcome], False)
    if done.outcome == "duplicate":
        other = done.opportunity.duplicate_of
        echo(style(f"possible duplicate of {other} (the same organisation and role): `upstack opp merge "
                   f"{done.opportunity.slug} --into {other}`, or `upstack opp distinct {done.opportunity.slug}`",
                   fg="magenta"))


@opp.command(name="show")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def show_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """Show an opportunity, its application if any, and its posting's text if kept."""
    from upstack.services import applications

    found = opps.find(ws, ref)
    kept = opps.posting(ws, found.slug)
    application = next((a for a in applications.applications(ws, archived=True) if a.slug == found.slug), None)
    if as_json:
        print_json({**found.to_dict(), "posting": kept,
                    "application": application.to_dict() if application else None})
        return
    echo(style(found.title, bold=True) + style(f"  [{found.slug}]", fg="yellow"))
    for label, value in (("kind", found.kind), ("deadline", found.deadline), ("link", found.link),
                         ("location", found.location), ("remote", "yes" if found.remote else ""),
                         ("areas", ", ".join(found.areas)), ("source", found.source), ("found", found.found),
                         ("added", found.added_at[:10]), ("notes", found.notes)):
        if value:
            echo(f"  {label + ':':<10}{value}")
    if found.duplicate_of:
        echo(style(f"  possible duplicate of {found.duplicate_of}", fg="magenta"))
    if found.archived:
        echo(style(f"  merged into {found.merged_into}" if found.merged_into else "  archived", dim=True))
    if application is not None:
        echo(f"  application: {application.stage}" + (" (archived)" if application.archived else "")
             + style(f"  upstack apply show {found.slug}", dim=True))
    if kept:
        echo()
        echo(kept["text"] or style("(the posting was kept as HTML only: `upstack opp show --json`)", dim=True))
        if kept["url"]:
            echo(style(f"(read at {kept['url']})", dim=True))


@opp.command(name="edit")
@click.argument("ref", metavar="SLUG")
@_field_options
@json_option
@pass_log
def edit_command(ws: Workspace, ref: str, areas: tuple[str, ...], as_json: bool, **fields: Any) -> None:
    """Change an opportunity's fields (--area replaces its areas; --deadline "" clears it)."""
    _done(opps.edit(ws, ref, **_fields(areas, fields)), "changed", as_json)


@opp.command(name="archive")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def archive_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """Archive an opportunity: out of the list and of `upstack due`, kept (`upstack opp restore`)."""
    _done(opps.archive(ws, ref), "archived", as_json)


@opp.command(name="restore")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def restore_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """Bring back an archived (or merged) opportunity."""
    _done(opps.restore(ws, ref), "restored", as_json)


@opp.command(name="merge")
@click.argument("ref", metavar="SLUG")
@click.option("--into", required=True, metavar="OTHER", help="The opportunity it is the same as.")
@json_option
@pass_log
def merge_command(ws: Workspace, ref: str, into: str, as_json: bool) -> None:
    """SLUG is the same opportunity as OTHER: what OTHER lacks is filled from it, and SLUG is archived."""
    _done(opps.merge(ws, ref, into), "merged into", as_json)


@opp.command(name="distinct")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def distinct_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """SLUG is not a duplicate (a role advertised again next year is a new one)."""
    _done(opps.distinct(ws, ref), "distinct:", as_json)


@opp.command(name="match")
@click.argument("ref", metavar="SLUG")
@click.option("--limit", default=10, show_default=True, metavar="N", help="How many of each list.")
@json_option
@pass_log
def match_command(ws: Workspace, ref: str, limit: int, as_json: bool) -> None:
    """Your own work and open problems, ranked by an opportunity's posting, areas and role.

    What to lead with in an application or a cover letter, and small open problems that fit it.
    Never a private entry, a wellbeing note or someone else's work.
    """
    from upstack.cli.contacts import show_matches
    from upstack.services import matching

    found = matching.for_opportunity(ws, ref, limit)
    if as_json:
        print_json(found.to_dict())
    else:
        show_matches(found)


def _posting_text(source: str) -> str:
    """A posting's text from a file or standard input (``-``): UTF-8, read no further than upstack keeps
    (a device or a pipe that never ends is cut there, and refused as too long)."""
    import sys

    from upstack.files import read_at_most

    limit = opps.MAX_POSTING * 4  # bytes: a UTF-8 character takes at most four
    if source != "-" and not Path(source).is_file():  # a folder, a pipe, a device: not a posting's text
        raise BadInput(f"{source} is not a file: give a text file, or - for standard input")
    try:
        data = sys.stdin.buffer.read(limit + 1) if source == "-" else read_at_most(Path(source), limit)
    except OSError as exc:
        raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise BadInput(f"{source} is longer than a posting upstack keeps ({opps.MAX_POSTING:,} characters)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = "standard input" if source == "-" else source
        raise BadInput(f"{where} is not UTF-8 text (byte {exc.start})") from None


@opp.command(name="posting")
@click.argument("ref", metavar="SLUG")
@click.option("--file", "source", metavar="FILE",
              help="Keep this text as the posting (- reads standard input): postings vanish.")
@click.option("--url", default="", metavar="URL", help="Where the posting was read.")
@json_option
@pass_log
def posting_command(ws: Workspace, ref: str, source: str | None, url: str, as_json: bool) -> None:
    """Print the kept text of an opportunity's posting, or keep one (--file).

    \b
    Examples:
      upstack opp posting redwood-research-engineer
      pbpaste | upstack opp posting redwood-research-engineer --file -
    """
    if source is not None:
        opps.keep_posting(ws, ref, text=_posting_text(source), url=url)
    kept = opps.posting(ws, ref)
    if as_json:
        print_json(kept)
    elif kept is None:
        echo(f"no posting kept for {opps.find(ws, ref).slug}: keep one with `upstack opp posting SLUG --file FILE`")
    elif source is not None:
        echo(f"kept the posting of {opps.find(ws, ref).slug} ({plural(len(kept['text']), 'character')})")
    else:
        echo(kept["text"] or "(kept as HTML only: `upstack opp posting --json`)")


opp.add_command(opp_import.import_command)
opp.add_command(opp_import.calendar_command)

COMMANDS = [opp]
