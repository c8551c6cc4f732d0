"""A mentor that is a language model (issue 19): `upstack ask --llm` and `upstack mentor`.

"Frontier LLMs are (un)surprisingly good" mentors when no human one is at hand. What leaves the
machine is decided here, once, for every prompt (``may_leave``):

- only entries written in this workspace by its own person that are not private: never another
  person's entries, comments or runs pulled from a team server, and never one of this person's own
  that came back from the server (its author is set then), so nothing of a teammate's rides along;
- of an entry, its title, kind, date, what was expected and what happened, and a learning's text;
  never a run's provenance (hosts, paths, diffs), attachments or comments;
- no wellbeing data: it is not in the log's entries at all (services/wellbeing.py), and nothing here
  reads it;
- last, the capture redactor's secret patterns (capture/redact.py) run over the whole prompt.

The person sees the exact prompt first (``--show`` prints it; otherwise a confirmation unless
``--yes``). The model is reached through the ``llm`` library (any provider by its plugins, or a
local model; the model and its key are set the way ``llm`` sets them: ``llm models default``,
``llm keys set``), imported only by these commands (it takes most of a second). Its Python API
writes nothing to llm's own prompt log. The answer is filed as an entry (kind note, tag #mentor)
under the node, linked to the question it answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from upstack.domain.entry import Entry
from upstack.domain.filters import MENTOR_TAG, Filters
from upstack.domain.text import plural
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import stuck
from upstack.services import tree as tree_service
from upstack.store import queries
from upstack.timeutil import local_display, now_iso, to_iso
from upstack.timeutil import now as clock_now
from upstack.workspace import Workspace

__all__ = ["Prompt", "may_leave", "node_may_leave", "model", "draft", "question_prompt", "week_prompt",
           "send", "file_answer", "SYSTEM"]

SYSTEM = ("You are a mentor to a researcher doing empirical AI-safety research (interpretability, evals, "
          "red-teaming, oversight). Be concrete and brief. Say what you would try next and why, what you would "
          "prune, and which assumption you doubt. Being stuck is normal; a failed experiment that taught "
          "something is progress. Hold hot takes, yours included, with healthy skepticism.")
_WEEK_ASK = ("Here is my last week of research. Is this rate of progress fine? What would you prune? "
             "What is the one thing you would do next, and why?")
LAST_LEARNINGS = 3  # learnings named when none is recent
LEARNING_CHARS = 500  # of a learning's text, in a prompt
_LEARNED_FROM = re.compile(r"Learned from \[\[[^\]]*\]\]\.\s*$")


@dataclass
class Prompt:
    """What would leave the machine: the system prompt and the text, both redacted, and the entries named."""

    system: str
    text: str
    sources: list[str] = field(default_factory=list)  # the ids of the entries it names

    def shown(self) -> str:
        return f"--- system ---\n{self.system}\n--- prompt ---\n{self.text}\n"


def may_leave(entry: Entry) -> bool:
    """Whether an entry may be named in a prompt that leaves the machine (see the module's rules); the
    mentor's own answers are not sent back to it either."""
    return (not entry.private and entry.author_id is None and entry.deleted_at is None
            and MENTOR_TAG not in entry.tags)


def node_may_leave(ws: Workspace) -> Callable[[Node], bool]:
    """Whether a node may be named in a prompt: one made here (a teammate's, pulled from a team server,
    has its owner set)."""
    from upstack.store import tree as store_tree

    db = ws.store().db
    return lambda node: store_tree.node_owner(db, node.id) is None


def _redacted(ws: Workspace, system: str, text: str, sources: list[str]) -> Prompt:
    from upstack.capture.redact import Redactor

    redactor = Redactor(ws.settings.redact)
    return Prompt(redactor.text(system), redactor.text(text), sources)


def question_prompt(ws: Workspace, node_ref: str, text: str | None = None, *,
                    days: int = 14) -> tuple[str, Prompt]:
    """The prompt for being stuck under a node: ``text`` (the question as the person wrote it, from
    ``draft``), else the draft itself, with what was learned lately under the node. (node id, prompt)."""
    keep_node = node_may_leave(ws)
    if text is None:
        node, body = stuck.draft_question(ws, node_ref, days=days, keep=may_leave, keep_node=keep_node)
    else:  # the person's own text, drafted already: only the node it is about is needed
        from upstack.store import tree as store_tree

        db = ws.store().db
        node, body = store_tree.load_node(db, tree_service.resolve_node(db, node_ref)), text
    learned, lately = _learned_under(ws, node.id, days)
    if learned:
        heading = "What I learned lately" if lately else "What I learned last (nothing since)"
        body += f"\n\n## {heading}\n\n" + "\n".join(_learning_lines(learned))
    spell = next((s for s in stuck.stuck_spells(ws) if s.project.id in _chain_ids(ws, node.id)), None)
    if spell is not None and keep_node(spell.project):
        body += f"\n\n(No new learning in project \"{spell.project.title}\" for {plural(spell.days, 'day')}.)"
    return node.id, _redacted(ws, SYSTEM, body, [e.id for e in learned])


def draft(ws: Workspace, node_ref: str, *, days: int = 14) -> str:
    """The question's draft for a prompt: only what may leave is named."""
    return stuck.draft_question(ws, node_ref, days=days, keep=may_leave, keep_node=node_may_leave(ws))[1]


def _chain_ids(ws: Workspace, node_id: str) -> set[str]:
    from upstack.store import tree as store_tree

    return {n.id for n in store_tree.ancestors(ws.store().db, node_id)}


def _learned_under(ws: Workspace, node_id: str, days: int) -> tuple[list[Entry], bool]:
    """The learnings under the node (that may leave) of the last ``days``, oldest first, and True; else,
    when there are none (a stuck spell is just that), the last few before them, and False."""
    from upstack.store import tree as store_tree

    db = ws.store().db
    under = stuck.subtree({n.id: n for n in store_tree.node_rows(db)}, node_id)
    since = to_iso(clock_now() - timedelta(days=days))
    ids = queries.ids_oldest_first(db, Filters(kinds=("learning",), include_private=False))
    found = [e for e in queries.load_entries(db, ids) if may_leave(e) and e.node_id in under]
    recent = [e for e in found if e.occurred_at >= since]
    return (recent, True) if recent else (found[-LAST_LEARNINGS:], False)


def _learning_lines(learned: list[Entry]) -> list[str]:
    """A learning as a prompt names it: its day and title, then its text (without the link to what it
    was learned from, which may name an entry that stays), clipped."""
    lines = []
    for entry in learned:
        lines.append(f"- {local_display(entry.occurred_at)[:10]}: {entry.title}")
        text = _LEARNED_FROM.sub("", entry.body).strip()
        if text:
            text = " ".join(text.split())
            lines.append(f"  {text[:LEARNING_CHARS] + '...' if len(text) > LEARNING_CHARS else text}")
    return lines


def week_prompt(ws: Workspace, *, days: int = 7) -> Prompt:
    """The prompt for a review of the last ``days``: the guide's questions, what was written, by kind, with
    results' expected and happened, then what was learned (each learning's text)."""
    db = ws.store().db
    since = to_iso(clock_now() - timedelta(days=days))
    ids = queries.ids_oldest_first(db, Filters(since=since, include_private=False))
    written = [e for e in queries.load_entries(db, ids) if may_leave(e)]
    lines = [_WEEK_ASK, "", f"## What I wrote in the last {plural(days, 'day')}", ""]
    learned = [e for e in written if e.kind == "learning"]  # in a section of their own, below
    others = [e for e in written if e.kind != "learning"]
    for entry in others:
        lines.append(f"- {local_display(entry.occurred_at)} {entry.kind}: {entry.title}")
        for key in ("expected", "happened"):
            if entry.meta.get(key):
                lines.append(f"  - {key}: {entry.meta[key]}")
    if not others:
        lines.append("- (nothing written)")
    lines += ["", f"## What I learned in the last {plural(days, 'day')}", ""]
    lines += _learning_lines(learned) or ["- (no learning written down)"]
    return _redacted(ws, SYSTEM, "\n".join(lines), [e.id for e in written])


def model(name: str | None = None) -> Any:
    """The ``llm`` model ``name`` (an id or alias ``llm models`` lists), else llm's default model; BadInput
    in one line if ``llm`` or the model is missing. Looked up before anything is kept or sent."""
    try:
        import llm
    except ImportError:
        raise BadInput("the LLM mentor needs the `llm` library: pip install 'upstack[llm]'") from None
    try:
        return llm.get_model(name) if name else llm.get_model()
    except llm.UnknownModelError:
        raise BadInput(f"no model {name or '(the default)'!r}: `llm models` lists those installed, "
                       "`llm install PLUGIN` adds more") from None


def send(prompt: Prompt, found: Any) -> tuple[str, str]:
    """The answer of the model ``found`` (``model``) to ``prompt``, and the model's id."""
    import llm

    try:
        answer = found.prompt(prompt.text, system=prompt.system).text()
    except llm.NeedsKeyException as exc:
        raise BadInput(f"the model {found.model_id} needs a key: `llm keys set ...` ({exc})") from None
    except Exception as exc:  # a provider's own error (network, quota): one line, nothing kept
        said = str(exc).splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise BadInput(f"the model {found.model_id} did not answer: {said}") from None
    return str(answer), str(found.model_id)


def file_answer(ws: Workspace, answer: str, model: str, *, node_id: str | None,
                answers: str | None = None, about: str = "") -> Entry:
    """Keep the model's answer as an entry (kind note, tag #mentor) under ``node_id``, linked to the
    question entry it ``answers``."""
    if not answer.strip():
        raise BadInput(f"the model {model} answered nothing: nothing was kept")
    store = ws.store()
    title = f"Mentor ({model}) on {about}" if about else f"Mentor ({model})"
    link = f"\n\nIn answer to [[{queries.get_entry(store.db, answers).short}]]." if answers else ""
    entry_id, created = new_id(), now_iso()
    data: dict[str, Any] = {
        "id": entry_id, "revision_id": new_id(), "kind": "note", "title": title, "body": answer.strip() + link,
        "extra_tags": [MENTOR_TAG], "private": False, "node_id": node_id, "occurred_at": created,
        "created_at": created, "attachments": [], "meta": {"model": model}, **ws.writer_offset()}
    store.write([ws.record("entry.create", data)])
    return queries.get_entry(store.db, entry_id)
