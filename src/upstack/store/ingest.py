"""Applying the log's own records (entries and the theory-of-change tree) to the SQL store.

Every change to the log (a note, an edit, an attachment, a delete, an import)
arrives as a record; ``store.apply`` hands each to its handler here (or to
``store.ideas`` and ``store.runs`` for theirs), inside the caller's transaction.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from typing import Any

from upstack.domain.entry import NOTE_META, other_names
from upstack.domain.files import attachment_name
from upstack.domain.text import collect_tags, find_links, fold_tag, search_document, title_key, tokenize
from upstack.errors import NotFound, UpstackError
from upstack.formats.journal import Record
from upstack.ids import id_key, new_id
from upstack.store import stars
from upstack.store.accounts import attributed
from upstack.store.db import Database
from upstack.store.integrity import revision_checksum
from upstack.store.queries import entry_other_names, link_names, link_target
from upstack.store.vocabulary import add_words, forget_words
from upstack.store.word_rank import index_words, unindex_words
from upstack.timeutil import offset_minutes

__all__ = ["HANDLERS", "create_entry", "revise_entry", "show_revision", "index_entry", "unindex_entry",
           "id_taken", "with_offset"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# -- entries -------------------------------------------------------------------

def _project_node(db: Database, name: str, at: str, author: str | None) -> str:
    """The author's own project of that name, made if they have none (a name never reaches into
    someone else's project on a team server; filing there takes its id)."""
    key = title_key(name)
    # Without an author (nobody signed in: a laptop, or the server's own command line) the oldest
    # project of that name, as always; such records then fit every schema since the first.
    found = db.scalar("SELECT id FROM nodes WHERE kind = 'project' AND title_key = ?"
                      + (" AND owner_id = ?" if author else "") + " ORDER BY created_at LIMIT 1",
                      (key, author) if author else (key,))
    if found:
        return str(found)
    node_id = new_id()
    columns, values = attributed(["id", "key", "kind", "title", "title_key", "created_at", "updated_at"],
                                  [node_id, id_key(node_id), "project", name.strip(), key, at, at],
                                  "owner_id", {"by": author})
    db.execute(f"INSERT INTO nodes ({', '.join(columns)}) VALUES ({', '.join('?' for _ in values)})", values)
    return node_id



def _create_entry(db: Database, record: Record) -> None:
    create_entry(db, record.data, record.workspace)


def create_entry(db: Database, data: dict[str, Any], workspace: str) -> None:
    """Insert an entry with its first revision, tags, links, attachments and search row.

    Runs and entries share one id space, and a run's id is its result entry's: an entry with a
    run's id is refused unless it is that run's result, by the run's author (``runs.finalize``).
    """
    node_id = data.get("node_id")
    meta = dict(data.get("meta", {}))
    run = db.one("SELECT author_id FROM runs WHERE id = ?", (data["id"],))
    if run is not None and (meta.get("run") != data["id"] or run["author_id"] != data.get("by")):
        raise UpstackError(f"entry {data['id']}: that id is a run's; only the run writes its result")
    if db.scalar("SELECT 1 FROM nodes WHERE id = ?", (data["id"],)):
        raise UpstackError(f"entry {data['id']}: that id is a node's")
    if node_id and not db.scalar("SELECT 1 FROM nodes WHERE id = ? AND deleted_at IS NULL",
                                 (node_id,)):
        meta["under_missing_node"] = node_id  # keep the note; say where it was meant to go
        node_id = None
    if not node_id and data.get("project"):
        node_id = _project_node(db, data["project"], data["created_at"], data.get("by"))
    title, body = data["title"], data["body"]
    tags = collect_tags(title, body, data.get("extra_tags", []))
    columns, values = attributed(
        ["id", "key", "kind", "title", "title_key", "body", "node_id", "private", "starred", "occurred_at",
         "created_at", "updated_at", "revision_id", "extra_tags", "source", "meta"],
        [data["id"], id_key(data["id"]), data["kind"], title, title_key(title), body, node_id,
         int(bool(data.get("private"))), 0, data["occurred_at"],  # a star is its person's: store/stars.py
         data["created_at"], data["created_at"], data["revision_id"],
         _dumps(data.get("extra_tags", [])), data.get("source"), _dumps(meta)], "author_id", data)
    columns, values = with_offset(columns, values, data)
    inserted = db.execute(
        f"INSERT INTO entries ({', '.join(columns)}) VALUES ({', '.join('?' for _ in values)}) "
        "ON CONFLICT DO NOTHING", values).rowcount
    if not inserted:
        return  # the same entry (same id, or same imported source) is already here
    _insert_revision(db, data["revision_id"], data["id"], None, 1, data["kind"], title, body, tags, workspace,
                     data["created_at"], note_meta(meta))
    _set_names(db, data["id"], meta, fresh=True)
    _set_tags(db, data["id"], tags, fresh=True)
    _set_links(db, data["id"], title + "\n" + body, fresh=True)  # links anywhere, like tags
    _insert_attachments(db, data["id"], data.get("attachments", []))
    _index(db, data["id"], title, body, list(tags), data["occurred_at"])
    _resolve_links_to(db, data["id"], title)
    if data.get("starred"):  # an imported entry that was starred: a star of whoever wrote it
        star = Record(id=f"{data['revision_id']}.star", op="star.set", workspace=workspace, at=data["created_at"],
                      data={"entry_id": data["id"], "starred": True, "at": data["created_at"],
                            **({"by": data["by"]} if data.get("by") else {})})
        stars.HANDLERS["star.set"](db, star)


def with_offset(columns: list[str], values: list[Any], data: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """An INSERT's columns and values, plus the writer's UTC offset (``utc_offset``) when the record
    carries one (as ``accounts.attributed`` adds who made it): a record without one then fits every
    schema, as the older workspaces a migration starts from do.

    A malformed offset is refused by the sync door from elsewhere; in a journal line it is dropped,
    not refused, since the rest of the record is still good (its time is then read as one written
    before offsets were recorded)."""
    offset = data.get("utc_offset")
    if offset is None:
        return columns, values
    try:
        offset_minutes(offset)
    except ValueError:
        return columns, values
    return [*columns, "utc_offset"], [*values, offset]


NAME_KEY_CHARS = 500  # the longest other name kept (record_shapes.NAME_CHARS refuses longer from a push)


def note_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The part of ``meta`` kept with a revision (domain.entry.NOTE_META)."""
    return {key: meta[key] for key in NOTE_META if key in meta}


def _set_names(db: Database, entry_id: str, meta: dict[str, Any], fresh: bool = False) -> None:
    """The entry's other names a link finds it by (aliases, a vault note's file), as they are now."""
    if not fresh:
        db.execute("DELETE FROM entry_names WHERE entry_id = ?", (entry_id,))
    # A name longer than a title may be is no link target, and would not fit PostgreSQL's index.
    keys = dict.fromkeys(k for k in map(title_key, other_names(meta)) if k and len(k) <= NAME_KEY_CHARS)
    db.executemany("INSERT INTO entry_names (entry_id, name_key) VALUES (?, ?)", [(entry_id, k) for k in keys])


def _resolve_links_to(db: Database, entry_id: str, title: str) -> None:
    """Earlier entries may link to this one by its title, its other names, its id or a prefix of its key."""
    names = link_names(entry_id, title, entry_other_names(db, entry_id))
    db.execute(f"UPDATE links SET to_id = ? WHERE to_id IS NULL AND target_key IN "
               f"({', '.join('?' for _ in names)})", [entry_id, *names])


def _revise_entry(db: Database, record: Record) -> None:
    revise_entry(db, record.data, record.workspace)


def revise_entry(db: Database, data: dict[str, Any], workspace: str) -> None:
    """A new current revision; the old ones stay. ``meta`` and ``attachments`` may come too."""
    entry = db.one("SELECT * FROM entries WHERE id = ?", (data["entry_id"],))
    if entry is None or entry["purged_at"]:
        raise NotFound(f"cannot revise entry {data['entry_id']}: it does not exist")
    if db.scalar("SELECT 1 FROM revisions WHERE id = ?", (data["revision_id"],)):
        return
    extra = data.get("extra_tags", json.loads(entry["extra_tags"]))
    kind = data.get("kind", entry["kind"])
    tags = collect_tags(data["title"], data["body"], extra)
    number = int(db.scalar("SELECT max(number) FROM revisions WHERE entry_id = ?",
                           (entry["id"],))) + 1
    # The parent is the revision the editor started from. If another revision landed
    # meanwhile (an edit elsewhere, brought by sync), both stay in the history, the entry
    # says so, and the newer one is current: every workspace that has both agrees.
    parent = data.get("parent_id") or entry["revision_id"]
    carried = note_meta(data.get("meta") or {})  # nothing else of meta comes with an edit
    _insert_revision(db, data["revision_id"], entry["id"], parent, number, kind, data["title"], data["body"], tags,
                     workspace, data["created_at"], carried)
    _number_revisions(db, entry["id"])
    current = db.one("SELECT id, created_at FROM revisions WHERE id = ?", (entry["revision_id"],))
    if parent != entry["revision_id"] and current is not None:
        meta = json.loads(entry["meta"] or "{}")
        pair = sorted([current["id"], data["revision_id"]])
        if pair not in meta.get("conflicts", []):  # a pulled entry comes with the conflicts it noted already
            meta["conflicts"] = [*meta.get("conflicts", []), pair]
            db.execute("UPDATE entries SET meta = ? WHERE id = ?", (_dumps(meta), entry["id"]))
            entry = {**entry, "meta": _dumps(meta)}
        if (current["created_at"], current["id"]) > (data["created_at"], data["revision_id"]):
            return  # kept in the history; the current revision is the newer one
    db.execute(
        "UPDATE entries SET title = ?, title_key = ?, body = ?, kind = ?, extra_tags = ?, "
        "updated_at = ?, revision_id = ? WHERE id = ?",
        (data["title"], title_key(data["title"]), data["body"], kind, _dumps(extra),
         data["created_at"], data["revision_id"], entry["id"]),
    )
    if carried:
        meta = json.loads(entry["meta"]) | carried
        db.execute("UPDATE entries SET meta = ? WHERE id = ?", (_dumps(meta), entry["id"]))
        _set_names(db, entry["id"], meta)
    _insert_attachments(db, entry["id"], data.get("attachments", []))
    _set_tags(db, entry["id"], tags)
    _set_links(db, entry["id"], data["title"] + "\n" + data["body"])
    if not entry["deleted_at"]:
        index_entry(db, entry["id"])
    _resolve_links_to(db, entry["id"], data["title"])


def show_revision(db: Database, entry_id: str, revision_id: str) -> None:
    """Make one of an entry's revisions its current text again; every revision stays in its history."""
    revision = db.one("SELECT * FROM revisions WHERE id = ? AND entry_id = ? AND purged_at IS NULL",
                      (revision_id, entry_id))
    entry = db.one("SELECT deleted_at FROM entries WHERE id = ?", (entry_id,))
    if revision is None or entry is None:
        raise NotFound(f"entry {entry_id} has no revision {revision_id}")
    db.execute("UPDATE entries SET title = ?, title_key = ?, body = ?, kind = ?, revision_id = ? WHERE id = ?",
               (revision["title"], title_key(revision["title"]), revision["body"], revision["kind"], revision_id,
                entry_id))
    _set_tags(db, entry_id, tuple(json.loads(revision["tags"])))
    if revision.get("meta"):  # its front matter, file and aliases come back with its text
        meta = json.loads(db.scalar("SELECT meta FROM entries WHERE id = ?", (entry_id,)))
        meta |= json.loads(revision["meta"])
        db.execute("UPDATE entries SET meta = ? WHERE id = ?", (_dumps(meta), entry_id))
        _set_names(db, entry_id, meta)
    _set_links(db, entry_id, revision["title"] + "\n" + revision["body"])
    if not entry["deleted_at"]:
        index_entry(db, entry_id)


def _number_revisions(db: Database, entry_id: str) -> None:
    """Number an entry's revisions 1, 2, ... in an order that does not depend on the order they
    arrived in, so every workspace holding the same revisions numbers them alike (edits made apart
    arrive in different orders on each side): each after the one it was made from, and revisions
    with no order between them by time, then id."""
    rows = db.query("SELECT id, parent_id, created_at, number FROM revisions WHERE entry_id = ?", (entry_id,))
    ids = {r["id"] for r in rows}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row["parent_id"] if row["parent_id"] in ids else None, []).append(row)
    ready = [(r["created_at"], r["id"], r) for r in children.get(None, [])]
    heapq.heapify(ready)
    ordered: list[dict[str, Any]] = []
    while ready:
        row = heapq.heappop(ready)[2]
        ordered.append(row)
        for child in children.get(row["id"], []):
            heapq.heappush(ready, (child["created_at"], child["id"], child))
    placed = {r["id"] for r in ordered}  # a pushed record can name a parent that loops back: last
    ordered += sorted((r for r in rows if r["id"] not in placed), key=lambda r: (r["created_at"], r["id"]))
    for number, row in enumerate(ordered, 1):
        if row["number"] != number:
            db.execute("UPDATE revisions SET number = ? WHERE id = ?", (number, row["id"]))


def _insert_revision(db: Database, revision_id: str, entry_id: str, parent_id: str | None, number: int, kind: Any,
                     title: str, body: str, tags: tuple[str, ...], workspace: str, created_at: str,
                     meta: dict[str, Any] | None = None) -> None:
    """A revision row, with the checksum doctor and history check it against (store/integrity.py)."""
    stored_tags = _dumps(list(tags))
    stored_meta = _dumps(meta) if meta else None
    db.execute(
        "INSERT INTO revisions (id, entry_id, parent_id, number, kind, title, body, tags, workspace_id, created_at, "
        "meta, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (revision_id, entry_id, parent_id, number, kind, title, body, stored_tags, workspace, created_at, stored_meta,
         revision_checksum(revision_id, entry_id, parent_id, kind, title, body, stored_tags, workspace, created_at,
                           stored_meta)))


def _set_tags(db: Database, entry_id: str, tags: tuple[str, ...], fresh: bool = False) -> None:
    if not fresh:
        db.execute("DELETE FROM entry_tags WHERE entry_id = ?", (entry_id,))
    db.executemany("INSERT INTO entry_tags (entry_id, tag) VALUES (?, ?)",
                   [(entry_id, t) for t in tags])


def _set_links(db: Database, entry_id: str, text: str, fresh: bool = False) -> None:
    if not fresh:
        db.execute("DELETE FROM links WHERE from_id = ?", (entry_id,))
    rows = []
    for target in find_links(text):
        if len(target) > NAME_KEY_CHARS:  # longer than any title or name it could find; and indexed (target_key)
            continue
        to_id = link_target(db, target)
        rows.append((entry_id, target, title_key(target), to_id if to_id != entry_id else None))
    db.executemany("INSERT INTO links (from_id, target, target_key, to_id) VALUES (?, ?, ?, ?)",
                   rows)


def _insert_attachments(db: Database, entry_id: str, attachments: list[dict[str, Any]]) -> None:
    rows = [  # a file's name came from someone else: never a path (domain/files.py)
        (a["id"], id_key(a["id"]), entry_id, a["sha256"], attachment_name(a["filename"]), a["media_type"],
         int(a["size"]), a["created_at"])
        for a in attachments
        if not db.scalar("SELECT 1 FROM attachments WHERE id = ?", (a["id"],))
    ]
    db.executemany(
        "INSERT INTO attachments (id, key, entry_id, sha256, filename, media_type, size, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _attach(db: Database, record: Record) -> None:
    entry_id = record.data["entry_id"]
    if not db.scalar("SELECT 1 FROM entries WHERE id = ? AND purged_at IS NULL", (entry_id,)):
        raise NotFound(f"cannot attach to entry {entry_id}: it does not exist")
    _insert_attachments(db, entry_id, record.data["attachments"])
    db.execute("UPDATE entries SET updated_at = ? WHERE id = ?", (record.at, entry_id))


def _delete(db: Database, record: Record) -> None:
    entry_id = record.data["entry_id"]
    if db.scalar("SELECT 1 FROM run_events WHERE run_id = ? AND change = 'restored' AND at > ?",
                 (entry_id, record.data.get("at", record.at))):
        return  # a run's result, deleted with its run and restored with it since (store/run_manage.py)
    db.execute("UPDATE entries SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
               (record.data.get("at", record.at), entry_id))
    unindex_entry(db, entry_id)


def _restore(db: Database, record: Record) -> None:
    entry_id = record.data["entry_id"]
    db.execute("UPDATE entries SET deleted_at = NULL WHERE id = ? AND purged_at IS NULL",
               (entry_id,))
    if db.scalar("SELECT 1 FROM entries WHERE id = ? AND deleted_at IS NULL", (entry_id,)):
        index_entry(db, entry_id)


def _purge_entry(db: Database, record: Record) -> None:
    """Remove an entry's content for good, keeping a tombstone row."""
    entry_id = record.data["entry_id"]
    at = record.data.get("at", record.at)
    # Every text the entry ever had: its words leave search_words unless another indexed entry holds them.
    texts = db.query("SELECT title, body FROM entries WHERE id = ? UNION ALL "
                     "SELECT title, body FROM revisions WHERE entry_id = ?", (entry_id, entry_id))
    unindex_entry(db, entry_id)
    forget_words(db, (w for row in texts for text in (row["title"], row["body"]) for w in tokenize(text)))
    db.execute(
        "UPDATE entries SET title = '', title_key = '', body = '', extra_tags = '[]', meta = '{}', "
        "purged_at = ?, deleted_at = coalesce(deleted_at, ?) WHERE id = ?", (at, at, entry_id))
    db.execute("UPDATE revisions SET title = '', body = '', tags = '[]', meta = NULL, checksum = NULL, purged_at = ? "
               "WHERE entry_id = ?", (at, entry_id))
    db.execute("DELETE FROM entry_tags WHERE entry_id = ?", (entry_id,))
    db.execute("DELETE FROM entry_names WHERE entry_id = ?", (entry_id,))
    db.execute("DELETE FROM links WHERE from_id = ?", (entry_id,))
    db.execute("UPDATE attachments SET sha256 = NULL, filename = '', size = 0, purged_at = ? "
               "WHERE entry_id = ? AND purged_at IS NULL", (at, entry_id))


def _purge_attachment(db: Database, record: Record) -> None:
    db.execute("UPDATE attachments SET sha256 = NULL, filename = '', size = 0, purged_at = ? "
               "WHERE id = ? AND purged_at IS NULL",
               (record.data.get("at", record.at), record.data["attachment_id"]))


# -- the search index ------------------------------------------------------------

def search_texts(title: str, body: str, tags: list[str]) -> dict[str, Any]:
    """The derived search row of an entry: its three token strings and its length."""
    title_tokens, body_tokens = tokenize(title), tokenize(body)
    tag_tokens = sorted({t for t in map(fold_tag, tags) if t})
    return {"title_text": search_document(title_tokens), "body_text": search_document(body_tokens),
            "tag_text": search_document(tag_tokens),
            "doc_len": len(title_tokens) + len(body_tokens) + len(tag_tokens)}


def index_entry(db: Database, entry_id: str) -> None:
    """(Re)index an entry from what the store holds."""
    entry = db.one("SELECT title, body, occurred_at FROM entries WHERE id = ?", (entry_id,))
    assert entry is not None
    tags = [r["tag"] for r in db.query("SELECT tag FROM entry_tags WHERE entry_id = ?", (entry_id,))]
    unindex_entry(db, entry_id)
    _index(db, entry_id, entry["title"], entry["body"], tags, entry["occurred_at"])


def _index(db: Database, entry_id: str, title: str, body: str, tags: list[str],
           occurred_at: str) -> None:
    row = search_texts(title, body, tags)
    db.engine.add_to_index(db, entry_id, occurred_at, row)
    add_words(db, row["title_text"], row["body_text"])
    index_words(db, entry_id, occurred_at, row["doc_len"], row["title_text"], row["body_text"])
    _count(db, 1, row["doc_len"])


def _count(db: Database, docs: int, tokens: int) -> None:
    """Corpus totals for ranking outside FTS5 (PostgreSQL, and common words: store.word_rank)."""
    db.execute("UPDATE search_stats SET docs = docs + ?, tokens = tokens + ? WHERE id = 1", (docs, tokens))


def unindex_entry(db: Database, entry_id: str) -> None:
    found = db.one("SELECT * FROM entry_search WHERE entry_id = ?", (entry_id,))
    if found is None:
        return
    db.engine.remove_texts(db, found)
    db.execute("DELETE FROM entry_search WHERE entry_id = ?", (entry_id,))
    unindex_words(db, entry_id)
    _count(db, -1, -found["doc_len"])



# -- the theory-of-change tree ---------------------------------------------------

def _node_event(db: Database, record: Record, node_id: str, change: str, old: str | None,
                new: str | None, reason: str = "", *, event_id: str | None = None) -> bool:
    """Keep one change of a node in its history; True if it is the newest of its kind (by time,
    then id), so the node should show it. Changes that meet out of order (an edit synced from a
    laptop that is older than one made on the server) are all kept, and the newest shows on both
    sides: each side ends with the same history, so with the same node."""
    event_id = record.data.get("event_id") or event_id or record.id  # sync carries an event's own id
    at = record.data.get("at", record.at)
    db.execute("INSERT INTO node_events (id, node_id, at, change, old_value, new_value, reason) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (event_id, node_id, at, change, old, new, reason))
    family = ("deleted", "restored") if change in ("deleted", "restored") else (change,)
    newest = db.scalar(f"SELECT id FROM node_events WHERE node_id = ? AND change IN "
                       f"({', '.join('?' for _ in family)}) ORDER BY at DESC, id DESC LIMIT 1", (node_id, *family))
    return newest == event_id


def _node(db: Database, node_id: str) -> dict[str, Any]:
    node = db.one("SELECT * FROM nodes WHERE id = ?", (node_id,))
    if node is None:
        raise NotFound(f"node {node_id} does not exist")
    return node


def _live_node(db: Database, node_id: str) -> dict[str, Any]:
    node = db.one("SELECT * FROM nodes WHERE id = ? AND deleted_at IS NULL", (node_id,))
    if node is None:
        raise NotFound(f"node {node_id} does not exist")
    return node


def id_taken(db: Database, object_id: str) -> bool:
    """Whether a node, an entry or a run has this id: they share one id space (a run's result entry
    alone shares its run's id)."""
    return bool(db.scalar("SELECT 1 FROM nodes WHERE id = ? UNION ALL SELECT 1 FROM entries WHERE id = ? "
                          "UNION ALL SELECT 1 FROM runs WHERE id = ?", (object_id,) * 3))


def _create_node(db: Database, record: Record) -> None:
    data = record.data
    if not db.scalar("SELECT 1 FROM nodes WHERE id = ?", (data["id"],)) and id_taken(db, data["id"]):
        raise UpstackError(f"node {data['id']}: that id is an entry's or a run's")
    if data.get("parent_id"):
        _live_node(db, data["parent_id"])
    columns, values = attributed(
        ["id", "key", "kind", "title", "title_key", "why", "status", "parent_id", "created_at", "updated_at"],
        [data["id"], id_key(data["id"]), data["kind"], data["title"], title_key(data["title"]),
         data.get("why", ""), data.get("status", "open"), data.get("parent_id"),
         data["created_at"], data["created_at"]], "owner_id", data)
    db.execute(f"INSERT INTO nodes ({', '.join(columns)}) VALUES ({', '.join('?' for _ in values)})", values)
    _node_event(db, record, data["id"], "created", None, data.get("status", "open"))


def _edit_node(db: Database, record: Record) -> None:
    data = record.data
    node = _node(db, data["node_id"])
    fields = [f for f in ("title", "why") if f in data and data[f] != node[f]]
    for field in fields:  # one event each (named apart when one edit changes both)
        if _node_event(db, record, node["id"], field, node[field], data[field],
                       event_id=f"{record.id}.{field}" if len(fields) > 1 else None):
            db.execute(f"UPDATE nodes SET {field} = ?, updated_at = ? WHERE id = ?",
                       (data[field], data["at"], node["id"]))
    title = db.scalar("SELECT title FROM nodes WHERE id = ?", (node["id"],))
    db.execute("UPDATE nodes SET title_key = ? WHERE id = ?", (title_key(str(title)), node["id"]))


def _move_node(db: Database, record: Record) -> None:
    data = record.data
    node = _node(db, data["node_id"])
    if data.get("parent_id"):
        _node(db, data["parent_id"])
    if _node_event(db, record, node["id"], "parent", node["parent_id"], data.get("parent_id")) \
            and not _would_loop(db, node["id"], data.get("parent_id")):
        db.execute("UPDATE nodes SET parent_id = ?, updated_at = ? WHERE id = ?",
                   (data.get("parent_id"), data["at"], node["id"]))


def _would_loop(db: Database, node_id: str, parent_id: str | None) -> bool:
    """Whether putting a node under ``parent_id`` puts it under itself (two moves made apart can)."""
    seen = set()
    while parent_id and parent_id not in seen:
        if parent_id == node_id:
            return True
        seen.add(parent_id)
        parent_id = db.scalar("SELECT parent_id FROM nodes WHERE id = ?", (parent_id,))
    return False


def _set_node_status(db: Database, record: Record) -> None:
    data = record.data
    node = _node(db, data["node_id"])
    if _node_event(db, record, node["id"], "status", node["status"], data["status"], data.get("reason", "")):
        db.execute("UPDATE nodes SET status = ?, updated_at = ? WHERE id = ?",
                   (data["status"], data["at"], node["id"]))


def _delete_node(db: Database, record: Record) -> None:
    node = _node(db, record.data["node_id"])
    if _node_event(db, record, node["id"], "deleted", None, None, record.data.get("reason", "")):
        db.execute("UPDATE nodes SET deleted_at = ? WHERE id = ?", (record.data["at"], node["id"]))


def _restore_node(db: Database, record: Record) -> None:
    node = _node(db, record.data["node_id"])
    if _node_event(db, record, node["id"], "restored", None, None):
        db.execute("UPDATE nodes SET deleted_at = NULL WHERE id = ?", (node["id"],))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    "node.delete": _delete_node,
    "node.restore": _restore_node,
    "node.create": _create_node,
    "node.edit": _edit_node,
    "node.move": _move_node,
    "node.status": _set_node_status,
    "entry.create": _create_entry,
    "entry.revise": _revise_entry,
    "entry.attach": _attach,
    "entry.delete": _delete,
    "entry.restore": _restore,
    "entry.purge": _purge_entry,
    "attachment.purge": _purge_attachment,
}

