"""What a vault sync would do, decided from the folder (stat only) and the log against the state
the last sync left (store/vault.py), the common base of both sides. Reads no note it need not: a
file whose size and modification time are as recorded is taken as unchanged; another is read and
its sha256 compared.

One side changed: the other follows. Both: both are kept (the file's text becomes a new revision
and the entry's text is written beside the file as a conflict copy). Deleted on one side and changed
on the other: the change wins."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from upstack.interop.vault_folder import read_regular
from upstack.store.vault import FileState, Head

__all__ = ["Plan", "Stat", "make_plan", "stat_of", "front_id", "CONFLICT_NAME", "is_conflict_copy"]

CONFLICT_NAME = re.compile(r" \(conflict \d{4}-\d{2}-\d{2}(?:-\d+)?\)\.md$")


def is_conflict_copy(rel: str, notes: set[str] | None = None) -> bool:
    """A conflict copy sync wrote: for the reader, never read back (its text is a revision already).
    Named ``X (conflict DATE).md`` beside ``X.md`` (a note of that name with no ``X.md`` is someone's)."""
    found = CONFLICT_NAME.search(rel)
    if found is None:
        return False
    return notes is None or rel[:found.start()] + ".md" in notes


@dataclass(frozen=True)
class Stat:
    size: int
    mtime_ns: int


def stat_of(path: Path) -> Stat | None:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return Stat(st.st_size, st.st_mtime_ns)


_ID_LINE = re.compile(r"^id:\s*['\"]?([0-9A-Za-z]+)['\"]?\s*$", re.MULTILINE)


def front_id(path: Path) -> str | None:
    """The ``id:`` in a note's front matter, read without parsing the rest (a move is found by it)."""
    try:
        head = (read_regular(path) or b"")[:8192].decode("utf-8", "replace").lstrip("\ufeff").replace("\r\n", "\n")
    except OSError:
        return None
    if not head.startswith("---\n"):
        return None
    end = head.find("\n---", 3)
    found = _ID_LINE.search(head[4:end if end > 0 else len(head)])
    return found.group(1) if found else None


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_regular(path) or b"").hexdigest()
    except OSError:
        return None


@dataclass
class Plan:
    import_files: list[str] = field(default_factory=list)  # changed (entry unchanged) or new files
    restore_and_import: list[str] = field(default_factory=list)  # changed file, deleted entry
    write_files: list[str] = field(default_factory=list)  # entry changed, file not (or file deleted)
    conflicts: list[str] = field(default_factory=list)  # both changed
    new_entries: list[str] = field(default_factory=list)  # entry ids with no file yet
    delete_entries: list[str] = field(default_factory=list)  # file deleted, entry unchanged: paths
    remove_files: list[str] = field(default_factory=list)  # entry deleted, file unchanged
    forget: list[str] = field(default_factory=list)  # gone on both sides, or out of scope
    moves: dict[str, str] = field(default_factory=dict)  # new path -> old path (same bytes, or same id)
    touch: dict[str, Stat] = field(default_factory=dict)  # same bytes, new time: only the state
    stats: dict[str, Stat] = field(default_factory=dict)
    claimed: dict[str, str] = field(default_factory=dict)  # entry id in a new file's front matter -> path
    revive: dict[str, str] = field(default_factory=dict)  # a new file's path -> the deleted entry its id names

    @property
    def deletions(self) -> list[str]:
        return self.delete_entries + self.remove_files

    def counts(self) -> dict[str, int]:
        return {"import": len(self.import_files) + len(self.restore_and_import), "write": len(self.write_files),
                "conflicts": len(self.conflicts), "new_files": len(self.new_entries),
                "delete_entries": len(self.delete_entries), "remove_files": len(self.remove_files),
                "moves": len(self.moves)}  # a move with an edit is in import too

    def empty(self) -> bool:
        return not any(self.counts().values())


def make_plan(root: Path, notes: list[str], states: dict[str, FileState], heads: dict[str, Head],
              in_scope: set[str]) -> Plan:
    """``notes``: the folder's note paths (vault-relative); ``in_scope``: the entries that belong in it."""
    plan = Plan()
    every = set(notes)
    present = {rel for rel in notes if not is_conflict_copy(rel, every)}
    for rel in present:
        found = stat_of(root / rel)
        if found is not None:
            plan.stats[rel] = found
    file_changed: dict[str, bool] = {}
    for rel, state in states.items():
        now = plan.stats.get(rel)
        if now is None:
            continue
        if (now.size, now.mtime_ns) == (state.size, state.mtime_ns):
            file_changed[rel] = False
        elif now.size == state.size and _sha(root / rel) == state.sha256:
            file_changed[rel] = False
            plan.touch[rel] = now
        else:
            file_changed[rel] = True
    vanished = {rel: s for rel, s in states.items() if rel not in plan.stats}
    new_files = sorted(present - set(states))
    by_sha = {s.sha256: rel for rel, s in vanished.items()}
    for rel in new_files:  # a file moved or renamed with the same bytes: follow it
        stat = plan.stats.get(rel)
        old = by_sha.get(_sha(root / rel) or "") if stat and any(
            v.size == stat.size for v in vanished.values()) else None
        if old is not None and old in vanished:
            plan.moves[rel] = old
            del vanished[old]
        else:
            plan.import_files.append(rel)  # new, or moved and edited (found by the id in it)
            said = front_id(root / rel)
            if said:
                plan.claimed[said] = rel
    for said, rel in plan.claimed.items():  # a note put back (from a backup, the trash): its entry too
        head = heads.get(said)
        if head is not None and head.deleted and not head.purged:
            plan.revive[rel] = said
    for rel, old_state in list(vanished.items()):
        if old_state.entry_id in plan.claimed:
            plan.moves[plan.claimed[old_state.entry_id]] = rel
            del vanished[rel]
    tracked = {s.entry_id for s in states.values()}
    moved_from = set(plan.moves.values())
    for rel, state in states.items():
        if rel in moved_from:
            continue
        head = heads.get(state.entry_id)
        if head is None or head.purged:
            plan.forget.append(rel)
            continue
        if state.entry_id not in in_scope and not head.deleted:
            # Not one upstack writes here (private, or another member's), but the person's own file:
            # its edits are read, and it is neither rewritten nor, while it is there, forgotten.
            if rel in vanished:
                plan.forget.append(rel)
            elif file_changed.get(rel, False):
                plan.import_files.append(rel)
            continue
        entry_changed = head.revision_id != state.revision_id
        if rel in vanished:
            if head.deleted:
                plan.forget.append(rel)
            elif entry_changed:
                plan.write_files.append(rel)
            else:
                plan.delete_entries.append(rel)
            continue
        changed = file_changed.get(rel, False)
        if head.deleted:
            (plan.restore_and_import if changed else plan.remove_files).append(rel)
        elif changed and entry_changed:
            plan.conflicts.append(rel)
        elif changed:
            plan.import_files.append(rel)
        elif entry_changed:
            plan.write_files.append(rel)
    plan.new_entries = sorted(in_scope - tracked - set(plan.claimed))
    return plan
