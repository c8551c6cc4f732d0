"""An import becomes visible whole or not at all (issue 12, item 14).

`import jrnl` and `import markdown` write their records to the journal in one append. A real
`upstack import` process is SIGKILLed in the middle of that append, and another runs out of
room on a real, small file system (tmpfs) half-way through it: afterwards none of the 4,000
entries is visible, `doctor` says an import was interrupted, and importing again brings all
4,000. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers_reliability import (
    assert_store_healthy,
    finish,
    journal_bytes,
    journal_torn,
    run,
    spawn,
    upstack,
    upstack_args,
)

ENTRIES = 4000
AFTER = "written after the kill x"


def _jrnl_export(path: Path, body_bytes: int) -> Path:
    """A jrnl JSON export of ENTRIES entries, each with a body of one long word (cheap to index)."""
    entries = [{"title": f"imported {n} x", "body": "y" * body_bytes, "date": "2024-03-01",
                "time": f"{n // 60 % 24:02d}:{n % 60:02d}", "tags": [], "starred": False}
               for n in range(ENTRIES)]
    path.write_text(json.dumps({"tags": {}, "entries": entries}), encoding="utf-8")
    return path


def _vault(folder: Path) -> Path:
    folder.mkdir()
    for n in range(ENTRIES):
        (folder / f"note {n}.md").write_text(f"imported {n} x\n\nfrom a vault\n", encoding="utf-8")
    return folder


def _imported(home: Path, db_url: str | None) -> int:
    """How many imported entries a reader sees (reading takes in what the journal holds, and may
    warn about what it could not)."""
    read = run(upstack_args("log", "-n", "0", "--json"), home, db_url)
    assert read.returncode == 0 and "Traceback" not in read.stderr, read.describe()
    titles = [e["title"] for e in json.loads(read.stdout)]
    return len(titles) - titles.count(AFTER)


def _doctor(home: Path, db_url: str | None) -> dict[str, object]:
    result = run(upstack_args("doctor", "--json"), home, db_url)
    report: dict[str, object] = json.loads(result.stdout)
    assert result.returncode == (0 if report["ok"] else 1), result.describe()
    return report


def _says_an_import_was_interrupted(report: dict[str, object]) -> None:
    findings = report["findings"]
    assert isinstance(findings, list)
    interrupted = [f for f in findings if f["check"] == "journal" and "batch of records" in f["message"]
                   and "none of it applied" in f["message"]]
    assert interrupted, findings
    assert report["ok"] is True, findings  # nothing that was reported saved is missing


def test_an_import_killed_in_the_middle_of_its_append_leaves_none_of_it(
        engine: str, db_url: str | None, tmp_path: Path, make_pg_url: Callable[[], str]) -> None:
    """SIGKILL as soon as the import's append has begun (a 16 MB write): a fresh workspace each
    try, until a kill lands inside the write. Every try ends with all 4,000 or none."""
    source = _jrnl_export(tmp_path / "journal.json", body_bytes=4000)
    torn_home: tuple[Path, str | None] | None = None
    outcomes = []
    for attempt in range(20):
        home = tmp_path / f"try{attempt}"
        url = (make_pg_url() if attempt else db_url) if db_url else None
        upstack(home, url, "log")  # made and migrated, empty
        importer = spawn(upstack_args("import", "jrnl", str(source)), home, url)
        deadline = time.monotonic() + 120
        while journal_bytes(home) == 0 and importer.poll() is None and time.monotonic() < deadline:
            pass  # poll without sleeping: kill as soon as its append has begun
        importer.kill()
        killed = finish(importer)
        assert "Traceback" not in killed.stderr, killed.describe()
        torn = journal_torn(home)
        if torn:  # a note written after the kill starts a fresh line: it arrives, the torn import does not
            upstack(home, url, "note", AFTER)
        seen = _imported(home, url)
        outcomes.append((torn, seen))
        assert seen in (0, ENTRIES), f"try {attempt}: {seen} of {ENTRIES} entries visible (torn: {torn})"
        if torn:
            assert seen == 0
            torn_home = (home, url)
            break
    assert torn_home is not None, f"no kill landed inside the append: {outcomes}"

    home, url = torn_home
    _says_an_import_was_interrupted(_doctor(home, url))
    upstack(home, url, "import", "jrnl", str(source))
    assert _imported(home, url) == ENTRIES
    assert_store_healthy(home, url, ENTRIES + 1, torn_journal=True)


@contextmanager
def small_disk(mount_point: Path, size: str) -> Iterator[Path]:
    """A real file system of ``size`` (tmpfs), mounted for the test and unmounted after."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount_point.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(disk: Path, leave: int) -> Path:
    """Take all but about ``leave`` bytes of the file system with one file."""
    filler = disk / "filler"
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def test_an_import_that_fills_the_disk_half_way_leaves_none_of_it(
        engine: str, db_url: str | None, tmp_path: Path) -> None:
    """`import markdown` of 4,000 notes into a workspace on a 32 MB tmpfs with 256 KB left: its
    append (about 2 MB) stops part-way. The import says so in one line and fails; what of it
    reached the journal is cut back off (or, if that too fails, is one unfinished line, which
    doctor names); once there is room again, none of it is visible and importing again brings all."""
    vault = _vault(tmp_path / "vault")
    with small_disk(tmp_path / "disk", "32m") as disk:
        home = disk / "home"
        upstack(home, db_url, "log")
        filler = _fill(disk, leave=256 << 10)

        failed = run(upstack_args("import", "markdown", str(vault)), home, db_url)
        assert failed.returncode == 1, failed.describe()
        torn = journal_torn(home)

        filler.unlink()
        assert _imported(home, db_url) == 0
        assert "Traceback" not in failed.stderr, failed.describe()
        assert "no space left" in failed.stderr and "the log is as it was" in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1, failed.describe()
        if torn:
            _says_an_import_was_interrupted(_doctor(home, db_url))
        upstack(home, db_url, "import", "markdown", str(vault))
        assert _imported(home, db_url) == ENTRIES
        assert_store_healthy(home, db_url, ENTRIES, torn_journal=torn)
