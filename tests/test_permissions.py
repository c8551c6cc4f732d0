"""The permission table (domain/permissions.py) is the oracle for what a push may change.

Every op of the ingest handler registry is either in the table (with a schema at the door) or
named as never pushable: an op added later without a rule fails here. Then every pushable op ×
every role (outsider, viewer, commenter, editor, owner, a removed member) × every kind of object
a record may name (their own, shared, another's private, another's run, deleted) is pushed to a
team server on both engines, over HTTP (/api/sync/push, and /api/runs/<id>/push for runs), and
the push changes exactly what the table allows: a refused push changes no table; an allowed one
changes only rows of the thing it names.

The expected outcome is worked out here from the table's columns and the roles the test gave
(never by asking the code's ``Audience``), so the test checks the rules, not a copy of them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from upstack.domain import access
from upstack.domain.permissions import NOT_PUSHABLE, PATH_OPS, PERMISSIONS, RUN_PUSH, Rule
from upstack.errors import UpstackError
from upstack.ids import new_id
from upstack.services import accounts, capture, curate, sync_door, sync_records, tree
from upstack.services.jsondump import dump_tables
from upstack.services.record_shapes import SHAPES
from upstack.services.runsync import RUN_OPS, accept_run
from upstack.store import path as store_path
from upstack.store.apply import handlers
from upstack.timeutil import now_iso
from upstack.workspace import Workspace
from webserver import serve

RANK = {"viewer": 0, "commenter": 1, "editor": 2, "owner": 3}
# The pusher's role on project P (shared); a removed member was an editor and is no more.
ROLES = {"outsider": None, "viewer": "viewer", "commenter": "commenter", "editor": "editor", "owner": "owner",
         "removed": None}
OBJECTS = ("own", "shared", "private", "run", "deleted")


def test_every_op_has_a_rule_and_a_schema_or_is_never_pushed() -> None:
    HANDLERS = handlers()  # every op, each routed to the module that applies it
    for op in HANDLERS:
        if op in RUN_OPS:
            assert op in SHAPES, f"{op} travels in a run push but has no schema"
            continue
        assert (op in PERMISSIONS) != (op in NOT_PUSHABLE), f"{op} needs a rule in domain/permissions.py"
        if op in PERMISSIONS:
            assert op in SHAPES, f"{op} can be pushed but has no schema at the door"
    assert set(PERMISSIONS) <= set(HANDLERS) and set(NOT_PUSHABLE) <= set(HANDLERS)
    assert set(sync_records.PUSHABLE) == set(PERMISSIONS)
    assert set(PATH_OPS) == set(store_path.OPS), "a person's path ops: domain/permissions.py and store/path.py"


def test_ops_that_are_never_pushed_are_refused_and_change_nothing(tmp_path: Path) -> None:
    with Workspace(home=tmp_path / "server") as ws:
        user, _ = accounts.add_user(ws, "pat")
        before = dump_tables(ws.store().db)
        for op in NOT_PUSHABLE:
            record = {"id": new_id(), "op": op, "workspace": "w", "at": now_iso(), "data": {"entry_id": new_id()}}
            with pytest.raises(UpstackError, match="cannot be pushed"):
                sync_door.accept(ws, [record], accounts.audience_for(ws, user))
        assert dump_tables(ws.store().db) == before


# -- the team ----------------------------------------------------------------------------------

@dataclass
class Thing:
    kind: str  # node, entry, run
    id: str
    author: str | None  # a ROLES key; None: the workspace owner's (alice's)
    node: str | None  # "P", "S", or an own node's id; None: unfiled / the top
    private: bool = False
    deleted: bool = False


class World:
    """A team server's store: alice owns the workspace and projects P (shared) and S (shared with
    nobody); each role holds its role on P."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        with access.acting_as(access.OWNER):
            alice, _ = accounts.add_user(ws, "alice")
            self.users = {"alice": alice}
            self.nodes = {"P": tree.add_node(ws, "project", "Shared project", why="Shared.").id,
                          "S": tree.add_node(ws, "project", "Unshared project", why="Nobody's but alice's.").id}
            for role, held in {**ROLES, "removed": "editor"}.items():
                self.users[role], _ = accounts.add_user(ws, role)
                if held:
                    accounts.share(ws, self.nodes["P"], role, held, by=None)
            accounts.unshare(ws, self.nodes["P"], "removed", by=None)

    def audience(self, who: str) -> access.Audience:
        return accounts.audience_for(self.ws, self.users[who])

    def role_on(self, who: str, node: str | None) -> str | None:
        """The oracle's role: owner of what they made, their share on P (and below), nothing on S."""
        if node is None:
            return None
        if node == "P":
            return ROLES[who]
        if node == "S":
            return None
        return "owner" if node in self.own_nodes.get(who, ()) else None

    own_nodes: dict[str, set[str]] = {}

    # -- things to name, made fresh for each case -----------------------------------------
    def node(self, owner: str | None, under: str | None, *, deleted: bool = False) -> Thing:
        parent = self.nodes.get(under or "", under)
        node_id = new_id()
        records = [self.ws.record("node.create", {
            "id": node_id, "kind": "question" if parent else "agenda", "title": f"Node {node_id[-6:]}",
            "why": "A case.", "parent_id": parent, "created_at": now_iso(),
            **({"by": self.users[owner].id} if owner else {})})]
        if deleted:
            records.append(self.ws.record("node.delete", {"node_id": node_id, "at": now_iso(), "reason": ""}))
        self.ws.store().write(records)
        if owner:
            self.own_nodes.setdefault(owner, set()).add(node_id)
        return Thing("node", node_id, owner, under, deleted=deleted)

    def entry(self, author: str | None, under: str | None, *, private: bool = False, deleted: bool = False) -> Thing:
        with access.acting_as(self.audience(author) if author else access.OWNER):
            made = capture.note(self.ws, f"Entry {new_id()[-6:]} says zebra.", private=private,
                                under=self.nodes.get(under or "", under))
            if deleted:
                curate.remove(self.ws, made.id)
        return Thing("entry", made.id, author, under, private=private, deleted=deleted)

    def run(self, under: str) -> Thing:
        """Alice's finished run under ``under``: its result entry has the run's id."""
        run_id = new_id()
        records = [_record("run.start", {"run_id": run_id, "name": "case", "node_id": self.nodes[under],
                                         "started_at": now_iso()}),
                   _record("run.end", {"run_id": run_id, "status": "finished", "ended_at": now_iso()})]
        accept_run(self.ws, run_id, records, {}, self.audience_as_alice())
        return Thing("run", run_id, None, under)

    def audience_as_alice(self) -> access.Audience:
        return accounts.audience_for(self.ws, self.users["alice"])

    def upload(self, who: str) -> dict[str, Any]:
        data = new_id().encode()
        sha = hashlib.sha256(data).hexdigest()
        sync_door.write_blob(self.ws, sha, data, self.audience(who))
        return {"id": new_id(), "sha256": sha, "filename": "f.txt", "media_type": "text/plain", "size": len(data),
                "created_at": now_iso()}


def _record(op: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": new_id(), "op": op, "workspace": "laptop", "at": now_iso(), "data": data}


# -- the oracle --------------------------------------------------------------------------------

def _holds(held: str | None, needs: str) -> bool:
    return held is not None and RANK[held] >= RANK[needs]


def allowed(world: World, rule: Rule, who: str, target: Thing | None, under: str | None) -> bool:
    """What the table says of ``who`` pushing ``rule``'s op naming ``target`` (None: a fresh id) and
    going ``under`` (a node key or id; None: the top or unfiled)."""
    if rule.names == "self":  # a person's own path: anyone signed in, under an id that names nothing
        return target is None
    if rule.names == "entry" and rule.needs == "author":  # said of a prediction or take: its author's alone
        return target is not None and target.author == who and not target.deleted
    if rule.needs in ("comment", "see") and target is not None:  # said about an entry that is there
        if target.author == who:  # their own: they may star it, and comment unless it is deleted
            return rule.needs == "see" or not target.deleted
        return not target.private and not target.deleted and _holds(
            world.role_on(who, target.node), "commenter" if rule.needs == "comment" else "viewer")
    if rule.new and target is not None:
        return False  # a taken id (their own would be "already here": no change either)
    if rule.files_under and under is not None and not _holds(world.role_on(who, under), "editor"):
        return False
    if target is None or not rule.needs:
        return True
    if rule.names == "node":
        if rule.leaves and target.node and not _holds(world.role_on(who, target.node), rule.leaves):
            return False  # taken from under a node whose owners did not decide it
        return target.kind == "node" and _holds(world.role_on(who, target.node if target.author != who else
                                                                target.id), rule.needs)
    if rule.needs == "edit":
        if target.author == who:
            return True
        return not target.private and not target.deleted and _holds(world.role_on(who, target.node), "editor")
    return target.author == who  # author: a run


# -- each case: what a push names, and the record ----------------------------------------------

def case(world: World, op: str, who: str, kind: str) -> tuple[Thing | None, str | None, dict[str, Any]]:
    """(what the record names, where it goes, the record) for ``who`` pushing ``op`` about a ``kind``."""
    rule = PERMISSIONS.get(op, RUN_PUSH)
    if rule.names == "self":
        return path_case(world, op, who, kind)
    if rule.names == "entry" and rule.needs == "author":
        return judgment_case(world, op, who, kind)
    if rule.new and rule.needs != "comment":
        # What it names is its id: a fresh one going somewhere, or one that is taken.
        fresh = {"own": (None, world.node(who, None).id if rule.names != "entry" else None),
                 "shared": (None, "P"), "private": (None, "S")}
        taken = {"run": world.run("P"), "deleted": (world.node(None, "P", deleted=True) if rule.names == "node"
                                                    else world.entry(None, "P", deleted=True))}
        target, under = fresh[kind] if kind in fresh else (taken[kind], "P")
        if rule.names == "run" and kind == "deleted":
            target = world.entry(None, "P")  # a run under an entry's id
        new = target.id if target else new_id()
        place = world.nodes.get(under or "", under)
        if rule.names == "node":
            data: dict[str, Any] = {"id": new, "kind": "question", "title": "Made by a push", "parent_id": place,
                                    "created_at": now_iso()}
        elif rule.names == "entry":
            data = {"id": new, "revision_id": new_id(), "kind": "note", "title": "Made by a push", "body": "",
                    "node_id": place, "occurred_at": now_iso(), "created_at": now_iso(),
                    "meta": {"run": new} if kind == "run" else {}}
        else:
            data = {"run_id": new, "name": "pushed", "node_id": place, "started_at": now_iso()}
        return target, under, _record(op if rule.names != "run" else "run.start", data)
    if rule.names == "node":
        target = {"own": world.node(who, None), "shared": world.node(None, "P"), "private": world.node(None, "S"),
                  "run": world.run("P"), "deleted": world.node(None, "P", deleted=True)}[kind]
        data = {"node_id": target.id, "at": now_iso(), "event_id": new_id()}
        under = None
        if op == "node.edit":
            data["title"] = "Renamed by a push"
        elif op == "node.status":
            data["status"] = "blocked"
        elif op == "node.move":
            under = world.node(who, None).id  # a node of their own: theirs to file under
            data["parent_id"] = under
        return target, under, _record(op, data)
    target = {"own": world.entry(who, None), "shared": world.entry(None, "P"),
              "private": world.entry(None, "P", private=True), "run": world.run("P"),
              "deleted": world.entry(None, "P", deleted=True)}[kind]
    if op == "entry.revise":
        data = {"entry_id": target.id, "revision_id": new_id(), "title": "Revised by a push", "body": "",
                "created_at": now_iso()}
    elif op == "entry.attach":
        data = {"entry_id": target.id, "attachments": [world.upload(who)]}
    elif op == "comment.add":  # a fresh comment's id, on the entry
        data = {"id": new_id(), "entry_id": target.id, "body": "Said by a push.", "created_at": now_iso()}
    elif op == "star.set":
        data = {"entry_id": target.id, "starred": True, "at": now_iso()}
    else:
        data = {"entry_id": target.id, "at": now_iso()}
    return target, None, _record(op, data)


JUDGMENT = {  # what a push says of a prediction or a take, as its shape at the door wants it
    "prediction.make": {"probability": 0.6}, "prediction.forecast": {"probability": 0.4},
    "prediction.resolve": {"outcome": "true", "evidence_at": "now"},
    "take.make": {"source": "a talk", "confidence": 0.6}, "take.update": {"confidence": 0.4, "reason": "read it"}}


def judgment_case(world: World, op: str, who: str, kind: str) -> tuple[Thing | None, str | None, dict[str, Any]]:
    """A change of a prediction or take (the op's family) that is ``who``'s own (unfiled), alice's in P,
    alice's private one in P, a run's result, or alice's deleted one; made already (its row there) unless
    the op makes it."""
    if kind == "run":
        target = world.run("P")
    else:
        author = who if kind == "own" else None
        entry_id, family = new_id(), op.split(".")[0]
        by = {"by": world.users[author].id} if author else {}
        records = [world.ws.record("entry.create", {
            "id": entry_id, "revision_id": new_id(), "kind": family, "title": f"A {family}", "body": "",
            "private": kind == "private", "node_id": None if kind == "own" else world.nodes["P"],
            "occurred_at": now_iso(), "created_at": now_iso(), **by})]
        if not op.endswith(".make"):
            records.append(world.ws.record(f"{family}.make", {"entry_id": entry_id, "at": now_iso(),
                                                              **JUDGMENT[f"{family}.make"], **by}))
        if kind == "deleted":
            records.append(world.ws.record("entry.delete", {"entry_id": entry_id, "at": now_iso(), **by}))
        world.ws.store().write(records)
        target = Thing("entry", entry_id, author, None if kind == "own" else "P", private=kind == "private",
                       deleted=kind == "deleted")
    data = {k: now_iso() if v == "now" else v for k, v in JUDGMENT[op].items()}
    return target, None, _record(op, {"entry_id": target.id, "at": now_iso(), **data})


def path_case(world: World, op: str, who: str, kind: str) -> tuple[Thing | None, str | None, dict[str, Any]]:
    """A record of ``who``'s own path that says it is alice's (a forged ``by``), under a fresh id
    (``own``) or the id of something else: alice's path record, her private entry, a run, a deleted entry."""
    if kind == "shared":
        theirs = world.ws.record(op, {"subject": "alice's", "at": now_iso(), "by": world.users["alice"].id})
        world.ws.store().write([theirs])
        target: Thing | None = Thing("path", theirs.id, None, None)
    else:
        target = {"own": None, "private": world.entry(None, "P", private=True), "run": world.run("P"),
                  "deleted": world.entry(None, "P", deleted=True)}[kind]
    data: dict[str, Any] = {"subject": "viewer" if op == "path.share" else "two-sum", "at": now_iso(),
                            "by": world.users["alice"].id, "minutes": 12}
    if op == "path.share":
        data["parts"] = ["ladder", "portfolio"]
    if op == "apply.stage":  # the fields its shape requires (services/record_shapes.py)
        data["stage"] = "applied"
    record = _record(op, data)
    if target is not None:
        record["id"] = target.id
    return target, None, record


def push(clients: dict[str, httpx.Client], op: str, who: str, record: dict[str, Any]) -> None:
    """Over HTTP, as a laptop's `upstack sync` (or a live run) sends it, signed in with an API token."""
    if op in PERMISSIONS:
        answer = clients[who].post("/api/sync/push", json={"records": [record]})
        assert answer.status_code == 200, answer.text  # a refused record is reported, not an error
    else:
        answer = clients[who].post(f"/api/runs/{record['data']['run_id']}/push", json={"records": [record]})
        assert answer.status_code in (200, 400, 404), answer.text  # refused as a whole: checked by what changed


def changed_rows(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> list[str]:
    rows = []
    for table in after:
        old = {json.dumps(r, sort_keys=True, default=str) for r in before[table]}
        new = {json.dumps(r, sort_keys=True, default=str) for r in after[table]}
        rows += [f"{table}: {r}" for r in old ^ new]
    return rows


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_push_changes_exactly_what_the_permission_table_allows(tmp_path: Path, db_url: str | None) -> None:
    World.own_nodes = {}
    with Workspace(home=tmp_path / "server", db=db_url) as ws, serve(tmp_path / "server", db_url, token=None) as server:
        world = World(ws)
        clients = {}
        for who in ROLES:
            token = accounts.create_token(ws, world.users[who].id, "laptop")[1]
            clients[who] = server.client(signed_in=False)
            clients[who].headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        wrong = []
        for op, who, kind in itertools.product([*PERMISSIONS, "run.push"], ROLES, OBJECTS):
            rule = PERMISSIONS.get(op, RUN_PUSH)
            with access.acting_as(access.OWNER):
                target, under, record = case(world, op, who, kind)
                expected = allowed(world, rule, who, target, under)
                before = dump_tables(ws.store().db)
            push(clients, op, who, record)
            with access.acting_as(access.OWNER):
                changes = changed_rows(before, dump_tables(ws.store().db))
            named = {record["id"], str(record["data"].get("id") or record["data"].get("entry_id")
                                       or record["data"].get("node_id") or record["data"].get("run_id"))}
            stray = [row for row in changes if not any(i in row for i in named)]
            if rule.names == "self" and changes:  # theirs, whatever it said: nobody else's path changed
                theirs = f'"person": "{world.users[who].id}"'
                stray += [row for row in changes if row.startswith("path_records") and theirs not in row]
            if bool(changes) != expected or stray:
                wrong.append(f"{op} by {who} on {kind}: expected {'a change' if expected else 'no change'}, "
                             f"got {len(changes)} changed rows" + (f", {len(stray)} of other things" if stray else ""))
        assert not wrong, "\n".join(wrong)
