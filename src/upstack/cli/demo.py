"""`upstack demo`: a sample research log in a throwaway workspace, and what to try on it."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import click

from upstack.cli.options import json_option
from upstack.cli.output import echo, entry_line, print_json, style
from upstack.ids import short_id
from upstack.services import recall
from upstack.services.demo import (
    SAE,
    DemoLog,
    build_demo,
    demo_db_url,
    make_demo_home,
    open_demo_workspace,
)
from upstack.workspace import Workspace

__all__ = ["COMMANDS", "commands_to_try"]


def _env_prefix(home: Path, user_ws: Workspace) -> str:
    prefix = "UPSTACK_HOME=" + shlex.quote(str(home))
    if user_ws.settings.db:
        # Otherwise the user's configured database would ingest the demo's journal.
        prefix += " UPSTACK_DB=" + shlex.quote(demo_db_url(home))
    return prefix


def commands_to_try(log: DemoLog, user_ws: Workspace) -> list[tuple[str, str]]:
    """(shell command, what it shows) pairs that run verbatim against the demo."""
    prefix = _env_prefix(log.home, user_ws)
    figure = log.entries["heatmap"].short
    suggestions = [
        (["tree"], "the theory-of-change tree: agenda, projects, questions, experiments"),
        (["why", figure], "trace a result up to the agenda, each link with its why"),
        (["search", "patch*"], "ranked search: words, prefix*, \"phrases\", OR, NOT"),
        (["search", "#sae dead"], "a tag and a word"),
        (["show", figure], "a result with its figure, table, links and backlinks"),
        (["ideas"], "ideas ranked by value per cost, with what each waits on"),
        (["log", "-k", "stuck", "-k", "learning"], "where it got hard, and what it taught"),
        (["progress"], "progress per week and project, counted in learnings"),
        (["predict", "list"], "predictions made before their results: resolved, annulled, one still open"),
        (["calibration"], "how sure they were against what happened, and the confident miss worth a learning"),
        (["mentor", "--show"], "what a language-model mentor is sent for a weekly review (--show sends nothing)"),
        (["check"], "work that cannot say why it matters"),
        (["review", "--since", "3 weeks ago"],
         "a digest to share: done, learned, decided, open, pruned with reasons"),
        (["runs"], "experiment runs made with upstack.run(...) in Python, with their metrics"),
        (["run", "show", short_id(log.runs["swapped0"])], "a run: config, metrics, figure, notes, provenance"),
        (["compare", short_id(log.runs["abc"]), short_id(log.runs["swapped0"])],
         "two runs side by side: what differs"),
        (["log", "-p", SAE], "what was filed on the parked project's own node"),
        (["tags"], "every tag, most used first"),
        (["ladder"], "the path to a research job: where this person stands, and the next step"),
        (["practice", "bar"], "interview practice against the guide's bar, the slowest patterns"),
        (["portfolio"], "the accomplishments a CV and a website are made from"),
        (["apply"], "the job search: applications by stage, two rejections and what they taught"),
        (["due"], "deadlines, follow-ups, an interview and a work test, practice reviews: one list"),
        (["contact", "match", "mira"], "your own work ranked by a contact's research interests"),
        (["pace", "--notices"], "the early warning eight weeks of check-ins raised (kept on this machine only)"),
        (["recover"], "the recovery plan after it: 50% -> 75% -> 100% of the usual hours"),
        (["note", "-k", "question", "Does 9.9 also copy IO under swapped names? #ioi"],
         "write an entry of your own (it lands on the focused question)"),
    ]
    program = _program()
    return [(f"{prefix} {program} {shlex.join(args)}", why) for args, why in suggestions]


def _program() -> str:
    """How this upstack was started, so the suggestions run as printed (say, .venv/bin/upstack)."""
    started = Path(sys.argv[0])
    on_path = shutil.which("upstack")
    if started.name != "upstack" or (on_path and Path(on_path).resolve() == started.resolve()):
        return "upstack"
    return shlex.quote(str(started))


@click.command()
@click.option("--home", "demo_home", metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="Build it in DIR (new or empty) instead of a fresh temporary directory.")
@click.option("--serve/--no-serve", "serve", default=None,
              help="Open it in the browser app afterwards (default: yes at a terminal).")
@click.option("--port", default=8765, show_default=True, help="Port for the browser app (0: any free port).")
@json_option
@click.pass_obj
def demo(ws: Workspace, demo_home: Path | None, serve: bool | None, port: int, as_json: bool) -> None:
    """Build a sample research log to try upstack on.

    Three weeks of an interpretability project (the IOI circuit in GPT-2 small,
    and a side thread on sparse autoencoders), with figures, links, questions,
    a stuck spell and weeks of check-ins, filed in a theory-of-change tree (one
    agenda, two projects, questions and experiments, each with its why); plus
    results with what was expected and what happened, learnings, ideas
    triaged, promoted and pruned, and runs made with `upstack.run`, each dated
    on its day of the three weeks. It goes into a new temporary directory
    (or --home DIR); your own log, wherever UPSTACK_HOME points, is never touched.
    Prints the timeline and commands to try next, then (at a terminal) serves
    it in the browser app and prints its address; Ctrl-C stops it.
    """
    home = make_demo_home(demo_home)
    with open_demo_workspace(home) as demo_ws:
        log = build_demo(demo_ws)
        entries = recall.timeline(demo_ws, limit=None)
    tries = commands_to_try(log, ws)
    if as_json:
        print_json({"home": str(home), "entries": [e.to_dict() for e in entries],
                    "try": [command for command, _ in tries]})
        return
    files = sum(len(e.attachments) for e in entries)
    echo(style(f"A demo research log: {len(entries)} entries over three weeks, "
               f"{files} files attached.", bold=True))
    ideas = sum(e.kind == "idea" for e in entries)
    predicted = sum(e.kind == "prediction" for e in entries)
    reviewed = ", a mentor's weekly review (the echo model)" if "mentor_review" in log.entries else ""
    echo(f"  filed in a tree of {len(log.nodes)} nodes (one agenda, two projects, one of them parked); "
         f"{ideas} ideas triaged; {len(log.runs)} runs; {predicted} predictions (one a confident miss){reviewed}; "
         "a search for a research position")
    echo(f"  in {home}")
    echo(style("  A throwaway workspace: your own log is untouched.", dim=True))
    echo()
    for entry in entries:
        echo(entry_line(entry))
    echo()
    echo(style("Try next (each line runs as written):", bold=True))
    for command, why in tries:
        echo(style(f"  # {why}", dim=True))
        echo(f"  {command}")
    echo()
    echo(style(f"Done with it? rm -rf {shlex.quote(str(home))}", dim=True))
    if serve is None:
        serve = sys.stdin.isatty() and sys.stdout.isatty()
    if serve:
        from upstack.cli.serve import run_server

        echo()
        run_server(open_demo_workspace(home), "127.0.0.1", port)


COMMANDS = [demo]
