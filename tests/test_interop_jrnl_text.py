"""Importing jrnl's own journal file (fixtures made by a real jrnl 4.6; see fixtures/make_jrnl_fixture.sh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CLI, assert_refused_unchanged
from test_interop_jrnl import entries, new_york  # noqa: F401 - `new_york` is a fixture
from upstack.errors import BadInput
from upstack.interop.jrnl import import_jrnl, read_jrnl
from upstack.interop.jrnl_text import check_timeformat, strptime_format

FIXTURES = Path(__file__).parent / "fixtures"
JOURNAL = FIXTURES / "jrnl_journal.txt"  # timeformat '%F %r', jrnl's default
EXPORT = FIXTURES / "jrnl_export.json"  # `jrnl --format json` of the same journal
TITLES = ["Started the IOI replication.", "Patching layer 5 kills the effect.",
          "Café notes: attention heads ≠ circuits.", "Stuck on the baseline.", "Short one, no tags"]


@pytest.fixture(autouse=True)
def jrnl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own: no jrnl config but the one a test writes."""
    home = tmp_path / "person"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def journal(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(home: Path, text: str, legacy: bool = False) -> Path:
    path = home / ".jrnl_config" if legacy else home / ".config" / "jrnl" / "jrnl.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_fixture_is_jrnls_own_file_in_its_default_timeformat():
    text = JOURNAL.read_text(encoding="utf-8")
    assert text.startswith("[2024-03-01 09:15:00 AM] Started the IOI replication.\n")
    assert "[2024-03-02 02:30:00 PM] Patching layer 5 kills the effect. *\n" in text


@pytest.mark.usefixtures("new_york")
def test_journal_file_imports_dates_titles_bodies_tags_and_stars(run: CLI):
    assert run.ok("import", "jrnl", str(JOURNAL)).strip() == "imported 5 entries, 0 already present"
    found = entries(run)
    assert sorted(found) == sorted(TITLES)
    first = found["Started the IOI replication."]
    assert first["body"] == "Using GPT-2 small with @alice #ioi"
    assert first["occurred_at"] == "2024-03-01T14:15:00.000000Z"  # 09:15 AM in New York
    assert sorted(first["tags"]) == ["alice", "ioi"] and first["starred"] is False
    starred = found["Patching layer 5 kills the effect."]  # "... *" on its date line
    assert starred["starred"] is True and starred["occurred_at"] == "2024-03-02T19:30:00.000000Z"  # 02:30 PM
    assert sorted(starred["tags"]) == ["ioi", "patching"]
    cafe = found["Café notes: attention heads ≠ circuits."]  # blank lines inside the body stay
    assert cafe["body"] == (
        "Ideas from the reading group (naïve version):\n- path patching over 3 seeds\n"
        "- check whether head 9.6 is a name mover #ioi #reading\n\n"
        "Emoji survive too: 🚀 — and so do \"quotes\".")
    stuck = found["Stuck on the baseline."]
    assert stuck["occurred_at"] == "2024-03-05T04:40:00.000000Z"  # 11:40 PM local, next day UTC
    assert sorted(stuck["tags"]) == ["bob", "stuck"]
    assert found["Short one, no tags"]["tags"] == [] and found["Short one, no tags"]["body"] == ""


def test_reimporting_and_the_json_export_of_the_same_journal_add_nothing(run: CLI):
    run.ok("import", "jrnl", str(JOURNAL))
    again = json.loads(run.ok("import", "jrnl", str(JOURNAL), "--json"))
    assert again == {"imported": 0, "updated": 0, "already_present": 5, "skipped": [], "warnings": []}
    assert run.ok("import", "jrnl", str(EXPORT)).strip() == "imported 0 entries, 5 already present"
    assert len(json.loads(run.ok("log", "--json", "-n", "0"))) == 5


def test_the_export_first_then_the_journal_file_adds_nothing(workspace, tmp_path):
    assert import_jrnl(workspace, EXPORT).imported == 5
    result = import_jrnl(workspace, JOURNAL)
    assert (result.imported, result.unchanged) == (0, 5)
    text, exported = read_jrnl(JOURNAL), read_jrnl(EXPORT)
    assert [i.source for i in text.items] == [i.source for i in exported.items]
    assert [(i.title, i.body, i.tags, i.starred, i.occurred_at) for i in text.items] == \
        [(i.title, i.body, i.tags, i.starred, i.occurred_at) for i in exported.items]


@pytest.mark.parametrize("dress", ["crlf", "bom", "both"])
def test_crlf_line_ends_and_a_byte_order_mark_read_the_same(dress: str, tmp_path):
    data = JOURNAL.read_bytes()
    if dress in ("crlf", "both"):
        data = data.replace(b"\n", b"\r\n")
    if dress in ("bom", "both"):
        data = b"\xef\xbb\xbf" + data
    copy = tmp_path / "journal.txt"
    copy.write_bytes(data)
    read, plain = read_jrnl(copy), read_jrnl(JOURNAL)
    assert read.problems == [] and [i.source for i in read.items] == [i.source for i in plain.items]
    assert all("\r" not in i.body and "\ufeff" not in i.title for i in read.items)


@pytest.mark.usefixtures("new_york")
def test_a_custom_timeformat_is_given_with_the_option(run: CLI, tmp_path):
    path = journal(tmp_path / "journal.txt",
                   "[01.03.2024 21:05] Evening entry.", "With a body.", "",
                   "[02.03.2024 07:30] Morning entry. *")
    assert_refused_unchanged(run, ["import", "jrnl", str(path)],
                             "journal.txt:1: no entry's date reads with timeformat '%F %r' (jrnl's default)")
    assert run.ok("import", "jrnl", str(path), "--timeformat", "%d.%m.%Y %H:%M").strip() == \
        "imported 2 entries, 0 already present"
    found = entries(run)
    assert found["Evening entry."]["occurred_at"] == "2024-03-02T02:05:00.000000Z"
    assert found["Evening entry."]["body"] == "With a body."
    assert found["Morning entry."]["starred"] is True


def test_the_timeformat_and_tag_symbols_come_from_jrnls_config(run: CLI, tmp_path, jrnl_home):
    write_config(jrnl_home, "timeformat: '%Y-%m-%d %H:%M'\ntagsymbols: '+'\n")
    path = journal(tmp_path / "journal.txt", "[2024-03-01 09:15] Tagged +Alice and #not.")
    assert run.ok("import", "jrnl", str(path)).startswith("imported 1 entry")
    assert [i.tags for i in read_jrnl(path).items] == [["alice"]]  # '+' is jrnl's only tag symbol here
    [entry] = entries(run).values()
    assert "alice" in entry["tags"]  # (upstack reads #not from the body itself)
    # The option wins over the config.
    other = journal(tmp_path / "other.txt", "[01/03/2024 10:00] Another.")
    assert run.ok("import", "jrnl", str(other), "--timeformat", "%d/%m/%Y %H:%M").startswith("imported 1 entry")


def test_the_legacy_config_and_a_journals_own_settings(tmp_path, jrnl_home):
    path = journal(tmp_path / "work.txt", "[2024-03-01 09:15] Work entry.")
    write_config(jrnl_home, '{"timeformat": "%Y-%m-%d %H:%M", "tagsymbols": "@"}', legacy=True)  # jrnl 1.x: JSON
    assert [i.title for i in read_jrnl(path).items] == ["Work entry."]
    # jrnl.yaml wins over ~/.jrnl_config; a listed journal's own timeformat wins for its file.
    write_config(jrnl_home, "timeformat: '%F %r'\njournals:\n  default: ~/journal.txt\n"
                            f"  work:\n    journal: {path}\n    timeformat: '%Y-%m-%d %H:%M'\n")
    assert [i.title for i in read_jrnl(path).items] == ["Work entry."]
    elsewhere = journal(tmp_path / "elsewhere.txt", "[2024-03-01 09:15] Not the work journal.")
    with pytest.raises(BadInput, match=r"with timeformat '%F %r' \(from .*jrnl.yaml\)"):
        read_jrnl(elsewhere)


def test_an_unreadable_config_is_a_warning_and_the_default_is_used(run: CLI, jrnl_home):
    config = write_config(jrnl_home, "timeformat: [unclosed\n")
    result = run("import", "jrnl", str(JOURNAL))
    assert result.exit_code == 0 and result.stdout.startswith("imported 5 entries")
    assert f"warning: cannot read jrnl's config {config}: not valid YAML" in result.stderr
    assert "'%F %r'" in result.stderr
    write_config(jrnl_home, "timeformat: 12\n")
    assert "timeformat 12 is not text" in run("import", "jrnl", str(JOURNAL)).stderr


def test_body_lines_that_only_look_like_dates_stay_in_the_body(tmp_path):
    """Only `[DATE] ` at a line's start begins an entry. (jrnl itself guesses at any bracket: it reads
    '[1, 2, 3] a list' as an entry of 2003-01-02; upstack keeps such lines in the body.)"""
    body = ["  [2024-03-01 10:00:00 AM] indented, so not a date line",
            "Met on [2024-03-01 10:00:00 AM] in the middle of a line",
            "[2024-03-01 10:00:00 AM]", "[1] a footnote", "[12:00] short, as jrnl's footnotes",
            "[see the paper] a link label", "[1, 2, 3] a list",
            "2024-03-01 10:00:00 AM without brackets"]
    path = journal(tmp_path / "journal.txt", "[2024-03-01 09:15:00 AM] One entry.", "first body line",
                   *body, "", "[2024-03-02 09:15:00 AM] Two.")
    read = read_jrnl(path)
    assert read.problems == []
    assert [i.title for i in read.items] == ["One entry.", "Two."]
    assert read.items[0].body == "\n".join(["first body line", *body])


def test_a_one_line_entry_splits_its_title_as_jrnl_does(tmp_path):
    path = journal(tmp_path / "journal.txt", "[2024-03-01 09:15:00 AM] Is it? Yes. #Q @Bob bob@example.com",
                   "[2024-03-01 09:16:00 AM] Starred without a space*")
    first, second = read_jrnl(path).items
    assert (first.title, first.body, first.tags) == ("Is it?", "Yes. #Q @Bob bob@example.com", ["bob", "q"])
    assert (second.title, second.starred) == ("Starred without a space", True)


def test_bad_date_lines_are_listed_with_their_lines_and_nothing_is_imported(run: CLI, tmp_path):
    path = journal(tmp_path / "journal.txt",
                   "[2024-03-01 09:15:00 AM] Fine.", "",
                   "[2024-13-01 09:15:00 AM] Month thirteen.", "its body", "",
                   "[2024-03-02 09:15:00 AM] Also fine.", "",
                   "[2024-03-03 25:15:00 AM] Hour twenty-five.", "",
                   "[2024-03-04 09:15] Another timeformat.")
    result = run("import", "jrnl", str(path))
    assert result.exit_code == 1 and "3 problems found" in result.stderr
    assert "nothing was imported" in result.stderr
    assert "journal.txt:3: cannot read the date '2024-13-01 09:15:00 AM' with timeformat '%F %r'" in result.stderr
    assert "journal.txt:8: cannot read the date '2024-03-03 25:15:00 AM'" in result.stderr
    assert "journal.txt:10: cannot read the date '2024-03-04 09:15'" in result.stderr
    assert json.loads(run.ok("log", "--json")) == []
    output = run.ok("import", "jrnl", str(path), "--skip-bad")
    assert output.startswith("imported 2 entries, 0 already present, skipped: journal.txt (line 3: ")
    found = entries(run)
    assert sorted(found) == ["Also fine.", "Fine."]
    assert found["Fine."]["body"] == ""  # the bad entry's body went with it, not into the one before


def test_text_before_the_first_entry_is_a_problem(tmp_path):
    path = journal(tmp_path / "journal.txt", "notes to self", "", "[2024-03-01 09:15:00 AM] Entry.")
    read = read_jrnl(path)
    assert [str(p) for p in read.problems] == [
        "journal.txt:1: text before the first entry (a jrnl entry starts with a line `[DATE] title`)"]
    assert [i.title for i in read.items] == ["Entry."]


def test_a_jrnl_1_journal_without_brackets(tmp_path):
    path = journal(tmp_path / "journal.txt", "2012-05-01 09:00 First of the old ones.", "A body.", "",
                   "2012-05-02 10:30 Starred old one*")
    first, second = read_jrnl(path, timeformat="%Y-%m-%d %H:%M").items
    assert (first.title, first.body, first.starred) == ("First of the old ones.", "A body.", False)
    assert (second.title, second.starred) == ("Starred old one", True)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_an_encrypted_journal_is_refused_with_how_to_decrypt_it(run: CLI, version: str):
    path = FIXTURES / "jrnl_encrypted" / f"journal_{version}.txt"
    assert_refused_unchanged(run, ["import", "jrnl", str(path)], "jrnl --decrypt plain.txt")
    assert "encrypted jrnl" in run("import", "jrnl", str(path)).stderr


def test_files_in_neither_format_name_both(run: CLI, tmp_path):
    notes = journal(tmp_path / "notes.txt", "Just some notes.", "No dates here.")
    assert_refused_unchanged(run, ["import", "jrnl", str(notes)], "notes.txt is not a jrnl journal: upstack reads "
                             "jrnl's own journal file (each entry starts with a line `[DATE] title`, DATE in "
                             "timeformat '%F %r', jrnl's default) or its JSON export (`jrnl --format json`)")
    binary = tmp_path / "picture.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) + b"x")
    assert_refused_unchanged(run, ["import", "jrnl", str(binary)], "picture.png is not text: upstack reads jrnl's "
                             "own journal file")


def test_an_empty_journal_imports_nothing(run: CLI, tmp_path):
    (tmp_path / "journal.txt").write_text("\n")
    assert run.ok("import", "jrnl", str(tmp_path / "journal.txt")).strip() == "imported 0 entries, 0 already present"


def test_timeformats_are_read_as_jrnl_writes_them():
    assert strptime_format("%F %r") == "%Y-%m-%d %I:%M:%S %p"
    assert strptime_format("%-d/%-m/%Y %T %%F") == "%d/%m/%Y %H:%M:%S %%F"
    check_timeformat("%A %d %B %Y at %I:%M %p", "test")
    with pytest.raises(BadInput, match="does not give the year, month and day"):
        check_timeformat("%H:%M", "from --timeformat")
    with pytest.raises(BadInput, match="cannot read dates written with timeformat '%Q'"):
        check_timeformat("%Q", "from --timeformat")


def test_timeformat_is_only_for_jrnl(run: CLI):
    result = run("import", "jrnl", str(EXPORT), "--timeformat", "%d.%m.%Y %H:%M")
    assert result.exit_code == 0 and "warning: --timeformat is for jrnl's own journal file" in result.stderr
    assert run("import", "markdown", "vault", "--timeformat", "%F").exit_code == 2
    assert run("import", str(EXPORT), "--timeformat", "%F").exit_code == 2
    assert_refused_unchanged(run, ["import", "jrnl", str(JOURNAL), "--timeformat", "%H:%M"],
                             "timeformat '%H:%M' (from --timeformat) does not give the year, month and day")
