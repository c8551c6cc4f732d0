"""Quick references: `last` and `@part of a title` wherever an id is taken; shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI
from upstack.domain import access
from upstack.errors import NotFound
from upstack.services import capture, recall
from upstack.store import queries
from upstack.workspace import Workspace


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def test_last_is_the_entry_written_last(run: CLI) -> None:
    refused = run("show", "last")
    assert refused.exit_code == 1 and refused.stderr == "upstack: error: no entry yet, so no last one\n"
    first = run.ok("note", "Patching layer 5 kills the effect.").strip()
    second = run.ok("note", "--at", "2026-03-02 10:00", "Back-filled from Monday's paper notes.").strip()
    assert as_json(run, "show", "last")["short"] == second  # written last, though dated earlier
    lesson = as_json(run, "learned", "last", "Paper notes are worth typing up.")
    assert lesson["meta"]["learned_from"] == as_json(run, "show", second)["id"]
    run.ok("rm", "last")  # the learning
    run.ok("rm", "LAST")
    assert as_json(run, "show", "last")["short"] == first
    run.ok("edit", "last", "--text", "Patching layer 5 kills the effect, again.")
    assert as_json(run, "show", first)["title"] == "Patching layer 5 kills the effect, again."


def test_restore_last_brings_back_the_entry_deleted_last(run: CLI) -> None:
    refused = run("restore", "last")
    assert refused.exit_code == 1 and refused.stderr == "upstack: error: no deleted entry, so no last one\n"
    older = run.ok("note", "Deleted first.").strip()
    newer = run.ok("note", "Deleted second.").strip()
    run.ok("rm", newer)
    run.ok("rm", older)
    assert run.ok("restore", "last").split()[0] == older  # deleted last, though written first
    assert run.ok("restore", "last").split()[0] == newer
    assert run("restore", "last").exit_code == 1


def test_at_part_of_a_title_names_an_entry_or_a_node(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Make interpretability useful", "--why", "Oversight.").strip()
    project = run.ok("add", "project", "IOI circuit", "--under", "@interpretability", "--why", "a").strip()
    assert as_json(run, "node", "show", "@ioi circ")["parents"][0]["short"] == agenda
    patched = run.ok("note", "--under", "@IOI", "Patching layer 5 kills the effect.").strip()
    mover = run.ok("note", "--kind", "result", "Head 5.1 is a name mover.").strip()
    run.ok("note", "Patching again, layer 6.")
    assert as_json(run, "show", "@name mover")["short"] == mover
    assert as_json(run, "show", "@  NAME   Mover ")["short"] == mover  # case and spacing aside
    assert as_json(run, "why", "@kills the")["chain"][0]["short"] == project
    assert as_json(run, "show", "@patching layer 5 kills the effect.")["short"] == patched

    ambiguous = run("show", "@patching")
    assert ambiguous.exit_code == 1
    assert ambiguous.stderr.startswith("upstack: error: @patching matches more than one entry: ")
    assert f'{patched} "Patching layer 5 kills the effect."' in ambiguous.stderr
    missing = run("show", "@no such title")
    assert missing.stderr == "upstack: error: no entry whose title holds 'no such title'\n"
    assert run("show", "@").stderr == "upstack: error: '@' takes part of an entry's title, e.g. @\"name mover\"\n"

    # A title that is another's whole title wins over titles that merely hold it.
    exact = run.ok("note", "Patching.").strip()
    assert as_json(run, "show", "@patching")["short"] == exact
    # A deleted entry is found when no live one is (to restore it).
    run.ok("rm", "@name mover")
    run.ok("restore", "@name mover")
    assert as_json(run, "show", mover)["deleted_at"] is None

    idea = run.ok("idea", "Steer with the refusal direction.").strip()
    assert as_json(run, "derisk", "@refusal direction")["short"] == idea
    pruned = as_json(run, "prune", "@refusal", "--reason", "Already published.", "--evidence", "@name mover")
    assert pruned["state"] == "pruned" and pruned["events"][-1]["evidence"] == [as_json(run, "show", mover)["id"]]


def test_references_never_reach_what_the_reader_may_not_see(home: Path, db_url: str | None) -> None:
    with Workspace(home=home, db=db_url, team=True) as ws:
        with access.acting_as(access.OWNER):
            capture.note(ws, "Secret plan for the merger.", private=True)
            ws.ingest()
        with access.acting_as(access.Audience(user_id="stranger", login="stranger")):
            db = ws.store().db
            for ref in ("last", "@secret", "@merger"):
                with pytest.raises(NotFound) as refused:
                    queries.resolve(db, ref)
                assert "Secret" not in str(refused.value)
            assert recall.complete(ws, "secret") == [] and recall.complete(ws, "") == []


def _complete(home: Path, db_url: str | None, words: str, shell: str = "zsh") -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env.update({"UPSTACK_HOME": str(home), "_UPSTACK_COMPLETE": f"{shell}_complete",
                "COMP_WORDS": words, "COMP_CWORD": str(len(words.split(" ")) - 1)})
    if db_url:
        env["UPSTACK_DB"] = db_url
    done = subprocess.run([sys.executable, "-m", "upstack"], env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout.splitlines()


def test_shell_completion_offers_ids_with_titles(run: CLI) -> None:
    assert _complete(run.home, run.db_url, "upstack show ") == ["plain", "last", "the entry written last"]
    assert not (run.home / "upstack.db").exists()  # asking made no log
    agenda = run.ok("add", "agenda", "Make interpretability useful", "--why", "Oversight.").strip()
    question = run.ok("add", "question", "Is head 5.1 a name mover?", "--why", "a").strip()
    entry = run.ok("note", "Patching layer 5 kills the effect.").strip()
    run.ok("log")
    # zsh gets each id with its title; bash the ids alone.
    assert _complete(run.home, run.db_url, "upstack show patch") == [
        "plain", entry, "Patching layer 5 kills the effect."]
    assert _complete(run.home, run.db_url, f"upstack history {entry[:4]}", "bash") == [f"plain,{entry}"]
    assert _complete(run.home, run.db_url, "upstack focus name") == [
        "plain", question, "Is head 5.1 a name mover?"]
    assert _complete(run.home, run.db_url, "upstack note --under interp", "bash") == [f"plain,{agenda}"]
    assert set(_complete(run.home, run.db_url, "upstack why ", "bash")) == {
        "plain,last", f"plain,{entry}", f"plain,{agenda}", f"plain,{question}"}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_readme_completion_lines_give_a_script(shell: str, tmp_path: Path) -> None:
    env = {**os.environ, "_UPSTACK_COMPLETE": f"{shell}_source", "UPSTACK_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "upstack"], env=env, capture_output=True, text=True, check=True)
    assert "_UPSTACK_COMPLETE" in done.stdout and f"{shell}_complete" in done.stdout
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"_UPSTACK_COMPLETE={shell}_source upstack" in readme
