"""Attacks on /api/sync/push and /api/runs/<id>/push (see the report in the attack branch)."""

from __future__ import annotations

import json

import pytest

from attack_common import entry_create, node_create, rec, run_records
from attack_common import status as _status
from upstack.domain import access
from upstack.ids import new_id, short_id
from upstack.timeutil import now_iso


def _count(team, table: str, object_id: str) -> int:  # noqa: ANN001
    return int(team.ws.store().db.scalar(f"SELECT count(*) FROM {table} WHERE id = ?", (object_id,)))


@pytest.mark.parametrize("first", ["node", "entry"])
def test_a_node_and_an_entry_never_share_an_id_within_one_push(team, first: str) -> None:  # noqa: ANN001
    """One push makes a node and an entry with one id, in either order: the door then only knew
    what the database held, and create_entry checked runs only."""
    mal = team.api(team.mal)
    same = new_id()
    records = [rec("node.create", node_create(same)), rec("entry.create", entry_create(same))]
    answer = mal.post("/api/sync/push", json={"records": records if first == "node" else records[::-1]})
    assert answer.status_code == 200, answer.text
    assert not (_count(team, "nodes", same) and _count(team, "entries", same)), \
        f"a node and an entry now share id {same}: {answer.json()}"


def test_learning_id_takes_a_nodes_id(team) -> None:  # noqa: ANN001
    """A run summary's learning_id naming the shared project's node id: finalize checks entries
    and runs but not nodes, so an entry with the node's id is written."""
    eve = team.api(team.eve)
    run_id = new_id()
    summary = rec("run.summary", {"run_id": run_id, "values": {"loss": 0.1}, "learned": "QULEARNED x",
                                  "learning_id": team.project})
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, None, extra=[summary])})
    assert answer.status_code == 200, answer.text
    assert not _count(team, "entries", team.project), "an entry took the project node's id"


def test_learning_id_of_someone_elses_hidden_node(team) -> None:  # noqa: ANN001
    """Same, with a node the pusher cannot even see (ada's unshared node)."""
    from upstack.services import tree
    with access.acting_as(access.OWNER):
        hidden = tree.add_node(team.ws, "project", "QUHIDDENNODE", why="Not shared.").id
    mal = team.api(team.mal)
    run_id = new_id()
    summary = rec("run.summary", {"run_id": run_id, "learned": "QULEARNED y", "learning_id": hidden})
    answer = mal.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, None, extra=[summary])})
    assert answer.status_code == 200, answer.text
    assert not _count(team, "entries", hidden), "an entry took a hidden node's id"


def test_run_id_then_learning_id_of_a_later_run(team) -> None:  # noqa: ANN001
    """learning_id set to an id, then a second run pushed with that id as its run id."""
    mal = team.api(team.mal)
    run1, learn = new_id(), new_id()
    summary = rec("run.summary", {"run_id": run1, "learned": "QULEARNED z", "learning_id": learn})
    assert mal.post(f"/api/runs/{run1}/push", json={"records": run_records(run1, None, extra=[summary])}
                    ).status_code == 200
    second = mal.post(f"/api/runs/{learn}/push", json={"records": run_records(learn, None)})
    # the learning entry is mal's own, so is_result_of refuses; expect a refusal, not a run on it
    assert not (_count(team, "runs", learn) and _count(team, "entries", learn) and json.loads(
        team.ws.store().db.scalar("SELECT meta FROM entries WHERE id = ?", (learn,))).get("run") != learn), second.text


def test_time_fields_that_pass_the_schema_break_pages_for_others(team) -> None:  # noqa: ANN001
    """The schema's Time accepts anything datetime.fromisoformat does ('2026-01-01', naive times,
    week dates); the store's readers parse with strptime('%Y-%m-%dT%H:%M:%S.%fZ')."""
    eve = team.api(team.eve)
    entry = entry_create(node_id=team.project, occurred_at="2026-01-01", created_at="2026-W01-1")
    answer = eve.post("/api/sync/push", json={"records": [rec("entry.create", entry)]})
    assert answer.status_code == 200 and answer.json()["applied"] == 0, answer.text  # refused at the door
    bob = team.api(team.bob)
    broken = {}
    for path in ("/log.json", f"/e/{entry['id']}.json", "/search.json?q=QUATTACK", f"/tree/{team.project}.json",
                 "/tree.json", "/review.json", "/api/sync/manifest.json", "/", f"/e/{entry['id']}",
                 "/search?q=QUATTACK", f"/tree/{team.project}", "/tree", "/review", "/notifications"):
        status = _status(bob, path)
        if status >= 500:
            broken[path] = status
    assert not broken, f"an editor's entry with an odd but schema-valid time breaks: {broken}"


def test_run_time_fields_break_run_pages_for_others(team) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    records = run_records(run_id, team.project, start={"started_at": "2026-01-01"})
    records[-1]["data"]["ended_at"] = "2026-01-02T00:00:00+05:00"
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": records})
    broken = {"push": answer.status_code} if answer.status_code >= 500 else {}
    bob = team.api(team.bob)
    for path in ("/runs.json", f"/runs/{run_id}.json", "/log.json", f"/tree/{team.project}.json",
                 f"/runs/compare.json?ids={run_id}", "/api/sync/runs.json", "/review.json"):
        status = _status(bob, path)
        if status >= 500:
            broken[path] = status
    assert not broken, f"a run with odd but schema-valid times breaks: {broken}"


def test_record_at_is_unchecked_and_becomes_updated_at(team) -> None:  # noqa: ANN001
    """entry.attach writes the *record's* 'at' (not its data's) into entries.updated_at; parse_record
    only checks it is text."""
    import hashlib
    eve = team.api(team.eve)
    entry = entry_create(node_id=team.project)
    assert eve.post("/api/sync/push", json={"records": [rec("entry.create", entry)]}).json()["applied"] == 1
    blob = b"\x89PNG\r\n\x1a\nQUBLOB" + b"\0" * 16
    sha = hashlib.sha256(blob).hexdigest()
    assert eve.put(f"/api/blobs/{sha}", content=blob).status_code == 204
    attach = {"entry_id": entry["id"], "attachments": [{"id": new_id(), "sha256": sha, "filename": "f.png",
                                                        "media_type": "image/png", "size": len(blob),
                                                        "created_at": now_iso()}]}
    answer = eve.post("/api/sync/push", json={"records": [rec("entry.attach", attach, at="not a time at all")]})
    assert answer.status_code == 400, answer.text  # refused at the door
    stored = team.ws.store().db.scalar("SELECT updated_at FROM entries WHERE id = ?", (entry["id"],))
    bob = team.api(team.bob)
    broken = {p: bob.get(p).status_code for p in ("/log.json", f"/e/{entry['id']}.json", f"/e/{entry['id']}",
                                                  "/review.json", "/api/sync/manifest.json")}
    assert stored != "not a time at all" and all(s < 500 for s in broken.values()), (stored, broken)


def test_duplicate_event_id_in_one_push(team) -> None:  # noqa: ANN001
    """Two node changes with one event_id in one push (or an edit of title and why with an
    event_id, which makes two events with that id)."""
    ada = team.api(team.ada)
    event = "evt-" + new_id()
    answer = ada.post("/api/sync/push", json={"records": [
        rec("node.edit", {"node_id": team.project, "at": now_iso(), "event_id": event, "title": "T2", "why": "W2"}),
        rec("entry.create", entry_create(node_id=team.project)),
    ]})
    assert answer.status_code < 500, answer.text
    after = team.api(team.bob).get(f"/tree/{team.project}.json")
    assert after.status_code < 500, after.text


def test_event_id_of_someone_elses_event_is_swallowed_silently(team) -> None:  # noqa: ANN001
    """event_id equal to an existing event: 'here', so an owner's real change is dropped; reported?"""
    ada = team.api(team.ada)
    eve = team.api(team.eve)
    event = "shared-" + new_id()
    # eve (editor) makes a status change with a chosen event id first
    first = eve.post("/api/sync/push", json={"records": [
        rec("node.status", {"node_id": team.project, "at": now_iso(), "event_id": event, "status": "paused"})]})
    assert first.status_code == 200, first.text
    second = ada.post("/api/sync/push", json={"records": [
        rec("node.delete", {"node_id": team.project, "at": now_iso(), "event_id": event})]})
    gone = team.ws.store().db.scalar("SELECT deleted_at FROM nodes WHERE id = ?", (team.project,))
    assert gone or second.json()["refused"], ("ada's delete silently dropped as 'already here'", second.json())


def test_unfiled_run_result_can_carry_tags_and_node_ref_into_others_node(team) -> None:  # noqa: ANN001
    """node_ref as a short id of a node mal cannot see."""
    mal = team.api(team.mal)
    run_id = new_id()
    answer = mal.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, None, start={"node_ref": short_id(team.project)})})
    assert answer.status_code in (400, 404), answer.text
    assert not team.ws.store().db.scalar("SELECT node_id FROM runs WHERE id = ?", (run_id,))


@pytest.mark.parametrize("who", ["bob", "mal", "eve"])
def test_node_move_by_non_owner(team, who) -> None:  # noqa: ANN001
    client = team.api(getattr(team, who))
    mine = new_id()
    answer = client.post("/api/sync/push", json={"records": [
        rec("node.create", node_create(mine) | {"kind": "agenda"}),
        rec("node.move", {"node_id": team.project, "at": now_iso(), "parent_id": mine})]})
    assert team.ws.store().db.scalar("SELECT parent_id FROM nodes WHERE id = ?", (team.project,)) is None, answer.text


def test_node_create_with_same_id_twice_second_under_others_node(team) -> None:  # noqa: ANN001
    """node.create X (top), then node.create X under ada's project: 2nd is refused? and what about node changes
    on X before X exists (made_nodes bypasses has())."""
    mal = team.api(team.mal)
    same = new_id()
    answer = mal.post("/api/sync/push", json={"records": [
        rec("node.create", node_create(same)),
        rec("node.move", {"node_id": same, "at": now_iso(), "parent_id": team.project})]})
    assert team.ws.store().db.scalar("SELECT parent_id FROM nodes WHERE id = ?", (same,)) != team.project, answer.text


def test_lowercase_and_short_run_ids(team) -> None:  # noqa: ANN001
    """Pushing to a lower-cased id of ada's ended run, and pulling by short id."""
    ada = team.api(team.ada)
    run_id = new_id()
    assert ada.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, None)}).status_code == 200
    mal = team.api(team.mal)
    low = mal.post(f"/api/runs/{run_id.lower()}/push", json={"records": [
        rec("run.note", {"run_id": run_id.lower(), "text": "QUINJECT", "at": now_iso()})]})
    assert low.status_code in (400, 404), low.text
    low2 = mal.post(f"/api/runs/{run_id.lower()}/push", json={"records": [
        rec("run.note", {"run_id": run_id, "text": "QUINJECT", "at": now_iso()})]})
    assert low2.status_code in (400, 404), low2.text
    assert mal.post(f"/api/runs/{run_id}/pull", json={"have": {}}).status_code in (400, 404)
    assert mal.post(f"/api/runs/{short_id(run_id)}/pull", json={"have": {}}).status_code in (400, 404)


def test_sync_pull_of_others_private_and_deleted(team) -> None:  # noqa: ANN001
    ada = team.api(team.ada)
    private, deleted = entry_create(node_id=team.project, private=True), entry_create(node_id=team.project)
    ada.post("/api/sync/push", json={"records": [rec("entry.create", private), rec("entry.create", deleted),
                                                 rec("entry.delete", {"entry_id": deleted["id"], "at": now_iso()})]})
    for who in ("bob", "eve", "mal"):
        client = team.api(getattr(team, who))
        got = client.post("/api/sync/pull", json={"entries": [private["id"], deleted["id"], private["id"].lower()],
                                                  "nodes": [team.project], "have": {},
                                                  "node_events": []}).json()["records"]
        ids = {r["data"].get("id") or r["data"].get("entry_id") for r in got}
        assert not ids & {private["id"], deleted["id"]}, (who, got)


def test_huge_and_nested_records(team) -> None:  # noqa: ANN001
    mal = team.api(team.mal)
    run_id = new_id()
    nested: dict = {}
    cur = nested
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    body = json.dumps({"records": run_records(run_id, None, start={"config": {"x": 1}})})
    body = body.replace('{"x": 1}', json.dumps(nested)) if False else body
    raw = '{"records": [' + json.dumps(rec("run.start", {"run_id": run_id, "name": "n", "started_at": now_iso()}))[:-1] \
        + ', "pad": ' + "[" * 100000 + "]" * 100000 + "}]}"
    answer = mal.post(f"/api/runs/{run_id}/push", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code < 500, answer.text[:300]
    assert team.api(team.bob).get("/api/me.json").status_code == 200


def test_deeply_nested_config_stored_then_read(team) -> None:  # noqa: ANN001
    """A run config nested 900 deep: json.loads reads it, but readers that recurse (flatten config,
    jinja, pydantic) may not."""
    eve = team.api(team.eve)
    run_id = new_id()
    nested: dict = {"v": 1}
    for _ in range(900):
        nested = {"a": nested}
    answer = eve.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, team.project, start={"config": nested})})
    broken = {"push": answer.status_code} if answer.status_code >= 500 else {}
    bob = team.api(team.bob)
    for path in ("/runs.json", f"/runs/{run_id}.json", f"/runs/{run_id}", "/runs", f"/runs/compare.json?ids={run_id}",
                 "/log.json", "/api/sync/runs.json"):
        status = _status(bob, path)
        if status >= 500:
            broken[path] = status
    status = _status(bob, f"/api/runs/{run_id}/pull", "POST", json={"have": {}})
    if status >= 500:
        broken["pull"] = status
    assert not broken, broken


def test_nan_in_pushed_json(team) -> None:  # noqa: ANN001
    eve = team.api(team.eve)
    run_id = new_id()
    raw = json.dumps({"records": run_records(run_id, team.project, start={"config": {"lr": float("nan"),
                                                                                      "x": float("inf")}},
                                             extra=[rec("run.summary", {"run_id": run_id,
                                                                        "values": {"loss": float("nan")}})])})
    answer = eve.post(f"/api/runs/{run_id}/push", content=raw, headers={"Content-Type": "application/json"})
    broken = {"push": answer.status_code} if answer.status_code >= 500 else {}
    bob = team.api(team.bob)
    for path in ("/runs.json", f"/runs/{run_id}.json", f"/runs/{run_id}", "/log.json", f"/e/{run_id}.json",
                 "/api/sync/runs.json"):
        status = _status(bob, path)
        if status >= 500:
            broken[path] = status
    status = _status(bob, f"/api/runs/{run_id}/pull", "POST", json={"have": {}})
    if status >= 500:
        broken["pull"] = status
    assert not broken, broken


def test_source_squatting_and_existence_oracle(team) -> None:  # noqa: ANN001
    """entries.source is UNIQUE across every user: an entry.create whose source another user's (even
    private, even hidden) entry holds is 'applied' but silently not written. So an outsider learns
    that some entry with that exact source (a hash of its content, for imports) exists, and the
    second of two users importing the same file loses the entries on the server without a word."""
    ada = team.api(team.ada)
    secret = entry_create(private=True, source="jrnl:0123456789abcdef0123456789abcdef")
    assert ada.post("/api/sync/push", json={"records": [rec("entry.create", secret)]}).json()["applied"] == 1
    mal = team.api(team.mal)
    probe = entry_create(source=secret["source"])
    answer = mal.post("/api/sync/push", json={"records": [rec("entry.create", probe)]}).json()
    listed = probe["id"] in mal.get("/api/sync/manifest.json").json()["entries"]
    assert listed or answer["refused"], ("mal's entry silently dropped: a hidden entry with that source exists", answer)


def test_silent_run_with_odd_start_time_takes_the_whole_server_down(team) -> None:  # noqa: ANN001
    """An outsider (no roles: an unfiled run of their own) starts a run with started_at '2026-01-01'
    and goes quiet. Two minutes later (simulated: its heartbeat set back), every request's ingest
    marks it crashed and finalizes it; finalize parses the start with strptime, raises ValueError,
    which ingest does not catch: every page 500s for everyone, until someone repairs the row."""
    bob, ada = team.api(team.bob), team.api(team.ada)
    mal = team.api(team.mal)
    run_id = new_id()
    odd = mal.post(f"/api/runs/{run_id}/push", json={"records": run_records(
        run_id, None, end=False, start={"started_at": "2026-01-01"})})
    assert odd.status_code == 400, odd.text  # refused at the door; one stored before the door, below
    answer = mal.post(f"/api/runs/{run_id}/push", json={"records": run_records(run_id, None, end=False)})
    assert answer.status_code == 200, answer.text
    db = team.ws.store().db
    with db.transaction():
        db.execute("UPDATE runs SET heartbeat_at = ?, started_at = '2026-01-01' WHERE id = ?",
                   ("2000-01-01T00:00:00.000000Z", run_id))
    after = {f"{who} {p}": _status(c, p) for who, c in (("bob", bob), ("ada", ada))
             for p in ("/log.json", "/runs.json", "/api/sync/manifest.json")}
    assert all(s < 500 for s in after.values()), after


def test_wiki_link_resolves_to_hidden_entry(team) -> None:  # noqa: ANN001
    """[[Title]] links resolve server-wide (ingest runs as OWNER): does mal's own entry page tell
    whether a hidden (private) entry with that title exists?"""
    ada = team.api(team.ada)
    secret = entry_create(private=True, title="QUACQUISITION OF ACME")
    ada.post("/api/sync/push", json={"records": [rec("entry.create", secret)]})
    mal = team.api(team.mal)
    hit = entry_create(title="QUPROBEONE", body="see [[QUACQUISITION OF ACME]]")
    miss = entry_create(title="QUPROBETWO", body="see [[QUACQUISITION OF NOBODY]]")
    mal.post("/api/sync/push", json={"records": [rec("entry.create", hit), rec("entry.create", miss)]})
    pages = {}
    for probe in (hit, miss):
        for suffix in (".json", ""):
            text = mal.get(f"/e/{probe['id']}{suffix}").text
            pages[suffix + probe["title"]] = text.replace(probe["id"], "").replace("ONE", "X").replace("TWO", "X") \
                .replace("QUACQUISITION OF ACME", "T").replace("QUACQUISITION OF NOBODY", "T")
    assert secret["id"] not in str(pages)
    import re
    norm = {k: re.sub(r"[0-9A-HJKMNP-TV-Z]{26}|[0-9a-hjkmnp-tv-z]{7,26}|\d{4}-\d\d-\d\d[ T][\d:.]+Z?", "#", v)
            for k, v in pages.items()}
    assert norm[".jsonQUPROBEONE"] == norm[".jsonQUPROBETWO"], (norm[".jsonQUPROBEONE"][:1500], norm[".jsonQUPROBETWO"][:1500])
    assert norm["QUPROBEONE"] == norm["QUPROBETWO"]


def test_editor_detaches_own_subnode_with_others_entries(team) -> None:  # noqa: ANN001
    """eve (editor on P) makes question X under P (so owns X); ada files an entry under X; eve then
    moves X to the top level. Now P's owner (ada) holds no role on X, P's viewers lose it, and eve
    alone decides who sees ada's entry (she may share X with anyone)."""
    eve, ada = team.api(team.eve), team.api(team.ada)
    x = new_id()
    assert eve.post("/api/sync/push", json={"records": [rec("node.create", node_create(x, team.project))]}
                    ).json()["applied"] == 1
    ada_entry = entry_create(node_id=x, title="QUADAUNDERX")
    assert ada.post("/api/sync/push", json={"records": [rec("entry.create", ada_entry)]}).json()["applied"] == 1
    moved = eve.post("/api/sync/push", json={"records": [
        rec("node.move", {"node_id": x, "at": now_iso(), "parent_id": None})]}).json()
    parent = team.ws.store().db.scalar("SELECT parent_id FROM nodes WHERE id = ?", (x,))
    assert parent == team.project, ("eve took X, with ada's entry, out of ada's project", moved)
