"""The `upstack` command: the group, global options and the one exit point."""

from __future__ import annotations

import importlib

import click

from upstack.cli.output import echo
from upstack.errors import UpstackError
from upstack.version import __version__
from upstack.workspace import Workspace

__all__ = ["cli", "main"]


class _UserError(click.ClickException):
    """An UpstackError on its way out: one line on stderr, exit code 1."""

    def show(self, file: object = None) -> None:
        echo(f"upstack: error: {self.message}", err=True)


# Each command's module is imported only when that command runs, so that
# `upstack note` loads neither the SQL store nor the search code.
COMMAND_MODULES = {
    "note": "capture", "attach": "capture", "learned": "capture",
    "log": "recall", "search": "recall", "show": "recall", "history": "recall", "tags": "recall",
    "save": "recall",
    "edit": "curate", "rm": "curate", "restore": "curate", "purge": "curate",
    "doctor": "maintenance", "backup": "maintenance",
    "export": "interop", "import": "interop",
    "demo": "demo",
    "idea": "ideas", "triage": "ideas", "ideas": "ideas", "derisk": "ideas", "promote": "ideas",
    "park": "ideas", "prune": "ideas", "done": "ideas",
    "add": "tree", "node": "tree", "focus": "tree", "why": "tree", "tree": "tree", "check": "tree",
    "progress": "tree", "ask": "tree", "review": "review",
    "runs": "runs", "run": "runs", "compare": "runs", "plot": "runs", "ingest": "runs",
    "serve": "serve",
    "user": "team", "share": "team", "unshare": "team", "login": "team", "sync": "team",
    "comment": "collab", "star": "collab", "unstar": "collab",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(name)
        if module is None:
            return None
        commands = importlib.import_module(f"upstack.cli.{module}").COMMANDS
        return next((c for c in commands if c.name == name), None)

    def invoke(self, ctx: click.Context) -> object:
        from upstack.domain import access

        try:
            with access.acting_as(access.OWNER):  # the person at the terminal owns the workspace's files
                return super().invoke(ctx)
        except UpstackError as exc:
            raise _UserError(str(exc)) from None
        except Exception as exc:
            from upstack import faults  # a full disk, a read-only mount, a lost database connection

            line = faults.describe(exc, ctx.obj.home if isinstance(ctx.obj, Workspace) else None)
            if line is None:
                raise  # a bug: its traceback is what a report needs
            raise _UserError(line) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    ctx.obj = workspace = Workspace(home=home, db=db)

    def finish() -> None:
        # Records that could not be ingested are kept aside; say so, whatever the command.
        if workspace.last_ingest is not None:
            for problem in workspace.last_ingest.problems + workspace.last_ingest.read_only:
                echo(f"upstack: warning: {problem}", err=True)
        workspace.close()

    ctx.call_on_close(finish)


def main() -> None:
    """Run the CLI: errors become one line on stderr and exit code 1 (2 for usage)."""
    cli(prog_name="upstack")
