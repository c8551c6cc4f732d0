"""The portfolio (services/portfolio.py, `upstack portfolio`): profile, accomplishments with their history,
proposals from the log, variants, and what may never go in; on both engines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged
from upstack.ids import new_id, short_id
from upstack.services import capture, linked, tree
from upstack.services import portfolio as folio
from upstack.store import path as store_path
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def _held(run: CLI) -> dict[str, Any]:
    return dict(json.loads(run.ok("portfolio", "--json")))


def test_profile_and_accomplishments_are_kept_with_their_history(run: CLI) -> None:
    run.ok("portfolio", "profile", "--name", "Ada Lovelace", "--headline", "Interpretability researcher",
           "--email", "ada@example.org", "--link", "GitHub=https://github.com/ada", "--link", "https://ada.dev")
    run.ok("portfolio", "profile", "--summary", "I find circuits in small models.")
    profile = _held(run)["profile"]
    assert profile == {"name": "Ada Lovelace", "headline": "Interpretability researcher", "email": "ada@example.org",
                       "links": [{"label": "GitHub", "url": "https://github.com/ada"},
                                 {"label": "Website", "url": "https://ada.dev"}],
                       "summary": "I find circuits in small models."}
    made = json.loads(run.ok("portfolio", "add", "repository", "Induction heads in a 2-layer model",
                             "--url", "https://github.com/ada/ih", "--date", "2026-05", "--json"))
    assert made["kind"] == "repository" and made["date"] == "2026-05" and made["sources"] == []
    run.ok("portfolio", "edit", made["short"], "--summary", "Found and ablated them.", "--date", "2026-06")
    run.ok("portfolio", "rm", made["short"])
    assert _held(run)["items"] == [] and _held(run)["removed"][0]["summary"] == "Found and ablated them."
    back = json.loads(run.ok("portfolio", "restore", made["short"], "--json"))
    assert (back["date"], back["removed"], back["changes"]) == ("2026-06", False, 4)
    text = run.ok("portfolio")
    assert "Ada Lovelace: Interpretability researcher" in text and "Induction heads" in text


def test_every_change_is_one_more_record(workspace: Workspace) -> None:
    item = folio.add_item(workspace, "talk", "Circuits in 10 minutes", date="2026-03")
    folio.edit_item(workspace, item.short, title="Circuits in ten minutes")
    folio.remove_item(workspace, item.short)
    folio.restore_item(workspace, item.short)
    rows = store_path.events(workspace.store().db, ["portfolio.item"])
    assert [e.subject for e in rows] == [item.id] * 4
    assert rows[0].data["title"] == "Circuits in 10 minutes"  # the first version is still there
    assert folio.load(workspace).items[0].title == "Circuits in ten minutes"


def test_an_accomplishment_links_the_entries_nodes_and_runs_behind_it(workspace: Workspace) -> None:
    project = tree.add_node(workspace, "project", "IOI replication", why="Learn circuits.")
    note = capture.note(workspace, "Write-up: the IOI circuit in GPT-2 small.", under=project.id)
    item = folio.add_item(workspace, "write-up", "The IOI circuit, replicated", sources=[note.short, project.short])
    assert item.sources == [{"kind": "entry", "id": note.id}, {"kind": "node", "id": project.id}]


@pytest.mark.parametrize("args, message", [
    (["add", "paper", "X"], "unknown accomplishment kind 'paper'"),
    (["add", "repository", "X", "--url", "ftp://x"], "is not a web address"),
    (["add", "repository", "X", "--url", "github.com/ada"], "is not a web address"),
    (["add", "talk", "X", "--date", "2999-01"], "has not happened yet"),
    (["add", "job", "X", "--date", "2026-05", "--end", "2025-01"], "is before"),
    (["add", "result", "X", "--from", "zzzzzzz"], "no entry, node or run"),
    (["profile", "--email", "not-an-address"], "is not an email address"),
    (["profile"], "nothing to change"),
    (["edit", "zzzz", "--title", "Y"], "no accomplishment"),
    (["accept", "zzzz"], "no open proposal"),
    (["variant", "MATS", "--items", "zzzz"], "no accomplishment"),
    (["export", "--format", "jsonresume", "--variant", "nope"], "no CV variant named"),
])
def test_bad_input_is_one_line_and_changes_nothing(run: CLI, args: list[str], message: str) -> None:
    run.ok("portfolio", "add", "talk", "Circuits", "--date", "2026-01")
    assert_refused_unchanged(run, ["portfolio", *args], message)


def test_proposals_come_from_done_projects_and_results_and_can_be_accepted_or_dismissed(workspace: Workspace) -> None:
    done = tree.add_node(workspace, "project", "Toy model of superposition", why="See it happen.")
    tree.set_status(workspace, done.id, "done")
    tree.add_node(workspace, "project", "Still going", why="Not done.")
    result = capture.note(workspace, "Features form a pentagon at 5/2 sparsity.", kind="result")
    capture.note(workspace, "Private result, not for a CV.", kind="result", private=True)
    found = {p.title: p for p in folio.proposals(workspace)}
    assert set(found) == {"Toy model of superposition", "Features form a pentagon at 5/2 sparsity."}
    accepted = folio.accept(workspace, found["Toy model of superposition"].short, url="https://ada.dev/tms")
    assert accepted.kind == "write-up" and accepted.sources == [{"kind": "node", "id": done.id}]
    dismissed = folio.dismiss(workspace, found[result.title].short)
    assert dismissed.removed and dismissed.dismissed
    assert folio.proposals(workspace) == []  # neither is proposed again
    folio.restore_item(workspace, dismissed.short)  # a dismissal is taken back like a removal
    assert [i.title for i in folio.load(workspace).items] == [result.title, accepted.title] or \
        {i.title for i in folio.load(workspace).items} == {result.title, accepted.title}


def test_ladder_evidence_is_proposed_as_the_work_it_links(run: CLI) -> None:
    """The ladder's evidence as it stands: a repository address, an entry (linked as its source, and
    proposed once though it is also a result), never a profile page, a private entry, nor evidence
    taken off the ladder."""
    assert json.loads(run.ok("portfolio", "proposals", "--json")) == []  # no ladder at all: nothing, no error
    result = run.ok("note", "--kind", "result", "Baseline logit diff on 750 prompts: 3.41.").strip()
    notes = run.ok("note", "Walkthrough notes on path patching.").strip()
    secret = run.ok("note", "--private", "Walkthrough, and how tired I was.").strip()
    gone = run.ok("note", "Linked by mistake.").strip()
    for evidence in (result, notes, secret, gone):
        run.ok("ladder", "evidence", "add", "paper-walkthrough", evidence)
    run.ok("ladder", "evidence", "rm", "paper-walkthrough", gone)
    run.ok("ladder", "evidence", "add", "write-up", "https://github.com/ada/sae")
    run.ok("ladder", "evidence", "add", "github-page", "https://github.com/ada")
    found = json.loads(run.ok("portfolio", "proposals", "--json"))
    assert sorted((p["kind"], p["title"], [short_id(s["id"]) for s in p["sources"] if s["kind"] != "url"])
                  for p in found) == sorted([("result", "Baseline logit diff on 750 prompts: 3.41.", [result]),
                                             ("write-up", "Walkthrough notes on path patching.", [notes]),
                                             ("repository", "https://github.com/ada/sae", [])])
    repository = next(p for p in found if p["kind"] == "repository")
    assert json.loads(run.ok("portfolio", "accept", repository["short"], "--json"))["url"] == "https://github.com/ada/sae"
    written = next(p for p in found if p["title"].startswith("Walkthrough notes"))
    accepted = json.loads(run.ok("portfolio", "accept", written["short"], "--json"))
    assert accepted["sources"] == written["sources"]
    assert [p["title"] for p in json.loads(run.ok("portfolio", "proposals", "--json"))] == [
        "Baseline logit diff on 750 prompts: 3.41."]


def test_a_private_entry_cannot_go_in(run: CLI) -> None:
    secret = run.ok("note", "--private", "Interview notes about my burnout.").strip()
    run.ok("log")  # taken in, so that the refusal is all that is compared
    assert_refused_unchanged(run, ["portfolio", "add", "result", "X", "--from", secret], "is private")


def test_others_work_on_a_linked_workspace_cannot_go_in(workspace: Workspace) -> None:
    workspace.store()  # the workspace's folder, made
    (workspace.home / "remote.json").write_text(json.dumps({"url": "https://team.example", "token": "t"}))
    linked.save_roles(workspace, "https://team.example", {"id": "ADA", "login": "ada"})
    now = now_iso()

    def entry(title: str, by: str | None) -> str:
        entry_id = new_id()
        workspace.store().write([workspace.record("entry.create", {
            "id": entry_id, "revision_id": new_id(), "kind": "result", "title": title, "body": "", "extra_tags": [],
            "private": False, "project": None, "node_id": None, "occurred_at": now, "created_at": now,
            "attachments": [], "meta": {}, **({"by": by} if by else {})})])
        return entry_id

    eves, adas = entry("Eve's result.", "EVE"), entry("Ada's result on the server.", "ADA")
    mine = entry("Written here.", None)
    with pytest.raises(Exception, match="someone else's work"):
        folio.add_item(workspace, "result", "Taken", sources=[eves])
    assert {p.sources[0]["id"] for p in folio.proposals(workspace)} == {adas, mine}


def test_variants_name_what_was_sent(run: CLI) -> None:
    a = json.loads(run.ok("portfolio", "add", "job", "Research engineer", "--org", "Lab", "--date", "2025-01",
                          "--json"))["short"]
    b = json.loads(run.ok("portfolio", "add", "repository", "SAE toolkit", "--json"))["short"]
    run.ok("portfolio", "variant", "MATS", "--items", f"{b},{a}", "--sent-with", "MATS 8.0 application")
    (variant,) = _held(run)["variants"]
    assert variant["sent_with"] == "MATS 8.0 application" and len(variant["items"]) == 2
    exported = json.loads(run.ok("portfolio", "export", "--format", "jsonresume", "--variant", "MATS"))
    assert exported["projects"][0]["name"] == "SAE toolkit" and exported["work"][0]["position"] == "Research engineer"
    assert_refused_unchanged(run, ["portfolio", "variant", "Again", "--items", f"{a},{a}"], "twice")


def test_counts_of_accomplishments_read_as_english(run: CLI) -> None:
    one = json.loads(run.ok("portfolio", "add", "repository", "SAE toolkit", "--json"))["short"]
    assert run.ok("portfolio", "variant", "Short", "--items", one).strip() == "variant Short: 1 accomplishment"
    assert "variant Short: 1 accomplishment\n" in run.ok("portfolio") + "\n"
    two = json.loads(run.ok("portfolio", "add", "talk", "IOI at the reading group", "--json"))["short"]
    said = run.ok("portfolio", "variant", "Both", "--items", f"{one},{two}")
    assert said.strip() == "variant Both: 2 accomplishments"
    from webserver import serve

    with serve(run.home, run.db_url) as server:
        page = server.client().get("/portfolio").text
    assert "Short: 1 accomplishment<" in page and "Both: 2 accomplishments<" in page


def test_the_portfolio_round_trips_through_the_json_export(run: CLI, tmp_path: Any, engine: str,
                                                          make_pg_url: Any) -> None:
    from conftest import round_trip

    run.ok("portfolio", "profile", "--name", "Ada")
    run.ok("portfolio", "add", "grant", "LTFF grant", "--org", "LTFF", "--date", "2026-02")
    copy = round_trip(run, tmp_path, engine, make_pg_url)
    assert _held(copy) == _held(run)


def test_another_persons_portfolio_is_not_the_readers(workspace: Workspace) -> None:
    workspace.store().write([workspace.record("portfolio.item", {
        "subject": new_id(), "at": now_iso(), "kind": "job", "title": "Eve's job", "by": "EVE"})])
    assert folio.load(workspace).items == []
