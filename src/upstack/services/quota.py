"""What one member of a team server may store and send: a storage quota, and caps on runs,
metrics per run and files per entry. Each is a setting (``user_quota_mb``, ``user_max_runs``,
``run_max_metrics``, ``entry_max_files``); going beyond one is answered with ``OverQuota``
(HTTP 413), one line naming the limit, before anything is written.

A member's storage is the files they uploaded or that are on entries they wrote (each file
once), their runs' metric points (24 bytes each) and their path records (ladder, practice,
portfolio: their data as stored). Only a team server counts: on a laptop
nobody is signed in (``by`` is None) and nothing here limits its owner. Two uploads checked
at the same moment may both pass: the quota can be overshot by what a member sends at once
(``user_requests`` requests), which is bounded by the request size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from upstack.domain.access import Audience
from upstack.errors import OverQuota
from upstack.store import usage

__all__ = ["check_upload", "check_files", "check_run", "too_many_files", "room_left", "OVER_QUOTA"]

MB = 1_000_000


def _used(db: Any, user_id: str, files: dict[str, int] | None = None) -> int:
    files = usage.member_files(db, user_id) if files is None else files
    return sum(files.values()) + usage.member_points(db, user_id) * usage.POINT_BYTES \
        + usage.member_path_bytes(db, user_id)


def _check_room(ws: Any, user_id: str, adding: int, files: dict[str, int] | None = None) -> None:
    quota = ws.settings.user_quota_mb * MB
    if not quota or adding <= 0:
        return
    used = _used(ws.store().db, user_id, files)
    if used + adding > quota:
        raise OverQuota(f"this would take what you store on the server to {_size(used + adding)}; "
                        f"the quota is {_size(quota)} a member (setting user_quota_mb): ask its admin")


def _size(count: float) -> str:
    """Bytes for a person: 12 kB, 350 MB, 10 GB (rounded: the message only says how far over)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            value = count / scale
            return f"{value:,.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{int(count)} bytes"


def check_upload(ws: Any, by: Audience | None, sha256: str, size: int) -> None:
    """A file sent to the server (``PUT /api/blobs``): it must fit in the sender's quota."""
    if by is None:
        return
    files = usage.member_files(ws.store().db, by.user_id)
    if sha256 not in files:  # sending a file again costs nothing more
        _check_room(ws, by.user_id, size, files)


def check_files(ws: Any, by: Audience | None, entry_id: str, sizes: Mapping[str, int]) -> None:
    """Files (sha256 -> size) about to be attached to an entry: the entry's cap, and the quota."""
    if by is None:
        return
    if too_many_files(ws, entry_id, len(sizes)):
        raise OverQuota(f"an entry may have at most {ws.settings.entry_max_files} files on this "
                        "server (setting entry_max_files)")
    files = usage.member_files(ws.store().db, by.user_id)
    _check_room(ws, by.user_id, sum(size for sha, size in sizes.items() if sha not in files), files)


def too_many_files(ws: Any, entry_id: str, adding: int) -> bool:
    """Whether ``adding`` more files would take an entry past ``entry_max_files``."""
    return usage.entry_file_count(ws.store().db, entry_id) + adding > ws.settings.entry_max_files


def check_run(ws: Any, by: Audience | None, run_id: str, *, new: bool, counts: Mapping[str, tuple[int, int]]) -> None:
    """A push to run ``run_id`` (``new``: its first), with ``counts``: metric -> (index of the first
    point sent, how many). Caps runs a member, metrics a run, and the points' bytes."""
    if by is None:
        return
    db = ws.store().db
    runs_cap = ws.settings.user_max_runs
    if new and usage.member_runs(db, by.user_id) >= runs_cap:
        raise OverQuota(f"you have {runs_cap:,} runs on this server, the most a member may (setting user_max_runs)")
    held = usage.run_metric_counts(db, run_id)
    metrics_cap = ws.settings.run_max_metrics
    if len(set(held) | set(counts)) > metrics_cap:
        raise OverQuota(f"a run may log at most {metrics_cap:,} metrics on this server (setting run_max_metrics)")
    # Points the server holds already are skipped on arrival (a push sent twice): they cost nothing more.
    adding = sum(max(0, start + size - max(held.get(key, 0), start)) for key, (start, size) in counts.items())
    _check_room(ws, by.user_id, adding * usage.POINT_BYTES)


def room_left(ws: Any, by: Audience | None) -> int | None:
    """How much more ``by`` may store (bytes; None: no limit), read once for a push of many records."""
    quota = ws.settings.user_quota_mb * MB
    if by is None or not quota:
        return None
    return quota - _used(ws.store().db, by.user_id)


OVER_QUOTA = "this would take what you store on the server past its quota (setting user_quota_mb): ask its admin"
