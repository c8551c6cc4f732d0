"""What one request and one member may cost a team server (upstack.limits, services.quota,
web/limits.py): search queries and date texts bounded before any work, a member's requests
at once capped (429), their storage, runs, metrics and files capped (413); on SQLite and
PostgreSQL, over real HTTP where it is a server's behaviour.

Nothing here times anything: the tests wait on conditions (a member's slots are held, then
free again) and assert on answers, so a busy machine makes them slower, never wrong.
"""

from __future__ import annotations

import hashlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from upstack.errors import BadInput
from upstack.ids import new_id
from upstack.limits import DATE_MAX_CHARS, QUERY_MAX_CHARS, QUERY_MAX_DEPTH, QUERY_MAX_NOTS, QUERY_MAX_TERMS
from upstack.services import accounts, capture, recall
from upstack.timeutil import parse_when
from upstack.workspace import Workspace
from webserver import Server, serve

# -- one query, one date: bounded before any work ------------------------------------------------

# limit -> (the longest/largest query allowed, one just beyond it, the number the refusal names)
QUERIES = {
    "length": ("a" * QUERY_MAX_CHARS, "a" * (QUERY_MAX_CHARS + 1), f"{QUERY_MAX_CHARS:,}"),
    "terms": (" OR ".join(f"w{i}" for i in range(QUERY_MAX_TERMS)),
              " OR ".join(f"w{i}" for i in range(QUERY_MAX_TERMS + 1)), str(QUERY_MAX_TERMS)),
    "depth": ("(" * QUERY_MAX_DEPTH + "head" + ")" * QUERY_MAX_DEPTH,
              "(" * (QUERY_MAX_DEPTH + 1) + "head" + ")" * (QUERY_MAX_DEPTH + 1), str(QUERY_MAX_DEPTH)),
    "nots": (" ".join(f"-w{i}" for i in range(QUERY_MAX_NOTS)) + " head",
             " ".join(f"NOT w{i}" for i in range(QUERY_MAX_NOTS + 1)) + " head", str(QUERY_MAX_NOTS)),
}


@pytest.fixture
def notes(workspace: Workspace) -> Workspace:
    for i in range(12):
        capture.note(workspace, f"Head {i} moves names. w{i} is checked #ioi")
    capture.note(workspace, "Nothing about heads here.")
    return workspace


@pytest.mark.parametrize("limit", list(QUERIES))
def test_a_query_at_a_limit_answers_and_one_beyond_is_refused_in_one_line(notes: Workspace, limit: str) -> None:
    allowed, beyond, named = QUERIES[limit]
    page = recall.search(notes, allowed)
    assert page.total >= len(page.hits)
    with pytest.raises(BadInput) as refused:
        recall.search(notes, beyond)
    message = str(refused.value)
    assert named in message and "\n" not in message and len(message) < 200, message


def test_stacked_nots_cancel_so_a_long_chain_is_neither_an_error_nor_deep(notes: Workspace) -> None:
    """1,000 NOTs gave 500 (RecursionError, SQLite's "expression tree too large"): a chain as long
    as a query may be now reads as one NOT or none, with the same matches as those."""
    chain = "NOT " * 123  # an odd number, far more than QUERY_MAX_NOTS; with one more, the longest query
    assert len("NOT " + chain + "head") == QUERY_MAX_CHARS
    once = [h.entry.id for h in recall.search(notes, "NOT head", limit=50).hits]
    assert once and [h.entry.id for h in recall.search(notes, chain + "head", limit=50).hits] == once
    twice = {h.entry.id for h in recall.search(notes, "head", limit=50).hits}
    assert {h.entry.id for h in recall.search(notes, "NOT " + chain + "head", limit=50).hits} == twice
    with pytest.raises(BadInput, match="1,000 characters"):  # and a thousand of them is too long a query
        recall.search(notes, "NOT " * 249 + "head")


def test_a_date_text_beyond_the_limit_is_refused_before_it_is_parsed() -> None:
    assert parse_when("last monday at 14:00").endswith("Z")
    assert parse_when("2024-03-01T12:00:00.123456+05:30") == "2024-03-01T06:30:00.123456Z"
    with pytest.raises(BadInput) as refused:
        parse_when("3 weeks ago " * 100, what="since date")  # dateparser took seconds over this
    assert str(refused.value) == (f"the since date is 1,199 characters long; the longest date text allowed is "
                                  f"{DATE_MAX_CHARS}")


# -- a team server: two members over HTTP --------------------------------------------------------

@dataclass
class Members:
    server: Server
    ws: Workspace
    tokens: dict[str, str]

    def client(self, name: str) -> httpx.Client:
        made = httpx.Client(base_url=self.server.url, timeout=120,
                            headers={"Authorization": f"Bearer {self.tokens[name]}", "Accept": "application/json"})
        self.server.clients.append(made)
        return made


@pytest.fixture
def members(home: Path, db_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Members]]:
    """A factory: a team server with ada (the admin, who owns the log) and bob, a member with his
    own project; settings given as keywords are set in the environment the server reads."""
    made: list[Iterator[Members]] = []

    def start(**settings: str) -> Members:
        for name, value in settings.items():
            monkeypatch.setenv(f"UPSTACK_{name.upper()}", value)
        ws = Workspace(home=home, db=db_url)
        tokens = {}
        for name in ("ada", "bob"):
            user, _ = accounts.add_user(ws, name)
            tokens[name] = accounts.create_token(ws, user.id, "script")[1]
        for i in range(30):
            capture.note(ws, f"Head {i} moves names in layer {i % 12} #ioi")
        ws.ingest()

        def running() -> Iterator[Members]:
            with serve(home, db_url, token=None) as server:
                yield Members(server, ws, tokens)
            ws.close()

        it = running()
        made.append(it)
        return next(it)

    yield start
    for it in made:
        next(it, None)


def _hold(server: Server, token: str) -> socket.socket:
    """An upload begun and not finished: the request runs (and holds one of its sender's slots)
    until the rest of its body comes, costing the server no thread meanwhile."""
    address = urlsplit(server.url)
    held = socket.create_connection((address.hostname, address.port), timeout=120)
    held.sendall((f"PUT /api/blobs/{'0' * 64} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                  f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
                  "Content-Length: 8\r\n\r\nhalf").encode())
    return held


def _hold_slots(server: Server, token: str, probe: httpx.Client, count: int = 2) -> list[socket.socket]:
    """``count`` held uploads, each holding one of the member's slots: until a probe of theirs is
    refused, an upload that lost the race for a slot to a probe (its 429 came) is begun again."""
    held: list[socket.socket] = []

    def all_held() -> bool:
        answered = select.select(held, [], [], 0)[0]  # a held upload is never answered
        for lost in answered:
            held.remove(lost)
            lost.close()
        held.extend(_hold(server, token) for _ in range(count - len(held)))
        return not answered and probe.get("/api/me.json").status_code == 429

    _until(all_held, f"{count} uploads to hold the member's {count} slots")
    return held


def _finish(held: socket.socket) -> bytes:
    """The rest of the held upload; it does not hash to its name, so the answer is a 400."""
    held.sendall(b"done")
    answer = held.recv(65536)
    held.close()
    return answer


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a condition (a generous deadline only so a broken server fails instead of hanging)."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)


def _slowest(n: int) -> list[tuple[str, dict[str, str]]]:
    """The slowest requests a member can send, at and beyond every limit, ``n`` of them."""
    kinds = [("/search.json", {"q": QUERIES["terms"][0]}), ("/search.json", {"q": "w1* OR " * 31 + "h*"}),
             ("/log.json", {"since": ("3 weeks ago and then " * 4)[:DATE_MAX_CHARS]}),
             ("/search.json", {"q": "(" * 2000 + "head"}), ("/search.json", {"q": "NOT " * 1000 + "head"}),
             ("/search.json", {"q": " OR ".join(f"w{i}" for i in range(1500))}),
             ("/log.json", {"since": "x" * 10_000}), ("/runs.json", {"since": "1 2 " * 2500})]
    return [kinds[i % len(kinds)] for i in range(n)]


def test_one_member_cannot_hold_every_handler_thread_and_others_are_still_served(
        members: Callable[..., Members]) -> None:
    team = members()  # the defaults: 4 handler threads, 2 requests at once a member
    ada, bob = team.client("ada"), team.client("bob")
    held = _hold_slots(team.server, team.tokens["bob"], bob)
    with ThreadPoolExecutor(16) as pool:
        flood = list(pool.map(lambda req: bob.get(req[0], params=req[1]), _slowest(32)))
        assert ada.get("/search.json", params={"q": "head"}).json()["total"] == 30  # served meanwhile
        assert ada.get("/log.json").status_code == 200
    assert {r.status_code for r in flood} == {429}
    assert {r.json()["error"] for r in flood} == {
        "you have 2 requests running on this server already, the most one member may have at once (setting "
        "user_requests); try again when one has finished"}
    assert flood[0].headers["retry-after"] == "1"
    assert [_finish(h)[:12] for h in held] == [b"HTTP/1.1 400"] * 2
    _until(lambda: bob.get("/api/me.json").status_code == 200, "bob's slots to be free again")

    with ThreadPoolExecutor(16) as pool:  # now he floods with his slots free: each answer is one line, none a 500
        flood_at = pool.map(lambda req: bob.get(req[0], params=req[1]), _slowest(48))
        others = [ada.get("/search.json", params={"q": "head"}) for _ in range(3)]
        flood = list(flood_at)
    assert [r.json()["total"] for r in others] == [30] * 3
    assert {r.status_code for r in flood} <= {200, 400, 429}, {r.status_code for r in flood}
    # Which of them get a slot (and so a 400 for a query beyond the limits) depends on timing: under load all
    # may be 429. Every refusal is one line whatever the timing; the 400s themselves: the test after this one.
    refusals = {r.json()["error"] for r in flood if r.status_code in (400, 429)}
    assert refusals and [m for m in refusals if "\n" in m or len(m) > 200] == [], refusals


def test_a_members_share_of_the_servers_time_is_a_token_bucket() -> None:
    from upstack.web.limits import WINDOW, UserSlots

    slots = UserSlots(2, seconds=1.0)
    assert slots.take("bob") and slots.wait("bob") == 0  # a full share: never waits
    slots.give_back("bob")
    slots.charge("bob", 3.0)  # 2 s beyond his share: 2 s to win back at 1 s a WINDOW
    assert 2 * WINDOW - 1 < slots.wait("bob") <= 2 * WINDOW + 0.01
    assert not slots.take("bob") and slots.running("bob") == 0
    assert slots.take("ada") and slots.wait("ada") == 0  # nobody else's share moved
    slots.charge("ada", 0.5)
    assert slots.wait("ada") == 0 and slots.take("ada")


def test_a_request_slowed_by_others_is_charged_its_own_work_not_theirs() -> None:
    from upstack.web.limits import _Clock

    wall = [0.0]
    clock = _Clock(cores=2, wall=lambda: wall[0])
    mark = clock.now()
    clock.running = 1
    wall[0] = 1.0  # alone for a second: a second of work
    assert clock.now() - mark == 1.0
    clock.running = 4  # four requests on two cores: each gets half a core
    wall[0] = 3.0
    assert clock.now() - mark == 2.0
    clock.running = 0  # nothing running: nobody's work
    wall[0] = 10.0
    assert clock.now() - mark == 2.0


def test_a_member_who_used_their_share_of_the_server_waits_and_the_others_do_not(
        members: Callable[..., Members]) -> None:
    team = members(user_seconds="1")  # 1 s of work in any 10 s
    ada, bob = team.client("ada"), team.client("bob")
    held = _hold(team.server, team.tokens["bob"])  # holds a workspace until its body is finished
    _until(lambda: bob.get("/api/me.json").status_code in (200, 429), "bob's upload to begin")
    time.sleep(2.5)  # a lower bound on what the upload holds the server: a slow machine only holds it longer
    assert _finish(held)[:12] == b"HTTP/1.1 400"
    refused = bob.get("/search.json", params={"q": "head"})
    assert refused.status_code == 429
    assert refused.json()["error"].startswith(
        "your requests have taken 1 seconds of this server's work in the last 10, the most one member may "
        "(setting user_seconds); try again in ")
    assert int(refused.headers["retry-after"]) >= 10  # 1.5 s beyond the share, won back at 0.1 s a second
    assert ada.get("/search.json", params={"q": "head"}).json()["total"] == 30  # the others are served


def test_a_429_comes_a_second_after_its_request_so_asking_again_at_once_costs_little(
        members: Callable[..., Members]) -> None:
    """A member refused and asking again at once, from many threads, kept the server busy refusing
    them (bench_attack: some 450 refusals a second, other members' pages 1.7-2x slower). Each 429 now
    comes REFUSAL_PAUSE after its request: eight threads asking back to back for 3 s get about 24."""
    team = members(user_seconds="1")
    bob = team.client("bob")
    held = _hold(team.server, team.tokens["bob"])  # uses up bob's share while it holds a workspace
    _until(lambda: bob.get("/api/me.json").status_code in (200, 429), "bob's upload to begin")
    time.sleep(2.5)
    _finish(held)
    started = time.monotonic()
    assert bob.get("/search.json", params={"q": "head"}).status_code == 429
    assert time.monotonic() - started >= 0.9
    answers: list[int] = []

    def ask() -> None:
        client = team.client("bob")
        until = time.monotonic() + 3
        while time.monotonic() < until:
            answers.append(client.get("/search.json", params={"q": "head"}).status_code)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) == {429}
    assert len(answers) <= 8 * 4, f"{len(answers)} refusals in 3 s from 8 threads"


def test_sync_waits_out_a_busy_server_instead_of_failing(members: Callable[..., Members]) -> None:
    from upstack.services.sync import Remote

    team = members()
    bob = team.client("bob")
    held = _hold_slots(team.server, team.tokens["bob"], bob)  # both of bob's requests at once are in use
    with ThreadPoolExecutor(2) as pool:
        me = pool.submit(Remote(team.server.url, team.tokens["bob"], "bob").json, "GET", "/api/me.json")
        # A push of 8 MB: refused while it is still being sent, it must still see the 429, not a broken pipe.
        push = pool.submit(Remote(team.server.url, team.tokens["bob"], "bob").json, "POST", "/api/sync/push",
                           {"records": [], "padding": "x" * 8_000_000})
        _until(lambda: bob.get("/api/me.json").status_code == 429 and not me.done(), "bob's sync to be refused")
        for upload in held:
            _finish(upload)
        assert me.result()["login"] == "bob"  # tried again once the server had room, no error
        assert push.result()["applied"] == 0


def test_a_search_or_date_beyond_a_limit_is_a_400_on_the_server(members: Callable[..., Members]) -> None:
    bob = members().client("bob")
    answers = {what: bob.get(path, params=params) for what, (path, params) in {
        "deep": ("/search.json", {"q": "(" * 100 + "head"}),
        "nots": ("/search.json", {"q": " ".join(f"-w{i}" for i in range(40))}),
        "since": ("/log.json", {"since": "x" * 10_000}),
        "until": ("/review.json", {"until": "monday " * 20})}.items()}
    assert {what: r.status_code for what, r in answers.items()} == dict.fromkeys(answers, 400)
    assert answers["deep"].json()["error"] == ("the search query nests parentheses 100 deep; the deepest "
                                               f"allowed is {QUERY_MAX_DEPTH}")
    assert answers["since"].json()["error"] == ("the since date is 10,000 characters long; the longest date "
                                                f"text allowed is {DATE_MAX_CHARS}")


# -- what a member may store ---------------------------------------------------------------------

def _put(client: httpx.Client, data: bytes) -> httpx.Response:
    return client.put(f"/api/blobs/{hashlib.sha256(data).hexdigest()}", content=data,
                      headers={"Content-Type": "application/octet-stream"})


def test_a_member_beyond_their_storage_quota_gets_a_413_and_nothing_is_kept(
        members: Callable[..., Members]) -> None:
    team = members(user_quota_mb="0.01")  # 10 kB a member
    ada, bob = team.client("ada"), team.client("bob")
    first, second = b"a" * 6000, b"b" * 6000
    assert _put(bob, first).status_code == 204
    refused = _put(bob, second)
    assert refused.status_code == 413
    assert refused.json()["error"] == ("this would take what you store on the server to 12 kB; the quota is 10 kB "
                                       "a member (setting user_quota_mb): ask its admin")
    assert not team.ws.blobs.path(hashlib.sha256(second).hexdigest()).exists()
    assert _put(bob, first).status_code == 204  # the same file again costs nothing more
    assert _put(ada, second).status_code == 204  # the quota is each member's own

    run_id = new_id()  # a run's points count too: 24 bytes each, 500 of them 12 kB
    assert _push(bob, run_id, [_start(run_id)], {"loss": _points(0, 500)}).status_code == 413
    assert _push(ada, run_id, [_start(run_id)], {"loss": _points(0, 100)}).json()["metrics"] == {"loss": 100}


def test_a_file_beyond_the_quota_holds_back_only_its_entry_and_the_rest_syncs(
        members: Callable[..., Members], tmp_path: Path) -> None:
    """Found by a new-user walkthrough: one file over the quota stopped the whole sync (a 413 on its
    upload was an error), and every later one, so nothing else of the member's went or came."""
    from upstack.services import sync as sync_service

    team = members(user_quota_mb="0.01")  # 10 kB a member
    laptop = Workspace(home=tmp_path / "bob-laptop")
    sync_service.login(laptop, team.server.url, team.tokens["bob"])
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 20_000)
    held = capture.note(laptop, "Bob's note with a big file.", attach=[big])
    capture.note(laptop, "Bob's small note.")
    report = sync_service.sync(laptop)
    assert [(r["subject"], r["op"]) for r in report.refused] == [(held.id, "entry.attach")]
    assert "quota" in report.refused[0]["reason"]
    on_server = {e.title for e in recall.timeline(team.ws, None, None)}
    assert "Bob's small note." in on_server  # the rest went
    laptop.close()


def test_runs_metrics_and_files_beyond_their_caps_get_a_413(members: Callable[..., Members]) -> None:
    team = members(user_max_runs="1", run_max_metrics="2", entry_max_files="2")
    bob = team.client("bob")
    first, second = new_id(), new_id()
    assert _push(bob, first, [_start(first)], {"loss": _points(0, 3), "acc": _points(0, 3)}).status_code == 200
    too_many = _push(bob, first, [], {"l0": _points(0, 3)})
    assert too_many.status_code == 413 and "at most 2 metrics" in too_many.json()["error"]
    another = _push(bob, second, [_start(second)])
    assert another.status_code == 413 and another.json()["error"] == (
        "you have 1 runs on this server, the most a member may (setting user_max_runs)")

    entry = capture.note(team.ws, "Bob's figures")
    ada = team.client("ada")  # the log's owner may attach to it
    files = [("file", (f"f{i}.txt", f"figure {i}".encode(), "text/plain")) for i in range(3)]
    page = ada.get(f"/e/{entry.short}")
    assert page.status_code == 200
    answer = ada.post(f"/e/{entry.short}/attach", files=files)
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["error"] == "an entry may have at most 2 files on this server (setting entry_max_files)"
    assert ada.post(f"/e/{entry.short}/attach", files=files[:2]).status_code == 200
    assert ada.post(f"/e/{entry.short}/attach", files=files[2:]).status_code == 413


def _start(run_id: str) -> dict[str, object]:
    return {"id": new_id(), "op": "run.start", "workspace": "w", "at": "2026-01-01T00:00:00.000000Z",
            "data": {"run_id": run_id, "name": "r", "started_at": "2026-01-01T00:00:00.000000Z"}}


def _points(start: int, count: int) -> dict[str, object]:
    from array import array

    from upstack.services.runsync import wire_points

    return wire_points(start, array("q", range(start, start + count)), array("d", [0.0] * count),
                       array("d", [0.5] * count))


def _push(client: httpx.Client, run_id: str, records: list[dict[str, object]],
          points: dict[str, object] | None = None) -> httpx.Response:
    return client.post(f"/api/runs/{run_id}/push", json={"records": records, "points": points or {}})
