"""`upstack portfolio`: the profile, accomplishments, proposals, CV variants, exports and the site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, plural, print_json, style
from upstack.files import write_atomically
from upstack.services import portfolio as folio
from upstack.services import portfolio_export
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


def _line(item: folio.Accomplishment) -> str:
    when = item.date + (f"..{item.end}" if item.end else "")
    facts = ", ".join(x for x in (item.organisation, when) if x)
    gone = " (dismissed)" if item.dismissed else " (removed)" if item.removed else ""
    return (f"{style(item.short, fg='yellow')}  {style(f'[{item.kind}]', fg='cyan')}  {item.title}"
            + (style(f"  {facts}", dim=True) if facts else "") + gone)


def _show_item(item: folio.Accomplishment, as_json: bool) -> None:
    if as_json:
        print_json(item.to_dict())
    else:
        echo(_line(item))


def _item_options(func: Any) -> Any:
    for option in reversed([
        click.option("--date", metavar="WHEN", help="When: YYYY, YYYY-MM or YYYY-MM-DD (or when it started)."),
        click.option("--end", metavar="WHEN", help="When it ended, for a range (a fellowship, a job)."),
        click.option("--url", metavar="URL", help="Where to see it: a repository, a write-up, a talk."),
        click.option("--summary", metavar="TEXT", help="One or two sentences, as a CV shows it."),
        click.option("--org", "organisation", metavar="NAME", help="The organisation, venue or funder."),
        click.option("--from", "sources", metavar="ID", multiple=True,
                     help="An entry, node or run behind it (repeatable)."),
    ]):
        func = option(func)
    return func


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def portfolio(ctx: click.Context, as_json: bool) -> None:
    """Your portfolio: a profile, accomplishments built from the log, CV exports and a website.

    \b
    Examples:
      upstack portfolio profile --name "Ada Lovelace" --link GitHub=https://github.com/ada
      upstack portfolio add repository "Induction heads in a 2-layer model" --url https://github.com/ada/ih
      upstack portfolio export --format jsonresume -o resume.json
      upstack portfolio site site/
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(_show, as_json=as_json)


@pass_log
def _show(ws: Workspace, as_json: bool) -> None:
    held = folio.load(ws)
    if as_json:
        print_json(held.to_dict())
        return
    profile = held.profile
    echo(style(profile.name or "No name yet", bold=True) + (f": {profile.headline}" if profile.headline else ""))
    if not profile.name:
        echo(style('  set it with: upstack portfolio profile --name "..."', dim=True))
    for link in profile.links:
        echo(style(f"  {link['label']}: {link['url']}", dim=True))
    echo()
    if not held.items:
        echo("No accomplishments yet. A small public project counts: add one with "
             "`upstack portfolio add repository TITLE --url URL`, or see `upstack portfolio proposals`.")
    for item in held.items:
        echo(_line(item))
    for variant in held.variants:
        echo(style(f"variant {variant.name}: {plural(len(variant.items), 'accomplishment')}"
                   + (f", sent with {variant.sent_with}" if variant.sent_with else ""), dim=True))
    if held.removed:
        echo(style(f"{len(held.removed)} removed or dismissed (upstack portfolio restore ID)", dim=True))


def _links(values: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        label, sep, url = value.partition("=")
        if not sep:
            label, url = "Website", value
        out.append((label.strip(), url.strip()))
    return out


@portfolio.command(name="profile")
@click.option("--name", help="Your name, as a CV shows it.")
@click.option("--headline", help="One line under it, e.g. 'Interpretability researcher'.")
@click.option("--email", help="An address to be reached at.")
@click.option("--link", "links", multiple=True, metavar="LABEL=URL",
              help="A link (repeatable; replaces all links), e.g. GitHub=https://github.com/ada.")
@click.option("--summary", help="A few sentences about you and your work.")
@json_option
@pass_log
def profile_command(ws: Workspace, links: tuple[str, ...], as_json: bool, **fields: Any) -> None:
    """Set your profile (kept once, used by every export)."""
    found = folio.set_profile(ws, **fields, links=_links(links) if links else None)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(f"{found.name or '(no name)'}" + (f": {found.headline}" if found.headline else ""))


@portfolio.command(name="add")
@click.argument("kind", metavar="KIND")
@click.argument("title", nargs=-1, required=True)
@_item_options
@json_option
@pass_log
def add_command(ws: Workspace, kind: str, title: tuple[str, ...], sources: tuple[str, ...], as_json: bool,
                **fields: Any) -> None:
    """Add an accomplishment, linked to the log items behind it (--from).

    KIND is one of: write-up, repository, result, talk, fellowship, job, grant.
    """
    _show_item(folio.add_item(ws, kind, " ".join(title), sources=list(sources), **fields), as_json)


@portfolio.command(name="edit")
@click.argument("item_id", metavar="ID")
@click.option("--kind", metavar="KIND", help="A new kind: " + ", ".join(folio.KINDS) + ".")
@click.option("--title", help="A new title.")
@_item_options
@json_option
@pass_log
def edit_command(ws: Workspace, item_id: str, sources: tuple[str, ...], as_json: bool, **fields: Any) -> None:
    """Change an accomplishment (its history is kept); --from replaces the items behind it."""
    _show_item(folio.edit_item(ws, item_id, sources=list(sources) if sources else None, **fields), as_json)


@portfolio.command(name="rm")
@click.argument("item_id", metavar="ID")
@json_option
@pass_log
def rm_command(ws: Workspace, item_id: str, as_json: bool) -> None:
    """Take an accomplishment out of the portfolio (restorable)."""
    _show_item(folio.remove_item(ws, item_id), as_json)


@portfolio.command(name="restore")
@click.argument("item_id", metavar="ID")
@json_option
@pass_log
def restore_command(ws: Workspace, item_id: str, as_json: bool) -> None:
    """Put back an accomplishment you removed or a proposal you dismissed."""
    _show_item(folio.restore_item(ws, item_id), as_json)


@portfolio.command(name="proposals")
@json_option
@pass_log
def proposals_command(ws: Workspace, as_json: bool) -> None:
    """What the log shows that could go in: done projects, results, ladder evidence."""
    found = folio.proposals(ws)
    if as_json:
        print_json([p.to_dict() for p in found])
        return
    if not found:
        echo("Nothing to propose: finish a project (`upstack node status ID done`) or log a result.")
    for proposal in found:
        echo(f"{style(proposal.short, fg='yellow')}  {style(f'[{proposal.kind}]', fg='cyan')}  {proposal.title}"
             + style(f"  {proposal.why}", dim=True))
    if found:
        echo(style("accept: upstack portfolio accept ID   dismiss: upstack portfolio dismiss ID", dim=True))


@portfolio.command(name="accept")
@click.argument("proposal_id", metavar="ID")
@click.option("--kind", metavar="KIND", help="Another kind than the one proposed.")
@click.option("--title", help="Another title.")
@click.option("--url", metavar="URL", help="Where to see it.")
@click.option("--summary", metavar="TEXT", help="One or two sentences, as a CV shows it.")
@json_option
@pass_log
def accept_command(ws: Workspace, proposal_id: str, as_json: bool, **fields: Any) -> None:
    """Accept a proposal: it becomes an accomplishment."""
    _show_item(folio.accept(ws, proposal_id, **fields), as_json)


@portfolio.command(name="dismiss")
@click.argument("proposal_id", metavar="ID")
@json_option
@pass_log
def dismiss_command(ws: Workspace, proposal_id: str, as_json: bool) -> None:
    """Turn a proposal down (kept: `portfolio restore` takes it back)."""
    _show_item(folio.dismiss(ws, proposal_id), as_json)


@portfolio.command(name="variant")
@click.argument("name")
@click.option("--items", required=True, metavar="ID,ID,...", help="The accomplishments, in the order shown.")
@click.option("--sent-with", default="", metavar="TEXT", help="What it went out with, e.g. 'MATS 8.0 application'.")
@json_option
@pass_log
def variant_command(ws: Workspace, name: str, items: str, sent_with: str, as_json: bool) -> None:
    """Name a CV variant: which accomplishments, in what order, sent with what."""
    found = folio.set_variant(ws, name, [i.strip() for i in items.split(",") if i.strip()], sent_with)
    if as_json:
        print_json(found.to_dict())
    else:
        echo(f"variant {found.name}: {plural(len(found.items), 'accomplishment')}")


@portfolio.command(name="export")
@click.option("--format", "fmt", type=click.Choice(["jsonresume", "rendercv"]), required=True,
              help="JSON Resume (schema 1.3) or RenderCV 2.3 YAML.")
@click.option("--variant", metavar="NAME", help="Only a named CV variant's accomplishments, in its order.")
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout).")
@pass_log
def export_command(ws: Workspace, fmt: str, variant: str | None, out: Path | None) -> None:
    """Write your CV as JSON Resume or RenderCV YAML: only what is in your portfolio."""
    import json

    held = folio.load(ws)
    text = (json.dumps(portfolio_export.to_json_resume(held, variant), ensure_ascii=False, indent=2) + "\n"
            if fmt == "jsonresume" else portfolio_export.rendercv_yaml(held, variant))
    if out is None:
        echo(text, nl=False)
        return
    write_atomically(out, text)
    echo(f"wrote {out}")


@portfolio.command(name="site")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@pass_log
def site_command(ws: Workspace, out: Path) -> None:
    """Build your personal website in OUT: HTML and CSS, no JavaScript, nothing loaded from elsewhere.

    Figures are written again without their metadata (EXIF, XMP, comments); one that is not PNG, JPEG,
    WebP or GIF, or cannot be read whole, is left out, and listed here with why.
    """
    from upstack.web import site  # the templates and Markdown renderer: only for this command

    built = site.build(ws, out)
    echo(f"wrote {out}/ ({built.pages} pages); open {out}/index.html")
    for title, name, why in built.left_out:  # fail closed: a figure that cannot be cleaned is not published
        echo(f"left out {name} ({title}): {why}")


@portfolio.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_log
def import_command(ws: Workspace, file: Path, as_json: bool) -> None:
    """Seed the profile and accomplishments from a JSON Resume file."""
    profile, ids = portfolio_export.import_json_resume(ws, file)
    if as_json:
        print_json({"profile": profile.to_dict(), "items": ids})
    else:
        echo(f"imported {plural(len(ids), 'accomplishment')}"
             + (f" and the profile of {profile.name}" if profile.name else ""))


COMMANDS = [portfolio]
