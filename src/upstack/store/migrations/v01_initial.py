"""Migration 1: the initial research log (nodes, entries, revisions, tags, links, attachments,
the search index)."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


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


def run(db: Database) -> None:
    search = _SEARCH_SQLITE if db.dialect == "sqlite" else _SEARCH_POSTGRESQL
    for statement in _statements(_CORE) + _statements(search):
        db.execute(statement)
