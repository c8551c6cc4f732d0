"""Interview practice (`upstack practice`): the rules (domain/practice.py), the attempt log and its
FSRS schedule recomputed from it (services/practice.py), the bar, CSV import; on both engines."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser import (  # noqa: F401 - the fixtures register under their short names
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from conftest import CLI, assert_refused_unchanged, round_trip
from upstack.domain import practice as rules
from upstack.errors import BadInput
from upstack.services import practice
from upstack.services.jsondump import dump_tables
from upstack.timeutil import now, to_iso
from upstack.workspace import Workspace
from webserver import Server


def _ago(days: float, hours: float = 0) -> str:
    return to_iso(now() - timedelta(days=days, hours=hours))


# The rules: pure, no store.

def test_the_rating_follows_the_documented_rule_against_the_target() -> None:
    assert [rules.rating(o, m, 30) for o, m in [("unaided", 10), ("unaided", 15), ("unaided", 16),
                                                ("unaided", 30), ("unaided", 31), ("hints", 5),
                                                ("failed", 5)]] == \
        ["easy", "easy", "good", "good", "hard", "hard", "again"]


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3.
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_the_wilson_interval_matches_published_values(successes: int, trials: int, low: float, high: float) -> None:
    got = rules.wilson(successes, trials)
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


def test_a_problem_is_a_slug_or_a_normalised_address() -> None:
    assert rules.problem_key("  Two Sum ") == "two-sum"
    assert rules.problem_key("https://leetcode.com/problems/two-sum/description/?x=1") == "two-sum"
    assert rules.problem_key("HTTPS://www.Example.org/p/42/#top") == "https://example.org/p/42"
    for bad in ("", "two sum!", "ftp://x.org/a", "https://"):
        with pytest.raises(BadInput):
            rules.problem_key(bad)


@pytest.mark.parametrize("minutes", ["-1", -0.5, "abc", "nan", "1e9", True])
def test_a_minute_count_that_is_not_one_is_refused(minutes: object) -> None:
    with pytest.raises(BadInput):
        rules.attempt_data("two-sum", at=_ago(1), minutes=minutes, outcome="unaided")


def test_first_is_derived_from_history_and_a_strike_of_a_strike_restores() -> None:
    rows = [("A", "1", {"subject": "p", "minutes": 5, "outcome": "unaided", "difficulty": "medium"}),
            ("B", "2", {"subject": "p", "minutes": 9, "outcome": "hints", "topics": ["graphs"]}),
            ("C", "3", {"subject": "p", "strikes": "A"})]
    folded = rules.fold(rows)
    assert [(a.id, a.first, a.difficulty, a.topics) for a in folded] == \
        [("B", True, None, ("graphs",))]  # A struck: its difficulty too
    restored = rules.fold([*rows, ("D", "4", {"subject": "p", "strikes": "C"})])
    assert [(a.id, a.first) for a in restored] == [("A", True), ("B", False)]


def test_a_malformed_record_is_left_out_of_the_fold_not_a_crash() -> None:
    rows = [("A", "1", {"subject": "p", "minutes": "ten", "outcome": "unaided"}),
            ("B", "2", {"subject": "p", "outcome": "maybe", "minutes": 3}),
            ("C", "3", {"subject": "q", "minutes": 3, "outcome": "failed"})]
    assert [a.id for a in rules.fold(rows)] == ["C"]


def _first_mediums(solved: int, total: int) -> list[rules.Attempt]:
    return [rules.Attempt(id=str(i), problem=f"p{i}", at=f"{i:04d}", minutes=20 if i < solved else 45,
                          outcome="unaided", first=True, difficulty="medium", topics=("dp",) if i % 2 else ("graphs",))
            for i in range(total)]


def test_the_bar_is_unmeasured_below_the_window_then_reached_or_not() -> None:
    early = rules.bar(_first_mediums(15, 15), window=20, needed=16, target=30)
    assert (early.reached, early.more_needed, early.share) == (None, 5, 1.0)
    assert rules.bar(_first_mediums(16, 20), window=20, needed=16, target=30).reached is True
    below = rules.bar(_first_mediums(15, 20), window=20, needed=16, target=30)
    assert below.reached is False and below.slowest[0].within < 1
    # Only the last 20 count: an early bad run is forgotten.
    assert rules.bar(_first_mediums(0, 5)[::-1] + _first_mediums(25, 25)[5:], window=20, needed=16,
                     target=30).solved == 20


# The attempt log, on both engines.

def test_logging_opens_no_database_and_the_log_reads_back(workspace: Workspace) -> None:
    record = practice.log_attempt(workspace, "Two Sum", minutes=12, outcome="unaided", difficulty="easy",
                                  topics=["arrays, hashing"], title="Two Sum", at=_ago(2))
    assert workspace._store is None  # the capture path: the journal only
    [attempt] = practice.attempts(workspace)
    assert (attempt.id, attempt.problem, attempt.minutes, attempt.first, attempt.topics) == \
        (record.id, "two-sum", 12, True, ("arrays", "hashing"))


def test_a_future_date_is_refused(workspace: Workspace) -> None:
    with pytest.raises(BadInput, match="has not happened yet"):
        practice.log_attempt(workspace, "two-sum", minutes=5, outcome="unaided", at=to_iso(now() + timedelta(hours=2)))
    assert practice.attempts(workspace) == []


def test_the_schedule_is_recomputed_from_the_log_and_comes_out_identical(workspace: Workspace) -> None:
    for problem, days, minutes, outcome in [("lru-cache", 9, 45, "hints"), ("lru-cache", 6, 25, "unaided"),
                                            ("two-sum", 5, 8, "unaided"), ("word-ladder", 3, 50, "failed"),
                                            ("lru-cache", 1, 14, "unaided")]:
        practice.log_attempt(workspace, problem, minutes=minutes, outcome=outcome, difficulty="medium",
                             at=_ago(days))
    history = practice.attempts(workspace)
    first = practice.schedule(history, retention=0.9, target=30)
    with Workspace(home=workspace.home, db=workspace.db_url) as again:
        assert practice.schedule(practice.attempts(again), retention=0.9, target=30) == first
    # A mistaken attempt struck out, then put back: the schedule is as it was.
    struck = practice.strike(workspace, history[2].id)
    assert practice.schedule(practice.attempts(workspace), retention=0.9, target=30) != first
    practice.strike(workspace, struck.strike_id)
    assert practice.schedule(practice.attempts(workspace), retention=0.9, target=30) == first
    by_problem = {r.problem: r for r in first}
    assert by_problem["lru-cache"].attempts == 3 and by_problem["word-ladder"].last_rating == "again"
    # A failed attempt three days ago is due again (FSRS: a day after Again); a higher retention
    # asks for reviews sooner.
    assert "word-ladder" in [r.problem for r in practice.due(workspace)]
    assert by_problem["lru-cache"].due > {r.problem: r for r in practice.schedule(
        history, retention=0.97, target=30)}["lru-cache"].due


def test_bar_reached_is_none_then_measured(workspace: Workspace) -> None:
    assert practice.bar_reached(workspace) is None
    for i in range(20):
        practice.log_attempt(workspace, f"m{i}", minutes=20 if i < 16 else 40, outcome="unaided",
                             difficulty="medium", at=_ago(30 - i))
    assert practice.bar_reached(workspace) is True
    practice.log_attempt(workspace, "m-late", minutes=5, outcome="failed", difficulty="medium", at=_ago(0, 1))
    assert practice.bar_reached(workspace) is False  # 15 of the last 20


# The command.

def test_the_commands_log_list_due_bar_and_strike(run: CLI) -> None:
    shown = run.ok("practice", "log", "https://leetcode.com/problems/course-schedule/", "--minutes", "40",
                   "--hints", "-d", "medium", "-t", "graphs", "--at", "3 days ago")
    assert "course-schedule: 40 min, hints (rated hard" in shown
    run.ok("practice", "log", "course-schedule", "-m", "22", "--unaided", "--at", "2 days ago")
    listed = json.loads(run.ok("practice", "list", "--json"))
    assert [(a["problem"], a["first"], a["difficulty"]) for a in listed] == \
        [("course-schedule", False, "medium"), ("course-schedule", True, "medium")]
    assert listed[1]["url"] == "https://leetcode.com/problems/course-schedule/"
    assert json.loads(run.ok("practice", "due", "--json")) == []
    bar = json.loads(run.ok("practice", "bar", "--json"))
    assert (bar["counted"], bar["solved"], bar["reached"], bar["more_needed"]) == (1, 0, None, 19)
    assert "19 more first attempts at mediums needed before the bar can be judged." in bar["statement"]
    assert bar["slowest"][0]["topic"] == "graphs"
    struck = run.ok("practice", "strike", listed[1]["short"])
    assert "puts it back" in struck
    assert [a["first"] for a in json.loads(run.ok("practice", "list", "--json"))] == [True]


def test_practice_alone_says_where_you_stand_as_ladder_and_portfolio_do(run: CLI) -> None:
    """`upstack practice` with no command was a usage error (exit 2) while `ladder` and `portfolio` answer."""
    assert "Not measured yet" in run.ok("practice") and "due for review" not in run.ok("practice")
    run.ok("practice", "log", "lru-cache", "-m", "38", "--unaided", "-d", "medium", "--at", "20 days ago")
    run.ok("practice", "log", "two-sum", "-m", "9", "--unaided", "-d", "easy")
    said = run.ok("practice")
    assert said.startswith("The bar: at least 16 of your last 20 first attempts")
    assert "19 more first attempts at mediums needed" in said
    assert said.rstrip().endswith("1 problem due for review today: `upstack practice due`")
    both = json.loads(run.ok("practice", "--json"))
    assert (both["counted"], both["due"]) == (1, 1) and both["statement"] == said.splitlines()[:-1]


def test_reaching_the_bar_says_more_grinding_has_diminishing_returns(run: CLI) -> None:
    for i in range(20):
        run.ok("practice", "log", f"m{i}", "-m", "25", "--unaided", "-d", "medium", "--at", f"{30 - i} days ago")
    said = run.ok("practice", "bar")
    assert "You: 20 of your last 20 (100%; 95% interval 84% to 100%)." in said
    assert "diminishing returns" in said


@pytest.mark.parametrize(("args", "message"), [
    (["--minutes", "-5", "--unaided"], "is negative"),
    (["--minutes", "5", "--unaided", "--at", "tomorrow 10:00"], "has not happened yet"),
    (["--minutes", "5", "--unaided", "--url", "not a url"], "is not a web address"),
])
def test_bad_input_is_one_line_and_changes_nothing(run: CLI, args: list[str], message: str) -> None:
    run.ok("practice", "log", "two-sum", "-m", "9", "--unaided")
    assert_refused_unchanged(run, ["practice", "log", "two-sum", *args], message)


def test_practice_round_trips_through_the_json_export_with_the_same_schedule(
        run: CLI, tmp_path: Path, engine: str, make_pg_url: object) -> None:
    run.ok("practice", "log", "lru-cache", "-m", "45", "--hints", "-d", "medium", "--at", "9 days ago")
    run.ok("practice", "log", "lru-cache", "-m", "20", "--unaided", "--at", "4 days ago")
    oops = run.ok("practice", "log", "two-sum", "-m", "3", "--failed", "--at", "2 days ago").split()[0]
    run.ok("practice", "strike", oops)
    before = run.ok("practice", "due", "--json"), run.ok("practice", "list", "--json")
    copy = round_trip(run, tmp_path, engine, make_pg_url)
    assert (copy.ok("practice", "due", "--json"), copy.ok("practice", "list", "--json")) == before


# CSV import.

CSV = ("slug,name,level,tags,time_taken,result,date\n"
       "two-sum,Two Sum,easy,arrays;hashing,12,solved,2026-10-01\n"
       "lru-cache,LRU Cache,medium,design,41.5,hints,2026-10-02 18:30\n"
       "word-ladder,Word Ladder Café,hard,graphs,60,unsolved,2026-10-03\n")
MAP = ["--map", "problem=slug", "--map", "title=name", "--map", "difficulty=level", "--map", "topics=tags",
       "--map", "minutes=time_taken", "--map", "outcome=result", "--map", "at=date"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_csv_import_with_a_column_mapping_in_odd_encodings(run: CLI, tmp_path: Path, encoding: str) -> None:
    source = tmp_path / "history.csv"
    source.write_bytes(CSV.replace("\n", "\r\n").encode(encoding))
    said = run.ok("practice", "import", str(source), *MAP)
    assert said.startswith("imported 3 attempts from history.csv")
    got = json.loads(run.ok("practice", "list", "--json"))
    assert [(a["problem"], a["title"], a["minutes"], a["outcome"], a["topics"]) for a in got] == [
        ("word-ladder", "Word Ladder Café", 60, "failed", ["graphs"]),
        ("lru-cache", "LRU Cache", 41.5, "hints", ["design"]),
        ("two-sum", "Two Sum", 12, "unaided", ["arrays", "hashing"])]
    again = json.loads(run.ok("practice", "import", str(source), *MAP, "--json"))
    assert (again["imported"], again["already"]) == (0, 3)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_import_reads_semicolons_and_tabs_as_spreadsheets_write_them(run: CLI, tmp_path: Path,
                                                                        delimiter: str) -> None:
    """Excel in a decimal-comma language writes semicolons (and 41,5); a tab-separated export has tabs."""
    source = tmp_path / "history.csv"
    source.write_text("\n".join(line.replace(",", delimiter) for line in CSV.splitlines()).replace(
        "41.5", "41,5").replace("arrays;hashing", '"arrays;hashing"') + "\n", encoding="utf-8")
    assert run.ok("practice", "import", str(source), *MAP).startswith("imported 3 attempts from history.csv")
    got = json.loads(run.ok("practice", "list", "--json"))
    assert [(a["problem"], a["minutes"], a["outcome"], a["topics"]) for a in got] == [
        ("word-ladder", 60, "failed", ["graphs"]), ("lru-cache", 41.5, "hints", ["design"]),
        ("two-sum", 12, "unaided", ["arrays", "hashing"])]


@pytest.mark.parametrize(("title", "encoding"), [("Größe – naïve “quoted” Café", "cp1252"),
                                                  ("Valid Anagram – café", "cp1252"),
                                                  ("Задача о рюкзаке: динамическое программирование и разбор решения",
                                                   "cp1251")])
def test_a_short_file_in_a_windows_encoding_keeps_its_letters(run: CLI, tmp_path: Path, title: str,
                                                              encoding: str) -> None:
    """A few lines are too little for charset-normalizer to tell cp1252 from mac_latin2 or cp1250:
    cp1252 is taken when it reads the bytes as well; another script keeps its own encoding."""
    source = tmp_path / "short.csv"
    source.write_bytes(f"problem,at,minutes,outcome,title\r\nknapsack,2026-11-10,9,solved,{title}\r\n".encode(encoding))
    said = run.ok("practice", "import", str(source)).strip()
    assert said.startswith("imported 1 attempt from short.csv (")
    assert encoding != "cp1252" or said.endswith("(cp1252)")
    assert json.loads(run.ok("practice", "list", "--json"))[0]["title"] == title


@pytest.mark.parametrize(("row", "message"), [
    ("lru-cache,LRU,medium,design,-3,solved,2026-10-04", "history.csv line 4: minutes '-3' is negative"),
    ("lru-cache,LRU,medium,design,3,maybe,2026-10-04", "history.csv line 4: outcome 'maybe'"),
    ("lru-cache,LRU,medium,design,3,solved,2999-01-01", "history.csv line 4: the date"),
    ("lru-cache,LRU,tricky,design,3,solved,2026-10-04", "history.csv line 4: difficulty 'tricky'"),
])
def test_a_bad_csv_row_is_named_by_its_line_and_nothing_is_imported(run: CLI, tmp_path: Path, row: str,
                                                                    message: str) -> None:
    run.ok("practice", "log", "two-sum", "-m", "9", "--unaided")
    run.ok("practice", "list")  # taken in, so that only the import could change the tables
    source = tmp_path / "history.csv"
    lines = CSV.splitlines()
    source.write_text("\n".join([*lines[:3], row, lines[3]]) + "\n", encoding="utf-8")
    assert_refused_unchanged(run, ["practice", "import", str(source), *MAP], message)
    assert "nothing was imported" in run("practice", "import", str(source), *MAP).stderr


def test_a_csv_without_a_needed_column_says_which_and_how_to_map_it(run: CLI, tmp_path: Path) -> None:
    source = tmp_path / "history.csv"
    source.write_text(CSV, encoding="utf-8")
    result = run("practice", "import", str(source), "--map", "problem=slug")
    assert result.exit_code == 1
    assert "history.csv has no column for at, minutes, outcome" in result.stderr
    assert "--map at=COLUMN" in result.stderr
    with Workspace(home=run.home, db=run.db_url) as ws:
        assert dump_tables(ws.store().db)["path_records"] == []


# The page and its JSON twin.

def test_the_practice_page_shows_attempts_due_and_the_bar_over_time(run: CLI) -> None:
    from webserver import serve

    for i in range(3):
        run.ok("practice", "log", f"m{i}", "-m", "25" if i else "50", "--unaided", "-d", "medium", "-t", "graphs",
               "--title", f"Medium {i}", "--at", f"{5 - i} days ago")
    run.ok("practice", "log", "hard-one", "-m", "60", "--failed", "-d", "hard", "--at", "6 days ago")
    with serve(run.home, run.db_url) as server:
        client = server.client()
        data = client.get("/practice.json").json()
        assert [a["problem"] for a in data["attempts"]] == ["m2", "m1", "m0", "hard-one"]
        assert [r["problem"] for r in data["due"]] == ["hard-one", "m0", "m1", "m2"]  # most overdue first
        assert (data["bar"]["counted"], data["bar"]["solved"], data["bar"]["more_needed"]) == (3, 2, 17)
        assert [round(p["share"], 3) for p in data["chart"]["points"]] == [0.0, 0.5, 0.667]
        assert data["chart"]["line"] == 0.8
        page = client.get("/practice")
        assert page.status_code == 200 and 'id="bar-chart"' in page.text and "Medium 1" in page.text
        assert 'href="/practice" aria-current="page"' in page.text
        assert client.get("/static/practice.js").status_code == 200


def test_the_authz_matrix_holds_practice_attempts_that_only_their_person_sees() -> None:
    """tests/test_web_authz.py's world has A's and the outsider's attempts (team_fixtures.add_practice);
    its oracle lets only their author see a resource filed under no node, so /practice and
    /practice.json are checked for every reader there. This keeps that from going unnoticed."""
    import team_fixtures
    from test_web_authz import GETS, sees

    assert {"/practice", "/practice.json"} <= set(GETS)
    assert callable(team_fixtures.add_practice)
    attempt = team_fixtures.Resource("p", "practice", "X", ("QUX",), author="O")
    assert sees(None, "O", attempt) and not sees(None, "A", attempt) and not sees(None, None, attempt)  # type: ignore[arg-type]


def test_the_bar_chart_is_drawn_in_the_browser(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    for i in range(6):
        practice.log_attempt(sqlite_workspace, f"m{i}", minutes=20 + 5 * i, outcome="unaided", difficulty="medium",
                             at=_ago(10 - i))
    sign_in(page, server, "/practice")
    chart = page.locator("#bar-chart")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(chart.locator("canvas")).to_be_visible()
    inked = chart.evaluate("""(chart) => {
      const canvas = chart.querySelector("canvas");
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
      return inked;
    }""")
    assert inked > 100, "no line on the bar chart"
    expect(page.locator("#bar-statement")).to_contain_text("14 more first attempts at mediums needed")
