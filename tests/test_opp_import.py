"""`upstack opp import` (services/opp_import.py, services/csvfile.py): opportunities from real CSV
files as boards and spreadsheets write them, and from JSON; all or nothing, bad rows named by line;
importing again adds nothing; through the CLI, on both engines."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import CLI, assert_refused_unchanged
from upstack.services.jsondump import dump_tables
from upstack.workspace import Workspace

# A board's export: its own header names, a deadline in words, a description kept as the posting.
BOARD = ("Company,Title,URL,Deadline,Location,Remote,Tags,Description\n"
         "Redwood Research,Research Engineer,https://redwood.example/jobs/re,2027-01-15,Berkeley,no,"
         "interpretability;control,Build tools for interpretability research.\n"
         "Apollo Research,Evals Researcher,https://apollo.example/careers/evals,2027-02-01,London,yes,evals,\n"
         "Café Alignment Lab,Research Scientist – Deception,https://cafe.example/rs,2027-03-01,Zürich,remote,"
         "deception,Étudier la tromperie.\n")


def _opps(run: CLI, *args: str) -> list[dict[str, object]]:
    return json.loads(run.ok("opp", "list", "--json", *args))


def _tables(run: CLI) -> dict[str, object]:
    with Workspace(home=run.home, db=run.db_url) as ws:
        return dump_tables(ws.store().db)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_a_boards_csv_is_read_by_its_common_headers_in_any_encoding(run: CLI, tmp_path: Path, encoding: str) -> None:
    source = tmp_path / "jobs.csv"
    source.write_bytes(BOARD.replace("\n", "\r\n").encode(encoding))
    said = run.ok("opp", "import", str(source))
    assert said.startswith("imported 3 opportunities from jobs.csv")
    assert (encoding in ("utf-8", "utf-8-sig")) or f"({encoding.replace('utf-16', 'utf-16')})" in said
    got = {o["organisation"]: o for o in _opps(run)}
    assert set(got) == {"Redwood Research", "Apollo Research", "Café Alignment Lab"}
    cafe = got["Café Alignment Lab"]
    assert (cafe["role"], cafe["location"], cafe["remote"], cafe["deadline"], cafe["areas"]) == \
        ("Research Scientist – Deception", "Zürich", True, "2027-03-01", ["deception"])
    assert got["Redwood Research"]["areas"] == ["interpretability", "control"] and not got["Redwood Research"]["remote"]
    assert [o["deadline"] for o in _opps(run)] == ["2027-01-15", "2027-02-01", "2027-03-01"]  # soonest first
    shown = json.loads(run.ok("opp", "show", str(cafe["slug"]), "--json"))
    assert shown["posting"]["text"] == "Étudier la tromperie."
    assert json.loads(run.ok("opp", "show", str(got["Apollo Research"]["slug"]), "--json"))["posting"] is None


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolons_and_tabs_with_a_column_mapping(run: CLI, tmp_path: Path, delimiter: str) -> None:
    rows = [["Organisme", "Poste", "Lien", "Date limite", "Genre"],
            ["MATS", "Winter cohort", "https://mats.example/apply", "15/01/2027", "fellowship"],
            ["LTFF", "Grant round", "https://ltff.example/apply", "2027-02-20", "grant"]]
    source = tmp_path / "liste.csv"
    source.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="cp1252")
    mapping = ["--map", "org=Organisme", "--map", "role=Poste", "--map", "url=Lien",
               "--map", "deadline=Date limite", "--map", "kind=Genre"]
    report = json.loads(run.ok("opp", "import", str(source), *mapping, "--json"))
    assert len(report["added"]) == 2
    got = {o["organisation"]: (o["kind"], o["deadline"], o["link"]) for o in _opps(run)}
    assert got == {"MATS": ("fellowship", "2027-01-15", "https://mats.example/apply"),
                   "LTFF": ("grant", "2027-02-20", "https://ltff.example/apply")}


def test_importing_the_same_file_again_adds_nothing(run: CLI, tmp_path: Path) -> None:
    source = tmp_path / "jobs.csv"
    source.write_text(BOARD + "No Link Org,Ops lead,,2027-04-01,,,,\n", encoding="utf-8")
    assert len(json.loads(run.ok("opp", "import", str(source), "--json"))["added"]) == 4
    before = _tables(run)
    again = json.loads(run.ok("opp", "import", str(source), "--json"))
    assert (again["added"], again["merged"], again["unchanged"], again["duplicates"]) == ([], [], 4, [])
    assert _tables(run) == before  # not a record more, the one without a link included


def test_the_same_role_under_another_link_is_reported_as_a_possible_duplicate(run: CLI, tmp_path: Path) -> None:
    run.ok("opp", "import", str(_write(tmp_path / "jobs.csv", BOARD)))
    next_year = _write(tmp_path / "next.csv", "Company,Title,URL,Deadline\n"
                       "Redwood Research,Research Engineer,https://redwood.example/jobs/re-2028,2028-01-15\n")
    said = run.ok("opp", "import", str(next_year))
    assert "imported 1 opportunity from next.csv" in said
    assert "possible duplicate: redwood-research-research-engineer-2 of redwood-research-research-engineer" in said
    listed = run.ok("opp")
    assert "possible duplicate of redwood-research-research-engineer" in listed
    assert "upstack opp merge redwood-research-research-engineer-2 --into redwood-research-research-engineer" in listed


def test_the_same_link_fills_in_what_was_missing_and_nothing_else(run: CLI, tmp_path: Path) -> None:
    run.ok("opp", "add", "--org", "Redwood Research", "--role", "Research Engineer",
           "--link", "https://redwood.example/jobs/re/", "--notes", "mine")
    report = json.loads(run.ok("opp", "import", str(_write(tmp_path / "jobs.csv", BOARD)), "--json"))
    assert report["merged"] == ["redwood-research-research-engineer"] and len(report["added"]) == 2
    [kept] = [o for o in _opps(run) if o["organisation"] == "Redwood Research"]
    assert (kept["notes"], kept["deadline"], kept["location"]) == ("mine", "2027-01-15", "Berkeley")


def test_a_bad_row_is_named_by_file_and_line_and_nothing_is_imported(run: CLI, tmp_path: Path) -> None:
    lines = BOARD.splitlines()
    bad = "Anthropic,Research Engineer,https://anthropic.example/re,soonish,SF,no,,"
    source = _write(tmp_path / "jobs.csv", "\n".join([*lines[:3], bad, lines[3]]) + "\n")
    run.ok("opp", "add", "--org", "Already", "--role", "Here")
    assert_refused_unchanged(run, ["opp", "import", str(source)], "jobs.csv line 4: ")
    said = run("opp", "import", str(source)).stderr
    assert "the deadline 'soonish'" in said and "nothing was imported" in said and "--skip-bad" in said


def test_several_bad_rows_are_all_named_and_skip_bad_imports_the_rest(run: CLI, tmp_path: Path) -> None:
    source = _write(tmp_path / "jobs.csv", BOARD + "Meridian,RE,https://m.example/re,2027-05-01,,maybe,,\n"
                    ",Nameless role,https://n.example/x,2027-05-01,,,,\n"
                    "Kinded,Thing,https://k.example/x,2027-05-01,,,,\n")
    result = run("opp", "import", str(source), "--kind", "job")
    assert result.exit_code == 1
    assert "jobs.csv line 5: remote 'maybe' is neither yes nor no" in result.stderr
    assert "jobs.csv line 6: an opportunity needs its organisation" in result.stderr
    assert _opps(run) == []
    skipped = run("opp", "import", str(source), "--skip-bad")
    assert skipped.exit_code == 0 and "imported 4 opportunities from jobs.csv" in skipped.stdout
    assert "skipped jobs.csv line 5: remote 'maybe'" in skipped.stderr
    assert "skipped jobs.csv line 6" in skipped.stderr
    assert {o["organisation"] for o in _opps(run)} == {"Redwood Research", "Apollo Research", "Café Alignment Lab",
                                                         "Kinded"}


def test_a_missing_mapped_column_is_named(run: CLI, tmp_path: Path) -> None:
    source = _write(tmp_path / "jobs.csv", BOARD)
    assert_refused_unchanged(run, ["opp", "import", str(source), "--map", "org=Employer"],
                             "--map organisation=Employer: jobs.csv has no column 'Employer' (its columns: Company,")
    headless = _write(tmp_path / "roles.csv", "Title,URL\nRE,https://x.example/re\n")
    assert_refused_unchanged(run, ["opp", "import", str(headless)],
                             "roles.csv has no column for organisation (its columns: Title, URL); name one with "
                             "--map organisation=COLUMN")
    assert_refused_unchanged(run, ["opp", "import", str(source), "--map", "salary=Pay"], "'salary' is not a field")


def test_json_a_list_or_an_object_with_opportunities(run: CLI, tmp_path: Path) -> None:
    items = [{"organisation": "MATS", "role": "Winter cohort", "kind": "fellowship", "deadline": "2027-01-15",
              "areas": ["interpretability", "evals"], "remote": False, "link": "https://mats.example/apply",
              "posting": "Twelve weeks of mentored research."},
             {"company": "FAR AI", "title": "Research Engineer", "url": "https://far.example/re", "remote": True}]
    listed = _write(tmp_path / "saved.json", json.dumps(items))
    assert "imported 2 opportunities from saved.json" in run.ok("opp", "import", str(listed))
    wrapped = _write(tmp_path / "wrapped.json", json.dumps({"opportunities": items}))
    assert json.loads(run.ok("opp", "import", str(wrapped), "--json"))["unchanged"] == 2
    got = {o["organisation"]: o for o in _opps(run)}
    assert got["MATS"]["areas"] == ["interpretability", "evals"] and got["FAR AI"]["remote"] is True
    assert got["FAR AI"]["role"] == "Research Engineer" and got["FAR AI"]["kind"] == "job"
    kept = json.loads(run.ok("opp", "show", "mats", "--json"))["posting"]
    assert kept["text"] == "Twelve weeks of mentored research."


def test_bad_json_items_are_named_by_their_number(run: CLI, tmp_path: Path) -> None:
    items = [{"org": "A", "role": "B"}, "not an object", {"org": "C", "kind": "sabbatical"}]
    source = _write(tmp_path / "saved.json", json.dumps(items))
    result = run("opp", "import", str(source))
    assert result.exit_code == 1
    assert "saved.json item 2: is str" in result.stderr and "saved.json item 3: no kind 'sabbatical'" in result.stderr
    assert _opps(run) == []
    assert_refused_unchanged(run, ["opp", "import", str(_write(tmp_path / "broken.json", "[{"))],
                             "broken.json is not JSON")
    assert_refused_unchanged(run, ["opp", "import", str(_write(tmp_path / "odd.json", '{"jobs": []}'))],
                             "odd.json holds no list of opportunities")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# Feeds: postings that look like openings are proposed, and added only when accepted.

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Safety Forum</title>
    <link>https://forum.example/</link>
    <description>Posts</description>
    <item>
      <title>Meridian Interpretability is hiring research engineers</title>
      <link>/posts/meridian-hiring</link>
      <author>ada@forum.example (Ada)</author>
      <pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate>
      <description><![CDATA[<p>We're hiring two research engineers to build interpretability tools.
        <a href="apply">Apply here</a>; apply by January 15, 2027.</p><script>steal()</script>]]></description>
    </item>
    <item>
      <title>Activation patching on a toy model</title>
      <link>https://forum.example/posts/patching</link>
      <pubDate>Wed, 02 Dec 2026 09:00:00 GMT</pubDate>
      <description>We apply activation patching and find two heads that matter. Results below.</description>
    </item>
    <item>
      <title>Announcing the Foxglove Fellowship 2027</title>
      <link>https://forum.example/posts/foxglove</link>
      <pubDate>Thu, 03 Dec 2026 09:00:00 GMT</pubDate>
      <description>Fellows receive a stipend and mentorship for twelve weeks.
        Applications close 2027-01-20.</description>
    </item>
  </channel>
</rss>
"""


def test_a_feeds_openings_are_proposed_and_nothing_is_added_without_accepting(run: CLI, tmp_path: Path) -> None:
    feed = _write(tmp_path / "forum.xml", FEED)
    run.ok("opp", "list")
    before = _tables(run)
    said = run.ok("opp", "import", str(feed))
    assert said.startswith("Safety Forum: 3 postings, 2 look like an opening")
    assert "  1. Meridian Interpretability is hiring research engineers  (job; deadline 2027-01-15)" in said
    assert "https://forum.example/posts/meridian-hiring" in said and "cues: " in said
    assert "  2. Announcing the Foxglove Fellowship 2027  (fellowship; deadline 2027-01-20)" in said
    assert "not proposed: Activation patching" in said and ".  (" not in said.split("not proposed")[1]  # unnumbered
    assert f"nothing added: add them with `upstack opp import {feed} --accept all`" in said
    proposed = json.loads(run.ok("opp", "import", str(feed), "--json"))
    assert [(p["number"], p["kind"], p["deadline"], p["known"]) for p in proposed["proposed"]] == \
        [(1, "job", "2027-01-15", None), (2, "fellowship", "2027-01-20", None)]
    assert [t[:19] for t in proposed["not_proposed"]] == ["Activation patching"]
    assert _tables(run) == before
    # A post the rule missed can still be accepted: --every numbers them all, in the feed's order.
    every = json.loads(run.ok("opp", "import", str(feed), "--every", "--json"))
    assert [p["number"] for p in every["proposed"]] == [1, 2, 3]
    assert every["proposed"][1]["title"].startswith("Activation patching")
    assert every["not_proposed"] == []
    added = json.loads(run.ok("opp", "import", str(feed), "--every", "--accept", "2", "--json"))
    assert len(added["added"]) == 1


def test_accepted_proposals_keep_their_posting_and_accepting_again_adds_nothing(run: CLI, tmp_path: Path) -> None:
    feed = _write(tmp_path / "forum.xml", FEED)
    said = run.ok("opp", "import", str(feed), "--accept", "1")
    assert "imported 1 opportunity from Safety Forum" in said
    [meridian] = _opps(run)
    assert (meridian["organisation"], meridian["role"], meridian["deadline"], meridian["link"], meridian["source"]) == \
        ("Meridian Interpretability", "research engineers", "2027-01-15", "https://forum.example/posts/meridian-hiring",
         "Safety Forum")
    kept = json.loads(run.ok("opp", "show", str(meridian["slug"]), "--json"))["posting"]
    assert "apply by January 15, 2027" in kept["text"] and "steal()" not in kept["text"]
    assert "<script" not in kept["html"] and "steal" not in kept["html"]
    assert 'href="https://forum.example/apply"' in kept["html"]  # resolved against the feed's own link
    again = run.ok("opp", "import", str(feed))
    assert f"kept already as {meridian['slug']}" in again
    report = json.loads(run.ok("opp", "import", str(feed), "--accept", "all", "--json"))
    assert (len(report["added"]), report["unchanged"]) == (1, 1)
    before = _tables(run)
    run.ok("opp", "import", str(feed), "--accept", "1-2")
    assert _tables(run) == before
    assert_refused_unchanged(run, ["opp", "import", str(feed), "--accept", "3"],
                             "there are 2 proposed, numbered 1 to 2")
    assert_refused_unchanged(run, ["opp", "import", str(feed), "--accept", "first"], "say all, or numbers")


def test_a_feed_is_fetched_once_from_an_address(run: CLI, tmp_path: Path) -> None:
    served: list[str] = []

    class Feed(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            served.append(self.path)
            body = FEED.encode() if self.path == "/feed.xml" else b"<html><body>Not a feed</body></html>"
            self.send_response(200 if self.path in ("/feed.xml", "/page") else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        report = json.loads(run.ok("opp", "import", f"{base}/feed.xml", "--accept", "all", "--json"))
        assert len(report["added"]) == 2 and served == ["/feed.xml"]
        assert {o["found"] for o in _opps(run)} == {f"the feed {base}/feed.xml"}
        assert_refused_unchanged(run, ["opp", "import", f"{base}/page"], "is not an RSS or Atom feed")
        assert_refused_unchanged(run, ["opp", "import", f"{base}/gone.xml"], "answered HTTP 404")
    finally:
        server.shutdown()
        server.server_close()


def test_a_file_that_is_not_a_feed_is_refused_by_name(run: CLI, tmp_path: Path) -> None:
    page = _write(tmp_path / "page.xml", "<html><head><title>Jobs</title></head><body>Hi</body></html>")
    assert_refused_unchanged(run, ["opp", "import", str(page)], "page.xml is not an RSS or Atom feed")
    assert_refused_unchanged(run, ["opp", "import", str(tmp_path / "missing.xml")], "cannot read")


def test_at_a_terminal_the_import_asks_which_to_add(engine: str, db_url: str | None, home: Path,
                                                    tmp_path: Path) -> None:
    feed = _write(tmp_path / "forum.xml", FEED)
    env = {**{k: v for k, v in os.environ.items() if k != "UPSTACK_DB"}, "UPSTACK_HOME": str(home), "NO_COLOR": "1",
           **({"UPSTACK_DB": db_url} if db_url else {})}
    controller, terminal = os.openpty()
    try:
        os.write(controller, b"2\n")
        done = subprocess.run([sys.executable, "-m", "upstack", "opp", "import", str(feed)], stdin=terminal,
                              capture_output=True, text=True, env=env, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 0, done.stderr
    assert "Add which?" in done.stdout and "imported 1 opportunity from Safety Forum" in done.stdout
    assert [o["kind"] for o in _opps(CLI(home, db_url))] == ["fellowship"]


def test_many_possible_duplicates_are_counted_after_the_first_ten(run: CLI, tmp_path: Path) -> None:
    rows = "".join(f"Lab {n},RE,https://lab{n}.example/re,2027-01-15\n" for n in range(12))
    run.ok("opp", "import", str(_write(tmp_path / "first.csv", "Company,Title,URL,Deadline\n" + rows)))
    said = run.ok("opp", "import", str(_write(tmp_path / "again.csv", "Company,Title,URL,Deadline\n"
                                              + rows.replace(".example/re", ".example/re-2028"))))
    assert said.count("possible duplicate: ") == 10 and "and 2 more possible duplicates" in said


def test_an_import_says_where_the_file_differs_from_what_is_kept_and_keeps_it(run: CLI, tmp_path: Path) -> None:
    header = "org,role,link,deadline,location\n"
    first = _write(tmp_path / "a.csv", header + "Redwood,RE,https://r.example/re,2027-01-15,Berkeley\n")
    moved = _write(tmp_path / "b.csv", header + "Redwood,RE,https://r.example/re,2027-01-22,Berkeley\n")
    run.ok("opp", "import", str(first))
    report = json.loads(run.ok("opp", "import", str(moved), "--json"))
    assert (report["added"], report["unchanged"]) == ([], 1)
    assert report["differs"] == [{"slug": "redwood-re", "field": "deadline", "kept": "2027-01-15",
                                  "given": "2027-01-22"}]
    assert "the deadline kept is 2027-01-15, the file says 2027-01-22" in run.ok("opp", "import", str(moved))
    assert [o["deadline"] for o in _opps(run)] == ["2027-01-15"]  # kept as it was


def test_an_empty_json_list_is_refused_as_a_header_only_csv_is(run: CLI, tmp_path: Path) -> None:
    empty = _write(tmp_path / "none.json", "[]")
    assert_refused_unchanged(run, ["opp", "import", str(empty)], "none.json holds an empty list")
