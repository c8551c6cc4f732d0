"""Sync a laptop's workspace with a team server: `upstack login URL`, then `upstack sync`.

Both sides compare manifests (store/sync.py): the laptop pushes the revisions,
files, deletions and nodes the server lacks, as records, and pulls what the server
has that the user may see and the laptop lacks. Records carry their own ids, so a
second sync, or one resumed after a cut connection, applies nothing twice. Files go
before the records that name them. An entry edited on both sides keeps both
revisions and says so (the newer one is current on both sides); nothing is ever
overwritten.

This is the laptop's side; the server checks and applies what it is sent at its sync door
(services/sync_door.py), and runs travel by services/runsync.py. The link to the server
(``login``, ``remote``) is services/remote.py's, named here too for the commands that link
and sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.errors import BadInput, Refused, UpstackError
from upstack.formats.journal import Record
from upstack.services.remote import REMOTE_FILE, Remote, fetch_blob, login, remote
from upstack.services.runsync import pull_runs, push_runs
from upstack.services.sync_records import PULLABLE, new_conflicts, parse_record, plain
from upstack.workspace import Workspace

# A run logging live imports this module for `remote` alone: what checks records (pydantic, the SQL
# store) is imported by the functions that check, which run on a server or in `upstack sync`.

__all__ = ["Remote", "login", "remote", "sync", "SyncReport", "REMOTE_FILE"]

BATCH = 200


@dataclass
class SyncReport:
    server: str
    pushed: int = 0
    pulled: int = 0
    files_sent: int = 0
    files_received: int = 0
    runs_sent: int = 0
    runs_received: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync(ws: Workspace, progress: Callable[..., None] | None = None) -> SyncReport:
    """Push what the server lacks, pull what this workspace lacks; see the module's docstring."""
    server = remote(ws)
    try:
        return _sync(ws, server, progress)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        # Every record that was taken is whole (each applies in its own transaction); the rest waits.
        raise UpstackError(f"{server.url} answered with something upstack cannot read ({type(exc).__name__}); "
                           "what was synced so far is kept: is it an upstack server of this version?") from None


def _sync(ws: Workspace, server: Remote, progress: Callable[..., None] | None) -> SyncReport:
    from upstack.store import sync as store_sync

    store = ws.store()
    theirs = server.json("GET", "/api/sync/manifest.json")
    mine = store_sync.manifest(store.db)
    report = SyncReport(server=server.url)

    def push(outgoing: list[Record]) -> None:
        for start in range(0, len(outgoing), BATCH):
            batch = outgoing[start:start + BATCH]
            for sha in _blobs(batch):
                try:
                    server.call("PUT", f"/api/blobs/{sha}", ws.blobs.read(sha), content_type="application/octet-stream")
                    report.files_sent += 1
                except Refused as exc:  # over a quota, say: what names the file stays here; the rest goes on
                    held = [r for r in batch if sha in _blobs([r])]
                    report.refused += [{"id": r.id, "op": r.op, "subject": str(r.data.get("entry_id", "")),
                                        "reason": exc.reason} for r in held]
                    batch = [r for r in batch if r not in held]
            answer = server.json("POST", "/api/sync/push", {"records": [plain(r) for r in batch]})
            report.pushed += int(answer["applied"])
            sent = {r.id: r for r in batch}
            for item in answer["refused"]:  # what a person knows it by: the entry, node or run it is about
                data = sent[item["id"]].data if item.get("id") in sent else {}
                item["subject"] = str(next((data[k] for k in ("entry_id", "run_id", "id", "node_id")
                                            if data.get(k)), ""))
                report.refused.append(item)
            report.conflicts += answer["conflicts"]
            if progress:
                progress("Pushing", start + len(batch), len(outgoing))

    # Push: nodes first (parents first), then runs (the server writes their results), then each
    # entry's missing records, files before records.
    push(store_sync.node_records(store.db, [n for n in mine["nodes"] if n not in set(theirs["nodes"])]))
    push(store_sync.node_event_records(store.db, sorted(set(mine["node_events"]) - set(theirs["node_events"]))))
    report.runs_sent, refused = push_runs(ws, server, progress)
    report.refused += refused
    if report.runs_sent:  # the server wrote their results: compare entries afresh
        theirs = server.json("GET", "/api/sync/manifest.json")
        mine = store_sync.manifest(store.db)
    their_entries: dict[str, Any] = theirs["entries"]
    changed = [e for e, held in mine["entries"].items() if _lacks(their_entries.get(e), held)]
    push(store_sync.records_for(store.db, sorted(changed), have=their_entries))

    # Pull: what they hold that this workspace lacks (their manifest lists only what the user may see).
    wanted = [e for e, held in their_entries.items() if _lacks(mine["entries"].get(e), held)]
    nodes = [n for n in theirs["nodes"] if n not in set(mine["nodes"])]
    changes = sorted(set(theirs["node_events"]) - set(mine["node_events"]))
    for start in range(0, max(len(wanted), 1 if nodes or changes else 0), BATCH):
        chunk = wanted[start:start + BATCH]
        answer = server.json("POST", "/api/sync/pull", {
            "entries": chunk, "nodes": nodes if start == 0 else [], "node_events": changes if start == 0 else [],
            "have": {e: mine["entries"][e] for e in chunk if e in mine["entries"]}})
        incoming = _well_formed(answer["records"], PULLABLE, report)
        with ws.blobs.adding():  # from fetching the files until the records naming them are in
            report.files_received += sum(fetch_blob(ws, server, sha) for sha in _blobs(incoming))
            before = store_sync.conflict_counts(store.db, incoming)
            applied = store.write(incoming)
        report.pulled += applied.applied
        report.conflicts += new_conflicts(before, store_sync.conflict_counts(store.db, incoming))
        if progress:
            progress("Pulling", start + len(chunk), len(wanted))
    report.runs_received = pull_runs(ws, server, progress)  # after the nodes they sit under
    report.conflicts = sorted(set(report.conflicts))
    return report


def _well_formed(raw: list[Any], allowed: tuple[str, ...], report: SyncReport) -> list[Record]:
    """The pulled records that have their op's shape; the others are left on the server, and said."""
    from upstack.services.record_shapes import problem

    records = []
    for item in raw:
        try:
            record = parse_record(item, allowed)
        except BadInput as exc:
            report.refused.append({"id": str(item.get("id", "?") if isinstance(item, dict) else "?"),
                                   "op": "pull", "reason": f"from the server: {exc}"})
            continue
        reason = problem(record.op, record.data)
        if reason:
            report.refused.append({"id": record.id, "op": record.op, "reason": f"from the server: {reason}"})
            continue
        records.append(record)
    return records



def _lacks(theirs: dict[str, Any] | None, mine: dict[str, Any]) -> bool:
    """Whether the other side is missing something of an entry this side holds."""
    if theirs is None:
        return True
    return (bool(set(mine["revisions"]) - set(theirs["revisions"]))
            or bool(set(mine["attachments"]) - set(theirs["attachments"]))
            or (mine["deleted"] and not theirs["deleted"]))


def _blobs(records: list[Record]) -> list[str]:
    return sorted({str(a["sha256"]) for r in records if r.op == "entry.attach"
                   for a in r.data.get("attachments", []) if a.get("sha256")})

