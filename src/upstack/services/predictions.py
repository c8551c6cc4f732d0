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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from upstack.domain import calibration as rule
from upstack.domain.access import require_file_under
from upstack.domain.entry import Entry
from upstack.domain.text import parse_note_text
from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.store import predictions as store
from upstack.store import queries
from upstack.store.tree import node_rows
from upstack.timeutil import now_after, now_iso, parse_day, today_local
from upstack.workspace import Workspace

__all__ = ["Prediction", "OUTCOMES", "make", "update", "resolve", "get", "listing", "calibration", "Report", "mine",
           "numeric_claim", "run_predictions", "SPEC_KEYS"]

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

    @property
    def numeric(self) -> rule.Numeric | None:
        """What it says of a run's metric, if it is numeric."""
        row = self.row
        if not row.get("metric"):
            return None
        return rule.Numeric(str(row["metric"]), str(row["aggregate"] or "final"), row["comparison"],
                            row["threshold"], row["low"], row["high"], row["level"])

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
                "numeric": None if self.numeric is None else {
                    k: getattr(self.numeric, k) for k in ("metric", "aggregate", "comparison", "threshold", "low",
                                                          "high", "level")},
                "forecasts": [{"at": f.at, "probability": f.probability, "reason": f.reason} for f in self.forecasts],
                "resolutions": [{k: r[k] for k in ("at", "outcome", "value", "evidence_id", "evidence_at", "reason")}
                                for r in self.resolutions]}


def _node(db: Any, ref: str) -> str:
    """A node's id from its id or prefix (the tree's service is imported only when one is named)."""
    from upstack.services.tree import resolve_node

    return resolve_node(db, ref)


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
            node_id = _node(db, ref)  # a node's, else NotFound naming it
            return "node", node_id, node_id
        return "run", run_id, store_runs.load_run(db, run_id, details=False).node_id
    kind = "run" if has_run(db, entry.id) else ("idea" if entry.kind == "idea" else "entry")
    return kind, entry.id, entry.node_id


def _level(value: Any) -> float | None:
    if value is None or isinstance(value, int | float) and not isinstance(value, bool) and not 0 < value < 1:
        return value  # type: ignore[no-any-return]  # parse_interval names a level out of range
    text = str(value).strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise BadInput(f"{text[:40]!r} is not a level: give one like 0.8 or 80%") from None


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadInput(f"{what} is a number, not {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{what} is a number, not {str(value)[:40]!r}") from None


def numeric_claim(metric: str, *, aggregate: str = "final", below: Any = None, above: Any = None,
                  interval: Any = None, level: Any = None, probability: Any = None) -> tuple[rule.Numeric, float]:
    """A numeric prediction checked whole, and its probability: the one given for a comparison ("loss
    below 0.12" at 70%), else the interval's level (the claim is then that the value lands in it)."""
    ends = None
    if interval is not None:
        if isinstance(interval, str):
            ends = rule.parse_range(interval)
        elif isinstance(interval, list | tuple) and len(interval) == 2 and None not in interval:
            low, high = (_number(end, "an interval's end") for end in interval)
            ends = (float(low or 0), float(high or 0))
        else:
            raise BadInput(f"an interval is two numbers, low then high, not {str(interval)[:40]!r}")
    claim = rule.numeric(metric, aggregate, below=_number(below, "a threshold"), above=_number(above, "a threshold"),
                         interval=ends, level=_level(level))
    if claim.comparison is not None and probability is None:
        raise BadInput(f"how sure are you that {claim.describe()}? give a probability, e.g. 70%")
    chance = rule.parse_probability(probability if probability is not None else claim.level or rule.DEFAULT_LEVEL)
    return claim, chance


def _numeric_row(claim: rule.Numeric | None) -> dict[str, Any]:
    if claim is None:
        return {}
    return {"metric": claim.metric, "aggregate": claim.aggregate, "comparison": claim.comparison,
            "threshold": claim.threshold, "low": claim.low, "high": claim.high, "level": claim.level}


def _resolve_day(when: str) -> str:
    """The day a prediction should be known by: today or later (a day gone by would make it overdue as made)."""
    day = parse_day(when, what="resolve-by day", prefer="future")
    if day < today_local().isoformat():
        raise BadInput(f"the resolve-by day {day} has passed: give today or a day to come ('in 2 weeks')")
    return day


SPEC_KEYS = ("metric", "aggregate", "below", "above", "interval", "level", "probability", "claim", "criteria", "by")


def run_predictions(spec: Any, run_id: str, at: str) -> list[dict[str, Any]]:
    """``upstack.run(..., predict=...)``: the ``run.predict`` records' data for one prediction (a dict)
    or several (a list of dicts), each checked whole before the run starts."""
    specs = [spec] if isinstance(spec, dict) else list(spec) if isinstance(spec, list | tuple) else None
    if specs is None or not all(isinstance(one, dict) for one in specs):
        raise BadInput("predict= takes a dict such as {'metric': 'loss', 'below': 0.12, 'probability': 0.7}, "
                       "or a list of them")
    found = []
    for one in specs:
        unknown = sorted(str(k) for k in one if k not in SPEC_KEYS)
        if unknown:
            raise BadInput(f"predict= does not take {unknown[0]!r}: it takes {', '.join(SPEC_KEYS)}")
        claim, chance = numeric_claim(one.get("metric", ""), aggregate=one.get("aggregate", "final"),
                                      below=one.get("below"), above=one.get("above"), interval=one.get("interval"),
                                      level=one.get("level"), probability=one.get("probability"))
        text = str(one.get("claim") or "").strip() or claim.describe(level=False)
        found.append({"run_id": run_id, "entry_id": new_id(), "at": at, "claim": parse_note_text(text).title,
                      "criteria": str(one.get("criteria") or ""), "probability": chance,
                      **{k: v for k, v in _numeric_row(claim).items() if v is not None},
                      **({"resolve_by": _resolve_day(str(one["by"]))}
                         if one.get("by") else {})})
    return found


def make(ws: Workspace, claim: str, probability: str | float | None, *, on: str | None = None,
         under: str | None = None, resolve_by: str | None = None, criteria: str = "", private: bool = False,
         reason: str = "", numeric: rule.Numeric | None = None) -> Prediction:
    """A prediction made now: ``claim`` (its first line the title), the chance it comes true, what it is
    ``on`` (a node, an entry, a run; filed under that's node unless ``under``), a resolve-by day, and
    the criteria it is resolved by. A ``numeric`` one (``numeric_claim``) about a run, or a node's next
    run, resolves itself from the run's metric when the run finishes."""
    ws.check_writable()
    if probability is None:
        raise BadInput("how sure are you? give a probability, e.g. -p 70%")
    p = rule.parse_probability(probability)
    parsed = parse_note_text(claim.strip() or (numeric.describe(level=False) if numeric else ""))
    if not parsed.title.strip():
        raise BadInput("the prediction's claim is empty")
    by = _resolve_day(resolve_by) if resolve_by else None
    store_ws = ws.store()
    target_kind, target_id, node_id = _target(ws, on) if on else (None, None, None)
    if numeric is not None and target_kind not in ("run", "node"):
        raise BadInput("a prediction about a metric is --on a run, or on a node (its next run to finish)")
    if under:
        node_id = _node(store_ws.db, under)
    require_file_under(node_id)  # filing rights where it lands, as for a note
    body = "\n\n".join(part for part in (parsed.body, criteria.strip() and f"Criteria: {criteria.strip()}")
                       if part)
    entry_id, created = new_id(), now_iso()
    store_ws.write([
        ws.record("entry.create", {"id": entry_id, "revision_id": new_id(), "kind": "prediction",
                                   "title": parsed.title, "body": body, "extra_tags": [], "private": private,
                                   "node_id": node_id, "occurred_at": created, "created_at": created,
                                   "attachments": [], **ws.writer_offset()}),
        ws.record("prediction.make", {"entry_id": entry_id, "at": created, "probability": p, "reason": reason,
                                      "target_kind": target_kind, "target_id": target_id, "resolve_by": by,
                                      **_numeric_row(numeric)})])
    return get(ws, entry_id)


def _own(ws: Workspace, ref: str) -> Prediction:
    """A prediction the reader made: only its maker updates or resolves it (it is their calibration)."""
    from upstack.errors import Forbidden

    db = ws.store().db
    shown = queries.load_entries(db, [queries.resolve(db, ref, what="prediction")])  # as the reader may see it
    if shown and shown[0].kind == "prediction" and not mine(ws, shown[0]):  # said before whether its forecasts
        raise Forbidden(f"prediction {shown[0].short} is someone else's: only its maker updates or resolves it")
    return get(ws, ref)  # show to the reader (no anchoring), so a non-maker hears the same either way


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
    found = _load(ws, [entry_id], full=True)
    shown = [] if found else queries.load_entries(db, [entry_id])  # as the reader may see it
    if shown and shown[0].kind == "prediction":
        raise BadInput(f"prediction {ref} shows its forecasts once you have made yours on the same question "
                       "(no anchoring): `upstack predict add ... --on` it first")
    if not found:
        raise BadInput(f"entry {ref!r} is not a prediction (make one with `upstack predict add`)")
    return found[0]


def _load(ws: Workspace, entry_ids: list[str] | None = None, *, full: bool = False,
          resolved: bool | None = None, about: str | None = None, runs_under: bool = False) -> list[Prediction]:
    """The predictions the reader may see; their entries as the prediction rows carry them (no tags or
    files: a listing and a score need none), or ``full`` as `upstack show` loads them."""
    db = ws.store().db
    rows = store.rows(db, entry_ids, resolved=resolved, about=about, runs_under=runs_under)
    ids = [str(r["entry_id"]) for r in rows]
    entries = {e.id: e for e in queries.load_entries(db, ids)} if full else \
        {str(r["entry_id"]): _entry(r) for r in rows}
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


def _entry(row: dict[str, Any]) -> Entry:
    return Entry(id=str(row["entry_id"]), kind=str(row["kind"]), title=str(row["title"]), body=str(row["body"]),
                 tags=[], project=None, node_id=row["node_id"], private=bool(row["private"]), starred=False,
                 occurred_at=str(row["occurred_at"]), created_at=str(row["entry_created_at"]),
                 updated_at=str(row["updated_at"]), deleted_at=None, purged_at=None,
                 revision_id=str(row["revision_id"]), author_id=row["author_id"])


def listing(ws: Workspace, *, state: str | None = None, about: str | None = None,
            runs_under: bool = False) -> list[Prediction]:
    """The predictions the reader may see, oldest first (only open, resolved or overdue ones if asked:
    the rows say which, so only those are read; only those ``about`` a node, entry or run, and with
    ``runs_under``, those the runs filed under that node made)."""
    found = _load(ws, resolved={"open": False, "overdue": False, "resolved": True}.get(state or ""), about=about,
                  runs_under=runs_under)
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
    by_project: dict[str, rule.Summary] = field(default_factory=dict)
    by_kind: dict[str, rule.Summary] = field(default_factory=dict)
    coverage: list[rule.Coverage] = field(default_factory=list)
    rule_text: str = rule.SCORING_RULE

    def to_dict(self) -> dict[str, Any]:
        def scores(found: rule.Summary) -> dict[str, Any]:
            return {"n": found.n, "brier": found.brier, "log_score": found.log_score, "came_true": found.came_true}

        summary = self.summary
        return {**scores(summary), "made_after": summary.made_after, "annulled": summary.annulled,
                "open": self.open, "rule": self.rule_text,
                "bins": [{"low": b.low, "high": b.high, "n": b.n, "mean_forecast": b.mean_forecast,
                          "came_true": b.came_true} for b in self.bins],
                "by_month": {m: scores(s) for m, s in self.by_month.items()},
                "by_project": {m: scores(s) for m, s in self.by_project.items()},
                "by_kind": {m: scores(s) for m, s in self.by_kind.items()},
                "coverage": [{"level": c.level, "n": c.n, "covered": c.covered, "rate": c.rate}
                             for c in self.coverage],
                "surprises": [{"id": p.id, "short": p.entry.short, "claim": p.entry.title,
                               "probability": s.probability, "came_true": s.came_true} for p, s in self.surprises]}


NO_PROJECT = "(no project)"


OTHER_PROJECT = "(a project you do not see)"


def _place(nodes: dict[str, dict[str, Any]], row: store.Standing,
           sees: Callable[[str], bool] | None = None) -> tuple[str, str]:
    """(its project's title, the kind of thing it is about): the project is the nearest project above
    the node it is filed under (else its top node); the kind is the node's kind (an experiment, a
    question), or idea, result or run."""
    node_id, top, seen = row.node_id, None, set()
    while node_id and node_id in nodes and node_id not in seen:
        seen.add(node_id)
        top = nodes[node_id]
        if top["kind"] == "project":
            break
        node_id = top["parent_id"]
    kind = {"entry": "result", "idea": "idea", "run": "run"}.get(str(row.target_kind), "")
    if not kind:
        node = nodes.get(str(row.target_id or row.node_id or ""))
        kind = str(node["kind"]) if node is not None else "unfiled"
    if top is not None and sees is not None and not sees(str(top["id"])):
        return OTHER_PROJECT, kind
    return (str(top["title"]) if top is not None else NO_PROJECT), kind


def calibration(ws: Workspace, *, own: bool = True, project: str | None = None,
                sees: Callable[[str], bool] | None = None) -> Report:
    """How well the reader's forecasts match what happened: scores, reliability, interval coverage, by
    month, project and kind, and the confident misses (only their own predictions: a calibration is a
    person's). ``project``: only the predictions filed under that node. Each prediction's row says how
    it stands (``store.standing``), so a long history scores in one read."""
    db = ws.store().db
    rows, still = store.standing(db, own=own)
    nodes = {n.id: {"id": n.id, "parent_id": n.parent_id, "kind": n.kind, "title": n.title}
             for n in node_rows(db, include_deleted=True)}  # those the reader may see
    if project:
        from upstack.services.tree import project_node

        top = project_node(ws, project)
        rows = [r for r in rows if _within(nodes, r.node_id, top)]
        still = [node_id for node_id in still if _within(nodes, node_id, top)]
    scored: list[rule.Scored] = []
    intervals: list[tuple[float, bool]] = []
    places: dict[str, tuple[str, str]] = {}
    made_after = annulled = 0
    for row in rows:
        came_true = {"true": True, "false": False}.get(row.outcome)
        if came_true is None:
            annulled += 1
            continue
        forecasts = [] if row.scored_by_at is None else [rule.Forecast(row.scored_by_at, float(row.scored_by or 0))]
        result = rule.score(row.entry_id, forecasts, rule.Outcome(came_true, row.evidence_at))
        if result is None:
            made_after += 1
            continue
        scored.append(result)
        places[result.prediction_id] = _place(nodes, row, sees)
        if row.metric and row.level is not None and row.low is not None and row.high is not None \
                and row.outcome_value is not None:
            intervals.append((float(row.level), rule.in_interval(float(row.outcome_value), row.low, row.high)))
    worst = rule.surprises(scored)
    shown = {p.id: p for p in _load(ws, [s.prediction_id for s in worst])}
    misses = sorted(((shown[s.prediction_id], s) for s in worst if s.prediction_id in shown),
                    key=lambda ps: (-ps[1].surprise, ps[0].id))
    return Report(rule.summary(scored, made_after=made_after, annulled=annulled), rule.reliability(scored), misses,
                  len(still), _split(scored, lambda s: s.evidence_at[:7]),
                  _split(scored, lambda s: places[s.prediction_id][0]),
                  _split(scored, lambda s: places[s.prediction_id][1]), rule.coverage(intervals))


def calibration_of(ws: Workspace, login: str) -> Report:
    """``login``'s calibration as the reader may be shown it (`upstack path mentor add READER
    --calibration`): their scores over all their own predictions, as they would see them; a prediction
    the reader may not see is never named (not among the misses), nor a project they do not see. Anything
    else, a login that does not exist included, is the one NotFound of a path not shown."""
    from upstack.domain import access
    from upstack.services import path_access
    from upstack.services.accounts import audience_for, find_user
    from upstack.store import path as store_path

    db = ws.store().db
    if path_access.person_for(ws, login, "calibration") == store_path.reader_key(db):  # else NotFound unless shown
        return calibration(ws)
    reader = access.current(team=db.team)
    with access.acting_as(audience_for(ws, find_user(ws, login))):
        report = calibration(ws, sees=None if reader is None else reader.sees_node)
    shown = {p.id for p in _load(ws, [p.id for p, _ in report.surprises])}  # as the reader sees them
    report.surprises = [(p, s) for p, s in report.surprises if p.id in shown]
    return report


def _within(nodes: dict[str, dict[str, Any]], node_id: str | None, top: str) -> bool:
    seen = set()
    while node_id and node_id not in seen:
        if node_id == top:
            return True
        seen.add(node_id)
        node_id = nodes[node_id]["parent_id"] if node_id in nodes else None
    return False


def _split(scored: list[rule.Scored], key: Any) -> dict[str, rule.Summary]:
    groups: dict[str, list[rule.Scored]] = {}
    for item in scored:
        groups.setdefault(str(key(item)), []).append(item)
    return {name: rule.summary(items) for name, items in sorted(groups.items())}


def diagram(report: Report, out: Any) -> Any:
    """The reliability diagram as a PNG, SVG or PDF (needs matplotlib: the ``plot`` extra): each bin's
    mean forecast against how often its claims came true, the diagonal a calibrated person's line, the
    number of predictions beside each point."""
    from pathlib import Path

    from upstack.files import atomic_path

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise BadInput(f"cannot draw the diagram to {out.name}: use a .png, .svg or .pdf file name")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BadInput("a diagram needs matplotlib: pip install 'upstack[plot]'") from None
    held = [b for b in report.bins if b.n and b.mean_forecast is not None and b.came_true is not None]
    figure, axes = plt.subplots(figsize=(5, 5))
    try:
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="calibrated")
        axes.plot([b.mean_forecast or 0.0 for b in held], [b.came_true or 0.0 for b in held], marker="o", label="you")
        for b in held:
            axes.annotate(f"n={b.n}", (b.mean_forecast or 0, b.came_true or 0), textcoords="offset points",
                          xytext=(6, -10), fontsize=8)
        axes.set_xlim(-0.03, 1.03)  # a point at 0 or 1 shows whole
        axes.set_ylim(-0.03, 1.03)
        axes.set_xlabel("said (mean forecast in the bin)")
        axes.set_ylabel("came true")
        brier = "" if report.summary.brier is None else f", Brier {report.summary.brier:.3f}"
        axes.set_title(f"Reliability: {report.summary.n} scored{brier}")
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left")
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            figure.savefig(tmp, format=suffix[1:], dpi=120, bbox_inches="tight")
    finally:
        plt.close(figure)
    return out


def mine(ws: Workspace, entry: Entry) -> bool:
    """Whether the reader made this prediction (a calibration, a reminder, is the reader's own)."""
    return queries.is_own(ws.store().db, entry.author_id)

