"""The linked vault's state (migration 17): the folder, and each note file as last synced.

The state is the common base of a two-way sync (interop/vault_sync.py): a file whose bytes are not
what they were here was edited in the folder; an entry whose revision is not the one here was edited
in upstack."""

from __future__ import annotations

from dataclasses import dataclass

from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["Link", "FileState", "Head", "entry_heads", "current_revision", "get_link", "set_link", "drop_link",
           "file_states", "put_file", "drop_file"]


@dataclass(frozen=True)
class Link:
    root: str
    include_private: bool
    linked_at: str


@dataclass(frozen=True)
class FileState:
    path: str  # vault-relative, forward slashes
    entry_id: str
    revision_id: str
    sha256: str
    size: int
    mtime_ns: int


def get_link(db: Database) -> Link | None:
    row = db.one("SELECT root, include_private, linked_at FROM vault_link")
    return Link(row["root"], bool(row["include_private"]), row["linked_at"]) if row else None


def set_link(db: Database, root: str, include_private: bool) -> None:
    """Link ``root`` (replacing another folder's link and state: one vault per workspace)."""
    with db.transaction():
        old = get_link(db)
        if old is not None and old.root != root:
            db.execute("DELETE FROM vault_files")
        db.execute("DELETE FROM vault_link")
        db.execute("INSERT INTO vault_link (root, include_private, linked_at) VALUES (?, ?, ?)",
                   (root, int(include_private), old.linked_at if old and old.root == root else now_iso()))


def drop_link(db: Database) -> None:
    with db.transaction():
        db.execute("DELETE FROM vault_files")
        db.execute("DELETE FROM vault_link")


def file_states(db: Database) -> dict[str, FileState]:
    rows = db.query("SELECT path, entry_id, revision_id, sha256, size, mtime_ns FROM vault_files")
    return {r["path"]: FileState(r["path"], r["entry_id"], r["revision_id"], r["sha256"], int(r["size"]),
                                 int(r["mtime_ns"])) for r in rows}


def put_file(db: Database, state: FileState, *, moved_from: str | None = None) -> None:
    """Record one file as synced (in one transaction with forgetting the path it moved from)."""
    with db.transaction():
        for path in {state.path, moved_from} - {None}:
            db.execute("DELETE FROM vault_files WHERE path = ?", (path,))
        db.execute("INSERT INTO vault_files (path, entry_id, revision_id, sha256, size, mtime_ns) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (state.path, state.entry_id, state.revision_id, state.sha256,
                                                  state.size, state.mtime_ns))


def drop_file(db: Database, path: str) -> None:
    with db.transaction():
        db.execute("DELETE FROM vault_files WHERE path = ?", (path,))


@dataclass(frozen=True)
class Head:
    """What sync needs of an entry without loading it: its revision, and whether it is in scope."""
    revision_id: str
    private: bool
    own: bool  # written here (not by another member of a team server)
    deleted: bool
    purged: bool


def entry_heads(db: Database) -> dict[str, Head]:
    rows = db.query("SELECT id, revision_id, private, author_id, deleted_at, purged_at FROM entries")
    return {r["id"]: Head(r["revision_id"], bool(r["private"]), r["author_id"] is None,
                          r["deleted_at"] is not None, r["purged_at"] is not None) for r in rows}


def current_revision(db: Database, entry_id: str) -> str | None:
    """The entry's current revision (what a file synced now is the text of), None if there is no entry."""
    found = db.scalar("SELECT revision_id FROM entries WHERE id = ?", (entry_id,))
    return str(found) if found else None
