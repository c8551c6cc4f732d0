"""Applying journal records to the SQL store: the one write path.

Every change (a note, an edit, an idea, a run's points, an import) arrives as a record and is
applied here, inside the caller's transaction, by the handler of its operation: the log's own
(``store.ingest``), ideas' (``store.ideas``), runs' (``store.runs``), comments' and stars'
(``store.comments``, ``store.stars``), predictions' and takes' (``store.predictions``,
``store.takes``), a person's path (``store.path``) and what sync holds back
(``store.sync_held``). Applying a
record twice is harmless: ``applied_records`` remembers record ids.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from upstack.domain import access
from upstack.errors import UpstackError
from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["handlers", "apply_record", "bad_record_errors"]

Handler = Callable[[Database, Record], None]

# The module whose HANDLERS apply each family of operations (an op's part before the dot; the path's
# many families are every other one). A module is imported when a record of its family first comes:
# taking in a check-in loads no entry, run or idea code.
_FAMILIES = {"entry": "ingest", "node": "ingest", "attachment": "ingest", "idea": "ideas", "run": "runs",
             "comment": "comments", "star": "stars", "sync": "sync_held", "prediction": "predictions",
             "take": "takes", "panel": "panels"}
# Ops applied by a module other than their family's (a run's changes after the fact: store/run_manage.py).
_OP_MODULES = {op: "run_manage" for op in ("run.rename", "run.retag", "run.move", "run.delete", "run.restore")}
_MODULES = ("ingest", "ideas", "runs", "comments", "stars", "sync_held", "path", "predictions", "takes",
            "run_manage", "panels")


def _family(op: str) -> dict[str, Handler]:
    module = _OP_MODULES.get(op) or _FAMILIES.get(op.partition(".")[0], "path")
    found: dict[str, Handler] = importlib.import_module(f"upstack.store.{module}").HANDLERS
    return found


def _purge_entry(db: Database, record: Record) -> None:
    """Purging an entry removes what was said about it; a run's result entry (it has the run's id), what
    the run captured too."""
    from upstack.store import comments, ingest, predictions, runs, takes

    ingest.HANDLERS["entry.purge"](db, record)
    runs.purge(db, record.data["entry_id"])
    predictions.purge(db, record.data["entry_id"])
    takes.purge(db, record.data["entry_id"])
    comments.purge_for_entry(db, record.data["entry_id"], record.data.get("at", record.at))


def _handler(op: str) -> Handler | None:
    return _purge_entry if op == "entry.purge" else _family(op).get(op)


def handlers() -> dict[str, Handler]:
    """Every operation there is, and what applies it (every handler's module imported)."""
    every: dict[str, Handler | None] = {}
    for module in _MODULES:
        every.update(importlib.import_module(f"upstack.store.{module}").HANDLERS)
    every = {op: _handler(op) for op in every}
    unrouted = sorted(op for op, handler in every.items() if handler is None)
    if unrouted:  # a new family, not yet in _FAMILIES
        raise UpstackError(f"no module applies {', '.join(unrouted)}: add its family to store/apply._FAMILIES")
    return {op: handler for op, handler in every.items() if handler is not None}


def bad_record_errors(db: Database) -> tuple[type[Exception], ...]:
    """What applying a record raises when the record cannot be applied (a field missing or of the
    wrong type, a value the engine cannot hold): set that record aside, never stop the others."""
    return (UpstackError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError,
            db.integrity_error, db.data_error, db.too_large_error)


def apply_record(db: Database, record: Record) -> bool:
    """Apply one record unless it was applied before; return whether it was applied."""
    handler = _handler(record.op)
    if handler is None:
        raise UpstackError(f"record {record.id}: unknown operation {record.op!r}")
    new = db.execute("INSERT INTO applied_records (id, op, applied_at) VALUES (?, ?, ?) "
                     "ON CONFLICT DO NOTHING", (record.id, record.op, now_iso())).rowcount
    if new:
        with access.acting_as(access.OWNER):  # applying a record is never filtered by who is reading
            handler(db, record)
    return bool(new)
