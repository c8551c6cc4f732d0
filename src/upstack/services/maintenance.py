"""Keeping a workspace healthy: doctor (check everything), reindex, backup."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from upstack.errors import BadInput, UpstackError
from upstack.files import atomic_path
from upstack.formats.metrics import read_chunk_stream
from upstack.formats.rundir import METRICS, RECORDS
from upstack.ids import short_id
from upstack.store.db import Database
from upstack.store.ingest import index_entry, search_texts
from upstack.store.integrity import check_revisions, check_runs
from upstack.store.run_ingest import run_dirs
from upstack.store.store import Store
from upstack.store.word_rank import counted_words
from upstack.workspace import Workspace

__all__ = ["Finding", "doctor", "reindex", "backup", "clear_killed_backups"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Finding:
    check: str  # database, revisions, runs, search, blobs, journal, backup
    subject: str  # what is affected: an entry, an attachment, a file
    message: str
    severity: str = "error"  # or "warning": worth knowing, not damage

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _check_database(db: Database) -> list[Finding]:
    findings = []
    if db.dialect == "sqlite":
        for row in db.query("PRAGMA integrity_check"):
            value = next(iter(row.values()))
            if value != "ok":
                findings.append(Finding("database", "upstack.db", str(value)))
        for row in db.query("PRAGMA foreign_key_check"):
            findings.append(Finding("database", f"{row['table']} row {row['rowid']}",
                                    f"refers to a missing row in {row['parent']}"))
    for row in db.query("SELECT e.id FROM entries e LEFT JOIN revisions r ON r.id = e.revision_id "
                        "WHERE r.id IS NULL"):
        findings.append(Finding("database", f"entry {short_id(row['id'])}",
                                "its current revision is missing"))
    return findings


def _check_search(db: Database, progress: Progress | None) -> list[Finding]:
    findings = []
    entries = db.query("SELECT id, title, body, deleted_at FROM entries ORDER BY id")
    tags: dict[str, list[str]] = {}
    for tag_row in db.query("SELECT entry_id, tag FROM entry_tags ORDER BY tag"):
        tags.setdefault(tag_row["entry_id"], []).append(tag_row["tag"])
    texts = ("SELECT s.entry_id, s.doc_len, f.title_text, f.tag_text, f.body_text FROM entry_search s "
             "LEFT JOIN entry_fts f ON f.rowid = s.rowid" if db.dialect == "sqlite" else
             "SELECT entry_id, doc_len, title_text, tag_text, body_text FROM entry_search")
    indexed: dict[str, dict[str, Any]] = {r["entry_id"]: r for r in db.query(texts)}
    docs = tokens = 0
    words: set[tuple[str, str, int, int]] = set()
    for i, entry in enumerate(entries):
        if progress and i % 1000 == 0:
            progress("search index", i, len(entries))
        row = indexed.pop(entry["id"], None)
        subject = f"entry {short_id(entry['id'])}"
        if entry["deleted_at"]:
            if row is not None:
                findings.append(Finding("search", subject, "deleted, but still in the search index"))
            continue
        expected = search_texts(entry["title"], entry["body"], tags.get(entry["id"], []))
        if row is None:
            findings.append(Finding("search", subject, "missing from the search index"))
            continue
        if {k: row[k] for k in expected} != expected:
            findings.append(Finding("search", subject,
                                    "search index out of step: indexed text differs from the entry"))
        docs += 1
        tokens += expected["doc_len"]
        words |= {(entry["id"], word, n, expected["doc_len"])
                  for word, n in counted_words(expected["title_text"], expected["body_text"])}
    for entry_id in indexed:
        findings.append(Finding("search", f"entry {short_id(entry_id)}",
                                "in the search index but not in the log"))
    if not findings and words != {(r["entry_id"], r["word"], r["freq"], r["doc_len"]) for r in db.query(
            "SELECT entry_id, word, freq, doc_len FROM word_counts")}:
        findings.append(Finding("search", "word counts", "counts for ranking common words out of step with the index"))
    stats = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1")
    if not findings and (
            stats is None or (stats["docs"], stats["tokens"]) != (docs, tokens)):
        findings.append(Finding("search", "search statistics",
                                "ranking statistics out of step with the index"))
    if db.dialect == "sqlite":
        findings += _check_fts5(db)
    return findings


def _check_fts5(db: Database) -> list[Finding]:
    """FTS5's own check, then a per-entry look to name what is out of step.

    FTS5's check is a command written as an INSERT, which a read-only database refuses:
    there the per-entry look is all there is.
    """
    if not db.read_only:
        try:
            db.execute("INSERT INTO entry_fts(entry_fts, rank) VALUES ('integrity-check', 1)")
            return []
        except sqlite3.DatabaseError:
            pass
    findings = []
    for row in db.query("SELECT s.rowid, s.entry_id, f.title_text, f.body_text FROM entry_search s "
                        "JOIN entry_fts f ON f.rowid = s.rowid"):
        first = (row["title_text"] + row["body_text"]).split()[:1]
        if not first:
            continue
        hit = db.scalar("SELECT count(*) FROM entry_fts WHERE entry_fts MATCH ? AND rowid = ?",
                        (f'"{first[0]}"', row["rowid"]))
        if not hit:
            findings.append(Finding("search", f"entry {short_id(row['entry_id'])}",
                                    "search index out of step: the full-text index lacks it"))
    if not findings and not db.read_only:
        findings.append(Finding("search", "full-text index",
                                "out of step with the entries (stale rows); run `upstack doctor --fix`"))
    return findings


def _check_blobs(store: Store, progress: Progress | None) -> list[Finding]:
    findings = []
    rows = store.db.query(
        "SELECT a.id, a.filename, a.sha256, a.entry_id FROM attachments a "
        "WHERE a.sha256 IS NOT NULL ORDER BY a.sha256, a.id")
    verdicts: dict[str, str | None] = {}
    for i, row in enumerate(rows):
        if progress:
            progress("files", i, len(rows))
        sha = row["sha256"]
        if sha not in verdicts:
            verdicts[sha] = store.blobs.verify(sha)
        problem = verdicts[sha]
        if problem:
            findings.append(Finding(
                "blobs", f"attachment {short_id(row['id'])} ({row['filename']}) of entry "
                         f"{short_id(row['entry_id'])}",
                f"file {sha[:12]} is {problem}" + (" (its content no longer matches its hash)"
                                                   if problem == "corrupted" else "")))
    referenced = set(verdicts)
    for sha in store.blobs.all_hashes():
        if sha not in referenced:
            findings.append(Finding("blobs", f"file {sha[:12]}", "stored but used by no entry",
                                    "warning"))
    return findings


def _check_journal(store: Store) -> list[Finding]:
    """What the journal files set aside hold that was not applied, line by line: a line damaged in
    storage is an error (something written was lost); one a writer left unfinished (an import
    killed half-way) is a warning, as nothing of it was ever reported saved."""
    findings = []
    if store.journal.quarantine.exists():
        for path in sorted(store.journal.quarantine.iterdir()):
            try:
                _, problems = store.journal.scan(path.read_text(encoding="utf-8", errors="replace"), path.name)
            except UpstackError as exc:  # a newer upstack's records
                findings.append(Finding("journal", str(path), str(exc), "warning"))
                continue
            for problem in problems:
                findings.append(Finding("journal", f"{path} line {problem.where.rsplit(':', 1)[1]}",
                                        f"{problem.message} (set aside for you to inspect; delete the file "
                                        "once dealt with)", "error" if problem.damaged else "warning"))
            if not problems:
                findings.append(Finding("journal", str(path), "journal file set aside", "warning"))
    rejected = store.journal.directory / "rejected.jsonl"
    if rejected.exists():
        count = sum(1 for _ in rejected.open(encoding="utf-8"))
        findings.append(Finding("journal", str(rejected),
                                f"{count} record(s) could not be applied", "warning"))
    return findings


def _check_run_folders(ws: Workspace) -> list[Finding]:
    """Metric files of runs not yet fully taken in: damage in them (passed over when they are read,
    so it hides nothing after it, but what it held is lost)."""
    findings: list[Finding] = []
    db = ws.store(ingest=False).db  # taken in just now, by doctor
    for directory in [d for folder in ws.run_folders() for d in run_dirs(folder)]:
        started = (directory / RECORDS).exists() and (directory / RECORDS).stat().st_size > 0
        if started and not db.scalar("SELECT 1 FROM runs WHERE id = ?", (directory.name,)):
            findings.append(Finding("runs", str(directory), "its start record cannot be applied, so the run is "
                                                            "not in the log (the folder is left as it is)"))

        def damaged(what: str, path: Path = directory / METRICS) -> None:
            findings.append(Finding("runs", str(path), f"{what} (damaged in storage)"))

        try:
            with open(directory / METRICS, "rb") as handle:
                for _ in read_chunk_stream(handle, 0, damaged):
                    pass
        except FileNotFoundError:
            continue
    return findings


def _readable(what: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    """A check's findings, or one saying the database could not be read that far (a page too damaged
    for SQLite to follow; ``PRAGMA integrity_check`` may not get through it either)."""
    try:
        return check()
    except sqlite3.DatabaseError as exc:
        return [Finding("database", what, f"could not be read to the end: {exc}")]


def doctor(ws: Workspace, progress: Progress | None = None) -> list[Finding]:
    """Check the database, revisions and run data against their checksums, the search index against
    the entries, every file's hash, and what the journal set aside."""
    store = ws.store()
    # What taking in pending records met just now; the checks below say what it means for the data.
    findings = [Finding("journal", p, "met while taking in pending records", "warning") for p in
                (ws.last_ingest.problems if ws.last_ingest else [])]
    findings += _readable("upstack.db", lambda: _check_database(store.db))
    findings += _readable("revisions", lambda: [Finding(d.check, d.subject, d.message)
                                                for d in check_revisions(store.db)])
    findings += _readable("run data", lambda: [Finding(d.check, d.subject, d.message) for d in check_runs(store.db)])
    findings += _readable("search index", lambda: _check_search(store.db, progress))
    findings += _readable("attachments", lambda: _check_blobs(store, progress))
    findings += _check_journal(store)
    if ws.last_ingest:  # a read-only workspace is checked as it is, without what waits to be ingested
        findings += [Finding("journal", str(store.home), note, "warning") for note in ws.last_ingest.read_only]
    if not store.read_only:
        findings += [Finding("backup", str(path), "a killed backup left this unfinished copy (private entries "
                                                  "included); removed it", "warning")
                     for path in clear_killed_backups(ws.home)]
    findings += _check_run_folders(ws)
    return findings


def reindex(ws: Workspace) -> int:
    """Rebuild the search index (derived data) from the entries."""
    store = ws.store()
    db = store.db
    with store.lock(), db.transaction():
        db.execute("DELETE FROM entry_search")
        db.execute("DELETE FROM word_counts")
        db.execute("UPDATE search_stats SET docs = 0, tokens = 0 WHERE id = 1")
        if db.dialect == "sqlite":
            db.execute("DELETE FROM entry_fts")
        ids = [r["id"] for r in db.query("SELECT id FROM entries WHERE deleted_at IS NULL")]
        for entry_id in ids:
            index_entry(db, entry_id)
    return len(ids)


def backup(ws: Workspace, dest: Path) -> dict[str, int]:
    """Write a consistent snapshot of the workspace to ``dest`` (a new SQLite workspace).

    Captures keep appending to the journal meanwhile; what the snapshot holds is
    everything ingested when it starts. It is built in a folder beside ``dest`` that only
    this user can open, and so is ``dest`` (a backup holds private entries too). A backup
    that is killed leaves that folder behind; the next backup, or `doctor`, removes it.
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BadInput(f"backup destination {dest} exists and is not an empty directory")
    store = ws.store()
    clear_killed_backups(ws.home)
    with _unfinished(ws.home, dest) as partial:
        return _backup_into(ws, store, partial, dest)


def _backup_into(ws: Workspace, store: Store, partial: Path, dest: Path) -> dict[str, int]:
    try:
        if store.db.dialect == "sqlite":
            with store.lock():
                target = sqlite3.connect(partial / "upstack.db")
                try:
                    store.db.raw.backup(target)
                finally:
                    target.close()
        else:
            # Not under the workspace lock: the export ingests first (taking that lock, which
            # is not reentrant), and reads one REPEATABLE READ snapshot, consistent by itself.
            _snapshot_postgresql(ws, partial)
        copy = Store(partial)
        try:
            hashes = [r["sha256"] for r in copy.db.query(
                "SELECT DISTINCT sha256 FROM attachments WHERE sha256 IS NOT NULL")]
            entries = int(copy.db.scalar("SELECT count(*) FROM entries"))
        finally:
            copy.close()
        for sha in hashes:
            store.blobs.read(sha)  # verify before copying
        store.blobs.copy_tree_to(partial / "blobs", hashes)
        if (ws.home / "workspace.id").exists():
            shutil.copyfile(ws.home / "workspace.id", partial / "workspace.id")
        if dest.exists():
            dest.rmdir()
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return {"entries": entries, "files": len(hashes)}


# A backup in progress keeps a file here, locked while it runs, naming its unfinished copy: the
# lock goes with the process (a SIGKILL too), so an unlocked file names a copy nobody is finishing.
UNFINISHED = ".backups-unfinished"


@contextmanager
def _unfinished(home: Path, dest: Path) -> Iterator[Path]:
    """A new folder beside ``dest`` that only this user can open, known to the workspace while
    the backup builds it (a read-only workspace cannot note it: the folder is private all the same)."""
    name = f"{os.getpid()}-{os.urandom(4).hex()}"
    partial = dest.parent / f".{dest.name}.partial-{name}"
    marker = home / UNFINISHED / name
    fd = None
    try:
        marker.parent.mkdir(mode=0o700, exist_ok=True)
        with atomic_path(marker, permissions=0o600) as tmp:  # seen by a cleaner only once locked
            fd = os.open(tmp, os.O_RDWR)
            fcntl.flock(fd, fcntl.LOCK_EX)  # the lock stays with the file under its new name
            os.write(fd, os.fsencode(partial.absolute()))
    except OSError:
        pass
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial.mkdir(mode=0o700)
        os.chmod(partial, 0o700)  # whatever the umask
        yield partial
    finally:
        marker.unlink(missing_ok=True)
        if fd is not None:
            os.close(fd)


def clear_killed_backups(home: Path) -> list[Path]:
    """Remove the unfinished copies that killed backups left behind; return them."""
    try:
        names = sorted(os.listdir(home / UNFINISHED))
    except OSError:
        return []
    cleared = []
    for name in names:
        marker = home / UNFINISHED / name
        try:
            fd = os.open(marker, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its backup runs
            partial = Path(os.fsdecode(os.read(fd, 65536)))
            if not name.startswith(".") and partial.name.endswith(f".partial-{name}"):  # only what _unfinished names
                shutil.rmtree(partial)
                cleared.append(partial)
            marker.unlink()
        except FileNotFoundError:  # killed before it made the folder, or after it became the backup
            marker.unlink(missing_ok=True)
        except OSError:
            pass  # running, or on a file system that will not let go of it: left for next time
        finally:
            os.close(fd)
    return cleared


def _snapshot_postgresql(ws: Workspace, target_home: Path) -> None:
    from upstack.interop.jsondump import export_json, load_dump

    buffer = io.StringIO()
    export_json(ws, buffer, server_backup=True)  # a backup of a team server keeps its accounts
    dump = json.loads(buffer.getvalue())
    copy = Workspace(home=target_home, db=f"sqlite:///{target_home / 'upstack.db'}")
    try:
        load_dump(copy, dump, {}, server_backup=True)
    finally:
        copy.close()
