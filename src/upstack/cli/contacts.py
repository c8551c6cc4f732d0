"""`upstack contact ...` (people and organisations, and the work of yours that fits their interests)
and `upstack outreach ...` (a cold email drafted from that work, and what was sent and said)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from upstack.cli.editing import open_editor, read_stdin
from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.errors import BadInput
from upstack.services import contacts as service
from upstack.services import matching, outreach
from upstack.services.contacts import Contact
from upstack.workspace import Workspace

__all__ = ["COMMANDS", "show_matches"]

_LEVELS = """Two levels of private: a contact is private by default (stored wherever your log is, a team
server too if you sync; only you see it), or local-only (it and every exchange with it never leave
this machine: never synced, never on a server). --local-only or --private chooses for one contact;
the setting UPSTACK_CONTACTS_LOCAL_ONLY makes local-only the default."""


def _level(found: Contact) -> str:
    return "local-only" if found.local_only else "private"


def _line(found: Contact) -> str:
    org = f" ({found.organisation})" if found.organisation else ""
    facts = [_level(found)]
    if found.last_exchange:
        facts.append(f"last {found.last_exchange['kind']} {found.last_exchange['when']}")
    if found.follow_up:
        facts.append(f"follow up {found.follow_up}")
    return (f"{style(found.slug, fg='yellow')}  {found.name}{org}" + style(f"  [{', '.join(facts)}]", dim=True)
            + (style("  removed", fg="red") if found.removed else ""))


def _matched_line(found: matching.Matched) -> str:
    why = style("  (" + ", ".join(found.words) + ")", dim=True) if found.words else ""
    detail = style(f"  {found.detail}", dim=True) if found.detail else ""
    return f"  {style(found.short, fg='yellow')}  {style(f'{found.kind:<13}', fg='cyan')} {found.title}{detail}{why}"


def show_matches(found: matching.Matches) -> None:
    """A ranking of the reader's work and open problems, as `contact match` prints it (`opp match` too)."""
    echo(style(f"looked for: {found.interests.query or '(nothing to look for)'}", dim=True))
    echo(style("Your work that fits:", bold=True))
    for item in found.work:
        echo(_matched_line(item))
    if not found.work:
        echo("  nothing yet")
    echo(style("Open problems that fit (ideas and questions):", bold=True))
    for item in found.problems:
        echo(_matched_line(item))
    if not found.problems:
        echo("  none")


def _text(text: str | None, file: str | None) -> str | None:
    """--text or --file (``-``: standard input), not both; None if neither."""
    if text is not None and file is not None:
        raise BadInput("give --text or --file, not both")
    if file is None:
        return text
    if file == "-":
        return read_stdin()
    try:
        return Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{file} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise BadInput(f"cannot read {file}: {exc.strerror}") from None


def _fields(func: Any) -> Any:
    for option in reversed([
        click.option("--org", "organisation", metavar="NAME", help="Their organisation."),
        click.option("--kind", type=click.Choice(service.KINDS), help="A person (the default) or an organisation."),
        click.option("--interests", metavar="TEXT", help="Their research interests, in words (what is matched)."),
        click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag for their interests (repeatable)."),
        click.option("--link", "links", multiple=True, metavar="URL", help="A page of theirs (repeatable)."),
        click.option("--how", "how_known", metavar="TEXT", help="How you know them (a talk, a paper, a friend)."),
        click.option("--notes", metavar="TEXT", help="Anything else."),
    ]):
        func = option(func)
    return func


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    """The options given (a repeatable one given no times is not given)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in fields.items() if v not in (None, ())}


# -- contact ----------------------------------------------------------------------------------------

@click.group(invoke_without_command=True, help=f"""People and organisations whose work you follow, with
their research interests, how you know them and every exchange; `contact match` ranks your own work by
their interests.

\b
{_LEVELS}

\b
Examples:
  upstack contact add "Chris Olah" --org Anthropic --interests "sparse autoencoders, features" --tag sae
  upstack contact match chris
  upstack contact show chris""")
@json_option
@click.pass_context
def contact(ctx: click.Context, as_json: bool) -> None:
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command, as_json=as_json, removed=False)


@contact.command(name="add", help=f"""Add a person or organisation; prints its name as you type it
afterwards (its slug).

\b
{_LEVELS}""")
@click.argument("name")
@_fields
@click.option("--local-only/--private", "local_only", default=None,
              help="Local-only: never leaves this machine. Private: stored with your log (a team server too), "
                   "only you see it. Default: the setting contacts_local_only (private).")
@json_option
@pass_log
def add_command(ws: Workspace, name: str, local_only: bool | None, as_json: bool, **fields: Any) -> None:
    found = service.add(ws, name, local_only=local_only, **_given(fields))
    if as_json:
        print_json(found.to_dict())
        return
    echo(found.slug)
    echo(style(f"{_level(found)}: " + ("never leaves this machine" if found.local_only
                                       else "only you see it, on a server too"), dim=True), err=True)


@contact.command(name="list")
@click.option("--removed", is_flag=True, help="Removed contacts too.")
@json_option
@pass_log
def list_command(ws: Workspace, removed: bool, as_json: bool) -> None:
    """Your contacts, by name."""
    found = service.contacts(ws, removed=removed)
    if as_json:
        print_json([c.to_dict() for c in found])
        return
    if not found:
        echo('No contacts yet: `upstack contact add "NAME" --interests TEXT` adds one.')
    for one in found:
        echo(_line(one))


@contact.command(name="show")
@click.argument("name")
@click.option("--limit", default=5, show_default=True, metavar="N", help="How much matched work to show.")
@json_option
@pass_log
def show_command(ws: Workspace, name: str, limit: int, as_json: bool) -> None:
    """One contact: details, every exchange, and your work that fits their interests."""
    found = service.find(ws, name)
    matched = matching.for_contact(ws, found.slug, limit) if found.interests.strip() or found.tags else None
    if as_json:
        print_json({**found.to_dict(), "matched": matched.to_dict() if matched else None})
        return
    echo(_line(found))
    for label, value in (("kind", found.kind), ("interests", found.interests), ("tags", " ".join(found.tags)),
                         ("links", " ".join(found.links)), ("how known", found.how_known), ("notes", found.notes)):
        if value:
            echo(f"  {label}: {value}")
    echo(style(f"{plural(len(found.history), 'exchange')}:", bold=True))
    for x in found.history:
        about = x["title"] or " ".join(x["text"].split())[:80]
        echo(f"  {x['when']}  {x['kind']:<8} {about}" + (style(f"  follow up {x['follow_up']}", dim=True)
                                                         if x["follow_up"] else ""))
    if matched is None:
        echo(style(f"no interests yet: `upstack contact edit {found.slug} --interests TEXT`", dim=True))
    else:
        show_matches(matched)


@contact.command(name="edit")
@click.argument("name")
@click.option("--name", "new_name", metavar="NAME", help="Their name (the slug you type stays).")
@_fields
@click.option("--follow-up", metavar="WHEN", help="A day to follow up ('in 2 weeks'; '' clears it).")
@json_option
@pass_log
def edit_command(ws: Workspace, name: str, new_name: str | None, follow_up: str | None, as_json: bool,
                 **fields: Any) -> None:
    """Change a contact's fields (--tag and --link replace all of them)."""
    found = service.edit(ws, name, **_given({**fields, "name": new_name, "follow_up": follow_up}))
    if as_json:
        print_json(found.to_dict())
    else:
        echo(_line(found))


@contact.command(name="rm")
@click.argument("name")
@pass_log
def rm_command(ws: Workspace, name: str) -> None:
    """Remove a contact (restorable with `upstack contact restore`)."""
    found = service.remove(ws, name)
    echo(f"removed {found.slug} (`upstack contact restore {found.slug}` takes it back)")


@contact.command(name="restore")
@click.argument("name")
@pass_log
def restore_command(ws: Workspace, name: str) -> None:
    """Take back a removed contact, with its history."""
    echo(_line(service.restore(ws, name)))


@contact.command(name="match")
@click.argument("name")
@click.option("--limit", default=10, show_default=True, metavar="N", help="How many of each list.")
@json_option
@pass_log
def match_command(ws: Workspace, name: str, limit: int, as_json: bool) -> None:
    """Your own work and open problems, ranked by a contact's research interests.

    Results, learnings, write-ups and questions you wrote, then small open problems (ideas not yet
    tried, open questions of your tree) to work on and write to them about. Never a private entry,
    a wellbeing note or someone else's work.
    """
    found = matching.for_contact(ws, name, limit)
    if as_json:
        print_json(found.to_dict())
    else:
        show_matches(found)


# -- outreach ---------------------------------------------------------------------------------------

@click.group(name="outreach")
def outreach_group() -> None:
    """Cold emails drafted from your matched work, and what you sent, heard and said.

    upstack sends nothing: it writes the draft and keeps what you did. Exchanges have the level
    of their contact (private or local-only: see `upstack contact --help`).

    \b
    Examples:
      upstack outreach draft chris                 # opens $EDITOR; saving keeps it as a draft
      upstack outreach sent chris --follow-up "in 10 days"
      upstack outreach reply chris --text "Happy to talk on Friday."
      upstack outreach list
    """


@outreach_group.command(name="draft")
@click.argument("name")
@click.option("--no-edit", is_flag=True, help="Keep the draft as assembled, without opening $EDITOR.")
@json_option
@pass_log
def draft_command(ws: Workspace, name: str, no_edit: bool, as_json: bool) -> None:
    """Draft a short cold email from your work that fits NAME's interests, in $EDITOR.

    What you did (your best-matching result), what came of it, a link, one specific question (an
    open question or idea of yours that fits) and your portfolio name. Saving keeps it as a draft
    exchange; without a terminal (or with --no-edit) the draft is kept as assembled and printed.
    """
    made = outreach.draft(ws, name)
    text = made.text
    if not no_edit and not as_json and sys.stdin.isatty():
        edited = open_editor(text, ws.settings.editor, [
            "The first line is the subject. Saving keeps this as a draft; upstack sends nothing.",
            f"Send it yourself, then: upstack outreach sent {made.contact.slug}"])
        if not edited:
            echo("Nothing saved.")
            return
        text = edited
    outreach.save_draft(ws, made.contact.slug, text)
    if as_json:
        subject, body = outreach.split_subject(text)
        print_json({**made.to_dict(), "subject": subject, "body": body})
        return
    echo(text.rstrip("\n"))
    echo(style(f"draft kept; once you have sent it: upstack outreach sent {made.contact.slug}", dim=True), err=True)


def _exchange_options(func: Any) -> Any:
    for option in reversed([
        click.option("--text", metavar="TEXT", help="What was said."),
        click.option("--file", metavar="FILE", help="What was said, from a file ('-': standard input)."),
        click.option("--at", "when", metavar="WHEN", help="The day it happened (default: today)."),
    ]):
        func = option(func)
    return func


@outreach_group.command(name="sent")
@click.argument("name")
@_exchange_options
@click.option("--subject", metavar="TEXT", help="The email's subject line.")
@click.option("--follow-up", metavar="WHEN", help=f"When to follow up (default: in {outreach.FOLLOW_UP_DAYS} days).")
@pass_log
def sent_command(ws: Workspace, name: str, text: str | None, file: str | None, when: str | None,
                 subject: str | None, follow_up: str | None) -> None:
    """Record an email you sent NAME (without --text or --file: the newest draft); `upstack due`
    lists the follow-up."""
    found = outreach.sent(ws, name, _text(text, file), subject=subject, when=when, follow_up=follow_up)
    echo(f"sent to {found.name} on {found.history[-1]['when']}; follow up on {found.follow_up}")


@outreach_group.command(name="reply")
@click.argument("name")
@_exchange_options
@click.option("--follow-up", metavar="WHEN", help="A new day to follow up (default: none; the reply clears it).")
@pass_log
def reply_command(ws: Workspace, name: str, text: str | None, file: str | None, when: str | None,
                  follow_up: str | None) -> None:
    """Record a reply from NAME: it clears the follow-up unless you give a new one."""
    found = outreach.reply(ws, name, _text(text, file) or "", when=when, follow_up=follow_up)
    echo(f"reply from {found.name} on {found.history[-1]['when']}"
         + (f"; follow up on {found.follow_up}" if found.follow_up else "; no follow-up due"))


@outreach_group.command(name="log")
@click.argument("name")
@click.argument("kind", type=click.Choice(outreach.LOGGED))
@_exchange_options
@click.option("--follow-up", metavar="WHEN", help="A day to follow up ('' clears it).")
@pass_log
def log_command(ws: Workspace, name: str, kind: str, text: str | None, file: str | None, when: str | None,
                follow_up: str | None) -> None:
    """Record a call, a meeting or a note with NAME."""
    found = outreach.log(ws, name, kind, _text(text, file) or "", when=when, follow_up=follow_up)
    echo(f"{kind} with {found.name} on {found.history[-1]['when']}"
         + (f"; follow up on {found.follow_up}" if found.follow_up else ""))


@outreach_group.command(name="list")
@click.option("--days", default=7, show_default=True, metavar="N", help="Follow-ups due within N days (and overdue).")
@click.option("--limit", default=20, show_default=True, metavar="N", help="How many recent exchanges.")
@json_option
@pass_log
def outreach_list(ws: Workspace, days: int, limit: int, as_json: bool) -> None:
    """Follow-ups due, then the most recent exchanges with anyone."""
    if not 0 <= days <= 3660 or limit < 1:
        raise BadInput("--days must be from 0 to 3660 and --limit at least 1")
    due, recent = outreach.follow_ups(ws, days), outreach.recent(ws, limit)
    if as_json:
        print_json({"follow_ups": [{"contact": c.slug, "name": c.name, "day": c.follow_up} for c in due],
                    "recent": [{"contact": c.slug, "name": c.name, **x} for c, x in recent]})
        return
    echo(style(f"Follow-ups due within {days} days:", bold=True))
    for c in due:
        echo(f"  {c.follow_up}  {c.name}  " + style(f"[{c.slug}]", fg="yellow"))
    if not due:
        echo("  none")
    echo(style("Recent exchanges:", bold=True))
    for c, x in recent:
        about = x["title"] or " ".join(x["text"].split())[:70]
        echo(f"  {x['when']}  {x['kind']:<8} {c.name}" + (style(f"  {about}", dim=True) if about else ""))
    if not recent:
        echo("  none yet")


COMMANDS = [contact, outreach_group]
