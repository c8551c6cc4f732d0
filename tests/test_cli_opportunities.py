"""`upstack opp` (cli/opportunities.py over services/opportunities.py): adding, listing soonest
deadline first, possible duplicates merged or called distinct, archive, kept postings, bad input
refused with nothing changed; `--json` on every listing; on both engines."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from conftest import CLI, assert_refused_unchanged
from upstack.timeutil import today_local


def _slugs(run: CLI, *args: str) -> list[str]:
    return [o["slug"] for o in json.loads(run.ok("opp", "list", "--json", *args))]


def test_opportunities_are_listed_soonest_deadline_first_and_words_are_dates(run: CLI) -> None:
    run.ok("opp", "add", "--org", "Later Lab", "--role", "RE", "--deadline", "2027-06-01")
    run.ok("opp", "add", "--org", "No Date Org", "--role", "Ops")
    said = run.ok("opp", "add", "--kind", "program", "--org", "MATS", "--role", "Winter cohort",
                  "--deadline", "in 3 weeks", "--area", "interpretability", "--area", "evals", "--remote",
                  "--location", "Berkeley", "--source", "80,000 Hours", "--found", "a friend",
                  "--link", "https://mats.example/apply", "--notes", "Ask about the stipend.")
    assert said.strip() == "added mats-winter-cohort: Winter cohort at MATS"
    assert _slugs(run) == ["mats-winter-cohort", "later-lab-re", "no-date-org-ops"]
    assert json.loads(run.ok("opp", "--json")) == json.loads(run.ok("opp", "list", "--json"))
    mats = json.loads(run.ok("opp", "show", "mats", "--json"))
    assert mats["deadline"] == (today_local() + timedelta(weeks=3)).isoformat()
    assert (mats["kind"], mats["areas"], mats["remote"], mats["location"], mats["source"], mats["found"]) == \
        ("programme", ["interpretability", "evals"], True, "Berkeley", "80,000 Hours", "a friend")
    assert mats["posting"] is None and mats["application"] is None
    listed = run.ok("opp").splitlines()
    assert listed[0].startswith(mats["deadline"]) and "mats-winter-cohort" in listed[0]
    assert "(Berkeley, remote)" in listed[0]
    assert listed[2].startswith("no deadline")
    assert _slugs(run, "--kind", "programme") == ["mats-winter-cohort"]
    shown = run.ok("opp", "show", "mats")
    assert "Winter cohort at MATS  [mats-winter-cohort]" in shown and "Ask about the stipend." in shown


def test_a_role_found_again_under_another_link_is_a_possible_duplicate_to_merge(run: CLI) -> None:
    run.ok("opp", "add", "--org", "Redwood", "--role", "RE", "--link", "https://r.example/re",
           "--deadline", "2027-01-15")
    said = run.ok("opp", "add", "--org", "redwood", "--role", "re", "--link", "https://board.example/123",
                  "--location", "Berkeley")
    assert "possible duplicate of redwood-re" in said and "upstack opp merge redwood-re-2 --into redwood-re" in said
    assert "1 possible duplicate: `upstack opp merge redwood-re-2 --into redwood-re`" in run.ok("opp")
    merged = json.loads(run.ok("opp", "merge", "redwood-re-2", "--into", "redwood-re", "--json"))
    assert (merged["slug"], merged["location"], merged["link"]) == ("redwood-re", "Berkeley", "https://r.example/re")
    assert _slugs(run) == ["redwood-re"]
    everything = json.loads(run.ok("opp", "list", "--all", "--json"))
    assert [(o["slug"], o["archived"], o["merged_into"]) for o in everything] == \
        [("redwood-re", False, ""), ("redwood-re-2", True, "redwood-re")]
    assert "merged into redwood-re" in run.ok("opp", "list", "--all")
    run.ok("opp", "restore", "redwood-re-2")
    assert json.loads(run.ok("opp", "distinct", "redwood-re-2", "--json"))["duplicate_of"] == ""
    assert "possible duplicate" not in run.ok("opp")


def test_the_same_link_again_changes_nothing_but_what_was_missing(run: CLI) -> None:
    run.ok("opp", "add", "--org", "FAR", "--role", "RE", "--link", "https://far.example/re/")
    again = json.loads(run.ok("opp", "add", "--org", "FAR", "--role", "RE", "--link", "https://FAR.example/re#top",
                              "--json"))
    assert again["outcome"] == "unchanged"
    filled = json.loads(run.ok("opp", "add", "--org", "FAR", "--link", "https://far.example/re", "--deadline",
                               "2027-02-02", "--json"))
    assert (filled["outcome"], filled["deadline"], filled["role"]) == ("merged", "2027-02-02", "RE")
    assert _slugs(run) == ["far-re"]


def test_edit_archive_and_restore(run: CLI) -> None:
    run.ok("opp", "add", "--org", "Apollo", "--role", "Evals", "--deadline", "2027-03-01")
    edited = json.loads(run.ok("opp", "edit", "apollo", "--deadline", "2027-04-01", "--area", "evals",
                               "--not-remote", "--json"))
    assert (edited["deadline"], edited["areas"]) == ("2027-04-01", ["evals"])
    assert json.loads(run.ok("opp", "edit", "apollo", "--deadline", "", "--json"))["deadline"] == ""
    assert_refused_unchanged(run, ["opp", "edit", "apollo", "--role", "Evals"], "nothing to change")
    assert run.ok("opp", "archive", "apollo").strip() == "archived apollo-evals: Evals at Apollo"
    assert _slugs(run) == [] and _slugs(run, "--all") == ["apollo-evals"]
    assert "archived" in run.ok("opp", "show", "apollo")
    assert_refused_unchanged(run, ["opp", "archive", "apollo"],
                             "apollo-evals is archived: `upstack opp restore apollo-evals`")
    run.ok("opp", "restore", "apollo")
    assert _slugs(run) == ["apollo-evals"]
    assert_refused_unchanged(run, ["opp", "restore", "apollo"], "apollo-evals is not archived")


def test_a_posting_is_kept_from_a_file_or_standard_input_and_printed(run: CLI, tmp_path: Path) -> None:
    run.ok("opp", "add", "--org", "Redwood", "--role", "RE")
    assert "no posting kept for redwood-re" in run.ok("opp", "posting", "redwood")
    assert run.ok("opp", "posting", "redwood", "--json").strip() == "null"
    text = "We are hiring research engineers.\n\nApply by January 15, 2027."
    (tmp_path / "posting.txt").write_text(text, encoding="utf-8")
    said = run.ok("opp", "posting", "redwood", "--file", str(tmp_path / "posting.txt"), "--url", "https://r.example/re")
    assert said.startswith("kept the posting of redwood-re")
    assert run.ok("opp", "posting", "redwood").strip() == text
    shown = run.ok("opp", "show", "redwood")
    assert text in shown and "(read at https://r.example/re)" in shown
    run.ok("opp", "posting", "redwood", "--file", "-", input="Pasted again, changed.")
    assert json.loads(run.ok("opp", "posting", "redwood", "--json"))["text"] == "Pasted again, changed."
    assert_refused_unchanged(run, ["opp", "posting", "redwood", "--file", "-"], "the posting's text is empty")


def test_bad_input_is_one_line_and_changes_nothing(run: CLI) -> None:
    run.ok("opp", "add", "--org", "Redwood", "--role", "RE")
    assert_refused_unchanged(run, ["opp", "add", "--org", "X", "--kind", "sabbatical"], "no kind 'sabbatical'")
    assert_refused_unchanged(run, ["opp", "add", "--org", "X", "--deadline", "soonish"], "the deadline 'soonish'")
    assert_refused_unchanged(run, ["opp", "add", "--role", "RE"], "an opportunity needs its organisation")
    assert_refused_unchanged(run, ["opp", "add", "--org", "X", "--link", "ftp://x"], "is not a web address")
    assert_refused_unchanged(run, ["opp", "show", "nobody"], "no opportunity 'nobody'")
    assert_refused_unchanged(run, ["opp", "merge", "redwood", "--into", "redwood"], "cannot be merged into itself")
    assert_refused_unchanged(run, ["opp", "distinct", "redwood"], "is not marked as a possible duplicate")


def test_an_empty_list_says_how_to_add_one(run: CLI) -> None:
    assert "upstack opp add" in run.ok("opp")
    assert json.loads(run.ok("opp", "--json")) == []


def test_opp_match_ranks_ones_own_work_by_the_posting(run: CLI) -> None:
    run.ok("note", "-k", "result", "Path patching recovers 80% of the logit difference through the name movers.")
    run.ok("note", "Reading notes on sparse autoencoders and dictionary learning.")
    run.ok("note", "-k", "result", "Secret: path patching on the unreleased model.", "--private")
    run.ok("opp", "add", "--org", "Meridian", "--role", "Research engineer, circuits", "--area", "path patching")
    found = json.loads(run.ok("opp", "match", "meridian", "--json"))
    titles = [w["title"] for w in found["work"]]
    assert titles[0].startswith("Path patching recovers") and not any("Secret" in t for t in titles)
    assert "Your work that fits:" in run.ok("opp", "match", "meridian")


def test_a_posting_file_that_is_not_text_or_not_a_file_is_one_line(run: CLI, tmp_path: Path) -> None:
    run.ok("opp", "add", "--org", "Lab", "--role", "RE")
    (tmp_path / "latin.txt").write_bytes("Caf\xe9".encode("latin-1"))
    assert_refused_unchanged(run, ["opp", "posting", "lab-re", "--file", str(tmp_path / "latin.txt")],
                             "is not UTF-8 text")
    assert_refused_unchanged(run, ["opp", "posting", "lab-re", "--file", "/dev/zero"], "is not a file")
    assert_refused_unchanged(run, ["opp", "posting", "lab-re", "--file", str(tmp_path)], "is not a file")
    (tmp_path / "long.txt").write_text("x" * 100_000)
    assert_refused_unchanged(run, ["opp", "posting", "lab-re", "--file", str(tmp_path / "long.txt")],
                             "longer than a posting")
