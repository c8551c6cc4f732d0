"""What the store knows of a run that is to be resumed, when its folder is gone (ingested and retired)."""

from __future__ import annotations

from dataclasses import dataclass

from upstack.store.db import Database

__all__ = ["StoredRun", "stored_run"]


@dataclass(frozen=True)
class StoredRun:
    id: str
    name: str
    status: str
    heartbeat_at: str
    author_id: str | None
    author_login: str | None
    records_offset: int  # how far the store read the run's folder: a new segment's files count on from here
    metrics_offset: int
    points: dict[str, int]  # points per metric, where a live upload's indexes go on from
    last_step: int  # the largest last step of its metrics (-1: none logged)


def stored_run(db: Database, run_id: str) -> StoredRun:
    row = db.one("SELECT id, name, status, heartbeat_at, author_id, records_offset, metrics_offset "
                 "FROM runs WHERE id = ?", (run_id,))
    assert row is not None, run_id  # resolved just before, under the workspace lock
    metrics = db.query("SELECT key, count, last_step FROM run_metrics WHERE run_id = ?", (run_id,))
    login = db.scalar("SELECT login FROM users WHERE id = ?", (row["author_id"],)) if row["author_id"] else None
    return StoredRun(
        id=row["id"], name=row["name"], status=row["status"], heartbeat_at=str(row["heartbeat_at"] or ""),
        author_id=row["author_id"], author_login=str(login) if login else None,
        records_offset=int(row["records_offset"] or 0), metrics_offset=int(row["metrics_offset"] or 0),
        points={str(m["key"]): int(m["count"]) for m in metrics},
        last_step=max((int(m["last_step"]) for m in metrics), default=-1))
