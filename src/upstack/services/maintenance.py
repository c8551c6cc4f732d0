"""Keeping a workspace healthy: doctor (check everything), reindex, backup."""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from upstack.domain.text import plural
from upstack.errors import BadInput, UpstackError
from upstack.files import atomic_path, make_private_dirs
from upstack.formats.metrics import read_chunk_stream
from upstack.formats.rundir import METRICS, RECORDS
from upstack.ids import short_id
from upstack.services.jsondump import export_json, load_dump
from upstack.store import artifacts as store_artifacts
from upstack.store import health
from upstack.store.db import Database
from upstack.store.ingest import search_texts
from upstack.store.integrity import check_revisions, check_runs
from upstack.store.run_ingest import run_dirs
from upstack.store.store import Store
from upstack.store.word_rank import counted_words
from upstack.workspace import Workspace

__all__ = ["Finding", "doctor", "reindex", "backup", "clear_killed_backups"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Finding:
    check: str  # database, revisions, runs, search, blobs, journal, backup, vault, wellbeing, privacy
    subject: str  # what is affected: an entry, an attachment, a file
    message: str
    severity: str = "error"  # or "warning": worth knowing, not damage

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _check_database(db: Database) -> list[Finding]:
    findings = [Finding("database", subject, message) for subject, message in db.engine.integrity_problems(db)]
    for entry_id in health.entries_without_revision(db):
        findings.append(Finding("database", f"entry {short_id(entry_id)}", "its current revision is missing"))
    return findings


def _check_search(db: Database, progress: Progress | None) -> list[Finding]:
    findings = []
    entries = health.entries(db)
    tags = health.tags_by_entry(db)
    indexed = health.indexed_texts(db)
    docs = tokens = 0
    words: set[tuple[str, str, int, int]] = set()
    vocabulary: set[str] = set()
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
        vocabulary.update(expected["title_text"].split(), expected["body_text"].split())
    for entry_id in indexed:
        findings.append(Finding("search", f"entry {short_id(entry_id)}",
                                "in the search index but not in the log"))
    if not findings and words != health.word_counts(db):
        findings.append(Finding("search", "word counts", "counts for ranking common words out of step with the index"))
    if not findings and not vocabulary <= health.search_words(db):
        findings.append(Finding("search", "search words", "words of the index missing from the words kept for "
                                                          "completing and spelling"))
    if not findings and health.search_stats(db) != (docs, tokens):
        findings.append(Finding("search", "search statistics",
                                "ranking statistics out of step with the index"))
    findings += [Finding("search", f"entry {short_id(entry_id)}" if entry_id else "full-text index", message)
                 for entry_id, message in db.engine.index_problems(db)]
    return findings


def _check_blobs(store: Store, progress: Progress | None) -> list[Finding]:
    findings = []
    rows = health.stored_attachments(store.db)
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
    for sha in store_artifacts.referenced_blobs(store.db):  # an artifact's files (not purged) are checked too
        if sha not in verdicts:
            verdicts[sha] = store.blobs.verify(sha)
            if verdicts[sha] and verdicts[sha] != "missing":  # missing: a description synced without its files
                findings.append(Finding("blobs", f"artifact file {sha[:12]}", f"file {sha[:12]} is {verdicts[sha]}"))
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
        with rejected.open(encoding="utf-8", errors="replace") as handle:
            count = sum(1 for _ in handle)
        findings.append(Finding("journal", str(rejected),
                                f"{plural(count, 'record')} could not be applied", "warning"))
    return findings


def _check_run_folders(ws: Workspace) -> list[Finding]:
    """Metric files of runs not yet fully taken in: damage in them (passed over when they are read,
    so it hides nothing after it, but what it held is lost)."""
    findings: list[Finding] = []
    db = ws.store().db  # taken in just now, by doctor
    for directory in [d for folder in ws.run_folders() for d in run_dirs(folder)]:
        started = (directory / RECORDS).exists() and (directory / RECORDS).stat().st_size > 0
        if started and not health.has_run(db, directory.name):
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


def _readable(db: Database, what: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    """A check's findings, or one saying the database could not be read that far (a page too damaged
    for SQLite to follow; ``PRAGMA integrity_check`` may not get through it either)."""
    try:
        return check()
    except db.engine.damaged_error as exc:
        return [Finding("database", what, f"could not be read to the end: {exc}")]


def doctor(ws: Workspace, progress: Progress | None = None) -> list[Finding]:
    """Check the database, revisions and run data against their checksums, the search index against
    the entries, every file's hash, and what the journal set aside."""
    store = ws.store()
    # What taking in pending records met just now; the checks below say what it means for the data.
    findings = [Finding("journal", p, "met while taking in pending records", "warning") for p in
                (ws.last_ingest.problems if ws.last_ingest else [])]
    findings += _readable(store.db, "upstack.db", lambda: _check_database(store.db))
    findings += _readable(store.db, "revisions", lambda: [Finding(d.check, d.subject, d.message)
                                                          for d in check_revisions(store.db)])
    findings += _readable(store.db, "run data", lambda: [Finding(d.check, d.subject, d.message)
                                                         for d in check_runs(store.db)])
    findings += _readable(store.db, "search index", lambda: _check_search(store.db, progress))
    findings += _readable(store.db, "attachments", lambda: _check_blobs(store, progress))
    findings += _check_journal(store)
    if ws.last_ingest:  # a read-only workspace is checked as it is, without what waits to be ingested
        findings += [Finding("journal", str(store.home), note, "warning") for note in ws.last_ingest.read_only]
    if not store.read_only:
        findings += [Finding("backup", str(path), "a killed backup left this unfinished copy (private entries "
                                                  "included); removed it", "warning")
                     for path in clear_killed_backups(ws.home)]
    findings += _check_run_folders(ws)
    findings += _readable(store.db, "vault", lambda: _check_vault(store.db))
    findings += _readable(store.db, "wellbeing", lambda: _check_wellbeing(ws))
    findings += [Finding("privacy", str(path), f"other users of this machine can read it, private entries and "
                                               f"check-ins included: `upstack doctor --fix` or "
                                               f"`chmod {700 if path.is_dir() else 600} {path}` closes it", "warning")
                 for path in ws.open_to_others()]
    return findings


def close_to_others(ws: Workspace) -> list[Path]:
    """Make what of the workspace others can read (``Workspace.open_to_others``) its owner's only."""
    closed = ws.open_to_others()
    for path in closed:
        path.chmod(path.stat().st_mode & 0o700)  # the group's and others' bits taken away, the owner's kept
    return closed


def _check_wellbeing(ws: Workspace) -> list[Finding]:
    """Sealed check-ins open with the passphrase (when one is at hand): services/wellbeing_seal.py."""
    from upstack.services import wellbeing_seal

    return [Finding("wellbeing", p.subject, p.message, p.severity) for p in wellbeing_seal.check(ws)]


def _check_vault(db: Database) -> list[Finding]:
    """The linked vault (`upstack vault link`): its folder is there, and its state names live entries."""
    from upstack.store import vault

    link = vault.get_link(db)
    if link is None:
        return []
    root = Path(link.root)
    if not root.is_dir():
        return [Finding("vault", link.root, "the linked vault folder is missing (an unmounted drive?): "
                                            "`upstack vault sync` will refuse to run until it is back")]
    heads = vault.entry_heads(db)
    findings = []
    states = vault.file_states(db)
    if states and not any(root.rglob("*.md")):
        findings.append(Finding("vault", link.root, f"the linked vault folder holds no notes, though the last sync "
                                                    f"left {len(states)} there (an emptied or unmounted folder?): "
                                                    "`upstack vault sync` will refuse to run"))
    for path, state in sorted(states.items()):
        if state.entry_id not in heads:
            findings.append(Finding("vault", path, f"the sync state names entry {state.entry_id}, which is "
                                                   "not in the log (the next sync forgets it)", "warning"))
    return findings


def reindex(ws: Workspace) -> int:
    """Rebuild the search index (derived data) from the entries."""
    store = ws.store()
    with store.lock():
        return health.rebuild_search_index(store.db)


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
        if store.db.engine.copies_file:
            with store.lock():
                store.db.engine.copy_to(store.db, partial / "upstack.db")
        else:
            # Not under the workspace lock: the export ingests first (taking that lock, which
            # is not reentrant), and reads one REPEATABLE READ snapshot, consistent by itself.
            _snapshot_postgresql(ws, partial)  # check-ins included, sealed if they are
        copy = Store(partial)
        try:
            hashes = health.attachment_hashes(copy.db)
            entries = health.entry_count(copy.db)
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
        make_private_dirs(dest.parent)
        make_private_dirs(partial)
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
    buffer = io.StringIO()
    # A backup of a team server keeps its accounts; of a laptop's log, the check-ins (as kept: sealed or not).
    export_json(ws, buffer, server_backup=True, include_wellbeing=True)
    dump = json.loads(buffer.getvalue())
    copy = Workspace(home=target_home, db=f"sqlite:///{target_home / 'upstack.db'}")
    try:
        load_dump(copy, dump, {}, server_backup=True)
    finally:
        copy.close()
