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
    "export": "interop", "import": "interop", "vault": "vault",
    "demo": "demo",
    "idea": "ideas", "triage": "ideas", "ideas": "ideas", "derisk": "ideas", "promote": "ideas",
    "park": "ideas", "prune": "ideas", "done": "ideas",
    "add": "tree", "node": "tree", "focus": "tree", "why": "tree", "tree": "tree", "check": "tree",
    "progress": "tree", "ask": "tree", "review": "review",
    "runs": "runs", "run": "runs", "compare": "runs", "plot": "runs", "ingest": "runs",
    "sweep": "sweep",
    "artifacts": "artifacts", "artifact": "artifacts",
    "serve": "serve",
    "user": "team", "share": "team", "unshare": "team", "login": "team", "sync": "team",
    "comment": "collab", "star": "collab", "unstar": "collab",
    "ladder": "ladder",
    "portfolio": "portfolio",
    "practice": "practice",
    "path": "path",
    "opp": "opportunities",
    "apply": "applications",
    "due": "due",
    "contact": "contacts", "outreach": "contacts",
    "checkin": "checkin", "pace": "pace", "recover": "recover", "fit": "fit",
    "predict": "predict", "calibration": "predict", "take": "take", "takes": "take", "mentor": "mentor",
}

# `upstack --help` lists the commands in sections, in this order, each command in the section of
# its module (so a command added to a module lands beside its neighbours), in the order above.
# A module with no section here shows under OTHER: no command is ever left out of the help.
HELP_SECTIONS = {
    "capture": "Write", "curate": "Write",
    "recall": "Find", "collab": "Find",  # star to find again; comments show under their entry
    "tree": "Why: the tree", "review": "Why: the tree",
    "ideas": "Ideas",
    "runs": "Runs", "sweep": "Runs", "artifacts": "Runs",
    "ladder": "Path to a job", "practice": "Path to a job", "portfolio": "Path to a job", "path": "Path to a job",
    "opportunities": "Opportunities", "applications": "Opportunities", "contacts": "Opportunities",
    "due": "Opportunities",
    "checkin": "Pace and wellbeing (kept on this machine)", "pace": "Pace and wellbeing (kept on this machine)",
    "recover": "Pace and wellbeing (kept on this machine)", "fit": "Pace and wellbeing (kept on this machine)",
    "predict": "Judgment", "take": "Judgment", "mentor": "Judgment",
    "serve": "Browser and team", "team": "Browser and team",
    "interop": "Notes in and out", "vault": "Notes in and out",  # jrnl, Markdown, an Obsidian vault, JSON
    "maintenance": "Maintenance", "demo": "Maintenance",
}
OTHER = "Other"


def help_sections(commands: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(section, command names) in the order `upstack --help` shows them; ``commands`` maps
    each command to its module, as COMMAND_MODULES does."""
    order = [*dict.fromkeys(HELP_SECTIONS.values()), OTHER]
    found: dict[str, list[str]] = {}
    for name, module in commands.items():
        found.setdefault(HELP_SECTIONS.get(module, OTHER), []).append(name)
    return [(section, found[section]) for section in order if section in found]


# What W&B's, MLflow's and TensorBoard's users type for an upstack command (`mlflow ui`, `wandb agent`),
# offered first in "Did you mean".
OTHER_TOOLS_WORDS = {"ui": "serve", "web": "serve", "server": "serve", "agent": "sweep", "experiments": "runs"}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands by section (HELP_SECTIONS), their help cut to one line, as click does."""
        sections = []
        for section, names in help_sections(COMMAND_MODULES):
            commands = [(name, self.get_command(ctx, name)) for name in names]
            shown = [(name, command) for name, command in commands if command is not None and not command.hidden]
            if shown:
                sections.append((section, shown))
        if not sections:
            return
        widest = max(len(name) for _, shown in sections for name, _ in shown)
        limit = formatter.width - 6 - widest
        for section, shown in sections:
            with formatter.section(section):
                # Names padded to the widest of all, so that every section's help starts in one column.
                formatter.write_dl([(name.ljust(widest), command.get_short_help_str(limit))
                                    for name, command in shown])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(name)
        if module is None:
            return None
        commands = importlib.import_module(f"upstack.cli.{module}").COMMANDS
        return next((c for c in commands if c.name == name), None)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, with its "Did you mean" for a mistyped command: commands load only when they
        run, so click's own list of them (``self.commands``) is empty here."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as missing:
            import difflib  # only on a mistyped command

            close = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if args and args[0] in OTHER_TOOLS_WORDS:
                close = [OTHER_TOOLS_WORDS[args[0]], *(c for c in close if c != OTHER_TOOLS_WORDS[args[0]])]
            if close and missing.message.startswith("No such command"):
                said = f"{missing.message} Did you mean {' or '.join(repr(name) for name in close)}?"
                raise click.UsageError(said, ctx) from None
            raise

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
