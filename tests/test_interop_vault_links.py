"""`upstack import markdown` never follows a symbolic link to a note or a folder (both engines):
one leading outside would import any file on the machine, one inside would import a note twice."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import CLI
from upstack.interop.vault import import_markdown
from upstack.workspace import Workspace


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _titles(run: CLI) -> list[str]:
    return sorted(e["title"] for e in json.loads(run.ok("log", "--json", "-n", "100")))


def _outside_and_vault(tmp_path: Path) -> Path:
    _write(tmp_path / "private" / "secret.md", "Bank password hunter2\n")
    _write(tmp_path / "private" / "diary" / "day.md", "Dear diary\n")
    root = tmp_path / "vault"
    _write(root / "Real.md", "A real note.\n")
    _write(root / "sub" / "Deep.md", "A deep note.\n")
    (root / "leak.md").symlink_to(tmp_path / "private" / "secret.md")
    (root / "diary").symlink_to(tmp_path / "private" / "diary", target_is_directory=True)
    (root / "gone.md").symlink_to(tmp_path / "nowhere.md")  # a broken link leads nowhere inside
    return root


def test_links_leading_outside_the_vault_are_skipped_and_reported(run: CLI, tmp_path: Path) -> None:
    root = _outside_and_vault(tmp_path)
    result = run("import", "markdown", str(root))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 2 entries, 0 already present"
    assert _titles(run) == ["Deep", "Real"]
    assert run.ok("search", "hunter2").startswith("No entries match")
    assert "diary" not in run.ok("log")
    warnings = result.stderr.strip().splitlines()
    assert warnings == ["upstack: warning: skipped 3 symbolic links leading outside the folder "
                        "(never followed): diary/, gone.md, leak.md"]
    summary = json.loads(run.ok("import", "markdown", str(root), "--json"))
    assert summary["imported"] == 0 and len(summary["warnings"]) == 1


def test_links_inside_the_vault_are_skipped_so_nothing_is_imported_twice(
        workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _write(root / "Real.md", "A real note.\n")
    _write(root / "sub" / "Deep.md", "A deep note.\n")
    (root / "alias.md").symlink_to(root / "Real.md")
    (root / "mirror").symlink_to(root / "sub", target_is_directory=True)
    result = import_markdown(workspace, root)
    assert result.imported == 2
    assert result.warnings == ["skipped 2 symbolic links to notes inside the folder (imported "
                               "under their own paths): alias.md, mirror/"]


def test_an_embedded_link_to_a_file_outside_the_vault_is_refused(workspace: Workspace,
                                                                 tmp_path: Path) -> None:
    _write(tmp_path / "id_rsa", "PRIVATE KEY")
    root = tmp_path / "vault"
    _write(root / "note.md", "Look: ![[key.png]]\n")
    (root / "key.png").symlink_to(tmp_path / "id_rsa")
    result = import_markdown(workspace, root, skip_bad=True)
    assert result.imported == 0
    assert [str(p) for p in result.skipped] == [
        "note.md:1: embedded file 'key.png' is outside the folder"]


def test_a_vault_given_through_a_link_is_read(run: CLI, tmp_path: Path) -> None:
    """The folder the user names may itself be a link: that one is theirs to choose."""
    _write(tmp_path / "real-vault" / "Note.md", "Through the link.\n")
    os.symlink(tmp_path / "real-vault", tmp_path / "vault-link", target_is_directory=True)
    assert run.ok("import", "markdown", str(tmp_path / "vault-link")).startswith("imported 1 entry")
