"""`upstack check` asks that work trace to an agenda. A take (a view held) and a mentor's answer are not
work the tree answers for: left unfiled, they are not flagged, while an unfiled note is (the test's
control). One definition (queries.work_sql) serves the check, its listing of the orphans, and the
"spinning your wheels" count."""

from __future__ import annotations

from upstack.services import capture, checks, takes, tree
from upstack.workspace import Workspace


def _orphans(ws: Workspace) -> list[str]:
    report = checks.check(ws, named=None)
    return [e["title"] for f in report.flags if f.check == "orphan" and f.subject == "entries" for e in f.entries]


def test_unfiled_takes_and_mentor_answers_are_not_untraced_work(workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Understand circuits", why="Safety needs it.")
    tree.add_node(workspace, "project", "IOI", why="A known circuit.", under=agenda.id)
    takes.make(workspace, "Probes only find what you put in", "60%", source="a talk")
    capture.note(workspace, "Mentor (echo) on the week: prune the sweep. #mentor")
    assert _orphans(workspace) == []
    capture.note(workspace, "A loose result with no home.")
    assert _orphans(workspace) == ["A loose result with no home."]
