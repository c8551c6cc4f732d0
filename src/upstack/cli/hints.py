"""Usage errors that say what was meant: a subcommand group that offers the command a mistyped or
missing word most likely meant (`upstack run p5wjfpx` → `upstack run show p5wjfpx`, `upstack run
delete` → `rm`), and a command that says a stray `lr=0.1` goes after `--where`.

Click's own answers ("No such command 'p5wjfpx'", "Got unexpected extra argument (lr=0.1)") are
right but leave a newcomer guessing; these keep click's message and add the guess.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable

import click

__all__ = ["HintingGroup", "hinting_group", "FilterHintCommand", "looks_like_condition"]

# Words other tools use for a subcommand, and the one upstack has.
_SYNONYMS = {"delete": "rm", "remove": "rm", "del": "rm", "undelete": "restore", "info": "show", "get": "show",
             "view": "show", "describe": "show", "ls": "list", "mv": "move", "label": "tag", "tags": "tag",
             "run": "start", "launch": "start", "continue": "resume", "dry-run": "plan"}


_NEVER_GUESSED = {"purge"}


class HintingGroup(click.Group):
    """A group whose "No such command" offers the subcommand meant: a close or synonymous name, or,
    for a word that is no command at all (a run's id, a file), the group's ``default_for_argument``
    with that word (``upstack run ID`` → ``upstack run show ID``)."""

    # The subcommand a word that names none is most likely the argument of (set through hinting_group).
    default_for_argument: Callable[[str], str | None] = staticmethod(lambda word: None)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as missing:
            if not args or not missing.message.startswith("No such command"):
                raise
            word = args[0]
            names = sorted(self.commands)
            meant = [_SYNONYMS[word.lower()]] if _SYNONYMS.get(word.lower()) in names else []
            # Close names only when quite close, and never one that destroys (an artifact named "probe"
            # was offered "purge").
            meant += [n for n in difflib.get_close_matches(word.lower(), names, cutoff=0.75)
                      if n not in meant and n not in _NEVER_GUESSED]
            if meant:
                guess = " or ".join(repr(n) for n in meant)
            elif (command := self.default_for_argument(word)) is not None:
                guess = f"'{ctx.command_path} {command} {word}'"
            else:
                raise
            raise click.UsageError(f"{missing.message} Did you mean {guess}?", ctx) from None


def hinting_group(default_for_argument: str | Callable[[str], str | None] | None = None) -> type[HintingGroup]:
    """A HintingGroup class that offers ``default_for_argument`` (a subcommand, or a function of the
    word giving one) for a word that names no command."""
    chosen = default_for_argument if callable(default_for_argument) else (lambda word: default_for_argument)
    return type("HintingGroup", (HintingGroup,), {"default_for_argument": staticmethod(chosen)})


# A word that reads as a condition: lr=0.1, val/acc>0.9, best(loss)<1.
_CONDITION = re.compile(r"^[\w./()-]+\s*(?:!=|<=|>=|=|<|>)")


def looks_like_condition(word: str) -> bool:
    """``lr=0.1``, ``val/acc>0.9``: a filter typed where a run's id goes."""
    return bool(_CONDITION.match(word))


class FilterHintCommand(click.Command):
    """A command with no arguments whose stray ``lr=0.1`` is a filter without its ``--where``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser takes the words out of the list it is given
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as stray:
            if "unexpected extra argument" not in stray.message:
                raise
            conditions = [a for n, a in enumerate(given) if _CONDITION.match(a) and given[n - 1:n] != ["--where"]]
            if not conditions:
                raise
            shown = " ".join(f"--where {shlex.quote(c)}" for c in conditions)
            raise click.UsageError(f"{stray.message}: a filter goes after --where (one each): {shown}",
                                   ctx) from None
