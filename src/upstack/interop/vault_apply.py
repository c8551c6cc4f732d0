"""Doing a vault sync's plan (interop/vault_plan.py), one step at a time: the log first, then the
folder, then the state, so that a sync killed between two of them only has that step recorded by
the next one (interop/vault_sync.py says why that is safe)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from upstack.domain.filters import Filters
from upstack.errors import BadInput
from upstack.files import write_atomically
from upstack.interop.markdown import Layout, NoteOut
from upstack.interop.vault import VaultFolder, read_attachment_folder, read_daily_format, take_notes
from upstack.interop.vault_folder import linked_part, read_regular
from upstack.interop.vault_plan import Plan, Stat, front_id, stat_of
from upstack.store import queries
from upstack.store import vault as state
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["Applier", "with_id"]


def with_id(data: bytes, entry_id: str) -> bytes:
    """A note's bytes with ``id: ENTRY`` as the last line of its front matter (front matter made if
    there is none), its line ends (CR LF or LF) and byte order mark kept.

    >>> with_id(b"---\\ntags: [a]\\n---\\nText\\n", "01ABC")
    b'---\\ntags: [a]\\nid: 01ABC\\n---\\nText\\n'
    """
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    text = data[len(bom):]
    end = b"\r\n" if b"\r\n" in text else b"\n"
    line = b"id: " + entry_id.encode("ascii") + end
    lines = text.split(end)
    if lines and lines[0].rstrip() == b"---":
        close = next((i for i, part in enumerate(lines[1:], 1) if part.rstrip() in (b"---", b"...")), None)
        if close is not None:
            return bom + end.join(lines[:close]) + end + line + end.join(lines[close:])
    return bom + b"---" + end + line + b"---" + end + text


class Applier:
    def __init__(self, ws: Workspace, root: Path, states: dict[str, state.FileState], plan: Plan,
                 *, today: str, progress: Callable[..., None] | None = None) -> None:
        self.ws, self.root, self.states, self.plan, self.today = ws, root, states, plan, today
        self.progress = progress
        self.db = ws.store().db
        self.conflict_copies: list[str] = []
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.done: Counter[str] = Counter()  # what was done, by Plan.counts' keys (a plan says what it means to)
        self._layout: Layout | None = None
        self._held: dict[str, str] = {}  # vault path -> sha256 of the bytes there ('' for none)

    # -- the log side ------------------------------------------------------------------------

    def _write(self, op: str, data: dict[str, object]) -> None:
        self.ws.store().write([self.ws.record(op, data)])

    def _import(self, rels: list[str]) -> dict[str, str | None]:
        """Read these files into the log (new revisions, new entries); their entries."""
        if not rels:
            return {}
        folder = VaultFolder(self.root)
        report = self.progress
        taken = take_notes(self.ws, folder, [self.root / rel for rel in rels],
                           progress=(lambda done, total: report("Reading notes", done, total)) if report else None)
        self._layout = None  # entries changed: where each goes is worked out again
        self.problems += [f"{p.where}: {p.message}" for p in taken.result.skipped]
        self.warnings += taken.result.warnings
        self.done["import"] += taken.result.imported + taken.result.updated
        return {rel: taken.entries.get(rel) for rel in rels}

    def _record(self, rel: str, entry_id: str, moved_from: str | None = None) -> None:
        """The file as it is now is the entry as it is now."""
        revision = state.current_revision(self.db, entry_id)
        path = self.root / rel
        found = stat_of(path)
        if revision is None or found is None:
            return
        sha = hashlib.sha256(read_regular(path) or b"").hexdigest()
        state.put_file(self.db, state.FileState(rel, entry_id, revision, sha, found.size,
                                                found.mtime_ns), moved_from=moved_from)

    # -- the folder side ---------------------------------------------------------------------

    def _layout_for(self) -> Layout:
        if self._layout is None:
            ids = queries.ids_oldest_first(self.db, Filters(include_private=True))
            fixed = {s.entry_id: rel for rel, s in state.file_states(self.db).items()}
            self._layout = Layout(self.db, queries.load_entries(self.db, ids), daily=read_daily_format(self.root),
                                  fixed=fixed, attachments=read_attachment_folder(self.root),
                                  occupied=self._occupied)
        return self._layout

    def _occupied(self, rel: str, sha256: str) -> bool:
        """Whether the folder holds other bytes than ``sha256`` at ``rel`` (never read more than once)."""
        if rel not in self._held:
            try:
                data = read_regular(self.root / rel) if (self.root / rel).exists() else b""
            except OSError:
                data = b"?"  # something is there that is not ours to replace
            self._held[rel] = hashlib.sha256(data).hexdigest() if data else ""
        return self._held[rel] not in ("", sha256)

    def _render(self, entry_id: str) -> NoteOut | None:
        entries = queries.load_entries(self.db, [entry_id])
        if not entries:
            return None
        layout = self._layout_for()
        if entry_id not in layout.paths:
            return None
        return layout.render(entries[0])

    def _blocked(self, rel: str, files: list[tuple[str, str]]) -> bool:
        """Whether the note or one of its files would be written through a folder that is a symbolic
        link (then it is not written, and said so): the write would land outside the vault, or where
        the next sync does not read it, and that sync would take the note for deleted."""
        for where in (rel, *(w for w, _ in files)):
            link = linked_part(self.root, where)
            if link is not None:
                self.problems.append(f"{rel}: not written: the folder {link} is a symbolic link (upstack never "
                                     "writes through one)")
                return True
        return False

    def _put(self, rel: str, text: str | bytes, files: list[tuple[str, str]], expected: Stat | None) -> bool:
        """Write the note (and its files not there yet) if the file is still as scanned: False if not."""
        path = self.root / rel
        for where, sha in files:
            target = self.root / where
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(target, self.ws.blobs.read(sha))
        path.parent.mkdir(parents=True, exist_ok=True)
        if stat_of(path) != expected:  # changed since the scan (or appeared): not clobbered
            return False
        write_atomically(path, text)
        return True

    def _conflict_copy(self, rel: str, text: str) -> None:
        """The log's side beside the file, for a person to read and merge: without the entry's ``id:``
        (the note is the entry; its copy is not read back, and would otherwise claim the same id)."""
        text = re.sub(r"\A(\ufeff?---\r?\n(?:.*\n)*?)id: *['\"]?[0-9A-Za-z]{26}['\"]? *\r?\n", r"\1", text)
        stem = rel[:-3] if rel.endswith(".md") else rel.rsplit(".", 1)[0]
        name, number = f"{stem} (conflict {self.today}).md", 2
        while (self.root / name).exists():
            name, number = f"{stem} (conflict {self.today}-{number}).md", number + 1
        write_atomically(self.root / name, text)
        self.conflict_copies.append(name)
        self.done["conflicts"] += 1

    # -- the steps ---------------------------------------------------------------------------

    def run(self) -> None:
        plan = self.plan
        for rel, now in plan.touch.items():
            was = self.states[rel]
            state.put_file(self.db, state.FileState(rel, was.entry_id, was.revision_id, was.sha256, now.size,
                                                    now.mtime_ns))
        for new, old in plan.moves.items():
            self.done["moves"] += 1
            if new not in plan.import_files:
                self._record_move(new, old)
        for rel in plan.restore_and_import:
            self._write("entry.restore", {"entry_id": self.states[rel].entry_id})
        for revived in plan.revive.values():
            self._write("entry.restore", {"entry_id": revived})
        for rel in plan.conflicts:
            self._both_changed(rel)
        changed = plan.import_files + plan.restore_and_import
        for rel, entry_id in self._import(changed).items():
            if entry_id is None:
                continue
            moved_from = plan.moves.get(rel)
            if rel not in self.states and moved_from is None:
                self._add_id(rel, entry_id)
            self._record(rel, entry_id, moved_from)
        for rel in plan.write_files:
            self._entry_changed(rel)
        for rel in plan.delete_entries:
            entry_id = self.states[rel].entry_id
            self._write("entry.delete", {"entry_id": entry_id, "at": now_iso()})
            state.drop_file(self.db, rel)
            self.done["delete_entries"] += 1
        for rel in plan.remove_files:
            path = self.root / rel
            if stat_of(path) == Stat(self.states[rel].size, self.states[rel].mtime_ns):
                path.unlink()
                self.done["remove_files"] += 1
            state.drop_file(self.db, rel)
        for rel in plan.forget:
            state.drop_file(self.db, rel)
        linked = {s.entry_id for s in state.file_states(self.db).values()}
        for done, entry_id in enumerate(plan.new_entries, 1):
            if entry_id not in linked:  # not read from a file just now (a killed sync's, say)
                self._new_file(entry_id)
            if self.progress:
                self.progress("Writing notes", done, len(plan.new_entries))

    def _record_move(self, new: str, old: str) -> None:
        was = self.states[old]
        found = self.plan.stats.get(new)
        if found is not None:
            state.put_file(self.db, state.FileState(new, was.entry_id, was.revision_id, was.sha256, found.size,
                                                    found.mtime_ns), moved_from=old)

    def _both_changed(self, rel: str) -> None:
        """Keep both: the entry's text as a conflict copy beside the file, the file's as a revision."""
        entry_id = self.states[rel].entry_id
        out = self._render(entry_id)
        entries = self._import([rel])
        if out is not None and entries.get(rel):
            self._conflict_copy(rel, out.text)
        self.plan.import_files = [r for r in self.plan.import_files if r != rel]
        if entries.get(rel):
            self._record(rel, entries[rel] or entry_id)

    def _entry_changed(self, rel: str) -> None:
        was = self.states[rel]
        out = self._render(was.entry_id)
        if out is None:
            return
        scanned = self.plan.stats.get(rel)
        if self._blocked(rel, out.files):
            return
        if self._put(rel, out.text, out.files, scanned):
            self._record(rel, was.entry_id)
            self.done["write"] += 1
        else:  # rewritten meanwhile: both changed
            self._both_changed(rel)

    def _add_id(self, rel: str, entry_id: str) -> None:
        """A note read for the first time gets its entry's ``id:`` (so a move is followed): that line
        alone, in its front matter (made if it has none); not a byte else of the note changes."""
        path = self.root / rel
        scanned = stat_of(path)
        try:
            data = read_regular(path)
        except OSError:
            return
        if data is None:
            return
        if front_id(path) is None and scanned is not None and not self._blocked(rel, []):
            self._put(rel, with_id(data, entry_id), [], scanned)

    def _new_file(self, entry_id: str) -> None:
        out = self._render(entry_id)
        if out is None:
            return
        rel = out.path
        if (self.root / rel).exists():
            stem = rel.rsplit(".", 1)[0]
            rel = f"{stem} ({entry_id[:8].lower()}).md"
            if (self.root / rel).exists():
                self.problems.append(f"{rel}: already there; entry {entry_id} not written")
                return
        if self._blocked(rel, out.files):
            return
        try:
            if self._put(rel, out.text, out.files, None):
                self._record(rel, entry_id)
                self.done["new_files"] += 1
        except OSError as exc:
            raise BadInput(f"cannot write {self.root / rel}: {exc.strerror or exc}") from None
