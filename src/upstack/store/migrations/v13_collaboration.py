"""Migration 13: collaboration that travels with sync: who wrote a comment, stars per person, and the
local changes a server refused that this workspace keeps or dropped."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    # A comment pulled from a team server names its author by login: a laptop has no accounts.
    "ALTER TABLE comments ADD COLUMN author_login TEXT NOT NULL DEFAULT ''",
    # Stars are each person's own: '' is the workspace owner (a laptop's one user; on a team server,
    # the first account, who owns what was written with nobody signed in). The newest change wins.
    "CREATE TABLE stars (entry_id TEXT NOT NULL REFERENCES entries(id), user_id TEXT NOT NULL, "
    "starred INTEGER NOT NULL, at TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (entry_id, user_id))",
    "CREATE INDEX stars_user ON stars(user_id, starred)",
    # Records a team server refused that `upstack sync --discard/--keep` took off the list to send.
    "CREATE TABLE sync_held (record_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, op TEXT NOT NULL, "
    "decision TEXT NOT NULL, at TEXT NOT NULL)",
)

# The stars entries had, each its author's (the owner's, '', when nobody or the owner wrote it), with
# an event id of its own so that two people's stars of one entry never share a record id in a sync.
_RANDOM = {"sqlite": "lower(hex(randomblob(8)))", "postgresql": "md5(random()::text)"}
_MOVE_STARS = (
    "INSERT INTO stars (entry_id, user_id, starred, at, event_id) "
    "SELECT e.id, CASE WHEN e.author_id IS NULL OR e.author_id = "
    "(SELECT value FROM workspace_info WHERE key = 'owner_user_id') THEN '' ELSE e.author_id END, "
    "1, e.updated_at, 'star-' || e.id || '-' || {random} FROM entries e WHERE e.starred <> 0"
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
    db.execute(_MOVE_STARS.format(random=_RANDOM[db.dialect]))
    db.execute("UPDATE entries SET starred = 0 WHERE starred <> 0")  # the column stays, unused
