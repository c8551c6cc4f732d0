"""Managing a run after it ran: rename, tag, add a note, move under another node, delete and restore,
and its history (issue 20).

Each change is a record written through the store's one write path (``run.rename``, ``run.retag``,
``run.move``, ``run.delete``, ``run.restore``; a note is a ``run.note`` under a fresh id), so `upstack
sync` carries it to a team server, whose door checks it as this module does here. The rules: a run is
its author's to change (on a team server; on a laptop everything is its owner's); a move needs the
right to file under the node it goes to (editor there); a run or node the person may not see answers
as one that is not there. A deleted run takes only a restore.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain import access
from upstack.domain.run import RUN_NAME_CHARS, RunInfo
from upstack.domain.text import TAG_CHARS, clean_text, normalize_tag
from upstack.errors import BadInput, Forbidden, NotFound
from upstack.ids import short_id
from upstack.services.runs import get_run
from upstack.store import run_manage as store_manage
from upstack.store import runs as store_runs
from upstack.store import tree as store_tree
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["rename", "retag", "add_note", "move", "delete", "restore", "history", "Change", "may_manage",
           "get_run", "server_warning", "NAME_CHARS", "NOTE_CHARS"]

NAME_CHARS = RUN_NAME_CHARS  # as at its start: a team server takes no longer name
NOTE_CHARS = 20_000
HIDDEN_NODE = "a node you cannot see"


def may_manage(ws: Workspace, run: RunInfo) -> bool:
    """Whether the person asking may change this run: its author (anyone, with nobody signed in)."""
    audience = access.current(team=ws.store().db.team)
    return audience is None or audience.is_author(run.author_id)


def _owned(ws: Workspace, ref: str, *, deleted_ok: bool = False) -> RunInfo:
    run = get_run(ws, ref)  # NotFound unless the reader may see it
    if not may_manage(ws, run):
        raise Forbidden(f"you may see run {run.short} but not change it: a run is its author's")
    if run.deleted_at and not deleted_ok:
        raise BadInput(f"run {run.short} is deleted: restore it first (upstack run restore {run.short})")
    return run


def _write(ws: Workspace, op: str, run: RunInfo, data: dict[str, Any]) -> RunInfo:
    store = ws.store()
    stamp = store_manage.change_stamp(store.db, run.id)
    store.write([ws.record(op, {"run_id": run.id, "at": stamp, **data})])
    return get_run(ws, run.id)


def rename(ws: Workspace, ref: str, name: str) -> RunInfo:
    """Give a run a new name; its result entry's title follows (its text stays as it is)."""
    run = _owned(ws, ref)
    name = " ".join(clean_text(name).split())
    if not name:
        raise BadInput("a run's name cannot be empty")
    if len(name) > NAME_CHARS:
        raise BadInput(f"a run's name is at most {NAME_CHARS} characters")
    if name == run.name:
        raise BadInput(f"run {run.short} is already named {name!r}")
    return _write(ws, "run.rename", run, {"name": name})


def retag(ws: Workspace, ref: str, changes: list[str]) -> RunInfo:
    """Add (``+tag``, or a bare ``tag``) and take off (``-tag``) tags; the result entry's tags follow."""
    run = _owned(ws, ref)
    if not changes:
        raise BadInput("say which tags to add (+tag) or take off (-tag)")
    tags = list(run.tags)
    for change in changes:
        sign, word = (change[0], change[1:]) if change[:1] in "+-" and len(change) > 1 else ("+", change)
        tag = normalize_tag(clean_text(word))
        if not tag or len(tag) > TAG_CHARS:
            raise BadInput(f"{change!r} is not a tag: write +tag to add one, -tag to take one off")
        if sign == "+" and tag not in tags:
            tags.append(tag)
        elif sign == "-":
            held = [t for t in tags if normalize_tag(t) == tag]  # a tag the script gave as "Baseline" too
            if not held:
                raise BadInput(f"run {run.short} has no tag {tag!r}" +
                               (f" (its tags: {', '.join(run.tags)})" if run.tags else " (it has none)"))
            tags = [t for t in tags if t not in held]
    if tags == run.tags:
        raise BadInput(f"run {run.short} has those tags already")
    return _write(ws, "run.retag", run, {"tags": tags})


def add_note(ws: Workspace, ref: str, text: str) -> RunInfo:
    """A note on the run, as ``run.note(...)`` writes one from the script, under a fresh id."""
    run = _owned(ws, ref)
    text = clean_text(text).strip()
    if not text:
        raise BadInput("the note is empty")
    if len(text) > NOTE_CHARS:
        raise BadInput(f"a note is at most {NOTE_CHARS:,} characters")
    store = ws.store()
    store.write([ws.record("run.note", {"run_id": run.id, "text": text, "at": now_iso()})])
    return get_run(ws, run.id)


def move(ws: Workspace, ref: str, node_ref: str) -> RunInfo:
    """File a run (and its result entry) under another node; needs the right to file there."""
    from upstack.services.tree import resolve_node

    run = _owned(ws, ref)
    db = ws.store().db
    node_id = resolve_node(db, node_ref)  # NotFound for a node the person may not see
    audience = access.current(team=db.team)
    if audience is not None and not audience.may_file_under(node_id):
        raise Forbidden("you may not file runs under that node (its owner can make you an editor)")
    if node_id == run.node_id:
        raise BadInput(f"run {run.short} is filed there already")
    return _write(ws, "run.move", run, {"node_id": node_id, "from_node_id": run.node_id})


def delete(ws: Workspace, ref: str) -> RunInfo:
    """Delete a run and its result entry: hidden from lists, compare and search; restorable."""
    run = _owned(ws, ref)
    return _write(ws, "run.delete", run, {})


def restore(ws: Workspace, ref: str) -> RunInfo:
    """Bring back a deleted run, and its result entry with it."""
    run = _owned(ws, ref, deleted_ok=True)
    if not run.deleted_at:
        raise BadInput(f"run {run.short} is not deleted")
    return _write(ws, "run.restore", run, {})


def server_warning(ws: Workspace, run: RunInfo) -> str:
    """On a laptop linked to a team server: '' if the server will take this run's change (its author's,
    filed where they may file); else a line saying why not. The change stays here either way, and
    `upstack sync` lists it as refused (as services/linked.py says of entries)."""
    from upstack.services.linked import server_audience

    linked = server_audience(ws)
    if linked is None:
        return ""
    server, audience = linked
    if run.author_id is not None and not audience.is_author(run.author_id):
        return (f"{server} will not take this change: run {run.short} is someone else's there (a run is its "
                "author's); it stays on this workspace, and `upstack sync` lists it")
    if run.node_id and not audience.may_file_under(run.node_id) and run.node_id in audience.roles:
        return (f"{server} will not take this change: you may not file runs under node {short_id(run.node_id)} "
                "there (an editor may); it stays on this workspace, and `upstack sync` lists it")
    return ""


@dataclass
class Change:
    """One line of a run's history: a change (name, tags, node, deleted, restored), a resume or a note."""

    at: str
    change: str
    old: Any = None
    new: Any = None
    by: str | None = None
    id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if self.change == "name":
            return f"renamed from {self.old!r} to {self.new!r}"
        if self.change == "tags":
            added = [t for t in self.new or [] if t not in (self.old or [])]
            taken = [t for t in self.old or [] if t not in (self.new or [])]
            return "tags " + ", ".join([*(f"+{t}" for t in added), *(f"-{t}" for t in taken)] or ["unchanged"])
        if self.change == "node":
            old, new = self.extra.get("old_title") or "", self.extra.get("new_title") or ""
            if not new:
                return f"unfiled from {old}"
            if not old:
                return f"filed under {new}"
            if old == new:  # a move that came without where it was from (one the sender may not see)
                return f"moved to {new}"
            return f"moved from {old} to {new}"
        if self.change == "note":
            return f"note: {self.new}"
        if self.change == "started":  # under its name now, unless renamed since (the renames say from what)
            return "started" if self.extra.get("renamed") else f"started as {self.new!r}"
        if self.change == "resumed":
            return f"resumed on {self.extra.get('host') or '?'} after step {self.extra.get('step', '?')}"
        return self.change  # deleted, restored

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "text": self.text}


def history(ws: Workspace, ref: str) -> list[Change]:
    """Every change of a run since it started, and its notes, oldest first."""
    run = get_run(ws, ref)
    db = ws.store().db
    changes = [Change(at=run.started_at, change="started", new=run.name, by=run.author_id, id=run.id)]
    for event in store_runs.events(db, run.id):
        extra, old, new = {}, event["old_value"], event["new_value"]
        if event["change"] == "node":  # a node the reader may not see: neither its title nor its id
            extra = {"old_title": _node_title(db, old), "new_title": _node_title(db, new)}
            old, new = (None if extra["old_title"] == HIDDEN_NODE else old,
                        None if extra["new_title"] == HIDDEN_NODE else new)
        changes.append(Change(at=event["at"], change=event["change"], old=old, new=new, by=event["author_id"],
                              id=event["id"], extra=extra))
    changes += [Change(at=str(item.data.get("at") or item.at), change="note", new=item.data.get("text", ""),
                       by=run.author_id) for item in run.items if item.kind == "note"]
    changes += [Change(at=str(item.data.get("at") or item.at), change="resumed", by=run.author_id,
                       extra={"host": item.data.get("host"), "step": item.data.get("step")})
                for item in run.items if item.kind == "resume"]
    if any(c.change == "name" for c in changes):  # "started as" its name now would read as a false record
        changes[0].extra["renamed"] = True
    return sorted(changes, key=lambda c: (c.at, c.change != "started", c.id))


def _node_title(db: Any, node_id: str | None) -> str:
    """A node's title as the reader may see it; one they may not see is named by nothing but that."""
    if not node_id:
        return ""
    try:
        return f"{store_tree.load_node(db, node_id).title} ({short_id(node_id)})"
    except NotFound:  # hidden from the reader (or gone): said as such, never its title
        return HIDDEN_NODE

