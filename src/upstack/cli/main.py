"""The `upstack` command: the group, global options and the one exit point."""

from __future__ import annotations

import sys

import click

from upstack import __version__
from upstack.errors import UpstackError
from upstack.services.workspace import Workspace

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--home", envvar="UPSTACK_HOME", metavar="DIR",
              help="Workspace directory (default $XDG_DATA_HOME/upstack).")
@click.option("--db", envvar="UPSTACK_DB", metavar="URL",
              help="Database URL (default: SQLite in the workspace; or postgresql://...).")
@click.version_option(__version__, prog_name="upstack")
@click.pass_context
def cli(ctx: click.Context, home: str | None, db: str | None) -> None:
    """upstack: a research log that always knows why.

    Write with `upstack note`, find with `upstack log` and `upstack search`.
    """
    ctx.obj = Workspace(home=home, db=db)
    ctx.call_on_close(ctx.obj.close)


def _register() -> None:
    from upstack.cli import capture, curate, interop, maintenance, recall

    for module in (capture, recall, curate, maintenance, interop):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Run the CLI; the only place that turns errors into messages and exit codes."""
    try:
        code = cli.main(prog_name="upstack", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("upstack: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UpstackError as exc:
        click.echo(f"upstack: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("upstack: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    sys.exit(code if isinstance(code, int) else 0)
