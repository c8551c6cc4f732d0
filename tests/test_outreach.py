"""Contacts and outreach: the cold email drafted from matched work (services/outreach.py), the two
levels of private for contacts, and the `upstack contact` and `upstack outreach` commands."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import CLI, assert_refused_unchanged
from test_log_core import EDITOR_SCRIPT, run_in_terminal, terminal_env
from test_matching import NEVER, build
from upstack.errors import BadInput
from upstack.services import capture, contacts, matching, outreach, portfolio, recall
from upstack.services.remote import REMOTE_FILE
from upstack.store import path as store_path
from upstack.timeutil import today_local
from upstack.workspace import Workspace

TOP_RESULT = "Sparse autoencoders on layer 8 show feature splitting as the dictionary grows"


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def _in_days(days: int) -> str:
    return (today_local() + timedelta(days=days)).isoformat()


# -- the draft ---------------------------------------------------------------------------------------

def test_a_draft_is_made_of_the_matched_work_and_never_of_a_private_entry(workspace: Workspace) -> None:
    log = build(workspace)
    portfolio.set_profile(workspace, name="Ada Lovelace")
    # The private entry matches Chris's interests better than anything else in the log.
    query = matching.interests(workspace, *["Sparse autoencoders, dictionary learning and feature splitting.",
                                            ["sae"]]).query
    best = recall.search(workspace, query, limit=1).hits[0].entry
    assert best.private and "PRIVATEMARK" in best.title
    made = outreach.draft(workspace, "chris")
    text = made.text
    assert text.startswith(f"Subject: {TOP_RESULT}\n\nHi Chris,\n")
    assert TOP_RESULT in made.body  # what was done: the top result's title
    assert "The result: The 16k name-mover feature splits into three features at 32k." in made.body
    # One specific question: the best-fitting open problem (an idea not yet tried).
    assert made.question is not None and made.question.kind == "idea"
    assert "Feature splitting across dictionary sizes in sparse autoencoders" in made.body
    assert made.body.endswith("Best,\nAda Lovelace")
    assert "PRIVATEMARK" not in text and "#sae" not in text and "Check-in" not in text
    assert made.link == "" and "details are here" not in made.body  # nothing public, no server
    assert log.ids[" ".join(NEVER[0][1].split()[:4])] not in json.dumps(made.to_dict())


def test_the_link_is_public_first_then_the_servers(workspace: Workspace) -> None:
    build(workspace)
    top = matching.for_contact(workspace, "paul").work
    result = next(m for m in top if m.kind == "result")
    assert outreach.draft(workspace, "paul").link == ""
    # Linked to a team server: the entry's permalink there.
    (workspace.home / REMOTE_FILE).write_text(json.dumps({"url": "https://lab.example.org/", "token": "t",
                                                          "login": "ada"}))
    assert outreach.draft(workspace, "paul").link == f"https://lab.example.org/e/{result.id}"
    # A portfolio accomplishment citing the work: its address, which a stranger can open.
    portfolio.add_item(workspace, "result", "Debate for long texts", url="https://ada.example.org/debate",
                       sources=[result.id])
    made = outreach.draft(workspace, "paul")
    assert made.link == "https://ada.example.org/debate"
    assert "The details are here: https://ada.example.org/debate" in made.body


def test_a_public_repository_named_by_the_work_is_its_link(workspace: Workspace) -> None:
    capture.note(workspace, "Probing for sandbagging works on small models. Code: https://github.com/ada/sandbag.",
                 kind="result")
    contacts.add(workspace, "Apollo Research", kind="organisation", interests="sandbagging probes")
    made = outreach.draft(workspace, "apollo")
    assert made.link == "https://github.com/ada/sandbag"
    assert made.body.startswith("Hello Apollo Research team,")
    assert made.question is None and "[your name" in made.body  # no open problem fits; no profile name


def test_no_draft_without_matched_work(workspace: Workspace) -> None:
    contacts.add(workspace, "Neel Nanda", interests="grokking and modular addition")
    capture.note(workspace, "Cluster maintenance on Saturday.")
    with pytest.raises(BadInput, match="nothing of yours matches Neel Nanda's interests"):
        outreach.draft(workspace, "neel")


# -- the two levels -------------------------------------------------------------------------------------

def _ids(ws: Workspace, slug: str) -> list[str]:
    return [e.id for e in store_path.events(ws.store().db, contacts.CONTACT_OPS) if e.subject == slug]


def test_a_local_only_contact_never_leaves_this_machine(workspace: Workspace) -> None:
    capture.note(workspace, "Sandbagging probes on small models.", kind="result")
    local = contacts.add(workspace, "Local Person", local_only=True, interests="sandbagging")
    shared = contacts.add(workspace, "Private Person", interests="sandbagging")
    for slug in (local.slug, shared.slug):
        outreach.save_draft(workspace, slug, outreach.draft(workspace, slug).text)
        outreach.sent(workspace, slug)
        outreach.reply(workspace, slug, "Thanks!")
        contacts.edit(workspace, slug, notes="Met at EAG.")
    db = workspace.store().db
    events = [e for e in store_path.events(db, contacts.CONTACT_OPS) if e.subject == local.slug]
    assert len(events) == 5 and all(e.data.get("local_only") is True for e in events)
    own = set(store_path.own_ids(db))
    assert not own & set(_ids(workspace, local.slug))  # sync never lists them, so never carries them
    assert set(_ids(workspace, shared.slug)) <= own and len(_ids(workspace, shared.slug)) == 5
    assert store_path.records(db, _ids(workspace, local.slug)) == []
    assert contacts.find(workspace, local.slug).local_only and not contacts.find(workspace, shared.slug).local_only


def test_the_setting_makes_local_only_the_default(home: Path, db_url: str | None) -> None:
    with Workspace(home=home, db=db_url, contacts_local_only=True) as ws:
        assert contacts.add(ws, "By Default").local_only
        assert not contacts.add(ws, "Said Otherwise", local_only=False).local_only


# -- the commands --------------------------------------------------------------------------------------

def _setup(run: CLI) -> None:
    with Workspace(home=run.home, db=run.db_url) as ws:
        build(ws)
        portfolio.set_profile(ws, name="Ada Lovelace")


def test_contact_commands(run: CLI) -> None:
    _setup(run)
    assert run.ok("contact", "add", "Neel Nanda", "--org", "Google DeepMind", "--interests", "sparse autoencoders",
                  "--tag", "sae", "--tag", "#Interp", "--link", "https://neelnanda.io", "--how", "MATS talk",
                  "--notes", "Prefers short emails.", "--local-only").strip() == "neel-nanda"
    listed = as_json(run, "contact")
    assert [c["slug"] for c in listed] == ["beth-barnes", "chris-olah", "neel-nanda", "paul-christiano"]
    assert as_json(run, "contact", "list") == listed
    neel = next(c for c in listed if c["slug"] == "neel-nanda")
    assert (neel["organisation"], neel["tags"], neel["links"], neel["how_known"], neel["local_only"]) == (
        "Google DeepMind", ["sae", "interp"], ["https://neelnanda.io"], "MATS talk", True)
    assert "local-only" in run.ok("contact", "list")
    shown = as_json(run, "contact", "show", "neel")
    assert shown["matched"]["work"][0]["title"].startswith("Dead latents in sparse autoencoders")
    text = run.ok("contact", "show", "neel")
    assert "Your work that fits:" in text and "0 exchanges:" in text
    edited = as_json(run, "contact", "edit", "neel", "--tag", "sae-features", "--follow-up", "2099-01-01")
    assert edited["tags"] == ["sae-features"] and edited["follow_up"] == "2099-01-01"
    assert "removed neel-nanda" in run.ok("contact", "rm", "neel")
    assert "neel-nanda" not in run.ok("contact", "list")
    assert "neel-nanda" in run.ok("contact", "list", "--removed")
    assert "neel-nanda" in run.ok("contact", "restore", "neel")
    matched = as_json(run, "contact", "match", "chris", "--limit", "2")
    assert [m["title"][:30] for m in matched["work"]] == [TOP_RESULT[:30], "Dead latents in sparse autoenco"[:30]]
    assert len(matched["problems"]) == 2 and "#sae" in matched["query"]
    assert "Open problems that fit" in run.ok("contact", "match", "chris")


def test_help_names_the_two_levels(run: CLI) -> None:
    for args in (["contact", "add", "--help"], ["contact", "--help"]):
        text = " ".join(run.ok(*args).split())
        assert "private" in text and "only you see it" in text
        assert "local-only" in text and "never leave this machine" in text
    top = run.ok("--help")
    section = top[top.index("Opportunities:"):]
    section = section[:section.index("\n\n")]
    assert "contact " in section and "outreach " in section


def test_outreach_flow(run: CLI, tmp_path: Path) -> None:
    _setup(run)
    drafted = run("outreach", "draft", "chris")  # no terminal: kept as assembled, and printed
    assert drafted.exit_code == 0, drafted.output
    assert drafted.stdout.startswith(f"Subject: {TOP_RESULT}\n\nHi Chris,")
    assert "outreach sent chris-olah" in drafted.stderr
    history = as_json(run, "contact", "show", "chris")["history"]
    assert [(x["kind"], x["title"]) for x in history] == [("draft", TOP_RESULT)]
    assert "Ada Lovelace" in history[0]["text"]
    assert f"follow up on {_in_days(7)}" in run.ok("outreach", "sent", "chris")  # the newest draft, by default
    chris = as_json(run, "contact", "show", "chris")
    assert chris["follow_up"] == _in_days(7) and chris["history"][-1]["text"] == history[0]["text"]
    assert any(d["ref"] == "chris-olah" and d["kind"] == "follow-up" for d in as_json(run, "due"))
    assert "no follow-up due" in run.ok("outreach", "reply", "chris", "--text", "Happy to talk on Friday.")
    assert as_json(run, "contact", "show", "chris")["follow_up"] == ""
    assert not any(d["ref"] == "chris-olah" for d in as_json(run, "due"))
    email = tmp_path / "email.txt"
    email.write_text("Dear Beth,\n\nA question on sandbagging.\n", encoding="utf-8")
    run.ok("outreach", "sent", "beth", "--file", str(email), "--subject", "Sandbagging", "--follow-up",
           "in 10 days")
    beth = as_json(run, "contact", "show", "beth")
    assert beth["follow_up"] == _in_days(10)
    assert (beth["history"][-1]["title"], beth["history"][-1]["text"]) == ("Sandbagging",
                                                                           "Dear Beth,\n\nA question on sandbagging.")
    assert "call with Paul Christiano" in run.ok("outreach", "log", "paul", "call", "--text", "Talked debate.",
                                                 "--at", "yesterday")
    listed = as_json(run, "outreach", "list")
    assert [(x["contact"], x["kind"]) for x in listed["recent"]][:2] == [("beth-barnes", "sent"),
                                                                         ("chris-olah", "reply")]
    assert listed["recent"][-1]["kind"] == "call"  # yesterday's: the oldest
    assert [f["contact"] for f in listed["follow_ups"]] == []  # Beth's is in 10 days
    assert [f["contact"] for f in as_json(run, "outreach", "list", "--days", "10")["follow_ups"]] == ["beth-barnes"]
    assert "Recent exchanges:" in run.ok("outreach", "list")


def test_outreach_draft_opens_the_editor(engine: str, db_url: str | None, home: Path, tmp_path: Path) -> None:
    _setup(CLI(home, db_url))
    script, saw = tmp_path / "editor.py", tmp_path / "saw.md"
    script.write_text(EDITOR_SCRIPT)
    env = terminal_env(home, db_url, EDITOR=f"{sys.executable} {script}", EDITOR_SAW=str(saw),
                       EDITOR_TEXT="Subject: Feature splitting\n\nHi Chris,\n\nMy own words.\n\nAda")
    done = run_in_terminal(["outreach", "draft", "chris"], env)
    assert done.returncode == 0, done.stderr
    shown = saw.read_text()
    assert shown.startswith(f"Subject: {TOP_RESULT}\n") and "PRIVATEMARK" not in shown
    [kept] = as_json(CLI(home, db_url), "contact", "show", "chris")["history"]
    assert (kept["kind"], kept["title"]) == ("draft", "Feature splitting")
    assert kept["text"] == "Hi Chris,\n\nMy own words.\n\nAda"
    # An editor closed without saving keeps nothing.
    done = run_in_terminal(["outreach", "draft", "chris"], terminal_env(home, db_url, EDITOR="true"))
    assert done.returncode == 0 and "Nothing saved." in done.stdout
    assert len(as_json(CLI(home, db_url), "contact", "show", "chris")["history"]) == 1


@pytest.mark.parametrize("args", [
    ["contact", "show", "nobody"], ["contact", "match", "nobody"], ["contact", "edit", "nobody", "--notes", "x"],
    ["contact", "rm", "nobody"], ["contact", "restore", "nobody"], ["outreach", "draft", "nobody"],
    ["outreach", "sent", "nobody", "--text", "Hello"], ["outreach", "reply", "nobody", "--text", "Hi"],
    ["outreach", "log", "nobody", "call"]])
def test_an_unknown_contact_is_one_line_and_changes_nothing(run: CLI, args: list[str]) -> None:
    run.ok("contact", "add", "Chris Olah", "--interests", "sparse autoencoders")
    assert_refused_unchanged(run, args, "no contact 'nobody'")


def test_bad_input_changes_nothing(run: CLI, tmp_path: Path) -> None:
    run.ok("contact", "add", "Chris Olah", "--interests", "sparse autoencoders")
    assert_refused_unchanged(run, ["outreach", "sent", "chris"], "no draft to Chris Olah is kept")
    assert_refused_unchanged(run, ["outreach", "sent", "chris", "--text", "a", "--file", "b"], "not both")
    assert_refused_unchanged(run, ["outreach", "sent", "chris", "--file", str(tmp_path / "none.txt")],
                             "cannot read")
    assert_refused_unchanged(run, ["outreach", "reply", "chris"], "the reply is empty")
    assert_refused_unchanged(run, ["outreach", "sent", "chris", "--text", "Hi", "--follow-up", "blorp"],
                             "cannot understand the follow-up date")
    assert_refused_unchanged(run, ["contact", "add", "Chris Olah"], "there is a contact 'chris-olah' already")
    assert_refused_unchanged(run, ["contact", "add", "Ann", "--link", "not a url"], "is not a web address")
    assert_refused_unchanged(run, ["outreach", "draft", "chris"], "nothing of yours matches")
    assert_refused_unchanged(run, ["contact", "match", "chris", "--limit", "0"], "--limit")
