"""Collaboration at the terminal against a real team server (real HTTP, the server's store on both
engines, laptops on SQLite through the CLI): a mentor's comment reaches `upstack show`, a reply
reaches the server, stars are each person's and travel, a viewer is told at once what the server
will not take, refusals are named once with a way out (`sync --discard` / `--keep`), and a first
sync reports no conflict. Crafted pushes and pulls about comments and stars are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import CLI
from upstack.domain import access
from upstack.ids import new_id, short_id
from upstack.services import accounts, capture, comments, curate, recall, tree
from upstack.services.jsondump import dump_tables
from upstack.store import stars as store_stars
from upstack.timeutil import now_iso
from upstack.workspace import Workspace
from webserver import Server, serve


@dataclass
class Team:
    """ada owns the server's log (the first account) and project "Probing"; on it bob is a viewer,
    cara a commenter and dan an editor."""

    server: Server
    ws: Workspace
    project: str
    shared: str  # ada's note in the project (written with nobody signed in: hers)
    secret: str  # ada's private note in the project
    users: dict[str, accounts.User]

    def as_user(self, who: str) -> access.Audience:
        return accounts.audience_for(self.ws, self.users[who])

    def api(self, who: str) -> httpx.Client:
        token = accounts.create_token(self.ws, self.users[who].id, "laptop")[1]
        client = httpx.Client(base_url=self.server.url, timeout=60,
                              headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.server.clients.append(client)
        return client

    def laptop(self, tmp_path: Path, who: str) -> CLI:
        """``who``'s laptop, linked and synced once."""
        run = CLI(tmp_path / f"{who}-laptop", None)
        run.ok("login", self.server.url, "--token", accounts.create_token(self.ws, self.users[who].id, "cli")[1])
        run.ok("sync")
        return run


@pytest.fixture
def team(tmp_path: Path, db_url: str | None) -> Iterator[Team]:
    home = tmp_path / "server"
    ws = Workspace(home=home, db=db_url)
    users = {who: accounts.add_user(ws, who)[0] for who in ("ada", "bob", "cara", "dan")}
    project = tree.add_node(ws, "project", "Probing", why="Shared with the team.")
    shared = capture.note(ws, "Layer 6 probe is best.", under=project.id)
    secret = capture.note(ws, "QUSECRET worry about the deadline.", under=project.id, private=True)
    for who, role in (("bob", "viewer"), ("cara", "commenter"), ("dan", "editor")):
        accounts.share(ws, project.id, who, role, by=None)
    ws.ingest()
    with serve(home, db_url, token=None) as server:
        yield Team(server, ws, project.id, shared.id, secret.id, users)
    ws.close()


def as_json(run: CLI, *args: str) -> Any:
    return json.loads(run.ok(*args, "--json"))


def laptop_ws(run: CLI) -> Workspace:
    return Workspace(home=run.home)


def _comment(team: Team, who: str, entry: str, body: str) -> dict[str, Any]:
    with access.acting_as(team.as_user(who)):
        return comments.add(team.ws, entry, body, by=team.as_user(who))


# -- comments --------------------------------------------------------------------------------------

def test_a_mentors_comment_reaches_the_cli_and_the_reply_reaches_the_server(team: Team, tmp_path: Path) -> None:
    dan = team.laptop(tmp_path, "dan")
    mine = dan.ok("note", "--under", short_id(team.project), "Patching head 9.1 kills the effect.").strip()
    dan.ok("sync")
    full = as_json(dan, "show", mine)["id"]
    said = team.api("ada").post(f"/e/{full}/comments", data={"body": "Does it hold on GPT-2 medium?"})
    assert said.status_code == 200, said.text

    assert "pulled 1" in dan.ok("sync")
    shown = dan.ok("show", mine)
    assert "ada" in shown and "Does it hold on GPT-2 medium?" in shown
    assert [(c["login"], c["body"]) for c in as_json(dan, "show", mine)["comments"]] == [
        ("ada", "Does it hold on GPT-2 medium?")]

    with serve(dan.home, None) as local:  # the laptop's own web app shows it too
        page = local.client().get(f"/e/{mine}.json").json()
        assert [(c["login"], c["body"]) for c in page["comments"]] == [("ada", "Does it hold on GPT-2 medium?")]
        assert "Does it hold on GPT-2 medium?" in local.client().get(f"/e/{mine}").text

    dan.ok("comment", mine, "Yes: same drop, 0.31 to 0.02.")
    assert "pushed 1 record (0 files)," in dan.ok("sync")  # one record, not "1 records"
    with access.acting_as(team.as_user("ada")):
        on_server = comments.for_entry(team.ws, recall.show(team.ws, full))
        told = accounts.notifications(team.ws, team.users["ada"].id)
    assert [(c["login"], c["body"]) for c in on_server] == [("ada", "Does it hold on GPT-2 medium?"),
                                                            ("dan", "Yes: same drop, 0.31 to 0.02.")]
    assert [n["actor"] for n in told] == ["dan"]  # the mentor hears of the reply
    with laptop_ws(dan) as laptop:
        before = (dump_tables(laptop.store().db), dump_tables(team.ws.store().db))
    again = as_json(dan, "sync")
    assert (again["pushed"], again["pulled"], again["refused"], again["conflicts"]) == (0, 0, [], [])
    with laptop_ws(dan) as laptop:
        assert (dump_tables(laptop.store().db), dump_tables(team.ws.store().db)) == before


def test_comments_reach_only_who_may_read_their_entry(team: Team, tmp_path: Path) -> None:
    _comment(team, "ada", team.secret, "QUSECRET comment on the private worry.")
    spoken = _comment(team, "cara", team.shared, "Which layer was the baseline?")
    gone = capture.note(team.ws, "A note soon deleted.", under=team.project)
    _comment(team, "ada", gone.id, "QUGONE comment on a deleted note.")
    curate.remove(team.ws, gone.id)
    bob = team.laptop(tmp_path, "bob")  # a viewer reads comments on what he may read
    assert [c["body"] for c in as_json(bob, "show", short_id(team.shared))["comments"]] == [
        "Which layer was the baseline?"]
    with laptop_ws(bob) as laptop:
        kept = json.dumps(dump_tables(laptop.store().db))
    assert "QUSECRET" not in kept and "QUGONE" not in kept
    api = team.api("bob")
    manifest = api.get("/api/sync/manifest.json").json()
    assert sorted(manifest["comments"]) == [spoken["id"]]
    every = [r["id"] for r in team.ws.store().db.query("SELECT id FROM comments")]
    pulled = api.post("/api/sync/pull", json={"entries": [], "comments": every, "stars": [team.secret]}).json()
    assert [r["data"]["id"] for r in pulled["records"]] == [spoken["id"]]


def test_a_crafted_comment_push_is_refused_and_changes_nothing(team: Team) -> None:
    ada_said = _comment(team, "ada", team.shared, "Ada's own comment.")
    cara = team.api("cara")

    def comment(entry_id: str, **over: Any) -> dict[str, Any]:
        data = {"id": new_id(), "entry_id": entry_id, "body": "Planted.", "created_at": now_iso(), **over}
        return {"id": new_id(), "op": "comment.add", "workspace": "w", "at": now_iso(), "data": data}

    gone = capture.note(team.ws, "Deleted before the push.", under=team.project)
    curate.remove(team.ws, gone.id)
    crafted = {
        "another's comment id": comment(team.shared, id=ada_said["id"]),
        "a private entry of someone else": comment(team.secret),
        "a deleted entry": comment(gone.id),
        "an entry that is not there": comment(new_id()),
        "an empty body": comment(team.shared, body="   "),
        "a body that is not text": comment(team.shared, body=["x"]),
        "a NUL in the body": comment(team.shared, body="a\x00b"),
        "a huge body": comment(team.shared, body="x" * 20_001),
        "no entry": {**comment(team.shared), "data": {"id": new_id(), "body": "x", "created_at": now_iso()}},
        "a date that is no time": comment(team.shared, created_at="yesterday"),
    }
    team.ws.ingest()
    before = dump_tables(team.ws.store().db)
    answer = cara.post("/api/sync/push", json={"records": list(crafted.values())})
    assert answer.status_code == 200, answer.text
    reasons = {r["id"]: r["reason"] for r in answer.json()["refused"]}
    assert answer.json()["applied"] == 0 and len(reasons) == len(crafted), reasons
    named = {what: reasons[record["id"]] for what, record in crafted.items()}
    assert named["another's comment id"].startswith("that id is taken")
    # What she may not see answers as what is not there.
    assert named["a private entry of someone else"] == named["an entry that is not there"] == named["a deleted entry"]
    assert all("\n" not in r and len(r) < 300 for r in reasons.values())
    assert dump_tables(team.ws.store().db) == before
    hold = {"id": new_id(), "op": "sync.hold", "workspace": "w", "at": now_iso(), "data": {}}
    assert cara.post("/api/sync/push", json={"records": [hold]}).status_code == 400
    assert dump_tables(team.ws.store().db) == before


# -- stars -----------------------------------------------------------------------------------------

def _starred(team: Team, who: str) -> list[str]:
    with access.acting_as(team.as_user(who)):
        return [e.id for e in recall.timeline(team.ws, None, None) if e.starred]


def test_a_viewer_stars_and_nobody_else_sees_it_and_it_travels_both_ways(team: Team, tmp_path: Path) -> None:
    bob = team.laptop(tmp_path, "bob")
    bob.ok("star", short_id(team.shared))
    assert "pushed 1" in bob.ok("sync")
    assert _starred(team, "bob") == [team.shared]
    assert _starred(team, "ada") == _starred(team, "cara") == []  # not even the entry's author
    for who in ("ada", "cara"):  # nor by any page or count
        page = team.api(who).get(f"/e/{team.shared}.json").json()
        assert page["entry"]["starred"] is False, who
        assert all(not e["starred"] for e in team.api(who).get("/log.json").json()["entries"])
    with access.acting_as(access.NOBODY):
        assert store_stars.starred_among(team.ws.store().db, [team.shared]) == set()

    ada = team.api("ada")  # the owner stars it too, then bob takes his star off on the web
    assert ada.post(f"/e/{team.shared}/star").json() == {"id": team.shared, "starred": True}
    assert team.api("bob").post(f"/e/{team.shared}/unstar").json()["starred"] is False
    assert "pulled 1" in bob.ok("sync")
    assert as_json(bob, "log", "--starred") == []
    assert _starred(team, "ada") == [team.shared] and _starred(team, "bob") == []

    # A star pushed in someone else's name is the pusher's own.
    forged = {"id": new_id(), "op": "star.set", "workspace": "w", "at": now_iso(), "data": {
        "entry_id": team.shared, "starred": False, "at": now_iso(), "by": team.users["ada"].id}}
    assert team.api("cara").post("/api/sync/push", json={"records": [forged]}).json()["applied"] == 1
    assert _starred(team, "ada") == [team.shared]
    hidden = {**forged, "id": new_id(), "data": {"entry_id": team.secret, "starred": True, "at": now_iso()}}
    refused = team.api("bob").post("/api/sync/push", json={"records": [hidden]}).json()
    assert refused["applied"] == 0 and refused["refused"][0]["reason"] == "no such entry"


# -- the tree seen from a linked laptop ------------------------------------------------------------

def test_a_collaborators_laptop_asks_why_only_of_what_they_filed(team: Team, tmp_path: Path) -> None:
    """What was shared with bob may sit under an agenda he may not see: neither `why` nor `check` on
    his laptop asks him why it matters (nor calls it spinning wheels); his own loose note is still
    flagged. ada, who made the project (which reaches no agenda), is asked on hers."""
    bob = team.laptop(tmp_path, "bob")
    own = bob.ok("note", "Bob's own loose thought.").strip()
    shared = short_id(team.shared)
    assert "Probing" in bob.ok("why", shared) and "does not trace up to an agenda" not in bob.ok("why", shared)
    flags = as_json(bob, "check")["flags"]
    assert [(f["check"], [e["short"] for e in f["entries"]]) for f in flags] == [("orphan", [own])]
    ada = team.laptop(tmp_path, "ada")
    assert "does not trace up to an agenda" in ada.ok("why", shared)
    assert shared in ada.ok("check")


# -- writing where one may not ---------------------------------------------------------------------

def test_a_viewer_is_told_at_once_and_the_refusal_is_named_once_with_a_way_out(team: Team, tmp_path: Path) -> None:
    bob = team.laptop(tmp_path, "bob")
    shared = short_id(team.shared)
    edited = bob("edit", shared, "--text", "Layer 6 probe is best, says bob.")
    assert edited.exit_code == 0 and "will not take this change" in edited.stderr and "viewer" in edited.stderr
    filed = bob("note", "--under", short_id(team.project), "Bob's own idea about probes.")
    assert "will not take this note" in filed.stderr
    mine = filed.stdout.strip()
    asked = bob("comment", shared, "A viewer's question.")
    assert "will not take this comment" in asked.stderr
    assert "will not take" not in bob("note", "An unfiled note of his own.").stderr  # his alone: fine

    report = bob.ok("sync")
    refusals = [line for line in report.splitlines() if line.startswith("not taken by the server")]
    assert len(refusals) == 2, report  # the edit and the comment of one entry: one line for it
    assert any(f"{shared} “Layer 6 probe is best, says bob.”" in line and "an edit, a comment" in line
               for line in refusals), report
    assert any("Bob's own idea about probes." in line for line in refusals)
    assert f"upstack sync --discard {shared}" in report and "--keep" in report
    assert "(record" not in report and team.shared not in report  # short ids and titles, not record ids

    dropped = bob.ok("sync", "--discard", shared, "--keep", mine)
    assert "dropped here" in dropped and "kept on this workspace only" in dropped
    assert "not taken" not in dropped
    assert as_json(bob, "show", shared)["title"] == "Layer 6 probe is best."  # the server's text again
    assert as_json(bob, "show", shared)["comments"] == []
    assert "says bob" in bob.ok("history", shared)  # the dropped text stays in its history
    assert as_json(bob, "show", mine)["title"] == "Bob's own idea about probes."  # kept here
    quiet = bob.ok("sync")
    assert "not taken" not in quiet and "pushed 0" in quiet
    with access.acting_as(team.as_user("ada")):
        assert recall.show(team.ws, team.shared).title == "Layer 6 probe is best."
    assert "nothing was changed" in bob.ok("sync", "--discard", shared)
    assert "no entry or node" in bob("sync", "--discard", "zzzzzzz").stderr


def test_each_role_is_warned_of_what_it_may_not_do_and_only_that(team: Team, tmp_path: Path) -> None:
    cara, dan = team.laptop(tmp_path, "cara"), team.laptop(tmp_path, "dan")
    shared = short_id(team.shared)
    assert "will not take this change" in cara("edit", shared, "--text", "Cara's edit.").stderr
    assert "will not take" not in cara("comment", shared, "A commenter's question.").stderr
    assert "will not take" not in dan("edit", shared, "--text", "Dan's edit.").stderr
    question = dan.ok("add", "question", "Does it transfer?", "--under", short_id(team.project),
                      "--why", "If not, stop.").strip()
    assert "will not take" not in dan("note", "--under", question, "Filed under a node of his own.").stderr
    bobs = team.laptop(tmp_path, "bob")
    assert "will not take this note" in bobs("note", "--under", short_id(team.project), "x").stderr
    report = as_json(dan, "sync")
    assert report["refused"] == [] and report["conflicts"] == []


def test_a_first_sync_into_an_empty_workspace_reports_no_conflict(team: Team, tmp_path: Path) -> None:
    dan = team.laptop(tmp_path, "dan")
    shared = short_id(team.shared)
    dan.ok("edit", shared, "--text", "Layer 6 probe is best (dan).")
    with access.acting_as(team.as_user("ada")):
        curate.edit(team.ws, team.shared, "Layer 6 probe is best (ada).")
    assert "edited on both sides, both revisions kept: " + shared in dan.ok("sync")  # a real one, named
    fresh = CLI(tmp_path / "dan-new-laptop", None)
    fresh.ok("login", team.server.url, "--token", accounts.create_token(team.ws, team.users["dan"].id, "new")[1])
    first = as_json(fresh, "sync")
    assert first["conflicts"] == [] and first["pulled"] > 0
    with access.acting_as(team.as_user("dan")):
        on_server = recall.show(team.ws, team.shared).meta["conflicts"]
    assert as_json(fresh, "show", shared)["meta"]["conflicts"] == on_server  # said once, as on the server


def test_a_refused_change_of_a_node_is_dropped_and_stays_in_its_history(team: Team, tmp_path: Path) -> None:
    bob = team.laptop(tmp_path, "bob")
    project = short_id(team.project)
    bob.ok("node", "edit", project, "--title", "Bob's name for it", "--why", "Bob's why.")
    report = bob.ok("sync")
    assert f"{project} “Bob's name for it” (a rename)" in report and report.count("not taken by the server") == 1
    bob.ok("sync", "--discard", project)
    shown = as_json(bob, "node", "show", project)
    assert (shown["title"], shown["why"]) == ("Probing", "Shared with the team.")
    assert "Bob's name for it" in json.dumps(shown["history"])  # kept in its history
    again = bob.ok("sync")
    assert "not taken" not in again and "pushed 0" in again
