"""Versioned migrations, applied automatically and exactly once.

Each migration runs in one transaction together with its row in
``schema_migrations``. Callers hold the workspace lock (SQLite) or an advisory
lock (PostgreSQL) and back the SQLite file up first (see ``store.Store``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from upstack.errors import NewerVersion
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["MIGRATIONS", "LATEST", "current_version", "pending", "apply"]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    run: Callable[[Database], None]


_CORE = """
CREATE TABLE workspace_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    why TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    parent_id TEXT REFERENCES nodes(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX nodes_kind_title ON nodes(kind, title_key);
CREATE INDEX nodes_parent ON nodes(parent_id);
-- Small columns first, long texts last: SQLite reads a row's columns in order,
-- so filters and sorting never have to step through a long body.
CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    node_id TEXT REFERENCES nodes(id),
    private INTEGER NOT NULL DEFAULT 0,
    starred INTEGER NOT NULL DEFAULT 0,
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    purged_at TEXT,
    revision_id TEXT NOT NULL,
    source TEXT UNIQUE,
    title_key TEXT NOT NULL,
    title TEXT NOT NULL,
    extra_tags TEXT NOT NULL DEFAULT '[]',
    meta TEXT NOT NULL DEFAULT '{}',
    body TEXT NOT NULL
);
CREATE INDEX entries_timeline ON entries(occurred_at, id);
CREATE INDEX entries_node ON entries(node_id);
CREATE INDEX entries_title_key ON entries(title_key);
CREATE TABLE revisions (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries(id),
    parent_id TEXT,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    purged_at TEXT
);
CREATE INDEX revisions_entry ON revisions(entry_id, number);
CREATE TABLE entry_tags (
    entry_id TEXT NOT NULL REFERENCES entries(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (entry_id, tag)
);
CREATE INDEX entry_tags_tag ON entry_tags(tag);
CREATE TABLE links (
    from_id TEXT NOT NULL REFERENCES entries(id),
    target TEXT NOT NULL,
    target_key TEXT NOT NULL,
    to_id TEXT REFERENCES entries(id),
    PRIMARY KEY (from_id, target)
);
CREATE INDEX links_to ON links(to_id);
CREATE INDEX links_unresolved ON links(target_key);
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    entry_id TEXT NOT NULL REFERENCES entries(id),
    sha256 TEXT,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    purged_at TEXT
);
CREATE INDEX attachments_entry ON attachments(entry_id);
CREATE INDEX attachments_sha ON attachments(sha256);
CREATE TABLE applied_records (id TEXT PRIMARY KEY, op TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE search_stats (id INTEGER PRIMARY KEY, docs INTEGER NOT NULL, tokens INTEGER NOT NULL);
INSERT INTO search_stats (id, docs, tokens) VALUES (1, 0, 0);
"""

# The search index: upstack's own tokens, space-separated, in three fields (see
# store/search.py). Tags are whole tokens, hence '-', '_' and '/' as token chars.
# On SQLite the FTS5 table keeps the texts; entry_search stays narrow so that
# ranking thousands of matches reads little besides the index.
_SEARCH_SQLITE = """
CREATE TABLE entry_search (
    rowid INTEGER PRIMARY KEY,
    entry_id TEXT NOT NULL UNIQUE REFERENCES entries(id),
    occurred_at TEXT NOT NULL,
    doc_len INTEGER NOT NULL
);
CREATE VIRTUAL TABLE entry_fts USING fts5(
    title_text, body_text, tag_text,
    tokenize="unicode61 remove_diacritics 2 tokenchars '-_/'"
);
INSERT INTO entry_fts(entry_fts, rank) VALUES ('rank', 'bm25(2.0, 1.0, 1.0)');
"""

_SEARCH_POSTGRESQL = """
CREATE TABLE entry_search (
    entry_id TEXT PRIMARY KEY REFERENCES entries(id),
    occurred_at TEXT NOT NULL,
    doc_len INTEGER NOT NULL,
    title_text TEXT NOT NULL,
    tag_text TEXT NOT NULL,
    body_text TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_text), 'A')
        || setweight(to_tsvector('simple', body_text), 'B')
    ) STORED
);
CREATE INDEX entry_search_tsv ON entry_search USING GIN (tsv);
"""


def _statements(script: str) -> list[str]:
    """Split a script on ';' at line ends, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if line.rstrip().endswith(";") and (
            not text.upper().startswith("CREATE TRIGGER") or line.strip().upper() == "END;"
        ):
            statements.append(text.rstrip(";"))
            current = []
    return statements


def _initial(db: Database) -> None:
    search = _SEARCH_SQLITE if db.dialect == "sqlite" else _SEARCH_POSTGRESQL
    for statement in _statements(_CORE) + _statements(search):
        db.execute(statement)


def _kind_timeline_index(db: Database) -> None:
    db.execute("CREATE INDEX entries_kind_time ON entries(kind, occurred_at)")


def _theory_of_change(db: Database) -> None:
    db.execute("ALTER TABLE nodes ADD COLUMN deleted_at TEXT")
    db.execute(
        "CREATE TABLE node_events (id TEXT PRIMARY KEY, node_id TEXT NOT NULL REFERENCES nodes(id), "
        "at TEXT NOT NULL, change TEXT NOT NULL, old_value TEXT, new_value TEXT, "
        "reason TEXT NOT NULL DEFAULT '')")
    db.execute("CREATE INDEX node_events_node ON node_events(node_id, at)")


def _idea_triage(db: Database) -> None:
    from upstack.store.ideas import create_tables

    create_tables(db)


def _activity_indexes(db: Database) -> None:
    # Covering indexes: tree, check and progress count entries per node and per recent
    # day without reading the (long) rows themselves.
    db.execute("CREATE INDEX entries_node_activity ON entries(node_id, kind, occurred_at, deleted_at)")
    db.execute("CREATE INDEX entries_recent_nodes ON entries(occurred_at, node_id, deleted_at)")


def _runs(db: Database) -> None:
    from upstack.store.runs import create_tables

    create_tables(db)


def _team(db: Database) -> None:
    from upstack.store.accounts import create_tables

    create_tables(db)


def _word_counts(db: Database) -> None:
    from upstack.store.word_rank import backfill, create_tables

    create_tables(db)
    backfill(db)


def _run_points_lost(db: Database) -> None:
    from upstack.store.runs import add_points_lost

    add_points_lost(db)


def _token_scopes_and_throttle(db: Database) -> None:
    from upstack.store.accounts import token_scopes_and_throttle

    token_scopes_and_throttle(db)


def _checksums(db: Database) -> None:
    # Kept with each new revision and metric chunk (store/integrity.py), so that doctor notices a
    # value changed in storage; rows from before stay without one.
    db.execute("ALTER TABLE revisions ADD COLUMN checksum TEXT")
    db.execute("ALTER TABLE metric_chunks ADD COLUMN checksum TEXT")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial research log", _initial),
    Migration(2, "timeline by kind", _kind_timeline_index),
    Migration(3, "theory-of-change tree: node history", _theory_of_change),
    Migration(4, "idea triage", _idea_triage),
    Migration(5, "activity indexes", _activity_indexes),
    Migration(6, "experiment runs", _runs),
    Migration(7, "team server: accounts, sharing, comments", _team),
    Migration(8, "search: words an entry repeats, counted for ranking", _word_counts),
    Migration(9, "team server: API token scope and expiry, sign-in throttle counters", _token_scopes_and_throttle),
    Migration(10, "runs: metric points lost to write errors", _run_points_lost),
    Migration(11, "checksums of revisions and metric chunks", _checksums),
)
LATEST = MIGRATIONS[-1].version

_TRACKING = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def current_version(db: Database) -> int:
    if db.dialect == "sqlite":
        exists = db.scalar(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        )
    else:
        exists = db.scalar("SELECT count(*) FROM pg_tables WHERE tablename='schema_migrations' "
                           "AND schemaname = current_schema()")
    if not exists:
        return 0
    return int(db.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))


def check_not_newer(version: int) -> None:
    if version > LATEST:
        raise NewerVersion(
            f"this workspace was written by a newer upstack (schema {version}, this version "
            f"knows up to {LATEST}); upgrade upstack to open it"
        )


def pending(db: Database) -> list[Migration]:
    version = current_version(db)
    check_not_newer(version)
    return [m for m in MIGRATIONS if m.version > version]


def apply(db: Database, target: int | None = None) -> list[Migration]:
    """Apply what is pending (up to ``target``); the caller holds the migration lock."""
    with db.transaction():
        if db.dialect == "postgresql":
            db.execute("SELECT pg_advisory_xact_lock(727274)")
        db.execute(_TRACKING)
        todo = [m for m in pending(db) if target is None or m.version <= target]
        for migration in todo:
            migration.run(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, now_iso()),
            )
        if db.dialect == "sqlite":
            db.execute(f"PRAGMA user_version = {current_version(db)}")
    return todo
