"""An attack on what issue 14 added to the team server and sync (the quick switcher, search as you type and
"did you mean", [[wikilinks]], figures, comments and stars as synced records, sync --discard/--keep), as
each kind of signed-in user and as a visitor, on both engines. Each finding became a test here; their
docstrings say what was wrong, their assertions show it closed. The team is tests/attack_common.py's:
ada owns the log and the project "Probing", bob views it, eve edits it, mal has no share at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from attack_common import Team, entry_create, node_create, rec
from conftest import CLI
from upstack.domain import access
from upstack.ids import id_key, new_id, short_id
from upstack.services import accounts, capture, comments, recall
from upstack.services.jsondump import dump_tables
from upstack.store.tree import node_rows
from upstack.timeutil import now_iso
from upstack.web.markdown import BROKEN
from upstack.workspace import Workspace
from webserver import serve


def _body(page: str) -> str:
    start = page.index('class="body markdown"')
    return page[start:page.index("</div>", start)]


def _links(client: httpx.Client, short: str) -> tuple[list[str], list[str]]:
    """(the entries a page's body links to, the broken links it shows) for an entry's page."""
    body = _body(client.get(f"/e/{short}", headers={"Accept": "text/html"}).text)
    return (re.findall(r'<a class="wikilink" href="/e/([0-9a-z]+)"', body),
            re.findall(r'<span class="wikilink broken" title="' + re.escape(BROKEN) + r'">([^<]*)</span>', body))


# -- [[wikilinks]] --------------------------------------------------------------------------------

def test_a_hidden_entry_of_the_same_title_does_not_break_a_link_to_a_visible_one(team: Team) -> None:
    """A link was resolved once, for the whole log, to the newest entry of its title: bob's
    ``[[Budget table]]`` pointed at ada's newer private "Budget table" and read as broken, where a
    log without ada's note links it to eve's, which bob may open. So a broken link told bob that a
    hidden entry of that title exists. A link now reads as the reader's own view resolves it."""
    ws = team.ws
    with access.acting_as(team.as_user(team.eve)):
        shared = capture.note(ws, "Budget table. The costs so far.", under=team.project)
    with access.acting_as(team.as_user(team.ada)):
        capture.note(ws, "Budget table. Ada's own numbers.", under=team.project, private=True)
    with access.acting_as(team.as_user(team.bob)):
        linking = capture.note(ws, "Reading list. See [[Budget table]].")
    ws.ingest()
    bob = team.api(team.bob)
    assert _links(bob, linking.short) == ([shared.short], [])
    assert "Ada's own" not in bob.get(f"/e/{linking.short}.json").text
    # ... and eve's entry lists bob's note among what links to it, for bob, as that log would.
    assert [b["id"] for b in bob.get(f"/e/{shared.short}.json").json()["entry"]["backlinks"]] == [linking.id]


def test_a_hidden_entry_sharing_an_id_prefix_does_not_break_a_link_by_that_prefix(team: Team) -> None:
    """``[[q0r5kd7zb1]]`` resolves an id prefix only when one entry starts with it: a hidden entry with the
    same start made bob's link to his own entry read as broken (the prefix was ambiguous for the whole
    log), which told him an entry he may not see was made at about that time."""
    ws = team.ws
    mine = new_id()
    hidden = mine[:10] + ("ZZZZZZ" if mine[10:16] != "ZZZZZZ" else "YYYYYY") + mine[16:]  # the key's first ten alike
    with access.acting_as(team.as_user(team.bob)):
        ws.store().write([ws.record("entry.create", entry_create(mine, title="Bob's plan"))])
    with access.acting_as(team.as_user(team.ada)):
        ws.store().write([ws.record("entry.create", entry_create(hidden, title="Ada's secret", private=True))])
    with access.acting_as(team.as_user(team.bob)):
        linking = capture.note(ws, f"Today. See [[{id_key(mine)[:10]}]].")
    ws.ingest()
    assert _links(team.api(team.bob), linking.short) == ([short_id(mine)], [])


def test_a_link_to_a_hidden_entry_still_reads_as_a_link_to_nothing(team: Team) -> None:
    """What the two tests above change keeps the rule: a link naming only a hidden entry (by title, id or
    prefix) is broken, exactly as one naming nothing."""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        secret = capture.note(ws, "Quokka plan. Ada's alone.", private=True)
    with access.acting_as(team.as_user(team.bob)):
        linking = capture.note(ws, f"Reading. See [[Quokka plan]], [[{secret.id}]], [[{secret.short}]] "
                                   "and [[Nothing here]].")
    ws.ingest()
    assert _links(team.api(team.bob), linking.short) == (
        [], ["[[Quokka plan]]", f"[[{secret.id}]]", f"[[{secret.short}]]", "[[Nothing here]]"])
    assert team.api(team.ada).get(f"/e/{linking.short}").status_code == 404  # bob's unfiled note is his alone




# -- comments: an id of the wrong kind ------------------------------------------------------------

def _laptop(team: Team, tmp_path: Path, user: accounts.User) -> CLI:
    run = CLI(tmp_path / f"{user.login}-laptop", None)
    run.ok("login", team.server.url, "--token", accounts.create_token(team.ws, user.id, "cli")[1])
    run.ok("sync")
    return run


def _push(client: httpx.Client, *records: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/sync/push", json={"records": list(records)})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _comment(entry_id: str, comment_id: str) -> dict[str, Any]:
    return rec("comment.add", {"id": comment_id, "entry_id": entry_id, "body": "Planted.", "created_at": now_iso()})


def test_a_comment_never_takes_an_id_that_names_something_else(team: Team, tmp_path: Path) -> None:
    """A comment's id was checked only against other comments. A laptop takes in pulled records by their
    ids (a node's, a revision's, a comment's: one ``applied_records``), so eve could push a comment on a
    shared entry with the id of a node or revision she then made (or of one the server had): bob's laptop
    took the comment and then skipped that node or note for good, as already there. Every id a pulled
    record carries is now taken for a comment, and a comment's id for anything new."""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
        older = capture.note(ws, "An older note.", under=team.project)
    ws.ingest()
    eve = team.api(team.eve)
    node_id, revision_id = new_id(), new_id()
    assert _push(eve, _comment(shared.id, node_id), _comment(shared.id, revision_id))["applied"] == 2
    bob = _laptop(team, tmp_path, team.bob)
    # ... then a node and a note of those ids: refused, as an id that is taken is.
    made = _push(eve, rec("node.create", node_create(node_id, team.project)),
                 rec("entry.create", entry_create(None, team.project, revision_id=revision_id)))
    assert made["applied"] == 0 and all(r["reason"].startswith("that id is taken") for r in made["refused"])
    # A comment with the id of a node, an entry, a revision or another comment already there is refused.
    with access.acting_as(team.as_user(team.ada)):
        said = comments.add(ws, shared.id, "Ada's word.")
    revision = recall.history(ws, older.id)[1][0].id
    for taken in (team.project, older.id, revision, said["id"]):
        refused = _push(eve, _comment(shared.id, taken))
        assert refused["applied"] == 0 and refused["refused"][0]["reason"].startswith("that id is taken"), taken
    # What eve may make with fresh ids reaches bob's laptop whole.
    node, entry = node_create(None, team.project), entry_create(None, team.project)
    assert _push(eve, rec("node.create", node), rec("entry.create", entry))["applied"] == 2
    bob.ok("sync")
    laptop = Workspace(home=bob.home)
    assert {n.id for n in node_rows(laptop.store().db)} >= {team.project, node["id"]}
    assert recall.show(laptop, entry["id"]).title == "QUATTACK note"
    laptop.close()


def test_malformed_comments_and_stars_are_refused_one_line_each_and_change_nothing(team: Team) -> None:
    """Every field of a pushed comment or star, of the wrong type, missing, oversized or holding what the
    store cannot keep, and ids of the wrong kind: each refused with a line of its own, nothing changed."""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
    ws.ingest()
    eve = team.api(team.eve)
    run_id = new_id()
    assert eve.post(f"/api/runs/{run_id}/push", json={"records": [
        rec("run.start", {"run_id": run_id, "name": "sweep", "node_id": team.project, "started_at": now_iso()})],
        "points": {}}).status_code == 200

    def comment(**over: Any) -> dict[str, Any]:
        return _comment(shared.id, new_id()) | {"data": {**_comment(shared.id, new_id())["data"], **over}}

    def star(**over: Any) -> dict[str, Any]:
        return rec("star.set", {"entry_id": shared.id, "starred": True, "at": now_iso(), **over})

    crafted = [
        comment(id=run_id), comment(id=team.project), comment(id=shared.id), comment(id="not an id"),
        comment(id=None), comment(entry_id=team.project), comment(entry_id=None), comment(entry_id=[shared.id]),
        comment(body=None), comment(body={"text": "x"}), comment(body="\ud800"), comment(body="😀" * 20_001),
        comment(created_at=12), comment(created_at="9999-99-99"), comment(author_login="x" * 65),
        star(starred="true"), star(starred=1), star(starred=None), star(at=None), star(at="tomorrow"),
        star(event_id="e" * 121), star(event_id="a\x00b"), star(event_id=7), star(entry_id=team.project),
        star(entry_id=None), rec("comment.add", []), rec("star.set", "x"), rec("star.set", {}),
    ]
    ws.ingest()
    before = dump_tables(ws.store().db)
    def push(records: list[dict[str, Any]]) -> httpx.Response:  # JSON escapes a lone surrogate as the wire may
        return eve.post("/api/sync/push", content=json.dumps({"records": records}),
                        headers={"Content-Type": "application/json"})

    whole = [c for c in crafted if not isinstance(c["data"], dict)]
    for record in whole:  # a record that is no record at all refuses the push whole
        assert push([record]).status_code == 400
    crafted = [c for c in crafted if c not in whole]
    answer = push(crafted)
    assert answer.status_code == 200, answer.text
    reasons = [r["reason"] for r in answer.json()["refused"]]
    assert answer.json()["applied"] == 0 and len(reasons) == len(crafted), answer.json()
    assert all("\n" not in r and 0 < len(r) < 300 for r in reasons), reasons
    assert dump_tables(ws.store().db) == before


# -- a sync cut off halfway ---------------------------------------------------------------------

def test_a_sync_cut_off_after_the_server_took_comments_ends_whole_and_once_next_time(team: Team,
                                                                                      tmp_path: Path) -> None:
    """The server applies a batch of comments and the answer never reaches the laptop (the client killed,
    the connection cut): the sync says so in one line, and the next one sends the rest, each comment once,
    its author notified once, and the star with them. (Held.)"""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
    ws.ingest()
    cut = {"armed": True}

    def cut_after_the_first_comments(app: Any) -> None:
        @app.middleware("http")
        async def drop(request: Any, call_next: Any) -> Any:
            answer = await call_next(request)  # applied: then the answer is lost
            if request.url.path == "/api/sync/push" and cut["armed"]:  # the first push: eve's comments
                cut["armed"] = False
                raise ConnectionResetError("the laptop went away")
            return answer

    with serve(ws.home, ws.db_url, token=None, extend=cut_after_the_first_comments) as cutting:
        eve = CLI(tmp_path / "eve-laptop", None)
        eve.ok("login", cutting.url, "--token", accounts.create_token(ws, team.eve.id, "cli")[1])
        eve.ok("sync")
        laptop = Workspace(home=eve.home)
        for number in range(250):  # two batches
            comments.add(laptop, shared.id, f"Point {number}.")
        laptop.close()
        eve.ok("star", shared.short)
        cut["armed"] = True
        failed = eve("sync")
        assert failed.exit_code != 0 and len(failed.output.strip().splitlines()) == 1, failed.output
        assert "Traceback" not in failed.output
        again = eve.ok("sync")
        assert "pushed" in again, again
    ws.ingest()
    with access.acting_as(team.as_user(team.ada)):
        said = comments.for_entry(ws, recall.show(ws, shared.id))
    assert sorted(c["body"] for c in said) == sorted(f"Point {n}." for n in range(250))
    assert len(accounts.notifications(ws, team.ada.id, limit=1000)) == 250
    with access.acting_as(team.as_user(team.eve)):
        assert recall.show(ws, shared.id).starred


def test_a_node_change_never_takes_an_id_that_something_new_then_takes(team: Team, tmp_path: Path) -> None:
    """The same hole by another door (older than comments, closed with them): a node change's event id is
    free text its pusher chooses, and is the id its record is pulled by. eve changed the project with the
    event id of a note she then wrote: bob's laptop took the change and never the note. And a note or a
    revision or a file sent again (a sync resumed) is still what it was: already here, not refused."""
    eve = team.api(team.eve)
    event = new_id()
    assert _push(eve, rec("node.edit", {"node_id": team.project, "why": "Changed.", "at": now_iso(),
                                        "event_id": event}))["applied"] == 1
    bob = _laptop(team, tmp_path, team.bob)
    note = entry_create(None, team.project, revision_id=event)
    made = _push(eve, rec("entry.create", note))
    assert made["applied"] == 0 and made["refused"][0]["reason"].startswith("that id is taken")
    note = entry_create(None, team.project)
    revision = {"entry_id": note["id"], "revision_id": new_id(), "parent_id": note["revision_id"], "title": "Again",
                "body": "b", "created_at": now_iso()}
    first = [rec("entry.create", note, id=note["revision_id"]),
             rec("entry.revise", revision, id=revision["revision_id"])]
    assert _push(eve, *first)["applied"] == 2
    again = _push(eve, *first, rec("entry.revise", revision))  # a resumed sync, and the revision under a new record
    assert again["applied"] == 1 and again["refused"] == [] and again["problems"] == [], again
    bob.ok("sync")
    laptop = Workspace(home=bob.home)
    assert recall.show(laptop, note["id"]).title == "Again"
    laptop.close()


# -- quick references on the new routes ------------------------------------------------------------

def test_star_and_comment_by_title_or_last_never_reach_a_hidden_entry(team: Team) -> None:
    """``@part of a title`` and ``last`` name entries wherever an id is taken, the star and comment routes
    too: one the reader may not see answers as one that is not there, and ``last`` is their own newest."""
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        secret = capture.note(ws, "Quokka secret plan. Ada's alone.", under=team.project, private=True)
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
    ws.ingest()
    eve = team.api(team.eve)
    before = dump_tables(ws.store().db)
    for ref in ("@Quokka secret plan", "@quokka", "@Nothing of that title"):
        for action, form in (("star", None), ("unstar", None), ("comments", {"body": "Hello."})):
            answer = eve.post(f"/e/{ref}/{action}", data=form)
            assert answer.status_code == 404, (ref, action, answer.status_code)
            assert answer.json() == {"error": f"no entry whose title holds {ref[1:]!r}"}, answer.text
            assert secret.short not in answer.text
    assert dump_tables(ws.store().db) == before
    assert eve.post("/e/last/star").json() == {"id": shared.id, "starred": True}


# -- search as you type, did you mean, the switcher: nothing by difference ------------------------------

def test_hidden_words_change_no_completion_suggestion_or_switcher_answer(team: Team) -> None:
    """bob's answers (results, totals, scores, suggestions, the switcher's list) are the same before and
    after ada writes, where he may not look, words that crowd the prefixes and spellings he types: more
    than the 32 completions the store looks at, a word one edit from his misspelling, his own word
    misspelt, and titles that start as his do."""
    ws = team.ws
    with access.acting_as(team.as_user(team.bob)):
        for text in ("Selectivity of head 9.6. The selectivity holds on IOI.", "Weight decay sweep. Decay 0.1.",
                     "Selective attention notes. Nothing selective here."):
            capture.note(ws, text)
    ws.ingest()
    bob = team.api(team.bob)
    queries = ["sel", "selectiv", "selectivty", "wieght", "weigth decay", "decay OR selectivty", "selectivity",
               "sele", "zzzz", "selectiveness", "weigt", "wei", "selab", "selectivityy"]

    def answers() -> list[Any]:
        found = []
        for q in queries:
            page = bob.get("/search.json", params={"q": q}).json()
            found.append((q, page["total"], page["suggestion"], [(r["id"], r["score"], r["snippet"], r["highlights"])
                                                                 for r in page["results"]]))
            found.append((q, bob.get("/switch.json", params={"q": q}).json()["results"]))
        return found

    before = answers()
    hidden = " ".join(f"sel{a}{b}" for a in "abcdefg" for b in "abcdefg")  # 49 words starting "sel"
    with access.acting_as(team.as_user(team.ada)):
        capture.note(ws, f"Selectivity audit. {hidden} selectivty weigt wieghts selectiveness selectivitys",
                     under=team.project, private=True)
        capture.note(ws, "Selective heads, hidden. selectivityy", private=True)
    ws.ingest()
    after = answers()
    assert after == before


# -- tokens with a narrow scope ----------------------------------------------------------------------

def test_a_read_only_token_neither_stars_nor_comments_and_a_sync_only_one_does_so_only_by_sync(team: Team) -> None:
    ws = team.ws
    with access.acting_as(team.as_user(team.ada)):
        shared = capture.note(ws, "Layer 6 probe is best.", under=team.project)
    ws.ingest()
    accounts.share(ws, team.project, "bob", "commenter", by=None)

    def client(scope: str) -> httpx.Client:
        secret = accounts.create_token(ws, team.bob.id, f"bob {scope}", scope=scope)[1]
        made = httpx.Client(base_url=team.server.url, timeout=60,
                            headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"})
        team.server.clients.append(made)
        return made

    reader, syncer = client("read-only"), client("sync-only")
    ws.ingest()
    before = dump_tables(ws.store().db)
    for who in (reader, syncer):
        for action, form in (("star", None), ("unstar", None), ("comments", {"body": "Hello."})):
            assert who.post(f"/e/{shared.short}/{action}", data=form).status_code == 403, (action, who)
    assert reader.post("/api/sync/push", json={"records": [_comment(shared.id, new_id())]}).status_code == 403
    assert syncer.get("/switch.json", params={"q": "layer"}).status_code == 403
    assert reader.get("/switch.json", params={"q": "layer"}).json()["results"][0]["id"] == shared.id
    assert dump_tables(ws.store().db) == before
    star = rec("star.set", {"entry_id": shared.id, "starred": True, "at": now_iso()})
    assert _push(syncer, _comment(shared.id, new_id()), star)["applied"] == 2


# -- odd input on the new routes ---------------------------------------------------------------------

def test_odd_input_on_the_new_routes_is_answered_never_a_500(team: Team) -> None:
    """``/switch.json?q=a%00b`` and ``/e/@a%00b`` were 500s on PostgreSQL (which cannot hold a NUL): the
    title typed was looked up as it came. A title typed is now text as upstack keeps it (``title_key``)."""
    ws = team.ws
    with access.acting_as(team.as_user(team.bob)):
        mine = capture.note(ws, "Selectivity of head 9.6. The selectivity holds.")
    ws.ingest()
    bob = team.api(team.bob)
    odd = ["@a%00b", "%00", "%ff", "%ed%a0%80", "a%00b", "x" * 600, "@", "@%00", "last", "[[", "$$", "\\", "%25",
           "*", "\"", "OR", "NOT", "#", "#%00", "((((((((((a))))))))))", "a*" * 40, " ".join(["selectivty"] * 40),
           "@%ed%a0%80x"]
    paths = [f"/e/{o}.json" for o in odd if "/" not in o] + [f"/switch.json?q={o}" for o in odd] + \
        [f"/search.json?q={o}" for o in odd] + [f"/runs/compare.json?id={o}" for o in odd] + \
        ["/switch.json?q=sel&limit=0", "/switch.json?q=sel&limit=9999", "/switch.json?limit=-1",
         f"/runs/compare.json?id={mine.short}&id={mine.short}"]
    for path in paths:
        answer = bob.get(path)
        assert answer.status_code < 500, (path, answer.status_code, answer.text[:200])
    for o in odd:
        if "/" in o:
            continue
        for action in ("star", "unstar", "comments"):
            answer = bob.post(f"/e/{o}/{action}", data={"body": o})
            assert answer.status_code < 500, (o, action, answer.status_code, answer.text[:200])
