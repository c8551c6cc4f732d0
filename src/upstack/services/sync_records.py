"""Records as sync carries them: their JSON form on the wire, and the check of one received.

Both sides use these: the sync door (services/sync_door.py) on what a laptop pushes, and a
laptop (services/sync.py, services/runsync.py) on what it pulls.
"""

from __future__ import annotations

from typing import Any

from upstack.domain.permissions import PERMISSIONS
from upstack.errors import BadInput
from upstack.formats.journal import Record

__all__ = ["PUSHABLE", "PULLABLE", "parse_record", "plain", "new_conflicts"]

PUSHABLE = tuple(PERMISSIONS)  # domain/permissions.py: who may push what
PULLABLE = PUSHABLE  # what a server sends back is what a laptop may push


def parse_record(item: Any, allowed: tuple[str, ...]) -> Record:
    """A pushed record, if it is well formed and of a kind this push may carry."""
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "op", "workspace", "at")) \
            or not isinstance(item.get("data"), dict):
        raise BadInput("a pushed record needs id, op, workspace, at (text) and data (an object)")
    if item["op"] not in allowed:
        raise BadInput(f"records of kind {item['op']!r} cannot be pushed here; this takes {', '.join(allowed)}")
    from upstack.services.record_shapes import envelope_problem

    wrong = envelope_problem(item["id"], item["workspace"], item["at"])
    if wrong:
        raise BadInput(wrong)
    return Record(id=item["id"], op=item["op"], workspace=item["workspace"], at=item["at"], data=item["data"])



def plain(record: Record) -> dict[str, Any]:
    return {"id": record.id, "op": record.op, "workspace": record.workspace, "at": record.at, "data": record.data}



def new_conflicts(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """The entries that note more conflicts ``after`` applying records than ``before`` (counts:
    store.sync.conflict_counts). An entry that was not there before is new here, with the history it
    came with: it was edited on no side of this one."""
    return sorted(e for e, n in after.items() if e in before and n > before[e])
