"""`upstack ladder`: where you stand on the path to a research job, the steps, their evidence,
what the log proposes, and learning resources (`upstack ladder resource ...`)."""

from __future__ import annotations

import click

from upstack.cli.options import json_option, parse_at, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.ids import short_id
from upstack.services import ladder as ladder_service
from upstack.services import resources as resource_service
from upstack.services.ladder import Evidence, StepState
from upstack.services.resources import ResourceState
from upstack.timeutil import local_display
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_MARKS = {"done": ("[x]", "green"), "skipped": ("[-]", "bright_black"), "open": ("[ ]", None)}


def _evidence_text(evidence: Evidence) -> str:
    if evidence.kind == "url":
        return evidence.ref
    return f"{evidence.kind} {short_id(evidence.ref)}" + (f" {evidence.title}" if evidence.title else "")


def _step_line(state: StepState) -> str:
    mark, colour = _MARKS[state.state]
    facts = []
    if state.step.learning_only:
        facts.append("study")
    if state.evidence:
        facts.append(f"{len(state.evidence)} evidence")
    if state.measured:
        facts.append(state.measured)
    if state.state == "skipped" and state.reason:
        facts.append(f"skipped: {state.reason}")
    return (f"{style(mark, fg=colour)} {style(state.step.slug, fg='yellow')}  {state.step.title}"
            + (style("  (" + "; ".join(facts) + ")", dim=True) if facts else ""))


def _show_step(state: StepState) -> None:
    echo(_step_line(state))
    if state.step.done_when:
        echo(f"    done when: {state.step.done_when}")
    for evidence in state.evidence:
        echo(style(f"    evidence: {_evidence_text(evidence)}", dim=True))


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def ladder(ctx: click.Context, as_json: bool) -> None:
    """Where you stand on the path to a research job, and what would count as done.

    The guide's steps are built in (learn to code ... apply ... aim bigger), plus the screens
    (interview practice, a GitHub page, a personal website, a small public project). Skip forward
    whenever you can: most people over-invest in studying.

    \b
    Examples:
      upstack ladder
      upstack ladder done code
      upstack ladder skip from-scratch --why "my area is not low-level"
      upstack ladder evidence add paper-walkthrough last
    """
    if ctx.invoked_subcommand is not None:
        return
    ws = ctx.find_object(Workspace)
    assert ws is not None, "the upstack group puts the Workspace on the context"
    ws.ingest()
    found = ladder_service.standing(ws)
    if as_json:
        print_json(found.to_dict())
        return
    echo(f"Where you stand: {found.done} of {found.total} steps done"
         + (f", {found.skipped} skipped" if found.skipped else "") + ".")
    if found.next is None:
        echo("Every step is done or skipped. Aim bigger: add the next one with `upstack ladder add \"...\"`.")
    else:
        step = found.next.step
        echo(f"Next: {style(step.title, bold=True)} ({step.slug})")
        echo(f"  done when: {step.done_when}")
        echo(f"  evidence that counts: {', '.join(step.counts)}")
        echo(style(f"  upstack ladder done {step.slug}  |  upstack ladder skip {step.slug} --why \"...\"", dim=True))
    for state, how in found.skip_forward:
        then = f"upstack ladder done {state.step.slug}" if how == "attached" else "upstack ladder proposals"
        echo(style(f"Skip forward: you have evidence for a later step, {state.step.slug} ({state.step.title}): "
                   f"{then}", fg="green"))
    if found.proposals:
        echo(f"{len(found.proposals)} proposed from your log: upstack ladder proposals")
    echo("Screens:")
    for state in found.screens:
        echo("  " + _step_line(state))
    if found.trap:
        echo(style(found.trap, fg="yellow"))


@ladder.command(name="list")
@json_option
@pass_log
def list_steps(ws: Workspace, as_json: bool) -> None:
    """Every step in order, with its state and evidence."""
    steps = ladder_service.load(ws).steps
    if as_json:
        print_json([s.to_dict() for s in steps])
        return
    for state in steps:
        _show_step(state)


@ladder.command(name="add")
@click.argument("title", nargs=-1, required=True)
@click.option("--done-when", default="", metavar="TEXT", help="What done looks like for this step.")
@click.option("--study", is_flag=True, help="A learning-only step (counts toward the upskilling trap).")
@click.option("--before", metavar="STEP", help="Place it before this step.")
@click.option("--after", metavar="STEP", help="Place it after this step (default: the end of the path).")
@json_option
@pass_log
def add_step(ws: Workspace, title: tuple[str, ...], done_when: str, study: bool, before: str | None,
             after: str | None, as_json: bool) -> None:
    """Add a step of your own; its name is made from its title."""
    state = ladder_service.add_step(ws, " ".join(title), done_when=done_when, learning_only=study,
                                    before=before, after=after)
    print_json(state.to_dict()) if as_json else echo(_step_line(state))


@ladder.command(name="skip")
@click.argument("step")
@click.option("--why", required=True, metavar="TEXT", help="Why you skip it (kept in its history).")
@pass_log
def skip_step(ws: Workspace, step: str, why: str) -> None:
    """Skip a step, saying why. Skipping forward is usually right."""
    echo(_step_line(ladder_service.skip(ws, step, why)))


@ladder.command(name="move")
@click.argument("step")
@click.option("--before", metavar="STEP", help="Move it before this step.")
@click.option("--after", metavar="STEP", help="Move it after this step.")
@pass_log
def move_step(ws: Workspace, step: str, before: str | None, after: str | None) -> None:
    """Reorder: move a step before or after another."""
    for state in ladder_service.move(ws, step, before=before, after=after):
        echo(_step_line(state))


@ladder.command(name="done")
@click.argument("step")
@click.option("--at", "at", metavar="WHEN", help="When it was done, e.g. 'last friday' (not a future date).")
@click.option("--note", default="", metavar="TEXT", help="A word on it, kept in its history.")
@pass_log
def done_step(ws: Workspace, step: str, at: str | None, note: str) -> None:
    """Mark a step done."""
    echo(_step_line(ladder_service.mark_done(ws, step, when=parse_at(at), note=note)))


@ladder.command(name="reopen")
@click.argument("step")
@pass_log
def reopen_step(ws: Workspace, step: str) -> None:
    """Reopen a step that was done or skipped."""
    echo(_step_line(ladder_service.reopen(ws, step)))


@ladder.group(name="evidence")
def evidence() -> None:
    """Link evidence to a step: an entry, node, run or idea, or a web address."""


@evidence.command(name="add")
@click.argument("step")
@click.argument("ref", metavar="REF|URL")
@pass_log
def evidence_add(ws: Workspace, step: str, ref: str) -> None:
    """Link an entry, node, run or idea (its id, `last`, or @title) or a URL to a step.

    \b
    Example:
      upstack ladder evidence add write-up https://github.com/you/probe-study
    """
    state = ladder_service.add_evidence(ws, step, ref)
    echo(_step_line(state))
    echo(style(f"    evidence: {_evidence_text(state.evidence[-1])}", dim=True))


@evidence.command(name="rm")
@click.argument("step")
@click.argument("ref", metavar="REF|URL")
@pass_log
def evidence_rm(ws: Workspace, step: str, ref: str) -> None:
    """Unlink evidence from a step (kept in its history)."""
    echo(_step_line(ladder_service.remove_evidence(ws, step, ref)))


@ladder.command(name="proposals")
@json_option
@pass_log
def list_proposals(ws: Workspace, as_json: bool) -> None:
    """Evidence your log already shows, for you to accept or reject."""
    found = ladder_service.proposals(ws)
    if as_json:
        print_json([p.to_dict() for p in found])
        return
    if not found:
        echo("Nothing to propose: a done project with a result and a repository link, a finished run, "
             "or an entry tagged #paper would be.")
    for proposal in found:
        shown = proposal.ref if proposal.kind == "url" else f"{proposal.kind} {short_id(proposal.ref)} {proposal.title}"
        echo(f"{style(proposal.id, fg='yellow')}  {proposal.step}: {shown}")
        echo(style(f"          because {proposal.why}", dim=True))
    if found:
        echo(style("upstack ladder accept ID  |  upstack ladder reject ID", dim=True))


@ladder.command(name="accept")
@click.argument("proposal_id", metavar="ID")
@pass_log
def accept_proposal(ws: Workspace, proposal_id: str) -> None:
    """Accept a proposal: it becomes evidence for its step."""
    echo(_step_line(ladder_service.accept(ws, proposal_id)))


@ladder.command(name="reject")
@click.argument("proposal_id", metavar="ID")
@pass_log
def reject_proposal(ws: Workspace, proposal_id: str) -> None:
    """Reject a proposal; it is not proposed again."""
    found = ladder_service.reject(ws, proposal_id)
    echo(f"Rejected {found.id} for {found.step}; it will not come back.")


@ladder.command(name="history")
@click.argument("step", metavar="[STEP|RESOURCE]", required=False)
@json_option
@pass_log
def ladder_history(ws: Workspace, step: str | None, as_json: bool) -> None:
    """Every change to your ladder and resources (or to one step or resource), oldest first."""
    changes = ladder_service.history(ws, step)
    if as_json:
        print_json([c.to_dict() for c in changes])
        return
    if not changes:
        echo("No changes yet: the ladder is the guide's, as built in.")
    for change in changes:
        echo(f"{style(local_display(change.at), dim=True)}  {style(change.subject, fg='yellow')}  {change.text}")


# -- learning resources --------------------------------------------------------------------------

def _resource_line(found: ResourceState) -> str:
    progress = found.state + (f", {found.position}" if found.position else "") + \
        (f", {found.minutes} min" if found.minutes else "")
    under = f"  under {found.resource.step}" if found.resource.step else ""
    return (f"{style(found.resource.slug, fg='yellow')}  {found.resource.title}  [{progress}]"
            + style(under + (f"  {found.resource.url}" if found.resource.url else ""), dim=True))


@ladder.group(name="resource")
def resource() -> None:
    """Learning resources: the guide's and your own, each under a step, with your progress."""


@resource.command(name="list")
@json_option
@pass_log
def resource_list(ws: Workspace, as_json: bool) -> None:
    """Resources with their progress and the minutes spent."""
    found = resource_service.resources(ws)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    for item in found:
        echo(_resource_line(item))


@resource.command(name="add")
@click.argument("title", nargs=-1, required=True)
@click.option("--url", default="", metavar="URL", help="Where it is (a web address).")
@click.option("--step", metavar="STEP", help="The ladder step it serves.")
@pass_log
def resource_add(ws: Workspace, title: tuple[str, ...], url: str, step: str | None) -> None:
    """Add a resource of your own; its name is made from its title."""
    echo(_resource_line(resource_service.add_resource(ws, " ".join(title), url=url, step=step)))


@resource.command(name="edit")
@click.argument("name")
@click.option("--title", metavar="TEXT", help="A new title.")
@click.option("--url", metavar="URL", help="A new address ('' for none).")
@click.option("--step", metavar="STEP", help="The step it serves.")
@pass_log
def resource_edit(ws: Workspace, name: str, title: str | None, url: str | None, step: str | None) -> None:
    """Change a resource's title, address or step."""
    echo(_resource_line(resource_service.edit_resource(ws, name, title=title, url=url, step=step)))


@resource.command(name="rm")
@click.argument("name")
@pass_log
def resource_rm(ws: Workspace, name: str) -> None:
    """Remove a resource from your list (adding it again brings back its progress)."""
    found = resource_service.remove_resource(ws, name)
    echo(f"Removed {found.resource.slug}.")


def _progress_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option("--at", "at", metavar="WHEN", help="When (not a future date; default now).")(func)
    func = click.option("--minutes", "-m", type=int, default=0, help="Minutes spent this time.")(func)
    return func


@resource.command(name="progress")
@click.argument("name")
@click.argument("position", nargs=-1)
@_progress_options
@pass_log
def resource_progress(ws: Workspace, name: str, position: tuple[str, ...], minutes: int, at: str | None) -> None:
    """Log progress: where you are (e.g. "chapter 3") and the minutes spent.

    \b
    Example:
      upstack ladder resource progress arena chapter 1 --minutes 90
    """
    echo(_resource_line(resource_service.log_progress(ws, name, position=" ".join(position), minutes=minutes,
                                                      when=parse_at(at))))


@resource.command(name="done")
@click.argument("name")
@_progress_options
@pass_log
def resource_done(ws: Workspace, name: str, minutes: int, at: str | None) -> None:
    """Mark a resource finished (with the minutes of this last stretch)."""
    echo(_resource_line(resource_service.log_progress(ws, name, minutes=minutes, done=True, when=parse_at(at))))


COMMANDS = [ladder]
