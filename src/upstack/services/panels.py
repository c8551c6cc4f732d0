"""Chart panels: a project's grid of saved charts, and the data each draws for its reader.

A panel says which metrics of which runs to draw, with what smoothing, on a log scale or not, by
step or by time. It belongs to a project (its grid, ``/panels?under=PROJECT``) and is embedded in
an entry or a review as ``![caption](upstack:panel/ID)``: the web draws it live, an export draws a
PNG in its place (``png``). A panel with no runs named draws the newest runs under its project.

A panel names runs; it never shows them. Its data (``data``) holds only the runs its reader may see,
asked of the store for that reader at that moment, so a panel saved by A naming B's private run
shows that run to B alone, and an exported PNG is drawn from what the exporting user may see.
Panels stay in the store they were saved in: they are not synced (domain/permissions.NOT_PUSHABLE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.domain import access
from upstack.domain.downsample import thin
from upstack.domain.text import clean_text
from upstack.errors import BadInput, Forbidden, NotFound
from upstack.files import atomic_path
from upstack.ids import new_id, short_id
from upstack.services import runs as run_service
from upstack.store import panels as store_panels
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["Panel", "Spec", "spec_from", "list_panels", "get_panel", "save_panel", "move_panel",
           "delete_panel", "restore_panel", "project_of", "history", "data", "png", "MAX_KEYS", "MAX_RUNS", "NEWEST"]

MAX_KEYS = 12
MAX_RUNS = 50
MAX_LINES = 100  # runs × metrics: each view of a panel reads every one of its series
NEWEST = 5  # runs drawn by a panel that names none: the project's newest
TITLE_CHARS = 200
POINTS = 1000


@dataclass(frozen=True)
class Spec:
    """What a panel draws."""

    keys: tuple[str, ...]
    runs: tuple[str, ...] = ()  # full run ids; none: the project's newest runs
    smoothing: float = 0.0  # 0 (none) to 0.99: an exponential moving average, as TensorBoard's
    log: bool = False
    x: str = "step"  # or "time": seconds since each run's first point
    wide: bool = False  # two grid columns

    def to_dict(self) -> dict[str, Any]:
        return {"keys": list(self.keys), "runs": list(self.runs), "smoothing": self.smoothing, "log": self.log,
                "x": self.x, "wide": self.wide}


def spec_from(ws: Workspace, *, keys: Sequence[str], runs: Sequence[str] = (), smoothing: float = 0.0,
              log: bool = False, x: str = "step", wide: bool = False) -> Spec:
    """A checked spec: metric names as upstack keeps them; each run one the saver may see (full ids)."""
    wanted = list(dict.fromkeys(clean_text(k).strip() for k in keys if k and k.strip()))
    if not wanted:
        raise BadInput("a panel needs at least one metric (e.g. loss)")
    if len(wanted) > MAX_KEYS or any(len(k) > TITLE_CHARS for k in wanted):
        raise BadInput(f"a panel draws at most {MAX_KEYS} metrics, each named in at most {TITLE_CHARS} characters")
    refs = list(dict.fromkeys(r.strip() for r in runs if r and r.strip()))
    if len(refs) > MAX_RUNS:
        raise BadInput(f"a panel draws at most {MAX_RUNS} runs")
    if not (isinstance(smoothing, int | float) and math.isfinite(smoothing) and 0 <= smoothing <= 0.99):
        raise BadInput("smoothing is a number from 0 (none) to 0.99")
    if x not in ("step", "time"):
        raise BadInput(f"x is step or time, not {x!r}")
    if len(wanted) * max(len(refs), NEWEST) > MAX_LINES:
        raise BadInput(f"a panel draws at most {MAX_LINES} lines (runs × metrics): split it in two")
    run_ids = tuple(run_service.get_run(ws, ref).id for ref in refs)  # NotFound unless the saver sees it
    return Spec(tuple(wanted), run_ids, float(smoothing), bool(log), x, bool(wide))


@dataclass
class Panel:
    id: str
    node_id: str | None
    author_id: str | None
    title: str
    spec: Spec
    position: int
    created_at: str
    updated_at: str
    deleted_at: str | None

    @property
    def short(self) -> str:
        return short_id(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "short": self.short, "node_id": self.node_id, "title": self.title,
                "spec": self.spec.to_dict(), "position": self.position, "created_at": self.created_at,
                "updated_at": self.updated_at, "deleted_at": self.deleted_at,
                "embed": f"![{self.title or 'panel'}](upstack:panel/{self.short})"}


def _panel(ws: Workspace, row: dict[str, Any]) -> Panel:
    spec = row["spec"]
    visible = tuple(r for r in spec.get("runs") or () if _sees_run(ws, r))  # a name is shown to who sees it
    return Panel(row["id"], row["node_id"], row["author_id"], row["title"],
                 Spec(tuple(spec.get("keys") or ()), visible, float(spec.get("smoothing") or 0.0),
                      bool(spec.get("log")), str(spec.get("x") or "step"), bool(spec.get("wide"))),
                 int(row["position"]), row["created_at"], row["updated_at"], row["deleted_at"])


def _sees_run(ws: Workspace, run_id: str) -> bool:
    try:
        run_service.get_run(ws, run_id)
    except NotFound:
        return False
    return True


def _node(ws: Workspace, under: str | None) -> str | None:
    from upstack.services.tree import resolve_node

    return resolve_node(ws.store().db, under) if under else None


def list_panels(ws: Workspace, under: str | None, *, deleted: bool = False) -> list[Panel]:
    """A project's grid (None: the unfiled panels), in order; with ``deleted``, the ones to restore."""
    return [_panel(ws, r) for r in store_panels.rows(ws.store().db, _node(ws, under), deleted=deleted)]


def project_of(ws: Workspace, node_id: str | None) -> str | None:
    """The project a node sits in (its nearest project ancestor, else its topmost one the reader sees):
    whose grid a run there shows."""
    if node_id is None:
        return None
    from upstack.store.tree import ancestors

    chain = ancestors(ws.store().db, node_id)
    project = next((n for n in chain if n.kind == "project"), chain[-1] if chain else None)
    return project.id if project else None


def get_panel(ws: Workspace, ref: str) -> Panel:
    db = ws.store().db
    return _panel(ws, store_panels.one(db, store_panels.resolve(db, ref)))


def _may_change(ws: Workspace, panel: Panel) -> None:
    audience = access.current(team=ws.store().db.team)
    if audience is not None and not (audience.is_author(panel.author_id) or audience.has(panel.node_id, "editor")):
        raise Forbidden("only its author or an editor of its project may change this panel")


def _write(ws: Workspace, op: str, data: dict[str, Any]) -> None:
    ws.store().write([ws.record(op, {**data, "at": now_iso()})])


def save_panel(ws: Workspace, spec: Spec, *, under: str | None = None, title: str = "",
               panel: str | None = None) -> Panel:
    """A new panel at the end of ``under``'s grid, or (``panel``) a change to one; returns it."""
    title = clean_text(title).strip()
    if len(title) > TITLE_CHARS:
        raise BadInput(f"a panel's title is at most {TITLE_CHARS} characters")
    if panel is not None:
        held = get_panel(ws, panel)
        _may_change(ws, held)
        raw = store_panels.one(ws.store().db, held.id)["spec"]
        hidden = [r for r in raw.get("runs") or () if r not in held.spec.runs]  # kept: not this editor's to drop
        spec = Spec(spec.keys, tuple(dict.fromkeys([*spec.runs, *hidden])), spec.smoothing, spec.log, spec.x,
                    spec.wide)
        _write(ws, "panel.save", {"panel_id": held.id, "node_id": held.node_id, "title": title,
                                  "spec": spec.to_dict(), "position": held.position})
        return get_panel(ws, held.id)
    node_id = _node(ws, under)
    access.require_file_under(node_id)
    grid = store_panels.rows(ws.store().db, node_id)
    panel_id = new_id()
    _write(ws, "panel.save", {"panel_id": panel_id, "node_id": node_id, "title": title, "spec": spec.to_dict(),
                              "position": max((r["position"] for r in grid), default=0) + 1})
    return get_panel(ws, panel_id)


def move_panel(ws: Workspace, ref: str, by: int) -> list[Panel]:
    """Move a panel ``by`` places in its grid (-1: one earlier); the grid renumbered 1..n, as now shown."""
    panel = get_panel(ws, ref)
    _may_change(ws, panel)
    grid = list_panels(ws, panel.node_id) if panel.node_id else \
        [_panel(ws, r) for r in store_panels.rows(ws.store().db, None)]
    order = [p.id for p in grid]
    if panel.id not in order:  # deleted: it has no place until restored
        return grid
    at = order.index(panel.id)
    order.insert(max(0, min(len(order) - 1, at + by)), order.pop(at))
    raw = {p.id: store_panels.one(ws.store().db, p.id) for p in grid}
    records = [ws.record("panel.save", {"panel_id": pid, "node_id": raw[pid]["node_id"], "title": raw[pid]["title"],
                                        "spec": raw[pid]["spec"], "position": n, "at": now_iso()})
               for n, pid in enumerate(order, start=1) if raw[pid]["position"] != n]
    ws.store().write(records)
    return list_panels(ws, panel.node_id) if panel.node_id else grid


def delete_panel(ws: Workspace, ref: str) -> Panel:
    panel = get_panel(ws, ref)
    _may_change(ws, panel)
    _write(ws, "panel.delete", {"panel_id": panel.id})
    return get_panel(ws, panel.id)


def restore_panel(ws: Workspace, ref: str) -> Panel:
    panel = get_panel(ws, ref)
    _may_change(ws, panel)
    _write(ws, "panel.restore", {"panel_id": panel.id})
    return get_panel(ws, panel.id)


def history(ws: Workspace, ref: str) -> list[dict[str, Any]]:
    """Every save of a panel, oldest first (titles and settings; run names only as the reader sees them)."""
    panel = get_panel(ws, ref)
    found = []
    for row in store_panels.revisions(ws.store().db, panel.id):
        spec = {**row["spec"], "runs": [r for r in row["spec"].get("runs") or () if _sees_run(ws, r)]}
        found.append({"at": row["at"], "title": row["title"], "spec": spec, "position": row["position"]})
    return found


def _drawn_runs(ws: Workspace, panel: Panel, page_runs: Sequence[str]) -> list[Any]:
    """The runs a panel draws for its reader: those it names that they may see; naming none, the page's
    runs (a run page's own), else the newest under its project."""
    if panel.spec.runs:
        return [run_service.get_run(ws, r) for r in panel.spec.runs]  # already only the visible ones
    if page_runs:  # as many as a saved panel may draw: MAX_LINES lines of its metrics
        most = max(1, min(MAX_RUNS, MAX_LINES // max(1, len(panel.spec.keys))))
        found = [run for run in (_maybe_run(ws, r) for r in list(dict.fromkeys(page_runs))[:MAX_RUNS])
                 if run is not None]
        return found[:most]
    if panel.node_id is None:
        return []
    return run_service.list_runs(ws, under=panel.node_id, limit=NEWEST)


def _maybe_run(ws: Workspace, ref: str) -> Any:
    try:
        return run_service.get_run(ws, ref)
    except (NotFound, BadInput):
        return None


def data(ws: Workspace, ref: str, *, page_runs: Sequence[str] = (), points: int = POINTS,
         shared_only: bool = False) -> dict[str, Any]:
    """What a panel draws for its reader: one line per (run it may see, metric), thinned to ``points``
    (each bucket keeps its min and max), x by step or by seconds since the run's first point.
    ``shared_only``: leave out runs whose result is private (a picture in an export meant for others)."""
    panel = get_panel(ws, ref)
    lines = []
    runs = _drawn_runs(ws, panel, page_runs)
    if shared_only:
        hidden = store_panels.private_runs(ws.store().db, [run.id for run in runs])
        runs = [run for run in runs if run.id not in hidden]
    for run in runs:
        logged = {m.key for m in run.metrics}
        for key in panel.spec.keys:
            if key not in logged:
                continue
            line = run_service.series(ws, run.id, key)
            kept = thin(line.steps, line.values, points).positions
            if panel.spec.x == "time":
                zero = line.times[0] if len(line.times) else 0.0
                xs: list[float] = [line.times[i] - zero for i in kept]
            else:
                xs = [line.steps[i] for i in kept]
            label = f"{run.name} ({run.short})" + (f" {key}" if len(panel.spec.keys) > 1 else "")
            if len(runs) == 1:
                label = key
            lines.append({"run": run.short, "key": key, "label": label, "xs": xs,
                          "ys": [_finite(line.values[i]) for i in kept], "total": len(line)})
    return {"panel": panel.to_dict(), "lines": lines}


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _smoothed(values: Sequence[float | None], weight: float) -> list[float | None]:
    """The web's smoothing (static/chart_kit.js), for a PNG that looks the same."""
    if not weight:
        return list(values)
    out: list[float | None] = []
    last, kept = 0.0, 0
    for value in values:
        if value is None:
            out.append(None)
            continue
        last = last * weight + (1 - weight) * value
        kept += 1
        out.append(last / (1 - weight ** kept))
    return out


def png(ws: Workspace, ref: str, out: Path | None = None, *, shared_only: bool = False) -> bytes:
    """The panel drawn as a PNG (needs matplotlib, the ``plot`` extra) from what the current user may
    see: what an export puts where an entry embeds the panel (``shared_only`` for an export meant for
    others: no run whose result is private). Written to ``out`` too when given."""
    drawn = data(ws, ref, shared_only=shared_only)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BadInput("drawing a panel as a picture needs matplotlib: pip install 'upstack[plot]'") from None

    spec = drawn["panel"]["spec"]
    with matplotlib.rc_context({"text.parse_math": False}):  # names and keys are text, never TeX ('$\\x$')
        return _drawn_png(plt, drawn, spec, out)


def _drawn_png(plt: Any, drawn: dict[str, Any], spec: dict[str, Any], out: Path | None) -> bytes:
    import io

    figure, axes = plt.subplots(figsize=(8, 4.5))
    try:
        for line in drawn["lines"]:
            ys = _smoothed(line["ys"], spec["smoothing"])
            axes.plot(line["xs"], [math.nan if v is None else v for v in ys], label=line["label"], linewidth=1.2)
        if spec["log"]:
            axes.set_yscale("log")
        axes.set_xlabel("seconds" if spec["x"] == "time" else "step")
        axes.set_title(drawn["panel"]["title"] or ", ".join(spec["keys"]))
        axes.grid(alpha=0.3)
        if drawn["lines"]:
            axes.legend()
        else:
            axes.text(0.5, 0.5, "no runs to show", ha="center", va="center", transform=axes.transAxes)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)
    body = buffer.getvalue()
    if out is not None:
        with atomic_path(out) as tmp:
            tmp.write_bytes(body)
    return body


