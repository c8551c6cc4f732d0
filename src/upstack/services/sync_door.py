"""The sync door: what a team server does with what `upstack sync` pushes and pulls.

Each pushed record is checked against the pusher's roles (domain/permissions.py): a record
they may not make (an edit of an entry they may only read, a note under a node they cannot
write to) is refused and reported, and the rest still land. A pull gets only what the puller
may see, and a file only if some entry they may see has it attached; an uploaded file gets a
receipt, which is what lets its uploader (and nobody else) attach it.
"""

from __future__ import annotations

import json
from typing import Any

from upstack.domain.access import Audience
from upstack.domain.entry import NOTE_META
from upstack.domain.permissions import PERMISSIONS
from upstack.errors import BadInput
from upstack.formats.journal import Record
from upstack.services.quota import OVER_QUOTA, room_left
from upstack.services.sync_records import PUSHABLE, new_conflicts, parse_record, plain
from upstack.store import comments as store_comments
from upstack.store import judgment_sync
from upstack.store import path as store_path
from upstack.store import runs as store_runs
from upstack.store import sync as store_sync
from upstack.store.accounts import user_row
from upstack.workspace import Workspace

__all__ = ["accept", "who", "may_attach", "server_records", "read_blob", "write_blob", "NOT_YOURS", "TAKEN",
           "NOT_AN_ID"]

NODE_CHANGES = tuple(op for op, rule in PERMISSIONS.items() if rule.names == "node" and not rule.new)


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
    named: set[str] = set()  # the ids of everything this push makes (_new_ids)
    room: int | None = None  # what the pusher may still store (None: no limit), read at their first path record
    room_read = False
    for item in raw:
        record = parse_record(item, PUSHABLE)
        data = _trusted(record.op, record.data)
        if record.op in judgment_sync.OPS:
            verdict = problem(record.op, data) or _judgment_verdict(db, record, data, by, made_entries, named)
        elif PERMISSIONS[record.op].names == "self":
            verdict = problem(record.op, data) or _path_verdict(db, record, data, by, named)
            if not verdict:
                room, room_read = (room, True) if room_read else (room_left(ws, by), True)
                size = len(json.dumps({**data, "by": by.user_id}, ensure_ascii=False, sort_keys=True))
                if room is not None:
                    verdict, room = (OVER_QUOTA, room) if size > room else ("", room - size)
        else:
            verdict = problem(record.op, data) or _verdict(ws, record.op, data, by, made_nodes, made_entries, files) \
                or _id_clash(db, record.op, data, named)
        if verdict == "here":
            continue  # already on the server: nothing to apply
        if verdict:
            refused.append({"id": record.id, "op": record.op, "reason": verdict})
            continue
        if record.op in ("node.create", "entry.create"):
            (made_nodes if record.op == "node.create" else made_entries).add(str(data["id"]))
        if record.op in ("node.create", "entry.create", "comment.add", "star.set", *judgment_sync.OPS) \
                or PERMISSIONS[record.op].names == "self":
            data["by"] = by.user_id  # what they make on the server is theirs, whatever the record says
        if record.op == "comment.add":
            data["author_login"] = by.login
        records.append(Record(id=record.id, op=record.op, workspace=record.workspace, at=record.at, data=data))
    ids = [r.id for r in records]
    before, here = store_sync.conflict_counts(db, records), store_sync.applied_ids(db, ids)
    # The ingest may take in others' records pending beside these, and another push's ingest may take in
    # these: what is told is what the store now holds of this push's records, and nothing of anyone else's.
    report = store.write(records)
    now_here = store_sync.applied_ids(db, ids)
    return {"received": len(raw), "applied": len(now_here - here), "refused": refused,
            "conflicts": new_conflicts(before, store_sync.conflict_counts(db, records)),
            "problems": [f"record {r.id} ({r.op}) not applied: "
                         f"{report.refused.get(r.id, 'the server kept it aside for its administrator')}"
                         for r in records if r.id not in now_here]}


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
        # Of meta, an edit brings only what belongs to its text (a vault note's front matter and file,
        # its aliases); the rest of an entry's meta (a run's, conflicts noted) is never a pusher's to set.
        data["meta"] = {k: v for k, v in (data.get("meta") or {}).items() if k in NOTE_META}
    return data



def _new_ids(op: str, data: dict[str, Any]) -> list[str]:
    """The ids of what a record makes, each the id of a record a laptop pulls it as (store/sync.py)."""
    if op in ("node.create", "comment.add"):
        return [str(data["id"])]
    if op == "entry.create":
        return [str(data["id"]), str(data["revision_id"])]
    if op == "entry.revise":
        return [str(data["revision_id"])]
    if op == "entry.attach":
        return [str(a["id"]) for a in data["attachments"]]
    return [str(data["event_id"])] if op in NODE_CHANGES and data.get("event_id") else []


def _id_clash(db: Any, op: str, data: dict[str, Any], named: set[str]) -> str:
    """Each id a record makes names nothing else, here or earlier in the push. A laptop takes in what it
    pulls by record id, and a pulled record's id is its object's (a node's, a revision's, a file's, a node
    change's, a comment's): one id for two things would keep the second from every laptop for good, as
    already there. A revision or a file its entry has already is one sent again (a sync resumed)."""
    entry = str(data.get("entry_id") or "") if op in ("entry.revise", "entry.attach") else ""
    fresh = [i for i in _new_ids(op, data) if not (entry and store_sync.part_of(db, i, entry))]
    if any(i in named or store_sync.id_named(db, i) for i in fresh):
        return TAKEN
    named.update(fresh)
    return ""


def _path_verdict(db: Any, record: Record, data: dict[str, Any], by: Audience, named: set[str]) -> str:
    """A record of the pusher's own path: "here" if they pushed it before, else its id must name
    nothing (another person's path record, an entry, a node, a run, a revision, ...). A share names a
    member: their login (as a laptop has it) becomes their id here, as the server keeps it. A
    local-only record never leaves the machine it was made on: one that arrives is refused."""
    if data.get("local_only") is not None:
        return "a local-only record stays on the machine it was made on: it is not taken here"
    held = store_path.holder(db, record.id)
    if held is not None:
        return "here" if held == store_path.person_key(db, by.user_id) else TAKEN
    if record.id in named or store_sync.id_named(db, record.id):
        return TAKEN
    if record.op == "path.share":
        member = user_row(db, login=str(data["subject"])) or user_row(db, user_id=str(data["subject"]))
        if member is None or member["removed_at"]:
            return "no such member here: a path is shown to someone with an account on this server"
        data["subject"] = str(member["id"])
    named.add(record.id)
    return ""


def _judgment_verdict(db: Any, record: Record, data: dict[str, Any], by: Audience, made_entries: set[str],
                      named: set[str]) -> str:
    """What is said of a prediction or a take is its author's alone: the entry must be theirs (made
    before, or in this push) and not deleted; the record's id names nothing else ("here" if it is
    their own change of that entry, pushed before). Its id is an upstack id, as every laptop makes them:
    a take's later events add a suffix to it, and the manifest lists a take's records by their first 26
    characters, so a longer id would list (and pull) as someone else's record."""
    from upstack.ids import looks_like_full_id

    if not looks_like_full_id(record.id):
        return NOT_AN_ID
    entry_id = str(data["entry_id"])
    held = judgment_sync.event_owner(db, record.id)
    if held is not None:
        return "here" if held["entry_id"] == entry_id and by.is_author(held["author_id"]) else TAKEN
    if record.id in named or store_sync.id_named(db, record.id):
        return TAKEN
    row = store_sync.entry_access(db, entry_id)
    if entry_id not in made_entries and (row is None or row["deleted_at"] or not by.is_author(row["author_id"])):
        return NOT_YOURS
    named.add(record.id)
    return ""


NOT_YOURS = "no such entry, or you may not change it"
NOT_AN_ID = "a prediction's or take's change travels under an upstack id (26 characters)"
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
            if store_sync.node_exists(db, str(data["id"])):
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
            exists, author = store_sync.entry_author(db, str(data["id"]))
            if exists:
                return "here" if by.is_author(author) else NOT_YOURS
            if id_taken(db, str(data["id"])) or data["id"] in made_nodes:
                return TAKEN
            node = data.get("node_id")
            if node and node not in made_nodes and not by.may_file_under(node):
                return "you may not add entries under that node"
            return ""
        entry_id = str(data["entry_id"])
        row = store_sync.entry_access(db, entry_id)
        if op in ("comment.add", "star.set"):
            return _said_verdict(db, op, data, by, row, entry_id in made_entries)
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


NOT_SEEN = "no such entry, or you may not comment on it"


def _said_verdict(db: Any, op: str, data: dict[str, Any], by: Audience, row: dict[str, Any] | None,
                  made_here: bool) -> str:
    """A comment needs the commenter role where its entry is (or to be its author), on an entry that is
    not deleted; a star, only to see the entry. One the pusher may not see answers as one that is not there."""
    if op == "star.set":
        if made_here or (row is not None and by.sees_entry(author_id=row["author_id"], private=bool(row["private"]),
                                                           node_id=row["node_id"], deleted=bool(row["deleted_at"]))):
            return ""
        return "no such entry"
    exists, author = store_comments.comment_author(db, str(data["id"]))
    if exists:
        return "here" if by.is_author(author) else TAKEN
    if made_here:
        return ""
    if row is None or row["deleted_at"] or not by.may_comment(author_id=row["author_id"], private=bool(row["private"]),
                                                              node_id=row["node_id"]):
        return NOT_SEEN
    return ""


def _node_change_verdict(db: Any, op: str, data: dict[str, Any], by: Audience, made_nodes: set[str]) -> str:
    """A node's title, why and status are its editors' to change; where it sits and whether it
    is deleted, its owners'. Moving needs the right to file under the new parent too."""
    node_id = str(data["node_id"])
    if not by.sees_node(node_id) and node_id not in made_nodes:
        return "no such node, or you may not change it"
    if store_sync.node_event_exists(db, str(data.get("event_id") or "")):
        return "here"
    rule = PERMISSIONS[op]
    if node_id not in made_nodes and not by.has(node_id, rule.needs):
        return f"you may not change that node (it needs the {rule.needs} role)"
    present = store_sync.node_parent(db, node_id)
    if rule.leaves and present and present not in made_nodes and not by.has(str(present), rule.leaves):
        return f"you may not take that node from where it is (it needs the {rule.leaves} role there)"
    parent = data.get("parent_id")
    if PERMISSIONS[op].files_under and parent and parent not in made_nodes and not by.may_file_under(str(parent)):
        return "you may not move a node there"
    return ""


def manifest(ws: Workspace, by: Audience) -> Any:
    """What the server holds that the reader may see (entries' revisions and files, nodes and their
    changes, comments) and their own stars; and who they are here, with their roles, so that their
    laptop can say at once what this server will not take from them."""
    held = store_sync.manifest(ws.store().db)
    held["you"] = {"login": by.login, **who(by)}
    return held


def who(by: Audience) -> dict[str, Any]:
    """What a laptop needs to know of its user here to say at once what this server will not take:
    their id, whether they own what was written with nobody signed in, their role on each node they see."""
    return {"id": by.user_id, "owns_unattributed": by.owns_unattributed, "roles": dict(sorted(by.roles.items()))}


def run_states(ws: Workspace) -> Any:
    """The runs the reader may see: status, items, summary and points per metric."""
    return store_runs.run_state(ws.store().db)


def may_attach(ws: Workspace, by: Audience, sha256: str) -> bool:
    """A file may be attached by whoever uploaded it (a receipt in the audit log); knowing a
    hash is not enough to get at someone else's file."""
    from upstack.store import audit as store_audit

    return ws.blobs.verify(sha256) is None and store_audit.has_upload(ws.store().db, by.user_id, sha256)



def server_records(ws: Workspace, entries: list[str], nodes: list[str], have: dict[str, Any],
                   node_events: list[str] | None = None, comments: list[str] | None = None,
                   stars: list[str] | None = None, path: list[str] | None = None,
                   judgment: list[str] | None = None) -> list[dict[str, Any]]:
    """The records a pulling user gets (only what they may see, and only their own stars and path: the
    store answers for them)."""
    db = ws.store().db
    records = store_sync.node_records(db, nodes)  # only nodes the reader may see: node_rows answers for them
    records += store_sync.node_event_records(db, node_events or [])
    records += store_sync.records_for(db, entries, have=have)
    records += store_comments.comment_records(db, comments or [])
    records += store_sync.star_records(db, stars or [])
    records += [_as_laptop_has_it(db, r) for r in store_path.records(db, path or [])]
    records += judgment_sync.records(db, judgment or [])
    return [plain(r) for r in records]


def _as_laptop_has_it(db: Any, record: Record) -> Record:
    """A share names its member by login on a laptop (by id here): who they are outside this server."""
    if record.op == "path.share":
        member = user_row(db, user_id=str(record.data["subject"]))
        if member is not None:
            record.data["subject"] = str(member["login"])
    return record


def read_blob(ws: Workspace, sha256: str) -> bytes:
    """A file the reader may see (some visible entry has it attached)."""
    from upstack.errors import NotFound

    if not store_sync.file_visible(ws.store().db, sha256):
        raise NotFound(f"no file {sha256[:12]}")
    return ws.blobs.read(sha256)


def write_blob(ws: Workspace, sha256: str, data: bytes, by: Audience) -> None:
    """Keep an uploaded file, with a receipt in the audit log: what lets ``by`` attach it."""
    import hashlib

    from upstack.store import audit as store_audit

    if hashlib.sha256(data).hexdigest() != sha256:
        raise BadInput(f"the file does not match its name: it hashes to another value than {sha256[:12]}")
    ws.blobs.put_bytes(data)
    store_audit.record_upload(ws.store().db, by.user_id, sha256, len(data))
