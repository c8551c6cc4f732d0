"""`upstack artifacts`, `artifact show`, `artifact purge`, `artifact send`: files and folders runs stored,
their versions, and which runs produced and used each. `upstack save NAME:vN DEST` gets one back."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click

from upstack.cli.hints import hinting_group
from upstack.cli.options import confirm_for_good, json_option, pass_log, yes_option
from upstack.cli.output import echo, human_size, plural, print_json, style
from upstack.domain.artifact import ArtifactVersion
from upstack.errors import BadInput
from upstack.ids import short_id
from upstack.services import artifacts as artifact_service
from upstack.timeutil import local_display
from upstack.workspace import Workspace

__all__ = ["COMMANDS"]


@click.command(name="artifacts")
@json_option
@pass_log
def artifacts_command(ws: Workspace, as_json: bool) -> None:
    """Artifacts runs stored (run.artifact), the latest first."""
    found = artifact_service.list_artifacts(ws)
    if as_json:
        print_json([asdict(a) for a in found])
        return
    if not found:
        echo('No artifacts yet. In a run: run.artifact("checkpoints/final", name="sae-16k", kind="model")')
    for item in found:
        latest = f" (latest v{item.latest})" if item.latest is not None else ""  # numbers are the owner's
        echo(f"{style(item.name, fg='yellow')}  {item.kind}  {plural(item.versions, 'version')}{latest}  "
             f"{human_size(item.size)}  " + style(local_display(item.updated_at), dim=True))


@click.group(name="artifact", cls=hinting_group("show"))
def artifact_group() -> None:
    """One artifact: `upstack artifact show NAME`, `purge NAME:vN`, `send NAME:vN`.

    Your own versions are NAME:v0, NAME:v1, ...; anyone's is also NAME@DIGEST (6 or more of its hex
    digits, as `show` lists them), the only way to name someone else's."""


def _version_dict(version: ArtifactVersion) -> dict[str, Any]:
    return {**asdict(version), "label": version.label, "anchor": version.anchor}


def _runs(links: list[dict[str, Any]]) -> str:
    return ", ".join(f"{short_id(link['run_id'])} {link['name']}" for link in links) or "none you may see"


@artifact_group.command(name="show")
@click.argument("name", metavar="NAME[:vN|@DIGEST]")
@json_option
@pass_log
def show(ws: Workspace, name: str, as_json: bool) -> None:
    """Versions of artifact NAME (NAME:vN or NAME:latest: that one), each with the runs that produced it
    and those that used it."""
    found = [artifact_service.find(ws, name)] if ":" in name or "@" in name else artifact_service.show(ws, name)
    if as_json:
        print_json({"name": found[0].name, "versions": [_version_dict(v) for v in found]})
        return
    for version in found:
        state = style(f"purged {local_display(version.purged_at)}", fg="red") if version.purged_at else ""
        echo(f"{style(version.label, fg='yellow')}  {version.kind}  {human_size(version.size)}  "
             f"{plural(len(version.files), 'file')}  {version.digest[:12]}  "
             + style(local_display(version.created_at), dim=True) + (f"  {state}" if state else ""))
        echo(f"  produced by: {_runs(version.produced_by)}")
        echo(f"  used by:     {_runs(version.used_by)}")


@artifact_group.command(name="purge")
@click.argument("ref", metavar="NAME:vN")
@yes_option
@pass_log
def purge(ws: Workspace, ref: str, yes: bool) -> None:
    """Free a version's bytes for good; its description and lineage stay, marked purged.

    Asks first, naming the version; --yes does not ask. NAME alone is refused: what is lost for good
    is named, not guessed (NAME:latest is the latest)."""
    if ":" not in ref and "@" not in ref:
        latest = artifact_service.find(ws, ref)
        raise BadInput(f"artifact purge needs a version: NAME:vN or NAME@DIGEST (the latest of {ref!r} is "
                       f"{latest.label}; its bytes go for good, so purge does not guess)")
    found = artifact_service.purgeable(ws, ref)
    confirm_for_good("artifact purge", f"Purge the files of {found.label} ({human_size(found.size)}, "
                     f"{plural(len(found.files), 'file')})", yes)
    version, removed = artifact_service.purge(ws, ref)
    echo(f"{version.label}  purged ({plural(len(removed), 'file')} deleted; files another version or an "
         "entry still holds are kept)")


@artifact_group.command(name="send")
@click.argument("ref", metavar="NAME:vN")
@pass_log
def send(ws: Workspace, ref: str) -> None:
    """Send a version's files to the team server, whatever its size (`upstack sync` sends those up to
    sync_artifact_mb, and every version's description)."""
    from upstack.services.artifact_sync import send_version  # here: only this command talks to a server

    version, sent = send_version(ws, ref)
    echo(f"{version.label}  {plural(sent, 'file')} sent")


COMMANDS = [artifacts_command, artifact_group]
