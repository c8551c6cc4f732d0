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

from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.store.queries import reader_sql

__all__ = ["manifest", "records_for", "node_records", "node_event_records"]


def manifest(db: Database) -> dict[str, Any]:
    """{"entries": {id: {"revisions": [...], "attachments": [...], "deleted": bool}}, "nodes": [ids]}
    for what the reader may see (everything, with nobody signed in). Purged entries are left out."""
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
    return {"entries": entries, "nodes": nodes, "node_events": sorted(_node_events(db, nodes))}


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
                "private": bool(entry["private"]), "starred": bool(entry["starred"]), "node_id": entry["node_id"],
                "occurred_at": entry["occurred_at"], "created_at": entry["created_at"], "attachments": [],
                "meta": json.loads(entry["meta"] or "{}"), "source": entry["source"],
                **({"by": entry["author_id"]} if entry.get("author_id") else {})}))
        for revision in later:
            if revision["id"] in known_revisions:
                continue
            records.append(Record(id=revision["id"], op="entry.revise", workspace=revision["workspace_id"],
                                  at=revision["created_at"], data={
                "entry_id": entry_id, "revision_id": revision["id"], "parent_id": revision["parent_id"],
                "title": revision["title"], "body": revision["body"], "kind": revision["kind"],
                "created_at": revision["created_at"]}))
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
