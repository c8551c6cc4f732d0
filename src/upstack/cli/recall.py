"""`upstack log`, `search`, `show`, `history`, `tags`."""

from __future__ import annotations

from pathlib import Path

import click

from upstack.cli.options import build_filters, complete_entries, filter_options, json_option, pass_log
from upstack.cli.output import echo, entry_line, highlight, human_size, options_given, print_json, style
from upstack.domain.entry import Entry
from upstack.domain.query import parse_query, positive_terms
from upstack.domain.snippet import find_spans
from upstack.errors import BadInput, NotFound
from upstack.services import checks, comments, recall
from upstack.timeutil import local_display
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.command(name="log")
@filter_options
@click.option("-n", "--limit", default=30, show_default=True, help="How many (0 for all).")
@click.option("--deleted", is_flag=True, help="Include deleted entries.")
@click.option("--orphans", is_flag=True,
              help="Only work that traces to no agenda (what `upstack check` flags).")
@json_option
@pass_log
def log_command(ws: Workspace, limit: int, deleted: bool, orphans: bool, as_json: bool,
                **filters: object) -> None:
    """The timeline, newest first."""
    places = checks.orphan_places(ws) if orphans else None
    chosen = build_filters(ws, include_deleted=deleted, work_under=places, **filters)  # type: ignore[arg-type]
    entries = recall.timeline(ws, chosen, limit or None)
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    given = options_given(**_named_filters(filters), orphans=orphans)
    if not entries and given:
        echo(f"No entries match {given}.")
    elif not entries:
        echo("No entries yet. Write one with: upstack note \"...\"")
    for entry in entries:
        echo(entry_line(entry))


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("query", nargs=-1, type=click.UNPROCESSED)
@filter_options
@click.option("-n", "--limit", default=20, show_default=True, help="How many results.")
@json_option
@pass_log
def search(ws: Workspace, query: tuple[str, ...], limit: int, as_json: bool,
           **filters: object) -> None:
    """Ranked full-text search over titles, bodies and tags.

    \b
    words             all of them (AND is implied)
    "a phrase"        these words in a row
    patch*            words starting with patch
    a OR b, NOT a     boolean operators; -word excludes; ( ) group
    #tag              entries with this tag (and tags nested under it)

    A misspelt word is offered respelt as a word of your entries ("Did you mean").
    """
    text = " ".join(query)
    page = recall.search(ws, text, build_filters(ws, **filters), limit)  # type: ignore[arg-type]
    suggestion = recall.suggest(ws, text, matched=page.total > 0)
    if as_json:
        print_json({"query": text, "total": page.total, "results": [h.to_dict() for h in page.hits],
                    "suggestion": suggestion})
        return
    if not page.hits:
        given = options_given(**_named_filters(filters))
        echo(f"No entries match {text!r}" + (f" ({given})." if given else "."))
        if suggestion:
            echo(f"Did you mean: {suggestion}?")
        return
    terms = positive_terms(parse_query(text))
    for hit in page.hits:
        title = highlight(hit.entry.title, find_spans(hit.entry.title, terms))
        echo(entry_line(hit.entry, title=title))
        if hit.snippet:
            echo("    " + highlight(hit.snippet, hit.highlights))
    shown = len(page.hits)
    if page.total > shown:
        echo(style(f"{shown} of {page.total} matches; use -n to see more", dim=True))
    if suggestion:
        echo(f"Did you mean: {suggestion}?")


def _named_filters(filters: dict[str, object]) -> dict[str, object]:
    """The filter options under the names people type them by (``tags`` is --tag)."""
    return {"project": filters.get("project"), "tag": filters.get("tags"), "kind": filters.get("kinds"),
            "since": filters.get("since"), "until": filters.get("until")}


def _print_entry(entry: Entry) -> None:
    echo(style(entry.short, fg="yellow") + "  " + style(entry.title or "(purged)", bold=True))
    facts = [f"kind: {entry.kind}"]
    if entry.project:
        facts.append(f"under: {entry.project}")
    if entry.tags:
        facts.append("tags: " + " ".join("#" + t for t in entry.tags))
    if entry.private:
        facts.append("private")
    if entry.starred:
        facts.append("★ starred")
    echo(style("   ".join(facts), dim=True))
    when = f"written {local_display(entry.occurred_at)}"
    if local_display(entry.occurred_at) != local_display(entry.created_at):  # not "15:25 (recorded 15:25)"
        when += f" (recorded {local_display(entry.created_at)})"
    if entry.updated_at != entry.created_at:
        when += f", last changed {local_display(entry.updated_at)}"
    echo(style(when + f"   id {entry.id}", dim=True))
    if entry.deleted_at:
        echo(style(f"deleted {local_display(entry.deleted_at)}; `upstack restore {entry.short}` "
                   "brings it back" if not entry.purged_at else
                   f"purged {local_display(entry.purged_at)}: the content is gone", fg="red"))
    for field in ("expected", "happened", "outcome"):
        if entry.meta.get(field):
            echo(f"{style(field + ':', bold=True)} {entry.meta[field]}")
    if entry.body:
        echo()
        echo(entry.body)
    if entry.attachments:
        echo()
        echo(style("Attachments", bold=True))
        for a in entry.attachments:
            if a.purged_at:
                echo(f"  {style(a.short, fg='yellow')}  (purged {local_display(a.purged_at)})")
            else:
                echo(f"  {style(a.short, fg='yellow')}  {a.filename}  "
                     f"{style(a.media_type + ', ' + human_size(a.size), dim=True)}")
    if entry.links:
        echo()
        echo(style("Links", bold=True))
        for link in entry.links:
            if link.entry_id:
                echo(f"  → {style(link.to_dict()['short'], fg='yellow')}  {link.title}")
            else:
                echo(f"  → [[{link.target}]]  " + style("(no such entry yet)", dim=True))
    if entry.backlinks:
        echo()
        echo(style("Linked from", bold=True))
        for link in entry.backlinks:
            echo(f"  ← {style(link.to_dict()['short'], fg='yellow')}  {link.title}")


@click.command()
@click.argument("entry_id", metavar="ID", shell_complete=complete_entries)
@json_option
@pass_log
def show(ws: Workspace, entry_id: str, as_json: bool) -> None:
    """One entry in full, with attachments, links, backlinks and comments."""
    entry = recall.show(ws, entry_id)
    said = comments.for_entry(ws, entry)
    if as_json:
        print_json({**entry.to_dict(), "comments": said})
        return
    _print_entry(entry)
    if said:
        echo()
        echo(style("Comments", bold=True))
        for item in said:
            echo(f"  {style(item['name'] or item['login'] or 'you', fg='cyan')}  "
                 + style(local_display(item["created_at"]), dim=True))
            for line in item["body"].splitlines():
                echo("    " + line)


@click.command()
@click.argument("entry_id", metavar="ID", shell_complete=complete_entries)
@json_option
@pass_log
def history(ws: Workspace, entry_id: str, as_json: bool) -> None:
    """Every revision of an entry, each with what changed."""
    import difflib  # only this command needs it

    entry, revisions = recall.history(ws, entry_id)
    if as_json:
        print_json({"entry": entry.id, "revisions": [r.to_dict() for r in revisions]})
        return
    previous: list[str] = []
    for revision in revisions:
        echo(style(f"revision {revision.number}", bold=True) + "  "
             + style(local_display(revision.created_at, seconds=True), dim=True)
             + ("  " + style("purged", fg="red") if revision.purged_at else ""))
        lines = [revision.title, ""] + revision.body.splitlines()
        if not previous:
            for line in lines:
                echo("  " + line)
        else:
            for line in difflib.unified_diff(previous, lines, lineterm="", n=1):
                if line.startswith(("---", "+++")):
                    continue
                color = "green" if line.startswith("+") else "red" if line.startswith("-") else None
                echo("  " + (style(line, fg=color) if color else line))
        previous = lines
        echo()


@click.command()
@filter_options
@json_option
@pass_log
def tags(ws: Workspace, as_json: bool, **filters: object) -> None:
    """All tags, most used first."""
    rows = recall.tags(ws, build_filters(ws, **filters))  # type: ignore[arg-type]
    if as_json:
        print_json([{"tag": t, "entries": n, "last_used": last} for t, n, last in rows])
        return
    given = options_given(**_named_filters(filters))
    if not rows and given:
        echo(f"No tags on the entries that match {given}.")
    elif not rows:
        echo("No tags yet: write #tags in a note.")
    width = max((len(t) for t, _, _ in rows), default=0) + 1
    for tag, count, last in rows:
        echo(f"{style(('#' + tag).ljust(width), fg='green')}  {count:>5}  "
             + style(f"last {local_display(last)}", dim=True))


@click.command()
@click.argument("attachment_id", metavar="ATTACHMENT_ID|NAME:vN|NAME@DIGEST")
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@pass_log
def save(ws: Workspace, attachment_id: str, dest: Path | None) -> None:
    """Save an attached file (its id is listed by `upstack show`), or a version of an artifact
    (NAME:v3, NAME:latest or NAME@DIGEST, listed by `upstack artifact show NAME`), to DEST.

    DEST defaults to the file's (or the artifact's) own name in the current directory; an existing
    file is never overwritten. The bytes are checked against their SHA-256.
    """
    if ":" in attachment_id or "@" in attachment_id:  # an id never holds either
        from upstack.services import artifacts  # here: the artifact code loads only to save one

        version, target = artifacts.save(ws, attachment_id, dest)
        echo(f"{version.label}  saved to {target}")
        return
    try:
        attachment, target = recall.save_attachment(ws, attachment_id, dest)
    except (BadInput, NotFound) as wrong:
        from upstack.services import artifacts

        try:  # a bare artifact name is the likelier meaning: say how to write it
            latest = artifacts.find(ws, attachment_id)
        except (BadInput, NotFound):
            raise wrong from None
        raise BadInput(f"no attachment {attachment_id!r}, but there is an artifact by that name: "
                       f"upstack save {latest.label} DEST (or {latest.name}:latest)") from None
    echo(f"{attachment.short}  saved to {target}")


COMMANDS = [log_command, search, show, history, tags, save]
