"""`upstack vault link` / `vault sync`: a folder of Markdown kept in step with the log both ways
(issue 17, "A two-way vault"), on both engines."""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import CLI
from helpers_reliability import finish, spawn, upstack_args
from upstack.interop import vault_sync
from upstack.interop.vault_plan import Plan
from upstack.workspace import Workspace


def _note(path: Path, title: str, body: str, extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ntitle: {title}\n{extra}---\n{body}\n", encoding="utf-8")
    return path


def _entries(run: CLI, *extra: str) -> list[dict]:
    return json.loads(run.ok("log", "--json", "-n", "1000", *extra))


def _sync(run: CLI) -> dict:
    return json.loads(run.ok("vault", "sync", "--json"))


def _id_of(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("id:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no id in {path}")


def _revisions(run: CLI, entry: str) -> list[dict]:
    return json.loads(run.ok("history", entry, "--json"))["revisions"]


def _notes(vault: Path) -> list[str]:
    return sorted(p.relative_to(vault).as_posix() for p in vault.rglob("*.md"))


def test_link_writes_the_log_and_reads_the_folder(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Born in upstack")
    vault = tmp_path / "vault"
    _note(vault / "Projects" / "Idea.md", "Idea from Obsidian", "Some text")
    said = run.ok("vault", "link", str(vault))
    assert "will write notes into this folder" in said and "`id:`" in said
    assert "Born in upstack.md" in _notes(vault)
    titles = {e["title"] for e in _entries(run)}
    assert titles == {"Born in upstack", "Idea from Obsidian"}
    idea = vault / "Projects" / "Idea.md"
    assert "Some text" in idea.read_text() and _id_of(idea)
    status = json.loads(run.ok("vault", "status", "--json"))
    assert status["dry_run"] and not any(status[k] for k in ("import", "write", "new_files", "conflicts"))


def test_a_second_sync_with_nothing_changed_writes_nothing(run: CLI, tmp_path: Path) -> None:
    for n in range(3):
        run.ok("note", f"Note {n}")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    before = {p: (vault / p).stat().st_mtime_ns for p in _notes(vault)}
    journal = sorted((run.home / "journal").rglob("*"))
    sizes = [p.stat().st_size for p in journal if p.is_file()]
    report = _sync(run)
    assert not any(report[k] for k in ("import", "write", "new_files", "delete_entries", "remove_files"))
    assert {p: (vault / p).stat().st_mtime_ns for p in _notes(vault)} == before
    assert [p.stat().st_size for p in journal if p.is_file()] == sizes


def test_edits_on_each_side(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Alpha")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    path = vault / "Alpha.md"
    entry = _id_of(path)
    path.write_text(path.read_text() + "\nWritten in Obsidian\n", encoding="utf-8")
    assert _sync(run)["import"] == 1
    assert "Written in Obsidian" in run.ok("show", entry)
    run.ok("edit", entry, "--text", "Alpha\n\nWritten in upstack")
    assert _sync(run)["write"] == 1
    assert "Written in upstack" in path.read_text()
    assert len(_revisions(run, entry)) == 3


def test_changes_on_both_sides_keep_both(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Beta")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    path = vault / "Beta.md"
    entry = _id_of(path)
    run.ok("edit", entry, "--text", "Beta\n\nthe log's side")
    path.write_text(path.read_text() + "\nthe folder's side\n", encoding="utf-8")
    report = _sync(run)
    assert report["conflicts"] == 1 and len(report["conflict_copies"]) == 1
    copy = vault / report["conflict_copies"][0]
    assert "(conflict " in copy.name and "the log's side" in copy.read_text()
    assert "the folder's side" in run.ok("show", entry)
    assert any("the log's side" in r["body"] for r in _revisions(run, entry))  # the history has both
    again = _sync(run)  # the copy is for the reader: not read back as a new entry
    assert again["import"] == 0 and len(_entries(run)) == 1
    assert "id:" not in copy.read_text()  # it claims no entry (import markdown would warn of a twin)


def test_files_go_where_obsidian_says_and_notes_stay_put_when_a_title_changes(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "app.json").write_text('{"attachmentFolderPath": "Files"}', encoding="utf-8")
    figure = tmp_path / "fig.png"
    figure.write_bytes(b"\x89PNG a figure")
    short = run.ok("note", "Loss curve of run 3", "-a", str(figure)).strip()
    run.ok("vault", "link", str(vault))
    assert (vault / "Files" / "fig.png").read_bytes() == b"\x89PNG a figure"
    assert "![](Files/fig.png)" in (vault / "Loss curve of run 3.md").read_text()
    run.ok("edit", short, "--text", "Loss curve of run 3, seed 2\n\nbetter")
    report = _sync(run)
    assert report["write"] == 1 and report["new_files"] == 0
    assert _notes(vault) == ["Loss curve of run 3.md"]  # the file stays where it is, with the new text
    assert "better" in (vault / "Loss curve of run 3.md").read_text()


def test_a_conflict_copy_of_a_crlf_note_with_a_bom_carries_no_id(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    path = vault / "Windows.md"
    path.parent.mkdir(parents=True)
    path.write_bytes("\ufeff---\r\ntitle: Windows\r\n---\r\nLine one.\r\n".encode())
    run.ok("vault", "link", str(vault))
    entry = _id_of(path)
    run.ok("edit", entry, "--text", "Windows\n\nLine one.\nthe log's side")
    path.write_bytes(path.read_bytes() + b"the folder's side\r\n")
    report = _sync(run)
    copy = (vault / report["conflict_copies"][0]).read_bytes()
    assert b"the log's side" in copy and copy.startswith("\ufeff---\r\n".encode())
    assert entry.encode() not in copy  # the note is the entry; its copy claims no id


def test_new_files_and_new_entries(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    _note(vault / "Fresh.md", "Fresh", "made in the folder")
    assert _sync(run)["import"] == 1
    run.ok("note", "Made in the log")
    assert _sync(run)["new_files"] == 1
    assert "Made in the log.md" in _notes(vault)
    assert len(_entries(run)) == 2


def test_deletes_both_ways_are_soft(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Keep me")
    run.ok("note", "Drop the file")
    run.ok("note", "Drop the entry")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    gone = _id_of(vault / "Drop the file.md")
    (vault / "Drop the file.md").unlink()
    assert _sync(run)["delete_entries"] == 1
    assert gone not in {e["id"] for e in _entries(run)}
    run.ok("restore", gone)  # restorable
    dropped = _id_of(vault / "Drop the entry.md")
    run.ok("rm", dropped)
    assert _sync(run)["remove_files"] == 1
    assert not (vault / "Drop the entry.md").exists()
    assert "Keep me.md" in _notes(vault)


def test_a_note_put_back_after_its_entry_was_deleted_brings_the_entry_back(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Put back")
    run.ok("note", "Stays")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    saved = (vault / "Put back.md").read_bytes()
    entry = _id_of(vault / "Put back.md")
    (vault / "Put back.md").unlink()
    assert _sync(run)["delete_entries"] == 1
    (vault / "Put back.md").write_bytes(saved)  # from a backup, or Obsidian's trash
    _sync(run)
    assert entry in {e["id"] for e in _entries(run)}
    assert _sync(run)["remove_files"] == 0 and (vault / "Put back.md").exists()  # and it stays


def test_rename_and_move_between_folders_are_followed(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Wanderer")
    run.ok("note", "Traveller")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    wanderer, traveller = _id_of(vault / "Wanderer.md"), _id_of(vault / "Traveller.md")
    (vault / "Elsewhere").mkdir()
    (vault / "Wanderer.md").rename(vault / "Elsewhere" / "Renamed.md")
    moved = vault / "Elsewhere" / "Traveller.md"
    (vault / "Traveller.md").rename(moved)
    moved.write_text(moved.read_text() + "\nedited on the way\n", encoding="utf-8")
    report = _sync(run)
    assert report["delete_entries"] == 0 and report["moves"] == 2
    ids = {e["id"] for e in _entries(run)}
    assert ids == {wanderer, traveller}
    assert "edited on the way" in run.ok("show", traveller)
    assert sorted(_notes(vault)) == ["Elsewhere/Renamed.md", "Elsewhere/Traveller.md"]
    assert not any(_sync(run)[k] for k in ("import", "write", "new_files", "delete_entries"))


def test_private_entries_stay_out_unless_asked(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Secret", "--private")
    run.ok("note", "Open")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    assert _notes(vault) == ["Open.md"]
    other = tmp_path / "other"
    run.ok("vault", "unlink")
    run.ok("vault", "link", str(other), "--include-private")
    assert _notes(other) == ["Open.md", "Secret.md"]


def test_mass_delete_guard(run: CLI, tmp_path: Path) -> None:
    for n in range(8):
        run.ok("note", f"Many {n}")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    for n in range(6):
        (vault / f"Many {n}.md").unlink()
    result = run("vault", "sync")
    assert result.exit_code == 1 and "would delete 6 of 8" in result.output and "--force" in result.output
    assert len(_entries(run)) == 8  # nothing done
    for path in vault.glob("*.md"):
        path.unlink()
    empty = run("vault", "sync")
    assert empty.exit_code == 1 and "missing or empty" in empty.output
    assert json.loads(run.ok("vault", "sync", "--force", "--json"))["delete_entries"] == 8
    assert _entries(run) == []


def test_a_file_rewritten_between_scan_and_write_is_not_clobbered(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Race")
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    path = vault / "Race.md"
    entry = _id_of(path)
    run.ok("edit", entry, "--text", "Race\n\nfrom the log")

    def meanwhile(plan: Plan) -> None:
        assert plan.write_files == ["Race.md"]
        path.write_text(path.read_text() + "\nwritten while sync ran\n", encoding="utf-8")

    with Workspace(home=run.home, db=run.db_url) as ws:
        report = vault_sync.sync(ws, before_acting=meanwhile)
    assert "written while sync ran" in path.read_text()
    assert report.conflicts and "from the log" in (vault / report.conflicts[0]).read_text()
    assert "written while sync ran" in run.ok("show", entry)


def test_a_second_sync_at_once_is_refused(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    run.ok("note", "Blocked")
    refused: list[str] = []

    def meanwhile(plan: Plan) -> None:
        result = run("vault", "sync")
        refused.append(f"{result.exit_code} {result.output}")

    with Workspace(home=run.home, db=run.db_url) as ws:
        vault_sync.sync(ws, before_acting=meanwhile)
    assert refused[0].startswith("1 ") and "another `upstack vault sync` is running" in refused[0]


def test_a_sync_killed_mid_way_loses_nothing_and_doubles_nothing(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run.ok("vault", "link", str(vault))
    count = 60
    for n in range(count):
        _note(vault / f"Folder {n % 4}" / f"Killed {n}.md", f"Killed {n}", f"text {n}")
    proc = spawn(upstack_args("vault", "sync"), run.home, run.db_url)
    state = run.home / "upstack.db"
    deadline = time.monotonic() + 120
    journal = run.home / "journal"
    while proc.poll() is None and time.monotonic() < deadline and not any(
            p.is_file() and p.stat().st_size for p in journal.rglob("*")):
        pass  # kill as soon as it has begun writing
    proc.kill()
    killed = finish(proc)
    assert killed.returncode == -9, killed.describe()  # killed before it was done
    half = _entries(run)
    print(f"after the kill: {len(half)} of {count} notes in the log")
    del state
    run.ok("vault", "sync")
    run.ok("vault", "sync")
    entries = _entries(run)
    assert sorted(e["title"] for e in entries) == sorted(f"Killed {n}" for n in range(count))
    assert len(_notes(vault)) == count
    for path in vault.rglob("*.md"):
        assert _id_of(path)
    assert not any(_sync(run)[k] for k in ("import", "write", "new_files", "delete_entries"))


def test_doctor_checks_the_link(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    run.ok("note", "Checked")
    run.ok("vault", "link", str(vault))
    assert not [f for f in json.loads(run.ok("doctor", "--json"))["findings"] if f["check"] == "vault"]
    vault.rename(tmp_path / "away")
    result = run("doctor", "--json")
    findings = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "vault"]
    assert findings and "missing" in findings[0]["message"]
    refused = run("vault", "sync")
    assert refused.exit_code == 1 and "missing or empty" in refused.output
    vault.mkdir()  # there, but empty: an unmounted drive's mount point
    findings = [f for f in json.loads(run("doctor", "--json").stdout)["findings"] if f["check"] == "vault"]
    assert findings and "holds no notes" in findings[0]["message"]


def test_entries_others_wrote_stay_out_of_the_vault(workspace: Workspace, tmp_path: Path) -> None:
    """On a workspace linked to a team server, what another member wrote (pulled here) is theirs to
    publish, not this person's: a vault often lives in a cloud folder or git."""
    from upstack.ids import new_id
    from upstack.services.capture import note
    from upstack.timeutil import now_iso

    note(workspace, "Mine, written here")
    at = now_iso()
    workspace.store().write([workspace.record("entry.create", {
        "id": new_id(), "revision_id": new_id(), "kind": "note", "title": "Theirs, pulled from the server",
        "body": "", "occurred_at": at, "created_at": at, "by": "01JTEAMMATE000000000000000"})])
    vault = tmp_path / "vault"
    vault_sync.link(workspace, vault, include_private=False)
    vault_sync.sync(workspace)
    assert _notes(vault) == ["Mine, written here.md"]


def test_a_second_folder_is_not_linked_over_the_first(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Only once")
    run.ok("vault", "link", str(tmp_path / "one"))
    refused = run("vault", "link", str(tmp_path / "two"))
    assert refused.exit_code == 1 and "is linked already" in refused.output and "vault unlink" in refused.output
    assert not (tmp_path / "two").exists()
    run.ok("vault", "link", str(tmp_path / "one"))  # the same folder again: fine
    run.ok("vault", "unlink")
    run.ok("vault", "link", str(tmp_path / "two"))
    assert _notes(tmp_path / "two") == ["Only once.md"]


def test_a_note_embedding_a_missing_file_is_synced_with_a_warning(run: CLI, tmp_path: Path) -> None:
    """Obsidian vaults often hold an embed of a file since deleted: the note still syncs."""
    vault = tmp_path / "vault"
    _note(vault / "Sketch.md", "Sketch", "A plot: ![[gone.png]]")
    linked = run("vault", "link", str(vault))
    assert linked.exit_code == 0
    assert "Sketch.md:4: embedded file 'gone.png' does not exist (the note is read without it)" in linked.stderr
    assert [e["title"] for e in _entries(run)] == ["Sketch"]
    assert "![[gone.png]]" in json.loads(run.ok("show", _entries(run)[0]["short"], "--json"))["body"]


def test_a_note_read_for_the_first_time_gains_its_id_line_and_nothing_else(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    original = b"---\r\naliases: [Loose]\r\nstatus: draft\r\n---\r\nSee [[Other note]] soon.\r\n\r\n\r\n"
    (vault / "Loose end.md").write_bytes(original)
    (vault / "Plain.md").write_bytes(b"No front matter at all.")
    run.ok("vault", "link", str(vault))
    entry = _id_of(vault / "Loose end.md")
    assert (vault / "Loose end.md").read_bytes() == original.replace(
        b"status: draft\r\n", b"status: draft\r\nid: " + entry.encode() + b"\r\n")
    plain = _id_of(vault / "Plain.md")
    assert (vault / "Plain.md").read_bytes() == b"---\nid: " + plain.encode() + b"\n---\nNo front matter at all."
    assert _sync(run)["import"] == 0  # the line it added is no edit


def test_a_sync_says_what_it_did_not_what_it_planned(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    _note(vault / "One.md", "One", "first")
    _note(vault / "Two.md", "Two", "second")
    run.ok("import", "markdown", str(vault))
    linked = json.loads(run.ok("vault", "link", str(vault), "--json"))
    assert (linked["import"], linked["new_files"]) == (0, 0)  # both read before: each only recorded
    assert _notes(vault) == ["One.md", "Two.md"] and len(_entries(run)) == 2


def test_a_link_killed_while_writing_files_loses_nothing_and_doubles_nothing(run: CLI, tmp_path: Path) -> None:
    count = 80
    for n in range(count):
        run.ok("note", f"Written {n}. Body {n}")
    vault = tmp_path / "vault"
    proc = spawn(upstack_args("vault", "link", str(vault)), run.home, run.db_url)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and len(list(vault.rglob("*.md"))) < 5:
        time.sleep(0.002)  # kill once it is writing the folder
    proc.kill()
    killed = finish(proc)
    written = len(list(vault.rglob("*.md")))
    print(f"killed with {written} of {count} notes written (exit {killed.returncode})")
    run.ok("vault", "sync")
    assert sorted(_notes(vault)) == sorted(f"Written {n}.md" for n in range(count))  # one file each, no twins
    assert len(_entries(run)) == count
    assert not any(_sync(run)[k] for k in ("import", "write", "new_files", "delete_entries", "conflicts"))
