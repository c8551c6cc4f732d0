"""What the log holds for the ladder: evidence named by a person (checked to exist and be theirs to
see when linked), and evidence upstack proposes from what it already sees (services/ladder.py
folds, accepts and rejects them)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from typing import Any

from upstack.domain import ladder as rules
from upstack.errors import Ambiguous, BadInput, NotFound
from upstack.services import runs
from upstack.store import ladder as store_ladder
from upstack.store import queries
from upstack.store import tree as store_tree
from upstack.workspace import Workspace

__all__ = ["Proposal", "target", "gather"]

_PAPER_TAGS = ("paper", "arxiv")
_URL = re.compile(r"https?://[^\s<>()\[\]\"']+")


@dataclass(frozen=True)
class Proposal:
    id: str
    step: str
    kind: str
    ref: str
    title: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def target(ws: Workspace, ref: str) -> tuple[str, str, str]:
    """(kind, full id or address, title) of evidence the reader may see, checked now: an entry,
    node, run or idea (an id, its start, `last` or @title), or a web address."""
    text = ref.strip()
    if "://" in text or text.lower().startswith(("http:", "https:", "www.")):
        url = rules.check_url(text)
        return "url", url, url
    db = ws.store().db
    try:
        table, found = queries.resolve_among(db, text, {"entries": "entry", "nodes": "node"})
    except NotFound:
        try:
            run_id = queries.resolve(db, text, table="runs", what="run")
        except (NotFound, BadInput):
            raise NotFound(f"no entry, node, run or idea with id {ref!r} that you can see "
                           "(or give a web address starting with https://)") from None
        run = runs.get_run(ws, run_id)  # NotFound unless the reader may see it
        return "run", run.id, run.name
    if table == "nodes":
        node = store_tree.load_node(db, found)
        if node.deleted_at:
            raise NotFound(f"node {ref!r} was deleted")
        return "node", node.id, node.title
    entry = queries.get_entry(db, found)
    if entry.deleted_at:
        raise NotFound(f"entry {ref!r} was deleted")
    if _is_run(ws, entry.id):  # a run's result entry has the run's id
        run = runs.get_run(ws, entry.id)
        return "run", run.id, run.name
    return ("idea" if entry.kind == "idea" else "entry"), entry.id, entry.title


def _is_run(ws: Workspace, entry_id: str) -> bool:
    try:
        queries.resolve(ws.store().db, entry_id, table="runs", what="run")
    except (NotFound, Ambiguous, BadInput):
        return False
    return True


def _proposal(step: str, kind: str, ref: str, title: str, why: str) -> Proposal:
    key = hashlib.sha1(f"{step}|{kind}|{ref}".encode()).hexdigest()[:8]
    return Proposal(key, step, kind, ref, title, why)


def gather(ws: Workspace, open_steps: set[str], passed: set[tuple[str, str, str]]) -> list[Proposal]:
    """Evidence the log already holds for steps still open, leaving out ``passed`` ((step, kind,
    ref) linked or rejected already). Three rules:

    - a project marked done, with a result entry and a repository link under it, proposes the
      project for "open-problem" and the repository for "write-up";
    - a finished run proposes itself for the first implementing step still open;
    - an entry tagged #paper or #arxiv proposes itself for the first implementing step still open.

    Runs and papers: the newest one not yet linked or rejected, one each.
    """
    db = ws.store().db
    found: list[Proposal] = []

    def offer(step: str, kind: str, ref: str, title: str, why: str) -> bool:
        key = (step, kind, ref)
        if step not in open_steps or key in passed or any((p.step, p.kind, p.ref) == key for p in found):
            return False
        found.append(_proposal(step, kind, ref, title, why))
        return True

    done = [n for n in store_tree.node_rows(db) if n.kind == "project" and n.status == "done"][-store_ladder.CAP:]
    under: dict[str, list[dict[str, Any]]] = {}
    for row in store_ladder.entries_under(db, [n.id for n in done]):
        under.setdefault(row["node_id"], []).append(row)
    for node in done:
        rows = under.get(node.id, [])
        links = [u.rstrip(".,;:") for r in rows for u in _URL.findall(f"{r['title'] or ''} {r['body'] or ''}")]
        repos = [u for u in links if rules.is_repository_url(u)]
        if any(r["kind"] == "result" for r in rows) and repos:
            offer("open-problem", "node", node.id, node.title,
                  f"project {node.title!r} is done, with a result and a repository")
            offer("write-up", "url", repos[0], repos[0], f"the repository of project {node.title!r}")
    implementing = next((s for s in rules.IMPLEMENTING if s in open_steps), None)
    if implementing:
        for run in store_ladder.finished_runs(db):
            if offer(implementing, "run", run["id"], run["name"], f"run {run['name']} finished"):
                break
        for entry in store_ladder.tagged_entries(db, _PAPER_TAGS):
            if offer(implementing, "entry", entry["id"], entry["title"], "an entry tagged #paper or #arxiv"):
                break
    return found
