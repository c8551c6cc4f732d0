"""`upstack user` and `upstack share`: the accounts and sharing of a team server."""

from __future__ import annotations

import click

from upstack.cli.options import complete_nodes, pass_log
from upstack.cli.output import echo, print_json, style
from upstack.domain.text import plural
from upstack.ids import short_id
from upstack.services import accounts
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]

DEFAULT_URL = "http://127.0.0.1:8765"


@click.group()
def user() -> None:
    """Accounts on a team server: invite, list, reset, remove, sign out, list API tokens.

    The first account is an admin and owns the log as it is now. Once a workspace
    has accounts, `upstack serve` asks everyone to sign in, and may listen on a
    public address (--host 0.0.0.0).
    """


@user.command("add")
@click.argument("login")
@click.option("--name", help="Full name, as others see it (default: the user name).")
@click.option("--admin", is_flag=True, help="May manage members (the first account always is).")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The server's address, for the link.")
@pass_log
def user_add(ws: Workspace, login: str, name: str | None, admin: bool, url: str) -> None:
    """Make an account and print its invitation link (single use, valid 7 days)."""
    first = not accounts.has_accounts(ws)
    made, secret = accounts.add_user(ws, login, name=name, admin=admin)
    echo(f"added {made.login}{' (admin)' if made.is_admin else ''}")
    if first:
        echo(f"{made.login} owns this workspace's log as it is now; share projects with others from the tree")
    echo(f"send them this invitation link (it works once, for {accounts.INVITE_DAYS} days):")
    echo(f"{url.rstrip('/')}/join/{secret}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "include_removed", is_flag=True, help="Include removed accounts.")
@pass_log
def user_list(ws: Workspace, as_json: bool, include_removed: bool) -> None:
    """Everyone with an account."""
    found = accounts.list_users(ws, include_removed=include_removed)
    if as_json:
        print_json([u.to_dict() for u in found])
        return
    if not found:
        echo("no accounts yet: `upstack user add NAME` makes the first (an admin)")
    for u in found:
        state = "removed" if u.removed_at else ("joined" if u.joined else "invited")
        echo(f"{u.login:<20} {u.name:<24} {state}{'  admin' if u.is_admin else ''}")


@user.command("reset")
@click.argument("login")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The server's address, for the link.")
@pass_log
def user_reset(ws: Workspace, login: str, url: str) -> None:
    """Print a password-reset link (single use, valid 24 hours)."""
    secret = accounts.reset_link(ws, login)
    echo(f"send {login} this reset link (it works once, for {accounts.RESET_HOURS} hours):")
    echo(f"{url.rstrip('/')}/reset/{secret}")


@user.command("remove")
@click.argument("login")
@pass_log
def user_remove(ws: Workspace, login: str) -> None:
    """Take someone off the server: sessions end, API tokens and shares go; what they wrote stays."""
    accounts.remove_user(ws, login)
    echo(f"removed {login}: their sessions ended and their API tokens and shares are gone")


@user.command("sign-out")
@click.argument("login")
@click.option("--tokens", is_flag=True, help="End their API tokens too.")
@pass_log
def user_sign_out(ws: Workspace, login: str, tokens: bool) -> None:
    """End every browser session of LOGIN (a lost laptop), and with --tokens their API tokens."""
    ended = accounts.end_all_sessions(ws, accounts.find_user(ws, login).id, tokens=tokens)
    echo(f"ended {ended} session{'s' if ended != 1 else ''} of {login}" + (" and their API tokens" if tokens else ""))


@user.command("tokens")
@click.argument("login", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_log
def user_tokens(ws: Workspace, login: str | None, as_json: bool) -> None:
    """API tokens (everyone's, or LOGIN's): scope, expiry, last use; never their secrets."""
    found = accounts.list_tokens(ws, accounts.find_user(ws, login).id if login else None)
    if as_json:
        print_json(found)
        return
    for t in found:
        state = "revoked" if t["revoked_at"] else f"expires {t['expires_at'][:10]}" if t["expires_at"] else "live"
        echo(f"{t['short']}  {t['login']:<16} {t['scope']:<9} {state:<18} {t['name']}")


@click.command()
@click.argument("node", shell_complete=complete_nodes)
@click.argument("login")
@click.option("--role", type=click.Choice(["viewer", "commenter", "editor", "owner"]), default="viewer",
              show_default=True, help="What they may do there and below.")
@pass_log
def share(ws: Workspace, node: str, login: str, role: str) -> None:
    """Share a node (a project, an agenda) and everything below it with LOGIN."""
    done = accounts.share(ws, node, login, role, by=None)
    echo(f"shared with {done['login']} as {role}: they see this node, what is below it, and the "
         "entries filed there (not private ones)")


@click.command()
@click.argument("node", shell_complete=complete_nodes)
@click.argument("login")
@pass_log
def unshare(ws: Workspace, node: str, login: str) -> None:
    """Stop sharing a node with LOGIN."""
    accounts.unshare(ws, node, login, by=None)
    echo(f"{login} no longer has a role on that node")


@click.command()
@click.argument("url")
@click.option("--token", envvar="UPSTACK_TOKEN", help="An API token from the server's account page "
              "(asked for if not given; or UPSTACK_TOKEN).")
@pass_log
def login(ws: Workspace, url: str, token: str | None) -> None:
    """Link this workspace to a team server, for `upstack sync`.

    Make a token on the server (Your account → API tokens); it is kept in the
    workspace, readable by you only.
    """
    from upstack.services import remote as remote_service

    if token is None:
        token = click.prompt("API token", hide_input=True)
    found = remote_service.login(ws, url, token or "")
    echo(f"signed in to {found.url} as {found.login}; `upstack sync` now pushes and pulls")


@click.command()
@click.option("--discard", multiple=True, metavar="ID",
              help="Take back your changes to this entry or node that the server refuses (repeatable); "
                   "nothing is lost: a dropped edit stays in the entry's history.")
@click.option("--keep", multiple=True, metavar="ID",
              help="Keep your refused changes to this entry or node on this workspace only, and stop "
                   "sending them (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_log
def sync(ws: Workspace, discard: tuple[str, ...], keep: tuple[str, ...], as_json: bool) -> None:
    """Push new notes, edits, files, nodes, comments, stars and runs to the server; pull what you
    may see there.

    Safe to run again at any time, or after an interruption: nothing is applied
    twice. An entry edited on both sides keeps both revisions and is listed. What
    the server refuses stays here and is listed, each entry or node once, until
    you take it back (--discard ID) or keep it here only (--keep ID).
    """
    from upstack.cli.progress import progress_bar
    from upstack.services import sync as sync_service

    with progress_bar("Syncing") as progress:
        report = sync_service.sync(ws, progress, discard=discard, keep=keep)
    if as_json:
        print_json(report.to_dict())
        return
    echo(f"synced with {report.server}: pushed {plural(report.pushed, 'record')} "
         f"({plural(report.files_sent, 'file')}){_runs(report.runs_sent)}, pulled {report.pulled} "
         f"({plural(report.files_received, 'file')}){_runs(report.runs_received)}")

    def name(subject: str) -> str:
        title = report.titles.get(subject)
        return short_id(subject) + (f" “{title}”" if title else "")

    for item in report.held:
        if not item["records"]:
            echo(f"{name(item['subject'])}: the server refused nothing of it this time; nothing was changed")
        elif item["decision"] == "discard":
            echo(f"dropped here what the server refused of {name(item['subject'])} (its text stays in "
                 f"`upstack history {short_id(item['subject'])}`; a dropped note is deleted, and can be restored)")
        else:
            echo(f"kept on this workspace only, no longer sent: {name(item['subject'])}")
    said: dict[str, list[dict[str, str]]] = {}
    for item in report.refused:  # one line a thing, however many of its records were refused
        said.setdefault(item.get("subject") or item["id"], []).append(item)
    for subject, items in said.items():
        reasons = "; ".join(dict.fromkeys(str(i["reason"]) for i in items))
        what = ", ".join(dict.fromkeys(_WHAT.get(str(i.get("op")), str(i.get("op"))) for i in items))
        echo(f"not taken by the server, kept here: {name(subject)} ({what}): {reasons}")
        if all(i.get("op") != "run" for i in items):
            echo(style(f"  to take it back: `upstack sync --discard {short_id(subject)}`; to keep it here only: "
                       f"`upstack sync --keep {short_id(subject)}`", dim=True))
    for entry_id in report.conflicts:
        echo(f"edited on both sides, both revisions kept: {name(entry_id)} "
             f"(`upstack history {short_id(entry_id)}` shows them)")


# What a refused record was, as a person would say it.
_WHAT = {"entry.create": "a new note", "entry.revise": "an edit", "entry.attach": "files", "entry.delete": "a deletion",
         "comment.add": "a comment", "star.set": "a star", "node.create": "a new node", "node.edit": "a rename",
         "node.status": "a status", "node.move": "a move", "node.delete": "a deletion", "node.restore": "a restore",
         "run": "a run"}


def _runs(count: int) -> str:
    return f", {plural(count, 'run')}" if count else ""


COMMANDS = [user, share, unshare, login, sync]
