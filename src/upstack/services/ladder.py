"""The ladder (`upstack ladder`): the guide's steps and the person's own, folded from their
``ladder.step`` and ``ladder.evidence`` records, with where they stand, what the log already shows
(proposals) and the upskilling trap. Learning resources are in services/resources.py.

Record shapes (each also has ``subject`` and ``at``; ``at`` orders the changes, ``when`` is when a
thing happened if the person said so):

- ``ladder.step``: subject a step's slug; ``change`` one of add (``title``, ``done_when``,
  ``learning_only``, ``before``/``after``), edit, move (``before`` or ``after`` a slug), skip
  (``reason``), done (``when``, ``note``), reopen.
- ``ladder.evidence``: subject a step's slug; ``change`` add, remove or reject; ``kind`` one of
  entry, node, run, idea, url; ``ref`` its id or the address; ``title`` as it was at link time;
  ``rule`` the proposal it came from, if any (a rejected one is never proposed again).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from upstack.domain import ladder as rules
from upstack.domain.ladder import Step
from upstack.domain.text import plural
from upstack.errors import BadInput, NotFound
from upstack.ids import id_key, short_id
from upstack.services import ladder_log
from upstack.services import practice as interview_practice
from upstack.services.ladder_log import Proposal
from upstack.store import path as store_path
from upstack.store import tree as store_tree
from upstack.timeutil import local_display, now_after, now_iso
from upstack.workspace import Workspace

__all__ = ["Evidence", "StepState", "Proposal", "Ladder", "Standing", "Change", "LADDER_OPS", "load",
           "standing", "find_step", "add_step", "skip", "move", "mark_done", "reopen", "add_evidence",
           "remove_evidence", "proposals", "accept", "reject", "history", "bar_reached", "stamp", "check_when"]

LADDER_OPS = ("ladder.step", "ladder.evidence")
_ACTIVE_STATUSES = ("open", "active", "blocked")  # a project still being worked (not parked, done, dropped)


@dataclass
class Evidence:
    kind: str
    ref: str
    title: str
    at: str
    rule: str = ""


@dataclass
class StepState:
    step: Step
    state: str = "open"           # open, done or skipped (rules.STEP_STATES)
    reason: str = ""              # why it was skipped
    when: str | None = None       # when it was done
    note: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    measured: str = ""            # interview practice: what the practice bar says

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.step), "state": self.state, "reason": self.reason, "when": self.when,
                "note": self.note, "measured": self.measured, "evidence": [asdict(e) for e in self.evidence]}


@dataclass
class Ladder:
    steps: list[StepState]
    rejected: set[tuple[str, str, str]]
    events: list[store_path.PathEvent]

    def get(self, slug: str) -> StepState:
        return next(s for s in self.steps if s.step.slug == slug)

    @property
    def slugs(self) -> list[str]:
        return [s.step.slug for s in self.steps]


@dataclass
class Standing:
    next: StepState | None
    skip_forward: list[tuple[StepState, str]]  # a later step and whether its evidence is attached or proposed
    screens: list[StepState]
    proposals: list[Proposal]
    trap: str | None
    done: int
    skipped: int
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {"next": self.next.to_dict() if self.next else None,
                "skip_forward": [{"step": s.step.slug, "title": s.step.title, "evidence": how}
                                 for s, how in self.skip_forward],
                "screens": [s.to_dict() for s in self.screens],
                "proposals": [p.to_dict() for p in self.proposals], "trap": self.trap,
                "done": self.done, "skipped": self.skipped, "total": self.total}


@dataclass(frozen=True)
class Change:
    at: str
    op: str
    subject: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- reading ------------------------------------------------------------------------------------

def bar_reached(ws: Workspace) -> bool | None:
    """Whether the reader's interview-practice bar is reached; None while it is not yet measured."""
    return interview_practice.bar_reached(ws)


def load(ws: Workspace, *, person: str | None = None, practice: bool = True) -> Ladder:
    """The reader's ladder now (or ``person``'s, for a service that checked the reader may see it)."""
    events = store_path.events(ws.store().db, LADDER_OPS, person)
    states = {step.slug: StepState(step) for step in rules.STEPS}
    order = [step.slug for step in rules.STEPS]
    rejected: set[tuple[str, str, str]] = set()
    for event in events:
        data, slug = event.data, event.subject
        if event.op == "ladder.step":
            _apply_step(states, order, slug, data)
        elif slug in states:
            _apply_evidence(states[slug], rejected, data, event.at)
    practice_state = states.get(rules.PRACTICE_STEP)
    # Another person's practice is never shown, not even as this step's state.
    if practice and practice_state is not None and person is not None:
        practice_state.measured = "not shown"
    elif practice and practice_state is not None:
        bar = interview_practice.bar_status(ws)
        reached = bar.reached
        practice_state.measured = _measured(bar.reached, bar.counted, bar.more_needed)
        if reached and practice_state.state == "open":
            practice_state.state = "done"
    return Ladder([states[slug] for slug in order], rejected, events)


def _measured(reached: bool | None, counted: int, more_needed: int) -> str:
    """What the practice bar says, for the interview-practice step: once attempts are logged but too
    few to judge, how many more, rather than the same words as for no practice log at all."""
    if reached is not None:
        return "the practice bar is reached" if reached else "below the practice bar"
    if counted == 0:
        return "not yet measured"
    return f"measuring: {plural(more_needed, 'more first attempt')} at mediums needed"


def _place(order: list[str], slug: str, before: str | None, after: str | None, screens: set[str]) -> None:
    if slug in order:
        order.remove(slug)
    if before in order:
        order.insert(order.index(str(before)), slug)
    elif after in order:
        order.insert(order.index(str(after)) + 1, slug)
    else:  # the end of the path proper, before the screens
        last = max((i for i, s in enumerate(order) if s not in screens), default=-1)
        order.insert(last + 1, slug)


def _apply_step(states: dict[str, StepState], order: list[str], slug: str, data: dict[str, Any]) -> None:
    change = data.get("change")
    screens = {s for s, st in states.items() if st.step.screen}
    if change == "add" and slug not in states:
        states[slug] = StepState(Step(slug, str(data.get("title") or slug), str(data.get("done_when") or ""),
                                      learning_only=bool(data.get("learning_only")), builtin=False))
        _place(order, slug, data.get("before"), data.get("after"), screens)
        return
    state = states.get(slug)
    if state is None:
        return
    if change == "edit":
        state.step = Step(**{**asdict(state.step), **{k: str(data[k]) for k in ("title", "done_when") if data.get(k)}})
    elif change == "move":
        _place(order, slug, data.get("before"), data.get("after"), screens)
    elif change == "skip":
        state.state, state.reason = "skipped", str(data.get("reason", ""))
    elif change == "done":
        state.state, state.when, state.note = "done", data.get("when") or data.get("at"), str(data.get("note", ""))
    elif change == "reopen":
        state.state, state.reason, state.when, state.note = "open", "", None, ""


def _apply_evidence(state: StepState, rejected: set[tuple[str, str, str]], data: dict[str, Any], at: str) -> None:
    change, kind, ref = data.get("change"), str(data.get("kind", "")), str(data.get("ref", ""))
    state.evidence = [e for e in state.evidence if (e.kind, e.ref) != (kind, ref)]
    if change == "add":
        state.evidence.append(Evidence(kind, ref, str(data.get("title", "")), at, str(data.get("rule", ""))))
    elif change == "reject":
        rejected.add((state.step.slug, kind, ref))


def find_step(ladder: Ladder, ref: str) -> StepState:
    """The step ``ref`` names (its slug or the start of it); else one line with near matches."""
    return ladder.get(rules.match_slug(ref, ladder.slugs))


# -- where you stand ----------------------------------------------------------------------------

def standing(ws: Workspace, *, person: str | None = None) -> Standing:
    """The next step and what would count as done, evidence for later steps (skip forward), the
    screens, what the log proposes, and the upskilling trap's notice if it applies."""
    ladder = load(ws, person=person)
    path = [s for s in ladder.steps if not s.step.screen]
    found = proposals(ws, ladder)
    proposed = {p.step for p in found}
    last_done = max((i for i, s in enumerate(path) if s.state == "done"), default=-1)
    open_after = [s for s in path[last_done + 1:] if s.state == "open"]
    next_step = open_after[0] if open_after else next((s for s in path if s.state == "open"), None)
    later = path[path.index(next_step) + 1:] if next_step else []
    skip_forward = [(s, "attached" if s.evidence else "proposed")
                    for s in later if s.state == "open" and (s.evidence or s.step.slug in proposed)]
    return Standing(next_step, skip_forward, [s for s in ladder.steps if s.step.screen], found,
                    _trap(ws, ladder), sum(s.state == "done" for s in ladder.steps),
                    sum(s.state == "skipped" for s in ladder.steps), len(ladder.steps))


def _trap(ws: Workspace, ladder: Ladder) -> str | None:
    weeks = ws.settings.upskilling_weeks
    learning = {s.step.slug for s in ladder.steps if s.step.learning_only}
    since: str | None = None
    for event in sorted(ladder.events + store_path.events(ws.store().db, ("resource.progress",)),
                        key=lambda e: str(e.data.get("when") or e.at)):
        change = event.data.get("change")
        if event.op == "ladder.step" and change not in ("done", "reopen") or \
                event.op == "ladder.evidence" and change != "add":
            continue
        studying = event.op == "resource.progress" or event.subject in learning
        if not studying:
            since = None
        elif since is None:
            since = str(event.data.get("when") or event.at)
    active = any(n.kind == "project" and n.status in _ACTIVE_STATUSES for n in store_tree.node_rows(ws.store().db))
    return rules.TRAP_NOTICE.format(weeks=weeks) if rules.in_trap(since, now_iso(), weeks, active) else None


# -- changing the ladder -------------------------------------------------------------------------

def stamp(ws: Workspace, ops: tuple[str, ...] = LADDER_OPS) -> str:
    """The ``at`` of a new change: now, after every change already kept (they are folded in order)."""
    kept = store_path.events(ws.store().db, ops)
    return now_after(max((e.at for e in kept), default=None))


def check_when(when: str | None) -> str | None:
    if when is not None and when > now_iso():
        raise BadInput(f"{local_display(when)} has not happened yet: say when it was done, or leave it out")
    return when


def _write(ws: Workspace, op: str, subject: str, **data: Any) -> None:
    ws.store().write([ws.record(op, {"subject": subject, "at": stamp(ws), **data})])


def add_step(ws: Workspace, title: str, *, done_when: str = "", learning_only: bool = False,
             before: str | None = None, after: str | None = None) -> StepState:
    """A step of the person's own, placed before or after another (default: the end of the path)."""
    ladder = load(ws, practice=False)
    title = title.strip()
    slug = rules.slugify(title)
    if slug in ladder.slugs:
        raise BadInput(f"there is a step {slug!r} already: name yours differently")
    if before and after:
        raise BadInput("give --before or --after, not both")
    where = {"before": find_step(ladder, before).step.slug} if before else \
        {"after": find_step(ladder, after).step.slug} if after else {}
    _write(ws, "ladder.step", slug, change="add", title=title, done_when=done_when.strip(),
           learning_only=learning_only, **where)
    return load(ws, practice=False).get(slug)


def skip(ws: Workspace, ref: str, reason: str) -> StepState:
    """Skip a step, saying why (skipping forward is what the guide advises)."""
    state = find_step(load(ws, practice=False), ref)
    if not reason.strip():
        raise BadInput(f"say why you skip {state.step.slug}: --why \"...\"")
    _write(ws, "ladder.step", state.step.slug, change="skip", reason=reason.strip())
    return load(ws).get(state.step.slug)


def move(ws: Workspace, ref: str, *, before: str | None = None, after: str | None = None) -> list[StepState]:
    ladder = load(ws, practice=False)
    state = find_step(ladder, ref)
    if bool(before) == bool(after):
        raise BadInput("give one of --before STEP or --after STEP")
    other = find_step(ladder, str(before or after)).step.slug
    if other == state.step.slug:
        raise BadInput(f"cannot move {other} next to itself")
    _write(ws, "ladder.step", state.step.slug, change="move", **({"before": other} if before else {"after": other}))
    return load(ws).steps


def mark_done(ws: Workspace, ref: str, *, when: str | None = None, note: str = "") -> StepState:
    state = find_step(load(ws, practice=False), ref)
    _write(ws, "ladder.step", state.step.slug, change="done", when=check_when(when) or now_iso(), note=note.strip())
    return load(ws).get(state.step.slug)


def reopen(ws: Workspace, ref: str) -> StepState:
    state = find_step(load(ws, practice=False), ref)
    if state.state == "open":
        raise BadInput(f"{state.step.slug} is open already")
    _write(ws, "ladder.step", state.step.slug, change="reopen")
    return load(ws).get(state.step.slug)


# -- evidence -------------------------------------------------------------------------------------

def add_evidence(ws: Workspace, step_ref: str, ref: str, *, rule: str = "") -> StepState:
    """Link evidence (an entry, node, run or idea you can see, or a web address) to a step."""
    state = find_step(load(ws, practice=False), step_ref)
    kind, target, title = ladder_log.target(ws, ref)
    if kind not in state.step.counts:
        raise BadInput(f"{'a ' + kind if kind != 'idea' else 'an idea'} does not count for {state.step.slug}: "
                       f"give {', '.join(state.step.counts)}")
    if any((e.kind, e.ref) == (kind, target) for e in state.evidence):
        raise BadInput(f"{short_id(target) if kind != 'url' else target} is evidence for {state.step.slug} already")
    _write(ws, "ladder.evidence", state.step.slug, change="add", kind=kind, ref=target, title=title,
           **({"rule": rule} if rule else {}))
    return load(ws).get(state.step.slug)


def remove_evidence(ws: Workspace, step_ref: str, ref: str) -> StepState:
    state = find_step(load(ws, practice=False), step_ref)
    text = ref.strip()
    # An id as printed (its short form is a prefix of id_key, not of the id) or whole; an address whole.
    held = [e for e in state.evidence
            if e.ref == text or e.kind != "url" and len(text) >= 4
            and (id_key(e.ref).startswith(text.lower()) or e.ref.lower() == text.lower())]
    if len(held) != 1:
        raise NotFound(f"{ref!r} is not evidence for {state.step.slug}" if not held else
                       f"{ref!r} matches more than one piece of evidence for {state.step.slug}")
    _write(ws, "ladder.evidence", state.step.slug, change="remove", kind=held[0].kind, ref=held[0].ref)
    return load(ws).get(state.step.slug)


# -- proposals ------------------------------------------------------------------------------------

def proposals(ws: Workspace, ladder: Ladder | None = None) -> list[Proposal]:
    """Evidence the log already holds for steps still open, neither linked nor rejected
    (the rules: services/ladder_log.gather)."""
    ladder = ladder or load(ws, practice=False)
    held = {(s.step.slug, e.kind, e.ref) for s in ladder.steps for e in s.evidence}
    return ladder_log.gather(ws, {s.step.slug for s in ladder.steps if s.state == "open"}, held | ladder.rejected)


def _find_proposal(ws: Workspace, ref: str) -> Proposal:
    key = ref.strip().lower()
    matches = [p for p in proposals(ws) if p.id.startswith(key)] if key else []
    if len(matches) != 1:
        raise NotFound(f"no proposal {ref!r} (see `upstack ladder proposals`)" if not matches
                       else f"proposal {ref!r} is ambiguous: type more of its id")
    return matches[0]


def accept(ws: Workspace, ref: str) -> StepState:
    """The proposal becomes evidence for its step (checked again, as any evidence is)."""
    found = _find_proposal(ws, ref)
    return add_evidence(ws, found.step, found.ref, rule=found.why)


def reject(ws: Workspace, ref: str) -> Proposal:
    """The proposal is set aside for good: the same evidence is never proposed for that step again."""
    found = _find_proposal(ws, ref)
    _write(ws, "ladder.evidence", found.step, change="reject", kind=found.kind, ref=found.ref, title=found.title)
    return found


# -- history ---------------------------------------------------------------------------------------

def _describe(event: store_path.PathEvent) -> str:
    data, change = event.data, event.data.get("change", "")
    if event.op == "ladder.evidence":
        what = data.get("ref") if data.get("kind") == "url" else f"{data.get('kind')} {short_id(str(data.get('ref')))}"
        title = f" ({data['title']})" if data.get("title") and data.get("kind") != "url" else ""
        verb = {"add": "evidence added" + (" (a proposal accepted)" if data.get("rule") else ""),
                "remove": "evidence removed", "reject": "proposal rejected"}.get(change, change)
        return f"{verb}: {what}{title}"
    if event.op == "resource.progress":
        facts = [str(data.get("state", "")), str(data.get("position") or ""),
                 f"{data['minutes']} min" if data.get("minutes") else ""]
        return "progress: " + ", ".join(f for f in facts if f)
    if event.op == "resource.set":
        fields = ", ".join(f"{k} {data[k]}" for k in ("title", "url", "step") if data.get(k))
        return f"resource {change}" + (f": {fields}" if fields else "")
    if change == "add":
        return f"step added: {data.get('title')}"
    if change == "skip":
        return f"skipped: {data.get('reason')}"
    if change == "done":
        return "done" + (f" ({local_display(data['when'])})" if data.get("when") else "") + \
            (f": {data['note']}" if data.get("note") else "")
    if change == "move":
        return f"moved {'before ' + str(data['before']) if data.get('before') else 'after ' + str(data.get('after'))}"
    return str(change)


def history(ws: Workspace, ref: str | None = None) -> list[Change]:
    """Every change to the ladder and the learning resources (or to one step or resource), oldest first."""
    ladder = load(ws, practice=False)
    kept = sorted(ladder.events + store_path.events(ws.store().db, ("resource.set", "resource.progress")),
                  key=lambda e: (e.at, e.id))
    names = list(dict.fromkeys([*ladder.slugs, *(r.slug for r in rules.RESOURCES), *(e.subject for e in kept)]))
    name = rules.match_slug(ref, names, what="step or resource") if ref else None
    return [Change(e.at, e.op, e.subject, _describe(e)) for e in kept if name is None or e.subject == name]
