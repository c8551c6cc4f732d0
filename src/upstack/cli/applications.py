"""`upstack apply`: applications to opportunities, their stages (the board), timelines, follow-ups,
what was sent, who was involved, and the funnel."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.domain import pipeline
from upstack.ids import short_id
from upstack.services import applications as apps
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _days_in_stage(app: apps.Application, today: date) -> int:
    return (today - date.fromisoformat(app.since[:10])).days


def _app_line(app: apps.Application, today: date) -> str:
    days = _days_in_stage(app, today)
    facts = [f"{plural(days, 'day')} at {app.stage}"]
    if app.stretch:
        facts.append(app.stretch)
    if app.on and not app.ended:
        facts.append(f"on {app.on}")
    if app.follow_up:
        late = app.follow_up < today.isoformat()
        facts.append(style(f"follow up {app.follow_up}" + (" (overdue)" if late else ""), fg="red" if late else None))
    if app.archived:
        facts.append("archived")
    return (f"  {style(app.slug, fg='yellow')}  {app.title}  " + style("(", dim=True) + ", ".join(facts)
            + style(")", dim=True))


def _text_options(func: Any) -> Any:
    for option in reversed([
        click.option("--stretch", metavar="LEVEL", help="reach, fit or safe: how far the application stretches."),
        click.option("--compensation", metavar="TEXT", help="Pay, stipend or grant size, as stated."),
        click.option("--location", metavar="TEXT", help="Where the work would be."),
        click.option("--visa", metavar="TEXT", help="Visa needs or sponsorship."),
        click.option("--notes", metavar="TEXT", help="Anything worth keeping with it."),
    ]):
        func = option(func)
    return func


def _done(app: apps.Application, said: str, as_json: bool) -> None:
    if as_json:
        print_json(app.to_dict())
    else:
        echo(f"{said} {app.slug}: {app.title} (at {app.stage})")


@click.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Archived applications too.")
@json_option
@click.pass_context
def apply(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Applications: the board by stage, each move dated, follow-ups, the funnel.

    Apply to a variety of things, some that seem out of reach too: mark each --stretch reach,
    fit or safe. Applications skew heavily towards false negatives: a rejection says where
    things stand today, not who you are. Alone, `upstack apply` shows the board.

    \b
    Examples:
      upstack apply add redwood-research-engineer --stage applied --stretch reach
      upstack apply move redwood screen --on "next tuesday"
      upstack apply follow-up redwood "in 2 weeks"
      upstack apply funnel --by stretch
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command, show_all=show_all, as_json=as_json)


@apply.command(name="list")
@click.option("--all", "show_all", is_flag=True, help="Archived applications too.")
@json_option
@pass_log
def list_command(ws: Workspace, show_all: bool, as_json: bool) -> None:
    """The board: applications grouped by stage in stage order, with days in stage and follow-ups."""
    from upstack.timeutil import today_local

    found = apps.applications(ws, archived=show_all)
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    if not found:
        echo("No applications yet: `upstack apply add OPPORTUNITY` (see `upstack opp` for the slugs).")
        return
    today = today_local()
    order = [*apps.stage_order(ws), *pipeline.ENDS]
    stages = [*order, *sorted({a.stage for a in found} - set(order))]  # a stage a setting no longer names
    for stage in stages:
        here = [a for a in found if a.stage == stage]
        if not here:
            continue
        echo(style(f"{stage} ({len(here)})", bold=True))
        for app in sorted(here, key=lambda a: -_days_in_stage(a, today)):
            echo(_app_line(app, today))


@apply.command(name="add")
@click.argument("ref", metavar="OPPORTUNITY")
@click.option("--stage", metavar="STAGE", help="Where it is already, e.g. applied (default: wishlist).")
@click.option("--when", metavar="DAY", help="The day it got there (default: today), e.g. 'last friday'.")
@_text_options
@json_option
@pass_log
def add_command(ws: Workspace, ref: str, stage: str | None, when: str | None, as_json: bool, **fields: Any) -> None:
    """Start an application to an opportunity (its slug, or the start of it)."""
    _done(apps.add(ws, ref, stage=stage, when=when, **fields), "started", as_json)


@apply.command(name="show")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def show_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """Show an application and its timeline: every move, dated."""
    found = apps.find(ws, ref)
    if as_json:
        print_json(found.to_dict())
        return
    echo(style(found.title, bold=True) + style(f"  [{found.slug}]", fg="yellow") + f"  at {found.stage}"
         + (" (archived)" if found.archived else ""))
    for label, value in (("stretch", found.stretch), ("follow up", found.follow_up),
                         ("pay", found.compensation), ("location", found.location), ("visa", found.visa),
                         ("notes", found.notes)):
        if value:
            echo(f"  {label + ':':<11}{value}")
    for link in found.contacts:
        echo(f"  {'contact:':<11}{link['contact']}" + (f" ({link['role']})" if link["role"] else ""))
    for entry_id in found.sent:
        echo(f"  {'sent:':<11}entry {short_id(entry_id)}" + style(f"  upstack show {short_id(entry_id)}", dim=True))
    echo("Timeline:")
    for n, step in enumerate(found.timeline):
        after = found.timeline[n + 1:n + 2]
        if step.get("stage") == pipeline.FIRST and after and str(after[0].get("when")) < str(step.get("when")):
            continue  # added straight at a later stage, filled in after: it never waited on the wishlist
        facts = [f"on {step['on']}" if step.get("on") else "", "moved back" if step.get("forced") else "",
                 f"learned: entry {short_id(str(step['learned']))}" if step.get("learned") else "",
                 step.get("note") or ""]
        shown = "; ".join(f for f in facts if f)
        echo(f"  {step.get('when', '')}  {step.get('stage')}" + (style(f"  {shown}", dim=True) if shown else ""))


@apply.command(name="move")
@click.argument("ref", metavar="SLUG")
@click.argument("stage")
@click.option("--when", metavar="DAY", help="The day it happened (default: today).")
@click.option("--on", metavar="DAY", help="The day the stage waits on: an interview's, a work test's due date.")
@click.option("--note", default="", metavar="TEXT", help="A word about the move.")
@click.option("--force", is_flag=True, help="Allow a move back (to an earlier stage, or out of an end).")
@click.option("--learned", metavar="TEXT", help="A rejection: what, if anything, it taught you (a private learning).")
@json_option
@pass_log
def move_command(ws: Workspace, ref: str, stage: str, when: str | None, on: str | None, note: str, force: bool,
                 learned: str | None, as_json: bool) -> None:
    """Move an application to STAGE: wishlist, applied, screen, work-test, interview, offer,
    rejected, withdrawn or no-answer (the setting application_stages names the middle ones).

    Moving to rejected at a terminal asks what, if anything, was learned (an empty answer is
    fine); the answer is kept as a private learning entry.
    """
    rejected = pipeline.check_stage(stage, apps.stage_order(ws)) == "rejected"
    framed = False
    if rejected and learned is None and not as_json and sys.stdin.isatty():
        apps.find(ws, ref, archived=False)  # an unknown slug is refused before anything is asked
        echo(apps.REJECTION_FRAME)
        framed = True
        learned = click.prompt("What, if anything, did applying teach you? (Enter: nothing to note)",
                               default="", show_default=False)
    moved = apps.move(ws, ref, stage, when=when, note=note, on=on, force=force, learned=learned)
    if as_json:
        print_json(moved.to_dict())
        return
    _done(moved, "moved", False)
    if rejected:
        step = moved.timeline[-1]
        if step.get("learned"):
            echo(f"kept what it taught you as a private learning: upstack show {short_id(str(step['learned']))}")
        if not framed:
            echo(style(apps.REJECTION_FRAME, dim=True))


@apply.command(name="follow-up")
@click.argument("ref", metavar="SLUG")
@click.argument("day", required=False)
@click.option("--done", is_flag=True, help="The follow-up is done: clear it.")
@json_option
@pass_log
def follow_up_command(ws: Workspace, ref: str, day: str | None, done: bool, as_json: bool) -> None:
    """Set the day to follow an application up (`upstack due` lists it), or --done."""
    if done == bool(day):
        raise click.UsageError("give the DAY to follow up on, or --done")
    found = apps.follow_up(ws, ref, None if done else day)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(f"follow up {found.slug} on {found.follow_up}" if found.follow_up else f"{found.slug}: followed up")


@apply.command(name="edit")
@click.argument("ref", metavar="SLUG")
@_text_options
@json_option
@pass_log
def edit_command(ws: Workspace, ref: str, as_json: bool, **fields: Any) -> None:
    """Change an application's stretch, compensation, location, visa or notes."""
    _done(apps.edit(ws, ref, **fields), "changed", as_json)


@apply.command(name="attach")
@click.argument("ref", metavar="SLUG")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--what", default="", metavar="TEXT", help='What it is, e.g. "CV v3".')
@json_option
@pass_log
def attach_command(ws: Workspace, ref: str, files: tuple[Path, ...], what: str, as_json: bool) -> None:
    """Keep what was sent (a CV, a cover letter, a work sample) with an application, privately."""
    found = apps.attach_sent(ws, ref, list(files), what=what)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(f"kept {plural(len(files), 'file')} sent with {found.slug} as entry {short_id(found.sent[-1])} (private)")


@apply.command(name="contact")
@click.argument("ref", metavar="SLUG")
@click.argument("contact")
@click.option("--role", default="", metavar="TEXT", help="Their part in it: referrer, interviewer ...")
@json_option
@pass_log
def contact_command(ws: Workspace, ref: str, contact: str, role: str, as_json: bool) -> None:
    """Name a contact (`upstack contact`) in an application: a referrer, an interviewer."""
    found = apps.link_contact(ws, ref, contact, role)
    if as_json:
        print_json(found.to_dict())
    else:
        last = found.contacts[-1]
        echo(f"{found.slug}: {last['contact']}" + (f" ({last['role']})" if last["role"] else ""))


@apply.command(name="archive")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def archive_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """Archive an application: off the board, still in the funnel (`upstack apply restore`)."""
    _done(apps.archive(ws, ref), "archived", as_json)


@apply.command(name="restore")
@click.argument("ref", metavar="SLUG")
@json_option
@pass_log
def restore_command(ws: Workspace, ref: str, as_json: bool) -> None:
    """Bring back an archived application."""
    _done(apps.restore(ws, ref), "restored", as_json)


@apply.command(name="funnel")
@click.option("--by", type=click.Choice(["kind", "source", "stretch"]), help="Split by the opportunity's "
              "kind or source, or the application's stretch.")
@json_option
@pass_log
def funnel_command(ws: Workspace, by: str | None, as_json: bool) -> None:
    """The funnel: response, interview and offer rates with their counts, median days per stage.

    Counted over every application sent (past the wishlist), archived ones too. A rejection
    counts here and nowhere else.
    """
    groups = apps.funnel(ws, by=by)
    open_ones = [a.stretch for a in apps.applications(ws) if not a.ended]
    notice = pipeline.variety_notice(open_ones)
    if as_json:
        print_json({"by": by, "groups": {k: f.to_dict() for k, f in groups.items()}, "variety": notice or None})
        return
    if not groups:
        echo("No applications yet: `upstack apply add OPPORTUNITY --stage applied`.")
    for key, found in groups.items():
        if by:
            echo(style(f"{by} {key}", bold=True))
        echo(f"  applied: {found.applied}")
        for label, rate in (("response", found.response), ("interview", found.interview), ("offer", found.offer)):
            echo(f"  {label + ' rate:':<16}{rate}")
        if found.days_in_stage:
            echo("  median days: " + ", ".join(f"{stage} {days:g}" for stage, days in found.days_in_stage.items()))
    if notice:
        echo(style(notice[0].upper() + notice[1:], fg="yellow"))


COMMANDS = [apply]
