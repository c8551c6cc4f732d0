"""Takes (issue 19) through the CLI, on both engines: a claim heard, who said it and where, how sure the
person is and how that moved (each update kept with its reason), cruxes, what would change their mind,
related nodes and a revisit day; `upstack takes` shows how views moved, which rest on one source only and
the revisit queue, and `upstack due` lists a revisit that has come. A take is private unless shared;
bad input is one line and keeps nothing; a JSON export round-trips them; a purge takes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged, round_trip
from upstack.domain import access
from upstack.errors import Forbidden, NotFound
from upstack.services import accounts, due, takes, tree
from upstack.timeutil import simulated_clock, today_local
from upstack.workspace import Workspace


def _project(run: CLI) -> str:
    return run.ok("add", "project", "Probe deception", "--why", "find the features that lie").strip().split()[-1]


def _later(days: int) -> Any:
    """The clock ``days`` from now: a revisit day that has come."""
    return simulated_clock(datetime.now(UTC) + timedelta(days=days))


def test_a_take_keeps_who_said_it_and_how_the_view_moved(run: CLI) -> None:
    project = _project(run)
    made = run.ok("take", "add", "SAEs find the model's real features", "--from", "Ada", "--where",
                  "reading group talk", "-c", "60%", "--why", "the demos were striking", "--crux",
                  "do features split with size?", "--would-change", "features that split at every size",
                  "--on", project, "--revisit", "in 3 months").strip()
    run.ok("take", "update", made, "-c", "0.35", "--why", "the features split with dictionary size")
    run.ok("take", "update", made, "--would-change", "a stable split across seeds", "--crux", "what is a feature?",
           "--why", "read the follow-up")
    shown = json.loads(run.ok("take", "show", made, "--json"))
    assert [(c["confidence"], c["reason"]) for c in shown["confidences"]] == [
        (0.6, "the demos were striking"), (0.35, "the features split with dictionary size")]
    assert (shown["first"], shown["now"], shown["private"]) == (0.6, 0.35, True)
    assert shown["sources"][0] | {"at": ""} == {"source": "Ada", "where": "reading group talk", "at": ""}
    assert shown["cruxes"] == ["do features split with size?", "what is a feature?"]
    assert shown["would_change"] == "a stable split across seeds"
    assert [e["text"] for e in shown["history"] if e["kind"] == "would_change"] == [
        "features that split at every size", "a stable split across seeds"]  # the first wording is kept
    assert [n["short"] for n in shown["nodes"]] == [project] and shown["node_id"] is not None
    assert shown["revisit_by"] >= (today_local() + timedelta(days=85)).isoformat()
    assert "60% → 35%" in run.ok("takes") and "60% → 35%" in run.ok("take", "list")
    assert "rests on one source only" in run.ok("take", "show", made)


def test_takes_shows_one_source_and_the_revisit_queue(run: CLI) -> None:
    lonely = run.ok("take", "add", "Evals are saturated", "--from", "Bob", "-c", "0.7", "--revisit",
                    "in 2 weeks").strip()
    backed = run.ok("take", "add", "Probes generalise", "--from", "Cat", "-c", "0.5", "--revisit",
                    "in 2 days").strip()
    run.ok("take", "update", backed, "--source", "a 2025 paper", "--where", "https://example.org/paper",
           "--why", "a second, independent result")
    run.ok("take", "update", lonely, "--source", " bob ", "--why", "Bob said it again")  # still Bob's word
    run.ok("take", "add", "No revisit", "--from", "Dee", "-c", "0.4")
    overview = json.loads(run.ok("takes", "--json"))
    assert overview["one_source"] == [lonely, overview["takes"][2]["short"]]
    assert [r["short"] for r in overview["revisit"]] == [backed, lonely]  # soonest first
    assert overview["moved"] == []
    text = run.ok("takes")
    assert "2 rest on one source only" in text and "To revisit:" in text


def test_a_revisit_comes_due_and_clears_when_updated_or_revisited(run: CLI) -> None:
    first = run.ok("take", "add", "Scaling fixes it", "--from", "Eve", "-c", "0.3", "--revisit", "in 30 days").strip()
    second = run.ok("take", "add", "RLHF hides it", "--from", "Fay", "-c", "0.6", "--revisit", "in 30 days").strip()
    assert json.loads(run.ok("due", "--json")) == []  # not yet (due looks 14 days ahead)
    with _later(31):
        found = json.loads(run.ok("due", "--json"))
        assert {(i["kind"], i["ref"], i["about"]) for i in found} == {("revisit", first, "take"),
                                                                      ("revisit", second, "take")}
        assert "still convinced? Scaling fixes it" in run.ok("due", "--kind", "revisit")
        assert f"[{first}]  30%, from Eve" in run.ok("due", "--kind", "revisit")  # never moved: one figure
        run.ok("take", "update", first, "-c", "0.2", "--why", "the last run did not")  # the revisit is done
        run.ok("take", "revisited", second, "--next", "in 60 days")
        assert json.loads(run.ok("due", "--json")) == []
        assert json.loads(run.ok("take", "show", second, "--json"))["revisit_by"] == \
            (date.fromisoformat(today_local().isoformat()) + timedelta(days=60)).isoformat()
        assert json.loads(run.ok("take", "show", first, "--json"))["revisit_by"] is None
        [revisit] = [e for e in json.loads(run.ok("take", "show", second, "--json"))["history"]
                     if e["kind"] == "revisit"]
        assert revisit["text"] == "revisited"
        run.ok("take", "revisited", second, "--why", "no replication yet")
        assert run.ok("take", "show", second).splitlines()[-2:] == [  # each look again shows, and why
            line for line in run.ok("take", "show", second).splitlines() if "looked again" in line]
        assert run.ok("take", "show", second).splitlines()[-1].endswith("looked again  no replication yet")


@pytest.mark.parametrize("args, said", [
    (["take", "add", "Claim", "--from", "Ada", "-c", "0"], "from 1% to 99%"),
    (["take", "add", "Claim", "--from", "Ada", "-c", "150%"], "from 1% to 99%"),
    (["take", "add", "Claim", "--from", "Ada", "-c", "sure"], "is not a probability"),
    (["take", "add", "", "--from", "Ada", "-c", "0.5"], "claim is empty"),
    (["take", "add", "Claim", "--from", " ", "-c", "0.5"], "who said it is empty"),
    (["take", "add", "Claim", "--from", "Ada", "-c", "0.5", "--revisit", "yesterday"], "is not to come"),
    (["take", "add", "Claim", "--from", "Ada", "-c", "0.5", "--revisit", "whenever"], "revisit day"),
    (["take", "add", "Claim", "--from", "Ada", "-c", "0.5", "--on", "nothing-here"], "nothing-here"),
    (["take", "add", "Claim", "--from", "Ada", "-c", "0.5", "--crux", ""], "a crux is empty"),
    (["take", "update", "zzzzzzzz", "-c", "0.5", "--why", "because"], "no take with id"),
    (["take", "show", "zzzzzzzz"], "no take with id"),
    (["note", "--kind", "take", "A take without a source"], "make one with `upstack take add"),
])
def test_bad_input_is_one_line_and_keeps_nothing(run: CLI, args: list[str], said: str) -> None:
    assert_refused_unchanged(run, args, said)


def test_an_update_needs_a_reason_and_a_change(run: CLI) -> None:
    made = run.ok("take", "add", "Claim", "--from", "Ada", "-c", "0.5").strip()
    assert_refused_unchanged(run, ["take", "update", made, "-c", "0.4", "--why", " "], "say why with --why")
    assert_refused_unchanged(run, ["take", "update", made, "--why", "hm"], "nothing to update")
    assert_refused_unchanged(run, ["take", "update", made, "-c", "1.5", "--why", "hm"], "from 1% to 99%")
    assert_refused_unchanged(run, ["take", "update", made, "--where", "a blog", "--why", "hm"], "give --source too")
    assert_refused_unchanged(run, ["take", "revisited", made], "no revisit day to clear")
    note = run.ok("note", "Just a note.").strip()
    run.ok("log")  # the note taken in
    assert_refused_unchanged(run, ["take", "update", note, "-c", "0.4", "--why", "hm"], "is not a take")
    assert_refused_unchanged(run, ["edit", made, "--kind", "note", "--text", "Claim"], "a take is made with")


def test_takes_round_trip_through_a_json_export(run: CLI, tmp_path: Path, engine: str, make_pg_url: Any) -> None:
    made = run.ok("take", "add", "Claim", "--from", "Ada", "-c", "0.3", "--crux", "a crux", "--revisit",
                  "in 5 days").strip()
    run.ok("take", "update", made, "-c", "0.6", "--source", "Bob", "--why", "Bob's replication")
    run.ok("take", "add", "Shared claim", "--from", "Cat", "-c", "0.8", "--shared")
    copy = round_trip(run, tmp_path, engine, make_pg_url)  # every table as it was, the takes' too
    assert copy.ok("takes", "--json") == run.ok("takes", "--json")
    assert json.loads(copy.ok("take", "show", made, "--json"))["now"] == 0.6


def test_a_purged_take_keeps_nothing_of_what_was_said(run: CLI) -> None:
    made = run.ok("take", "add", "QUSECRET claim", "--from", "QUSECRET person", "-c", "0.3", "--crux",
                  "QUSECRET crux").strip()
    run.ok("take", "update", made, "-c", "0.4", "--why", "QUSECRET reason", "--source", "QUSECRET other")
    run.ok("purge", made, "--yes")
    assert json.loads(run.ok("take", "list", "--json")) == []
    assert "QUSECRET" not in run.ok("export")


# -- whose takes: a workspace with members -----------------------------------------------------

@pytest.fixture
def team(tmp_path: Path, db_url: str | None) -> Iterator[tuple[Workspace, str, accounts.User, accounts.User]]:
    ws = Workspace(home=tmp_path / "server", db=db_url)
    ada, _ = accounts.add_user(ws, "ada")
    bob, _ = accounts.add_user(ws, "bob")
    with access.acting_as(access.OWNER):
        project = tree.add_node(ws, "project", "Probing", why="Shared.")
    accounts.share(ws, project.id, "ada", "editor", by=None)
    accounts.share(ws, project.id, "bob", "editor", by=None)
    yield ws, project.id, ada, bob
    ws.close()


def test_a_take_is_private_unless_shared(team: tuple[Workspace, str, accounts.User, accounts.User]) -> None:
    ws, project, ada, bob = team
    with access.acting_as(accounts.audience_for(ws, ada)):
        private = takes.make(ws, "QUADA private view", 0.7, source="a podcast", on=[project], revisit="in 2 days")
        shared = takes.make(ws, "QUADA shared view", 0.4, source="a paper", on=[project], shared=True,
                            revisit="in 2 days")
    with access.acting_as(accounts.audience_for(ws, bob)):
        assert [t.entry.title for t in takes.listing(ws)] == ["QUADA shared view"]
        with pytest.raises(NotFound, match="no take"):
            takes.get(ws, private.id)
        with pytest.raises(Forbidden, match="someone else's"):
            takes.update(ws, shared.id, 0.9, reason="I say so")
        assert takes.revisit_queue(ws) == []
        with _later(3):
            assert [d for d in due.due(ws) if d.about == "take"] == []
    with access.acting_as(accounts.audience_for(ws, ada)):
        assert [t.entry.title for t in takes.listing(ws)] == ["QUADA private view", "QUADA shared view"]
        assert takes.get(ws, shared.id).now == 0.4  # bob's attempt changed nothing
        with _later(3):
            assert len([d for d in due.due(ws) if d.about == "take"]) == 2
