"""Sync's view of a store: what it holds (a manifest), and its content as records.

Sync compares two stores by manifest: for every entry, the ids of its revisions and
attachments and whether it is deleted; for every node, its id, and the ids of its
changes since (title, why, status, parent, deleted and restored). What one side lacks,
the other sends as the same records capture writes (``entry.create``,
``entry.revise``, ``entry.attach``, ``entry.delete``, ``node.create``), made from
what the store holds. Each record's id is the id of what it carries (a revision id,
an attachment id, ...), so applying one twice is a no-op: sync is idempotent, and an
interrupted sync resumes by comparing again. Two edits of the same entry made apart
are two revisions with the same parent: both are kept, and the entry notes the
conflict (see ``ingest.revise_entry``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from upstack.domain import access
from upstack.formats.journal import Record
from upstack.store import comments, path, stars
from upstack.store.accounts import owner_id
from upstack.store.db import Database
from upstack.store.named import id_named
from upstack.store.queries import reader_sql

__all__ = ["manifest", "own_stars", "star_records",
           "records_for", "node_records", "node_event_records", "applied_ids", "conflict_counts",
           "node_exists", "node_parent", "node_event_exists", "id_named", "part_of", "entry_author", "entry_access",
           "file_visible"]


def manifest(db: Database) -> dict[str, Any]:
    """{"entries": {id: {"revisions": [...], "attachments": [...], "deleted": bool}}, "nodes": [ids],
    "node_events": [ids], "comments": {id: entry id}, "stars": {entry id: [time, event id]}, "path": [ids]}
    for what the reader may see (everything, with nobody signed in), and their own stars and path
    records. Purged entries are left out."""
    visible, params = reader_sql(db)
    entries: dict[str, dict[str, Any]] = {}
    for row in db.query(f"SELECT e.id, e.deleted_at FROM entries e WHERE e.purged_at IS NULL AND {visible}",
                        params):
        entries[row["id"]] = {"revisions": [], "attachments": [], "deleted": row["deleted_at"] is not None}
    for table, key in (("revisions", "revisions"), ("attachments", "attachments")):
        for row in db.query(f"SELECT t.entry_id, t.id FROM {table} t JOIN entries e ON e.id = t.entry_id "
                            f"WHERE e.purged_at IS NULL AND t.purged_at IS NULL AND {visible} ORDER BY t.id",
                            params):
            entries[row["entry_id"]][key].append(row["id"])
    from upstack.store.tree import node_rows

    nodes = [n.id for n in node_rows(db, include_deleted=True)]
    from upstack.store import judgment_sync

    return {"entries": entries, "nodes": nodes, "node_events": sorted(_node_events(db, nodes)),
            "comments": comments.visible_comments(db), "stars": own_stars(db), "path": path.own_ids(db),
            "judgment": judgment_sync.manifest(db)}


def own_stars(db: Database) -> dict[str, list[str]]:
    """{entry id: [time, event id]} of the reader's own stars and unstars, on entries they may see:
    what sync compares (the newer side's change travels). Nobody else's, ever."""
    key = stars.reader_key(db)
    if key is None:
        return {}
    visible, params = reader_sql(db)
    return {r["entry_id"]: [r["at"], r["event_id"]] for r in db.query(
        f"SELECT s.entry_id, s.at, s.event_id FROM stars s JOIN entries e ON e.id = s.entry_id "
        f"WHERE s.user_id = ? AND e.purged_at IS NULL AND {visible}", [key, *params])}


def star_records(db: Database, entry_ids: list[str]) -> list[Record]:
    """``star.set`` records that make the reader's own star state of these entries elsewhere."""
    mine = own_stars(db)
    records = [Record(id=mine[e][1], op="star.set", workspace="sync", at=mine[e][0], data={
        "entry_id": e, "starred": False, "at": mine[e][0], "event_id": mine[e][1]})
        for e in set(entry_ids) if e in mine]
    starred = stars.starred_among(db, [r.data["entry_id"] for r in records])
    for record in records:
        record.data["starred"] = record.data["entry_id"] in starred
    return sorted(records, key=lambda r: (r.at, r.id))


_NODE_OPS = {"title": "node.edit", "why": "node.edit", "status": "node.status", "parent": "node.move",
             "deleted": "node.delete", "restored": "node.restore"}


def _node_events(db: Database, node_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The changes of these nodes since they were made (their creation travels as the node)."""
    visible = set(node_ids)
    return {r["id"]: r for r in db.query(
        f"SELECT * FROM node_events WHERE change IN ({', '.join('?' for _ in _NODE_OPS)})", list(_NODE_OPS))
        if r["node_id"] in visible}


def node_event_records(db: Database, event_ids: list[str]) -> list[Record]:
    """Records that make these node changes elsewhere, each carrying its event's id, oldest first.
    Only changes of nodes the reader may see."""
    from upstack.store.tree import node_rows

    wanted = set(event_ids)
    visible = [n.id for n in node_rows(db, include_deleted=True)]
    events = _node_events(db, visible)
    records = []
    for event in sorted((e for i, e in events.items() if i in wanted), key=lambda e: (e["at"], e["id"])):
        change, new = event["change"], event["new_value"]
        data: dict[str, Any] = {"node_id": event["node_id"], "at": event["at"], "event_id": event["id"]}
        if change in ("title", "why"):
            data[change] = new
        elif change == "status":
            data.update(status=new, reason=event["reason"])
        elif change == "parent":  # a parent the reader cannot see goes unnamed: the top, as node_records has it
            data["parent_id"] = new if new in set(visible) else None
        elif change == "deleted":
            data["reason"] = event["reason"]
        records.append(Record(id=event["id"], op=_NODE_OPS[change], workspace="sync", at=event["at"], data=data))
    return records


def node_records(db: Database, node_ids: list[str]) -> list[Record]:
    """``node.create`` records for these nodes, parents first."""
    from upstack.store.tree import node_rows

    wanted = set(node_ids)
    nodes = {n.id: n for n in node_rows(db, include_deleted=True)}
    ordered: list[str] = []

    def visit(node_id: str, seen: frozenset[str] = frozenset()) -> None:
        node = nodes.get(node_id)
        if node is None or node_id in ordered or node_id in seen:
            return
        if node.parent_id:
            visit(node.parent_id, seen | {node_id})
        ordered.append(node_id)

    for node_id in sorted(wanted):
        visit(node_id)
    records = []
    for node_id in ordered:
        if node_id not in wanted:
            continue
        node = nodes[node_id]
        parent = node.parent_id if node.parent_id in nodes else None  # a parent the reader cannot see: the top
        records.append(Record(id=node.id, op="node.create", workspace="sync", at=node.created_at, data={
            "id": node.id, "kind": node.kind, "title": node.title, "why": node.why, "status": node.status,
            "parent_id": parent, "created_at": node.created_at}))
    return records


def records_for(db: Database, entry_ids: list[str], *, have: dict[str, dict[str, Any]] | None = None) -> list[Record]:
    """The records that rebuild these entries elsewhere: skipping what ``have`` (the other side's
    manifest) already lists. Entries the reader may not see are skipped."""
    have = have or {}
    visible, params = reader_sql(db)
    if not entry_ids:
        return []
    marks = ", ".join("?" for _ in entry_ids)
    rows = {r["id"]: r for r in db.query(
        f"SELECT e.* FROM entries e WHERE e.id IN ({marks}) AND e.purged_at IS NULL AND {visible}",
        [*entry_ids, *params])}
    revisions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in db.query(f"SELECT * FROM revisions WHERE entry_id IN ({marks}) AND purged_at IS NULL "
                      "ORDER BY entry_id, number", entry_ids):
        revisions[r["entry_id"]].append(r)
    attachments: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in db.query(f"SELECT * FROM attachments WHERE entry_id IN ({marks}) AND purged_at IS NULL "
                      "ORDER BY created_at, id", entry_ids):
        attachments[a["entry_id"]].append(a)
    records: list[Record] = []
    owner = owner_id(db)  # what was written with nobody signed in is the owner's: said, so a laptop knows
    for entry_id in entry_ids:
        entry = rows.get(entry_id)
        if entry is None or not revisions[entry_id]:
            continue
        theirs = have.get(entry_id, {})
        known_revisions = set(theirs.get("revisions", []))
        first, *later = revisions[entry_id]
        if not theirs:
            records.append(Record(id=first["id"], op="entry.create", workspace=first["workspace_id"],
                                  at=first["created_at"], data={
                "id": entry_id, "revision_id": first["id"], "kind": first["kind"], "title": first["title"],
                "body": first["body"], "extra_tags": json.loads(entry["extra_tags"]),
                "private": bool(entry["private"]), "node_id": entry["node_id"],
                "occurred_at": entry["occurred_at"], "created_at": entry["created_at"], "attachments": [],
                "meta": json.loads(entry["meta"] or "{}"), "source": entry["source"],
                **zone_for_reader(db, author := entry.get("author_id") or _owner_of(entry, owner),
                                  entry.get("utc_offset")),
                **({"by": author} if author else {})}))
        for revision in later:
            if revision["id"] in known_revisions:
                continue
            records.append(Record(id=revision["id"], op="entry.revise", workspace=revision["workspace_id"],
                                  at=revision["created_at"], data={
                "entry_id": entry_id, "revision_id": revision["id"], "parent_id": revision["parent_id"],
                "title": revision["title"], "body": revision["body"], "kind": revision["kind"],
                "created_at": revision["created_at"],
                **({"meta": json.loads(revision["meta"])} if revision.get("meta") else {})}))
        known_attachments = set(theirs.get("attachments", []))
        for a in attachments[entry_id]:
            if a["id"] in known_attachments:
                continue
            records.append(Record(id=a["id"], op="entry.attach", workspace="sync", at=a["created_at"], data={
                "entry_id": entry_id, "attachments": [{k: a[k] for k in (
                    "id", "sha256", "filename", "media_type", "size", "created_at")}]}))
        if entry["deleted_at"] and not theirs.get("deleted"):
            records.append(Record(id=f"{entry_id}.deleted.{entry['deleted_at']}", op="entry.delete",
                                  workspace="sync", at=entry["deleted_at"],
                                  data={"entry_id": entry_id, "at": entry["deleted_at"]}))
    return records


def zone_for_reader(db: Database, author_id: str | None, offset: str | None) -> dict[str, str]:
    """``{"utc_offset": ...}``, the zone something was written in, for a reader who wrote it (their
    pace reads their times by it, on another machine too); nothing for anyone else, to whom a
    member's zone would say where in the world they are."""
    audience = access.current(team=db.team)
    if not offset or (audience is not None and not audience.is_author(author_id)):
        return {}
    return {"utc_offset": str(offset)}


def _owner_of(entry: dict[str, Any], owner: str | None) -> str | None:
    """Who wrote an entry written with nobody signed in: the owner (a run's result entry stays as its run
    has it, unattributed)."""
    return None if json.loads(entry["meta"] or "{}").get("run") else owner


# -- what the sync door looks up, and what a sync tells of what it applied ---------------------

def applied_ids(db: Database, record_ids: list[str]) -> set[str]:
    """Which of these records the store has applied."""
    found: set[str] = set()
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start:start + 500]
        found |= {row["id"] for row in db.query(
            f"SELECT id FROM applied_records WHERE id IN ({', '.join('?' for _ in chunk)})", chunk)}
    return found


def conflict_counts(db: Database, records: list[Record]) -> dict[str, int]:
    """How many conflicts each entry these records revise notes (see ingest.revise_entry)."""
    ids = sorted({str(r.data["entry_id"]) for r in records if r.op == "entry.revise"})
    if not ids:
        return {}
    return {str(r["id"]): len(json.loads(r["meta"] or "{}").get("conflicts", [])) for r in db.query(
        f"SELECT id, meta FROM entries WHERE id IN ({', '.join('?' for _ in ids)})", ids)}


def node_exists(db: Database, node_id: str) -> bool:
    """Whether a node has this id, whoever may see it (deleted ones too)."""
    return bool(db.scalar("SELECT 1 FROM nodes WHERE id = ?", (node_id,)))


def node_parent(db: Database, node_id: str) -> str | None:
    """The node's parent now, whoever may see it."""
    parent = db.scalar("SELECT parent_id FROM nodes WHERE id = ?", (node_id,))
    return str(parent) if parent else None


def node_event_exists(db: Database, event_id: str) -> bool:
    return bool(db.scalar("SELECT 1 FROM node_events WHERE id = ?", (event_id,)))


def part_of(db: Database, object_id: str, entry_id: str) -> bool:
    """Whether this id is a revision or a file of that entry."""
    return bool(db.scalar("SELECT 1 FROM revisions WHERE id = ? AND entry_id = ? "
                          "UNION ALL SELECT 1 FROM attachments WHERE id = ? AND entry_id = ?",
                          (object_id, entry_id, object_id, entry_id)))


def entry_author(db: Database, entry_id: str) -> tuple[bool, str | None]:
    """(whether the entry exists, its author), whoever may see it."""
    row = db.one("SELECT author_id FROM entries WHERE id = ?", (entry_id,))
    return (False, None) if row is None else (True, row["author_id"])


def entry_access(db: Database, entry_id: str) -> dict[str, Any] | None:
    """What decides who may change the entry: author_id, private, node_id and deleted_at."""
    return db.one("SELECT author_id, private, node_id, deleted_at FROM entries WHERE id = ?", (entry_id,))


def file_visible(db: Database, sha256: str) -> bool:
    """Whether the reader may see the file: some entry they may see has it attached (not purged)."""
    visible, params = reader_sql(db)
    return bool(db.scalar(f"SELECT 1 FROM attachments a JOIN entries e ON e.id = a.entry_id WHERE a.sha256 = ? "
                          f"AND a.purged_at IS NULL AND {visible}", [sha256, *params]))
