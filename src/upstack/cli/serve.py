"""`upstack serve`: the web app on your own workspace."""

from __future__ import annotations

import ipaddress
import secrets

import click

from upstack.cli.output import echo
from upstack.errors import BadInput
from upstack.services.workspace import Workspace

__all__ = ["COMMANDS", "check_host", "run_server"]


def check_host(host: str) -> None:
    """Local mode has no accounts, so it only listens where just this machine can connect."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BadInput(f"refusing to serve on {host}: without accounts the log would be open to anyone "
                       "who can reach it; serve on 127.0.0.1 (the default)")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only).")
@click.option("--port", default=8765, show_default=True, help="Port to listen on (0: any free port).")
@click.pass_obj
def serve(ws: Workspace, host: str, port: int) -> None:
    """Read and write the log in a browser.

    Prints an address with a random access token: other people logged in to the
    same machine can reach 127.0.0.1 too, and the token keeps them out.
    """
    check_host(host)
    run_server(ws, host, port)


def run_server(ws: Workspace, host: str, port: int) -> None:
    """Serve ``ws`` until Ctrl-C, printing the address (with its token) once it listens."""
    import socket

    import uvicorn

    from upstack.web.app import create_app

    # IPPROTO_TCP explicitly: with protocol 0 asyncio leaves Nagle on, and every answer on a kept-alive
    # connection waited ~40 ms for a delayed ACK (bench/bench_web.py: static file 44 ms -> 1.9 ms).
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                             socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror} (try --port 0 for any free port)") from None
    token = secrets.token_urlsafe(24)
    app = create_app(home=ws.home, db=ws.db_url, token=token)
    shown = f"[{host}]" if ":" in host else host
    echo(f"upstack is serving {ws.home}")
    echo(f"open: http://{shown}:{listener.getsockname()[1]}/?token={token}")
    echo("stop it with Ctrl-C")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[listener])


COMMANDS = [serve]
