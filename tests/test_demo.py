"""`upstack demo`: a sample research log built in a throwaway workspace."""

from __future__ import annotations

import csv
import io
import json
import shlex
import struct
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from upstack.cli.main import cli
from upstack.cli.output import entry_line
from upstack.domain.entry import OUTCOMES, Entry
from upstack.services import checks, demo_judgment, due, ideas, predictions, recall, takes, tree
from upstack.services.demo import IDEAS, RUNS, STORY, build_demo, open_demo_workspace
from upstack.services.runs import get_run, list_runs
from upstack.timeutil import parse_iso, to_iso, today_local
from upstack.workspace import Workspace

REJECTIONS = 2  # each taught something, kept as a private learning (services/demo_pipeline.py)
# The mentor's weekly review is made with llm-echo's model, when the `llm` extra is installed.
REVIEWS = 1 if demo_judgment.mentor_available() else 0
# and two learnings after the fact, one drafted question, the runs' results, what the rejections taught,
# the predictions and takes (services/demo_judgment.py) and the mentor's review
TOTAL = len(STORY) + len(IDEAS) + 3 + len(RUNS) + REJECTIONS + len(demo_judgment.PREDICTIONS) + \
    len(demo_judgment.TAKES) + REVIEWS


def invoke(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, args, env={"NO_COLOR": "1", **env}, catch_exceptions=False)


@dataclass
class Built:
    output: str
    home: Path
    user_home: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("demo")
    home, user_home = base / "demo-log", base / "my-real-log"
    result = invoke(["demo", "--home", str(home)],
                    {"UPSTACK_HOME": str(user_home), "UPSTACK_DB": None})
    assert result.exit_code == 0, result.output
    return Built(result.stdout, home, user_home)


@pytest.fixture
def demo_ws(built: Built) -> Iterator[Workspace]:
    with open_demo_workspace(built.home) as ws:
        yield ws


def all_entries(ws: Workspace) -> list[Entry]:
    return recall.timeline(ws, limit=None)


def suggested_commands(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines()
            if line.strip().startswith("UPSTACK_HOME=")]


def run_verbatim(command: str, env: dict[str, str | None]) -> Result:
    """Run a printed shell line: leading NAME=value words set the environment."""
    words = shlex.split(command, comments=True)
    env = dict(env)
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words.pop(0) == "upstack"
    return invoke(words, env)


def test_demo_prints_where_it_is_and_its_whole_timeline(built, demo_ws):
    assert str(built.home) in built.output.splitlines()[2]
    entries = all_entries(demo_ws)
    assert len(entries) == TOTAL
    assert "\n".join(entry_line(e) for e in entries) in built.output
    for title in ("Project kickoff: IOI circuit in GPT-2 small",
                  "Found it: END was the last padded position, not the last real token.",
                  "SAE side thread: plan", "Week 3 summary"):
        assert title in built.output


def test_the_demo_is_a_realistic_log(demo_ws):
    entries = all_entries(demo_ws)
    assert 50 <= len(entries) <= 80
    assert {e.kind for e in entries} == {"note", "result", "question", "decision", "learning",
                                         "stuck", "idea", "prediction", "take"}
    # Filed in the tree: everything but ideas and the private check-in sits on a node.
    assert all(e.node_id for e in entries if e.kind != "idea" and not e.private)
    assert {"IOI circuit", "SAE features"} <= {e.project for e in entries}
    assert len({e.title for e in entries}) == len(entries)
    assert sum(e.kind == "stuck" for e in entries) >= 2
    assert all(e.tags for e in entries)


def test_everything_is_dated_over_the_three_weeks_before_today_as_it_happened(demo_ws):
    """A real three weeks: entries, ideas, learnings after the fact, the drafted question and the
    runs' results each written on their day (never "recorded" today), spread over the weeks."""
    entries = all_entries(demo_ws)
    start_of_today = datetime.combine(datetime.now().astimezone().date(), datetime.min.time()).astimezone()
    times = sorted(parse_iso(e.occurred_at) for e in entries)
    assert times[-1] < start_of_today and start_of_today - times[0] <= timedelta(days=21)
    assert timedelta(days=19) <= times[-1] - times[0]
    assert all(e.created_at == e.occurred_at for e in entries)  # written as it happened
    by_kind: dict[str, list[datetime]] = {}
    for entry in entries:
        by_kind.setdefault("after the fact" if entry.meta.get("learned_from") else entry.kind, []).append(
            parse_iso(entry.occurred_at))
    for kind in ("idea", "after the fact", "result", "learning", "question"):
        assert max(by_kind[kind]) - min(by_kind[kind]) >= timedelta(days=2), kind
    # The question drafted from the stuck spell comes right after the spell.
    spell = max(parse_iso(e.occurred_at) for e in entries if e.kind == "stuck" and "bug" in e.tags)
    asked = next(parse_iso(e.occurred_at) for e in entries if "ask" in e.tags)
    assert timedelta(0) < asked - spell < timedelta(hours=1)


def test_nodes_grow_as_the_work_reaches_them_and_change_on_their_days(demo_ws):
    entries = all_entries(demo_ws)
    for row in walk(tree.tree(demo_ws)[0]):
        filed = [e.occurred_at for e in entries if e.node_id == row.node.id]
        assert all(row.node.created_at < when for when in filed), row.node.title
        history = tree.show_node(demo_ws, row.node.id).history
        changed = [h["at"] for h in history]
        assert changed == sorted(changed) and len(set(changed)) == len(changed)
    oldest = min(row.node.created_at for row in walk(tree.tree(demo_ws)[0]))
    newest = max(row.node.updated_at for row in walk(tree.tree(demo_ws)[0]))
    assert parse_iso(newest) - parse_iso(oldest) >= timedelta(days=19)


def test_runs_are_spread_over_the_weeks_with_real_durations_and_no_trace_of_the_demo(built, demo_ws):
    runs = list_runs(demo_ws)
    assert len(runs) == len(RUNS) and {r.status for r in runs} == {"finished"}
    started = sorted(parse_iso(r.started_at) for r in runs)
    assert started[-1] - started[0] >= timedelta(days=7)
    for info in runs:
        took = parse_iso(info.ended_at or "") - parse_iso(info.started_at)
        assert timedelta(minutes=20) <= took <= timedelta(hours=12), (info.name, took)
        run = get_run(demo_ws, info.short)
        assert set(run.provenance["data"]) == {"python", "packages", "host"}  # no command line, no folder
        shown = invoke(["run", "show", info.short], {"UPSTACK_HOME": str(built.home), "UPSTACK_DB": None})
        assert shown.exit_code == 0 and "command:" not in shown.stdout and " demo " not in shown.stdout
        assert f"took {took.seconds // 3600} h" in shown.stdout or f"took {took.seconds // 60} min" in shown.stdout


def test_private_entries_are_what_two_rejections_taught_and_the_takes_not_shared(demo_ws):
    private = sorted((e for e in all_entries(demo_ws) if e.private and e.kind != "take"), key=lambda e: e.occurred_at)
    assert sum(e.private for e in all_entries(demo_ws) if e.kind == "take") == len(demo_judgment.TAKES) - 1
    assert [(e.kind, e.tags) for e in private] == [("learning", ["application"]), ("learning", ["application"])]
    assert all(e.project is None for e in private)


def test_weeks_of_check_ins_raise_one_early_warning_and_a_recovery_plan_follows(demo_ws: Workspace) -> None:
    """Check-ins, not a private note (a private note goes to a team server): eight weeks of them, a gap
    here and there, one notice in the crunch, then a plan (issue 18)."""
    from upstack.services import demo_pace, fit, pace, recovery, wellbeing
    from upstack.store import path as store_path

    days = wellbeing.checkins(demo_ws)
    assert demo_pace.CHECKIN_DAYS - 8 <= len(days) < demo_pace.CHECKIN_DAYS
    assert demo_pace.CRUNCH_NOTE in {row.note for row in days.values()}
    raised = pace.history(demo_ws)
    assert len(raised) == 1
    assert 0 <= (raised[0].day - (today_local() - timedelta(days=demo_pace.CRUNCH_FROM))).days <= 7
    assert "sleep" in raised[0].text
    assert pace.pace(demo_ws).notice is None  # recovering: nothing raised this week
    found = recovery.status(demo_ws)
    assert found is not None and found.step is not None and found.step[0] == 1 and len(found.over) == 1
    assert found.plan.measure == "hours" and found.plan.reason == "after the crunch"
    assert fit.notes(demo_ws)
    assert not any(e.tags == ["checkin"] for e in all_entries(demo_ws))
    db = demo_ws.store().db
    wellbeing_ids = {r["id"] for r in db.query("SELECT id FROM path_records WHERE op LIKE 'checkin.%' "
                                               "OR op LIKE 'recover.%' OR op LIKE 'fit.%'")}
    assert len(wellbeing_ids) == len(days) + 6 + 2  # check-ins, six questionnaires, the plan, a fit note
    assert not wellbeing_ids & set(store_path.own_ids(db))  # none of it is anything sync would send


def test_figures_and_tables_are_real_files_whose_blobs_verify(demo_ws):
    attachments = [a for e in all_entries(demo_ws) for a in e.attachments]
    by_type = {a.media_type for a in attachments}
    assert {"image/png", "image/svg+xml", "text/csv"} <= by_type
    for item in attachments:
        assert item.sha256 and demo_ws.blobs.verify(item.sha256) is None
        data = demo_ws.blobs.read(item.sha256)
        assert len(data) == item.size
        if item.media_type == "image/png":
            width, height = check_png(data)
            assert width >= 200 and height >= 200
        elif item.media_type == "image/svg+xml":
            root = ElementTree.fromstring(data)
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert root.findall(".//{http://www.w3.org/2000/svg}polyline") or \
                root.findall(".//{http://www.w3.org/2000/svg}rect")
        else:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            assert len(rows) > 2 and all(len(row) == len(rows[0]) for row in rows)


def walk(row: tree.TreeRow) -> Iterator[tree.TreeRow]:
    yield row
    for child in row.children:
        yield from walk(child)


def check_png(data: bytes) -> tuple[int, int]:
    """Walk the chunks, checking every CRC and that the pixels decompress to the right size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * 3)
    assert b"IEND" in chunks
    return width, height


def test_links_by_title_and_by_short_id_all_resolve(demo_ws):
    entries = [recall.show(demo_ws, e.short) for e in all_entries(demo_ws)]
    links = [link for e in entries for link in e.links]
    assert links and all(link.entry_id for link in links), \
        [link.target for link in links if not link.entry_id]
    by_short = [link for link in links if link.target == link.to_dict()["short"]]
    by_title = [link for link in links if link.target == link.title]
    assert by_short and by_title
    heatmap = next(e for e in entries if e.title.startswith("Head patching:"))
    assert len(heatmap.backlinks) >= 3
    # A link written before its target existed resolves once the target is written.
    scope = next(e for e in entries if e.title.startswith("Scope the write-up"))
    assert [link.title for link in scope.links] == ["Write-up outline"]


def test_search_finds_patching_entries(demo_ws):
    page = recall.search(demo_ws, "patch*")
    assert page.total >= 10
    assert all("patch" in (h.entry.title + h.entry.body).lower() for h in page.hits)


def test_suggested_commands_run_verbatim(built):
    commands = suggested_commands(built.output)
    assert len(commands) >= 5
    assert any(c.endswith("upstack search 'patch*'") for c in commands)
    for suggested in ("upstack tree", "upstack ideas", "upstack check", "upstack progress",
                      "upstack review --since '3 weeks ago'"):
        assert any(c.endswith(suggested) for c in commands), suggested
    assert any(" upstack why " in c for c in commands)
    for command in commands:
        result = run_verbatim(command, {"UPSTACK_HOME": str(built.user_home)})
        assert result.exit_code == 0, (command, result.output)
        assert result.stdout.strip(), command
        if "search 'patch*'" in command:
            assert result.stdout.count("#patching") >= 5
    assert not built.user_home.exists()


def test_the_users_own_log_is_untouched(run, tmp_path):
    """Whatever UPSTACK_HOME and UPSTACK_DB say (SQLite or PostgreSQL), the demo goes elsewhere."""
    run.ok("note", "My real note about patching. #mine")
    before = run.ok("log", "--json")
    output = run.ok("demo", "--home", str(tmp_path / "demo"))
    commands = suggested_commands(output)
    if run.db_url:
        assert all(" UPSTACK_DB=sqlite:///" in c for c in commands)
    for command in commands:
        assert run_verbatim(command, run.env).exit_code == 0
    assert run.ok("log", "--json") == before
    assert len(json.loads(run.ok("search", "--json", "patch*"))["results"]) == 1
    if run.db_url:
        assert not (run.home / "upstack.db").exists()


def test_without_home_it_builds_in_a_new_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    user_home = tmp_path / "my-real-log"
    result = invoke(["demo", "--json"], {"UPSTACK_HOME": str(user_home), "UPSTACK_DB": None})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    home = Path(report["home"])
    assert home.parent == tmp_path and home.name.startswith("upstack-demo-")
    assert (home / "upstack.db").exists()
    assert len(report["entries"]) == TOTAL
    assert all(command.startswith(f"UPSTACK_HOME={home} ") for command in report["try"])
    assert not user_home.exists()
    # The scratch directory for the figures is gone; only the workspace remains.
    assert [p.name for p in tmp_path.iterdir()] == [home.name]


def test_refuses_a_home_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    result = invoke(["demo", "--home", str(tmp_path)], {"UPSTACK_HOME": str(tmp_path / "x")})
    assert result.exit_code == 1
    assert "not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_build_demo_dates_entries_relative_to_now(tmp_path):
    now = datetime(2024, 3, 22, 12, 0).astimezone()
    with Workspace(home=tmp_path, db=f"sqlite:///{tmp_path / 'upstack.db'}") as ws:
        log = build_demo(ws, now=now)
        newest = max(e.occurred_at for e in all_entries(ws))
    keys = [item.key for item in STORY]
    assert [key for key in log.entries if key in keys] == keys
    assert len(log.entries) + len(log.runs) + REJECTIONS == TOTAL
    kickoff = log.entries["kickoff"]
    assert kickoff.occurred_at == kickoff.created_at == to_iso(datetime(2024, 3, 1, 9, 40))
    assert newest < to_iso(datetime(2024, 3, 22))
    assert log.nodes["swapped"].created_at.startswith("2024-03-21")
    assert {"head_patching_heatmap.png", "sae_width_sweep.svg", "sae_sweep.csv"} <= set(log.files)


def test_links_by_short_id_resolve_even_when_ids_share_a_millisecond(tmp_path, monkeypatch):
    # On a fast disk many notes get ids in the same millisecond, and journal files of
    # one millisecond are ingested in random order; the demo must not depend on it.
    frozen = 1_700_000_000.0
    monkeypatch.setattr("upstack.ids.time.time", lambda: frozen)
    with Workspace(home=tmp_path, db=f"sqlite:///{tmp_path / 'upstack.db'}") as ws:
        log = build_demo(ws)
        for entry in log.entries.values():
            assert all(link.entry_id for link in recall.show(ws, entry.short).links)


def test_the_tree_has_an_agenda_with_two_projects_one_active(demo_ws):
    roots = tree.tree(demo_ws)
    assert [r.node.kind for r in roots] == ["agenda"]
    agenda = roots[0]
    assert agenda.node.why
    projects = {r.node.title: r for r in agenda.children if r.node.kind == "project"}
    assert set(projects) == {"IOI circuit", "SAE features"}
    assert projects["IOI circuit"].node.status == "active"
    assert projects["SAE features"].node.status == "parked"  # one active project at most
    assert demo_ws.settings.active_projects == 1

    rows = list(walk(agenda))
    assert all(r.node.why for r in rows)
    kinds = {r.node.kind for r in rows}
    assert {"question", "experiment"} <= kinds
    assert any(r.node.kind == "question" and r.depth == 3 for r in rows)  # a sub-question
    statuses = {r.node.status for r in rows}
    assert {"active", "open", "done", "dropped", "parked"} <= statuses
    dropped = next(r.node for r in rows if r.node.status == "dropped")
    history = tree.show_node(demo_ws, dropped.id).history
    assert any("override:" in (h.get("reason") or "") for h in history), history
    assert agenda.learnings >= 5
    assert tree.focus(demo_ws) is not None


def test_why_on_a_result_reaches_the_agenda(built, demo_ws):
    heatmap = next(e for e in all_entries(demo_ws) if e.title.startswith("Head patching:"))
    trace = tree.trace_why(demo_ws, heatmap.short)
    assert trace.reaches_agenda
    assert [n.kind for n in trace.chain] == ["experiment", "question", "project", "agenda"]
    result = invoke(["why", heatmap.short], {"UPSTACK_HOME": str(built.home), "UPSTACK_DB": None})
    assert result.exit_code == 0, result.output
    assert trace.chain[-1].title in result.stdout and "warning" not in result.stdout


def test_results_say_what_was_expected_and_failures_taught_something(demo_ws):
    entries = all_entries(demo_ws)
    results = [e for e in entries if e.kind == "result"]
    assert all(e.meta.get("expected") and e.meta.get("happened") for e in results)
    assert {e.meta["outcome"] for e in results} == set(OUTCOMES)
    failed = {e.id for e in results if e.meta["outcome"] == "failed"}
    assert len(failed) >= 2
    after_the_fact = [e for e in entries if e.kind == "learning" and e.meta.get("learned_from")]
    assert {e.meta["learned_from"] for e in after_the_fact} <= failed
    assert len(after_the_fact) == 2


def test_ideas_are_triaged_promoted_and_pruned_with_reasons(demo_ws):
    every = ideas.list_ideas(demo_ws, states=tuple(s for s in ("candidate", "de-risking",
                                                                "active", "parked", "pruned")))
    by_state: dict[str, list[ideas.Idea]] = {}
    for idea in every:
        by_state.setdefault(idea.state, []).append(idea)
    assert len(by_state["pruned"]) >= 2
    assert all(i.reason for i in by_state["pruned"])
    assert all(i.reason for i in by_state["parked"])
    candidate = by_state["candidate"][0]
    assert candidate.hypothesis and candidate.cheapest_test and candidate.cost_hours
    assert candidate.value_score
    [promoted] = by_state["active"]
    node = tree.show_node(demo_ws, promoted.node_id or "")
    assert node.node.kind == "question" and node.chain[-1].kind == "agenda"
    # Pruned ideas stay findable, with their reason.
    pruned = by_state["pruned"][0]
    page = recall.search(demo_ws, pruned.title.split()[1])
    assert any(h.entry.id == pruned.entry_id and ideas.PRUNED_PREFIX in h.entry.body
               for h in page.hits)


def test_the_stuck_spell_has_a_drafted_question_on_its_node(demo_ws):
    entries = all_entries(demo_ws)
    stuck_nodes = {e.node_id for e in entries if e.kind == "stuck"}
    asked = [e for e in entries if e.kind == "question" and "ask" in e.tags]
    assert len(asked) == 1 and asked[0].node_id in stuck_nodes
    body = asked[0].body
    assert "What I'm trying to do, and why" in body and "What happened" in body
    assert "(Write it here" not in body


def test_review_since_three_weeks_mentions_learnings_and_pruned_ideas(built):
    env = {"UPSTACK_HOME": str(built.home), "UPSTACK_DB": None}
    result = invoke(["review", "--since", "3 weeks ago"], env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "### What was learned" in out and "A path effect above 1 is a bug" in out
    assert "### Ideas pruned" in out and "That is the padding bug" in out
    assert "(failed)" in out


def test_check_and_progress_run(built, demo_ws):
    env = {"UPSTACK_HOME": str(built.home), "UPSTACK_DB": None}
    for command in (["check"], ["progress"], ["tree"], ["ideas"]):
        result = invoke(command, env)
        assert result.exit_code == 0, (command, result.output)
        assert result.stdout.strip(), command
    report = checks.check(demo_ws)
    assert not [f for f in report.flags if f.check in ("no-why", "closed-parent", "spinning")]


def test_the_demo_person_is_two_steps_up_the_ladder_practising_and_with_a_portfolio(demo_ws: Workspace) -> None:
    from upstack.services import ladder, portfolio, practice, resources
    from upstack.services.demo_path import PRACTICE

    steps = {s.step.slug: s.state for s in ladder.load(demo_ws).steps}
    assert [slug for slug, state in steps.items() if state == "done"] == ["code", "paper-walkthrough"]
    assert steps["from-scratch"] == "skipped"
    assert ladder.load(demo_ws).get("paper-walkthrough").evidence  # the baseline result
    arena = resources.find_resource(demo_ws, "arena")
    assert (arena.state, arena.minutes) == ("in-progress", 285)
    bar = practice.bar_status(demo_ws)
    assert bar.reached is None and len(practice.attempts(demo_ws)) == len(PRACTICE)  # below the window, still going
    assert practice.due(demo_ws)  # reviews waiting
    held = portfolio.load(demo_ws)
    assert held.profile.name and {item.kind for item in held.items} == {"write-up", "result"}


def test_the_demo_person_is_looking_for_a_position(demo_ws: Workspace) -> None:
    from upstack.services import applications, contacts, due, opportunities, outreach

    found = opportunities.opportunities(demo_ws)
    assert len(found) >= 10 and all(o.link.startswith("https://forum.example.org/") for o in found)
    assert sum(bool(o.deadline) for o in found) >= 8
    assert min(o.deadline for o in found if o.deadline) > demo_ws_today()  # ahead of whoever tries it
    stages = sorted(a.stage for a in applications.applications(demo_ws))
    assert stages == ["applied", "interview", "rejected", "rejected", "wishlist", "wishlist", "work-test"]
    for app in applications.applications(demo_ws):
        if app.stage == "rejected":
            assert app.timeline[-1]["learned"]  # each rejection taught something, kept as a private learning
    people = {c.slug: c for c in contacts.contacts(demo_ws)}
    assert people["tomas-lindqvist"].local_only and not people["mira-okonkwo"].local_only
    assert [h["kind"] for h in people["mira-okonkwo"].history] == ["draft"]
    assert "copy suppression" in people["mira-okonkwo"].history[0]["text"]  # drafted from the matched result
    assert outreach.draft(demo_ws, "mira").work is not None
    kinds = {item.kind for item in due.due(demo_ws)}
    assert {"follow-up", "interview", "work-test", "deadline", "practice"} <= kinds
    orphans = [flag for flag in checks.check(demo_ws, named=5).flags if flag.check == "orphan"]
    assert orphans == []  # every entry traces to the agenda; no rejection's private learning is flagged


def demo_ws_today() -> str:
    from upstack.timeutil import today_local

    return today_local().isoformat()


def test_predictions_are_made_before_their_results_and_one_is_a_confident_miss(built, demo_ws):
    report = predictions.calibration(demo_ws)
    assert (report.summary.n, report.summary.made_after, report.summary.annulled, report.open) == (5, 0, 1, 1)
    [(miss, scored)] = report.surprises
    assert (scored.probability, scored.came_true) == (0.9, False) and "dead features" in miss.entry.title
    made = predictions.listing(demo_ws)
    assert all(p.entry.node_id for p in made)  # each on its experiment or question
    updated = [p for p in made if len(p.forecasts) > 1]
    assert len(updated) == 1 and updated[0].forecasts[-1].reason and updated[0].state == "true"
    [still_open] = predictions.listing(demo_ws, state="open")
    assert still_open.row["resolve_by"] > today_local().isoformat() and not still_open.overdue
    for found in made:
        if found.resolution and found.resolution["evidence_id"]:  # resolved by the story's result entry
            assert found.forecasts[0].at < str(found.resolution["evidence_at"])
    env = {"UPSTACK_HOME": str(built.home), "UPSTACK_DB": f"sqlite:///{built.home / 'upstack.db'}"}
    shown = invoke(["calibration"], env)
    assert shown.exit_code == 0 and "5 scored" in shown.stdout and "said 90%, came false" in shown.stdout


def test_the_demo_has_takes_one_moved_by_a_second_source_one_resting_on_one_due_this_week(built, demo_ws):
    made = {t.entry.title.split(":")[0].split(" #")[0]: t for t in takes.listing(demo_ws)}
    assert len(made) == len(demo_judgment.TAKES) == 3
    moved = made["SAEs find the model's real features"]
    assert [c["confidence"] for c in moved.confidences] == [0.7, 0.5, 0.3] and all(
        c["reason"] for c in moved.confidences)
    assert [s["source"] for s in moved.sources] == ["a reading-group talk", "the feature-splitting write-up"]
    assert not moved.one_source and moved.entry.private
    lonely = made["Deception evals are saturated"]
    week = (today_local() + timedelta(days=7)).isoformat()
    assert lonely.one_source and lonely.revisit_by and today_local().isoformat() < lonely.revisit_by <= week
    assert [i.ref for i in due.due(demo_ws) if i.about == "take"] == [lonely.entry.short]
    shared = made["Induction heads are most of in-context learning in small models"]
    assert not shared.entry.private and shared.entry.node_id
    env = {"UPSTACK_HOME": str(built.home), "UPSTACK_DB": f"sqlite:///{built.home / 'upstack.db'}"}
    shown = invoke(["takes"], env)
    assert shown.exit_code == 0 and "70% → 30%" in shown.stdout and "1 of 3 moved" in shown.stdout
    assert "2 rest on one source only" in shown.stdout
    listed = invoke(["due"], env)
    assert listed.exit_code == 0 and "still convinced? Deception evals are saturated" in listed.stdout


@pytest.mark.skipif(not demo_judgment.mentor_available(), reason="the llm extra (llm, llm-echo) is not installed")
def test_the_mentor_reviewed_the_week_with_the_echo_model_and_only_what_may_leave(demo_ws):
    [review] = [e for e in all_entries(demo_ws) if e.title.startswith("Mentor (echo)")]
    assert "mentor" in review.tags and review.meta == {"model": "echo"}
    sent = json.loads(review.body[:review.body.rindex("}") + 1])  # echo answers with what it was sent
    prompt = sent["prompt"]
    assert "Is this rate of progress fine?" in prompt and "## What I learned in the last 7 days" in prompt
    private = [e for e in all_entries(demo_ws) if e.private]
    assert private and not any(e.title in prompt for e in private)


def test_without_the_llm_extra_the_demo_has_no_review_and_its_predictions(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "llm", None)  # as if not installed: find_spec and import both say so
    with Workspace(home=tmp_path, db=f"sqlite:///{tmp_path / 'upstack.db'}") as ws:
        log = build_demo(ws)
        assert "mentor_review" not in log.entries
        assert not [e for e in all_entries(ws) if e.title.startswith("Mentor (")]
        assert len(predictions.listing(ws)) == len(demo_judgment.PREDICTIONS)
