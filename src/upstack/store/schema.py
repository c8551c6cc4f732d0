"""Versioned migrations, applied automatically and exactly once.

Each migration runs in one transaction together with its row in
``schema_migrations``. Callers hold the workspace lock (SQLite) or an advisory
lock (PostgreSQL) and back the SQLite file up first (see ``store.Store``). A new
database is made by running them all, from the first: there is no other way to make one.
Their bodies are in ``store/migrations/``, one module each, frozen as they ran.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from upstack.errors import NewerVersion
from upstack.store.db import Database
from upstack.timeutil import now_iso

__all__ = ["MIGRATIONS", "LATEST", "current_version", "pending", "apply"]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    module: str  # its body, store/migrations/<module>.py: imported only when it runs, not at every opening

    def run(self, db: Database) -> None:
        importlib.import_module(f"upstack.store.migrations.{self.module}").run(db)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial research log", "v01_initial"),
    Migration(2, "timeline by kind", "v02_timeline_by_kind"),
    Migration(3, "theory-of-change tree: node history", "v03_node_history"),
    Migration(4, "idea triage", "v04_idea_triage"),
    Migration(5, "activity indexes", "v05_activity_indexes"),
    Migration(6, "experiment runs", "v06_runs"),
    Migration(7, "team server: accounts, sharing, comments", "v07_team"),
    Migration(8, "search: words an entry repeats, counted for ranking", "v08_word_counts"),
    Migration(9, "team server: API token scope and expiry, sign-in throttle counters", "v09_token_scopes"),
    Migration(10, "runs: metric points lost to write errors", "v10_points_lost"),
    Migration(11, "checksums of revisions and metric chunks", "v11_checksums"),
    Migration(12, "search: the words of the index, for completing and spelling", "v12_search_words"),
    Migration(13, "comments and stars that travel with sync, refusals kept or dropped", "v13_collaboration"),
    Migration(14, "the path to a research job: ladder, practice, portfolio", "v14_path"),
    Migration(15, "path records kept on this machine only (local-only contacts and outreach)", "v15_local_only"),
    Migration(16, "notes from a vault: the names links find them by, what a revision carried", "v16_note_names"),
    Migration(17, "a two-way vault: the linked folder, each note as last synced", "v17_vault"),
    Migration(18, "the writer's UTC offset of entries and runs", "v18_utc_offsets"),
    Migration(19, "predictions: what each is about, its forecasts and resolutions", "v19_predictions"),
    Migration(20, "takes: who said it and where, how the person's confidence moved and why", "v20_takes"),
    Migration(21, "each prediction keeps how it stands: its standing resolution and the forecast it is scored by",
              "v21_prediction_standing"),
    Migration(22, "runs managed after the fact: renamed, retagged, moved, deleted and restored, with history",
              "v22_run_changes"),
    Migration(23, "artifacts: versions by content per name, their files, and the runs that made and used them",
              "v23_artifacts"),
    Migration(24, "chart panels: a project's grid of saved charts, with revisions", "v24_panels"),
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
