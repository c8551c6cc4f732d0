"""A person's path to a research job: their ladder, learning resources, interview practice and
portfolio (issue 15), each theirs alone, as stars are.

Every change is a record of one of ``OPS``, stored as one row of ``path_records`` and never
changed after: the services fold a person's rows into what their ladder, practice log or portfolio
is now (``services/ladder.py``, ``services/practice.py``, ``services/portfolio.py``), so the rows are
the history, a schedule computed from them can be computed again, and an undo is one more record.
A record names its ``subject`` (the step, resource, problem or accomplishment it is about) and its
``at`` (when it happened, as the person gave it); the rest of its data is the op's own.

Whose a row is (``person``) is keyed as stars are: ``''`` is the workspace owner, else a user id.
A read answers for one person: the reader (``reader_key``), or another one a service has checked
the reader may see (a mentor shown a ladder); a reader who is nobody has no path at all.

A record whose data says ``local_only`` never leaves this machine (DESIGN.md's second level of
private): sync neither lists nor carries it, and a server's door refuses one. Contacts and outreach
may be kept so (issue 16); the services mark every record about a local-only thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from upstack.domain.permissions import WELLBEING_OPS
from upstack.formats.journal import Record
from upstack.store.db import Database
from upstack.store.stars import person_key, reader_key

__all__ = ["OPS", "WELLBEING_OPS", "forget_wellbeing", "HANDLERS", "PathEvent", "events", "latest_at",
           "reader_key", "person_key", "own_ids", "SEAL_KEY", "seal_text", "rewrite_wellbeing",
           "records", "holder", "shares_naming"]

OPS = (
    "ladder.step",        # a step added, edited, moved, skipped (with a reason), done or reopened
    "ladder.evidence",    # evidence (entry, node, run, idea, URL) for a step, or a proposal accepted or rejected
    "resource.set",       # a learning resource added, edited or removed, and the step it hangs under
    "resource.progress",  # progress on a resource: its state, a position, minutes spent
    "practice.attempt",   # an interview problem attempted (or an attempt struck out)
    "portfolio.profile",  # the profile: name, links, summary
    "portfolio.item",     # an accomplishment added, edited or removed, and the log items behind it
    "portfolio.variant",  # a named CV variant: which accomplishments, in what order
    "path.share",         # the ladder, portfolio and/or pipeline shown to a member (a mentor), or no longer
    "opp.set",            # an opportunity (job, fellowship, grant, programme, collaboration) added, edited, archived
    "opp.posting",        # the text of an opportunity's posting, kept (postings vanish); apart, as lists skip it
    "apply.set",          # an application to an opportunity added, edited, archived; its follow-up date
    "apply.stage",        # an application's move to a stage (applied, screen, ... offer, rejected), dated
    "contact.set",        # a person or organisation: their research interests, links, how the person knows them
    "outreach.log",       # an exchange with a contact: a draft, an email sent, a reply, a call; a follow-up date
)


@dataclass(frozen=True)
class PathEvent:
    id: str
    op: str
    subject: str
    at: str
    data: dict[str, Any]


def _add(db: Database, record: Record) -> None:
    # A wellbeing record is the workspace owner's whatever its "by" says: only a workspace without
    # accounts takes one, where the owner is the only person (so `user add` and `checkin forget` see it).
    data = record.data
    subject, at = str(data["subject"]), str(data["at"])
    if not subject:
        raise ValueError(f"a {record.op} record names no subject")
    db.execute("INSERT INTO path_records (id, person, op, subject, at, data, local_only) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (record.id, "" if record.op in WELLBEING_OPS else person_key(db, data.get("by")), record.op, subject, at,
                json.dumps(data, ensure_ascii=False, sort_keys=True),
                1 if data.get("local_only") is True or record.op in WELLBEING_OPS else 0))


HANDLERS: dict[str, Callable[[Database, Record], None]] = {op: _add for op in (*OPS, *WELLBEING_OPS)}
_WELLBEING = ", ".join("?" for _ in WELLBEING_OPS)  # placeholders for the wellbeing ops


# workspace_info: the passphrase seal of the owner's wellbeing records (salt, KDF parameters, a sealed
# known value; never the passphrase or the key): services/wellbeing_seal.py. Kept in the database so
# that the seal and the rows it seals change in one transaction, and every copy of the database
# (`upstack backup`, a pre-migration copy) carries the seal its rows need.
SEAL_KEY = "wellbeing_seal"


def forget_wellbeing(db: Database) -> int:
    """Remove every wellbeing record of the reader's for good (the person asked), and the seal with
    them; how many records."""
    key = reader_key(db)
    if key is None:
        return 0
    marks = ", ".join("?" for _ in WELLBEING_OPS)
    with db.transaction():
        count = int(db.scalar(f"SELECT count(*) FROM path_records WHERE person = ? AND op IN ({marks})",
                              [key, *WELLBEING_OPS]))
        db.execute(f"DELETE FROM path_records WHERE person = ? AND op IN ({marks})", [key, *WELLBEING_OPS])
        if key == "":
            db.execute("DELETE FROM workspace_info WHERE key = ?", (SEAL_KEY,))
    return count


def seal_text(db: Database) -> str | None:
    """The seal of the workspace owner's wellbeing records, as stored (None: they are kept in clear)."""
    value = db.scalar("SELECT value FROM workspace_info WHERE key = ?", (SEAL_KEY,))
    return None if value is None else str(value)


def rewrite_wellbeing(db: Database, rows: Iterable[tuple[str, str, dict[str, Any]]], seal: str | None) -> int:
    """In one transaction: each of the owner's wellbeing rows given as (id, subject, data) rewritten
    (sealed, opened, or sealed anew), and the seal set (None: removed). All or nothing; how many rows."""
    marks = ", ".join("?" for _ in WELLBEING_OPS)
    count = 0
    with db.transaction():
        for record_id, subject, data in rows:
            count += 1
            db.execute(f"UPDATE path_records SET subject = ?, data = ? WHERE id = ? AND person = '' "
                       f"AND op IN ({marks})",
                       [subject, json.dumps(data, ensure_ascii=False, sort_keys=True), record_id, *WELLBEING_OPS])
        _set_seal(db, seal)
    return count


def _set_seal(db: Database, seal: str | None) -> None:
    db.execute("DELETE FROM workspace_info WHERE key = ?", (SEAL_KEY,))
    if seal is not None:
        db.execute("INSERT INTO workspace_info (key, value) VALUES (?, ?)", (SEAL_KEY, seal))


def events(db: Database, ops: Iterable[str], person: str | None = None, *,
           subject: str | None = None, since: str | None = None) -> list[PathEvent]:
    """One person's records of these ops (about one ``subject`` if given; made at ``since`` or after,
    if given), oldest first (by time, then id): the reader's own unless a service names another
    ``person`` it has checked the reader may see, and then none that is local-only. Nobody has none."""
    key = reader_key(db) if person is None else person
    wanted = [op for op in ops if op in OPS or op in WELLBEING_OPS]
    if key is None or not wanted:
        return []
    about = ("" if subject is None else " AND subject = ?") + ("" if since is None else " AND at >= ?")
    if key != reader_key(db):  # another person's path, read for someone shown it: never what stays local
        about += " AND local_only = 0"
    rows = db.query(f"SELECT id, op, subject, at, data FROM path_records WHERE person = ? AND op IN "
                    f"({', '.join('?' for _ in wanted)}){about} ORDER BY at, id",
                    [key, *wanted, *([] if subject is None else [subject]), *([] if since is None else [since])])
    return [PathEvent(id=r["id"], op=r["op"], subject=r["subject"], at=str(r["at"]), data=json.loads(r["data"]))
            for r in rows]


def latest_at(db: Database, ops: Iterable[str], person: str | None = None) -> str | None:
    """The newest ``at`` among one person's records of these ops (None: there are none)."""
    key = reader_key(db) if person is None else person
    wanted = [op for op in ops if op in OPS or op in WELLBEING_OPS]
    if key is None or not wanted:
        return None
    value = db.scalar(f"SELECT max(at) FROM path_records WHERE person = ? AND op IN "
                      f"({', '.join('?' for _ in wanted)})", [key, *wanted])
    return None if value is None else str(value)


def own_ids(db: Database) -> list[str]:
    """The ids of the reader's own path records that may leave this machine (what sync compares):
    nobody else's, ever, and no local-only one."""
    key = reader_key(db)
    if key is None:
        return []
    # A wellbeing op by its op too, whatever its row says (an import from before rows' local_only was read).
    return [str(r["id"]) for r in db.query(f"SELECT id FROM path_records WHERE person = ? AND local_only = 0 "
                                           f"AND op NOT IN ({_WELLBEING}) ORDER BY id", (key, *WELLBEING_OPS))]


def records(db: Database, ids: Iterable[str]) -> list[Record]:
    """The reader's own records among these ids, as sync carries them (oldest first), without ``by``:
    where they land they are the receiving side's own person's (a laptop's owner, the pusher on a
    server). Ids of others' records, and of local-only ones, are skipped as if they were not there."""
    key, wanted = reader_key(db), sorted(set(ids))
    found: list[Record] = []
    if key is None:
        return found
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in db.query(f"SELECT id, op, at, data FROM path_records WHERE person = ? AND local_only = 0 "
                            f"AND op NOT IN ({_WELLBEING}) AND id IN ({', '.join('?' for _ in chunk)})",
                            [key, *WELLBEING_OPS, *chunk]):
            data = json.loads(row["data"])
            data.pop("by", None)
            found.append(Record(id=row["id"], op=row["op"], workspace="sync", at=str(row["at"]), data=data))
    return sorted(found, key=lambda r: (r.at, r.id))


def holder(db: Database, record_id: str) -> str | None:
    """Whose path record has this id ('' the owner, else a user id), whoever asks; None: no path record."""
    value = db.scalar("SELECT person FROM path_records WHERE id = ?", (record_id,))
    return None if value is None else str(value)


def shares_naming(db: Database, member: str) -> list[tuple[str, PathEvent]]:
    """Every person's ``path.share`` records naming ``member`` (a user id), oldest first, each with
    whose it is: a service folds them into whose paths that member is shown (services/path_access.py)."""
    rows = db.query("SELECT id, op, subject, at, data, person FROM path_records WHERE op = 'path.share' "
                    "AND subject = ? ORDER BY at, id", (member,))
    return [(str(r["person"]), PathEvent(id=r["id"], op=r["op"], subject=r["subject"], at=str(r["at"]),
                                         data=json.loads(r["data"]))) for r in rows]
