"""What one member holds on a team server: the counts ``services.quota`` checks against the limits."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["POINT_BYTES", "member_files", "member_points", "member_path_bytes", "member_runs", "run_metric_counts",
           "entry_file_count"]

POINT_BYTES = 24  # a metric point: step, time and value, 8 bytes each


def member_files(db: Database, user_id: str) -> dict[str, int]:
    """sha256 -> size of every file the member uploaded (a receipt) or that is on an entry they wrote.

    A file is counted once per member however many entries carry it (it is stored once).
    """
    files: dict[str, int] = {}
    for row in db.query("SELECT subject, detail FROM audit_log WHERE action = 'file.upload' AND actor_id = ?",
                        (user_id,)):
        files[str(row["subject"])] = _receipt_bytes(str(row["detail"] or ""))
    for row in db.query("SELECT a.sha256, a.size FROM attachments a JOIN entries e ON e.id = a.entry_id "
                        "WHERE e.author_id = ? AND a.sha256 IS NOT NULL AND a.purged_at IS NULL", (user_id,)):
        files.setdefault(str(row["sha256"]), int(row["size"]))
    return files


def _receipt_bytes(detail: str) -> int:
    """The size an upload's receipt records ("1234 bytes", see services.sync_door.write_blob)."""
    first = detail.split(" ", 1)[0]
    return int(first) if first.isdigit() else 0


def member_points(db: Database, user_id: str) -> int:
    """Metric points in every run the member logged."""
    return int(db.scalar("SELECT coalesce(sum(m.count), 0) FROM run_metrics m JOIN runs r ON r.id = m.run_id "
                         "WHERE r.author_id = ?", (user_id,)) or 0)


def member_path_bytes(db: Database, user_id: str) -> int:
    """The size of a member's path records (their data as stored, in characters)."""
    from upstack.store.stars import person_key  # the workspace owner's rows are keyed ''

    return int(db.scalar("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM path_records WHERE person = ?",
                         (person_key(db, user_id),)) or 0)


def member_runs(db: Database, user_id: str) -> int:
    return int(db.scalar("SELECT count(*) FROM runs WHERE author_id = ?", (user_id,)) or 0)


def run_metric_counts(db: Database, run_id: str) -> dict[str, int]:
    """Points held per metric of a run."""
    return {str(r["key"]): int(r["count"]) for r in db.query(
        "SELECT key, count FROM run_metrics WHERE run_id = ?", (run_id,))}


def entry_file_count(db: Database, entry_id: str) -> int:
    return int(db.scalar("SELECT count(*) FROM attachments WHERE entry_id = ? AND purged_at IS NULL",
                         (entry_id,)) or 0)
