"""`upstack opp import` and `upstack opp calendar`: opportunities in from a file or a feed, and what
is due out to a calendar app. Part of the `opp` group (cli/opportunities.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.cli.progress import progress_bar
from upstack.errors import BadInput
from upstack.workspace import Workspace

__all__ = ["import_command", "calendar_command"]

SHOWN = 10  # possible duplicates named one by one after an import; the rest counted


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _report(report: Any, as_json: bool, *, proposals: list[Any] | None = None) -> None:
    if as_json:
        print_json({**report.to_dict(), **({"proposed": [p.to_dict() for p in proposals]}
                                           if proposals is not None else {})})
        return
    said = f"imported {plural(len(report.added), 'opportunity', 'opportunities')} from {report.source}"
    if report.encoding and report.encoding != "utf-8":
        said += f" ({report.encoding})"
    extra = [f"{len(report.merged)} filled in"] if report.merged else []
    if report.unchanged:
        extra.append(f"{report.unchanged} already kept")
    echo(said + (f"; {', '.join(extra)}" if extra else ""))
    for slug, other in report.duplicates[:SHOWN]:
        echo(style(f"possible duplicate: {slug} of {other} (the same organisation and role): "
                   f"`upstack opp merge {slug} --into {other}`, or `upstack opp distinct {slug}`", fg="magenta"))
    if len(report.duplicates) > SHOWN:
        echo(style(f"and {len(report.duplicates) - SHOWN} more possible duplicates: `upstack opp` marks them",
                   fg="magenta"))
    for slug, name, kept, given in report.differs[:SHOWN]:
        echo(style(f"{slug}: the {name} kept is {kept}, the file says {given} (kept as it was: "
                   f"`upstack opp edit {slug} --{name} {given!r}` takes the file's)", fg="yellow"))
    if len(report.differs) > SHOWN:
        echo(style(f"and {len(report.differs) - SHOWN} more that differ: `--json` lists them", fg="yellow"))
    if report.ignored:
        names = ", ".join(report.ignored)
        echo(style(f"columns not imported: {names} (`--map FIELD=COLUMN` imports one into a field, e.g. "
                   f"--map notes={report.ignored[0]!r}; `upstack opp import --help` lists the fields)", fg="yellow"),
             err=True)
    for problem in report.skipped:
        echo(f"skipped {problem}", err=True)


def _proposal_line(proposal: Any) -> str:
    facts = [proposal.kind, f"deadline {proposal.deadline}" if proposal.deadline else "no deadline stated"]
    if proposal.known:
        facts.append(f"kept already as {proposal.known}")
    return (f"{proposal.number:>3}. {proposal.title}" + style(f"  ({'; '.join(facts)})", dim=True)
            + style(f"\n     as: {proposal.role} at {proposal.organisation}", dim=True)
            + (f"\n     {proposal.link}" if proposal.link else "")
            + style(f"\n     cues: {', '.join(proposal.cues[:6])}", dim=True))


@click.command(name="import")
@click.argument("source", metavar="FILE_OR_URL")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Read FIELD from the column (or JSON key) COLUMN, e.g. --map org=Company (repeatable). "
                   "Fields: kind, org, role, link, source, location, remote, deadline, areas, notes, found, "
                   "posting.")
@click.option("--kind", "-k", metavar="KIND", help="The kind of the rows that name none (default: job).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "feed"]),
              help="What the file is (default: told from its name and its first bytes).")
@click.option("--accept", metavar="all|1,3,5", help="A feed: add these of the postings proposed (their numbers).")
@click.option("--every", is_flag=True, help="A feed: number every posting, not only those that look like an "
              "opening (to accept one the rule missed).")
@click.option("--skip-bad", is_flag=True, help="Import the good rows and name the bad ones (default: none at all).")
@json_option
@pass_log
def import_command(ws: Workspace, source: str, mapping: tuple[str, ...], kind: str | None, fmt: str | None,
                   accept: str | None, every: bool, skip_bad: bool, as_json: bool) -> None:
    """Import opportunities from a CSV or JSON file, or propose them from a feed.

    A CSV (a job board's export, a spreadsheet: UTF-8, UTF-16 or Windows encodings; commas,
    semicolons or tabs) reads columns named as the fields or as boards name them (Company,
    Title, URL, Deadline ...); --map names the others. JSON is a list of objects with the
    fields' names. Every row is checked first: a bad one is named by its line and nothing
    is imported, unless --skip-bad. Importing again adds nothing.

    A feed (RSS or Atom, a file or an http(s) address) is read once; the postings that look
    like openings are listed, numbered, with the kind and deadline proposed: add those you
    want with --accept (asked for at a terminal). Their text is kept.

    \b
    Examples:
      upstack opp import jobs.csv --map org=Company --map role=Title --map deadline="Apply by"
      upstack opp import saved.json --kind fellowship
      upstack opp import https://www.lesswrong.com/feed.xml
      upstack opp import https://www.lesswrong.com/feed.xml --accept 2,5
    """
    from upstack.services import opp_import

    columns = opp_import.parse_mapping(mapping)
    if _is_url(source) or fmt == "feed" or (fmt is None and _looks_like_feed(Path(source))):
        _import_feed(ws, source, accept, as_json, every=every)
        return
    if accept:
        raise click.UsageError("--accept chooses among a feed's postings; a CSV or JSON file is imported whole")
    with progress_bar("Checking rows") as progress:
        report = opp_import.import_file(ws, Path(source), columns, skip_bad=skip_bad, default_kind=kind, fmt=fmt,
                                        progress=progress)
    _report(report, as_json)


def _looks_like_feed(path: Path) -> bool:
    from upstack.services import opp_import

    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    return opp_import.format_of(path, head) == "feed"


def _import_feed(ws: Workspace, source: str, accept: str | None, as_json: bool, *, every: bool = False) -> None:
    from upstack.services import opp_feed

    proposed = opp_feed.propose(ws, source, every=every)
    if as_json and accept is None:
        print_json({"source": proposed.source, "postings": proposed.postings,
                    "proposed": [p.to_dict() for p in proposed.proposals], "not_proposed": proposed.passed})
        return
    if not as_json:
        said = "numbered" if every else f"{plural(len(proposed.proposals), 'looks', 'look')} like an opening"
        echo(f"{proposed.source}: {plural(proposed.postings, 'posting')}, {said}")
        for proposal in proposed.proposals:
            echo(_proposal_line(proposal))
        if proposed.passed:
            titles = "; ".join(proposed.passed[:5]) + (f"; and {len(proposed.passed) - 5} more"
                                                        if len(proposed.passed) > 5 else "")
            echo(style(f"not proposed: {titles} (`--every` numbers every posting, to accept one the rule missed)",
                       dim=True))
    if not proposed.proposals:
        return
    if accept is None:
        if not sys.stdin.isatty():
            again = f"upstack opp import {source}{' --every' if every else ''}"
            echo(f"nothing added: add them with `{again} --accept all` (or --accept 1,3)")
            return
        accept = click.prompt("Add which? all, none, or numbers (1,3)", default="none", show_default=False)
        if accept.strip().lower() in ("", "none", "no", "n"):
            echo("nothing added")
            return
    chosen = opp_feed.parse_accept(accept, len(proposed.proposals))
    _report(opp_feed.accept(ws, proposed, chosen), as_json)


@click.command(name="calendar")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="The iCalendar file to write, e.g. deadlines.ics (replaced whole).")
@click.option("--days", "-d", type=int, default=365, show_default=True, metavar="N",
              help="How far ahead (what is overdue is always in).")
@json_option
@pass_log
def calendar_command(ws: Workspace, out: Path, days: int, as_json: bool) -> None:
    """Write what is due (deadlines, follow-ups, interviews, practice reviews) as an iCalendar file.

    Each is an all-day event. Import the file into a calendar app; importing a newer one
    moves the events that moved rather than adding them again. Only your own items.

    \b
    Example:
      upstack opp calendar --out deadlines.ics
    """
    from upstack.services import calendar

    count = calendar.write(ws, out, days=days)
    if as_json:
        print_json({"out": str(out), "events": count})
    else:
        echo(f"wrote {plural(count, 'event')} to {out}")
