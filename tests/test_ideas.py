"""Idea triage: capture, triage, rank, prune with a reason, promote into the tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged, round_trip
from upstack.domain.idea import Idea, rank_ideas
from upstack.domain.similar import closeness
from upstack.services import ideas
from upstack.services.jsondump import dump_tables
from upstack.workspace import Workspace

FIXTURE = Path(__file__).parent / "fixtures" / "idea_pairs.json"


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def test_capture_triage_and_rank(run: CLI) -> None:
    bare = run.ok("idea", "Steering with a refusal direction stops jailbreaks.").strip()
    cheap = run.ok("idea", "Probe the residual stream for deception.", "--test", "Probe 200 answers",
                   "--cost", "2", "--score", "3").strip()
    costly = run.ok("idea", "Train SAEs on every layer.", "--test", "One layer first",
                    "--cost", "40", "--score", "5").strip()
    untested = run.ok("idea", "Debate helps weak judges.", "--cost", "1", "--score", "5").strip()
    triaged = as_json(run, "triage", bare, "--hypothesis", "Jailbreaks suppress refusal.",
                      "--kill", "Under half refused", "--compute", "1 GPU-hour",
                      "--value", "A cheap runtime defence")
    assert (triaged["hypothesis"], triaged["kill_criteria"], triaged["compute"]) == (
        "Jailbreaks suppress refusal.", "Under half refused", "1 GPU-hour")
    assert triaged["waiting_on"] == "needs a cheapest disqualifying test"
    run.ok("triage", bare, "--test", "Add the direction on 50 jailbreaks")
    assert as_json(run, "ideas", "--state", "candidate")[0]["short"] != bare
    listed = as_json(run, "ideas")
    # value per cost: 5/1, 3/2, 5/40, then the one without a score or cost
    assert [i["short"] for i in listed] == [untested, cheap, costly, bare]
    assert [i["waiting_on"] for i in listed] == [
        "needs a cheapest disqualifying test", "ready to de-risk: run its cheapest test",
        "ready to de-risk: run its cheapest test", "needs triage"]
    assert [i["short"] for i in as_json(run, "ideas", "--order", "cost")] == [untested, cheap,
                                                                               costly, bare]
    assert [i["short"] for i in as_json(run, "ideas", "--order", "value")][:2] == [untested, costly]
    assert [i["short"] for i in as_json(run, "ideas", "--order", "newest")][0] == untested
    run.ok("derisk", cheap)
    derisking = as_json(run, "ideas", "--state", "de-risking")
    assert [i["waiting_on"] for i in derisking] == ["run: Probe 200 answers"]
    text = run.ok("ideas")
    assert "waiting on: run: Probe 200 answers" in text
    assert as_json(run, "show", cheap)["kind"] == "idea"


def test_rank_ties_and_small_costs() -> None:
    def idea(name: str, score: int | None, cost: float | None) -> Idea:
        return Idea(entry_id=name, title=name, state="candidate", value_score=score,
                    cost_hours=cost, created_at=name)
    # Below half an hour, cost estimates are noise: 0.1 h ranks like 0.5 h.
    ranked = rank_ideas([idea("a", 2, 0.1), idea("b", 2, 0.5), idea("c", None, 1),
                         idea("d", 5, 1)])
    assert [i.entry_id for i in ranked] == ["d", "b", "a", "c"]


def test_prune_needs_a_reason_and_search_finds_it_with_the_reason(run: CLI, home: Path,
                                                                  db_url: str | None) -> None:
    probe = run.ok("idea", "Linear probes on the residual stream detect deception.").strip()
    evidence = run.ok("note", "--kind", "result", "The probe tracks topic words.").strip()
    with Workspace(home=home, db=db_url) as ws:
        ws.ingest()  # the evidence note is still in the journal; prune would take it in
        before = dump_tables(ws.store().db)
        refused = run("prune", probe)
        assert refused.exit_code == 1 and "pruning needs a reason" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert dump_tables(ws.store().db) == before
    pruned = as_json(run, "prune", probe, "--reason", "The probe tracks topic, not deception.",
                     "--evidence", evidence)
    assert pruned["state"] == "pruned" and pruned["reason"] == "The probe tracks topic, not deception."
    hits = as_json(run, "search", "deception")["results"]
    assert [h["short"] for h in hits] == [probe]
    assert hits[0]["body"].endswith("Pruned: The probe tracks topic, not deception.")
    assert "Pruned: The probe tracks topic" in run.ok("search", "deception")
    assert len(as_json(run, "history", probe)["revisions"]) == 2  # the original text is kept
    with Workspace(home=home, db=db_url) as ws:
        events = ideas.get_idea(ws, probe).events
    assert [(e["old_state"], e["new_state"]) for e in events] == [(None, "candidate"),
                                                                  ("candidate", "pruned")]
    assert events[-1]["evidence"] == [as_json(run, "show", evidence)["id"]]
    assert as_json(run, "ideas") == []
    assert [i["short"] for i in as_json(run, "ideas", "--state", "pruned")] == [probe]


def test_capturing_a_close_idea_names_the_pruned_one(run: CLI) -> None:
    probe = run.ok("idea", "Linear probes on the residual stream detect deception.").strip()
    run.ok("prune", probe, "--reason", "The probe tracks topic.")
    parked = run.ok("idea", "Train sparse autoencoders on every layer of Llama.").strip()
    run.ok("park", parked)
    again = run("idea", "Probes on residual stream activations could catch deceptive answers.")
    assert again.exit_code == 0
    assert (f"close to pruned idea {probe}: Linear probes on the residual stream detect "
            "deception. (pruned: The probe tracks topic.)") in again.stderr
    also = as_json(run, "idea", "Sparse autoencoders for every Llama layer, trained at once.")
    assert [c["short"] for c in also["close_to"]] == [parked]
    unrelated = run("idea", "Debate helps a weak judge find the truth.")
    assert "close to" not in unrelated.stderr


def test_promote_creates_a_node_in_the_tree(run: CLI) -> None:
    agenda = run.ok("add", "agenda", "Oversight", "--why", "Humans must stay in control.").strip()
    steer = run.ok("idea", "Refusal steering stops jailbreaks.", "--value",
                   "A cheap runtime defence").strip()
    promoted = as_json(run, "promote", steer, "--under", agenda)
    assert promoted["state"] == "active"
    node = promoted["node"]
    assert (node["kind"], node["title"], node["why"], node["status"]) == (
        "project", "Refusal steering stops jailbreaks.", "A cheap runtime defence", "active")
    assert promoted["node_id"] == node["id"]
    assert as_json(run, "ideas")[0]["waiting_on"] == f"work in the tree: {node['short']}"
    assert [c["title"] for c in as_json(run, "tree")[0]["children"]] == [
        "Refusal steering stops jailbreaks."]
    question = run.ok("idea", "Is the refusal direction the same across layers?").strip()
    asked = as_json(run, "promote", question, "--as", "question", "--under", node["short"])
    assert asked["node"]["kind"] == "question" and asked["node"]["parent_id"] == node["id"]
    run.ok("park", steer, "--reason", "Other work first.")
    again = as_json(run, "promote", steer)  # the same node again, not a second one
    assert again["node"]["id"] == node["id"]
    assert len(as_json(run, "tree")[0]["children"]) == 1
    done = as_json(run, "done", steer, "--reason", "Written up.")
    assert done["state"] == "done" and done["waiting_on"] == "nothing: done"


@pytest.mark.parametrize("args, message", [
    (["prune", "{idea}"], "pruning needs a reason"),
    (["prune", "{idea}", "--reason", "   "], "pruning needs a reason"),
    (["prune", "{idea}", "--reason", "No.", "--evidence", "zzzz"], "no evidence entry"),
    (["prune", "{note}", "--reason", "No."], "is not an idea"),
    (["derisk", "zzzz"], "no idea"),
    (["park", "{parked}"], "already parked"),
    (["triage", "{idea}", "--score", "7"], "score must be a whole number from 1 to 5"),
    (["triage", "{idea}", "--score", "2.5"], "score must be a whole number from 1 to 5"),
    (["triage", "{idea}", "--cost", "-1"], "cost must be zero or more hours"),
    (["triage", "{idea}", "--cost", "nan"], "cost must be zero or more hours"),
    (["triage", "{idea}", "--cost", "soon"], "cost must be a number of hours"),
    (["triage", "{idea}"], "nothing to triage"),
    (["idea", "   "], "the idea is empty"),
    (["idea", "Cheap?", "--score", "0"], "score must be a whole number from 1 to 5"),
    (["promote", "{idea}", "--as", "question", "--under", "zzzz"], "no node"),
    (["promote", "{idea}", "--under", "{agenda}", "--link", "{agenda}"], "not both"),
    (["promote", "{idea}", "--as", "question", "--under", "{agenda}"], "cannot sit under an agenda"),
])
def test_bad_idea_input_is_one_line_and_changes_nothing(run: CLI, home: Path, db_url: str | None,
                                                        args: list[str], message: str) -> None:
    made = {"idea": run.ok("idea", "Probe for deception.").strip(),
            "parked": run.ok("idea", "Parked idea.").strip(),
            "note": run.ok("note", "Just a note.").strip(),
            "agenda": run.ok("add", "agenda", "Oversight").strip()}
    run.ok("park", made["parked"])
    assert_refused_unchanged(run, [a.format(**made) for a in args], message)


def test_ideas_survive_export_and_import(run: CLI, tmp_path: Path, engine: str,
                                         make_pg_url: Any) -> None:
    agenda = run.ok("add", "agenda", "Oversight").strip()
    kept = run.ok("idea", "Refusal steering.", "--cost", "1.5", "--score", "4").strip()
    dropped = run.ok("idea", "Probe for deception.", "--test", "Probe 200 answers").strip()
    run.ok("prune", dropped, "--reason", "Tracks topic.")
    run.ok("promote", kept, "--under", agenda)
    run.ok("export", "--out", str(tmp_path / "log.json"))
    exported = json.loads((tmp_path / "log.json").read_text())["tables"]
    assert len(exported["ideas"]) == 2 and len(exported["idea_events"]) == 4
    target = round_trip(run, tmp_path, engine, make_pg_url)
    for state in ("active", "pruned"):
        assert as_json(target, "ideas", "--state", state) == as_json(run, "ideas", "--state", state)
    assert [h["short"] for h in as_json(target, "search", "deception")["results"]] == [dropped]


def test_the_library_api(workspace: Workspace) -> None:
    entry = ideas.capture_idea(workspace, "Refusal steering stops jailbreaks.", cost_hours=2,
                               value_score=4, cheapest_test="50 jailbreaks")
    assert entry.kind == "idea"
    found = ideas.list_ideas(workspace)
    assert [i.entry_id for i in found] == [entry.id] and found[0].value_per_cost == 2.0
    idea, node = ideas.promote(workspace, entry.short)
    assert idea.node_id == node.id and node.kind == "project"


# -- "have I tried this before?" -------------------------------------------------------

def _pairs(kind: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in json.loads(FIXTURE.read_text(encoding="utf-8"))[kind]]


def test_close_ideas_catch_rewordings_and_few_unrelated() -> None:
    """Measured on tests/fixtures/idea_pairs.json: 15/20 rewordings caught, 3/20 false alarms.

    A miss means redoing work already judged not worth it; a false alarm costs
    reading one line. So the bar is at least 70% of rewordings caught, with at most
    15% of unrelated pairs flagged. Half the unrelated pairs share the field's
    jargon (two probe ideas, two path-patching ideas); five rewordings share almost
    no words (a "lie detector" for "probes for deception"): word overlap cannot
    catch those, and the figures say so rather than hide it.
    """
    reworded, unrelated = _pairs("reworded"), _pairs("unrelated")
    assert len(reworded) == len(unrelated) == 20
    caught = sum(closeness(a, b).close for a, b in reworded) / len(reworded)
    false_alarms = sum(closeness(a, b).close for a, b in unrelated) / len(unrelated)
    assert caught >= 0.70, caught
    assert false_alarms <= 0.15, false_alarms
    assert (caught, false_alarms) == (0.75, 0.15)  # the figures the README states
    # Rewording in either direction gives the same answer.
    assert all(closeness(a, b) == closeness(b, a) for a, b in reworded + unrelated)
