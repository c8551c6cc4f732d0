"""Applying journal records to the SQL store: the one write path.

Every change (a note, an edit, an idea, a run's points, an import) arrives as a record and is
applied here, inside the caller's transaction, by the handler of its operation: the log's own
(``store.ingest``), ideas' (``store.ideas``), runs' (``store.runs``), comments' and stars'
(``store.comments``, ``store.stars``), a person's path (``store.path``) and what sync holds back
(``store.sync_held``). Applying a
record twice is harmless: ``applied_records`` remembers record ids.
"""

from __future__ import annotations

from collections.abc import Callable

from upstack.domain import access
from upstack.errors import UpstackError
from upstack.formats.journal import Record
from upstack.store import comments, ideas, ingest, path, runs, stars, sync_held
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["HANDLERS", "apply_record", "bad_record_errors"]


def _purge_entry(db: Database, record: Record) -> None:
    """Purging an entry removes what was said about it; a run's result entry (it has the run's id), what
    the run captured too."""
    ingest.HANDLERS["entry.purge"](db, record)
    runs.purge(db, record.data["entry_id"])
    comments.purge_for_entry(db, record.data["entry_id"], record.data.get("at", record.at))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {
    **ingest.HANDLERS, **ideas.HANDLERS, **runs.HANDLERS, **comments.HANDLERS, **stars.HANDLERS,
    **sync_held.HANDLERS, **path.HANDLERS, "entry.purge": _purge_entry}


def bad_record_errors(db: Database) -> tuple[type[Exception], ...]:
    """What applying a record raises when the record cannot be applied (a field missing or of the
    wrong type, a value the engine cannot hold): set that record aside, never stop the others."""
    return (UpstackError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError,
            db.integrity_error, db.data_error)


def apply_record(db: Database, record: Record) -> bool:
    """Apply one record unless it was applied before; return whether it was applied."""
    handler = HANDLERS.get(record.op)
    if handler is None:
        raise UpstackError(f"record {record.id}: unknown operation {record.op!r}")
    new = db.execute("INSERT INTO applied_records (id, op, applied_at) VALUES (?, ?, ?) "
                     "ON CONFLICT DO NOTHING", (record.id, record.op, now_iso())).rowcount
    if new:
        with access.acting_as(access.OWNER):  # applying a record is never filtered by who is reading
            handler(db, record)
    return bool(new)
