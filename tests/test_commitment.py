"""Commitment rules: one active project at a time; give an active problem a real shot."""

from __future__ import annotations

import json

import pytest

from conftest import CLI
from upstack.errors import BadInput
from upstack.services import tree
from upstack.workspace import Workspace


def test_one_active_project_unless_overridden(workspace: Workspace) -> None:
    first = tree.add_node(workspace, "project", "IOI", why="a", status="active")
    second = tree.add_node(workspace, "project", "SAE widths", why="b")
    with pytest.raises(BadInput, match=r"^already 1 active project \(.*\) and the limit is 1"):  # not "project(s)"
        tree.set_status(workspace, second.id, "active")
    with pytest.raises(BadInput, match="limit is 1"):
        tree.add_node(workspace, "project", "Third", why="c", status="active")
    tree.set_status(workspace, first.id, "open")  # parked: room again
    assert tree.set_status(workspace, second.id, "active").status == "active"
    forced = tree.set_status(workspace, first.id, "active", override="paper deadline on both")
    assert forced.status == "active"
    assert "override: paper deadline on both" in tree.show_node(workspace, first.id).history[-1][
        "reason"]
    # Questions are not limited.
    tree.add_node(workspace, "question", "Q", under=first.id, why="d", status="active")


def test_an_active_problem_gets_a_real_shot(workspace: Workspace) -> None:
    project = tree.add_node(workspace, "project", "IOI", why="a", status="active")
    with pytest.raises(BadInput, match="real shot"):
        tree.set_status(workspace, project.id, "dropped", "Bored of it.")
    assert tree.show_node(workspace, project.id).node.status == "active"
    dropped = tree.set_status(workspace, project.id, "dropped", "Scooped.",
                              override="someone published it")
    assert dropped.status == "dropped"
    assert tree.set_status(workspace, project.id, "open").status == "open"  # not an active drop


def test_an_active_idea_is_not_pruned_on_a_whim(run: CLI) -> None:
    idea = run.ok("idea", "Steer refusals with SAE features.").strip()
    run.ok("promote", idea)
    refused = run("prune", idea, "--reason", "Lost interest.")
    assert refused.exit_code == 1 and "real shot" in refused.stderr
    assert json.loads(run.ok("ideas", "--json"))[0]["state"] == "active"
    run.ok("prune", idea, "--reason", "Lost interest.", "--override", "the GPU grant ended")
    pruned = json.loads(run.ok("ideas", "--state", "pruned", "--json"))
    assert len(pruned) == 1


def test_commitment_settings_come_from_the_environment(home, db_url, monkeypatch) -> None:
    monkeypatch.setenv("UPSTACK_ACTIVE_PROJECTS", "2")
    monkeypatch.setenv("UPSTACK_MIN_COMMITMENT_DAYS", "0")
    with Workspace(home=home, db=db_url) as ws:
        tree.add_node(ws, "project", "One", why="a", status="active")
        second = tree.add_node(ws, "project", "Two", why="b", status="active")
        assert tree.set_status(ws, second.id, "dropped", "Quick kill.").status == "dropped"
