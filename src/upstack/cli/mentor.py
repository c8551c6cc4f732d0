"""`upstack mentor`, and what `upstack ask --llm` shares with it: a language model as a mentor
(services/mentor.py), the prompt shown before anything leaves the machine."""

from __future__ import annotations

import sys
from typing import Any

import click

from upstack.cli.options import Number, pass_log
from upstack.cli.output import echo, style
from upstack.errors import BadInput
from upstack.services import mentor as service
from upstack.workspace import Workspace

__all__ = ["COMMANDS", "llm_options", "may_send", "consult"]


def llm_options(func: click.decorators.FC) -> click.decorators.FC:
    """--model, --show and --yes, for every command that sends a prompt."""
    for option in reversed((
            click.option("--model", "-m", metavar="MODEL",
                         help="The model, as `llm models` names it (default: llm's default model)."),
            click.option("--show", is_flag=True, help="Print the exact prompt and send nothing."),
            click.option("--yes", "-y", is_flag=True, help="Send without asking first."))):
        func = option(func)
    return func


def may_send(model: str | None, yes: bool) -> Any:
    """The model to send to, once it is known a prompt may go (--yes, or a terminal to ask at): checked
    before anything is kept, so a refusal leaves nothing behind."""
    if not yes and not sys.stdin.isatty():
        raise BadInput("give --yes to send the prompt without being asked (--show prints it first)")
    return service.model(model)


def consult(ws: Workspace, prompt: service.Prompt, *, model: Any, yes: bool, node_id: str | None,
            answers: str | None = None, about: str = "") -> None:
    """Ask before sending what would leave the machine (unless --yes), send it, keep the answer."""
    if not yes:
        echo(style(prompt.shown(), dim=True), err=True)
        if not click.confirm(f"Send this to {model.model_id}?", default=False, err=True):
            echo("nothing was sent", err=True)
            return
    answer, used = service.send(prompt, model)
    entry = service.file_answer(ws, answer, used, node_id=node_id, answers=answers, about=about)
    echo(answer.strip())
    echo(style(f"kept as entry {entry.short} (#mentor)", dim=True), err=True)


@click.command()
@click.option("--days", type=Number(int, at_least=1), default=7, show_default=True,
              help="How many days back the review looks.")
@llm_options
@pass_log
def mentor(ws: Workspace, days: int, model: str | None, show: bool, yes: bool) -> None:
    """Ask a language model for a short review of your week, in the guide's spirit.

    Is this rate of progress fine? What would you prune? The prompt holds what you wrote (titles,
    what you expected and what happened), never a private entry, a check-in, someone else's work or a
    run's provenance, and secrets are redacted. It is shown before it is sent; the answer is kept as
    an entry tagged #mentor. Needs `pip install 'upstack[llm]'` and a model `llm` can reach.

    \b
    Examples:
      upstack mentor --show
      upstack mentor --model gpt-4o-mini
    """
    prompt = service.week_prompt(ws, days=days)
    if show:
        echo(prompt.shown())
        return
    consult(ws, prompt, model=may_send(model, yes), yes=yes, node_id=None, about=f"the last {days} days")


COMMANDS = [mentor]
