"""Runs as sync moves them (services/runsync.py): whose a run is, and the points a push or a
pull brings, taken in with what they say of the run's life."""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from upstack.domain import access
from upstack.store import runs
from upstack.store.db import Database
from upstack.timeutil import now_iso

if TYPE_CHECKING:
    from upstack.store.store import Store

__all__ = ["author_and_node", "take_points"]


def author_and_node(db: Database, run_id: str) -> dict[str, Any] | None:
    """The run's ``author_id`` and ``node_id``, whoever may see it; None if there is no such run."""
    return db.one("SELECT author_id, node_id FROM runs WHERE id = ?", (run_id,))


def status_of(db: Database, run_id: str) -> str | None:
    """The run's status (running, finished, ...), whoever may see it; None if there is no such run."""
    value = db.scalar("SELECT status FROM runs WHERE id = ?", (run_id,))
    return None if value is None else str(value)


def take_points(store: Store, run_id: str, series: dict[str, tuple[int, array, array, array]], *, ended: bool,
                complete: bool) -> tuple[str, dict[str, int]] | None:
    """Add points to a run ({key: (index of the first, steps, times, values)}), in one transaction:
    then a run heard from is alive (one marked crashed was only out of touch, unless it ``ended``),
    and an ended run whose last points are in (``complete``) gets its result. Returns its status and
    how many points each metric has; None (nothing written) if the run is not in the store."""
    db = store.db
    with store.lock(), access.acting_as(access.OWNER), db.transaction():
        if db.one("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is None:
            return None
        for key, (start, steps, times, values) in series.items():
            runs.add_points(db, run_id, key, start, steps, times, values)
        status = str(db.scalar("SELECT status FROM runs WHERE id = ?", (run_id,)))
        if status == "crashed" and not ended:  # only out of touch: running after all
            db.execute("UPDATE runs SET status = 'running', ended_at = NULL, error = '' WHERE id = ?", (run_id,))
            status = "running"
        if status == "running":
            db.execute("UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now_iso(), run_id))
        elif complete and (ended or any(len(s[3]) for s in series.values())):
            runs.finalize(db, run_id, store.workspace_id())
        counts = {str(r["key"]): int(r["count"]) for r in db.query(
            "SELECT key, count FROM run_metrics WHERE run_id = ?", (run_id,))}
    return status, counts
