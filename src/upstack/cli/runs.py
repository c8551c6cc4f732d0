"""`upstack runs`, `run show`, `compare`, `plot`, `ingest`: experiment runs, read back."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import click

from upstack.cli import run_manage as run_manage_commands
from upstack.cli.hints import FilterHintCommand, hinting_group, looks_like_condition
from upstack.cli.options import complete_nodes, json_option, pass_log
from upstack.cli.output import echo, options_given, plural, print_json, style
from upstack.cli.progress import progress_bar
from upstack.domain.config import flatten
from upstack.domain.run import (
    RUN_STATUSES,
    SYSTEM_PREFIX,
    MetricSummary,
    RunInfo,
    format_duration,
    format_number,
    provenance_lines,
    ran_for,
)
from upstack.services import runs as run_service
from upstack.timeutil import local_display, parse_iso, parse_since, parse_until
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_STATUS_COLOURS = {"running": "cyan", "finished": "green", "failed": "red", "interrupted": "yellow",
                   "crashed": "magenta"}


# A second condition after a comma in one --where (lr=0.1,seed=1): read as one value, which matches nothing.
_JOINED = re.compile(r",\s*[\w./()-]+\s*(?:!=|<=|>=|=|<|>)")


def _one_condition_each(where: tuple[str, ...]) -> str:
    """A hint for --where 'lr=0.1,seed=1' (W&B and MLflow users join conditions): one a --where."""
    joined = next((w for w in where if _JOINED.search(w)), None)
    if joined is None:
        return ""
    parts = " ".join(f"--where {shlex.quote(part.strip())}" for part in joined.split(","))
    return f" A --where takes one condition; for all of several, repeat it: {parts}"


def _status(run: RunInfo) -> str:
    text = run.status_text
    if run.status == "running" and run.heartbeat_at:
        silent = (datetime.now(UTC) - parse_iso(run.heartbeat_at)).total_seconds()
        if silent > 60:
            text += f" (last heard {format_duration(silent)} ago)"
    return style(text, fg=_STATUS_COLOURS.get(run.status))


def _metrics_summary(run: RunInfo, limit: int = 3, first: str | None = None, how: str = "") -> str:
    """Final values; the sorted-by metric first, as sorted (``val/acc best 0.99`` for --sort 'best(val/acc)')."""
    metrics = sorted(_own_first(run.metrics), key=lambda m: m.key != first)

    def value(m: MetricSummary) -> str:
        sorted_by = getattr(m, how) if m.key == first and how in ("best", "min", "max") else None
        if sorted_by is not None:
            return f"{m.key} {how} {format_number(sorted_by)}"
        return f"{m.key} {format_number(m.last)}"
    own = sum(not m.key.startswith(SYSTEM_PREFIX) or m.key == first for m in metrics)
    shown = [value(m) for m in metrics[:min(limit, own or limit)]]
    if len(metrics) > len(shown):
        shown.append(f"+{len(metrics) - len(shown)} more")
    return ", ".join(shown)


def _own_first(metrics: list[MetricSummary]) -> list[MetricSummary]:
    """The script's metrics, then the machine's (system/...): a line shows the machine's only when the
    script logged none (a long run's line was "loss 0.03, system/cpu_percent 98.5, ...")."""
    return sorted(metrics, key=lambda m: m.key.startswith(SYSTEM_PREFIX))


_tag_option = click.option("--tag", "tags", multiple=True, metavar="TAG",
                           help="Only runs tagged TAG (#TAG too; repeat: all of them).")


@click.command(name="runs", cls=FilterHintCommand)
@click.option("--under", metavar="NODE", shell_complete=complete_nodes,
              help="Only runs filed under this node (or below it).")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option("--name", metavar="NAME", help="Only runs with this name.")
@_tag_option
@click.option("--since", metavar="WHEN",
              help="Started from this day (e.g. 'last monday': the whole day) or moment.")
@click.option("--until", metavar="WHEN", help="Started up to this day (the whole day) or moment.")
@click.option("--where", "where", multiple=True, metavar="COND",
              help="A filter on config, metrics or summary values: lr=3e-4, optim.name!=adam, 'val/acc>0.9' "
                   "(a metric's final value), 'best(loss)<0.1', min(..), max(..), summary(..) "
                   "(repeat for all of several).")
@click.option("--sort", metavar="FIELD", help="Order by a value, as --where names it: 'best(loss)' (a metric: "
                                              "best first), lr, 'final(val/acc) desc'.")
@click.option("--group", "group", metavar="KEYS",
              help="Group by config keys (lr,width), or by all that differ but some (-seed): each group's "
                   "runs and its metrics' mean ± std, in the order of their first runs (--sort lr: by lr).")
@click.option("--metric", "metrics", multiple=True, metavar="KEY",
              help="The metrics a --group table shows (default: up to four that most runs have; system/... "
                   "only when there are no others).")
@click.option("-n", "--limit", default=30, show_default=True, help="How many runs (0 for all; --group reads all).")
@click.option("--deleted", is_flag=True, help="The deleted runs instead (upstack run restore ID brings one back).")
@json_option
@pass_log
def runs_command(ws: Workspace, under: str | None, status: str | None, name: str | None, tags: tuple[str, ...],
                 since: str | None, until: str | None, where: tuple[str, ...], sort: str | None,
                 group: str | None, metrics: tuple[str, ...], limit: int, deleted: bool, as_json: bool) -> None:
    """Experiment runs, newest first: filter, sort and group them by what they found."""
    found = run_service.list_runs(
        ws, under=under, status=status, name=name, tags=tags, where=list(where), sort=sort, deleted=deleted,
        limit=None if group or not limit else limit,
        since=parse_since(since, what="--since date") if since else None,
        until=parse_until(until, what="--until date") if until else None)
    if group:
        _show_groups(run_service.group_runs(found, group), list(metrics), as_json)
        return
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    given = options_given(under=under, status=status, name=name, tag=tags, since=since, until=until, where=where,
                          deleted=deleted)
    if not found and given:
        echo(f"No runs match {given}.{_one_condition_each(where)}")
    elif not found:
        echo("No runs yet. In Python: with upstack.run(\"name\") as run: run.log({\"loss\": 0.5})")
    shown, how = _sort_metric(sort)
    for run in found:
        echo(f"{style(run.short, fg='yellow')}  {style(local_display(run.started_at), dim=True)}  "
             f"{run.name}  {_status(run)}  {style(_metrics_summary(run, first=shown, how=how), dim=True)}")


def _sort_metric(sort: str | None) -> tuple[str | None, str]:
    """The metric a listing is sorted by (shown first on each line) and how (final, best, min, max ...)."""
    if not sort:
        return None, ""
    from upstack.domain.run_filters import parse_sort

    field = parse_sort(sort).field
    return field.key, field.source


def _show_groups(grouping: run_service.Grouping, chosen: list[str], as_json: bool) -> None:
    if as_json:
        print_json(grouping.to_dict())
        return
    if not grouping.groups:
        echo("No runs to group.")
        return
    unknown = [k for k in chosen if k not in grouping.metric_keys]
    if unknown:
        from upstack.errors import BadInput

        raise BadInput(f"--metric {unknown[0]}: these runs logged no such metric"
                       + (f" (they have {', '.join(grouping.metric_keys)})" if grouping.metric_keys else ""))
    keys = chosen or _common_metrics(grouping)
    rows = [["group", "runs", *(f"{k} final / best" for k in keys)]]
    for group in grouping.groups:
        rows.append([group.label, str(len(group.runs)), *(_stat_cell(group.stats.get(k)) for k in keys)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        echo(style(line, bold=True) if number == 0 else line)
    by = ", ".join(grouping.keys) or "nothing (no config value differs)"
    echo(style(f"\n{plural(len(grouping.groups), 'group')} by {by}; mean ± standard deviation over each "
               "group's runs.", dim=True))


def _common_metrics(grouping: run_service.Grouping, most: int = 4) -> list[str]:
    """The metrics most runs have; the machine's (system/...) only when the script logged none."""
    have = {k: sum(len(g.runs) for g in grouping.groups if k in g.stats) for k in grouping.metric_keys}
    own = [k for k in have if not k.startswith(SYSTEM_PREFIX)] or list(have)
    return sorted(own, key=lambda k: (-have[k], k))[:most]


def _stat_cell(stat: run_service.GroupStat | None) -> str:
    if stat is None:
        return "—"

    def spread(mean: float | None, std: float | None) -> str:
        if mean is None:
            return "nan"
        return format_number(mean) + (f" ± {format_number(std)}" if std is not None else "")

    return f"{spread(stat.final_mean, stat.final_std)} / {spread(stat.best_mean, stat.best_std)}"


@click.group(name="run", cls=hinting_group("show"))
def run_group() -> None:
    """One run: `upstack run show ID`; rename, tag, note, move, rm, restore, history."""


@run_group.command(name="show")
@click.argument("ref", metavar="ID")
@json_option
@pass_log
def run_show(ws: Workspace, ref: str, as_json: bool) -> None:
    """A run: status, config, metrics (final, best, min, max), figures, notes, provenance."""
    run = run_service.get_run(ws, ref)
    if as_json:
        print_json(run.to_dict())
        return
    echo(style(run.short, fg="yellow") + "  " + style(run.name, bold=True) + "  " + _status(run))
    took = ""
    if run.ended_at:
        took = f", took {ran_for(run.status, (parse_iso(run.ended_at) - parse_iso(run.started_at)).total_seconds())}"
    echo(style(f"started {local_display(run.started_at)}" + (f" on {run.host}" if run.host else "") + took,
               dim=True))
    if run.deleted_at:
        echo(style(f"deleted {local_display(run.deleted_at)} (bring it back: upstack run restore {run.short})",
                   fg="red"))
    if run.error:
        echo(style(f"error: {run.error}", fg="red"))
    if run.metrics:
        echo("\nmetrics (final / best / min / max / points)")
        width = max(len(m.key) for m in run.metrics)
        for m in run.metrics:
            echo(f"  {m.key:<{width}}  {format_number(m.last):>10}  {format_number(m.best):>10}  "
                 f"{format_number(m.min):>10}  {format_number(m.max):>10}  {m.count:>8}")
    summary = {k: v for k, v in run.summary.items() if k != "learning_id"}
    if summary:
        echo("\nsummary")
        for key, value in summary.items():
            echo(f"  {key}: {format_number(value)}")
    if run.config:
        echo("\nconfig")
        for key, value in flatten(run.config).items():
            echo(f"  {key} = {format_number(value)}")
    for item in run.items:
        if item.kind == "note":
            echo(f"\nnote: {item.data['text']}")
        elif item.kind in ("figure", "table", "diff", "traceback"):
            files = ", ".join(a["filename"] for a in item.data.get("attachments", []))
            title = item.data.get("title")
            echo(f"\n{item.kind}: {title}  {style(files, dim=True)}" if title else f"\n{item.kind}: {files}")
        elif item.kind == "resume":  # a pre-empted run taken up again
            echo(f"\nresumed {local_display(str(item.data.get('at') or item.at))} on "
                 f"{item.data.get('host') or '?'}, after step {item.data.get('step', '?')}")
    echo("")
    for line in provenance_lines(run):
        echo(line)
    if run.status != "running":
        echo(style(f"\nThe result entry: upstack show {run.short}; add what you learned: "
                   f"upstack learned {run.short} \"...\"", dim=True))


_SAME_SHOWN = 8  # config values the same in every run that compare names (the rest: --json)


@click.command()
@click.argument("refs", nargs=-1, metavar="[ID...]")
@click.option("--under", metavar="NODE", shell_complete=complete_nodes,
              help="The runs filed under this node (or below it), as well as any named: a sweep's, say.")
@click.option("--where", "where", multiple=True, metavar="COND",
              help="The runs that pass this filter, as `upstack runs --where` reads it (repeat: all of them).")
@_tag_option
@click.option("--sort", metavar="FIELD",
              help="The order of the runs --under or --where choose, as `upstack runs --sort` reads it.")
@click.option("-n", "--limit", type=click.IntRange(min=2), default=10, show_default=True,
              help="How many of the runs --under or --where choose (the first, by --sort or newest).")
@click.option("--deleted", is_flag=True, help="Let deleted runs be compared too.")
@json_option
@pass_log
def compare(ws: Workspace, refs: tuple[str, ...], under: str | None, where: tuple[str, ...], tags: tuple[str, ...],
            sort: str | None, limit: int, deleted: bool, as_json: bool) -> None:
    """Runs side by side: the config values that differ, summary values, then final and best metrics.

    \b
    Examples:
      upstack compare 3k9x2ab 7hq4m1c
      upstack compare --under k3x9q2a --sort 'best(loss)' -n 5   # a sweep's five best
    """
    from upstack.errors import BadInput

    stray = [r for r in refs if looks_like_condition(r)]
    if stray:
        raise BadInput(f"{stray[0]!r} is a filter, not a run: --where {shlex.quote(stray[0])}")
    chosen = list(refs)
    if under or where or tags:
        matching = run_service.list_runs(ws, under=under, where=list(where), tags=tags, sort=sort, limit=limit)
        chosen += [r.id for r in matching if r.id not in chosen and r.short not in chosen]
        if not matching:
            raise BadInput(f"no runs match {options_given(under=under, where=where, tag=tags)}")
    elif sort:
        raise BadInput("--sort orders the runs --under, --where or --tag choose: add one of them")
    if not chosen:
        raise BadInput("compare needs runs: give their ids, or choose them with --under, --where or --tag")
    result = run_service.compare(ws, chosen, deleted=deleted)
    if as_json:
        print_json(result.to_dict())
        return
    names = [f"{r.short} {r.name}" for r in result.runs]
    rows: list[list[str]] = [["", *names], ["status", *(r.status for r in result.runs)]]
    if result.config_keys:
        rows.append(["config (differs)", *("" for _ in result.runs)])
        rows += [[f"  {k}", *(result.config_value(r, k) for r in result.runs)] for k in result.config_keys]
    if result.summary_keys:
        rows.append(["summary", *("" for _ in result.runs)])
        rows += [[f"  {k}", *(result.summary_value(r, k) for r in result.runs)] for k in result.summary_keys]
    for key in result.metric_keys:
        cells = []
        for run in result.runs:
            found = next((m for m in run.metrics if m.key == key), None)
            cells.append(f"{format_number(found.last)} (best {format_number(found.best)})" if found else "—")
        rows.append([key, *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        echo(style(line, bold=True) if number == 0 else line)
    if result.same_config:
        same = ", ".join(f"{k}={format_number(v)}" for k, v in list(result.same_config.items())[:_SAME_SHOWN])
        more = len(result.same_config) - _SAME_SHOWN
        echo(style(f"\nthe same in every run: {same}" + (f" and {more} more (--json: all)" if more > 0 else ""),
                   dim=True))


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="[ID...] KEY...")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the chart (.png, .svg or .pdf).")
@click.option("--under", metavar="NODE", shell_complete=complete_nodes,
              help="The runs filed under this node (or below it), as well as any named.")
@click.option("--where", "where", multiple=True, metavar="COND",
              help="The runs that pass this filter, as `upstack runs --where` reads it (repeat: all of them).")
@_tag_option
@click.option("--group", "group", metavar="KEYS",
              help="Draw each group of the runs (by config keys, lr,width; or all that differ but some, -seed) "
                   "as its mean with a band.")
@click.option("--band", type=click.Choice(["std", "minmax"]), default="std", show_default=True,
              help="For --group: the band is ± one standard deviation, or lowest to highest run.")
@pass_log
def plot(ws: Workspace, args: tuple[str, ...], out: Path, under: str | None, where: tuple[str, ...],
         tags: tuple[str, ...], group: str | None, band: str) -> None:
    """Draw metric curves: runs first, then metric names; several runs share one chart.

    \b
    Examples:
      upstack plot 3k9x2ab 7hq4m1c loss --out loss.png
      upstack plot --under k3x9q2a --group -seed loss --out seeds.png   # mean ± std over seeds
    """
    from upstack.errors import BadInput
    from upstack.services.run_plot import plot as draw

    given = click.get_current_context().get_parameter_source("band")
    if group is None and given is not None and given.name == "COMMANDLINE":
        raise BadInput("--band draws the groups of --group: add --group KEYS (say --group -seed)")
    chosen = bool(under or where or tags)
    refs, keys = _split_runs_and_keys(ws, list(args), runs_optional=chosen)
    if chosen:
        found = run_service.list_runs(ws, under=under, where=list(where), tags=tags)
        refs += [r.id for r in found if r.id not in refs]
        if not refs:
            raise BadInput(f"no runs match {options_given(under=under, where=where, tag=tags)}")
    written = draw(ws, refs, keys, out, group=group, band=band)
    echo(str(written))


def _split_runs_and_keys(ws: Workspace, args: list[str], *,
                         runs_optional: bool = False) -> tuple[list[str], list[str]]:
    """Leading arguments that name runs are runs; the rest are metric names."""
    from upstack.errors import BadInput, NotFound

    refs: list[str] = []
    for arg in args:
        try:
            run_service.get_run(ws, arg)
        except (NotFound, BadInput):
            break
        refs.append(arg)
    keys = args[len(refs):]
    if not refs and not runs_optional:
        raise BadInput(f"no run with id {args[0]!r}: give run ids first, then metric names"
                       " (or choose the runs with --under or --where)")
    return refs, keys


@click.command(name="ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FOLDER...")
@json_option
@pass_log
def ingest_command(ws: Workspace, paths: tuple[Path, ...], as_json: bool) -> None:
    """Take in run folders written elsewhere (say, UPSTACK_RUN_DIR on a compute node).

    Safe to repeat, and safe while the runs are still going: only what is new is added.
    """
    with progress_bar("Ingesting runs") as progress:
        report = run_service.ingest(ws, list(paths), progress)
    if as_json:
        print_json({"runs": report.runs_seen, "records": report.records, "points": report.points,
                    "ended": report.ended, "crashed": report.crashed, "problems": report.problems})
        return
    for problem in report.problems:
        echo(f"upstack: warning: {problem}", err=True)
    echo(f"{plural(report.runs_seen, 'run')} read: {plural(report.records, 'new record')}, "
         f"{plural(report.points, 'new metric point')}"
         + (f", {len(report.ended)} ended" if report.ended else "")
         + (f", {len(report.crashed)} marked crashed" if report.crashed else ""))


for _command in run_manage_commands.COMMANDS:  # rename, tag, note, move, rm, restore, history
    run_group.add_command(_command)

COMMANDS = [runs_command, run_group, compare, plot, ingest_command]
