"""What `upstack doctor`, `reindex` and `backup` read and rebuild (services/maintenance.py says what
it means): the entries beside their search index, the files they name, and the index rebuilt."""

from __future__ import annotations

from typing import Any

from upstack.store.db import Database
from upstack.store.ingest import index_entry

__all__ = ["entries_without_revision", "entries", "tags_by_entry", "indexed_texts", "word_counts", "search_words",
           "search_stats", "stored_attachments", "has_run", "rebuild_search_index", "attachment_hashes", "entry_count"]


def entries_without_revision(db: Database) -> list[str]:
    """Entries whose current revision is missing."""
    return [r["id"] for r in db.query(
        "SELECT e.id FROM entries e LEFT JOIN revisions r ON r.id = e.revision_id WHERE r.id IS NULL")]


def entries(db: Database) -> list[dict[str, Any]]:
    """Every entry's id, title, body and deletion time, by id."""
    return db.query("SELECT id, title, body, deleted_at FROM entries ORDER BY id")


def tags_by_entry(db: Database) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for row in db.query("SELECT entry_id, tag FROM entry_tags ORDER BY tag"):
        tags.setdefault(row["entry_id"], []).append(row["tag"])
    return tags


def indexed_texts(db: Database) -> dict[str, dict[str, Any]]:
    """What the search index holds per entry: its length and texts (None where they are missing)."""
    join_texts, texts = db.engine.texts_from("LEFT JOIN")  # an entry whose texts are missing is found too
    return {r["entry_id"]: r for r in db.query(
        f"SELECT s.entry_id, s.doc_len, {texts}.title_text, {texts}.tag_text, {texts}.body_text "
        f"FROM entry_search s{join_texts}")}


def word_counts(db: Database) -> set[tuple[str, str, int, int]]:
    """(entry, word, count, entry length) as kept for ranking common words."""
    return {(r["entry_id"], r["word"], r["freq"], r["doc_len"])
            for r in db.query("SELECT entry_id, word, freq, doc_len FROM word_counts")}


def search_words(db: Database) -> set[str]:
    """The words kept for completing and spelling (store.vocabulary)."""
    return {r["word"] for r in db.query("SELECT word FROM search_words")}


def search_stats(db: Database) -> tuple[int, int] | None:
    """(entries, tokens) as kept for ranking; None if the row is gone."""
    row = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1")
    return None if row is None else (row["docs"], row["tokens"])


def stored_attachments(db: Database) -> list[dict[str, Any]]:
    """Attachments that have a file, by hash."""
    return db.query("SELECT a.id, a.filename, a.sha256, a.entry_id FROM attachments a "
                    "WHERE a.sha256 IS NOT NULL ORDER BY a.sha256, a.id")


def has_run(db: Database, run_id: str) -> bool:
    return db.scalar("SELECT 1 FROM runs WHERE id = ?", (run_id,)) is not None


def rebuild_search_index(db: Database) -> int:
    """Rebuild the search index (derived data) from the entries, in one transaction; how many."""
    with db.transaction():
        db.execute("DELETE FROM entry_search")
        db.execute("DELETE FROM word_counts")
        db.execute("DELETE FROM search_words")
        db.execute("UPDATE search_stats SET docs = 0, tokens = 0 WHERE id = 1")
        db.engine.clear_texts(db)
        ids = [r["id"] for r in db.query("SELECT id FROM entries WHERE deleted_at IS NULL")]
        for entry_id in ids:
            index_entry(db, entry_id)
    return len(ids)


def attachment_hashes(db: Database) -> list[str]:
    return [r["sha256"] for r in db.query("SELECT DISTINCT sha256 FROM attachments WHERE sha256 IS NOT NULL")]


def entry_count(db: Database) -> int:
    return int(db.scalar("SELECT count(*) FROM entries"))
