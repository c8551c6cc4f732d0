"""Ingest is an explicit step (docs/architecture.md, "The write path"): ``ws.store()`` opens the
store and reads in only what that same workspace captured; ``ws.ingest()`` takes in what others
wrote, and the CLI does it once for each command that reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import CLI
from upstack.errors import NotFound
from upstack.services import capture, recall
from upstack.workspace import Workspace


def _pending(home: Path) -> list[Path]:
    return sorted((home / "journal").glob("*.jsonl"))


def test_opening_the_store_takes_in_nothing_others_wrote(home: Path, db_url: str | None) -> None:
    with Workspace(home=home, db=db_url) as writer, Workspace(home=home, db=db_url) as reader:
        reader.store()
        made = capture.note(writer, "A note from another process. #elsewhere")
        assert _pending(home)
        with pytest.raises(NotFound):
            recall.show(reader, made.id)  # an accessor, not a hidden ingest
        assert _pending(home)  # still waiting: nothing was applied behind the reader's back
        report = reader.ingest()
        assert report.applied == 1 and reader.last_ingest is report
        assert recall.show(reader, made.id).title == "A note from another process."
        assert not _pending(home)


def test_a_workspace_reads_back_what_it_captured(workspace: Workspace) -> None:
    made = capture.note(workspace, "Captured, then read through the same workspace.")
    assert recall.show(workspace, made.id).id == made.id  # flushed before the read, as a session does
    attached = Path(workspace.home).parent / "curve.txt"
    attached.write_text("loss 0.1\n")
    capture.attach(workspace, made.id, [attached])
    assert [a.filename for a in recall.show(workspace, made.id).attachments] == ["curve.txt"]


def test_each_command_that_reads_ingests_first_and_note_never_does(run: CLI, home: Path) -> None:
    short = run.ok("note", "Written by the CLI. #cli").strip()
    assert _pending(home)  # `note` only journals
    assert not (home / "upstack.db").exists() or run.db_url is not None  # nor opens the database
    assert run.ok("log", "--help")  # help is not a command that reads
    assert _pending(home)
    assert "Written by the CLI." in run.ok("search", "cli")  # the README's promise: note, then search
    assert not _pending(home)
    assert short in run.ok("show", short)
