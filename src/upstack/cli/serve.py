"""`upstack serve`: the web app on your own workspace."""

from __future__ import annotations

import contextvars
import ipaddress
import secrets
import sys

import click

from upstack.cli.output import echo
from upstack.errors import BadInput
from upstack.workspace import Workspace

__all__ = ["COMMANDS", "check_host", "run_server"]


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, team: bool = False) -> None:
    """Without accounts, only listen where just this machine can connect."""
    if not _loopback(host) and not team:
        raise BadInput(f"refusing to serve on {host}: without accounts the log would be open to anyone "
                       "who can reach it; serve on 127.0.0.1 (the default), or make accounts first "
                       "(`upstack user add NAME`)")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (a public one, e.g. 0.0.0.0, only once there are accounts).")
@click.option("--port", default=8765, show_default=True, help="Port to listen on (0: any free port).")
@click.pass_obj
def serve(ws: Workspace, host: str, port: int) -> None:
    """Read and write the log in a browser; with accounts, a team server.

    Without accounts it prints an address with a random access token: other
    people logged in to the same machine can reach 127.0.0.1 too, and the token
    keeps them out. Once the workspace has accounts (`upstack user add`), everyone
    signs in and sees what is shared with them.
    """
    from upstack.services.accounts import has_accounts

    team = has_accounts(ws)
    check_host(host, team=team)
    if not team:
        _open_check_ins(ws)
    run_server(ws, host, port, team=team)


def _open_check_ins(ws: Workspace) -> None:
    """Locked check-ins (`upstack checkin lock`) are opened once, as the server starts: with the
    passphrase asked at a terminal, or UPSTACK_PASSPHRASE; a wrong one stops it here, in one line.
    Without either, the server says /pace cannot open them, and serves the rest."""
    import os

    from upstack.cli.options import ask_secret
    from upstack.services import wellbeing_seal

    if not wellbeing_seal.is_locked(ws):
        return
    closed = (f"your check-ins are locked: /pace opens them once `upstack serve` starts at a terminal and is given "
              f"the passphrase, or with {wellbeing_seal.PASSPHRASE_ENV} set")
    if sys.stdin.isatty():
        ws.ask_passphrase = ask_secret
    elif not os.environ.get(wellbeing_seal.PASSPHRASE_ENV):
        echo(closed, err=True)
        return
    try:
        wellbeing_seal.verify(ws)  # the key is kept for this process: the pages' requests use it
    except wellbeing_seal.Locked:  # Enter at the prompt: served all the same, /pace closed
        echo(closed, err=True)
    ws.ask_passphrase = None  # a request never asks at the terminal


def run_server(ws: Workspace, host: str, port: int, *, team: bool = False) -> None:
    """Serve ``ws`` until Ctrl-C, printing the address (with its token, without accounts) once it listens."""
    import socket

    import uvicorn

    from upstack.web.app import create_app

    # The only addresses whose forwarded headers uvicorn believes (checked with the settings). uvicorn's
    # own default believes anyone connecting from loopback, so anybody logged in to the server's machine
    # could pick the address the sign-in throttle counts, or claim TLS.
    proxies = list(ws.settings.trusted_proxies)
    # IPPROTO_TCP explicitly: with protocol 0 asyncio leaves Nagle on, and every answer on a kept-alive
    # connection waited ~40 ms for a delayed ACK (bench/bench_web.py: static file 44 ms -> 1.9 ms).
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)  # before the address is printed: a client that reads it can connect at once
    except OSError as exc:
        listener.close()
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror} (try --port 0 for any free port)") from None
    token = None if team else secrets.token_urlsafe(24)
    app = create_app(ws, token=token)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{listener.getsockname()[1]}/"
    echo(f"upstack is serving {ws.home}" + (" as a team server (everyone signs in)" if team else ""))
    echo(f"open: {address}" + (f"?token={token}" if token else ""))
    if team:
        _say_how_to_get_in(ws, address)
    if team and not _loopback(host):
        echo("put it behind a TLS proxy (e.g. Caddy or nginx) before people sign in over the internet"
             + ("" if proxies else ", and name the proxy in UPSTACK_TRUSTED_PROXIES"))
    if proxies:
        echo(f"forwarded addresses and TLS believed only from {', '.join(proxies)}")
    echo("stop it with Ctrl-C")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", proxy_headers=bool(proxies),
                                           forwarded_allow_ips=proxies))
    # Outside the command line's own view (access.OWNER): a request is answered for whoever signed it in,
    # or (local mode) the token's holder, each set by the app itself; anything else reads as nobody said.
    contextvars.Context().run(server.run, sockets=[listener])


def _say_how_to_get_in(ws: Workspace, address: str) -> None:
    """Before anyone has joined, the sign-in page lets nobody in: say how to get in. A link is a
    secret, so a new one is printed only to a terminal, never into a log file or a pipe."""
    from upstack.services import accounts

    first = accounts.first_to_join(ws)
    if first is None:
        return
    echo(f"nobody has signed in yet: {first.login} gets in with the invitation link `upstack user add` printed,")
    if sys.stdout.isatty():
        secret = accounts.reset_link(ws, first.login)
        echo(f"or with this new link (it works once, for {accounts.RESET_HOURS} hours): {address}reset/{secret}")
    else:
        echo(f"or with a new one: upstack{_home_option(ws)} user reset {first.login} --url {address}")


def _home_option(ws: Workspace) -> str:
    """`` --home DIR`` when a command typed next would otherwise reach another workspace."""
    import shlex

    from upstack.settings import Settings

    return "" if Settings().home_path == ws.home else f" --home {shlex.quote(str(ws.home))}"


COMMANDS = [serve]
