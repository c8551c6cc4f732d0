"""Sync a laptop's workspace with a team server: `upstack login URL`, then `upstack sync`.

Both sides compare manifests (store/sync.py): the laptop pushes the revisions,
files, deletions, nodes, comments and its user's stars and path records (ladder, practice,
portfolio) the server lacks, as records, and pulls what the server has that the user may see
(and their own stars and path) and the laptop lacks. Records carry their own ids, so a
second sync, or one resumed after a cut connection, applies nothing twice. Files go before the records that name them.
An entry edited on both sides keeps both revisions and says so (the newer one is
current on both sides); nothing is ever overwritten.

What the server refuses stays on the laptop and is reported, once per entry or node, until the
user drops it (``discard``) or keeps it to this laptop (``keep``). Each sync also keeps what the
server said of the user's roles (services/linked.py), so that a note or an edit it will refuse is
said at once.

This is the laptop's side; the server checks and applies what it is sent at its sync door
(services/sync_door.py), and runs travel by services/runsync.py. The link to the server
(``login``, ``remote``) is services/remote.py's, named here too for the commands that link
and sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain.permissions import PATH_OPS
from upstack.errors import BadInput, NotFound, Refused, UpstackError
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
    # Each: the record's id and op, its subject (the entry, node or run a person knows it by) and why.
    refused: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)  # subject or conflict id -> its title here
    # What `--discard` / `--keep` took off the list to send: subject, decision, the records.
    held: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync(ws: Workspace, progress: Callable[..., None] | None = None, *, discard: tuple[str, ...] = (),
         keep: tuple[str, ...] = ()) -> SyncReport:
    """Push what the server lacks, pull what this workspace lacks; see the module's docstring.

    ``discard`` and ``keep`` name entries or nodes (ids as people type them) whose changes the server
    refuses: those are taken off the list to send for good, dropped here (``discard``, nothing lost:
    store/sync_held.py) or kept on this workspace only (``keep``).
    """
    server = remote(ws)
    decisions = _decisions(ws, discard, keep)
    try:
        return _sync(ws, server, progress, decisions)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        # Every record that was taken is whole (each applies in its own transaction); the rest waits.
        raise UpstackError(f"{server.url} answered with something upstack cannot read ({type(exc).__name__}); "
                           "what was synced so far is kept: is it an upstack server of this version?") from None


def _decisions(ws: Workspace, discard: tuple[str, ...], keep: tuple[str, ...]) -> dict[str, str]:
    """{entry or node id: "discard" or "keep"}, for the ids given; one named twice is refused."""
    from upstack.store.queries import resolve_among

    found: dict[str, str] = {}
    for decision, refs in (("discard", discard), ("keep", keep)):
        for ref in refs:
            subject = resolve_among(ws.store().db, ref, {"entries": "entry", "nodes": "node"})[1]
            if found.get(subject, decision) != decision:
                raise BadInput(f"{ref} is given to both --discard and --keep: choose one")
            found[subject] = decision
    return found


def _sync(ws: Workspace, server: Remote, progress: Callable[..., None] | None,
          decisions: dict[str, str]) -> SyncReport:
    from upstack.services.linked import save_roles
    from upstack.store import comments as store_comments
    from upstack.store import judgment_sync
    from upstack.store import path as store_path
    from upstack.store import sync as store_sync
    from upstack.store.sync_held import held_ids

    store = ws.store()
    theirs = server.json("GET", "/api/sync/manifest.json")
    save_roles(ws, server.url, theirs.get("you") or {})
    held = held_ids(store.db)
    mine = _unheld(store_sync.manifest(store.db), held)
    report = SyncReport(server=server.url)

    def push(outgoing: list[Record]) -> None:
        outgoing = [r for r in outgoing if r.id not in held]
        for start in range(0, len(outgoing), BATCH):
            batch = outgoing[start:start + BATCH]
            for sha in _blobs(batch):
                try:
                    server.call("PUT", f"/api/blobs/{sha}", ws.blobs.read(sha), content_type="application/octet-stream")
                    report.files_sent += 1
                except Refused as exc:  # over a quota, say: what names the file stays here; the rest goes on
                    kept = [r for r in batch if sha in _blobs([r])]
                    report.refused += [{"id": r.id, "op": r.op, "subject": str(r.data.get("entry_id", "")),
                                        "reason": exc.reason} for r in kept]
                    batch = [r for r in batch if r not in kept]
            answer = server.json("POST", "/api/sync/push", {"records": [plain(r) for r in batch]})
            report.pushed += int(answer["applied"])
            sent = {r.id: r for r in batch}
            for item in answer["refused"]:  # what a person knows it by: the entry, node or run it is about
                record = sent.get(item.get("id"))
                data = record.data if record else {}
                if record:  # what the change was is what was sent, whatever the answer calls it (sync_held.py)
                    item["op"] = record.op
                item["subject"] = str(next((data[k] for k in ("entry_id", "run_id", "id", "node_id")
                                            if data.get(k)), ""))
                report.refused.append(item)
            report.conflicts += answer["conflicts"]
            if progress:
                progress("Pushing", start + len(batch), len(outgoing))

    # Push: nodes first (parents first), then runs (the server writes their results), then each
    # entry's missing records, files before records; then comments and stars, on entries there by now.
    push(store_sync.node_records(store.db, [n for n in mine["nodes"] if n not in set(theirs["nodes"])]))
    push(store_sync.node_event_records(store.db, sorted(set(mine["node_events"]) - set(theirs["node_events"]))))
    run_files: set[str] = set()
    report.runs_sent, refused = push_runs(ws, server, progress, run_files)
    report.files_sent += len(run_files)
    report.refused += refused
    if report.runs_sent:  # the server wrote their results: compare entries afresh
        theirs = server.json("GET", "/api/sync/manifest.json")
        mine = _unheld(store_sync.manifest(store.db), held)
    their_entries: dict[str, Any] = theirs["entries"]
    changed = [e for e, held_there in mine["entries"].items() if _lacks(their_entries.get(e), held_there)]
    push(store_sync.records_for(store.db, sorted(changed), have=their_entries))
    there = (set(their_entries) | set(changed)) - {r["subject"] for r in report.refused if r["op"] == "entry.create"}
    push(store_comments.comment_records(store.db, [c for c, e in mine["comments"].items()
                                                   if c not in theirs["comments"] and e in there]))
    push(store_sync.star_records(store.db, [e for e, change in mine["stars"].items() if e in there
                                            and _newer(change, theirs["stars"].get(e))]))
    their_path = theirs.get("path")  # None: a server from before paths travelled, which would refuse them
    if their_path is not None:
        push(store_path.records(store.db, sorted(set(mine["path"]) - set(their_path))))
    their_judgment = theirs.get("judgment")  # None: a server from before predictions and takes travelled
    if their_judgment is not None:
        push(judgment_sync.records(store.db, sorted(set(mine["judgment"]) - set(their_judgment))))
    if decisions:
        _hold(ws, report, decisions)

    # Pull: what they hold that this workspace lacks (their manifest lists only what the user may see).
    wanted = [e for e, held_there in their_entries.items() if _lacks(mine["entries"].get(e), held_there)]
    nodes = [n for n in theirs["nodes"] if n not in set(mine["nodes"])]
    changes = sorted(set(theirs["node_events"]) - set(mine["node_events"]))
    said = sorted(c for c in theirs["comments"] if c not in mine["comments"])
    starred = sorted(e for e, change in theirs["stars"].items() if _newer(change, mine["stars"].get(e)))
    for start in range(0, max(len(wanted), 1 if nodes or changes else 0), BATCH):
        chunk = wanted[start:start + BATCH]
        _pull(ws, server, report, {
            "entries": chunk, "nodes": nodes if start == 0 else [], "node_events": changes if start == 0 else [],
            "have": {e: mine["entries"][e] for e in chunk if e in mine["entries"]}})
        if progress:
            progress("Pulling", start + len(chunk), len(wanted))
    for start in range(0, max(len(said), len(starred)), BATCH):  # after the entries they are about
        _pull(ws, server, report, {"entries": [], "comments": said[start:start + BATCH],
                                   "stars": starred[start:start + BATCH]})
    path = sorted(set(their_path or []) - set(mine["path"]))
    for start in range(0, len(path), BATCH):
        _pull(ws, server, report, {"entries": [], "path": path[start:start + BATCH]})
    judged = sorted(set(their_judgment or []) - set(mine["judgment"]))  # after the entries they are about
    for start in range(0, len(judged), BATCH):
        _pull(ws, server, report, {"entries": [], "judgment": judged[start:start + BATCH]})
    report.runs_received = pull_runs(ws, server, progress)  # after the nodes they sit under
    report.conflicts = sorted(set(report.conflicts))
    report.titles = _titles(ws, [*(r["subject"] for r in report.refused if r.get("subject")), *report.conflicts,
                                 *(h["subject"] for h in report.held)])
    return report


def _pull(ws: Workspace, server: Remote, report: SyncReport, ask: dict[str, Any]) -> None:
    from upstack.store import sync as store_sync

    store = ws.store()
    answer = server.json("POST", "/api/sync/pull", ask)
    incoming = _well_formed(answer["records"], PULLABLE, report)
    with ws.blobs.adding():  # from fetching the files until the records naming them are in
        report.files_received += sum(fetch_blob(ws, server, sha) for sha in _blobs(incoming))
        before = store_sync.conflict_counts(store.db, incoming)
        applied = store.write(incoming)
    report.pulled += applied.applied
    report.conflicts += new_conflicts(before, store_sync.conflict_counts(store.db, incoming))


def _unheld(manifest: dict[str, Any], held: set[str]) -> dict[str, Any]:
    """This workspace's manifest without what it no longer sends (``sync_held``): a note or node the
    server refused to make, and each refused revision, file, change, comment or star (a refused
    deletion is left out where it is sent: ``push``)."""
    if not held:
        return manifest
    entries = {}
    for entry_id, parts in manifest["entries"].items():
        if entry_id in held:
            continue
        entries[entry_id] = {**parts, "revisions": [r for r in parts["revisions"] if r not in held],
                             "attachments": [a for a in parts["attachments"] if a not in held]}
    return {**manifest, "entries": entries, "nodes": [n for n in manifest["nodes"] if n not in held],
            "node_events": [e for e in manifest["node_events"] if e not in held],
            "comments": {c: e for c, e in manifest["comments"].items() if c not in held and e not in held},
            "stars": {e: s for e, s in manifest["stars"].items() if s[1] not in held and e not in held}}


def _newer(mine: list[str] | None, theirs: list[str] | None) -> bool:
    """Whether a star change (time, event id) is newer than the other side's (which may have none)."""
    return mine is not None and (theirs is None or tuple(mine) > tuple(theirs))


def _hold(ws: Workspace, report: SyncReport, decisions: dict[str, str]) -> None:
    """Take the refused changes of the entries and nodes named off the list to send (store/sync_held.py),
    as one record each; what they were is moved from the report's refusals to its ``held``."""
    from upstack.timeutil import now_iso

    records = []
    for subject, decision in sorted(decisions.items()):
        refused = [r for r in report.refused if r.get("subject") == subject and r.get("op") != "run"]
        report.held.append({"subject": subject, "decision": decision, "records": [
            {"id": r["id"], "op": r["op"]} for r in refused]})
        if refused:
            records.append(ws.record("sync.hold", {"subject_id": subject, "decision": decision, "at": now_iso(),
                                                   "records": [{"id": r["id"], "op": r["op"]} for r in refused]}))
    ws.store().write(records)
    report.refused = [r for r in report.refused if r.get("subject") not in decisions or r.get("op") == "run"]


def _titles(ws: Workspace, ids: list[str]) -> dict[str, str]:
    """What a person knows these entries, nodes and runs by here: their titles (or names)."""
    from upstack.store.queries import load_entries
    from upstack.store.tree import load_node

    db = ws.store().db
    wanted = sorted(set(ids))
    titles = {e.id: e.title for e in load_entries(db, wanted)}
    for node_id in (i for i in wanted if i not in titles):
        try:
            titles[node_id] = load_node(db, node_id).title
        except NotFound:
            continue
    return titles


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
        if record.op in PATH_OPS:  # a pulled path record is this workspace's own person's, whatever it says
            record.data.pop("by", None)
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

