"""`--project NAME` finds an existing project by the start of its name; a typo makes none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import upstack
from conftest import CLI, assert_refused_unchanged
from upstack.services import runs as run_service
from upstack.workspace import Workspace


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def projects(run: CLI) -> list[str]:
    return [n["title"] for n in as_json(run, "tree") if n["kind"] == "project"] + [
        c["title"] for n in as_json(run, "tree") for c in n["children"] if c["kind"] == "project"]


def test_a_typo_makes_no_project_and_says_which_exist(run: CLI) -> None:
    refused = run("note", "--project", "IOI", "Head 5.1 is a name mover.")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == ("upstack: error: no project named 'IOI'; there are no projects "
                                      "yet (--create makes a new one)")
    run.ok("note", "--project", "IOI circuit", "--create", "First.")
    run.ok("log")  # taken in: the refused note below must change nothing
    assert_refused_unchanged(run, ["note", "-p", "IOX", "A typo."],
                             "no project named 'IOX'; the projects are \"IOI circuit\" "
                             "(--create makes a new one)")
    assert projects(run) == ["IOI circuit"]


def test_a_prefix_finds_the_project_even_while_its_notes_wait_in_the_journal(run: CLI) -> None:
    first = run.ok("note", "--project", "IOI circuit", "--create", "First.").strip()
    # Nothing has read the log since: the project exists only as a note in the journal.
    second = run.ok("note", "-p", "ioi", "Second, by a prefix in lower case.").strip()
    third = run.ok("note", "--project", "IOI CIRCUIT", "--create", "Third: --create finds it too.").strip()
    assert {e["short"]: e["project"] for e in as_json(run, "log")} == {
        first: "IOI circuit", second: "IOI circuit", third: "IOI circuit"}
    assert projects(run) == ["IOI circuit"]


def test_an_ambiguous_prefix_is_refused(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Tools.").strip()
    run.ok("add", "project", "SAE widths", "--under", agenda, "--why", "a")
    run.ok("add", "project", "SAE features", "--under", agenda, "--why", "b")
    refused = run("note", "-p", "sae", "Which one?")
    assert refused.exit_code == 1
    assert 'project \'sae\' is ambiguous: it begins "SAE features", "SAE widths"' in refused.stderr
    run.ok("note", "-p", "sae w", "This one.")
    assert [e["project"] for e in as_json(run, "log")] == ["SAE widths"]


def test_filters_review_and_progress_take_a_prefix(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Tools.").strip()
    project = run.ok("add", "project", "IOI circuit in GPT-2 small", "--under", agenda, "--why", "a").strip()
    run.ok("note", "--kind", "result", "--under", project, "Head 5.1 is a name mover. #ioi")
    run.ok("note", "Elsewhere. #ioi")
    for args in (["log", "-p", "ioi"], ["search", "head", "--project", "IOI circ"],
                 ["tags", "-p", "IO"]):
        assert "Head 5.1" in run.ok(*args) or "ioi" in run.ok(*args), args
    assert [e["title"] for e in as_json(run, "log", "-p", "ioi")] == ["Head 5.1 is a name mover."]
    assert as_json(run, "tags", "-p", "io") == [{"tag": "ioi", "entries": 1, "last_used": as_json(
        run, "log", "-p", "io")[0]["occurred_at"]}]
    assert "## IOI circuit in GPT-2 small" in run.ok("review", "-p", "ioi")
    assert [r["project"] for r in as_json(run, "progress", "-p", "ioi")] == ["IOI circuit in GPT-2 small"]
    # A node's own title or id still filters, as before.
    assert len(as_json(run, "log", "--project", "Oversight")) == 1
    for args in (["log", "-p", "nope"], ["review", "-p", "nope"], ["progress", "-p", "nope"]):
        refused = run(*args)
        assert refused.exit_code == 1 and "no project named 'nope'; the projects are " \
            "\"IOI circuit in GPT-2 small\"" in refused.stderr, args


def test_a_plain_note_loads_no_sql_driver_and_one_with_a_project_finds_it(tmp_path: Path) -> None:
    probe = ("import sys\nfrom upstack.cli.main import cli\n"
             "try:\n    cli(sys.argv[1:], standalone_mode=False)\n"
             "finally:\n    print(sorted(m for m in ('sqlite3', 'psycopg', 'upstack.store.store') "
             "if m in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env["UPSTACK_HOME"] = str(tmp_path / "home")

    def note(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", probe, "note", *args], env=env,
                              capture_output=True, text=True, check=True)
        return done.stdout.splitlines()

    assert note("A plain note.")[-1] == "[]"
    assert note("--project", "IOI", "--create", "Made on purpose.")[-1] != "[]"  # the look-up reads the store
    assert note("-p", "io", "Found.")[-1] != "[]"


def test_the_look_up_leaves_runs_in_the_run_dir_alone(workspace: Workspace, run: CLI, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    monkeypatch.setenv("UPSTACK_RUN_DIR", str(scratch))
    going = upstack.run("offline", home=workspace.home, db=workspace.db_url, capture="none")
    try:
        going.log({"loss": 0.5}, step=1)
        run.ok("note", "--project", "SAE", "--create", "Started the sweep.")
        run.ok("note", "-p", "sa", "Still going.")
        assert (scratch / going.id).is_dir()
        assert run_service.list_runs(workspace) == []  # no ingest: the run's folder was not read
    finally:
        going.finish()
    with Workspace(home=workspace.home, db=workspace.db_url) as reader:  # one that knows the run dir
        reader.ingest()
        assert [r.name for r in run_service.list_runs(reader)] == ["offline"]
    assert [e["project"] for e in as_json(run, "log", "--kind", "note")] == ["SAE", "SAE"]
