"""`upstack serve`: the web app on your own workspace."""

from __future__ import annotations

import ipaddress
import secrets

import click

from upstack.cli.output import echo
from upstack.errors import BadInput
from upstack.services.workspace import Workspace

__all__ = ["COMMANDS", "check_host"]


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
    import uvicorn

    from upstack.web.app import create_app

    token = secrets.token_urlsafe(24)
    app = create_app(home=ws.home, db=ws.db_url, token=token)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)

    original_startup = server.startup

    async def startup(sockets: object = None) -> None:
        await original_startup(sockets)  # type: ignore[arg-type]
        bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
        echo(f"upstack is serving {ws.home}")
        echo(f"open: http://{host}:{bound}/?token={token}")
        echo("stop it with Ctrl-C")

    server.startup = startup  # type: ignore[method-assign]
    server.run()


COMMANDS = [serve]
