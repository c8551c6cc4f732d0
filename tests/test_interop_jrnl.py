"""Importing jrnl's JSON export (a fixture made by a real jrnl 4.x; see fixtures/)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CLI
from upstack.interop.jrnl import import_jrnl, read_jrnl

FIXTURE = Path(__file__).parent / "fixtures" / "jrnl_export.json"


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is New York (UTC-5 in early March 2024): jrnl times are local."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def entries(run: CLI) -> dict[str, dict]:
    found = json.loads(run.ok("log", "--json", "-n", "0"))
    return {e["title"]: json.loads(run.ok("show", e["short"], "--json")) for e in found}


def test_fixture_is_a_real_jrnl_export():
    document = json.loads(FIXTURE.read_text())
    assert set(document) == {"tags", "entries"} and len(document["entries"]) == 5
    assert (FIXTURE.parent / "make_jrnl_fixture.sh").exists()


def test_fixture_imports_titles_bodies_times_tags_and_stars(run: CLI, new_york):
    assert run.ok("import", "jrnl", str(FIXTURE)).strip() == \
        "imported 5 entries, 0 already present"
    found = entries(run)
    assert sorted(found) == sorted([
        "Started the IOI replication.", "Patching layer 5 kills the effect.",
        "Café notes: attention heads ≠ circuits.", "Stuck on the baseline.",
        "Short one, no tags"])
    first = found["Started the IOI replication."]
    assert first["body"] == "Using GPT-2 small with @alice #ioi"
    assert first["occurred_at"] == "2024-03-01T14:15:00.000000Z"
    assert sorted(first["tags"]) == ["alice", "ioi"]
    assert first["starred"] is False and first["kind"] == "note"
    starred = found["Patching layer 5 kills the effect."]
    assert starred["starred"] is True
    assert starred["occurred_at"] == "2024-03-02T19:30:00.000000Z"
    assert sorted(starred["tags"]) == ["ioi", "patching"]
    cafe = found["Café notes: attention heads ≠ circuits."]
    assert cafe["body"] == (
        "Ideas from the reading group (naïve version):\n- path patching over 3 seeds\n"
        "- check whether head 9.6 is a name mover #ioi #reading\n\n"
        "Emoji survive too: 🚀 — and so do \"quotes\".")
    assert sorted(cafe["tags"]) == ["ioi", "reading"]
    stuck = found["Stuck on the baseline."]
    assert stuck["body"] == "The loss plateaus at 2.31 after step 400.\nAsked @bob for help. #stuck"
    assert stuck["occurred_at"] == "2024-03-05T04:40:00.000000Z"  # 23:40 local, next day UTC
    assert sorted(stuck["tags"]) == ["bob", "stuck"]
    assert found["Short one, no tags"]["tags"] == [] and found["Short one, no tags"]["body"] == ""
    assert [e["starred"] for e in found.values()].count(True) == 1


def test_importing_twice_creates_no_duplicates(run: CLI, tmp_path):
    run.ok("import", "jrnl", str(FIXTURE))
    summary = json.loads(run.ok("import", "jrnl", str(FIXTURE), "--json"))
    assert summary == {"imported": 0, "updated": 0, "already_present": 5, "skipped": [], "warnings": []}
    # A later export of the same journal, with one more entry, adds only that one.
    document = json.loads(FIXTURE.read_text())
    document["entries"].append({"title": "New.", "body": "", "date": "2024-04-01",
                                "time": "10:00", "tags": [], "starred": False})
    later = tmp_path / "later.json"
    later.write_text(json.dumps(document, indent=2))
    assert run.ok("import", "jrnl", str(later)).strip() == "imported 1 entry, 5 already present"
    assert len(json.loads(run.ok("log", "--json", "-n", "0"))) == 6


def test_broken_json_reports_the_line_and_imports_nothing(run: CLI, tmp_path):
    broken = tmp_path / "broken.json"
    text = FIXTURE.read_text()
    cut = text.index('"date": "2024-03-03"')
    broken.write_text(text[:cut] + text[cut:].replace(",", "", 1))
    line = text[:cut].count("\n") + 2
    result = run("import", "jrnl", str(broken))
    assert result.exit_code == 1
    assert f"broken.json:{line}: not valid JSON" in result.stderr
    assert json.loads(run.ok("log", "--json")) == []


def _bad_journal(path: Path) -> dict[str, int]:
    """A journal with good and bad entries; returns each bad entry's starting line."""
    good = {"title": "Fine.", "body": "ok", "date": "2024-03-01", "time": "09:00",
            "tags": ["#a"], "starred": False}
    items = [
        ("good", good),
        ("date", {**good, "title": "Bad date.", "date": "2024-13-01"}),
        ("good", {**good, "title": "Also fine.", "time": "23:59"}),
        ("tags", {**good, "title": "Bad tags.", "tags": "#a"}),
        ("not an object", "just a string"),
        ("starred", {**good, "title": "Bad star.", "starred": "yes"}),
        ("empty", {**good, "title": "", "body": ""}),
    ]
    text, line, starts = '{\n  "tags": {"#a": 3},\n  "entries": [\n', 4, {}
    for number, (name, item) in enumerate(items, 1):
        chunk = json.dumps(item, indent=2, ensure_ascii=False)
        starts[name] = line
        text += chunk + (",\n" if number < len(items) else "\n")
        line += chunk.count("\n") + 1
    path.write_text(text + "  ]\n}\n")
    del starts["good"]
    return starts


def test_bad_entries_are_all_listed_with_lines_and_nothing_is_imported(run: CLI, tmp_path):
    path = tmp_path / "journal.json"
    lines = _bad_journal(path)
    result = run("import", "jrnl", str(path))
    assert result.exit_code == 1
    assert "5 problems found" in result.stderr and "nothing was imported" in result.stderr
    for name, line in lines.items():
        assert f"journal.json:{line}: " in result.stderr, name
    assert "cannot read date '2024-13-01'" in result.stderr
    assert json.loads(run.ok("log", "--json")) == []


def test_one_bad_entry_is_one_problem(run: CLI, tmp_path):
    path = tmp_path / "journal.json"
    path.write_text(json.dumps({"entries": [{"title": "Bad date.", "body": "", "date": "2024-13-01",
                                             "time": "09:00", "tags": [], "starred": False}]}))
    assert "1 problem found" in run("import", "jrnl", str(path)).stderr  # not "1 problem(s)"


def test_skip_bad_imports_the_good_entries(run: CLI, tmp_path):
    path = tmp_path / "journal.json"
    lines = _bad_journal(path)
    output = run.ok("import", "jrnl", str(path), "--skip-bad")
    assert output.startswith("imported 2 entries, 0 already present, skipped: ")
    assert f"journal.json (line {lines['starred']}: starred must be true or false" in output
    titles = sorted(e["title"] for e in json.loads(run.ok("log", "--json")))
    assert titles == ["Also fine.", "Fine."]


def test_entry_lines_are_found_in_compact_json_and_any_key_order(tmp_path):
    path = tmp_path / "compact.json"
    path.write_text('{"entries": [{"title": "A.", "body": "", "date": "2024-01-01", '
                    '"time": "10:00", "tags": [], "starred": false},\n'
                    '{"title": "B.", "date": "nope"}], "tags": {}}')
    items, problems, _ = read_jrnl(path)
    assert [i.title for i in items] == ["A."]
    assert [p.where for p in problems] == ["compact.json:2"]


def test_files_that_are_not_jrnl_exports(workspace, tmp_path):
    from upstack.errors import BadInput

    (tmp_path / "latin1.json").write_bytes('{"entries": []}\n"caf\xe9"'.encode("latin-1"))
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(BadInput, match=r"latin1.json:2: not UTF-8"):
        import_jrnl(workspace, tmp_path / "latin1.json")
    with pytest.raises(BadInput, match=r"list.json:1: not a jrnl JSON export"):
        import_jrnl(workspace, tmp_path / "list.json")
    with pytest.raises(BadInput, match="no such file"):
        import_jrnl(workspace, tmp_path / "missing.json")


def test_library_import_reports_counts(workspace, tmp_path):
    copy = tmp_path / "export.json"
    shutil.copy(FIXTURE, copy)
    assert import_jrnl(workspace, copy).imported == 5
    assert import_jrnl(workspace, copy).unchanged == 5


def test_usage_errors_exit_2(run: CLI, tmp_path):
    assert run("import", "jrnl").exit_code == 2
    assert run("import", "yaml", str(FIXTURE)).exit_code == 2
    assert run("import", str(FIXTURE), "--skip-bad").exit_code == 2


def test_a_bulk_import_leaves_postgresql_planning_for_its_rows(workspace, monkeypatch) -> None:
    """After a big import the planner's statistics are fresh at once (ANALYZE), not whenever
    autovacuum comes round: until then PostgreSQL may plan the first searches as for empty tables."""
    from upstack.store import store as store_module

    if workspace.db_url is None:
        pytest.skip("planner statistics are PostgreSQL's (SQLite plans well without them)")
    monkeypatch.setattr(store_module, "BULK", len(read_jrnl(FIXTURE).items))  # the fixture counts as bulk
    db = workspace.store().db

    def analyzed() -> bool:
        return bool(db.scalar("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                              "WHERE relname = 'entry_search' AND schemaname = current_schema()"))

    assert not analyzed()
    import_jrnl(workspace, FIXTURE)
    deadline = time.monotonic() + 10  # statistics are published within a second or so
    while not analyzed():
        assert time.monotonic() < deadline, "entry_search was not analyzed after the import"
        time.sleep(0.2)
