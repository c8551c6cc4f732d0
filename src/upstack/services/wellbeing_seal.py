"""Check-ins sealed with a passphrase (issue 18, "private by construction"): optional encryption at rest.

With a seal, every wellbeing record (domain/permissions.WELLBEING_OPS) is sealed where it is made,
in ``wellbeing.write_record``, before it reaches the journal: its data becomes
``{"subject": "sealed", "at": ..., "local_only": true, "sealed": TOKEN}``, TOKEN being the encryption
of the JSON of everything else the record says, its real subject (a sign's name, a day) included.
So the journal line, the row in path_records, a journal file kept aside, `upstack backup` and a copy
of the database made before a migration hold only ciphertext. ``at`` stays clear: records are ordered
by it, and it says when a record was made, not what it says.

Why AES-256-GCM (cryptography's AESGCM) rather than Fernet: it authenticates associated data, so
each token is bound to its record (op, id and time): a sealed check-in cannot be moved onto another
record, or its time changed, without failing to open; Fernet authenticates only the token itself.
A random 96-bit nonce per token is safe far beyond the records one person writes.

The key is derived from the passphrase with Argon2id (argon2-cffi, already what hashes account
passwords; RFC 9106's second recommended parameters: 64 MiB, 3 passes, 4 lanes), once per process,
kept in memory only. The seal (salt, KDF parameters, a known value sealed with the key to tell a
wrong passphrase; never the passphrase or the key) is kept in the database beside the rows
(store/path.SEAL_KEY), not in a file of its own: turning the seal on, off or to a new passphrase
rewrites every row and the seal in one transaction, so a kill leaves the old state or the new one,
and every copy of the database carries the seal its rows need.

cryptography and argon2 are imported only when a sealed record is made or opened: with no seal, a
check-in costs one small query more.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from upstack.domain.permissions import WELLBEING_OPS
from upstack.errors import BadInput, UpstackError
from upstack.formats.journal import Record, rewrite_records
from upstack.store import path as store_path
from upstack.store.path import PathEvent
from upstack.workspace import Workspace

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["PASSPHRASE_ENV", "NEW_PASSPHRASE_ENV", "SEALED", "MIN_PASSPHRASE", "LOCKED_MESSAGE", "WRONG_MESSAGE",
           "Locked", "WrongPassphrase", "Seal", "Rewritten", "Problem", "is_locked", "verify", "seal_record",
           "open_events", "sealed_about", "lock", "unlock", "change_passphrase", "check", "check_new_passphrase",
           "forget_keys"]

PASSPHRASE_ENV = "UPSTACK_PASSPHRASE"
NEW_PASSPHRASE_ENV = "UPSTACK_NEW_PASSPHRASE"  # `upstack checkin passphrase` away from a terminal
SEALED = "sealed"  # the subject every sealed record shows, and the data key of its token
MIN_PASSPHRASE = 10
LOCKED_MESSAGE = f"check-ins are locked: set {PASSPHRASE_ENV} or run at a terminal"
WRONG_MESSAGE = "wrong passphrase for your check-ins: nothing was changed"
NOT_GIVEN_MESSAGE = "no passphrase given: your check-ins stay locked"

_FORMAT = "v1"
_KNOWN = b"upstack wellbeing seal"
_CHECK_AAD = b"upstack wellbeing seal check"
# Argon2id: RFC 9106 section 4's second recommended option (passes, memory in KiB, lanes).
_TIME_COST, _MEMORY_COST, _PARALLELISM = 3, 64 * 1024, 4
# A seal's text -> its key: derived once per process (a wrong passphrase is never kept).
_keys: dict[str, bytes] = {}


class Locked(BadInput):
    """Sealed check-ins, and no passphrase to open them (none in the environment, no terminal)."""


class WrongPassphrase(BadInput):
    """Sealed check-ins, and a passphrase that does not open them: what reads them stops, and what only
    looks in on them (`upstack due`'s reminder, `upstack doctor`) says so and goes on."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Seal:
    """How the key is derived, and a known value sealed with it (to tell a wrong passphrase)."""

    salt: bytes
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int
    check: str = ""

    @property
    def id(self) -> str:
        """Which seal a token was made under (a passphrase change makes a new one)."""
        return hashlib.sha256(self.salt).hexdigest()[:8]

    def text(self) -> str:
        return json.dumps({"v": 1, "kdf": "argon2id", "salt": _b64(self.salt), "time_cost": self.time_cost,
                           "memory_cost": self.memory_cost, "parallelism": self.parallelism, "check": self.check},
                          sort_keys=True)

    @classmethod
    def parse(cls, text: str) -> Seal:
        try:
            raw = json.loads(text)
            if raw["v"] != 1 or raw["kdf"] != "argon2id":
                raise ValueError(f"a seal of kind {raw['kdf']!r} version {raw['v']!r}")
            return cls(base64.urlsafe_b64decode(raw["salt"]), int(raw["time_cost"]), int(raw["memory_cost"]),
                       int(raw["parallelism"]), str(raw["check"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise UpstackError(f"the seal of your check-ins is unreadable ({exc}): upgrade upstack if a newer "
                               "one wrote it") from None

    def derive(self, passphrase: str) -> bytes:
        from argon2.low_level import Type, hash_secret_raw

        return hash_secret_raw(passphrase.encode("utf-8"), self.salt, time_cost=self.time_cost,
                               memory_cost=self.memory_cost, parallelism=self.parallelism, hash_len=32, type=Type.ID)


@functools.lru_cache(maxsize=4)
def _cipher(key: bytes) -> AESGCM:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _encrypt(key: bytes, seal_id: str, plain: bytes, aad: bytes) -> str:
    nonce = os.urandom(12)
    return f"{_FORMAT}.{seal_id}.{_b64(nonce + _cipher(key).encrypt(nonce, plain, aad))}"


def _token_seal(token: str) -> str:
    """The id of the seal a token was made under ('' for what is not a token)."""
    parts = token.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == _FORMAT else ""


def _decrypt(key: bytes, token: str, aad: bytes) -> bytes | None:
    """The plain bytes, or None: a token damaged, made for another record, or under another key."""
    from cryptography.exceptions import InvalidTag

    try:
        raw = base64.urlsafe_b64decode(token.split(".")[2])
        return _cipher(key).decrypt(raw[:12], raw[12:], aad)
    except (InvalidTag, ValueError, IndexError):
        return None


def _aad(op: str, record_id: str, at: str) -> bytes:
    return f"{op}\0{record_id}\0{at}".encode()


def _new_seal(passphrase: str) -> tuple[Seal, bytes]:
    seal = Seal(os.urandom(16), _TIME_COST, _MEMORY_COST, _PARALLELISM)
    key = seal.derive(passphrase)
    return replace(seal, check=_encrypt(key, seal.id, _KNOWN, _CHECK_AAD)), key


def check_new_passphrase(passphrase: str) -> None:
    """BadInput naming what is wrong with ``passphrase`` as a new one."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BadInput(f"the passphrase is too short: use at least {MIN_PASSPHRASE} characters (a few words)")


def forget_keys() -> None:
    """Forget every key this process derived: the next read asks for the passphrase again (a
    long-running process whose person steps away; tests that stand for separate commands)."""
    _keys.clear()
    _cipher.cache_clear()


def _current(ws: Workspace) -> Seal | None:
    text = store_path.seal_text(ws.store().db)
    return None if text is None else Seal.parse(text)


def is_locked(ws: Workspace) -> bool:
    """Whether the check-ins are sealed with a passphrase."""
    return store_path.seal_text(ws.store().db) is not None


def _passphrase(ws: Workspace) -> str:
    given = os.environ.get(PASSPHRASE_ENV)
    if not given and ws.ask_passphrase is not None:
        given = ws.ask_passphrase("Passphrase for your check-ins")
        if not given:  # Enter, at the terminal's prompt
            raise Locked(NOT_GIVEN_MESSAGE)
    if not given:
        raise Locked(LOCKED_MESSAGE)
    return given


def _key(ws: Workspace, seal: Seal, passphrase: str | None = None) -> bytes:
    """The seal's key: from memory, else derived from ``passphrase`` (or the one the person gives)
    and checked against the seal; a wrong passphrase is BadInput, and nothing is changed."""
    text = seal.text()
    if passphrase is None and text in _keys:
        return _keys[text]
    key = seal.derive(passphrase if passphrase is not None else _passphrase(ws))
    if _decrypt(key, seal.check, _CHECK_AAD) != _KNOWN:
        raise WrongPassphrase(WRONG_MESSAGE)
    _keys[text] = key
    return key


def _sealed_data(op: str, record_id: str, data: dict[str, Any], seal: Seal, key: bytes) -> dict[str, Any]:
    inner = {k: v for k, v in data.items() if k not in ("at", "local_only")}
    at = str(data["at"])
    token = _encrypt(key, seal.id, json.dumps(inner, ensure_ascii=False, sort_keys=True).encode("utf-8"),
                     _aad(op, record_id, at))
    return {"subject": SEALED, "at": at, "local_only": True, SEALED: token}


def _opened_data(op: str, record_id: str, data: dict[str, Any], key: bytes) -> dict[str, Any] | None:
    at = str(data["at"])
    plain = _decrypt(key, str(data[SEALED]), _aad(op, record_id, at))
    if plain is None:
        return None
    return {**json.loads(plain), "at": at, "local_only": True}


def verify(ws: Workspace) -> None:
    """Ask for the passphrase now, if the check-ins are locked (BadInput if it is wrong)."""
    seal = _current(ws)
    if seal is not None:
        _key(ws, seal)


def seal_record(ws: Workspace, record: Record) -> Record:
    """The record as it is kept: sealed if the check-ins are locked (asking for the passphrase once
    per process), else as it is."""
    seal = _current(ws)
    if seal is None:
        return record
    return replace(record, data=_sealed_data(record.op, record.id, record.data, seal, _key(ws, seal)))


def open_events(ws: Workspace, events: list[PathEvent]) -> list[PathEvent]:
    """The records as they were written: sealed ones opened (asking for the passphrase once per
    process). One that does not open (damaged in storage, or sealed under a seal since lost) is left
    out; `upstack doctor` names it."""
    if not any(SEALED in e.data for e in events):
        return events
    seal = _current(ws)
    key = _key(ws, seal) if seal is not None else b""
    opened = []
    for event in events:
        if SEALED not in event.data:
            opened.append(event)
            continue
        data = _opened_data(event.op, event.id, event.data, key) if seal is not None else None
        if data is not None:
            opened.append(replace(event, subject=str(data["subject"]), data=data))
    return opened


def sealed_about(ws: Workspace, op: str, subject: str, found: list[PathEvent]) -> list[PathEvent]:
    """``found`` (the records of ``op`` found by their ``subject`` in clear) with the sealed ones about
    it, opened, oldest first: a sealed record's subject is sealed too, so all of the op's are opened."""
    sealed = store_path.events(ws.store().db, [op], subject=SEALED)
    about = [e for e in open_events(ws, sealed) if e.subject == subject]
    return sorted([*found, *about], key=lambda e: (e.at, e.id))


@dataclass
class Rewritten:
    """What turning the seal on, off or to a new passphrase rewrote."""

    records: int = 0  # rows of path_records
    set_aside: int = 0  # records in journal files kept aside for a person to inspect
    # Copies of the database made before a migration while check-ins were kept in clear.
    old_copies: list[Path] = field(default_factory=list)


Keyed = tuple[Seal, bytes]


def lock(ws: Workspace, passphrase: str) -> Rewritten:
    """Seal every wellbeing record with ``passphrase`` (already locked: the same passphrase seals any
    record still in clear). All or nothing."""
    _refuse_on_a_server(ws)
    seal = _current(ws)
    if seal is not None:
        keyed = (seal, _key(ws, seal, passphrase))
        return _rewrite(ws, keyed, keyed)
    check_new_passphrase(passphrase)
    return _rewrite(ws, None, _new_seal(passphrase))


def unlock(ws: Workspace) -> Rewritten:
    """Keep the check-ins in clear again (needs the passphrase). All or nothing."""
    _refuse_on_a_server(ws)
    seal = _current(ws)
    if seal is None:
        raise BadInput("check-ins are not locked")
    return _rewrite(ws, (seal, _key(ws, seal)), None)


def change_passphrase(ws: Workspace, new: str) -> Rewritten:
    """Seal every wellbeing record anew under ``new`` (needs the present passphrase). All or nothing."""
    _refuse_on_a_server(ws)
    seal = _current(ws)
    if seal is None:
        raise BadInput("check-ins are not locked: `upstack checkin lock` sets a passphrase")
    keyed = (seal, _key(ws, seal))
    check_new_passphrase(new)
    return _rewrite(ws, keyed, _new_seal(new))


def _refuse_on_a_server(ws: Workspace) -> None:
    from upstack.services.accounts import has_accounts

    if has_accounts(ws):
        raise BadInput("check-ins stay on your own machine: a team server keeps none, so it has none to lock")


def _rewrite(ws: Workspace, old: Keyed | None, new: Keyed | None) -> Rewritten:
    """Every wellbeing row from ``old``'s seal (None: clear) to ``new``'s, and the seal with them, in
    one transaction; then again for what other processes journaled meanwhile (they read the seal
    before this changed it). Pending journal files are taken in first; journal files kept aside are
    rewritten after."""
    store = ws.store()
    store.prepare_scrub()  # the rows' earlier bytes are overwritten, not left in free pages
    done = Rewritten()
    target = new[0].text() if new else None
    expected = old[0].text() if old else None
    for first in (True, False):
        ws.ingest()
        with store.lock():
            if store_path.seal_text(store.db) != expected:
                if not first:
                    break  # another command changed the seal since: its state stands
                raise BadInput("the check-ins' passphrase was changed by another command meanwhile: nothing was "
                               "changed; run this again")
            rows = [c for e in store_path.events(store.db, WELLBEING_OPS) if (c := _change(e, old, new))]
            if rows or expected != target:
                done.records += store_path.rewrite_wellbeing(store.db, rows, target)
        expected = target
    store.scrub(("path_records",))
    if new:
        _keys[new[0].text()] = new[1]
    done.set_aside = _rewrite_set_aside(ws, old, new)
    if old is None:
        done.old_copies = sorted((ws.home / "backups").glob("*.bak"))
    return done


def _rewrite_set_aside(ws: Workspace, old: Keyed | None, new: Keyed | None) -> int:
    """The wellbeing records in journal files kept aside (lines that could not be applied, kept for a
    person to inspect), sealed, opened or sealed anew as the rows were; one that does not open stays."""

    def change(record: Record) -> Record:
        data = record.data
        if record.op not in WELLBEING_OPS or not isinstance(data, dict) or "at" not in data:
            return record
        try:
            changed = _change(PathEvent(record.id, record.op, str(data.get("subject")), str(data["at"]), data),
                              old, new)
        except BadInput:
            return record
        return record if changed is None else replace(record, data=changed[2])

    journal = ws.journal
    kept = sorted(journal.quarantine.iterdir()) if journal.quarantine.is_dir() else []
    rejected = journal.directory / "rejected.jsonl"
    return sum(rewrite_records(path, change) for path in [*kept, *([rejected] if rejected.exists() else [])]
               if path.is_file())


def _change(event: PathEvent, old: Keyed | None, new: Keyed | None) -> tuple[str, str, dict[str, Any]] | None:
    """A row's new (id, subject, data), or None when it is as ``new`` wants it already."""
    data = event.data
    if SEALED in data:
        under = _token_seal(str(data[SEALED]))
        if new and under == new[0].id:
            return None
        clear = _opened_data(event.op, event.id, data, old[1]) if old and under == old[0].id else None
        if clear is None:
            raise BadInput(f"{event.op} record {event.id} does not open (damaged in storage, or sealed under a "
                           "passphrase since changed; `upstack doctor` names it): nothing was changed")
    elif new is None:
        return None
    else:
        clear = data
    if new is None:
        return event.id, str(clear["subject"]), clear
    return event.id, SEALED, _sealed_data(event.op, event.id, clear, *new)


@dataclass(frozen=True)
class Problem:
    """What `upstack doctor` says of the sealed check-ins."""

    subject: str
    message: str
    severity: str = "error"  # or "warning"


def check(ws: Workspace) -> list[Problem]:
    """Whether every sealed wellbeing record opens (when a passphrase is at hand; without one, a
    warning that they were not checked), naming each that does not; and any kept in clear though
    the check-ins are locked."""
    db = ws.store().db
    events = store_path.events(db, WELLBEING_OPS)
    sealed = [e for e in events if SEALED in e.data]
    text = store_path.seal_text(db)
    if text is None:
        return [Problem(f"{e.op} record {e.id}", "sealed, but the check-ins have no seal any more, so it cannot be "
                                                 "opened (`upstack checkin forget` removes every check-in)")
                for e in sealed]
    seal = Seal.parse(text)
    problems = [Problem(f"{e.op} record {e.id}", "kept in clear though the check-ins are locked: "
                                                 "`upstack checkin lock` seals it", "warning")
                for e in events if SEALED not in e.data]
    if not sealed:
        return problems
    count = f"{len(sealed)} sealed wellbeing record{'s' if len(sealed) != 1 else ''}"
    try:
        key = _key(ws, seal)
    except Locked:
        return [*problems, Problem(count, f"not checked: {LOCKED_MESSAGE} to check that they open", "warning")]
    except WrongPassphrase:  # the rest of doctor's checks still run: a wrong passphrase damages nothing
        return [*problems, Problem(count, f"not checked: the passphrase given ({PASSPHRASE_ENV} or typed) is not "
                                          "the check-ins' one", "warning")]
    for event in sealed:
        if _token_seal(str(event.data[SEALED])) != seal.id:
            problems.append(Problem(f"{event.op} record {event.id}", "sealed under a passphrase since changed: it "
                                                                     "cannot be opened"))
        elif _opened_data(event.op, event.id, event.data, key) is None:
            problems.append(Problem(f"{event.op} record {event.id}", "sealed, but does not open: damaged in storage "
                                                                     "(it is left out of what you see)"))
    return problems
