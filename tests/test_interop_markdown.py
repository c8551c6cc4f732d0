"""Markdown folders: export as an Obsidian vault, import vaults, round trips (both engines)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from conftest import CLI
from upstack.interop.markdown import export_markdown, safe_file_name
from upstack.interop.vault import import_markdown
from upstack.timeutil import to_iso

PNG = b"\x89PNG\r\n\x1a\nfake image bytes"


def front_matter(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body.strip()


def entries_by_title(run: CLI) -> dict[str, dict]:
    return {e["title"]: e for e in json.loads(run.ok("log", "--json", "-n", "0"))}


def show(run: CLI, ref: str) -> dict:
    return json.loads(run.ok("show", ref, "--json"))


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def other_run(tmp_path: Path, engine: str, make_pg_url) -> CLI:
    """A second, empty workspace on the same engine (an import target)."""
    return CLI(tmp_path / "other-home", make_pg_url() if engine == "postgresql" else None)


@pytest.fixture
def logged(run: CLI, tmp_path: Path) -> dict[str, str]:
    """A small log: attachments, a project, links by title and by id, private, deleted."""
    plot = write(tmp_path / "in" / "plot.png", PNG)
    csv = write(tmp_path / "in" / "loss.csv", "step,loss\n1,2.5\n")
    other_plot = write(tmp_path / "in2" / "plot.png", PNG + b" v2")
    ids = {}
    ids["patch"] = run.ok("note", "Patching: layer 5 kills the effect? Yes, on 3 seeds #patching",
                          "-p", "IOI", "--create", "-k", "result", "-a", str(plot), "-a", str(csv),
                          "--at", "2024-03-01T14:00:00+00:00").strip()
    ids["head"] = run.ok("note", "Head 5.1 is next. After [[Patching: layer 5 kills the effect?]]"
                         f" and [[{ids['patch']}]], not [[Nowhere]] #ioi",
                         "-a", str(other_plot), "-a", str(plot)).strip()
    ids["secret"] = run.ok("note", "Sleeping badly this week. #burnout", "--private").strip()
    ids["gone"] = run.ok("note", "A mistake.").strip()
    run.ok("rm", ids["gone"])
    ids["twin"] = run.ok("note", "Head 5.1 is next. A second note, same title.").strip()
    return ids


def test_export_writes_notes_in_node_folders_with_front_matter_links_and_files(run: CLI, logged, tmp_path):
    out = tmp_path / "vault"
    assert run.ok("export", "--format", "markdown", str(out)).strip() == \
        f"exported 3 entries to {out}"
    notes = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.md"))
    twin_name = f"Head 5.1 is next ({logged['twin']}).md"
    assert notes == sorted(["IOI/Patching layer 5 kills the effect.md", "Head 5.1 is next.md", twin_name])
    meta, body = front_matter(out / "IOI" / "Patching layer 5 kills the effect.md")
    patch = show(run, logged["patch"])
    assert meta == {
        "id": patch["id"], "title": "Patching: layer 5 kills the effect?",
        "kind": "result", "tags": [], "project": "IOI",
        "date": "2024-03-01T14:00:00.000000Z", "created": patch["created_at"],
        "attachments": ["attachments/plot.png", "attachments/loss.csv"],
    }
    assert body == "Yes, on 3 seeds #patching\n\n![](attachments/plot.png)\n![](attachments/loss.csv)"
    assert (out / "IOI" / "attachments" / "plot.png").read_bytes() == PNG
    assert (out / "IOI" / "attachments" / "loss.csv").read_text() == "step,loss\n1,2.5\n"

    meta, body = front_matter(out / "Head 5.1 is next.md")
    second_plot = f"plot ({show(run, logged['head'])['attachments'][1]['short']}).png"
    assert meta["attachments"] == ["attachments/plot.png", f"attachments/{second_plot}"]  # each name once
    assert (out / "attachments" / "plot.png").read_bytes() == PNG + b" v2"
    assert (out / "attachments" / second_plot).read_bytes() == PNG
    # Links by a title or an id Obsidian would not find name the file, shown as written.
    assert body.startswith(
        "After [[Patching layer 5 kills the effect|Patching: layer 5 kills the effect?]] and "
        f"[[Patching layer 5 kills the effect|{logged['patch']}]], not [[Nowhere]] #ioi\n\n")
    assert "private" not in meta
    assert sorted(p.name for p in (out / "attachments").iterdir()) == sorted(["plot.png", second_plot])


def test_private_entries_only_with_include_private(run: CLI, logged, tmp_path):
    run.ok("export", "--format", "markdown", str(tmp_path / "shared"))
    assert not (tmp_path / "shared" / "Sleeping badly this week.md").exists()
    run.ok("export", "--format", "markdown", "--include-private", "--out", str(tmp_path / "mine"))
    meta, body = front_matter(tmp_path / "mine" / "Sleeping badly this week.md")
    assert meta["private"] is True and body == "#burnout"
    assert not any("mistake" in p.name.lower() for p in (tmp_path / "mine").iterdir())


def test_purged_entries_are_not_exported(workspace, tmp_path):
    from upstack.services import capture, curate

    kept = capture.note(workspace, "Kept note.")
    secret = capture.note(workspace, "Pasted key sk-123.")
    curate.purge(workspace, curate.purge_target(workspace, secret.short))
    assert export_markdown(workspace, tmp_path / "v") == 1
    assert [p.name for p in (tmp_path / "v").glob("*.md")] == ["Kept note.md"]
    assert front_matter(tmp_path / "v" / "Kept note.md")[0]["id"] == kept.id
    assert not list(tmp_path.glob("v/.*"))  # no temp files left behind
    calls: list[tuple[int, int]] = []
    export_markdown(workspace, tmp_path / "v", progress=lambda done, total: calls.append(
        (done, total)))
    assert calls == [(1, 1)]


def test_export_markdown_refuses_a_file_and_needs_a_folder(run: CLI, tmp_path):
    target = write(tmp_path / "file.txt", "x")
    result = run("export", "--format", "markdown", str(target))
    assert result.exit_code == 1 and "not a folder" in result.stderr
    assert run("export", "--format", "markdown").exit_code == 2
    assert run("export", "a.json", "--out", "b.json").exit_code == 2


def test_safe_file_name():
    assert safe_file_name("a/b\\c:d*e?f\"g<h>i|j#k^l[m]n") == "a b c d e f g h i j k l m n"
    assert safe_file_name("...hidden. ") == "hidden"
    assert len(safe_file_name("é" * 300).encode()) <= 150


# -- import ---------------------------------------------------------------------------

@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    write(root / "Index.md",
          "Start here: [[Experiments/Patching]] and [[Head 5.1|the head]]. #meta\n\n"
          "![[plot.png]]\n\n```\n![[not-a-real-embed.png]]\n```\n")
    write(root / "Experiments" / "Patching.md",
          "---\ntags: [patching, ioi]\ndate: 2024-03-01 14:00:00\nkind: result\n"
          "project: IOI\n---\nPatching works. ![loss curve](../figs/loss%20curve.png) "
          "and ![remote](https://example.com/x.png)\nSee [[Run 3 results]].\n")
    write(root / "Experiments" / "Head 5.1.md",
          "---\ntitle: Head 5.1\ntags: 'heads, #ioi'\ncreated: 2024-03-02\nprivate: true\n---\n"
          "# Head 5.1\n\nName mover? #open\n")
    write(root / "Run 3.md", "---\ntitle: 'Run [3] | final'\n---\nThe final run.\n")
    write(root / "Run 3 results.md", "Numbers for [[Run 3]].\n")
    write(root / "figs" / "plot.png", PNG)
    write(root / "figs" / "loss curve.png", PNG + b"loss")
    write(root / ".obsidian" / "workspace.md", "not a note")
    write(root / ".trash" / "Old.md", "deleted in Obsidian")
    os.utime(root / "Index.md", (1_700_000_000, 1_700_000_000))
    return root


def test_import_vault_entries_tags_links_and_attachments(run: CLI, vault):
    assert run.ok("import", "markdown", str(vault)).strip() == \
        "imported 5 entries, 0 already present"
    entries = entries_by_title(run)
    assert sorted(entries) == ["Head 5.1", "Index", "Patching", "Run 3 results",
                               "Run [3] | final"]
    index, patching, head = (show(run, entries[t]["short"]) for t in
                             ("Index", "Patching", "Head 5.1"))
    # The text is kept as written: links find notes by their file's path or name.
    assert index["body"].startswith("Start here: [[Experiments/Patching]] and "
                                    "[[Head 5.1|the head]]. #meta\n\n![[plot.png]]")
    assert index["tags"] == ["meta"]
    assert index["occurred_at"] == "2023-11-14T22:13:20.000000Z"  # the file's mtime
    assert [(a["filename"], a["size"]) for a in index["attachments"]] == [("plot.png", len(PNG))]
    assert patching["kind"] == "result" and patching["project"] == "IOI"
    assert patching["occurred_at"] == to_iso(datetime(2024, 3, 1, 14, 0))  # local time
    assert sorted(patching["tags"]) == ["ioi", "patching"]
    assert [a["filename"] for a in patching["attachments"]] == ["loss curve.png"]
    loss = patching["attachments"][0]["short"]
    assert f"![loss curve](upstack:{loss})" in patching["body"]  # a path to a file: its id
    assert {b["title"] for b in patching["backlinks"]} == {"Index"}
    assert head["private"] is True and head["body"] == "# Head 5.1\n\nName mover? #open"
    assert sorted(head["tags"]) == ["heads", "ioi", "open"]
    assert head["occurred_at"] == head["created_at"] == to_iso(datetime(2024, 3, 2))
    assert {b["title"] for b in head["backlinks"]} == {"Index"}
    # A title that cannot be written in a wikilink: the note is linked by its file's name.
    final = show(run, entries["Run [3] | final"]["short"])
    assert {b["title"] for b in final["backlinks"]} == {"Run 3 results"}
    assert "Linked from" in run.ok("show", entries["Patching"]["short"])


def test_import_twice_creates_no_duplicates(run: CLI, vault):
    run.ok("import", "markdown", str(vault))
    again = json.loads(run.ok("import", "markdown", str(vault), "--json"))
    assert again == {"imported": 0, "updated": 0, "already_present": 5, "skipped": [], "warnings": []}
    assert len(entries_by_title(run)) == 5


def _bad_vault(root: Path) -> Path:
    write(root / "good.md", "A fine note. #ok\n")
    write(root / "yaml.md", "---\ntitle: Broken\ntags: [a, b\nkind: note\n---\nbody\n")
    write(root / "sub" / "latin1.md", "first line\nsecond line caf\xe9\n".encode("latin-1"))
    write(root / "embed.md", "Intro\n\nMore text\n![[missing.png]]\n")
    write(root / "date.md", "---\ntitle: Dated\ndate: not a date at all\n---\nx\n")
    write(root / "kind.md", "---\ntitle: Kinded\nkind: rant\n---\nx\n")
    return root


def test_bad_vault_imports_nothing_and_lists_every_problem(run: CLI, tmp_path):
    root = _bad_vault(tmp_path / "bad")
    result = run("import", "markdown", str(root))
    assert result.exit_code == 1
    for where in ("yaml.md:4", "sub/latin1.md:2", "embed.md:4", "date.md:3", "kind.md:3"):
        assert where in result.stderr, where
    assert "nothing was imported" in result.stderr
    assert "missing.png" in result.stderr and "rant" in result.stderr
    assert entries_by_title(run) == {}


def test_skip_bad_imports_the_rest_and_names_what_was_skipped(run: CLI, tmp_path):
    root = _bad_vault(tmp_path / "bad")
    output = run.ok("import", "markdown", str(root), "--skip-bad")
    assert output.startswith("imported 1 entry, 0 already present, skipped: ")
    assert "embed.md (line 4: embedded file 'missing.png' does not exist)" in output
    assert list(entries_by_title(run)) == ["good"]
    summary = json.loads(run.ok("import", "markdown", str(root), "--skip-bad", "--json"))
    assert summary["already_present"] == 1
    assert {(s["file"], s["line"]) for s in summary["skipped"]} == {
        ("yaml.md", 4), ("sub/latin1.md", 2), ("embed.md", 4), ("date.md", 3), ("kind.md", 3)}


def test_embeds_outside_the_vault_are_refused(workspace, tmp_path):
    write(tmp_path / "secret.txt", "do not attach me")
    write(tmp_path / "v" / "note.md", "See ![x](../secret.txt)\n")
    result = import_markdown(workspace, tmp_path / "v", skip_bad=True)
    assert result.imported == 0
    assert [str(p) for p in result.skipped] == [
        "note.md:1: embedded file '../secret.txt' is outside the folder"]


def test_duplicate_ids_in_a_vault_are_kept_once(workspace, tmp_path):
    note = "---\nid: 01HQ0000000000000000000000\ntitle: {}\n---\nbody\n"
    write(tmp_path / "v" / "a.md", note.format("Original"))
    write(tmp_path / "v" / "b.md", note.format("Copy"))
    result = import_markdown(workspace, tmp_path / "v")
    assert result.imported == 2
    assert result.warnings == ["b.md: id 01HQ0000000000000000000000 is also in a.md; "
                               "imported as a new entry"]


def test_export_then_import_into_an_empty_workspace_round_trips(run: CLI, other_run: CLI,
                                                                logged, tmp_path):
    out = tmp_path / "vault"
    run.ok("export", "--format", "markdown", "--include-private", str(out))
    assert other_run.ok("import", "markdown", str(out)).strip() == \
        "imported 4 entries, 0 already present"
    before = {e["id"]: show(run, e["short"]) for e in entries_by_title(run).values()}
    after = {e["id"]: show(other_run, e["short"]) for e in entries_by_title(other_run).values()}
    assert sorted(after) == sorted(before)
    for entry_id, original in before.items():
        copy = after[entry_id]
        for key in ("title", "tags", "kind", "project", "private", "occurred_at", "created_at"):
            assert copy[key] == original[key], (key, original["title"])
        shorts = dict(zip([a["short"] for a in original["attachments"]],
                          [a["short"] for a in copy["attachments"]], strict=True))
        body = original["body"]
        for old, new in shorts.items():
            body = body.replace(f"upstack:{old}", f"upstack:{new}")
        assert copy["body"] == body, original["title"]
        assert sorted(a["sha256"] for a in copy["attachments"]) == \
            sorted(a["sha256"] for a in original["attachments"])
        assert sorted(str(link["id"]) for link in copy["links"]) == \
            sorted(str(link["id"]) for link in original["links"])
    # Importing the export again, or into the original workspace, adds nothing.
    assert "0 entries, 4 already present" in other_run.ok("import", "markdown", str(out))
    assert "0 entries, 4 already present" in run.ok("import", "markdown", str(out))


# -- the JSON commands are wired here too (services/jsondump.py implements them) ----------

def test_json_export_and_import_are_wired_in_the_cli(run: CLI, other_run: CLI, logged, tmp_path):
    backup = tmp_path / "backup.json"
    summary = json.loads(run.ok("export", "--out", str(backup), "--json"))
    assert summary["format"] == "json" and summary["path"] == str(backup)
    assert json.loads(run.ok("export"))["format"] == "upstack-export"  # to standard output
    other_run.ok("import", str(backup))
    assert sorted(entries_by_title(other_run)) == sorted(entries_by_title(run))
    assert not list(tmp_path.glob(".backup.json.*"))
    result = other_run("import", str(tmp_path))
    assert result.exit_code == 1 and "upstack import markdown" in result.stderr
    assert run("export", "--json").exit_code == 2


def test_an_unedited_export_of_crlf_and_bom_notes_imports_as_unchanged(run: CLI, tmp_path):
    # The export keeps a note's CR LF and byte order mark; read back unedited, it is the entry as it
    # is (no revision), both ways round: the export, then the original folder again.
    vault = tmp_path / "v"
    write(vault / "crlf.md", b"---\r\ntitle: Windows\r\n---\r\nLine one.\r\n")
    write(vault / "bom.md", "\ufeffA note with a byte order mark\n".encode())
    write(vault / "plain.md", "plain\n")
    run.ok("import", "markdown", str(vault))
    out = tmp_path / "out"
    run.ok("export", "--format", "markdown", str(out))
    assert (out / "crlf.md").read_bytes().endswith(b"\r\nLine one.\r\n")
    assert (out / "bom.md").read_bytes().startswith("\ufeff".encode())
    for folder in (out, vault, out):
        assert run.ok("import", "markdown", str(folder)).strip() == "imported 0 entries, 3 already present"
    for entry in entries_by_title(run).values():
        assert len(json.loads(run.ok("history", entry["short"], "--json"))["revisions"]) == 1


def test_a_file_given_to_import_markdown_is_named_as_a_file(run: CLI, tmp_path):
    note = write(tmp_path / "v" / "note.md", "text\n")
    result = run("import", "markdown", str(note))
    assert result.exit_code == 1
    assert "it is a file" in result.stderr and f"upstack import markdown {note.parent}" in result.stderr


def test_a_jrnl_journal_given_as_json_is_named_and_skip_bad_is_not_offered(run: CLI, tmp_path):
    journal = write(tmp_path / "journal.txt", "[2026-11-30 09:15:00 AM] Title. body @tag\n")
    result = run("import", str(journal))
    assert result.exit_code == 1 and f"`upstack import jrnl {journal}`" in result.stderr
    broken = write(tmp_path / "broken.json", '[{"a": 1] ')
    result = run("import", str(broken))
    assert result.exit_code == 1 and "invalid JSON" in result.stderr
    assert "--skip-bad" not in result.stderr  # a JSON export goes in whole: the option is refused
