"""Reading the log: entries with their tags, links and attachments; filters; id lookup."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from shlex import quote
from typing import Any

from upstack.domain import access
from upstack.domain.access import Audience
from upstack.domain.entry import Attachment, Entry, LinkRef, Revision
from upstack.domain.filters import MENTOR_TAG, OFF_TREE_TAGS, Filters
from upstack.domain.text import normalize_tag, title_key
from upstack.errors import Ambiguous, BadInput, NotFound, UpstackError
from upstack.ids import MIN_PREFIX, id_key, looks_like_full_id, short_id
from upstack.store import stars
from upstack.store.db import Database
from upstack.store.integrity import revision_damage, stored_json
from upstack.timeutil import now_after

__all__ = [
    "filter_sql", "work_sql", "NOT_WORK_KINDS", "NOT_WORK_TAGS", "load_entries", "timeline", "resolve", "get_entry",
    "revisions",
    "all_tags", "attachment_by_id", "resolve_among", "visible_sql", "reader_sql", "visible_runs_sql",
    "run_result_kept_sql",
    "change_stamp", "ids_oldest_first", "resolved_links", "link_target", "link_names",
    "entry_other_names", "imported_entry", "named_by_file", "own_writing_times", "wrote_before", "imported_before",
    "complete_refs",
]


# What the tree does not answer for: an idea (judged by triage), a take (a view held, issue 19), the job
# search's entries (``OFF_TREE_TAGS``) and a mentor's answers.
NOT_WORK_KINDS = ("idea", "take")
NOT_WORK_TAGS = (*OFF_TREE_TAGS, MENTOR_TAG)


def work_sql() -> str:
    """Whether an entry ``e`` is work the tree answers for (``NOT_WORK_KINDS``, ``NOT_WORK_TAGS``): what
    `upstack check` wants traced to an agenda."""
    kinds = ", ".join(f"'{kind}'" for kind in NOT_WORK_KINDS)  # constants, not input
    tags = ", ".join(f"'{tag}'" for tag in NOT_WORK_TAGS)
    return (f"(e.kind NOT IN ({kinds}) AND NOT EXISTS (SELECT 1 FROM entry_tags t WHERE t.entry_id = e.id "
            f"AND t.tag IN ({tags})))")


_ENTRY_COLUMNS = (
    "e.id, e.kind, e.title, e.body, e.node_id, e.private, e.occurred_at, "
    "e.created_at, e.updated_at, e.deleted_at, e.purged_at, e.revision_id, e.meta, e.author_id, "
    "n.title AS project"
)


def reader_sql(db: Database, alias: str = "e") -> tuple[str, list[Any]]:
    """A condition over ``entries {alias}``: what the reader may see (all, in the owner's view)."""
    audience = access.current(team=db.team)
    return visible_sql(audience, alias) if audience is not None else ("1 = 1", [])


def is_own(db: Database, author_id: str | None) -> bool:
    """Whether the reader wrote what ``author_id`` names: a signed-in member, what bears their id (and
    the owner what was written with nobody signed in); the owner's own view, that and what the
    owner's account wrote (on a laptop, their account on the server it syncs with)."""
    audience = access.current(team=db.team)
    if audience is None:
        from upstack.store.accounts import linked_id, owner_id

        # and on a laptop, what its person wrote on the team server it syncs with, pulled back here
        return author_id is None or author_id in (owner_id(db), linked_id(db))
    return audience.is_author(author_id)


def own_among(db: Database, author_ids: Iterable[str | None]) -> set[str | None]:
    """Of these authors, those ``is_own`` says are the reader: asked once per author, not per item."""
    return {author for author in set(author_ids) if is_own(db, author)}


def own_sql(db: Database, alias: str = "e") -> tuple[str, list[Any]]:
    """``is_own`` as a condition over ``entries {alias}``: what the reader wrote."""
    audience = access.current(team=db.team)
    if audience is None:
        from upstack.store.accounts import linked_id, owner_id

        known = [i for i in (owner_id(db), linked_id(db)) if i]
        also = f" OR {alias}.author_id IN ({', '.join('?' for _ in known)})" if known else ""
        return f"({alias}.author_id IS NULL{also})", known
    unattributed = f" OR {alias}.author_id IS NULL" if audience.owns_unattributed else ""
    return f"({alias}.author_id = ?{unattributed})", [audience.user_id]


def visible_sql(audience: Audience, alias: str = "e") -> tuple[str, list[Any]]:
    """A condition over ``entries {alias}``: the entries ``audience`` may see (see domain/access.py)."""
    own = f"{alias}.author_id = ?" + (f" OR {alias}.author_id IS NULL" if audience.owns_unattributed else "")
    params: list[Any] = [audience.user_id]
    nodes = sorted(audience.roles)
    if not nodes:
        return f"({own})", params
    shared = (f"{alias}.private = 0 AND {alias}.deleted_at IS NULL AND {alias}.node_id IN "
              f"({', '.join('?' for _ in nodes)})")
    return f"({own} OR ({shared}))", params + nodes


def visible_runs_sql(audience: Audience, alias: str = "r") -> tuple[str, list[Any]]:
    """A condition over ``runs {alias}``: the runs ``audience`` may see. A run is seen as its result
    entry is (Audience.sees_run): its author always; others under a node they hold a role on, unless
    the result is private or deleted (a running run has no result yet)."""
    own = f"{alias}.author_id = ?" + (f" OR {alias}.author_id IS NULL" if audience.owns_unattributed else "")
    nodes = sorted(audience.roles)
    if not nodes:
        return f"({own})", [audience.user_id]
    withdrawn = (f"EXISTS (SELECT 1 FROM entries w WHERE w.id = {alias}.id "
                 "AND (w.private <> 0 OR w.deleted_at IS NOT NULL))")
    shared = f"{alias}.node_id IN ({', '.join('?' for _ in nodes)}) AND {alias}.deleted_at IS NULL AND NOT {withdrawn}"
    return f"({own} OR ({shared}))", [audience.user_id, *nodes]


def run_result_kept_sql(alias: str = "r") -> str:
    """A condition over ``runs {alias}``: the run was not deleted (`upstack run rm`), nor its result entry
    (`upstack rm` hides a run with it). Looked up by the run's own id: a NOT IN over every deleted entry
    read the whole entries table (40-60 ms at 100k entries on SQLite)."""
    return (f"{alias}.deleted_at IS NULL AND "
            f"NOT EXISTS (SELECT 1 FROM entries d WHERE d.id = {alias}.id AND d.deleted_at IS NOT NULL)")


def filter_sql(db: Database, filters: Filters) -> tuple[str, list[Any]]:
    """WHERE conditions over ``entries e`` for the given filters, as the reader may see them."""
    clauses: list[str] = []
    params: list[Any] = []
    audience = access.current(team=db.team)
    if audience is not None:
        visible, shown = visible_sql(audience)
        clauses.append(visible)
        params += shown
    if not filters.include_deleted:
        clauses.append("e.deleted_at IS NULL")
    if not filters.include_private:
        clauses.append("e.private = 0")
    if filters.project:
        # The project (or any node, by title or id) and everything filed below it.
        clauses.append("e.node_id IN (WITH RECURSIVE below(id) AS ("
                       "SELECT id FROM nodes WHERE title_key = ? OR key = ? "
                       "UNION SELECT n.id FROM nodes n JOIN below ON n.parent_id = below.id) "
                       "SELECT id FROM below)")
        params += [title_key(filters.project), filters.project.lower()]
    if filters.work_under is not None:
        nodes = [n for n in filters.work_under if n is not None]
        places = (["e.node_id IS NULL"] if None in filters.work_under else []) + (
            [f"e.node_id IN ({', '.join('?' for _ in nodes)})"] if nodes else [])
        clauses.append(f"{work_sql()} AND ({' OR '.join(places)})"
                       if places else "1 = 0")
        params += nodes
    for tag in filters.tags:
        clauses.append("e.id IN (SELECT entry_id FROM entry_tags WHERE tag = ?)")
        params.append(normalize_tag(tag))
    if filters.kinds:
        clauses.append("e.kind IN (" + ", ".join("?" for _ in filters.kinds) + ")")
        params += list(filters.kinds)
    if filters.starred:
        starred, shown = stars.starred_sql(db)
        clauses.append(starred)
        params += shown
    if filters.since:
        clauses.append("e.occurred_at >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("e.occurred_at <= ?")
        params.append(filters.until)
    return (" AND ".join(clauses) or "1 = 1"), params


def _in(ids: list[str]) -> str:
    return "(" + ", ".join("?" for _ in ids) + ")"


def load_entries(db: Database, ids: list[str], *, details: bool = False) -> list[Entry]:
    """Entries in the order of ``ids``, with tags and attachments (and links if details)."""
    if not ids:
        return []
    rows = db.query(
        f"SELECT {_ENTRY_COLUMNS} FROM entries e LEFT JOIN nodes n ON n.id = e.node_id "
        f"WHERE e.id IN {_in(ids)}", ids)
    tags: dict[str, list[str]] = defaultdict(list)
    for row in db.query(f"SELECT entry_id, tag FROM entry_tags WHERE entry_id IN {_in(ids)} "
                        "ORDER BY tag", ids):
        tags[row["entry_id"]].append(row["tag"])
    attachments: dict[str, list[Attachment]] = defaultdict(list)
    for row in db.query(f"SELECT * FROM attachments WHERE entry_id IN {_in(ids)} "
                        "ORDER BY created_at, id", ids):
        row.pop("key")
        attachments[row["entry_id"]].append(Attachment(**row))
    audience = access.current(team=db.team)
    starred = stars.starred_among(db, ids)  # the reader's own: one person's stars show to nobody else
    by_id = {}
    for row in rows:
        if audience is not None and not audience.sees_entry(
                author_id=row["author_id"], private=bool(row["private"]), node_id=row["node_id"],
                deleted=row["deleted_at"] is not None):
            continue  # not theirs to see: as if it did not exist
        # An author keeps their entry after losing their role on its node, but not the node's title.
        project = row["project"] if audience is None or audience.sees_node(row["node_id"]) else None
        by_id[row["id"]] = Entry(
            id=row["id"], kind=row["kind"], title=row["title"], body=row["body"],
            tags=tags[row["id"]], project=project, node_id=row["node_id"],
            private=bool(row["private"]), starred=row["id"] in starred,
            occurred_at=row["occurred_at"], created_at=row["created_at"],
            updated_at=row["updated_at"], deleted_at=row["deleted_at"],
            purged_at=row["purged_at"], revision_id=row["revision_id"],
            meta=stored_json(row["meta"] or "{}", f"the metadata of entry {short_id(row['id'])}"),
            attachments=attachments[row["id"]],
            author_id=row["author_id"],
        )
    if details:
        for entry in by_id.values():
            _add_links(db, entry)
    return [by_id[i] for i in ids if i in by_id]


def _add_links(db: Database, entry: Entry) -> None:
    """An entry's links and backlinks as its reader's view resolves them.

    A link is resolved when it is written, for the whole log (``link_target``): to the newest entry of
    its title, or to the one entry its id prefix starts. For a reader who may not see all of the log,
    a link resolved to an entry hidden from them (or to none) is resolved again among the entries they
    may see, so that what they are shown is what a log holding only those would show: a hidden entry of
    the same title, or one sharing an id prefix, neither breaks a link nor takes a backlink away.
    """
    visible, shown = reader_sql(db)
    whole = visible == "1 = 1"
    view = (visible, shown)
    targets: list[tuple[str, str | None]] = []
    for row in db.query(f"SELECT l.target, CASE WHEN {visible} THEN e.id END AS shown_id "
                        "FROM links l LEFT JOIN entries e ON e.id = l.to_id WHERE l.from_id = ? ORDER BY l.target",
                        [*shown, entry.id]):
        found = row["shown_id"]
        if found is None and not whole:
            found = link_target(db, row["target"], view)
        targets.append((row["target"], found if found != entry.id else None))
    titles = _titles(db, [t for _, t in targets if t])
    entry.links.extend(LinkRef(target, found, titles.get(found) if found else None) for target, found in targets)
    names = [] if whole else link_names(entry.id, entry.title, entry_other_names(db, entry.id))
    seen_target, seen_params = reader_sql(db, "t")
    rows = db.query(
        "SELECT l.target, l.from_id, l.to_id, e.title, "
        f"CASE WHEN EXISTS (SELECT 1 FROM entries t WHERE t.id = l.to_id AND {seen_target}) THEN 1 ELSE 0 END AS seen "
        "FROM links l JOIN entries e ON e.id = l.from_id "
        f"WHERE (l.to_id = ?{' OR l.target_key IN ' + _in(names) if names else ''}) "
        f"AND e.deleted_at IS NULL AND {visible} ORDER BY e.occurred_at DESC",
        [*seen_params, entry.id, *names, *shown])
    for row in rows:
        if row["to_id"] == entry.id or (not row["seen"] and row["from_id"] != entry.id
                                        and link_target(db, row["target"], view) == entry.id):
            entry.backlinks.append(LinkRef(row["target"], row["from_id"], row["title"]))


def _titles(db: Database, ids: list[str]) -> dict[str, str]:
    return {r["id"]: r["title"] for r in db.query(f"SELECT id, title FROM entries WHERE id IN {_in(ids)}", ids)} \
        if ids else {}


def link_names(entry_id: str, title: str, others: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``target_key`` of every link that may name this entry: its title, its other names
    (domain.entry.other_names), its id, a prefix of its key."""
    key = id_key(entry_id)
    return list(dict.fromkeys([title_key(title), *map(title_key, others), entry_id.lower(),
                               *(key[:n] for n in range(MIN_PREFIX, len(key) + 1))]))


def entry_other_names(db: Database, entry_id: str) -> list[str]:
    """The folded other names (aliases, a vault file's) an entry is found by."""
    return [r["name_key"] for r in db.query("SELECT name_key FROM entry_names WHERE entry_id = ?", (entry_id,))]


def link_target(db: Database, target: str, view: tuple[str, list[Any]] | None = None) -> str | None:
    """The entry ``[[target]]`` names: the newest of that title (a live one first), else the entry of
    that id, else the only one whose id starts with it; among the entries ``view`` holds (a condition
    over ``entries e`` and its parameters), the whole log without one."""
    where, params = view or ("1 = 1", [])
    found = db.scalar(
        f"SELECT e.id FROM entries e WHERE e.title_key = ? AND e.purged_at IS NULL AND {where} "
        "ORDER BY e.deleted_at IS NOT NULL, e.occurred_at DESC LIMIT 1", [title_key(target), *params])
    if found:
        return str(found)
    found = db.scalar(  # then an alias, or a vault note's file name or path
        f"SELECT e.id FROM entry_names n JOIN entries e ON e.id = n.entry_id WHERE n.name_key = ? "
        f"AND e.purged_at IS NULL AND {where} ORDER BY e.deleted_at IS NOT NULL, e.occurred_at DESC, e.id LIMIT 1",
        [title_key(target), *params])
    if found:
        return str(found)
    text = target.strip()
    if looks_like_full_id(text):
        found = db.scalar(f"SELECT e.id FROM entries e WHERE e.id = ? AND {where}", [text.upper(), *params])
        return str(found) if found else None
    if MIN_PREFIX <= len(text) <= 16:
        key = text.lower()
        rows = db.query(f"SELECT e.id FROM entries e WHERE e.key >= ? AND e.key < ? AND {where} LIMIT 2",
                        [key, key + "~", *params])
        if len(rows) == 1:
            return str(rows[0]["id"])
    return None


def timeline(db: Database, filters: Filters, limit: int | None, before: str | None = None) -> list[Entry]:
    """Entries newest first; ``before`` (an entry id) pages on from that entry (a keyset cursor,
    so a deep page costs what the first does)."""
    where, params = filter_sql(db, filters)
    if before:
        cursor = db.one("SELECT occurred_at, id FROM entries WHERE id = ?", (before,))
        # An entry the reader may not see is no place to page from (its time would show, and that it exists).
        if cursor is None or (access.current(team=db.team) is not None and not load_entries(db, [before])):
            raise NotFound(f"no entry with id {before!r} to page from")
        # A row value, so both engines seek the (occurred_at, id) index instead of scanning from the top.
        where += " AND (e.occurred_at, e.id) < (?, ?)"
        params += [cursor["occurred_at"], cursor["id"]]
    sql = f"SELECT e.id FROM entries e WHERE {where} ORDER BY e.occurred_at DESC, e.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return load_entries(db, [r["id"] for r in db.query(sql, params)])


# What `last` names: the entry written last (ids sort by when they were made), the run started last.
_NEWEST = {"entries": "WHERE e.deleted_at IS NULL{hidden} ORDER BY e.id DESC",
           "runs": "WHERE 1 = 1{hidden} ORDER BY e.started_at DESC, e.id DESC"}
# ... and what it names to `restore`: the entry deleted last (and not purged).
_DELETED_LAST = "WHERE e.deleted_at IS NOT NULL AND e.purged_at IS NULL{hidden} ORDER BY e.deleted_at DESC, e.id DESC"


def resolve(db: Database, ref: str, *, table: str = "entries", what: str = "entry",
            deleted: bool = False) -> str:
    """The full id for a full id, a short id or an unambiguous prefix of one; also, for entries
    (and runs), ``last``, and for entries and nodes, ``@part of a title``. With ``deleted``
    (an entry to restore), ``last`` is the entry deleted last."""
    text = ref.strip()
    if text.lower() == "last" and table in _NEWEST:
        hidden, params = _hidden_from_reader(db, table)
        order = _DELETED_LAST if deleted and table == "entries" else _NEWEST[table]
        found = db.scalar(f"SELECT e.id FROM {table} e {order.format(hidden=hidden)} LIMIT 1", params)
        if found is None:
            raise NotFound(f"no deleted {what}, so no last one" if deleted else f"no {what} yet, so no last one")
        return str(found)
    if text.startswith("@") and table in ("entries", "nodes"):
        return _by_title(db, text[1:], table, what)
    if looks_like_full_id(text):
        hidden, params = _hidden_from_reader(db, table)
        found = db.scalar(f"SELECT id FROM {table} e WHERE id = ?{hidden}", [text.upper(), *params])
        if found:
            return str(found)
    key = text.lower()
    if len(key) < MIN_PREFIX or not key.isalnum():
        by_title = f", or part of its title after an @: @{quote(text)}" if table in ("entries", "nodes") \
            and not key.isalnum() else ""  # 'Which lr' is a title typed where an id goes
        raise BadInput(f"{what} id {ref!r} is too short or malformed: give at least "
                       f"{MIN_PREFIX} characters of its id{by_title}")
    hidden, params = _hidden_from_reader(db, table)
    rows = db.query(f"SELECT id FROM {table} e WHERE key >= ? AND key < ?{hidden} ORDER BY key LIMIT 6",
                    [key, key + "~", *params])
    if not rows:
        raise NotFound(f"no {what} with id {ref!r}{_full_id_start(db, text, table, hidden, params)}")
    if len(rows) > 1:
        shown = ", ".join(short_id(r["id"]) for r in rows[:5])
        raise Ambiguous(f"{what} id {ref!r} is ambiguous: it matches {shown}"
                        f"{' and more' if len(rows) > 5 else ''}; type more characters")
    return str(rows[0]["id"])


def _full_id_start(db: Database, text: str, table: str, hidden: str, params: list[Any]) -> str:
    """A hint when ``text`` is the start of full ids (as a script's ``run.id`` cut like a git hash):
    short ids are the end of an id, reversed, so the start of one names nothing."""
    start = text.upper()
    rows = db.query(f"SELECT id FROM {table} e WHERE id >= ? AND id < ?{hidden} ORDER BY id LIMIT 4",
                    [start, start + "~", *params])
    if not rows:
        return ""
    shown = ", ".join(short_id(r["id"]) for r in rows[:3]) + (" ..." if len(rows) > 3 else "")
    return (f"; that is the start of a full id, and a short id is not: type the whole id, or the short id "
            f"listings show ({shown})")


def _by_title(db: Database, part: str, table: str, what: str) -> str:
    """The live entry or node whose title is ``part``, else the only one whose title holds it
    (case and spacing aside); a deleted one only if no live one matches."""
    key = title_key(part)
    if not key:
        raise BadInput(f"'@' takes part of an {what}'s title, e.g. @\"name mover\"" if what[0] in "aeiou"
                       else f"'@' takes part of a {what}'s title, e.g. @\"name mover\"")
    hidden, params = _hidden_from_reader(db, table)
    like = _holding(key)
    for live in ("e.deleted_at IS NULL", "e.deleted_at IS NOT NULL"):
        exact = db.query(f"SELECT e.id, e.title FROM {table} e WHERE e.title_key = ? AND {live}{hidden} "
                         "ORDER BY e.id DESC LIMIT 6", [key, *params])
        rows = exact or db.query(f"SELECT e.id, e.title FROM {table} e WHERE e.title_key LIKE ? ESCAPE '\\' "
                                 f"AND {live}{hidden} ORDER BY e.id DESC LIMIT 6", [like, *params])
        if len(rows) == 1:
            return str(rows[0]["id"])
        if rows:
            shown = ", ".join(f'{short_id(r["id"])} "{r["title"]}"' for r in rows[:5])
            raise Ambiguous(f"@{part} matches more than one {what}: {shown}"
                            f"{' and more' if len(rows) > 5 else ''}; type more of the title, or an id")
    raise NotFound(f"no {what} whose title holds {part!r}")


def _holding(key: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for text that holds ``key``."""
    return "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def complete_refs(db: Database, text: str, table: str, limit: int = 30) -> list[tuple[str, str]]:
    """(short id, title) of live entries or nodes whose id starts with ``text`` or whose title
    holds it, newest first: what shell completion offers."""
    hidden, params = _hidden_from_reader(db, table)
    key, like = text.strip().lower(), _holding(title_key(text))
    rows = db.query(f"SELECT e.id, e.title FROM {table} e WHERE e.deleted_at IS NULL AND "
                    f"((e.key >= ? AND e.key < ?) OR e.title_key LIKE ? ESCAPE '\\'){hidden} "
                    "ORDER BY e.id DESC LIMIT ?", [key, key + "~", like, *params, limit])
    return [(short_id(r["id"]), r["title"] or "") for r in rows]


def _hidden_from_reader(db: Database, table: str) -> tuple[str, list[Any]]:
    """On a team server, entries and nodes the reader may not see are not there to be named."""
    audience = access.current(team=db.team)
    if audience is None:
        return "", []
    if table == "entries":
        visible, params = visible_sql(audience)
        return " AND " + visible, params
    nodes = sorted(audience.roles)
    if table == "nodes":
        return " AND e.id IN (" + ", ".join("?" for _ in nodes) + ")" if nodes else " AND 1 = 0", nodes
    if table == "runs":
        visible, params = visible_runs_sql(audience, "e")
        return " AND " + visible, params
    if table == "attachments":  # as their entry
        visible, params = visible_sql(audience, "v")
        return f" AND e.entry_id IN (SELECT v.id FROM entries v WHERE {visible})", params
    return "", []


def resolve_among(db: Database, ref: str, tables: dict[str, str]) -> tuple[str, str]:
    """(table, full id) for an id that may name one of several kinds ({table: what}).

    Refuses an id that names nothing, or something in more than one table.
    """
    kinds = " or ".join(tables.values())
    found = []
    for table in tables:
        try:
            found.append((table, resolve(db, ref, table=table, what=kinds)))
        except NotFound:
            continue
    if not found:
        raise NotFound(f"no {kinds} with id {ref!r}")
    if len(found) > 1:
        both = " and ".join(tables[table] for table, _ in found)
        raise Ambiguous(f"id {ref!r} matches more than one kind ({both}); type more characters")
    return found[0]


def get_entry(db: Database, ref: str, *, deleted: bool = False) -> Entry:
    entry_id = resolve(db, ref, deleted=deleted)
    found = load_entries(db, [entry_id], details=True)
    if not found:  # resolve already hides it from this reader; deleted since, say
        raise NotFound(f"no entry with id {ref!r}")
    return found[0]


def change_stamp(db: Database, object_id: str) -> str:
    """The time to stamp a new change of a node or an idea with: now, and after every change it
    already has, whatever the clock says (the newest change of a node is the one it shows)."""
    return now_after(db.scalar("SELECT max(at) FROM (SELECT at FROM node_events WHERE node_id = ? UNION ALL "
                               "SELECT at FROM idea_events WHERE entry_id = ?) AS changes", (object_id, object_id)))


def revisions(db: Database, entry_id: str) -> list[Revision]:
    """Every revision of an entry, each checked against its checksum: one damaged in storage is
    refused by name, never shown as if it were what was written."""
    rows = db.query("SELECT * FROM revisions WHERE entry_id = ? ORDER BY number", (entry_id,))
    for row in rows:
        damage = revision_damage(row)
        if damage:
            raise UpstackError(f"revision {row['number']} of entry {short_id(entry_id)} is damaged: {damage}; "
                               "`upstack doctor` lists all such damage")
    return [Revision(**{k: v for k, v in r.items() if k != "checksum"}
                     | {"tags": json.loads(r["tags"]), "meta": json.loads(r["meta"]) if r.get("meta") else None})
            for r in rows]


def all_tags(db: Database, filters: Filters) -> list[tuple[str, int, str]]:
    """(tag, entry count, last used) for live entries, most used first."""
    where, params = filter_sql(db, filters)
    return [(r["tag"], int(r["n"]), r["last"]) for r in db.query(
        "SELECT t.tag, count(*) AS n, max(e.occurred_at) AS last FROM entry_tags t "
        f"JOIN entries e ON e.id = t.entry_id WHERE {where} "
        "GROUP BY t.tag ORDER BY n DESC, t.tag", params)]


def attachment_by_id(db: Database, attachment_id: str) -> Attachment:
    # Not an id at all (a NUL in a link, which PostgreSQL could not even be asked about): not found.
    row = db.one("SELECT * FROM attachments WHERE id = ?", (attachment_id,)) if looks_like_full_id(attachment_id) \
        else None
    if row is None or (access.current(team=db.team) is not None and not load_entries(db, [row["entry_id"]])):
        raise NotFound(f"no attachment with id {attachment_id!r}")
    row.pop("key")
    return Attachment(**row)


def ids_oldest_first(db: Database, filters: Filters) -> list[str]:
    """Ids of the entries ``filters`` match (as the reader may see them), purged ones left out,
    oldest first."""
    where, params = filter_sql(db, filters)
    return [r["id"] for r in db.query(
        f"SELECT e.id FROM entries e WHERE {where} AND e.purged_at IS NULL ORDER BY e.occurred_at, e.id", params)]


def resolved_links(db: Database) -> dict[str, dict[str, str]]:
    """{entry id: {link target as written: the entry it names}} for every link that names one."""
    links: dict[str, dict[str, str]] = {}
    for row in db.query("SELECT from_id, target, to_id FROM links WHERE to_id IS NOT NULL"):
        links.setdefault(row["from_id"], {})[row["target"]] = row["to_id"]
    return links


def own_writing_times(db: Database, since: str) -> list[tuple[str, str | None]]:
    """When the reader wrote entries, edited their own and started runs from ``since`` on, each as (the
    time, UTC; the writer's UTC offset then, None if not recorded: an edit records none): the work's
    rhythm, for the reader's own pace (nobody else's, and on a team server only their own). An imported
    entry (it has a ``source``) is left out: it was created when the import ran, not when it was written;
    so is a run's result entry, made when the run ended, not by the person (the run counts once, when it
    was started)."""
    from upstack.store.stars import reader_key

    who = reader_key(db)
    if who is None:
        return []
    mine = "author_id = ?" if who else "author_id IS NULL"
    return [(str(r["written_at"]), r["utc_offset"]) for r in db.query(
        f"SELECT e.created_at AS written_at, e.utc_offset FROM entries e WHERE e.created_at >= ? AND e.{mine} "
        "AND e.source IS NULL AND e.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.id = e.id) "
        f"UNION ALL SELECT r.started_at AS written_at, r.utc_offset FROM runs r WHERE r.started_at >= ? AND r.{mine} "
        "AND NOT EXISTS (SELECT 1 FROM entries p WHERE p.id = r.id AND p.purged_at IS NOT NULL) "
        "UNION ALL SELECT v.created_at AS written_at, NULL AS utc_offset FROM revisions v JOIN entries e "
        f"ON e.id = v.entry_id WHERE v.number > 1 AND v.created_at >= ? AND e.{mine} AND e.source IS NULL "
        "AND e.purged_at IS NULL AND v.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.id = e.id)",
        [since, *([who] if who else []), since, *([who] if who else []), since, *([who] if who else [])])]


def wrote_before(db: Database, moment: str) -> bool:
    """Whether the reader wrote any entry or started any run (as ``own_writing_times`` counts them)
    before ``moment``:
    whether their log's rhythm reaches back that far, or starts later."""
    from upstack.store.stars import reader_key

    who = reader_key(db)
    if who is None:
        return False
    mine = "author_id = ?" if who else "author_id IS NULL"
    params = [moment, *([who] if who else [])]
    return db.one(f"SELECT 1 AS found FROM entries e WHERE e.created_at < ? AND e.{mine} AND e.source IS NULL "
                  "AND e.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM runs x WHERE x.id = e.id) "
                  f"UNION ALL SELECT 1 AS found FROM runs r WHERE r.started_at < ? AND r.{mine}",
                  [*params, *params]) is not None


def named_by_file(db: Database, name_key: str) -> tuple[str, str] | None:
    """(id, title) of the live entry whose vault file has this name or path (a ``title_key``)."""
    row = db.one("SELECT e.id, e.title FROM entry_names n JOIN entries e ON e.id = n.entry_id "
                 "WHERE n.name_key = ? AND e.purged_at IS NULL AND e.deleted_at IS NULL "
                 "ORDER BY e.occurred_at DESC, e.id LIMIT 1", (name_key,))
    return (row["id"], row["title"]) if row else None


def imported_entry(db: Database, entry_id: str | None, sources: list[str]) -> dict[str, Any] | None:
    """The entry an importer made before from one of ``sources``, or that has ``entry_id`` (deleted and
    purged ones too): its id, current revision, purged_at, private, meta (parsed) and attachments."""
    row = db.one("SELECT id, revision_id, purged_at, private, meta FROM entries WHERE id = ?",
                 (entry_id,)) if entry_id else None
    if row is None and sources:
        row = db.one(f"SELECT id, revision_id, purged_at, private, meta FROM entries WHERE source IN {_in(sources)} "
                     "ORDER BY created_at LIMIT 1", sources)
    if row is None:
        return None
    attachments = []
    for a in db.query("SELECT * FROM attachments WHERE entry_id = ? ORDER BY created_at, id", (row["id"],)):
        a.pop("key")
        attachments.append(Attachment(**a))
    meta = json.loads(row["meta"] or "{}")
    return {**row, "meta": meta if isinstance(meta, dict) else {}, "attachments": attachments}


def imported_before(db: Database, source: str, entry_id: str) -> bool:
    """Whether an entry came from ``source`` or has the id ``entry_id`` (deleted ones too)."""
    return bool(db.scalar("SELECT 1 FROM entries WHERE source = ? OR id = ?", (source, entry_id)))
