"""Migration 23: artifacts (issue 20). A version of an artifact is the content a run stored under a
name (a file or a folder), kept once per name and content in its owner's namespace (the producing run's
author; '' on a laptop): ``artifacts`` holds each version and its number, ``artifact_files`` its
manifest (a file's hash, size and mode, or a link's target inside the folder) so that a blob's users
are found by an index, and ``artifact_links`` which runs produced and which used each version."""

from __future__ import annotations

from upstack.store.db import Database

__all__ = ["run"]


def run(db: Database) -> None:
    db.execute(
        "CREATE TABLE artifacts ("
        "id TEXT PRIMARY KEY, "
        "owner TEXT NOT NULL, "  # the producing run's author ('' on a laptop): whose namespace
        "name TEXT NOT NULL, "
        "kind TEXT NOT NULL, "  # model, dataset, ...
        "version INTEGER NOT NULL, "  # v0, v1, ... per owner and name
        "digest TEXT NOT NULL, "  # SHA-256 over the manifest: same content, same version
        "folder INTEGER NOT NULL, "  # 1: a folder; 0: one file
        "size BIGINT NOT NULL, "
        "created_at TEXT NOT NULL, "
        "purged_at TEXT, "  # its bytes freed for good; the rest kept as a tombstone
        "UNIQUE (owner, name, version), "
        "UNIQUE (owner, name, digest))")
    db.execute(
        "CREATE TABLE artifact_files ("
        "artifact_id TEXT NOT NULL REFERENCES artifacts(id), "
        "path TEXT NOT NULL, "  # relative, '/'-separated
        "sha256 TEXT, "  # NULL for a link
        "link TEXT, "  # a symbolic link's target, inside the folder
        "size BIGINT NOT NULL, "
        "mode INTEGER NOT NULL, "
        "PRIMARY KEY (artifact_id, path))")
    db.execute("CREATE INDEX artifact_files_sha ON artifact_files(sha256)")
    db.execute(
        "CREATE TABLE artifact_links ("
        "artifact_id TEXT NOT NULL REFERENCES artifacts(id), "
        "run_id TEXT NOT NULL, "
        "role TEXT NOT NULL, "  # produced, used
        "record_id TEXT NOT NULL, "
        "at TEXT NOT NULL, "
        "PRIMARY KEY (artifact_id, run_id, role))")
    db.execute("CREATE INDEX artifact_links_run ON artifact_links(run_id)")
