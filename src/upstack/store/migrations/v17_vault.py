"""Migration 17: a two-way vault (issue 17): the folder of Markdown a workspace is linked to, and
what each of its notes was when last synced, the common base from which `upstack vault sync` tells
an edit in the folder from an edit in upstack.

Both are this machine's (a folder's path means nothing elsewhere): a JSON export leaves them out."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    # 1: the linked folder (one per workspace), and whether private entries go into it.
    "CREATE TABLE vault_link (root TEXT PRIMARY KEY, include_private INTEGER NOT NULL DEFAULT 0, "
    "linked_at TEXT NOT NULL)",
    # 2: per note file: the entry it is, the revision it was synced at, and its bytes' hash, size and
    # modification time then (a file whose size and time are the same is not read again).
    "CREATE TABLE vault_files (path TEXT PRIMARY KEY, entry_id TEXT NOT NULL, revision_id TEXT NOT NULL, "
    "sha256 TEXT NOT NULL, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL)",
    "CREATE INDEX vault_files_entry ON vault_files(entry_id)",
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
