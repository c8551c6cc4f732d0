"""`upstack check`: the method's warning flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import CLI
from upstack.domain import access
from upstack.services import accounts, capture, checks, tree
from upstack.timeutil import to_iso
from upstack.workspace import Workspace


def _flags(report: checks.CheckReport) -> set[tuple[str, str]]:
    return {(f.check, f.subject) for f in report.flags}


def test_a_tidy_tree_raises_no_flag(workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Oversight", why="Tools that see inside models.")
    project = tree.add_node(workspace, "project", "IOI", under=agenda.id, why="A known circuit.")
    capture.note(workspace, "Filed properly.", under=project.id)
    report = checks.check(workspace)
    assert report.flags == []
    assert (report.recent_entries, report.recent_untraceable) == (1, 0)


def test_flags_orphans_missing_whys_and_active_work_under_closed_parents(
        workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Oversight", why="Tools that see inside models.")
    project = tree.add_node(workspace, "project", "IOI", under=agenda.id, why="A known circuit.")
    question = tree.add_node(workspace, "question", "Is 5.1 a name mover?", under=project.id,
                             status="active")  # no why
    loose = tree.add_node(workspace, "experiment", "Sweep widths", why="Curious.")  # no parent
    tree.set_status(workspace, project.id, "dropped", "Circuit already published.")
    capture.note(workspace, "Unfiled thought.")
    capture.note(workspace, "Filed one.", under=agenda.id)
    capture.note(workspace, "Filed two.", under=agenda.id)
    report = checks.check(workspace)
    assert _flags(report) == {("no-why", question.short), ("orphan", loose.short),
                              ("closed-parent", question.short), ("orphan", "entries")}


def test_spinning_wheels_counts_recent_untraceable_work(workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Oversight", why="Tools that see inside models.")
    now = datetime.now(UTC)
    capture.note(workspace, "Traceable.", under=agenda.id)
    for i in range(3):
        capture.note(workspace, f"Drifting {i}.")
    capture.note(workspace, "Old drift.", occurred_at=to_iso(now - timedelta(days=30)))
    report = checks.check(workspace, days=7)
    assert (report.recent_entries, report.recent_untraceable) == (4, 3)
    spinning = [f for f in report.flags if f.check == "spinning"]
    assert len(spinning) == 1 and "3 of the last 7 days' 4 entries" in spinning[0].message


def test_stale_projects(workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Oversight", why="Tools that see inside models.")
    busy = tree.add_node(workspace, "project", "Busy", under=agenda.id, why="a")
    idle = tree.add_node(workspace, "project", "Idle", under=agenda.id, why="b")
    question = tree.add_node(workspace, "question", "Q", under=busy.id, why="c")
    later = datetime.now(UTC) + timedelta(weeks=5)
    capture.note(workspace, "Recent work deep in the busy project.", under=question.id,
                 occurred_at=to_iso(later - timedelta(days=2)))
    report = checks.check(workspace, stale_weeks=4, now=later)
    assert ("stale", idle.short) in _flags(report)
    assert ("stale", busy.short) not in _flags(report)


def test_check_command_and_capture_hint(run: CLI) -> None:
    assert "ok: nothing to flag" in run.ok("check")
    quiet = run("note", "Before any tree.")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    run.ok("add", "agenda", "Oversight", "--why", "Tools that see inside models.")
    hinted = run("note", "After the tree exists.")
    assert hinted.exit_code == 0 and "traces to no agenda" in hinted.stderr
    assert "orphan" in run.ok("check")


def test_a_parked_project_is_not_stale_but_active_work_under_it_is_flagged(workspace: Workspace, run: CLI) -> None:
    agenda = tree.add_node(workspace, "agenda", "Oversight", why="Tools that see inside models.")
    first = tree.add_node(workspace, "project", "IOI", under=agenda.id, why="A known circuit.", status="active")
    side = tree.add_node(workspace, "project", "SAE features", under=agenda.id, why="A second view.")
    experiment = tree.add_node(workspace, "experiment", "Width sweep", under=side.id, why="Dead features.",
                               status="active")
    parked = run.ok("node", "status", side.short, "parked", "--reason", "Back after the write-up.")
    assert "[parked]" in parked and "[parked]" in run.ok("tree")
    later = datetime.now(UTC) + timedelta(weeks=5)
    assert _flags(checks.check(workspace, stale_weeks=4, now=later)) >= {("stale", first.short),
                                                                         ("closed-parent", experiment.short)}
    assert ("stale", side.short) not in _flags(checks.check(workspace, stale_weeks=4, now=later))
    refused = run("node", "status", side.short, "active")  # one active project at most: park one first
    assert refused.exit_code == 1 and "park one first (upstack node status ID parked)" in refused.stderr


def test_a_collaborator_is_asked_only_about_the_work_they_filed(workspace: Workspace) -> None:
    """On a team server a project shared with bob may sit under an agenda he may not see: whether it
    reaches one is not his to know, so his check flags what he filed himself, not ada's shared work."""
    accounts.add_user(workspace, "ada")
    bob, _ = accounts.add_user(workspace, "bob")
    with access.acting_as(access.OWNER):
        agenda = tree.add_node(workspace, "agenda", "Hidden agenda", why="Not bob's to see.")
        project = tree.add_node(workspace, "project", "Probing", under=agenda.id, why="Shared.")
        tree.add_node(workspace, "experiment", "Sweep layers", under=project.id, why="Cheap.")
        shared = [capture.note(workspace, f"Shared work {number}.", under=project.id) for number in range(3)]
    accounts.share(workspace, project.id, "bob", "viewer", by=None)
    as_bob = accounts.audience_for(workspace, bob)
    with access.acting_as(as_bob):
        own = capture.note(workspace, "Bob's own loose thought.")
    workspace.ingest()
    with access.acting_as(access.OWNER):
        assert [f.check for f in checks.check(workspace).flags] == ["orphan"]  # bob's note, seen by the owner
    with access.acting_as(as_bob):
        report = checks.check(workspace, named=None)
        chain = tree.trace_why(workspace, shared[0].id).chain
        asked = tree.asks_why(workspace, chain)
    assert [(f.check, f.subject, [e["short"] for e in f.entries]) for f in report.flags] == [
        ("orphan", "entries", [own.short])]
    assert report.flags[0].message.startswith("1 entry traces to no agenda")
    assert (report.recent_entries, report.recent_untraceable) == (4, 1)
    assert [n.title for n in chain] == ["Probing"] and not asked
