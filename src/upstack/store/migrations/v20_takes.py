"""Migration 20: takes (issue 19). A take is an entry of kind "take" (the claim heard its title, the
person's notes its body, so search, revisions, export and privacy work on it) with a row here saying
who said it, where, and when to look at it again, and its events: each confidence the person gave it
(with the reason it moved), each source added, crux, "what would change my mind", related node and
revisit, none ever rewritten, so how a view moved stays in its history."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    real = "REAL" if db.dialect == "sqlite" else "DOUBLE PRECISION"
    db.execute(
        "CREATE TABLE takes ("
        "entry_id TEXT PRIMARY KEY REFERENCES entries(id), "
        "source TEXT NOT NULL, "  # who said it
        "place TEXT NOT NULL DEFAULT '', "  # where: a link, a talk, a conversation
        "revisit_by TEXT, "  # YYYY-MM-DD; cleared when revisited (the events keep every one)
        "created_at TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE take_events ("
        "id TEXT PRIMARY KEY, "
        "entry_id TEXT NOT NULL REFERENCES entries(id), "
        "at TEXT NOT NULL, "  # when it was really said
        "kind TEXT NOT NULL, "  # confidence, source, crux, would_change, node, revisit
        f"confidence {real}, "
        "text TEXT NOT NULL DEFAULT '', "  # the reason, the crux, what would change my mind, the source's place
        "source TEXT, "
        "node_id TEXT, "
        "revisit_by TEXT, "
        "author_id TEXT)")
    db.execute("CREATE INDEX take_events_entry ON take_events(entry_id, at)")
