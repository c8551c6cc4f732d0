"""Predictions and calibration (issue 19): say how sure you are before a result, and see whether your
expectations are getting better.

A prediction is an entry of kind "prediction" (the claim its title, written resolution criteria its
body) with a row saying what it is about (a node, an entry, an idea or a run) and a resolve-by day,
and its events: the first forecast, every update (each kept, with its reason) and every resolution
(true, false or annulled, with the evidence that settled it; resolving again is a correction with a
reason, the earlier one kept). Scoring follows domain/calibration.py: the last forecast made before
the evidence existed, by its real time (never a back-dated ``--at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from upstack.domain import calibration as rule
from upstack.domain.access import require_file_under
from upstack.domain.entry import Entry
from upstack.domain.text import parse_note_text
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.services import tree as tree_service
from upstack.store import predictions as store
from upstack.store import queries
from upstack.timeutil import now_after, now_iso, parse_day, today_local
from upstack.workspace import Workspace

__all__ = ["Prediction", "OUTCOMES", "make", "update", "resolve", "get", "listing", "calibration", "Report", "mine"]

OUTCOMES = ("true", "false", "annulled")


@dataclass
class Prediction:
    entry: Entry
    row: dict[str, Any]
    forecasts: list[rule.Forecast]
    resolutions: list[dict[str, Any]]  # every one, oldest first: the last is the one that stands

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def probability(self) -> float:
        return self.forecasts[-1].probability

    @property
    def resolution(self) -> dict[str, Any] | None:
        return self.resolutions[-1] if self.resolutions else None

    @property
    def state(self) -> str:
        return "open" if self.resolution is None else str(self.resolution["outcome"])

    @property
    def overdue(self) -> bool:
        return self.state == "open" and bool(self.row.get("resolve_by")) and \
            str(self.row["resolve_by"]) < today_local().isoformat()

    def outcome(self) -> rule.Outcome | None:
        found = self.resolution
        if found is None:
            return None
        came_true = {"true": True, "false": False}.get(str(found["outcome"]))
        return rule.Outcome(came_true, str(found["evidence_at"] or found["at"]), found["value"])

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.entry.id, "short": self.entry.short, "claim": self.entry.title,
                "criteria": self.entry.body, "node_id": self.entry.node_id, "private": self.entry.private,
                "about": {"kind": self.row["target_kind"], "id": self.row["target_id"]} if self.row["target_kind"]
                else None, "resolve_by": self.row["resolve_by"], "probability": self.probability,
                "state": self.state, "overdue": self.overdue, "made_at": self.entry.created_at,
                "forecasts": [{"at": f.at, "probability": f.probability, "reason": f.reason} for f in self.forecasts],
                "resolutions": [{k: r[k] for k in ("at", "outcome", "value", "evidence_id", "evidence_at", "reason")}
                                for r in self.resolutions]}


def _target(ws: Workspace, ref: str) -> tuple[str, str, str | None]:
    """(kind, id, the node it is filed under) of what a prediction is about: an entry (an idea, a result, a
    question), a run, else a node."""
    from upstack.errors import NotFound
    from upstack.store import runs as store_runs
    from upstack.store.health import has_run

    db = ws.store().db
    try:
        entry = queries.get_entry(db, ref)
    except NotFound:
        try:  # a run still running has no result entry yet
            run_id = queries.resolve(db, ref, table="runs", what="run")
        except NotFound:
            node_id = tree_service.resolve_node(db, ref)  # a node's, else NotFound naming it
            return "node", node_id, node_id
        return "run", run_id, store_runs.load_run(db, run_id, details=False).node_id
    kind = "run" if has_run(db, entry.id) else ("idea" if entry.kind == "idea" else "entry")
    return kind, entry.id, entry.node_id


def make(ws: Workspace, claim: str, probability: str | float, *, on: str | None = None, under: str | None = None,
         resolve_by: str | None = None, criteria: str = "", private: bool = False,
         reason: str = "") -> Prediction:
    """A prediction made now: ``claim`` (its first line the title), the chance it comes true, what it is
    ``on`` (a node, an entry, a run; filed under that's node unless ``under``), a resolve-by day, and
    the criteria it is resolved by."""
    ws.check_writable()
    p = rule.parse_probability(probability)
    parsed = parse_note_text(claim)
    if not parsed.title.strip():
        raise BadInput("the prediction's claim is empty")
    by = parse_day(resolve_by, what="resolve-by day", prefer="future") if resolve_by else None
    store_ws = ws.store()
    target_kind, target_id, node_id = _target(ws, on) if on else (None, None, None)
    if under:
        node_id = tree_service.resolve_node(store_ws.db, under)
    require_file_under(node_id)  # filing rights where it lands, as for a note
    body = "\n\n".join(part for part in (parsed.body, criteria.strip() and f"Resolved by: {criteria.strip()}")
                       if part)
    entry_id, created = new_id(), now_iso()
    store_ws.write([
        ws.record("entry.create", {"id": entry_id, "revision_id": new_id(), "kind": "prediction",
                                   "title": parsed.title, "body": body, "extra_tags": [], "private": private,
                                   "node_id": node_id, "occurred_at": created, "created_at": created,
                                   "attachments": [], **ws.writer_offset()}),
        ws.record("prediction.make", {"entry_id": entry_id, "at": created, "probability": p, "reason": reason,
                                      "target_kind": target_kind, "target_id": target_id, "resolve_by": by})])
    return get(ws, entry_id)


def _own(ws: Workspace, ref: str) -> Prediction:
    """A prediction the reader made: only its maker updates or resolves it (it is their calibration)."""
    from upstack.errors import Forbidden

    found = get(ws, ref)
    if not mine(ws, found.entry):
        raise Forbidden(f"prediction {found.entry.short} is someone else's: only its maker updates or resolves it")
    return found


def update(ws: Workspace, ref: str, probability: str | float, *, reason: str = "") -> Prediction:
    """A new forecast, kept beside the earlier ones (the score uses the last one made before the evidence)."""
    found = _own(ws, ref)
    p = rule.parse_probability(probability)
    if found.state != "open":
        raise BadInput(f"prediction {found.entry.short} is resolved ({found.state}): a forecast now would know "
                       "the answer")
    store_ws = ws.store()
    store_ws.write([ws.record("prediction.forecast", {"entry_id": found.id, "probability": p, "reason": reason,
                                                      "at": now_after(found.forecasts[-1].at)})])
    return get(ws, found.id)


def resolve(ws: Workspace, ref: str, outcome: str, *, evidence: str | None = None, value: float | None = None,
            reason: str = "") -> Prediction:
    """Resolve true, false or annulled (ambiguous: left out of scores), with the entry or run that settled
    it; resolving again is a correction, and needs a reason."""
    found = _own(ws, ref)
    if outcome not in OUTCOMES:
        raise BadInput(f"a prediction resolves {', '.join(OUTCOMES)}, not {outcome!r}")
    if found.resolution is not None and not reason.strip():
        raise BadInput(f"prediction {found.entry.short} is resolved already ({found.state}): resolving it again "
                       "is a correction, give its reason with --why")
    db = ws.store().db
    evidence_id, evidence_at = None, None
    if evidence:
        evidence_id, evidence_at = _evidence(db, evidence)
    at = now_after(max([f.at for f in found.forecasts] + [str(r["at"]) for r in found.resolutions]))
    ws.store().write([ws.record("prediction.resolve", {
        "entry_id": found.id, "outcome": outcome, "value": value, "evidence_id": evidence_id,
        "evidence_at": evidence_at or at, "reason": reason, "at": at})])
    return get(ws, found.id)


def _evidence(db: Any, ref: str) -> tuple[str, str]:
    """The entry or run that settles a prediction, and when it existed: a result's creation (never its
    back-dated time), a run's end."""
    from upstack.errors import NotFound
    from upstack.store import runs as store_runs
    from upstack.store.health import has_run

    try:
        entry = queries.get_entry(db, ref)
    except NotFound:
        try:  # a run still running has no result entry yet
            queries.resolve(db, ref, table="runs", what="run")
        except NotFound:
            raise NotFound(f"no result entry or run {ref!r} to settle it") from None
        raise BadInput(f"run {ref} has not ended: its result is not known yet") from None
    if entry.kind == "prediction":
        raise BadInput(f"entry {entry.short} is a prediction: the evidence is a result entry or a run")
    if has_run(db, entry.id):
        run = store_runs.load_run(db, entry.id, details=False)
        if not run.ended_at:
            raise BadInput(f"run {entry.short} has not ended: its result is not known yet")
        return entry.id, str(run.ended_at)
    return entry.id, entry.created_at


def get(ws: Workspace, ref: str) -> Prediction:
    db = ws.store().db
    entry_id = queries.resolve(db, ref, what="prediction")
    found = _load(ws, [entry_id])
    if not found:
        raise BadInput(f"entry {ref!r} is not a prediction (make one with `upstack predict add`)")
    return found[0]


def _load(ws: Workspace, entry_ids: list[str] | None = None) -> list[Prediction]:
    db = ws.store().db
    rows = store.rows(db, entry_ids)
    ids = [str(r["entry_id"]) for r in rows]
    entries = {e.id: e for e in queries.load_entries(db, ids)}
    events = store.events(db, ids)
    found = []
    for row in rows:
        happened = events[str(row["entry_id"])]
        forecasts = [rule.Forecast(str(e["at"]), float(e["probability"]), str(e["reason"] or ""))
                     for e in happened if e["kind"] == "forecast" and e["probability"] is not None]
        if forecasts and row["entry_id"] in entries:
            found.append(Prediction(entries[row["entry_id"]], row, forecasts,
                                    [e for e in happened if e["kind"] == "resolve"]))
    return found


def listing(ws: Workspace, *, state: str | None = None) -> list[Prediction]:
    """The predictions the reader may see, oldest first (only open, resolved or overdue ones if asked)."""
    found = _load(ws)
    if state == "open":
        return [p for p in found if p.state == "open"]
    if state == "resolved":
        return [p for p in found if p.state != "open"]
    if state == "overdue":
        return [p for p in found if p.overdue]
    return found


@dataclass
class Report:
    summary: rule.Summary
    bins: list[rule.Bin]
    surprises: list[tuple[Prediction, rule.Scored]]
    open: int
    by_month: dict[str, rule.Summary] = field(default_factory=dict)
    rule_text: str = rule.SCORING_RULE


def calibration(ws: Workspace, *, own: bool = True) -> Report:
    """How well the reader's forecasts match what happened: scores, reliability, the confident misses
    (only their own predictions: a calibration is a person's)."""
    found = [p for p in _load(ws) if not own or mine(ws, p.entry)]
    scored: list[tuple[Prediction, rule.Scored]] = []
    made_after = annulled = 0
    for prediction in found:
        outcome = prediction.outcome()
        if outcome is None:
            continue
        if outcome.came_true is None:
            annulled += 1
            continue
        result = rule.score(prediction.id, prediction.forecasts, outcome)
        if result is None:
            made_after += 1
        else:
            scored.append((prediction, result))
    plain = [s for _, s in scored]
    by_month: dict[str, list[rule.Scored]] = {}
    for item in plain:
        by_month.setdefault(item.evidence_at[:7], []).append(item)
    worst = {s.prediction_id for s in rule.surprises(plain)}
    misses = sorted(((p, s) for p, s in scored if p.id in worst), key=lambda ps: (-ps[1].surprise, ps[0].id))
    return Report(rule.summary(plain, made_after=made_after, annulled=annulled), rule.reliability(plain), misses,
                  sum(1 for p in found if p.state == "open"),
                  {month: rule.summary(items) for month, items in sorted(by_month.items())})


def mine(ws: Workspace, entry: Entry) -> bool:
    """Whether the reader made this prediction (a calibration, a reminder, is the reader's own)."""
    return queries.is_own(ws.store().db, entry.author_id)

