"""`upstack apply` (cli/applications.py over services/applications.py): the board by stage, dated
moves (a move back refused without --force, nothing changed), a rejection and what it taught
(asked at a terminal only), follow-ups, what was sent, contacts, and the funnel's numbers on a small
fixture worked out by hand; `--json` on every listing; on both engines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from conftest import CLI, assert_refused_unchanged
from upstack.services import applications, contacts
from upstack.timeutil import today_local
from upstack.workspace import Workspace


def _ago(days: int) -> str:
    return (today_local() - timedelta(days=days)).isoformat()


def _opp(run: CLI, org: str, role: str, kind: str = "job", source: str = "80,000 Hours") -> None:
    run.ok("opp", "add", "--org", org, "--role", role, "--kind", kind, "--source", source)


def _funnel_fixture(run: CLI) -> None:
    """Five applications sent and one wish, with these timelines (days ago):

    a  reach  job         applied 30, screen 25, interview 20, offer 10
    b  fit    job         applied 28, rejected 21
    c  fit    fellowship  applied 20, screen 17, rejected 3
    d  safe   grant       applied 15
    e  reach  job         applied 12, no-answer 1
    f  fit    fellowship  wishlist (not sent)
    """
    for slug, kind in (("a", "job"), ("b", "job"), ("c", "fellowship"), ("d", "grant"), ("e", "job"),
                       ("f", "fellowship")):
        _opp(run, slug.upper() + " Lab", "Role", kind, source="LessWrong" if slug in "cde" else "80,000 Hours")
    for slug, stretch, moves in (("a", "reach", [("screen", 25), ("interview", 20), ("offer", 10)]),
                                 ("b", "fit", [("rejected", 21)]),
                                 ("c", "fit", [("screen", 17), ("rejected", 3)]),
                                 ("d", "safe", []),
                                 ("e", "reach", [("no-answer", 1)])):
        applied = {"a": 30, "b": 28, "c": 20, "d": 15, "e": 12}[slug]
        run.ok("apply", "add", f"{slug}-lab", "--stage", "applied", "--when", _ago(applied), "--stretch", stretch)
        for stage, days in moves:
            run.ok("apply", "move", f"{slug}-lab", stage, "--when", _ago(days))
    run.ok("apply", "add", "f-lab", "--stretch", "fit")


def test_the_funnel_on_a_fixture_worked_out_by_hand(run: CLI) -> None:
    _funnel_fixture(run)
    got = json.loads(run.ok("apply", "funnel", "--json"))["groups"]["all"]
    # Sent: a-e (f is a wish). Heard back: a (screen), b and c (rejected); d is waiting, e had no answer.
    assert got["applied"] == 5
    assert [(got[k]["hits"], got[k]["out_of"]) for k in ("response", "interview", "offer")] == [(3, 5), (1, 5), (1, 5)]
    # Days spent in each stage left: applied a 5, b 7, c 3, e 11 -> 6; screen a 5, c 14 -> 9.5; interview a 10.
    assert got["median_days_in_stage"] == {"applied": 6, "screen": 9.5, "interview": 10}
    shown = run.ok("apply", "funnel")
    assert "response rate:  3/5 (60%)" in shown and "interview rate: 1/5 (20%)" in shown
    assert "offer rate:     1/5 (20%)" in shown and "median days: applied 6, screen 9.5, interview 10" in shown
    by_stretch = json.loads(run.ok("apply", "funnel", "--by", "stretch", "--json"))["groups"]
    assert {k: (g["applied"], g["response"]["hits"], g["interview"]["hits"], g["offer"]["hits"])
            for k, g in by_stretch.items()} == {"reach": (2, 1, 1, 1), "fit": (2, 2, 0, 0), "safe": (1, 0, 0, 0)}
    by_kind = json.loads(run.ok("apply", "funnel", "--by", "kind", "--json"))["groups"]
    assert {k: (g["applied"], g["response"]["hits"]) for k, g in by_kind.items()} == \
        {"fellowship": (1, 1), "grant": (1, 0), "job": (3, 2)}
    assert "kind job\n  applied: 3\n  response rate:  2/3 (67%)" in run.ok("apply", "funnel", "--by", "kind")
    by_source = json.loads(run.ok("apply", "funnel", "--by", "source", "--json"))["groups"]
    assert {k: g["applied"] for k, g in by_source.items()} == {"80,000 Hours": 2, "LessWrong": 3}
    # Archived applications stay in the funnel.
    run.ok("apply", "archive", "b-lab")
    assert json.loads(run.ok("apply", "funnel", "--json"))["groups"]["all"]["applied"] == 5


def test_the_variety_notice_when_every_open_application_is_one_level(run: CLI) -> None:
    for n in range(4):
        _opp(run, f"Big Lab {n}", "RE")
        run.ok("apply", "add", f"big-lab-{n}-re", "--stage", "applied", "--stretch", "reach")
    assert "All 4 of your open applications are marked reach: add some fits and safe bets" in run.ok("apply", "funnel")
    assert json.loads(run.ok("apply", "funnel", "--json"))["variety"].startswith("all 4 of your open applications")
    run.ok("apply", "move", "big-lab-0-re", "rejected")  # an ended one is no longer open: 3 are too few to tell
    assert json.loads(run.ok("apply", "funnel", "--json"))["variety"] is None


def test_the_board_groups_by_stage_in_stage_order_with_days_in_stage(run: CLI) -> None:
    _funnel_fixture(run)
    run.ok("apply", "follow-up", "d-lab", _ago(2))
    board = run.ok("apply")
    headings = [line for line in board.splitlines() if not line.startswith(" ")]
    assert headings == ["wishlist (1)", "applied (1)", "offer (1)", "rejected (2)", "no-answer (1)"]
    assert "d-lab-role  Role at D Lab  (15 days at applied, safe, follow up " + _ago(2) + " (overdue))" in board
    assert "c-lab-role  Role at C Lab  (3 days at rejected, fit)" in board
    assert board == run.ok("apply", "list")
    listed = json.loads(run.ok("apply", "--json"))
    assert json.loads(run.ok("apply", "list", "--json")) == listed and len(listed) == 6
    run.ok("apply", "archive", "b-lab")
    assert "b-lab" not in run.ok("apply") and "archived" in run.ok("apply", "--all")
    assert len(json.loads(run.ok("apply", "list", "--all", "--json"))) == 6
    run.ok("apply", "restore", "b-lab")
    assert "b-lab" in run.ok("apply")


def test_moves_are_dated_and_a_move_back_needs_force(run: CLI) -> None:
    _opp(run, "Redwood", "RE")
    run.ok("apply", "add", "redwood", "--stage", "applied", "--when", _ago(10), "--stretch", "reach")
    run.ok("apply", "move", "redwood", "interview", "--when", _ago(3), "--on", "2099-01-05", "--note", "two rounds")
    assert_refused_unchanged(run, ["apply", "move", "redwood", "screen"], "redwood-re is at interview: moving it "
                                                                            "back to screen needs --force")
    assert_refused_unchanged(run, ["apply", "move", "redwood", "offer", "--when", _ago(5)],
                             "a later move cannot be dated")
    assert_refused_unchanged(run, ["apply", "move", "redwood", "interview"], "at interview already")
    assert_refused_unchanged(run, ["apply", "move", "redwood", "hired"], "no stage 'hired'")
    assert_refused_unchanged(run, ["apply", "move", "redwood", "offer", "--when", "2099-01-01"], "has not happened yet")
    assert_refused_unchanged(run, ["apply", "move", "redwood", "offer", "--learned", "x"],
                             "--learned belongs to a rejection")
    assert_refused_unchanged(run, ["apply", "add", "redwood"], "there is an application to redwood-re already")
    assert_refused_unchanged(run, ["apply", "add", "nowhere"], "no opportunity 'nowhere'")
    assert_refused_unchanged(run, ["apply", "move", "nobody", "offer"], "no application 'nobody'")
    moved = json.loads(run.ok("apply", "move", "redwood", "screen", "--force", "--json"))
    today = today_local().isoformat()
    assert [(s["stage"], s["when"], s.get("forced", False)) for s in moved["timeline"]] == \
        [("wishlist", today, False), ("applied", _ago(10), False), ("interview", _ago(3), False),
         ("screen", today, True)]
    shown = run.ok("apply", "show", "redwood")
    assert f"{_ago(3)}  interview  on 2099-01-05; two rounds" in shown and "screen  moved back" in shown
    assert json.loads(run.ok("apply", "show", "redwood", "--json"))["timeline"] == moved["timeline"]


def _entries(run: CLI) -> list[dict[str, object]]:
    return json.loads(run.ok("log", "--json", "-n", "0"))


def test_a_rejection_keeps_what_it_taught_as_a_private_learning_and_counts_nowhere_else(run: CLI) -> None:
    _opp(run, "Redwood", "RE")
    _opp(run, "Apollo", "Evals")
    for slug in ("redwood", "apollo"):
        run.ok("apply", "add", slug, "--stage", "applied", "--when", _ago(5))
    before = [run.ok(*args) for args in (["progress", "--json"], ["check"], ["review"])]
    said = run.ok("apply", "move", "apollo", "rejected")  # not at a terminal: nothing asked
    assert "most applications are false negatives" in said
    assert [run.ok(*args) for args in (["progress", "--json"], ["check"], ["review"])] == before
    assert _entries(run) == []
    said = run.ok("apply", "move", "redwood", "rejected", "--learned", "Lead the work sample with the result.")
    assert "kept what it taught you as a private learning" in said
    [entry] = _entries(run)
    assert (entry["kind"], entry["private"], entry["title"], entry["tags"]) == \
        ("learning", True, "Lead the work sample with the result.", ["application"])
    step = json.loads(run.ok("apply", "show", "redwood", "--json"))["timeline"][-1]
    assert (step["stage"], step["learned"]) == ("rejected", entry["id"])
    shown = run.ok("show", said.split("upstack show ")[1].split()[0])  # the short id printed finds it
    assert "Lead the work sample with the result." in shown
    assert f"rejected  learned: entry {entry['short']}" in run.ok("apply", "show", "redwood")
    shown = run.ok("apply", "show", "redwood")  # added straight at applied: it never waited on the wishlist
    assert "wishlist" not in shown and "  applied" in shown
    # What `upstack progress` counts: the learning, as any learning (progress is counted in
    # learnings); the rejection itself is in no count. The review digest leaves it out (private).
    [week] = json.loads(run.ok("progress", "--json"))
    assert (week["entries"], week["learnings"], week["results"], week["failed_but_learned"]) == (1, 1, 0, 0)
    assert run.ok("review") == before[2]


def test_at_a_terminal_a_rejection_asks_what_was_learned(engine: str, db_url: str | None, home: Path) -> None:
    run = CLI(home, db_url)
    for org in ("Redwood", "Apollo"):
        _opp(run, org, "RE")
        run.ok("apply", "add", org.lower(), "--stage", "applied")
    env = {**{k: v for k, v in os.environ.items() if k not in ("UPSTACK_DB", "EDITOR", "VISUAL")},
           "UPSTACK_HOME": str(home), "NO_COLOR": "1", **({"UPSTACK_DB": db_url} if db_url else {})}
    asked = _in_terminal(["apply", "move", "redwood", "rejected"], env, answer="Show a result, not a plan.\n")
    assert asked.returncode == 0, asked.stderr
    assert "most applications are false negatives" in asked.stdout and "What, if anything" in asked.stdout
    assert "kept what it taught you as a private learning" in asked.stdout
    assert asked.stdout.count("most applications are false negatives") == 1
    nothing = _in_terminal(["apply", "move", "apollo", "rejected"], env, answer="\n")
    assert nothing.returncode == 0, nothing.stderr
    assert "What, if anything" in nothing.stdout and "learning" not in nothing.stdout.split("?")[-1]
    assert [e["title"] for e in _entries(run)] == ["Show a result, not a plan."]


def _in_terminal(args: list[str], env: dict[str, str], *, answer: str) -> subprocess.CompletedProcess[str]:
    """`upstack ARGS` as a real process whose standard input is a terminal, typed ``answer`` into."""
    controller, terminal = os.openpty()
    try:
        os.write(controller, answer.encode())
        return subprocess.run([sys.executable, "-m", "upstack", *args], stdin=terminal, capture_output=True,
                              text=True, env=env, timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)


def test_follow_ups_are_due_and_done(run: CLI) -> None:
    _opp(run, "Redwood", "RE")
    run.ok("apply", "add", "redwood", "--stage", "applied")
    assert run.ok("apply", "follow-up", "redwood", "in 2 weeks").strip() == \
        f"follow up redwood-re on {(today_local() + timedelta(weeks=2)).isoformat()}"
    [due] = json.loads(run.ok("due", "--days", "30", "--json"))
    assert (due["kind"], due["ref"], due["detail"]) == ("follow-up", "redwood-re", "application at applied")
    run.ok("apply", "follow-up", "redwood", "--done")
    assert json.loads(run.ok("due", "--days", "30", "--json")) == []
    assert run("apply", "follow-up", "redwood").exit_code == 2
    assert_refused_unchanged(run, ["apply", "follow-up", "redwood", "whenever"], "follow-up date 'whenever'")


def test_what_was_sent_is_kept_privately_and_contacts_are_named(run: CLI, tmp_path: Path) -> None:
    _opp(run, "Redwood", "RE")
    run.ok("apply", "add", "redwood", "--stage", "applied", "--compensation", "$150k", "--visa", "needs H-1B")
    cv = tmp_path / "cv-v3.pdf"
    cv.write_bytes(b"%PDF-1.4 a CV")
    said = run.ok("apply", "attach", "redwood", str(cv), "--what", "CV v3")
    assert said.startswith("kept 1 file sent with redwood-re as entry")
    [entry] = _entries(run)
    assert entry["private"] is True and "CV v3" in str(entry["title"])
    assert len(entry["attachments"]) == 1  # type: ignore[arg-type]
    with Workspace(home=run.home, db=run.db_url) as ws:
        contacts.add(ws, "Ada Lovelace", interests="interpretability")
    assert run.ok("apply", "contact", "redwood", "ada", "--role", "referrer").strip() == \
        "redwood-re: ada-lovelace (referrer)"
    assert_refused_unchanged(run, ["apply", "contact", "redwood", "grace"], "grace")
    shown = run.ok("apply", "show", "redwood")
    assert "contact:   ada-lovelace (referrer)" in shown and "pay:       $150k" in shown and "sent:" in shown
    got = json.loads(run.ok("apply", "edit", "redwood", "--stretch", "fit", "--notes", "Ask about mentorship.",
                            "--json"))
    assert (got["stretch"], got["notes"], got["sent"], got["contacts"]) == \
        ("fit", "Ask about mentorship.", [entry["id"]], [{"contact": "ada-lovelace", "role": "referrer"}])
    assert_refused_unchanged(run, ["apply", "edit", "redwood", "--stretch", "moonshot"], "not a stretch level")


def test_the_service_folds_the_same_on_both_engines(workspace: Workspace) -> None:
    from upstack.services import opportunities

    opportunities.add(workspace, organisation="Redwood", role="RE")
    applications.add(workspace, "redwood", stage="applied", when=_ago(4))
    applications.move(workspace, "redwood", "screen", when=_ago(1))
    [found] = applications.applications(workspace)
    assert [(s["stage"], s["when"]) for s in found.timeline] == \
        [("wishlist", today_local().isoformat()), ("applied", _ago(4)), ("screen", _ago(1))]
    # The wishlist was written down today, after the application it preceded: its days say nothing.
    assert applications.funnel(workspace)["all"].days_in_stage == {"applied": 3}
