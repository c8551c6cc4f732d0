"""`upstack export` and `upstack import`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from upstack.cli.options import json_option, pass_log
from upstack.cli.output import echo, json_stdout, print_json, style
from upstack.cli.progress import progress_bar
from upstack.errors import BadInput
from upstack.files import atomic_path
from upstack.workspace import Workspace

if TYPE_CHECKING:
    from upstack.domain.imports import ImportResult, Problem

__all__ = ["COMMANDS"]

FORMATS = ("json", "jrnl", "markdown", "mlflow", "tensorboard")
TRACKERS = ("mlflow", "tensorboard")  # runs from other experiment trackers (interop/trackers.py)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _write_atomically(target: Path, write: Callable[[Any], object]) -> object:
    """``target`` written whole, its owner's alone to read as the workspace is: an export holds private
    entries (check-ins too with --include-wellbeing); giving it to someone is a choice made after."""
    try:
        with atomic_path(target, permissions=0o600) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            return write(handle)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror}") from None


@click.command()
@click.option("--format", "-f", "fmt", type=click.Choice(["json", "markdown"]), default="json",
              show_default=True, help="json: a lossless backup (private entries included); "
              "markdown: a folder of notes Obsidian can open.")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), metavar="PATH",
              help="Where to write (the same as PATH).")
@click.option("--include-private", is_flag=True,
              help="Markdown: include private entries too (they are left out by default).")
@click.option("--include-wellbeing", is_flag=True,
              help="JSON: include your check-ins (left out otherwise; `upstack backup` keeps them).")
@click.option("--server-backup", is_flag=True,
              help="JSON, on a team server: include the accounts (password hashes), sessions, API tokens "
              "and audit log (left out otherwise).")
@json_option
@pass_log
def export(ws: Workspace, fmt: str, path: Path | None, out: Path | None,
           include_private: bool, include_wellbeing: bool, server_backup: bool, as_json: bool) -> None:
    """Export the log: JSON to a file or standard output, Markdown to a folder.

    \b
    Examples:
      upstack export --out backup.json
      upstack export --format markdown vault/
    """
    if path and out:
        raise click.UsageError("give the destination once: as PATH or as --out")
    target = path or out
    from upstack.services.accounts import audit_export

    if server_backup and fmt != "json":
        raise click.UsageError("--server-backup is a JSON export: upstack export --server-backup --out FILE")
    audit_export(ws, "json server backup" if server_backup else fmt, str(target) if target else "standard output")
    if fmt == "markdown":
        if target is None:
            raise click.UsageError("a Markdown export needs a folder: upstack export "
                                   "--format markdown DIR")
        from upstack.interop.markdown import export_markdown

        with progress_bar("Exporting") as progress:
            count = export_markdown(ws, target, include_private, progress=progress)
        summary: dict[str, Any] = {"format": fmt, "path": str(target), "entries": count}
        message = f"exported {_entries(count)} to {target}"
    else:
        from upstack.services.jsondump import export_json

        if target is None:
            if as_json:
                raise click.UsageError("--json needs --out FILE: the export itself is "
                                       "written to standard output")
            export_json(ws, json_stdout(), server_backup=server_backup, include_wellbeing=include_wellbeing)
            return
        counts = _write_atomically(target, lambda handle: export_json(ws, handle, server_backup=server_backup,
                                                                     include_wellbeing=include_wellbeing))
        summary = {"format": fmt, "path": str(target),
                   **(counts if isinstance(counts, dict) else {})}
        message = f"exported to {target}"
        if isinstance(counts, dict) and "entries" in counts:
            message = (f"exported {_entries(counts['entries'])} and "
                       f"{_plural(counts.get('blobs', 0), 'file')} to {target}")
    if as_json:
        print_json(summary)
    else:
        echo(message)


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _where(problem: Problem) -> dict[str, Any]:
    file, _, line = problem.where.rpartition(":")
    if file and line.isdigit():
        return {"file": file, "line": int(line), "message": problem.message}
    return {"file": problem.where, "line": None, "message": problem.message}


def _describe(problem: Problem) -> str:
    place = _where(problem)
    line = f"line {place['line']}: " if place["line"] else ""
    return f"{place['file']} ({line}{place['message']})"


def _report(result: ImportResult, as_json: bool) -> None:
    if as_json:
        print_json({"imported": result.imported, "updated": result.updated, "already_present": result.unchanged,
                    "skipped": [_where(p) for p in result.skipped],
                    "warnings": list(result.warnings)})
    else:
        parts = [f"imported {_entries(result.imported)}",
                 *([f"{result.updated} updated (a new revision each)"] if result.updated else []),
                 f"{result.unchanged} already present"]
        if result.skipped:
            parts.append("skipped: " + "; ".join(_describe(p) for p in result.skipped))
        echo(", ".join(parts))
    for warning in result.warnings:
        echo(style(f"upstack: warning: {warning}", fg="red"), err=True)


def _choose(source: str, path: Path | None) -> tuple[str, Path]:
    """(format, path) from `import FORMAT PATH` or `import FILE` (a JSON export)."""
    if path is not None:
        if source not in FORMATS:
            raise click.UsageError(f"unknown format {source!r}: choose one of "
                                   f"{', '.join(FORMATS)} (or give just a JSON file)")
        return source, path
    if source in FORMATS and not Path(source).exists():
        what = {"markdown": "DIR", "mlflow": "MLRUNS_OR_DB", "tensorboard": "LOGDIR"}.get(source, "FILE")
        raise click.UsageError(f"missing what to import: upstack import {source} {what}")
    from upstack.interop.trackers import detect_tracker  # an mlruns folder, mlflow.db or a logdir says what it is

    return detect_tracker(Path(source)) or "json", Path(source)


@click.command(name="import")
@click.argument("source", metavar="FORMAT_OR_FILE")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--skip-bad", is_flag=True,
              help="Import what is good and report what was skipped (jrnl, markdown).")
@click.option("--timeformat", metavar="FMT",
              help="jrnl: how the journal file writes dates, as `timeformat` in jrnl's config "
              "(strftime, e.g. '%Y-%m-%d %H:%M'). Default: jrnl's config's, else jrnl's default '%F %r'.")
@click.option("--server-backup", is_flag=True,
              help="Restore a team server's accounts, sessions and API tokens too, from an "
              "`export --server-backup` (without it, they are left out).")
@click.option("--under", metavar="NODE",
              help="mlflow, tensorboard: file the imported runs under this node (default: the focus, if any).")
@json_option
@pass_log
def import_(ws: Workspace, source: str, path: Path | None, skip_bad: bool, timeformat: str | None,
            server_backup: bool, under: str | None, as_json: bool) -> None:
    """Import entries, or runs from MLflow and TensorBoard; importing the same data again adds nothing.

    If anything is wrong, nothing is imported and every problem is listed with
    its file and line, unless --skip-bad.

    \b
    Examples:
      upstack import backup.json            an upstack JSON export (merged by id)
      upstack import jrnl journal.txt       jrnl's own journal file
      upstack import jrnl journal.json      or what `jrnl --format json` writes
      upstack import jrnl journal.txt --timeformat '%Y-%m-%d %H:%M'
      upstack import markdown ~/vault       a folder of notes, e.g. an Obsidian vault
      upstack import mlflow mlruns          MLflow's runs: its mlruns folder ...
      upstack import mlflow mlflow.db       ... or its SQLite tracking database
      upstack import tensorboard runs/      TensorBoard event files (pip install 'upstack[tensorboard]')
    """
    fmt, target = _choose(source, path)
    if under is not None and fmt not in TRACKERS:
        raise click.UsageError("--under files imported runs: upstack import mlflow|tensorboard PATH --under NODE")
    if fmt in TRACKERS:
        if skip_bad:
            raise click.UsageError("--skip-bad is for jrnl and markdown imports; runs are imported whole")
        _import_runs(ws, fmt, target, under, as_json)
        return
    if timeformat is not None and fmt != "jrnl":
        raise click.UsageError("--timeformat is for jrnl's journal file: upstack import jrnl FILE --timeformat FMT")
    if server_backup and fmt != "json":
        raise click.UsageError("--server-backup restores a JSON server backup: upstack import --server-backup FILE")
    if fmt == "json":
        if skip_bad:
            raise click.UsageError("--skip-bad is for jrnl and markdown imports; "
                                   "a JSON export is imported whole")
        if target.is_dir():
            raise BadInput(f"{target} is a folder: to import notes, use "
                           f"`upstack import markdown {target}`")
        from upstack.services.jsondump import import_json

        result = import_json(ws, target, server_backup=server_backup)
    elif fmt == "jrnl":
        from upstack.interop.jrnl import import_jrnl

        with progress_bar("Importing") as progress:
            result = import_jrnl(ws, target, skip_bad=skip_bad, progress=progress, timeformat=timeformat)
    else:
        from upstack.interop.vault import import_markdown

        with progress_bar("Importing") as progress:
            result = import_markdown(ws, target, skip_bad=skip_bad, progress=progress)
    _report(result, as_json)


def _import_runs(ws: Workspace, fmt: str, target: Path, under: str | None, as_json: bool) -> None:
    from upstack.interop.trackers import import_tracker

    with progress_bar("Importing") as progress:
        done = import_tracker(ws, fmt, target, under=under, progress=progress)
    if as_json:
        print_json(done.to_dict())
        return
    parts = [f"imported {_plural(len(done.imported), 'run')} ({_plural(done.points, 'point')}) from {fmt}",
             *([f"{_plural(len(done.updated), 'run')} caught up"] if done.updated else []),
             f"{done.already_present} already present"]
    if done.not_imported:
        parts.append("not imported: " + ", ".join(f"{kind} ({n})" for kind, n in sorted(done.not_imported.items())))
    echo(", ".join(parts))
    if done.changed:
        echo(style(f"upstack: warning: fewer points in {fmt} than when imported, kept as imported: "
                   + ", ".join(done.changed), fg="red"), err=True)


COMMANDS = [export, import_]
