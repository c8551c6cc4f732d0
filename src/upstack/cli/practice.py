"""`upstack practice`: interview practice, its reviews and the guide's bar."""

from __future__ import annotations

from pathlib import Path

import click

from upstack.cli.options import at_option, json_option, parse_at, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.domain import practice as rules
from upstack.domain.practice import Attempt
from upstack.ids import short_id
from upstack.timeutil import local_display, now, parse_iso
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def practice(ctx: click.Context, as_json: bool) -> None:
    """Interview practice: log attempts, review what is due, measure the guide's bar.

    The bar: LeetCode mediums solved unaided in under 30 minutes, reliably (16 of your
    last 20 first attempts at mediums). Past it, more grinding has diminishing returns.
    No problem statements are shipped or fetched: you type the title, difficulty and topics.
    Alone, `upstack practice` says where you stand against the bar and how many reviews are due.

    \b
    Examples:
      upstack practice
      upstack practice log two-sum --minutes 12 --unaided --difficulty easy
      upstack practice due
    """
    if ctx.invoked_subcommand is not None:
        return
    ws = ctx.find_object(Workspace)
    assert ws is not None, "the upstack group puts the Workspace on the context"
    ws.ingest()
    from upstack.services import practice as service

    history = service.attempts(ws)
    bar = service.bar_status(ws, history=history)
    lines = service.bar_statement(bar)
    due = len(service.due(ws))
    if as_json:
        print_json({**bar.to_dict(), "statement": lines, "due": due})
        return
    for line in lines:
        echo(line)
    if history:
        echo(f"{plural(due, 'problem')} due for review today: `upstack practice due`" if due
             else "Nothing due for review today.")


@practice.command(name="log")
@click.argument("problem")
@click.option("--minutes", "-m", required=True, metavar="N", help="Minutes the attempt took (0 or more).")
@click.option("--unaided", "outcome", flag_value="unaided", help="Solved with no hints.")
@click.option("--hints", "outcome", flag_value="hints", help="Solved with hints.")
@click.option("--failed", "outcome", flag_value="failed", help="Not solved.")
@click.option("--difficulty", "-d", type=click.Choice(rules.DIFFICULTIES, case_sensitive=False),
              help="The problem's difficulty (kept for its later attempts).")
@click.option("--topic", "-t", "topics", multiple=True, metavar="TOPIC",
              help="A topic or pattern, e.g. graphs (repeatable; kept for its later attempts).")
@click.option("--title", metavar="TEXT", help="The problem's title.")
@click.option("--url", metavar="URL", help="The problem's web address.")
@click.option("--review", "first", flag_value="review",
              help="A review of a problem met before (default: the first attempt unless one is logged).")
@click.option("--first", "first", flag_value="first", help="The first attempt at it, whatever the log says.")
@at_option
@json_option
@click.pass_obj
def log_command(ws: Workspace, problem: str, minutes: str, outcome: str | None, difficulty: str | None,
                topics: tuple[str, ...], title: str | None, url: str | None, first: str | None, at: str | None,
                as_json: bool) -> None:
    """Log an attempt at PROBLEM: its slug (two-sum) or web address.

    \b
    Example:
      upstack practice log two-sum --minutes 12 --unaided --difficulty easy --topic arrays
    """
    if outcome is None:
        raise click.UsageError("say how it went: --unaided, --hints or --failed")
    from upstack.services import practice as service  # the capture path: no store, no fsrs

    record = service.log_attempt(ws, problem, minutes=minutes, outcome=outcome, difficulty=difficulty,
                                 topics=topics, title=title, url=url, at=parse_at(at),
                                 first=None if first is None else first == "first")
    data = record.data
    if as_json:
        print_json({"id": record.id, "short": short_id(record.id), "problem": data["subject"], **{
            k: v for k, v in data.items() if k != "subject"}})
        return
    grade = rules.rating(data["outcome"], data["minutes"], ws.settings.practice_target_minutes)
    echo(f"{short_id(record.id)}  {data['subject']}: {_minutes(data['minutes'])}, {data['outcome']} "
         + style(f"(rated {grade} for its next review)", dim=True))


@practice.command(name="list")
@click.option("--problem", "-p", metavar="PROBLEM", help="Only attempts at this problem.")
@click.option("--limit", "-n", default=20, show_default=True, help="How many, newest first (0: all).")
@json_option
@pass_log
def list_command(ws: Workspace, problem: str | None, limit: int, as_json: bool) -> None:
    """List your attempts, newest first (struck-out ones left out)."""
    from upstack.services import practice as service

    found = service.attempts(ws)
    if problem:
        key = rules.problem_key(problem)
        found = [a for a in found if a.problem == key]
    found = found[::-1][:limit or None]
    if as_json:
        print_json([{**a.to_dict(), "short": short_id(a.id)} for a in found])
        return
    if not found:
        echo("No attempts yet: `upstack practice log two-sum --minutes 20 --unaided --difficulty easy`.")
    for attempt in found:
        echo(_attempt_line(attempt))


def _attempt_line(attempt: Attempt) -> str:
    kind = "first" if attempt.first else "review"
    about = "  ".join(part for part in (attempt.difficulty or "", ", ".join(attempt.topics), attempt.title or "")
                      if part)
    return (f"{short_id(attempt.id)}  {local_display(attempt.at)}  {attempt.problem}  {_minutes(attempt.minutes)}  "
            f"{attempt.outcome}  {kind}" + (style(f"  {about}", dim=True) if about else ""))


def _minutes(value: float) -> str:
    return f"{value:g} min"


@practice.command(name="due")
@json_option
@pass_log
def due_command(ws: Workspace, as_json: bool) -> None:
    """List the problems due for review today or earlier (FSRS, from every attempt)."""
    from upstack.services import practice as service

    reviews = service.due(ws)
    if as_json:
        print_json([r.to_dict() for r in reviews])
        return
    if not reviews:
        echo("Nothing due for review today.")
        return
    today = now().astimezone().date()
    for review in reviews:
        late = (today - parse_iso(review.due).astimezone().date()).days
        when = "due today" if late <= 0 else f"{late} day{'s' if late != 1 else ''} overdue"
        about = "  ".join(p for p in (review.difficulty or "", review.title or "") if p)
        echo(f"{review.problem}  {when}  (last {review.last_rating}, {review.attempts} attempt"
             f"{'s' if review.attempts != 1 else ''})" + (style(f"  {about}", dim=True) if about else ""))


@practice.command(name="bar")
@json_option
@pass_log
def bar_command(ws: Workspace, as_json: bool) -> None:
    """Where you stand against the bar: the share of your last first attempts at mediums solved
    unaided within the target, with its 95% Wilson interval."""
    from upstack.services import practice as service

    bar = service.bar_status(ws)
    lines = service.bar_statement(bar)
    if as_json:
        print_json({**bar.to_dict(), "statement": lines})
        return
    for line in lines:
        echo(line)


@practice.command(name="strike")
@click.argument("attempt_id", metavar="ID")
@json_option
@pass_log
def strike_command(ws: Workspace, attempt_id: str, as_json: bool) -> None:
    """Strike out an attempt logged by mistake (its id from `practice list`).

    Nothing is deleted: the strike is one more record, and striking the strike
    (its id is printed) puts the attempt back.
    """
    from upstack.services import practice as service

    done = service.strike(ws, attempt_id)
    target = done.target
    if as_json:
        print_json({"strike": done.strike_id, "short": short_id(done.strike_id), "target": target.id,
                    "problem": target.subject, "restored": done.restored})
    elif done.restored:
        echo(f"strike {short_id(target.id)} struck out: the attempt at {target.subject} it named is back")
    else:
        echo(f"struck out {short_id(target.id)} ({target.subject}, {local_display(target.at)}); "
             f"`upstack practice strike {short_id(done.strike_id)}` puts it back")


@practice.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Read FIELD from the column named COLUMN, e.g. --map minutes=time_taken (repeatable). "
                   "Fields: problem, at, minutes, outcome, difficulty, topics, title, url, first.")
@json_option
@pass_log
def import_command(ws: Workspace, file: Path, mapping: tuple[str, ...], as_json: bool) -> None:
    """Import an attempt history from a CSV file: all of it, or nothing.

    Columns named as the fields (problem, at, minutes, outcome; difficulty, topics,
    title, url, first optional) are read as they are; --map names the others.
    Outcomes: unaided (or solved, yes), hints, failed (or unsolved, no). A bad row is
    named by its line and nothing is imported. Importing a file again adds nothing twice.
    """
    from upstack.services import practice_import

    result = practice_import.import_csv(ws, file, practice_import.parse_mapping(mapping))
    if as_json:
        print_json(result.to_dict())
    else:
        echo(f"imported {result.imported} attempt{'s' if result.imported != 1 else ''} from {file.name} "
             f"({result.encoding})" + (f"; {result.already} already in the log" if result.already else ""))


COMMANDS = [practice]
