"""Migration 21: each prediction keeps how it stands (issue 19). A score needs, of every prediction,
the resolution that stands (its last) and the forecast made last before that resolution's evidence;
picked from the events on each read, a few thousand predictions cost a score a third of its time.
So the row keeps them, set again whenever an event is added (store/predictions.py): ``outcome``,
``outcome_value`` and ``evidence_at`` of the standing resolution, ``scored_by`` and ``scored_by_at`` of
the forecast it is scored by (NULL: every forecast came after its evidence). Filled here for the
predictions made before."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    real = "REAL" if db.dialect == "sqlite" else "DOUBLE PRECISION"
    for column, kind in (("outcome", "TEXT"), ("outcome_value", real), ("evidence_at", "TEXT"),
                         ("scored_by", real), ("scored_by_at", "TEXT")):
        db.execute(f"ALTER TABLE predictions ADD COLUMN {column} {kind}")
    for row in db.query("SELECT entry_id FROM predictions"):
        entry_id = row["entry_id"]
        last = db.one("SELECT outcome, value, evidence_at FROM prediction_events WHERE entry_id = ? "
                      "AND kind = 'resolve' ORDER BY at DESC, id DESC LIMIT 1", (entry_id,))
        if last is None:
            continue
        used = db.one("SELECT at, probability FROM prediction_events WHERE entry_id = ? AND kind = 'forecast' "
                      "AND at < ? ORDER BY at DESC, id DESC LIMIT 1", (entry_id, last["evidence_at"]))
        db.execute("UPDATE predictions SET outcome = ?, outcome_value = ?, evidence_at = ?, scored_by = ?, "
                   "scored_by_at = ? WHERE entry_id = ?",
                   (last["outcome"], last["value"], last["evidence_at"], used["probability"] if used else None,
                    used["at"] if used else None, entry_id))
