"""Theory of change: add and manage nodes, file work under them, trace why it matters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from upstack.domain import access
from upstack.domain.entry import Entry
from upstack.domain.filters import Filters
from upstack.domain.tree import NODE_KINDS, NODE_TITLE_CHARS, Node, check_parent, check_status
from upstack.errors import BadInput, NotFound
from upstack.files import make_private_dirs, write_atomically
from upstack.formats.journal import Record
from upstack.ids import id_key, new_id, short_id
from upstack.memo import Memo
from upstack.services import commitment
from upstack.store import queries
from upstack.store import tree as store_tree
from upstack.store.cache import store_key
from upstack.store.db import Database
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = [
    "add_node", "resolve_node", "show_node", "edit_node", "move_node", "set_status",
    "trace_why", "asks_why", "tree", "set_focus", "focus", "NodeView", "Trace", "TreeRow", "remove_node",
    "restore_node", "activity", "Activity", "describe_event", "HIDDEN_NODE", "known_projects",
    "project_filter", "project_node", "project_title", "status_change", "with_override",
]

# Per node (None: no node): its own live entries, learnings, work and latest times.
# Shared through a cache (see ``activity``): read it, never change it.
Activity = dict[str | None, dict[str, Any]]

FOCUS_FILE = "focus"
TREE_MARK = "tree-in-use"


def resolve_node(db: Database, ref: str) -> str:
    node_id = queries.resolve(db, ref, table="nodes", what="node")
    if store_tree.load_node(db, node_id).deleted_at:
        raise NotFound(f"node {ref!r} was deleted (bring it back: upstack node restore {ref})")
    return node_id


def get_node(ws: Workspace, ref: str) -> Node:
    """A node by id, short id or title (not one that was deleted)."""
    db = ws.store().db
    return store_tree.load_node(db, resolve_node(db, ref))


def known_projects(ws: Workspace) -> list[str]:
    """The titles of the projects in the tree (not deleted), oldest first, as the reader sees them."""
    return [n.title for n in store_tree.node_rows(ws.store().db) if n.kind == "project"]


def project_title(ws: Workspace, name: str, *, also: tuple[str, ...] = ()) -> str:
    """The title of the project NAME names or begins (``also``: other names it may give, such as
    progress's "(no project)"); refused, saying which projects exist, when it names none."""
    from upstack.domain.tree import match_project, no_such_project

    projects = known_projects(ws)
    found = match_project(name, projects + list(also))
    if found is None:
        raise no_such_project(name, projects)
    return found


def project_node(ws: Workspace, name: str) -> str:
    """The id of the node a `--project NAME` option names: its id (or a prefix of it), a node's title,
    else the project whose name NAME begins. Refused, saying which projects exist, when it names none."""
    from upstack.domain.text import title_key
    from upstack.domain.tree import match_project, no_such_project

    db = ws.store().db
    try:
        return resolve_node(db, name)
    except (NotFound, BadInput):
        pass
    nodes = store_tree.node_rows(db)
    titled = [n for n in nodes if title_key(n.title) == title_key(name)]
    if titled:
        return titled[0].id
    projects = [n for n in nodes if n.kind == "project"]
    found = match_project(name, [n.title for n in projects])
    if found is None:
        raise no_such_project(name, [n.title for n in projects], hint=" (or give a node's id)")
    return next(n.id for n in projects if n.title == found)


def project_filter(ws: Workspace, name: str) -> str:
    """What a `--project NAME` filter looks for: a node that NAME names (its title or id, as
    before), else the project whose name NAME begins. Refused, saying which projects exist,
    when it names none."""
    from upstack.domain.text import title_key
    from upstack.domain.tree import match_project, no_such_project

    db = ws.store().db
    nodes = store_tree.node_rows(db)
    if any(title_key(n.title) == title_key(name) for n in nodes):
        return name
    projects = [n.title for n in nodes if n.kind == "project"]
    found = match_project(name, projects)
    if found is not None:
        return found
    try:
        return id_key(resolve_node(db, name))  # what the filter matches a node's id by
    except (NotFound, BadInput):
        raise no_such_project(name, projects, hint=" (or give a node's id)") from None


def filing_places(ws: Workspace) -> list[Node]:
    """Where a note can be filed: projects still going and experiments under way, that the
    reader may write to."""
    audience = access.current(team=ws.team)
    return [n for n in store_tree.node_rows(ws.store().db)
            if (n.kind == "project" and n.status not in ("done", "dropped")
                or n.kind == "experiment" and n.status == "active")
            and (audience is None or audience.has(n.id, "editor"))]


def add_node(ws: Workspace, kind: str, title: str, *, why: str = "", under: str | None = None,
             status: str = "open", override: str = "", created_at: str | None = None) -> Node:
    """Add a node; ``created_at`` (stored form) back-dates it, and its "created" event, to when
    it was decided (a week back-filled from paper notes)."""
    if kind not in NODE_KINDS:
        raise BadInput(f"unknown node kind {kind!r}: choose one of {', '.join(NODE_KINDS)}")
    if not title.strip():
        raise BadInput("a node needs a title")
    _fits(title)
    store = ws.store()
    parent_id = resolve_node(store.db, under) if under else None
    check_parent(kind, store_tree.load_node(store.db, parent_id).kind if parent_id else None)
    if check_status(status) == "active":
        commitment.check_active_limit(ws, store.db, kind, override=override)
    node_id = new_id()
    data = {"id": node_id, "kind": kind, "title": title.strip(), "why": why.strip(),
            "parent_id": parent_id, "status": check_status(status), "created_at": created_at or now_iso()}
    if created_at:
        data["at"] = created_at  # the "created" event too (otherwise it is the record's own time)
    store.write([ws.record("node.create", data)])
    (ws.home / TREE_MARK).touch()  # capture reads this to know the tree is in use
    return store_tree.load_node(store.db, node_id)


@dataclass
class NodeView:
    node: Node
    chain: list[Node]  # parent first, up to the root
    children: list[Node]
    history: list[dict[str, Any]]
    entries: list[Entry]

    def to_dict(self) -> dict[str, Any]:
        return {**self.node.to_dict(), "parents": [n.to_dict() for n in self.chain],
                "children": [n.to_dict() for n in self.children], "history": self.history,
                "entries": [e.to_dict() for e in self.entries]}


HIDDEN_NODE = "a node you cannot open"


def describe_event(event: dict[str, Any], kind: str = "") -> str:
    """A node's history event in words, as `upstack node show` and the node page say it
    (``kind``: the node's; a question's "done" reads "answered", as ``status_label`` says)."""
    def where(side: str) -> str:
        if event.get(f"{side}_hidden"):
            return HIDDEN_NODE
        node_id = event[f"{side}_value"]
        return short_id(node_id) if node_id else "the top"

    def status(value: str | None) -> str | None:
        return "answered" if kind == "question" and value == "done" else value

    change = event["change"]
    return {"created": f"created ({status(event['new_value'])})",
            "status": f"status {status(event['old_value'])} → {status(event['new_value'])}",
            "parent": f"moved from {where('old')} to {where('new')}",
            "deleted": "deleted", "restored": "restored"}.get(change, f"{change} edited")


def show_node(ws: Workspace, ref: str, recent: int = 10) -> NodeView:
    db = ws.store().db
    node_id = resolve_node(db, ref)
    chain = store_tree.ancestors(db, node_id)
    ids = store_tree.recent_entry_ids(db, node_id, recent)
    return NodeView(chain[0], chain[1:], store_tree.children(db, node_id),
                    store_tree.history(db, node_id), queries.load_entries(db, ids))


def _fits(title: str) -> None:
    if len(title.strip()) > NODE_TITLE_CHARS:
        raise BadInput(f"a node's title is at most {NODE_TITLE_CHARS} characters (this one has {len(title.strip()):,})")


def edit_node(ws: Workspace, ref: str, *, title: str | None = None, why: str | None = None) -> Node:
    store = ws.store()
    node = store_tree.load_node(store.db, resolve_node(store.db, ref))
    changes: dict[str, Any] = {}
    if title is not None:
        if not title.strip():
            raise BadInput("a node's title cannot be empty")
        _fits(title)
        changes["title"] = title.strip()
    if why is not None:
        changes["why"] = why.strip()
    if not changes:
        raise BadInput("nothing to change: give --title and/or --why")
    store.write([ws.record("node.edit", {"node_id": node.id, "at": queries.change_stamp(store.db, node.id),
                                         **changes})])
    return store_tree.load_node(store.db, node.id)


def move_node(ws: Workspace, ref: str, under: str | None) -> Node:
    """Re-parent a node (None: to the top); refuses cycles and kind mismatches."""
    store = ws.store()
    node = store_tree.load_node(store.db, resolve_node(store.db, ref))
    parent_id = resolve_node(store.db, under) if under else None
    if parent_id and any(n.id == node.id for n in store_tree.ancestors(store.db, parent_id)):
        raise BadInput(f"cannot move {node.short} under {under}: that is {node.short} itself or "
                       "one of its descendants")
    check_parent(node.kind, store_tree.load_node(store.db, parent_id).kind if parent_id else None)
    store.write([ws.record("node.move", {"node_id": node.id, "parent_id": parent_id,
                                         "at": queries.change_stamp(store.db, node.id)})])
    return store_tree.load_node(store.db, node.id)


def set_status(ws: Workspace, ref: str, status: str, reason: str = "",
               override: str = "") -> Node:
    """Change a node's status; the commitment rules apply unless ``override`` says why."""
    store = ws.store()
    node = store_tree.load_node(store.db, resolve_node(store.db, ref))
    store.write([status_change(ws, store.db, node, status, reason, override)])
    return store_tree.load_node(store.db, node.id)


def status_change(ws: Workspace, db: Database, node: Node, status: str, reason: str = "",
                  override: str = "") -> Record:
    """The record that sets ``node``'s status, once the commitment rules allow the change (or
    ``override`` says why they do not apply); refused with one line otherwise."""
    value = check_status(status)
    if value == node.status:
        raise BadInput(f"{node.short} is already {value}")
    if value == "active":
        commitment.check_active_limit(ws, db, node.kind, exclude=node.id, override=override)
    commitment.check_commitment(ws, db, node, value, override)
    return ws.record("node.status", {"node_id": node.id, "status": value,
                                     "reason": with_override(reason, override),
                                     "at": queries.change_stamp(db, node.id)})


def with_override(reason: str, override: str) -> str:
    """A reason kept in a history, with the override that let the change through:
    'Circuit already published; override: scooped'."""
    reason, override = " ".join(reason.split()), " ".join(override.split())
    if not override:
        return reason
    return f"{reason.rstrip('.')}; override: {override}" if reason else f"override: {override}"


def remove_node(ws: Workspace, ref: str, reason: str = "") -> Node:
    """Soft-delete a leaf node (restorable); its entries stay, and stop tracing up."""
    store = ws.store()
    node = store_tree.load_node(store.db, resolve_node(store.db, ref))
    if store_tree.children(store.db, node.id):
        raise BadInput(f"{node.short} has children: move or remove them first")
    store.write([ws.record("node.delete", {"node_id": node.id, "reason": reason.strip(),
                                           "at": queries.change_stamp(store.db, node.id)})])
    return store_tree.load_node(store.db, node.id)


def restore_node(ws: Workspace, ref: str) -> Node:
    store = ws.store()
    node_id = queries.resolve(store.db, ref, table="nodes", what="node")
    node = store_tree.load_node(store.db, node_id)
    if not node.deleted_at:
        raise BadInput(f"node {node.short} is not deleted")
    parent = store_tree.load_node(store.db, node.parent_id) if node.parent_id else None
    if parent and parent.deleted_at:
        raise BadInput(f"restore its parent {parent.short} first")
    store.write([ws.record("node.restore", {"node_id": node.id, "at": queries.change_stamp(store.db, node.id)})])
    return store_tree.load_node(store.db, node.id)


@dataclass
class Trace:
    entry: Entry | None
    chain: list[Node]  # the entry's node (or the node itself) first, up to the root

    @property
    def reaches_agenda(self) -> bool:
        return bool(self.chain) and self.chain[-1].kind == "agenda"

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry.to_dict() if self.entry else None,
                "chain": [n.to_dict() for n in self.chain], "reaches_agenda": self.reaches_agenda}


def trace_why(ws: Workspace, ref: str) -> Trace:
    """The chain from an entry or a node up to its agenda, each link with its why."""
    db = ws.store().db
    table, object_id = queries.resolve_among(db, ref, {"entries": "entry", "nodes": "node"})
    if table == "nodes":
        return Trace(None, store_tree.ancestors(db, object_id))
    entry = queries.get_entry(db, object_id)
    return Trace(entry, store_tree.ancestors(db, entry.node_id) if entry.node_id else [])


def asks_why(ws: Workspace, chain: list[Node]) -> bool:
    """Whether a page (or `upstack why`, or `upstack check`) asks "why does this matter?" of a
    chain that stops short of an agenda.

    On a laptop of one's own it always does. On a team server a chain is cut where the reader's
    view of the tree begins: a project shared with a collaborator may sit under an agenda they may
    not see, and whether it does is not theirs to know. So only the person who made the chain's top
    node is asked (it is theirs to file); for anyone else the answer depends on nothing they cannot
    see. A laptop linked to a server holds the same cut view of what was shared with its user: it
    asks unless the server gave them a lesser role than owner on the top node.
    """
    if not chain or chain[-1].kind == "agenda":
        return False
    audience = access.current(team=ws.team)
    if audience is None:
        from upstack.services.linked import server_audience

        linked = server_audience(ws)
        role = linked[1].role(chain[-1].id) if linked else None
        return role is None or role == "owner"
    return audience.is_author(store_tree.node_owner(ws.store().db, chain[-1].id))


@dataclass
class TreeRow:
    node: Node
    depth: int
    entries: int = 0  # this node and everything under it
    learnings: int = 0
    last: str | None = None
    children: list[TreeRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.node.to_dict(), "entries": self.entries, "learnings": self.learnings,
                "last_activity": self.last, "children": [c.to_dict() for c in self.children]}


# One answer per workspace is what is ever wanted; a few in case a process serves several.
_ACTIVITY: Memo[Activity] = Memo(4)


def activity(ws: Workspace) -> Activity:
    """What ``tree`` and ``checks.check`` count from: one pass over every live entry.

    A page that shows both computes it once and hands it to each. The answer is
    kept until the store changes (``store.cache``). What the default filter selects
    is part of the key: ``filter_sql`` is where a reader's view of the log is
    decided, so counts are never shared between readers who see different entries.
    """
    db = ws.store().db
    where, params = queries.filter_sql(db, Filters())
    key = store_key(db, "tree.activity", where, tuple(params))
    if key is None:
        return store_tree.activity(db)
    return _ACTIVITY.get_or_compute(key, lambda: store_tree.activity(db))


def tree(ws: Workspace, *, include_closed: bool = True, counts: Activity | None = None) -> list[TreeRow]:
    """The whole tree (roots first, oldest first), counts rolled up from below."""
    db = ws.store().db
    nodes = store_tree.node_rows(db)
    counts = counts if counts is not None else activity(ws)
    rows = {n.id: TreeRow(n, 0) for n in nodes}
    roots: list[TreeRow] = []
    for node in nodes:
        row = rows[node.id]
        parent = rows.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(row)

    def fill(row: TreeRow, depth: int) -> None:
        row.depth = depth
        own = counts.get(row.node.id, {})
        row.entries, row.learnings, row.last = own.get("entries", 0), own.get("learnings", 0), \
            own.get("last")
        for child in row.children:
            fill(child, depth + 1)
            row.entries += child.entries
            row.learnings += child.learnings
            if child.last and (row.last is None or child.last > row.last):
                row.last = child.last
        if not include_closed:
            row.children = [c for c in row.children if c.node.status not in ("done", "dropped")]

    for root in roots:
        fill(root, 0)
    if not include_closed:
        roots = [r for r in roots if r.node.status not in ("done", "dropped")]
    return roots


def set_focus(ws: Workspace, ref: str | None) -> Node | None:
    """Where notes go when no --under is given; None clears it."""
    path = ws.home / FOCUS_FILE
    if ref is None:
        path.unlink(missing_ok=True)
        return None
    db = ws.store().db
    node_id = resolve_node(db, ref)
    make_private_dirs(ws.home)
    write_atomically(path, node_id + "\n")
    return store_tree.load_node(db, node_id)


def focus(ws: Workspace) -> Node | None:
    node_id = ws.focus_node_id()
    if node_id is None:
        return None
    db = ws.store().db
    return store_tree.load_node(db, node_id) if store_tree.is_live(db, node_id) else None
