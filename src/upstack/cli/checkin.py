"""`upstack checkin`: a daily check-in in seconds, kept on this machine only (services/wellbeing.py)."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click

from upstack.cli.options import Number, ask_secret, ask_until_valid, json_option, pass_caught_up_on, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.domain.permissions import WELLBEING_OPS
from upstack.errors import BadInput
from upstack.services import wellbeing, wellbeing_seal
from upstack.timeutil import parse_day, today_local
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

_PRIVATE = "Kept on this machine only: never synced, never on a team server, never in an export for others."


def _sign_scores(given: tuple[str, ...]) -> dict[str, int]:
    scores = {}
    for item in given:
        name, sep, value = item.rpartition("=")
        try:  # isdecimal, not isdigit: int() takes no '²'; and int() refuses 5000 digits
            if not sep or not name.strip() or not value.strip().isdecimal():
                raise ValueError
            scores[name.strip()] = int(value)
        except ValueError:
            raise BadInput(f"--sign takes NAME=SCORE (0-3), e.g. --sign snacking=2, not {item[:80]!r}") from None
    return scores


def _number(kind: type, checked: Callable[[str, Any], Any], name: str) -> Callable[[str], Any]:
    """How one answer is read: a number of ``kind`` within its range (``checked`` says the range)."""
    def read(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise BadInput(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
        if kind is float and not math.isfinite(value):
            raise BadInput(f"{text!r} is not a number of hours")
        return checked(name, value)
    return read


def _ask(ws: Workspace, day: date | None) -> dict[str, object]:
    """Each question with Enter to skip it (a gap, never a zero), asked again until its answer is
    one (a typo costs a line, never the answers before it): under 30 seconds. Locked check-ins ask
    for the passphrase first, before any answer is typed."""
    wellbeing_seal.verify(ws)
    signs = wellbeing.signs(ws)
    echo(style("Check-in (Enter skips a question). " + _PRIVATE, dim=True))
    night, worked = ("last night", "today") if day is None else (f"the night before {day}", f"on {day}")
    answers: dict[str, object] = {
        "sleep_hours": ask_until_valid(f"Sleep {night} (hours)", _number(float, wellbeing.checked_hours, "sleep")),
        "energy": ask_until_valid("Energy, 0 (none) to 3 (plenty)", _number(int, wellbeing.checked_score, "energy")),
        "mood": ask_until_valid("Mood, 0 (low) to 3 (good)", _number(int, wellbeing.checked_score, "mood")),
        "hours_worked": ask_until_valid(f"Hours worked {worked}",
                                        _number(float, wellbeing.checked_hours, "hours worked")),
    }
    scores = {}
    for sign in signs:
        value = ask_until_valid(f"{sign.name}, 0 (not at all) to 3 (a lot)",
                                _number(int, wellbeing.checked_score, sign.name))
        if value is not None:
            scores[sign.slug] = value
    answers["sign_scores"] = scores
    answers["note"] = click.prompt("A note", default="", show_default=False)
    return answers


@click.group(invoke_without_command=True)
@click.option("--sleep", "sleep_hours", type=Number(float), metavar="HOURS", help="Hours slept last night.")
@click.option("--energy", type=Number(int), metavar="0-3", help="Energy: 0 none, 3 plenty.")
@click.option("--mood", type=Number(int), metavar="0-3", help="Mood: 0 low, 3 good.")
@click.option("--hours", "hours_worked", type=Number(float), metavar="HOURS", help="Hours worked that day.")
@click.option("--sign", "sign_given", multiple=True, metavar="NAME=0-3",
              help="One of your warning signs, scored (repeat it): --sign snacking=2.")
@click.option("--note", default="", help="A few words on the day.")
@click.option("--clear", "clear", multiple=True, metavar="ANSWER",
              help="Make an answer given earlier that day a gap again (a mistyped one): sleep, energy, mood, "
                   "hours, note or a sign's name (repeat it).")
@click.option("--at", "day", metavar="DAY", help="A day gone by, to fill in a missed one ('yesterday', 2026-12-01).")
@json_option
@pass_caught_up_on(WELLBEING_OPS)  # a check-in reads check-ins only: notes waiting wait for the next read
@click.pass_context
def checkin(ctx: click.Context, ws: Workspace, sleep_hours: float | None, energy: int | None, mood: int | None,
            hours_worked: float | None, sign_given: tuple[str, ...], note: str, clear: tuple[str, ...],
            day: str | None, as_json: bool) -> None:
    """Check in: sleep, energy, mood, hours worked and your own early warning signs.

    Kept on this machine only (never synced, never on a team server). With no options at a
    terminal it asks, each question skippable; a question left out is a gap, never a zero.

    \b
    Examples:
      upstack checkin --sleep 6.5 --energy 2 --mood 2 --hours 9 --sign snacking=1
      upstack checkin --at yesterday --sleep 5 --note "deadline night"
      upstack checkin --at yesterday --clear sleep
      upstack checkin list
      upstack checkin lock
    """
    if ctx.invoked_subcommand is not None:
        return
    given: dict[str, object] = dict(sleep_hours=sleep_hours, energy=energy, mood=mood, hours_worked=hours_worked,
                                    sign_scores=_sign_scores(sign_given), note=note)
    when = date.fromisoformat(parse_day(day, what="check-in day", prefer="past")) if day else None
    if not clear and not any(v not in (None, {}, "") for v in given.values()):
        if not sys.stdin.isatty():
            raise click.UsageError("give what to record (e.g. --sleep 7 --energy 2), or run it at a terminal "
                                   "to be asked")
        given = _ask(ws, wellbeing.checked_day(when) if when else None)  # a day to come is refused before asking
    recorded = wellbeing.check_in(ws, day=when, clear=clear, **given)  # type: ignore[arg-type]
    if ws.open_to_others():  # kept on this machine, but not from its other users
        echo(style("warning: other users of this machine can read this workspace: `upstack doctor --fix` "
                   "closes it", fg="yellow"), err=True)
    if as_json:
        print_json(recorded.to_dict())
        return
    echo(f"checked in for {recorded.day} " + style("(kept on this machine only)", dim=True))


@checkin.command("list")
@click.option("--days", type=Number(int, at_least=1), default=14, show_default=True,
              help="How many days back, today included.")
@json_option
@pass_log
def checkin_list(ws: Workspace, days: int, as_json: bool) -> None:
    """Your check-ins of the last days (two weeks unless --days), newest first."""
    everything = wellbeing.checkins(ws)
    today = today_local()
    since = (today - timedelta(days=days - 1) if days <= (today - date.min).days else date.min).isoformat()
    rows = [row for day, row in everything.items() if day >= since][::-1]
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    if not rows:
        echo(f"no check-ins in the last {plural(days, 'day')} (--days looks further back)" if everything
             else "no check-ins yet: `upstack checkin` asks a few questions")
        return
    names = {s.slug: s.name for s in wellbeing.signs(ws, retired=True)}
    order = {slug: index for index, slug in enumerate(names)}  # as `pace` lists them
    for row in rows:
        scored = sorted(row.signs.items(), key=lambda item: order.get(item[0], len(order)))
        facts = [f"sleep {row.sleep_hours:g} h" if row.sleep_hours is not None else "",
                 f"energy {row.energy}" if row.energy is not None else "",
                 f"mood {row.mood}" if row.mood is not None else "",
                 f"worked {row.hours_worked:g} h" if row.hours_worked is not None else "",
                 *(f"{names.get(k, k)} {v}" for k, v in scored)]
        note = style(f"  {row.note}", dim=True) if row.note else ""
        echo(f"{style(row.day, fg='yellow')}  " + ", ".join(f for f in facts if f) + note)


@checkin.group("signs", invoke_without_command=True)
@json_option
@pass_log
@click.pass_context
def checkin_signs(ctx: click.Context, ws: Workspace, as_json: bool) -> None:
    """Your early warning signs (the guide's: snacking, procrastinating sleep, video games)."""
    if ctx.invoked_subcommand is not None:
        return
    found = wellbeing.signs(ws, retired=True)
    if as_json:
        print_json([{"slug": s.slug, "name": s.name, "retired": s.retired} for s in found])
        return
    for sign in found:
        echo(f"{sign.name}" + (style("  (retired)", dim=True) if sign.retired else ""))


@checkin_signs.command("add")
@click.argument("name")
@pass_log
def signs_add(ws: Workspace, name: str) -> None:
    """Track a sign of your own, such as 'skipping lunch': scored 0-3 at each check-in."""
    echo(f"now tracking {wellbeing.add_sign(ws, name).name!r}")


@checkin_signs.command("rename")
@click.argument("old")
@click.argument("new")
@pass_log
def signs_rename(ws: Workspace, old: str, new: str) -> None:
    """Call a sign something else (its past scores stay with it)."""
    echo(f"renamed to {wellbeing.rename_sign(ws, old, new).name!r}")


@checkin_signs.command("retire")
@click.argument("name")
@pass_log
def signs_retire(ws: Workspace, name: str) -> None:
    """Stop being asked about a sign (its past scores stay)."""
    echo(f"retired {wellbeing.retire_sign(ws, name).name!r}")


@checkin.command("export")
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False), help="A CSV file (else standard output).")
@pass_log
def checkin_export(ws: Workspace, out: Path | None) -> None:
    """Your check-ins as CSV, a column per sign: yours to keep or chart."""
    if out is None:
        import io

        text = io.StringIO()
        wellbeing.write_csv(ws, text)
        echo(text.getvalue(), nl=False)  # through the cleaning echo: a note's control characters stay off
        return
    from upstack.files import atomic_path

    try:
        with atomic_path(out, permissions=0o600) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
            count = wellbeing.write_csv(ws, handle)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror}") from None
    echo(f"wrote {plural(count, 'check-in')} to {out}")


def _new_passphrase(env: str) -> str:
    """A new passphrase: from ``env`` if set, else typed twice at a terminal."""
    given = os.environ.get(env)
    if given:
        return given
    if not sys.stdin.isatty():
        raise BadInput(f"give the new passphrase: set {env} or run at a terminal")
    first = ask_secret("New passphrase for your check-ins")
    wellbeing_seal.check_new_passphrase(first)
    if ask_secret("The same passphrase again") != first:
        raise BadInput("the two passphrases differ: nothing was changed")
    return first


def _said(done: wellbeing_seal.Rewritten) -> None:
    if done.set_aside:
        echo(f"and {plural(done.set_aside, 'record')} in journal files kept aside for you to inspect")
    for copy in done.old_copies:
        echo(style(f"note: {copy} is a copy of the database made before an upgrade, with check-ins in clear: "
                   "delete it once you no longer need it", fg="yellow"), err=True)


@checkin.command("lock")
@pass_log
def checkin_lock(ws: Workspace) -> None:
    """Seal your check-ins with a passphrase (encryption at rest).

    Every check-in, sign, plan and note is sealed: in the database, the journal and backups. From
    then on reading or writing them needs the passphrase: typed at a terminal (twice, the first
    time) or set in UPSTACK_PASSPHRASE. It is never stored: lost, the check-ins cannot be opened
    (`upstack checkin forget` starts over).
    """
    wellbeing.refuse_on_a_server(ws)
    if wellbeing_seal.is_locked(ws):
        passphrase = os.environ.get(wellbeing_seal.PASSPHRASE_ENV) or (
            ask_secret("Passphrase for your check-ins") if sys.stdin.isatty() else "")
        if not passphrase:
            raise BadInput(wellbeing_seal.LOCKED_MESSAGE)
        done = wellbeing_seal.lock(ws, passphrase)
        echo(f"check-ins are locked already; sealed {plural(done.records, 'record')} left in clear")
    else:
        done = wellbeing_seal.lock(ws, _new_passphrase(wellbeing_seal.PASSPHRASE_ENV))
        echo(f"check-ins locked: sealed {plural(done.records, 'record')} "
             + style("(the passphrase is not stored: keep it safe)", dim=True))
    _said(done)


@checkin.command("unlock")
@pass_log
def checkin_unlock(ws: Workspace) -> None:
    """Keep your check-ins in clear again (asks the passphrase, or UPSTACK_PASSPHRASE)."""
    done = wellbeing_seal.unlock(ws)
    echo(f"check-ins unlocked: {plural(done.records, 'record')} kept in clear again")
    _said(done)


@checkin.command("passphrase")
@pass_log
def checkin_passphrase(ws: Workspace) -> None:
    """Change the passphrase of your check-ins.

    Asks the present one and the new one (twice) at a terminal; elsewhere reads them from
    UPSTACK_PASSPHRASE and UPSTACK_NEW_PASSPHRASE.
    """
    wellbeing_seal.verify(ws)
    done = wellbeing_seal.change_passphrase(ws, _new_passphrase(wellbeing_seal.NEW_PASSPHRASE_ENV))
    echo(f"passphrase changed: sealed {plural(done.records, 'record')} anew")
    _said(done)


def _burnout_answers(given: str) -> list[str | None]:
    parts = [part.strip() for part in given.split(",")]
    return [None if part in ("", "-") else part for part in parts]


def _ask_burnout(ws: Workspace) -> list[str | None]:
    """The six questions, each asked again until its answer is one (a number 1-5 or a label); the
    passphrase first, when the check-ins are locked."""
    from upstack.domain import cbi

    def read(answer: str) -> str:
        if answer.isdigit() and 1 <= int(answer) <= len(cbi.ANSWERS):
            return cbi.ANSWERS[int(answer) - 1][0]
        if answer.isdigit():
            raise BadInput(f"{answer} is not one of the answers: give 1 to {len(cbi.ANSWERS)}, or its word")
        cbi.points(answer)
        return answer

    wellbeing_seal.verify(ws)
    echo(style("Six questions about the last weeks (Enter skips one). " + _PRIVATE, dim=True))
    choices = "  ".join(f"{number} {label}" for number, (label, _) in enumerate(cbi.ANSWERS, 1))
    given: list[str | None] = []
    for item in cbi.ITEMS:
        echo(style(choices, dim=True))
        given.append(ask_until_valid(item, read))
    return given


@checkin.group("burnout", invoke_without_command=True)
@click.option("--answers", metavar="A,A,A,A,A,A",
              help="The six answers in order: always, often, sometimes, seldom or never (or their points 100, "
                   "75, 50, 25, 0); '-' skips one.")
@click.option("--at", "day", metavar="DAY", help="A day gone by ('yesterday', 2026-12-01).")
@json_option
@pass_log
@click.pass_context
def checkin_burnout(ctx: click.Context, ws: Workspace, answers: str | None, day: str | None, as_json: bool) -> None:
    """The weekly burnout questionnaire: six questions, a score from 0 to 100.

    The personal-burnout scale of the Copenhagen Burnout Inventory (Kristensen et al., 2005),
    scored as published. Optional; once you have answered it, `upstack due` offers it weekly
    (with UPSTACK_CHECKIN_REMINDER on). A score is a pattern to notice, never a diagnosis.

    \b
    The six questions, in the order --answers takes them:
      1. How often do you feel tired?
      2. How often are you physically exhausted?
      3. How often are you emotionally exhausted?
      4. How often do you think: "I can't take it anymore"?
      5. How often do you feel worn out?
      6. How often do you feel weak and susceptible to illness?

    \b
    Examples:
      upstack checkin burnout
      upstack checkin burnout --answers often,sometimes,seldom,never,often,seldom
      upstack checkin burnout list
    """
    if ctx.invoked_subcommand is not None:
        return
    from upstack.services import burnout

    when = date.fromisoformat(parse_day(day, what="questionnaire day", prefer="past")) if day else None
    if answers is None:
        if not sys.stdin.isatty():
            raise click.UsageError("give the six answers (--answers often,sometimes,...), or run it at a terminal "
                                   "to be asked")
        given = _ask_burnout(ws)
    else:
        given = _burnout_answers(answers)
    found = burnout.answer(ws, given, day=when)
    line = burnout.talk_line(ws, found.score)
    if as_json:
        print_json({**found.to_dict(), "talk_line": line or None})
        return
    assert found.score is not None  # answer() refuses fewer answers than a score needs
    echo(f"personal burnout {found.score:.0f} of 100 for {found.day} " + style("(kept on this machine only)", dim=True))
    if line:
        echo(line)


@checkin_burnout.command("list")
@json_option
@pass_log
def burnout_list(ws: Workspace, as_json: bool) -> None:
    """Your questionnaire scores, oldest first."""
    from upstack.services import burnout

    found = burnout.answers(ws)
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    if not found:
        echo("no questionnaire answered yet: `upstack checkin burnout` asks six questions")
        return
    for item in found:
        score = "no score" if item.score is None else f"{item.score:.0f}"
        high = style("  high", fg="yellow") if item.level == "high" else ""
        echo(f"{style(item.day, fg='yellow')}  {score:>8}{high}")


@checkin.command("forget")
@click.option("--yes", is_flag=True, help="Do it without asking.")
@pass_log
def checkin_forget(ws: Workspace, yes: bool) -> None:
    """Delete all your wellbeing data for good: check-ins, signs, questionnaires, recovery plans and
    fit notes (not restorable), and the passphrase's seal (no passphrase needed)."""
    if not yes and not click.confirm("All your wellbeing data gone for good? This cannot be undone", default=False):
        raise click.Abort()
    echo(f"deleted {plural(wellbeing.forget_all(ws), 'wellbeing record')} for good")


COMMANDS = [checkin]
