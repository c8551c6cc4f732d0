"""The ladder (`upstack ladder`): the guide's steps, the person's changes kept as history, evidence
checked at link time, proposals from the log, the upskilling trap, learning resources; on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest

import upstack
from conftest import CLI, assert_refused_unchanged
from upstack.domain import ladder as rules
from upstack.errors import NotFound
from upstack.services import ladder as ladder_service
from upstack.services import resources as resource_service
from upstack.workspace import Workspace


def _json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def _stand(run: CLI) -> dict[str, Any]:
    return _json(run, "ladder")  # type: ignore[no-any-return]


def _steps(run: CLI) -> dict[str, dict[str, Any]]:
    return {s["slug"]: s for s in _json(run, "ladder", "list")}


def _done_project_with_repository(run: CLI, title: str = "Probe study") -> str:
    node = _json(run, "add", "project", title)["id"]
    run.ok("note", "-u", node, "-k", "result", "Linear probes find it.", "--expected", "a", "--happened", "b")
    run.ok("note", "-u", node, "Code at https://github.com/ada/probe-study.")
    run.ok("node", "status", node, "done")
    return str(node)


def test_the_guides_steps_come_built_in_in_order_with_what_done_looks_like(run: CLI) -> None:
    steps = _json(run, "ladder", "list")
    assert [s["slug"] for s in steps] == [s.slug for s in rules.STEPS]
    assert [s["slug"] for s in steps][:3] == ["code", "from-scratch", "paper-walkthrough"]
    assert all(s["done_when"] and s["counts"] and s["state"] == "open" for s in steps)
    screens = [s["slug"] for s in steps if s["screen"]]
    assert screens == ["interview-practice", "github-page", "website", "public-project"]
    assert {s["slug"] for s in steps if s["learning_only"]} >= {"code", "learn-area"}
    stand = _stand(run)
    assert stand["next"]["slug"] == "code" and stand["trap"] is None and stand["proposals"] == []
    assert "Next: Learn to code (code)" in run.ok("ladder")


def test_done_skip_reopen_move_and_add_each_keep_their_history(run: CLI) -> None:
    run.ok("ladder", "done", "code", "--note", "the Python course")
    assert _stand(run)["next"]["slug"] == "from-scratch"
    run.ok("ladder", "skip", "from", "--why", "my area is not low-level")  # the start of a name will do
    assert _stand(run)["next"]["slug"] == "paper-walkthrough"
    run.ok("ladder", "add", "Read", "the", "alignment", "forum", "--study", "--after", "learn-area")
    run.ok("ladder", "move", "paper-alone", "--before", "learn-area")
    order = list(_steps(run))
    assert order.index("paper-alone") == order.index("learn-area") - 1
    assert order.index("read-the-alignment-forum") == order.index("learn-area") + 1
    run.ok("ladder", "reopen", "from-scratch")
    steps = _steps(run)
    assert steps["from-scratch"]["state"] == "open" and steps["code"]["state"] == "done"
    assert steps["read-the-alignment-forum"]["learning_only"] and not steps["read-the-alignment-forum"]["builtin"]
    history = _json(run, "ladder", "history")
    assert [c["subject"] for c in history] == ["code", "from-scratch", "read-the-alignment-forum", "paper-alone",
                                               "from-scratch"]
    assert history[0]["text"].startswith("done (") and history[0]["text"].endswith("): the Python course")
    assert [c["text"] for c in history[1:]] == ["skipped: my area is not low-level",
                                                "step added: Read the alignment forum",
                                                "moved before learn-area", "reopen"]
    assert [c["text"] for c in _json(run, "ladder", "history", "from-scratch")] == \
        ["skipped: my area is not low-level", "reopen"]


def test_a_later_step_done_makes_the_next_step_the_one_after_it(run: CLI) -> None:
    run.ok("ladder", "done", "open-problem")
    assert _stand(run)["next"]["slug"] == "write-up"  # skipped forward: the study steps before it are not next


@pytest.mark.parametrize("args, message", [
    (["ladder", "done", "wirte-up"], "no step 'wirte-up'; did you mean write-up"),
    (["ladder", "skip", "code", "--why", "  "], "say why you skip code"),
    (["ladder", "done", "code", "--at", "tomorrow"], "has not happened yet"),
    (["ladder", "move", "code", "--before", "nowhere"], "no step 'nowhere'"),
    (["ladder", "evidence", "add", "code", "ftp://example.org/x"], "is not a web address"),
    (["ladder", "evidence", "add", "code", "zzzzzzz"], "no entry, node, run or idea with id 'zzzzzzz'"),
    (["ladder", "evidence", "add", "github-page", "last"], "does not count for github-page"),
    (["ladder", "resource", "progress", "arena", "--minutes", "-5"], "minutes spent must be 0 or more, got -5"),
    (["ladder", "resource", "progress", "arna-x"], "no resource 'arna-x'"),
    (["ladder", "resource", "add", "My", "book", "--url", "not a url"], "is not a web address"),
    (["ladder", "accept", "ffffffff"], "no proposal 'ffffffff'"),
])
def test_bad_input_is_one_line_and_changes_nothing(run: CLI, args: list[str], message: str) -> None:
    run.ok("note", "A first note.")
    run.ok("log")  # taken in, so that only the refused command could change the tables
    assert_refused_unchanged(run, args, message)


def test_evidence_links_entries_nodes_runs_ideas_and_urls_checked_at_link_time(run: CLI, workspace: Workspace) -> None:
    entry = run.ok("note", "Finished the Python course.").strip()
    idea = run.ok("idea", "Probe for deception.").strip()
    node = _json(run, "add", "project", "Probe study")["id"]
    with upstack.run("reproduce-ioi", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.log({"loss": 1.0}, step=1)
    run.ok("ladder", "evidence", "add", "code", entry)
    run.ok("ladder", "evidence", "add", "paper-alone", r.id)
    run.ok("ladder", "evidence", "add", "open-problem", node)
    run.ok("ladder", "evidence", "add", "open-problem", idea)
    run.ok("ladder", "evidence", "add", "github-page", "https://github.com/ada")
    steps = _steps(run)
    kinds = {slug: [(e["kind"], e["title"]) for e in s["evidence"]] for slug, s in steps.items() if s["evidence"]}
    assert kinds == {"code": [("entry", "Finished the Python course.")], "paper-alone": [("run", "reproduce-ioi")],
                     "open-problem": [("node", "Probe study"), ("idea", "Probe for deception.")],
                     "github-page": [("url", "https://github.com/ada")]}
    run.ok("ladder", "evidence", "rm", "open-problem", idea)  # by the short id `ladder` prints
    run.ok("ladder", "evidence", "rm", "paper-alone", r.id)  # or by the whole id
    assert (_steps(run)["open-problem"]["evidence"][0]["kind"], _steps(run)["paper-alone"]["evidence"]) == ("node", [])
    run.ok("rm", entry)
    run.ok("log")
    assert_refused_unchanged(run, ["ladder", "evidence", "add", "learn-area", entry], "was deleted")
    run.ok("ladder", "evidence", "rm", "github-page", "https://github.com/ada")
    assert _steps(run)["github-page"]["evidence"] == []
    assert [c["text"] for c in _json(run, "ladder", "history", "github-page")] == \
        ["evidence added: https://github.com/ada", "evidence removed: https://github.com/ada"]


def test_a_done_project_with_a_result_and_a_repository_proposes_open_problem_and_write_up(run: CLI) -> None:
    node = _done_project_with_repository(run)
    found = {p["step"]: p for p in _json(run, "ladder", "proposals")}
    assert set(found) == {"open-problem", "write-up"}
    assert (found["open-problem"]["kind"], found["open-problem"]["ref"]) == ("node", node)
    assert (found["write-up"]["kind"], found["write-up"]["ref"]) == ("url", "https://github.com/ada/probe-study")
    stand = _stand(run)
    assert {s["step"]: s["evidence"] for s in stand["skip_forward"]} == {"open-problem": "proposed",
                                                                          "write-up": "proposed"}
    run.ok("ladder", "accept", found["open-problem"]["id"])
    run.ok("ladder", "reject", found["write-up"]["id"][:5])
    assert _json(run, "ladder", "proposals") == []
    evidence = _steps(run)["open-problem"]["evidence"]
    assert [(e["kind"], e["ref"], bool(e["rule"])) for e in evidence] == [("node", node, True)]
    assert {s["step"]: s["evidence"] for s in _stand(run)["skip_forward"]} == {"open-problem": "attached"}
    run.ok("note", "-u", node, "Another result, same repository https://github.com/ada/probe-study.")
    assert _json(run, "ladder", "proposals") == []  # a rejected proposal never comes back


def test_a_project_without_a_repository_or_not_done_proposes_nothing(run: CLI) -> None:
    node = _json(run, "add", "project", "Half done")["id"]
    run.ok("note", "-u", node, "-k", "result", "It works.", "--expected", "a", "--happened", "b")
    run.ok("note", "-u", node, "Code at https://github.com/ada/half.")
    assert _json(run, "ladder", "proposals") == []  # not done yet
    other = _json(run, "add", "project", "No code")["id"]
    run.ok("note", "-u", other, "-k", "result", "It works too.", "--expected", "a", "--happened", "b")
    run.ok("node", "status", other, "done")
    assert _json(run, "ladder", "proposals") == []  # done, but no repository


def test_a_finished_run_and_a_paper_entry_propose_the_first_open_implementing_step(
        run: CLI, workspace: Workspace) -> None:
    with upstack.run("ioi-reproduction", home=workspace.home, db=workspace.db_url, capture="none") as r:
        r.log({"loss": 0.5}, step=1)
    paper = run.ok("note", "Reading the IOI paper #paper").strip()
    found = {(p["step"], p["kind"]): p for p in _json(run, "ladder", "proposals")}
    assert set(found) == {("paper-walkthrough", "run"), ("paper-walkthrough", "entry")}
    assert found[("paper-walkthrough", "entry")]["ref"].lower().startswith(paper.lower()[:4]) or paper
    run.ok("ladder", "done", "paper-walkthrough")
    assert {(p["step"], p["kind"]) for p in _json(run, "ladder", "proposals")} == \
        {("paper-alone", "run"), ("paper-alone", "entry")}


def _progress_weeks_ago(run: CLI, weeks: int) -> None:
    run.ok("ladder", "resource", "progress", "arena", "chapter", "1", "--minutes", "60", "--at", f"{weeks} weeks ago")


def test_weeks_of_study_alone_with_no_active_project_give_a_gentle_notice(run: CLI) -> None:
    _progress_weeks_ago(run, 7)
    run.ok("ladder", "done", "code")  # a learning-only step: still study
    notice = _stand(run)["trap"]
    assert notice and "upstack idea" in notice and "upstack add project" in notice
    assert "upstack idea" in run.ok("ladder")
    run.ok("add", "project", "Probe study")
    assert _stand(run)["trap"] is None  # an open project in the tree: never shown


def test_no_trap_notice_for_recent_study_a_parked_project_counts_as_none_and_the_setting_moves_it(
        run: CLI, home: Any, db_url: str | None) -> None:
    _progress_weeks_ago(run, 3)
    assert _stand(run)["trap"] is None
    node = _json(run, "add", "project", "Parked one")["id"]
    run.ok("node", "status", node, "parked")
    short = CLI(home, db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UPSTACK_UPSKILLING_WEEKS", "2")
        assert "2 weeks" in str(json.loads(short.ok("ladder", "--json"))["trap"])


def test_non_study_work_since_ends_the_trap(run: CLI) -> None:
    _progress_weeks_ago(run, 8)
    run.ok("ladder", "done", "paper-alone")  # not study
    assert _stand(run)["trap"] is None


def test_learning_resources_come_with_the_guides_links_and_keep_progress_and_minutes(run: CLI) -> None:
    found = {r["slug"]: r for r in _json(run, "ladder", "resource", "list")}
    assert set(found) == {r.slug for r in rules.RESOURCES}
    assert all(r["url"].startswith("https://") and r["state"] == "not-started" for r in found.values())
    assert found["mit-6006"]["step"] == "interview-practice"
    run.ok("ladder", "resource", "add", "Deep", "Learning", "Book", "--url", "https://www.deeplearningbook.org/",
           "--step", "from-scr")
    run.ok("ladder", "resource", "progress", "arena", "chapter", "1", "--minutes", "90")
    run.ok("ladder", "resource", "progress", "arena", "-m", "30")
    run.ok("ladder", "resource", "done", "mit", "-m", "45")
    run.ok("ladder", "resource", "edit", "grokking-algorithms", "--step", "code")
    run.ok("ladder", "resource", "rm", "ai-safety-fundamentals")
    found = {r["slug"]: r for r in _json(run, "ladder", "resource", "list")}
    assert (found["arena"]["state"], found["arena"]["position"], found["arena"]["minutes"]) == \
        ("in-progress", "chapter 1", 120)
    assert (found["mit-6006"]["state"], found["mit-6006"]["minutes"]) == ("done", 45)
    assert found["deep-learning-book"]["step"] == "from-scratch" and not found["deep-learning-book"]["builtin"]
    assert found["grokking-algorithms"]["step"] == "code" and "ai-safety-fundamentals" not in found
    assert "chapter 1, 120 min" in run.ok("ladder", "resource", "list")
    assert [c["text"] for c in _json(run, "ladder", "history", "arena")] == \
        ["progress: in-progress, chapter 1, 90 min", "progress: in-progress, 30 min"]


def test_interview_practice_is_not_yet_measured_without_a_practice_log(run: CLI) -> None:
    practice = _steps(run)["interview-practice"]
    assert (practice["state"], practice["measured"]) == ("open", "not yet measured")


def test_interview_practice_says_how_many_more_attempts_once_practice_is_logged(run: CLI) -> None:
    """A practice log too short to judge is not "not yet measured" (the words for no log at all)."""
    for i in range(3):
        run.ok("practice", "log", f"m{i}", "-m", "25", "--unaided", "-d", "medium", "--at", f"{5 - i} days ago")
    run.ok("practice", "log", "e0", "-m", "5", "--unaided", "-d", "easy")  # an easy one does not count
    practice = _steps(run)["interview-practice"]
    assert (practice["state"], practice["measured"]) == ("open", "measuring: 17 more first attempts at mediums needed")
    assert "(study; measuring: 17 more first attempts at mediums needed)" in run.ok("ladder")


@pytest.mark.parametrize("slow, state, measured", [(4, "done", "the practice bar is reached"),
                                                   (5, "open", "below the practice bar")])
def test_interview_practice_is_done_when_the_practice_bar_says_so(run: CLI, slow: int, state: str,
                                                                  measured: str) -> None:
    for i in range(20):  # 16 of the last 20 first attempts at mediums within 30 minutes reach the bar
        minutes = "45" if i < slow else "25"
        run.ok("practice", "log", f"m{i}", "-m", minutes, "--unaided", "-d", "medium", "--at", f"{30 - i} days ago")
    practice = _steps(run)["interview-practice"]
    assert (practice["state"], practice["measured"]) == (state, measured)


def test_a_mentor_never_learns_the_practice_bar_from_the_ladder(workspace: Workspace) -> None:
    from upstack.services import practice

    for i in range(20):
        practice.log_attempt(workspace, f"m{i}", minutes=20, outcome="unaided", difficulty="medium",
                             at=f"2026-11-{i + 1:02d}T10:00:00.000000Z")
    assert ladder_service.load(workspace).get("interview-practice").state == "done"
    shown = ladder_service.load(workspace, person="").get("interview-practice")  # as read for someone else
    assert (shown.state, shown.measured) == ("open", "not shown")


def test_another_persons_ladder_is_not_the_readers(workspace: Workspace) -> None:
    record = workspace.record("ladder.step", {"subject": "code", "at": "2026-11-01T10:00:00.000000Z",
                                              "change": "done", "by": "someone-else"})
    workspace.store().write([record])
    assert ladder_service.load(workspace).get("code").state == "open"
    assert ladder_service.load(workspace, person="someone-else").get("code").state == "done"


def test_the_ladder_page_and_its_json_twin_show_where_you_stand(workspace: Workspace) -> None:
    from webserver import serve  # a real server, as every web test runs

    ladder_service.mark_done(workspace, "code")
    ladder_service.add_evidence(workspace, "github-page", "https://github.com/ada")
    resource_service.log_progress(workspace, "arena", position="chapter 2", minutes=40)
    with serve(workspace.home, workspace.db_url) as server:
        client = server.client()
        data = client.get("/ladder.json").json()
        html = client.get("/ladder").text
    assert data["standing"]["next"]["slug"] == "from-scratch"
    steps = {s["slug"]: s for s in data["steps"]}
    assert steps["code"]["state"] == "done" and steps["github-page"]["evidence"][0]["ref"] == "https://github.com/ada"
    arena = next(r for r in data["resources"] if r["slug"] == "arena")
    assert (arena["position"], arena["minutes"]) == ("chapter 2", 40)
    assert "Next: Linear algebra and model components from scratch" in html
    assert 'href="/ladder" aria-current="page"' in html and "chapter 2" in html


def test_on_a_team_server_evidence_and_proposals_are_only_what_the_reader_may_see(team: Any) -> None:
    from upstack.domain import access
    from upstack.services import capture

    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        private = capture.note(ws, "My private Python course notes. #paper", private=True)
        ladder_service.mark_done(ws, "code")
        assert ladder_service.add_evidence(ws, "learn-area", private.id).evidence[0].ref == private.id
        assert [p.ref for p in ladder_service.proposals(ws)] == [private.id]  # ada's own #paper entry
    with access.acting_as(team.as_user(team.mal)):
        with pytest.raises(NotFound):
            ladder_service.add_evidence(ws, "learn-area", private.id)
        mine = ladder_service.load(ws)
        assert mine.get("code").state == "open" and mine.get("learn-area").evidence == []
        assert ladder_service.proposals(ws) == []  # ada's entry is not mal's to be offered
