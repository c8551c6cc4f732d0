"""Migration 16: notes from a Markdown vault keep what they were (issue 17): the other names a
``[[link]]`` may call an entry by, and what a revision carried besides its text."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]

_STATEMENTS = (
    # 1: the names besides its title that a [[link]] finds an entry by: its aliases and, for a note
    # from a vault, its file's name and path (each as domain.text.title_key folds it).
    "CREATE TABLE entry_names (entry_id TEXT NOT NULL REFERENCES entries(id), name_key TEXT NOT NULL, "
    "PRIMARY KEY (entry_id, name_key))",
    "CREATE INDEX entry_names_key ON entry_names(name_key)",
    # 2: what a revision carried besides its text, as JSON (a note's front matter and file, its
    # aliases): an edit made in a vault keeps the earlier front matter in the earlier revision.
    # NULL for a revision that carried nothing more (every revision before this migration).
    "ALTER TABLE revisions ADD COLUMN meta TEXT",
)


def run(db: Database) -> None:
    for statement in _STATEMENTS:
        db.execute(statement)
