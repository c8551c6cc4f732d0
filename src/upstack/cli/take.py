"""`upstack take ...` and `upstack takes`: claims heard, held with skepticism (services/takes.py)."""

from __future__ import annotations

import click

from upstack.cli.options import complete_entries, complete_nodes, json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.ids import short_id
from upstack.services import takes as service
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _line(found: service.Take) -> str:
    said = ", ".join(dict.fromkeys(s["source"] for s in found.sources))
    flags = [f"from {said}" + (", one source only" if found.one_source else "")]
    if found.revisit_by:
        flags.append(f"revisit {found.revisit_by}" + (" (due)" if found.revisit_due else ""))
    return f"{found.entry.short}  {found.moved:>11}  {found.entry.title}  {style('; '.join(flags), dim=True)}"


@click.group()
def take() -> None:
    """Claims heard, held with skepticism: who said it, how sure you are, and how that moved.

    A take is private unless made --shared. It rests on one source until you add another
    (`take update --source`). A revisit is done when you update the take or say `take revisited`.

    \b
    Examples:
      upstack take add "SAEs find the real features" --from "a reading-group talk" -c 60% --revisit "in 3 months"
      upstack take update ID -c 35% --why "the features split with dictionary size"
      upstack take revisited ID --next "in 6 months"
      upstack takes
    """


@take.command("add")
@click.argument("claim")
@click.option("--from", "source", required=True, metavar="WHO", help="Who said it: a person, a paper, a talk.")
@click.option("--where", default="", metavar="TEXT", help="Where: a link, a talk, a conversation.")
@click.option("--confidence", "-c", required=True, metavar="P", help="How sure you are it is true: 0.6 or 60%.")
@click.option("--why", "reason", default="", metavar="TEXT", help="Why that confidence.")
@click.option("--crux", "cruxes", multiple=True, metavar="TEXT", help="A crux it turns on; repeat for more.")
@click.option("--would-change", default="", metavar="TEXT", help="What would change your mind.")
@click.option("--on", "on", multiple=True, metavar="NODE", shell_complete=complete_nodes,
              help="A tree node it bears on (filed under the first); repeat for more.")
@click.option("--revisit", metavar="WHEN", help="When to look at it again ('in 3 months', 2027-03-01).")
@click.option("--shared", is_flag=True, help="Let collaborators who see its node see it (default: only you).")
@json_option
@pass_log
def take_add(ws: Workspace, claim: str, source: str, where: str, confidence: str, reason: str,
             cruxes: tuple[str, ...], would_change: str, on: tuple[str, ...], revisit: str | None, shared: bool,
             as_json: bool) -> None:
    """Note a claim you heard, who said it and how sure you are."""
    found = service.make(ws, claim, confidence, source=source, where=where, cruxes=cruxes,
                         would_change=would_change, on=on, revisit=revisit, shared=shared, reason=reason)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(found.entry.short)


@take.command("update")
@click.argument("ref", metavar="ID", shell_complete=complete_entries)
@click.option("--confidence", "-c", metavar="P", help="How sure you are now: 0.4 or 40%.")
@click.option("--why", "reason", required=True, metavar="TEXT", help="What moved (kept with the update).")
@click.option("--source", metavar="WHO", help="Another source, for or against.")
@click.option("--where", default="", metavar="TEXT", help="Where that source said it.")
@click.option("--crux", "cruxes", multiple=True, metavar="TEXT", help="Another crux; repeat for more.")
@click.option("--would-change", metavar="TEXT", help="What would change your mind, as you now see it.")
@click.option("--on", "on", multiple=True, metavar="NODE", shell_complete=complete_nodes,
              help="Another tree node it bears on; repeat for more.")
@click.option("--revisit", metavar="WHEN", help="The next day to look at it again.")
@json_option
@pass_log
def take_update(ws: Workspace, ref: str, confidence: str | None, reason: str, source: str | None, where: str,
                cruxes: tuple[str, ...], would_change: str | None, on: tuple[str, ...], revisit: str | None,
                as_json: bool) -> None:
    """What changed and why; earlier views are kept. A revisit that has come is done."""
    found = service.update(ws, ref, confidence, reason=reason, source=source, where=where, cruxes=cruxes,
                           would_change=would_change, on=on, revisit=revisit)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_line(found))


@take.command("revisited")
@click.argument("ref", metavar="ID", shell_complete=complete_entries)
@click.option("--next", "next_day", metavar="WHEN", help="The next day to look at it again.")
@click.option("--why", "reason", default="", metavar="TEXT", help="What you found (default: 'revisited').")
@json_option
@pass_log
def take_revisited(ws: Workspace, ref: str, next_day: str | None, reason: str, as_json: bool) -> None:
    """You looked at it again and your view stands: its revisit is done."""
    found = service.revisited(ws, ref, next_day=next_day, reason=reason)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_line(found))


@take.command("show")
@click.argument("ref", metavar="ID", shell_complete=complete_entries)
@json_option
@pass_log
def take_show(ws: Workspace, ref: str, as_json: bool) -> None:
    """One take with how your view moved, its sources, cruxes and what would change your mind."""
    found = service.get(ws, ref)
    if as_json:
        print_json(found.to_dict())
        return
    echo(style(found.entry.title, bold=True) + style(f"  {found.moved}", dim=True))
    if found.entry.body:
        echo(found.entry.body)
    for said in found.sources:
        echo(f"  from {said['source']}" + (f" ({said['where']})" if said["where"] else ""))
    if found.one_source:
        echo(style("  rests on one source only", fg="yellow"))
    for crux in found.cruxes:
        echo(f"  crux: {crux}")
    if found.would_change:
        echo(f"  would change my mind: {found.would_change}")
    if found.nodes:
        echo(f"  on: {', '.join(short_id(node) for node in found.nodes)}")
    if found.revisit_by:
        echo(f"  revisit {found.revisit_by}" + (" (due)" if found.revisit_due else ""))
    moved_at = {str(event["at"]) for event in found.confidences}
    for event in found.events:
        at = str(event["at"])[:16].replace("T", " ")
        if event["kind"] == "confidence":
            why = f"  {event['text']}" if event["text"] else ""
            echo(f"  {at}  {float(event['confidence']):.0%}{why}")
        elif event["kind"] == "revisit" and str(event["at"]) not in moved_at:  # a look again, the view unchanged
            why = f"  {event['text']}" if event["text"] and event["text"] != "revisited" else ""
            echo(f"  {at}  looked again{why}" + (f" (next: {event['revisit_by']})" if event["revisit_by"] else ""))


@take.command("list")
@json_option
@pass_log
def take_list(ws: Workspace, as_json: bool) -> None:
    """Your takes (and those shared with you), oldest first."""
    found = service.listing(ws)
    if as_json:
        print_json([t.to_dict() for t in found])
        return
    if not found:
        echo("no takes yet: `upstack take add CLAIM --from WHO -c 60%` when a claim convinces you")
        return
    for item in found:
        echo(_line(item))


@click.command()
@json_option
@pass_log
def takes(ws: Workspace, as_json: bool) -> None:
    """How your views moved, which rest on one source only, and what to revisit."""
    shown = service.overview(ws)
    found, queue, moved, lonely = shown.takes, shown.revisit, shown.moved, shown.one_source
    if as_json:
        print_json(shown.to_dict())
        return
    if not found:
        echo("no takes yet: `upstack take add CLAIM --from WHO -c 60%` when a claim convinces you")
        return
    for item in found:
        echo(_line(item))
    rest = "rests" if len(lonely) == 1 else "rest"
    echo(style(f"{len(moved)} of {len(found)} moved since first heard; {len(lonely)} {rest} on one source only",
               dim=True))
    if queue:
        echo("")
        echo(style("To revisit:", bold=True))
        for item in queue:
            when = style(f"{item.revisit_by} due", fg="red") if item.revisit_due else str(item.revisit_by)
            echo(f"  {when}  {item.entry.short}  {item.entry.title}")


COMMANDS = [take, takes]
