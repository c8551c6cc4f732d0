"""Sync a laptop's workspace with a team server: `upstack login URL`, then `upstack sync`.

Both sides compare manifests (store/sync.py): the laptop pushes the revisions,
files, deletions and nodes the server lacks, as records, and pulls what the server
has that the user may see and the laptop lacks. Records carry their own ids, so a
second sync, or one resumed after a cut connection, applies nothing twice. Files go
before the records that name them. An entry edited on both sides keeps both
revisions and says so (the newer one is current on both sides); nothing is ever
overwritten.

The server side (``accept``) checks each pushed record against the pusher's roles:
a record they may not make (an edit of an entry they may only read, a note under a
node they cannot write to) is refused and reported, and the rest still land.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain.access import Audience
from upstack.domain.permissions import PERMISSIONS
from upstack.errors import BadInput, Refused, Unauthorized, UpstackError
from upstack.formats.journal import Record
from upstack.workspace import Workspace

# A run logging live imports this module for `remote` alone: what checks records (pydantic, the SQL
# store) is imported by the functions that check, which run on a server or in `upstack sync`.

__all__ = ["Remote", "login", "remote", "sync", "accept", "SyncReport", "PUSHABLE", "parse_record", "may_attach",
           "plain", "fetch_blob", "REMOTE_FILE"]

REMOTE_FILE = "remote.json"
PUSHABLE = tuple(PERMISSIONS)  # domain/permissions.py: who may push what
NODE_CHANGES = tuple(op for op, rule in PERMISSIONS.items() if rule.names == "node" and not rule.new)
PULLABLE = PUSHABLE  # what a server sends back is what a laptop may push
BATCH = 200


# -- the server's side ---------------------------------------------------------------------------

def accept(ws: Workspace, raw: list[Any], by: Audience) -> dict[str, Any]:
    """Apply records pushed by ``by``: each checked against their roles; returns what happened."""
    store = ws.store()
    # A file it names was uploaded earlier: from checking it is here until the records naming it are
    # in, a purge here must not delete it (store/blobs.py).
    with ws.blobs.adding():
        return _accept(ws, store, raw, by)


def _accept(ws: Workspace, store: Any, raw: list[Any], by: Audience) -> dict[str, Any]:
    from upstack.services.record_shapes import problem

    db = store.db
    records: list[Record] = []
    refused: list[dict[str, str]] = []
    made_nodes: set[str] = set()  # made by this push (not merely named by it): theirs to file under
    made_entries: set[str] = set()
    files: dict[str, int] = {}  # entry id -> files this push adds to it so far (checked against the cap together)
    for item in raw:
        record = parse_record(item, PUSHABLE)
        data = _trusted(record.op, record.data)
        verdict = problem(record.op, data) or _verdict(ws, record.op, data, by, made_nodes, made_entries, files)
        if verdict == "here":
            continue  # already on the server: nothing to apply
        if verdict:
            refused.append({"id": record.id, "op": record.op, "reason": verdict})
            continue
        if record.op in ("node.create", "entry.create"):
            data["by"] = by.user_id  # what they make on the server is theirs, whatever the record says
            (made_nodes if record.op == "node.create" else made_entries).add(str(data["id"]))
        records.append(Record(id=record.id, op=record.op, workspace=record.workspace, at=record.at, data=data))
    before, here = _conflict_counts(db, records), _applied(db, records)
    # The ingest may take in others' records pending beside these, and another push's ingest may take in
    # these: what is told is what the store now holds of this push's records, and nothing of anyone else's.
    report = store.write(records)
    now_here = _applied(db, records)
    return {"received": len(raw), "applied": len(now_here - here), "refused": refused,
            "conflicts": _new_conflicts(before, _conflict_counts(db, records)),
            "problems": [f"record {r.id} ({r.op}) not applied: "
                         f"{report.refused.get(r.id, 'the server kept it aside for its administrator')}"
                         for r in records if r.id not in now_here]}


def _applied(db: Any, records: list[Record]) -> set[str]:
    """Which of ``records`` the store has applied (by their ids)."""
    ids = [r.id for r in records]
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found |= {row["id"] for row in db.query(
            f"SELECT id FROM applied_records WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)}
    return found


def _trusted(op: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a pushed record may carry: files only through ``entry.attach`` (checked there), and no
    metadata merged into an existing entry."""
    data = dict(data)
    if op == "entry.create":
        data["attachments"] = []
        # An imported file's source makes a re-import a no-op, store-wide: from a push it would let one
        # member's entry vanish behind another's (and tell them the other exists).
        data.pop("source", None)
    if op == "entry.revise":
        data.pop("attachments", None)
        data.pop("meta", None)
    return data


def parse_record(item: Any, allowed: tuple[str, ...]) -> Record:
    """A pushed record, if it is well formed and of a kind this push may carry."""
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "op", "workspace", "at")) \
            or not isinstance(item.get("data"), dict):
        raise BadInput("a pushed record needs id, op, workspace, at (text) and data (an object)")
    if item["op"] not in allowed:
        raise BadInput(f"records of kind {item['op']!r} cannot be pushed here; this takes {', '.join(allowed)}")
    from upstack.services.record_shapes import envelope_problem

    wrong = envelope_problem(item["id"], item["workspace"], item["at"])
    if wrong:
        raise BadInput(wrong)
    return Record(id=item["id"], op=item["op"], workspace=item["workspace"], at=item["at"], data=item["data"])


NOT_YOURS = "no such entry, or you may not change it"
TAKEN = "that id is taken by something else (a run's result entry comes only with the run)"


def _verdict(ws: Workspace, op: str, data: dict[str, Any], by: Audience, made_nodes: set[str],
             made_entries: set[str], files: dict[str, int]) -> str:
    """'' if ``by`` may make this record; "here" if the server has it already; else why not.

    Something that exists but is hidden from them answers as if it did not exist.
    """
    from upstack.services.quota import too_many_files
    from upstack.store.ingest import id_taken

    db = ws.store().db
    try:
        if op == "node.create":
            if db.scalar("SELECT 1 FROM nodes WHERE id = ?", (str(data["id"]),)):
                return "here" if by.sees_node(str(data["id"])) else "you may not add nodes there"
            if id_taken(db, str(data["id"])) or data["id"] in made_entries:
                return TAKEN
            parent = data.get("parent_id")
            if parent and parent not in made_nodes and not by.may_file_under(parent):
                return "you may not add nodes there"
            return ""
        if op in NODE_CHANGES:
            return _node_change_verdict(db, op, data, by, made_nodes)
        if op == "entry.create":
            author = db.one("SELECT author_id FROM entries WHERE id = ?", (str(data["id"]),))
            if author is not None:
                return "here" if by.is_author(author["author_id"]) else NOT_YOURS
            if id_taken(db, str(data["id"])) or data["id"] in made_nodes:
                return TAKEN
            node = data.get("node_id")
            if node and node not in made_nodes and not by.may_file_under(node):
                return "you may not add entries under that node"
            return ""
        entry_id = str(data["entry_id"])
        row = db.one("SELECT author_id, private, node_id, deleted_at FROM entries WHERE id = ?", (entry_id,))
        if entry_id not in made_entries and (  # one made by this push is theirs; its files are checked all the same
                row is None or not by.may_edit_entry(author_id=row["author_id"], private=bool(row["private"]),
                                                     node_id=row["node_id"])
                or (row["deleted_at"] and not by.is_author(row["author_id"]))):
            return NOT_YOURS
        if op == "entry.attach":
            if too_many_files(ws, entry_id, files.get(entry_id, 0) + len(data["attachments"])):
                return "the entry would have more files than the server allows (setting entry_max_files)"
            for attachment in data["attachments"]:
                if attachment.get("sha256") and not may_attach(ws, by, str(attachment["sha256"])):
                    return "a file it names was not uploaded by you first"
            files[entry_id] = files.get(entry_id, 0) + len(data["attachments"])
        return ""
    except (KeyError, TypeError, AttributeError):
        return "the record is malformed"


def _node_change_verdict(db: Any, op: str, data: dict[str, Any], by: Audience, made_nodes: set[str]) -> str:
    """A node's title, why and status are its editors' to change; where it sits and whether it
    is deleted, its owners'. Moving needs the right to file under the new parent too."""
    node_id = str(data["node_id"])
    if not by.sees_node(node_id) and node_id not in made_nodes:
        return "no such node, or you may not change it"
    if db.scalar("SELECT 1 FROM node_events WHERE id = ?", (str(data.get("event_id") or ""),)):
        return "here"
    rule = PERMISSIONS[op]
    if node_id not in made_nodes and not by.has(node_id, rule.needs):
        return f"you may not change that node (it needs the {rule.needs} role)"
    present = db.scalar("SELECT parent_id FROM nodes WHERE id = ?", (node_id,))
    if rule.leaves and present and present not in made_nodes and not by.has(str(present), rule.leaves):
        return f"you may not take that node from where it is (it needs the {rule.leaves} role there)"
    parent = data.get("parent_id")
    if PERMISSIONS[op].files_under and parent and parent not in made_nodes and not by.may_file_under(str(parent)):
        return "you may not move a node there"
    return ""


def may_attach(ws: Workspace, by: Audience, sha256: str) -> bool:
    """A file may be attached by whoever uploaded it (a receipt in the audit log); knowing a
    hash is not enough to get at someone else's file."""
    return ws.blobs.verify(sha256) is None and bool(ws.store().db.scalar(
        "SELECT 1 FROM audit_log WHERE action = 'file.upload' AND actor_id = ? AND subject = ?", (by.user_id, sha256)))


# -- the laptop's side ---------------------------------------------------------------------------

class _Busy(Exception):
    """A 429: the server names how many seconds to wait before trying again."""

    def __init__(self, wait: float, detail: str) -> None:
        super().__init__(detail)
        self.wait, self.detail = min(wait, 60.0), detail


@dataclass(frozen=True)
class Remote:
    url: str
    token: str
    login: str

    def call(self, method: str, path: str, body: bytes | None = None, *,
             content_type: str = "application/json", timeout: float = 120) -> bytes:
        """One request; a 429 (this member's share of the server in use: busy, not refused) is
        tried again after the wait the server names, for up to ``min(timeout, 60)`` seconds."""
        patience = time.monotonic() + min(timeout, 60.0)
        while True:
            try:
                return self._call_once(method, path, body, content_type, timeout)
            except _Busy as busy:
                if time.monotonic() + busy.wait > patience:
                    raise UpstackError(f"{self.url} is busy with your other requests: {busy.detail[:300]}; "
                                       "nothing was lost, run it again in a minute") from None
                time.sleep(busy.wait)

    def _call_once(self, method: str, path: str, body: bytes | None, content_type: str, timeout: float) -> bytes:
        request = urllib.request.Request(self.url.rstrip("/") + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json", "Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user's own server
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, AttributeError):  # our servers answer {"error": ...}
                detail = str(json.loads(detail).get("error") or json.loads(detail).get("detail") or detail)
            if exc.code == 429:
                wait = exc.headers.get("Retry-After", "1")
                raise _Busy(float(wait) if wait.isdigit() else 1.0, detail) from None
            if exc.code == 401:
                raise Unauthorized(f"{self.url} refused the token (revoked?): run `upstack login {self.url}` "
                                   "again with a new one") from None
            message = f"{self.url} answered {exc.code} to {method} {path}: {detail[:300]}"
            if 400 <= exc.code < 500:
                raise Refused(message, detail[:300]) from None
            raise UpstackError(message) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UpstackError(f"cannot reach {self.url}: {reason}; nothing was lost, try again when it is "
                               "reachable") from None

    def json(self, method: str, path: str, payload: Any = None, *, timeout: float = 120) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        return json.loads(self.call(method, path, body, timeout=timeout))


def login(ws: Workspace, url: str, token: str) -> Remote:
    """Check the token against the server and keep both (readable by this user only)."""
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"{url!r} is not a server address: give it as https://host (or http://host:port)")
    if not token.strip():
        raise BadInput("no token: make one on the server's account page (Your account → API tokens)")
    probe = Remote(url.rstrip("/"), token.strip(), "")
    me = probe.json("GET", "/api/me.json")
    if me.get("token_scope") == "read-only":
        raise BadInput("that token is read-only, and `upstack sync` sends as well as reads: make a full or "
                       "sync-only token on the server's account page")
    found = Remote(probe.url, probe.token, str(me["login"]))
    path = ws.home / REMOTE_FILE
    ws.home.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{REMOTE_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(found), out)
    os.replace(tmp, path)
    return found


def remote(ws: Workspace) -> Remote:
    try:
        data = json.loads((ws.home / REMOTE_FILE).read_text())
        return Remote(url=data["url"], token=data["token"], login=data["login"])
    except FileNotFoundError:
        raise BadInput("this workspace is not linked to a server: run `upstack login URL` first") from None
    except (ValueError, KeyError, TypeError):
        raise BadInput(f"{ws.home / REMOTE_FILE} is damaged: run `upstack login URL` again") from None


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
    from upstack.services.runsync import pull_runs, push_runs
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
            before = _conflict_counts(store.db, incoming)
            applied = store.write(incoming)
        report.pulled += applied.applied
        report.conflicts += _new_conflicts(before, _conflict_counts(store.db, incoming))
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


def fetch_blob(ws: Workspace, server: Remote, sha256: str) -> bool:
    """Download a file this workspace lacks (checked against its hash); whether it was needed."""
    if ws.blobs.verify(sha256) is None:
        return False
    if ws.blobs.put_bytes(server.call("GET", f"/api/blobs/{sha256}")) != sha256:
        raise UpstackError(f"{server.url} sent a file that does not match its hash {sha256[:12]}; "
                           "nothing of it was kept")
    return True


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


def _conflict_counts(db: Any, records: list[Record]) -> dict[str, int]:
    """How many conflicts each revised entry notes (see ingest.revise_entry)."""
    ids = sorted({str(r.data["entry_id"]) for r in records if r.op == "entry.revise"})
    if not ids:
        return {}
    return {str(r["id"]): len(json.loads(r["meta"] or "{}").get("conflicts", [])) for r in db.query(
        f"SELECT id, meta FROM entries WHERE id IN ({', '.join('?' for _ in ids)})", ids)}


def _new_conflicts(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(e for e, n in after.items() if n > before.get(e, 0))


def plain(record: Record) -> dict[str, Any]:
    return {"id": record.id, "op": record.op, "workspace": record.workspace, "at": record.at, "data": record.data}


def server_records(ws: Workspace, entries: list[str], nodes: list[str], have: dict[str, Any],
                   node_events: list[str] | None = None) -> list[dict[str, Any]]:
    """The records a pulling user gets (only what they may see: the store answers for them)."""
    from upstack.store import sync as store_sync

    db = ws.store().db
    records = store_sync.node_records(db, nodes)  # only nodes the reader may see: node_rows answers for them
    records += store_sync.node_event_records(db, node_events or [])
    records += store_sync.records_for(db, entries, have=have)
    return [plain(r) for r in records]


def read_blob(ws: Workspace, sha256: str) -> bytes:
    """A file the reader may see (some visible entry has it attached)."""
    from upstack.errors import NotFound
    from upstack.store.queries import reader_sql

    db = ws.store().db
    visible, params = reader_sql(db)
    if not db.scalar(f"SELECT 1 FROM attachments a JOIN entries e ON e.id = a.entry_id WHERE a.sha256 = ? "
                     f"AND a.purged_at IS NULL AND {visible}", [sha256, *params]):
        raise NotFound(f"no file {sha256[:12]}")
    return ws.blobs.read(sha256)


def write_blob(ws: Workspace, sha256: str, data: bytes, by: Audience) -> None:
    """Keep an uploaded file, with a receipt in the audit log: what lets ``by`` attach it."""
    import hashlib

    from upstack.services.accounts import audit

    if hashlib.sha256(data).hexdigest() != sha256:
        raise BadInput(f"the file does not match its name: it hashes to another value than {sha256[:12]}")
    ws.blobs.put_bytes(data)
    db = ws.store().db
    if not db.scalar("SELECT 1 FROM audit_log WHERE action = 'file.upload' AND actor_id = ? AND subject = ?",
                     (by.user_id, sha256)):
        with db.transaction():
            audit(db, "file.upload", actor=by.user_id, subject=sha256, detail=f"{len(data)} bytes")
