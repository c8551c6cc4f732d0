"""Migration 19: predictions (issue 19). A prediction is an entry of kind "prediction" (its claim the
title, its resolution criteria the body, so search, revisions, export and privacy work on it) with a
row here saying what it is about and how it resolves, and its events: each forecast (a probability,
when it was really made) and each resolution (true, false or annulled, with its evidence), none ever
rewritten, so every update and every correction stays in its history."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def _real(db: Database) -> str:
    return "REAL" if db.dialect == "sqlite" else "DOUBLE PRECISION"


def run(db: Database) -> None:
    real = _real(db)
    db.execute(
        "CREATE TABLE predictions ("
        "entry_id TEXT PRIMARY KEY REFERENCES entries(id), "
        "target_kind TEXT, "  # what it is about: node, entry, run, idea (NULL: only where it is filed)
        "target_id TEXT, "
        "resolve_by TEXT, "  # YYYY-MM-DD
        "metric TEXT, "  # a numeric prediction: a run's metric, its aggregate (final, best, min, max),
        "aggregate TEXT, "  # the claim (the value below or above a threshold) and an interval at a level
        "comparison TEXT, "
        f"threshold {real}, "
        f"low {real}, "
        f"high {real}, "
        f"level {real}, "
        "created_at TEXT NOT NULL)")
    db.execute("CREATE INDEX predictions_target ON predictions(target_kind, target_id)")
    db.execute(
        "CREATE TABLE prediction_events ("
        "id TEXT PRIMARY KEY, "
        "entry_id TEXT NOT NULL REFERENCES entries(id), "
        "at TEXT NOT NULL, "  # when it was really made (a forecast back-dated would score itself)
        "kind TEXT NOT NULL, "  # forecast or resolve
        f"probability {real}, "
        "outcome TEXT, "  # true, false or annulled
        f"value {real}, "
        "evidence_id TEXT, "
        "evidence_at TEXT, "  # when the evidence existed: forecasts made after it do not count
        "reason TEXT NOT NULL DEFAULT '', "
        "author_id TEXT)")
    db.execute("CREATE INDEX prediction_events_entry ON prediction_events(entry_id, at)")
