"""`upstack check` names the entries that trace to no agenda; `upstack log --orphans` lists them."""

from __future__ import annotations

import json
from typing import Any

from conftest import CLI


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def test_check_and_log_name_the_orphans(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Tools that see inside models.").strip()
    project = run.ok("add", "project", "IOI", "--under", agenda, "--why", "A known circuit.").strip()
    loose = run.ok("add", "experiment", "Sweep widths", "--why", "Curious.").strip()  # no parent
    run.ok("note", "--under", project, "Filed properly.")
    orphans = [run.ok("note", "Unfiled thought.").strip(),
               run.ok("note", "--under", loose, "Under a loose experiment.").strip()]
    run.ok("idea", "An idea is judged by triage, not the tree.")

    text = run.ok("check")
    assert f"{orphans[0]}  Unfiled thought." in text
    assert f"{orphans[1]}  Under a loose experiment." in text
    assert "Filed properly" not in text and "An idea" not in text
    (flag,) = [f for f in as_json(run, "check")["flags"] if f["subject"] == "entries"]
    assert flag["message"].startswith("2 entries trace to no agenda")
    assert [(e["short"], e["title"]) for e in flag["entries"]] == [
        (orphans[1], "Under a loose experiment."), (orphans[0], "Unfiled thought.")]
    assert [e["short"] for e in as_json(run, "log", "--orphans")] == [orphans[1], orphans[0]]
    assert [line.split()[0] for line in run.ok("log", "--orphans").splitlines()] == [orphans[1], orphans[0]]
    assert as_json(run, "log", "--orphans", "--kind", "result") == []
    assert run.ok("log", "--orphans", "--kind", "result") == "No entries match --kind result --orphans.\n"


def test_check_names_ten_and_json_lists_all(run: CLI) -> None:
    run.ok("add", "agenda", "Oversight", "--why", "Tools.")
    made = [run.ok("note", f"Drift number {i}.").strip() for i in range(12)]
    text = run.ok("check")
    assert sum(short in text for short in made) == 10
    assert "all of them: upstack log --orphans -n 0" in text
    (flag,) = [f for f in as_json(run, "check")["flags"] if f["subject"] == "entries"]
    assert [e["short"] for e in flag["entries"]] == made[::-1]
    assert [e["short"] for e in as_json(run, "log", "--orphans", "-n", "0")] == made[::-1]
