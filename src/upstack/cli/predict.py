"""`upstack predict ...` and `upstack calibration`: how sure you were, against what happened
(services/predictions.py, domain/calibration.py)."""

from __future__ import annotations

from pathlib import Path

import click

from upstack.cli.options import complete_entries, complete_entries_and_nodes, complete_nodes, json_option, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.calibration import AGGREGATES
from upstack.ids import short_id
from upstack.services import predictions as service
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _line(found: service.Prediction) -> str:
    state = found.state if not found.overdue else "overdue"
    by = f" by {found.row['resolve_by']}" if found.row.get("resolve_by") and found.state == "open" else ""
    return f"{found.entry.short}  {found.probability:>4.0%}  {state:<8} {found.entry.title}{style(by, dim=True)}"


@click.group()
def predict() -> None:
    """Say how sure you are before a result; resolve it when the result is in.

    \b
    Examples:
      upstack predict add "The probe beats chance on held-out prompts" -p 70% --on EXPERIMENT --by "in 2 weeks"
      upstack predict add --on EXPERIMENT --metric val/loss --below 0.12 -p 70% --interval 0.10-0.15
      upstack predict update ID -p 40% --why "the pilot was noisy"
      upstack predict resolve ID false --evidence RESULT
      upstack calibration
    """


@predict.command("add")
@click.argument("claim", required=False, default="")
@click.option("--probability", "-p", metavar="P", help="The chance it comes true: 0.7 or 70%.")
@click.option("--on", "on", metavar="REF", shell_complete=complete_entries_and_nodes,
              help="What it is about: an experiment or question node, an idea, a result or a run.")
@click.option("--under", metavar="NODE", help="File it under this node (default: the node of what it is --on).")
@click.option("--by", "resolve_by", metavar="DAY", help="When it should be known ('in 2 weeks', 2027-01-15).")
@click.option("--criteria", default="", metavar="TEXT", help="How it will be resolved, written before the result.")
@click.option("--why", "reason", default="", metavar="TEXT", help="Why you think so.")
@click.option("--private", is_flag=True, help="Only you will ever see it.")
@click.option("--metric", metavar="KEY", help="A run's metric: the prediction resolves itself when the run "
              "(--on RUN, or the next run under --on NODE) finishes.")
@click.option("--aggregate", type=click.Choice(AGGREGATES), default="final", show_default=True,
              help="Which value of the metric.")
@click.option("--below", metavar="X", help="The claim: the value ends below X.")
@click.option("--above", metavar="X", help="The claim: the value ends above X.")
@click.option("--interval", metavar="LOW-HIGH", help="Where you expect the value, e.g. 0.10-0.15.")
@click.option("--level", metavar="P", help="How sure you are of the interval (default 80%).")
@json_option
@pass_log
def predict_add(ws: Workspace, claim: str, probability: str | None, on: str | None, under: str | None,
                resolve_by: str | None, criteria: str, reason: str, private: bool, metric: str | None,
                aggregate: str, below: str | None, above: str | None, interval: str | None, level: str | None,
                as_json: bool) -> None:
    """Make a prediction before the result: the claim and how sure you are (or what a run's metric
    will be)."""
    numeric = None
    if metric is not None or any(v is not None for v in (below, above, interval, level)):
        numeric, chance = service.numeric_claim(metric or "", aggregate=aggregate, below=below, above=above,
                                                interval=interval, level=level, probability=probability)
        probability = probability if probability is not None else str(chance)
    found = service.make(ws, claim, probability, on=on, under=under, resolve_by=resolve_by, criteria=criteria,
                         private=private, reason=reason, numeric=numeric)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(found.entry.short)


@predict.command("update")
@click.argument("ref", metavar="ID", shell_complete=complete_entries)
@click.option("--probability", "-p", required=True, metavar="P", help="How sure you are now: 0.4 or 40%.")
@click.option("--why", "reason", default="", metavar="TEXT", help="What changed your mind.")
@json_option
@pass_log
def predict_update(ws: Workspace, ref: str, probability: str, reason: str, as_json: bool) -> None:
    """A new forecast; the earlier ones are kept (the score uses the last one before the evidence)."""
    found = service.update(ws, ref, probability, reason=reason)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_line(found))


@predict.command("resolve")
@click.argument("ref", metavar="ID", shell_complete=complete_entries)
@click.argument("outcome", type=click.Choice(service.OUTCOMES))
@click.option("--evidence", metavar="REF", shell_complete=complete_entries,
              help="The result entry or run that settled it (when it existed is what counts).")
@click.option("--why", "reason", default="", metavar="TEXT",
              help="Why (needed to correct a resolution: the earlier one is kept).")
@json_option
@pass_log
def predict_resolve(ws: Workspace, ref: str, outcome: str, evidence: str | None, reason: str, as_json: bool) -> None:
    """Resolve it true, false or annulled (ambiguous: left out of scores)."""
    found = service.resolve(ws, ref, outcome, evidence=evidence, reason=reason)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_line(found))


@predict.command("list")
@click.option("--open", "state", flag_value="open", help="Only those not resolved yet.")
@click.option("--resolved", "state", flag_value="resolved", help="Only those resolved.")
@click.option("--overdue", "state", flag_value="overdue", help="Only those past their resolve-by day.")
@json_option
@pass_log
def predict_list(ws: Workspace, state: str | None, as_json: bool) -> None:
    """Your predictions (and those shared with you), oldest first."""
    found = service.listing(ws, state=state)
    if as_json:
        print_json([p.to_dict() for p in found])
        return
    if not found:
        echo(f"no {state} predictions: `upstack predict list` shows them all" if state else
             "no predictions yet: `upstack predict add CLAIM -p 70%` before your next result")
        return
    for item in found:
        echo(_line(item))


@predict.command("show")
@click.argument("ref", metavar="ID", shell_complete=complete_entries)
@json_option
@pass_log
def predict_show(ws: Workspace, ref: str, as_json: bool) -> None:
    """One prediction with every forecast and resolution."""
    found = service.get(ws, ref)
    if as_json:
        print_json(found.to_dict())
        return
    echo(style(found.entry.title, bold=True))
    facts = [found.entry.short, "overdue" if found.overdue else found.state]
    if found.row.get("resolve_by"):
        facts.append(f"by {found.row['resolve_by']}")
    if found.row.get("target_kind"):
        facts.append(f"about {found.row['target_kind']} {short_id(str(found.row['target_id']))}")
    echo(style("  ".join(facts), dim=True))
    if found.numeric is not None and found.numeric.describe() != found.entry.title:
        echo(found.numeric.describe())
    if found.entry.body:
        echo(found.entry.body)
    for forecast in found.forecasts:
        why = f"  {forecast.reason}" if forecast.reason else ""
        echo(f"  {forecast.at[:16].replace('T', ' ')}  {forecast.probability:.0%}{why}")
    for n, resolution in enumerate(found.resolutions, 1):
        said = [str(resolution["reason"])] if resolution["reason"] else []
        evidence = short_id(str(resolution["evidence_id"])) if resolution["evidence_id"] else ""
        if evidence and evidence not in " ".join(said):
            said.append(f"evidence {evidence}")
        why = f"  ({'; '.join(said)})" if said else ""
        value = f" at {resolution['value']:g}" if resolution["value"] is not None else ""
        corrected = style("  corrected below", dim=True) if n < len(found.resolutions) else ""
        at = str(resolution["at"])[:16].replace("T", " ")
        echo(f"  {at}  resolved {resolution['outcome']}{value}{why}{corrected}")


@click.command()
@click.option("--project", metavar="NAME", shell_complete=complete_nodes,
              help="Only the predictions filed under this project (its name, or the start of it) or node (its id).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Draw the reliability diagram to a .png, .svg or .pdf (needs upstack[plot]).")
@json_option
@pass_log
def calibration(ws: Workspace, project: str | None, out: Path | None, as_json: bool) -> None:
    """How well your forecasts match what happened: Brier and log scores, a reliability table, interval
    coverage, by project and kind, and the confident misses worth writing down (`upstack learned`)."""
    report = service.calibration(ws, project=project)
    if out is not None:
        written = service.diagram(report, out)
        if not as_json:
            echo(str(written))
    summary = report.summary
    if as_json:
        print_json(report.to_dict())
        return
    if not summary.n:
        echo(f"nothing scored yet ({report.open} open, {summary.made_after} made after their evidence, "
             f"{summary.annulled} annulled): resolve predictions to see your calibration")
        return
    echo(f"{summary.n} scored: Brier {summary.brier:.3f} (0.25 is always 50%, lower is better), "
         f"log score {summary.log_score:.3f}; {summary.came_true:.0%} came true")
    echo(style(f"left out: {summary.made_after} made after their evidence, {summary.annulled} annulled; "
               f"{report.open} open", dim=True))
    echo("")
    echo(style(f"{'said':<10}{'n':>5}{'mean':>8}{'came true':>11}", dim=True))
    for b in report.bins:
        if b.n:
            echo(f"{b.low:>3.0%}-{b.high:<6.0%}{b.n:>5}{b.mean_forecast or 0:>8.0%}{b.came_true or 0:>11.0%}")
    if report.coverage:
        echo("")
        echo(style("Intervals: how often the value landed inside, against the level you gave", dim=True))
        for c in report.coverage:
            echo(f"  {c.level:.0%} intervals: {c.covered} of {c.n} held ({c.rate or 0:.0%})")
    for title, groups in (("by project", report.by_project), ("by kind", report.by_kind),
                          ("by month", report.by_month)):
        if len(groups) > 1:
            echo("")
            echo(style(f"{title + ':':<28}{'n':>5}{'Brier':>8}", dim=True))
            for name, found in groups.items():
                echo(f"  {name[:26]:<26}{found.n:>5}{found.brier or 0:>8.3f}")
    if report.surprises:
        echo("")
        echo(style("Confident and wrong, worth writing down (`upstack learned ID ...`):", bold=True))
        for prediction, scored in report.surprises:
            echo(f"  {prediction.entry.short}  said {scored.probability:.0%}, came "
                 f"{'true' if scored.came_true else 'false'}: {prediction.entry.title}")
    echo(style(report.rule_text, dim=True))


COMMANDS = [predict, calibration]
