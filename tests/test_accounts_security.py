"""Guarding a team server's accounts (issue 11, items 8, 9 and part of 11): the sign-in throttle
under concurrent guesses and per account, forwarded headers believed only from a trusted proxy,
API tokens (ended by a reset, by signing out everywhere if asked, scoped, expiring), asking for
the password again, idle sessions, the password policy, answers that do not tell whether a login
exists (exports without accounts: tests/test_team_backup.py).

On SQLite and PostgreSQL, over real HTTP with real argon2 (see tests/test_team.py's ``team``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import test_team
from conftest import CLI
from test_team import PASSWORD, Team, csrf_of, login, session_cookie
from upstack.errors import BadInput, BadSetting
from upstack.services import accounts, throttle
from upstack.store.accounts import secret_hash
from upstack.timeutil import now_iso, to_iso
from upstack.workspace import Workspace

LONG_AGO = "2000-01-01T00:00:00.000000Z"
team = test_team.team  # the fixture: alice (admin), bob and carol with passwords, dave invited


def failures(team: Team) -> int:
    return int(team.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'sign-in.failed'"))


def race(team: Team, attempts: list[tuple[str, str, str]]) -> list[int]:
    """Send every (address, login, password) sign-in at once, from its own connection; their statuses."""
    ready = []
    for address, name, password in attempts:
        client = team.client(address)
        ready.append((client, {"csrf": csrf_of(client.get("/login").text), "login": name, "password": password,
                               "next": "/"}))
    start = threading.Barrier(len(ready))
    statuses: list[int] = [0] * len(ready)

    def attempt(number: int) -> None:
        client, form = ready[number]
        start.wait()
        statuses[number] = client.post("/login", data=form).status_code

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(ready))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


# -- item 8: the sign-in throttle ------------------------------------------------------------------

def test_concurrent_guesses_from_one_address_get_at_most_the_limit_checked(team: Team) -> None:
    statuses = race(team, [("127.0.0.40", "alice", f"guess-{n}-wrong") for n in range(16)])
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) == throttle.PAIR_LIMIT == failures(team)
    # The right password, from there, is refused too; from elsewhere it signs in.
    assert login(team.client("127.0.0.40"), "alice", PASSWORD["alice"]).status_code == 429
    assert login(team.client("127.0.0.41"), "alice", PASSWORD["alice"]).status_code == 303


def test_concurrent_guesses_from_many_addresses_get_at_most_the_accounts_limit(team: Team) -> None:
    guesses = [(f"127.0.1.{n % 12 + 1}", "bob", f"guess-{n}-wrong") for n in range(throttle.ACCOUNT_LIMIT + 8)]
    statuses = race(team, guesses)
    assert statuses.count(401) == throttle.ACCOUNT_LIMIT == failures(team), statuses
    assert statuses.count(429) == 8
    # Locked from everywhere now, the right password too; other accounts are not.
    assert login(team.client("127.0.2.1"), "bob", PASSWORD["bob"]).status_code == 429
    assert login(team.client("127.0.2.1"), "carol", PASSWORD["carol"]).status_code == 303


def test_one_addresses_failures_do_not_lock_other_accounts_out_from_it(team: Team) -> None:
    for name in ("bob", "carol", "nobody", "bob", "carol", "nobody", "bob"):
        assert login(team.client("127.0.0.30"), name, "guess-number-x").status_code == 401
    assert login(team.client("127.0.0.30"), "alice", PASSWORD["alice"]).status_code == 303


def test_a_right_password_does_not_count_as_a_failure(team: Team) -> None:
    for _ in range(throttle.PAIR_LIMIT + 2):
        assert login(team.client("127.0.0.50"), "carol", PASSWORD["carol"]).status_code == 303
    assert team.db.scalar("SELECT max(attempts) FROM sign_in_throttle") == 0


@pytest.fixture
def proxied(home: Path, db_url: str | None) -> Iterator[tuple[str, Workspace]]:
    """`upstack serve` itself, as a person runs it, trusting a proxy at 127.0.0.2; alice has a password."""
    with Workspace(home=home, db=db_url) as ws:
        _, link = accounts.add_user(ws, "alice")
        accounts.accept_link(ws, link, PASSWORD["alice"])
    env = {**os.environ, "UPSTACK_HOME": str(home), "UPSTACK_TRUSTED_PROXIES": "127.0.0.2", "PYTHONUNBUFFERED": "1"}
    env.pop("UPSTACK_DB", None)
    if db_url:
        env["UPSTACK_DB"] = db_url
    server = subprocess.Popen([sys.executable, "-m", "upstack", "serve", "--port", "0"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = ""
        for line in server.stdout:  # it prints the address once it listens
            found = re.match(r"open: (http://\S+)/", line)
            if found:
                url = found.group(1)
                break
        assert url, server.stderr.read() if server.stderr else ""
        with Workspace(home=home, db=db_url) as ws:
            yield url, ws
    finally:
        server.terminate()
        server.communicate(timeout=20)


def _sign_in_from(url: str, address: str, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), headers=headers,
                      timeout=30) as client:
        form = client.get("/login")
        # The visitor's cookie (the sign-in form's CSRF secret) is sent back by hand: behind TLS it
        # is Secure, and this client speaks plain HTTP to the server as the proxy does.
        visitor = re.search(r"upstack_visitor=([^;]+)", form.headers["set-cookie"])
        assert visitor
        return client.post("/login", data={"csrf": csrf_of(form.text), "login": "alice",
                                           "password": PASSWORD["alice"], "next": "/"},
                           headers={"Cookie": f"upstack_visitor={visitor.group(1)}"})


def test_forwarded_headers_are_believed_only_from_the_trusted_proxy(proxied: tuple[str, Workspace]) -> None:
    url, ws = proxied
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    direct = _sign_in_from(url, "127.0.0.1", forged)
    cookie = session_cookie(direct)
    assert direct.status_code == 303 and cookie and "secure" not in cookie.lower()
    through = _sign_in_from(url, "127.0.0.2", {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    cookie = session_cookie(through)
    assert through.status_code == 303 and cookie and "secure" in cookie.lower()
    addresses = [r["address"] for r in ws.store().db.query(
        "SELECT address FROM audit_log WHERE action = 'sign-in' ORDER BY at, id")]
    assert addresses == ["127.0.0.1", "198.51.100.7"]


def _serve_refused(run: CLI, **settings: str) -> subprocess.CompletedProcess[str]:
    """`upstack serve` on a team workspace with ``settings`` in its environment, as a process with a
    time limit: a server that took a wrong setting would serve until stopped."""
    run.ok("user", "add", "alice")
    env = {**os.environ, **{k: v for k, v in run.env.items() if v is not None}, **settings}
    if not run.db_url:
        env.pop("UPSTACK_DB", None)
    return subprocess.run([sys.executable, "-m", "upstack", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_trusted_proxy_that_is_not_an_address_is_refused(run: CLI) -> None:
    result = _serve_refused(run, UPSTACK_TRUSTED_PROXIES="127.0.0.1, caddy.internal")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "upstack: error: setting trusted_proxies must be IP addresses or networks separated by commas "
        "(e.g. 127.0.0.1 or 10.0.0.0/8), got '127.0.0.1, caddy.internal': 'caddy.internal' is neither "
        "(from UPSTACK_TRUSTED_PROXIES)"]


# -- item 9: tokens, re-authentication, idle sessions -------------------------------------------------

def _reset_through_the_link(team: Team, name: str, new_password: str) -> None:
    secret = accounts.reset_link(team.ws, name)
    browser = team.client()
    form = browser.get(f"/reset/{secret}")
    done = browser.post(f"/reset/{secret}", data={"csrf": csrf_of(form.text), "password": new_password,
                                                  "again": new_password})
    assert done.status_code == 303, done.text[:300]


def test_a_password_reset_ends_the_accounts_api_tokens(team: Team) -> None:
    script, _ = team.bearer("bob")
    others, _ = team.bearer("carol")
    assert script.get("/log.json").status_code == 200
    _reset_through_the_link(team, "bob", "bob-fresh-password-77")
    assert script.get("/log.json").status_code == 401
    assert script.get("/api/me.json").status_code == 401
    assert others.get("/log.json").status_code == 200
    assert all(t["revoked_at"] for t in accounts.list_tokens(team.ws, team.ids["bob"]))


def test_signing_out_everywhere_ends_the_api_tokens_when_asked(team: Team) -> None:
    alice = team.session("alice")
    script, _ = team.bearer("alice")
    assert alice.post("/account/logout-everywhere", data={"tokens": "true"}).status_code == 303
    assert script.get("/log.json").status_code == 401 and alice.get("/log.json").status_code == 401
    detail = team.db.scalar("SELECT detail FROM audit_log WHERE action = 'sign-out.everywhere'")
    assert "API tokens" in detail


def test_making_a_token_asks_for_the_password_again(team: Team) -> None:
    alice = team.session("alice")
    as_json = {"Accept": "application/json"}
    before = team.db.query("SELECT * FROM api_tokens")
    missing = alice.post("/account/tokens", data={"name": "stolen cookie"}, headers=as_json)
    wrong = alice.post("/account/tokens", data={"name": "stolen cookie", "password": "not-her-password-1"},
                       headers=as_json)
    assert missing.status_code == 422 and wrong.status_code == 403
    assert wrong.json() == {"error": "the current password is wrong"}
    assert team.db.query("SELECT * FROM api_tokens") == before
    page = alice.post("/account/tokens", data={"name": "stolen cookie", "password": "not-her-password-1"})
    assert page.status_code == 403 and "the current password is wrong" in page.text
    made = alice.post("/account/tokens", data={"name": "cluster", "password": PASSWORD["alice"]}, headers=as_json)
    assert made.status_code == 200 and made.json()["secret"].startswith("upstack_")
    assert "password.confirm-failed" in team.actions()


def test_confirming_the_password_is_throttled_like_signing_in(team: Team) -> None:
    alice = team.session("alice", address="127.0.0.60")
    for _ in range(throttle.PAIR_LIMIT):
        assert alice.post("/account/tokens", data={"name": "x", "password": "guess-number-x"}).status_code == 403
    refused = alice.post("/account/tokens", data={"name": "x", "password": PASSWORD["alice"]})
    assert refused.status_code == 429 and "too many failed sign-ins" in refused.text


def test_changing_the_password_asks_for_the_current_one_and_ends_other_sessions(team: Team) -> None:
    laptop, phone = team.session("carol"), team.session("carol")
    script, _ = team.bearer("carol")
    old_hash = team.db.scalar("SELECT password_hash FROM users WHERE login = 'carol'")
    new = "carol-brand-new-password-5"
    wrong = laptop.post("/account/password", data={"current": "not-carols-password", "password": new, "again": new})
    assert wrong.status_code == 403
    assert team.db.scalar("SELECT password_hash FROM users WHERE login = 'carol'") == old_hash
    weak = laptop.post("/account/password", data={"current": PASSWORD["carol"], "password": "password1234",
                                                  "again": "password1234"}, headers={"Accept": "application/json"})
    assert weak.status_code == 400 and "too easy to guess" in weak.json()["error"]
    done = laptop.post("/account/password", data={"current": PASSWORD["carol"], "password": new, "again": new},
                       headers={"Accept": "application/json"})
    assert done.status_code == 200 and done.json() == {"sessions_ended": 1}
    assert laptop.get("/log.json").status_code == 200 and phone.get("/log.json").status_code == 401
    assert script.get("/log.json").status_code == 200  # tokens stay unless asked
    assert login(team.client(), "carol", PASSWORD["carol"]).status_code == 401
    assert login(team.client(), "carol", new).status_code == 303
    again = laptop.post("/account/password", data={"current": new, "password": "carol-third-password-6",
                                                   "again": "carol-third-password-6", "end_tokens": "true"})
    assert again.status_code == 200 and script.get("/log.json").status_code == 401


def _token(client: httpx.Client, password: str, **fields: str) -> str:
    made = client.post("/account/tokens", data={"name": "a script", "password": password, **fields},
                       headers={"Accept": "application/json"})
    assert made.status_code == 200, made.text
    return str(made.json()["secret"])


def test_a_token_can_expire(team: Team) -> None:
    alice = team.session("alice")
    secret = _token(alice, PASSWORD["alice"], expires_days="30")
    listed = next(t for t in alice.get("/account.json").json()["tokens"] if t["name"] == "a script")
    assert listed["expires_at"] > now_iso() and listed["scope"] == "full"
    script = team.client()
    script.headers["Authorization"] = f"Bearer {secret}"
    assert script.get("/log.json").status_code == 200
    team.db.execute("UPDATE api_tokens SET expires_at = ? WHERE secret_hash = ?", (LONG_AGO, secret_hash(secret)))
    assert script.get("/log.json").status_code == 401
    bad = alice.post("/account/tokens", data={"name": "x", "password": PASSWORD["alice"], "expires_days": "0"},
                     headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "expires after 1 to" in bad.json()["error"]


def test_a_tokens_scope_limits_what_it_may_do(team: Team) -> None:
    alice = team.session("alice")
    scripts = {}
    for scope in ("full", "read-only", "sync-only"):
        scripts[scope] = team.client()
        scripts[scope].headers["Authorization"] = f"Bearer {_token(alice, PASSWORD['alice'], scope=scope)}"
    before = team.db.scalar("SELECT count(*) FROM entries")

    def status(scope: str, method: str, path: str, **options: Any) -> int:
        return scripts[scope].request(method, path, **options).status_code

    note = {"data": {"text": "From a script KOALA"}}
    assert [status(s, "GET", "/log.json") for s in scripts] == [200, 200, 403]
    assert [status(s, "GET", "/api/me.json") for s in scripts] == [200, 200, 200]
    assert [status(s, "GET", "/api/sync/manifest.json") for s in scripts] == [200, 200, 200]
    assert [status(s, "POST", "/api/sync/push", json={"records": []}) for s in scripts] == [200, 403, 200]
    assert status("read-only", "POST", "/note", **note) == 403
    assert status("sync-only", "POST", "/note", **note) == 403
    assert status("sync-only", "POST", "/account/tokens", data={"name": "x", "password": PASSWORD["alice"]}) == 403
    assert team.db.scalar("SELECT count(*) FROM entries") == before
    refused = scripts["read-only"].post("/note", data=note["data"])
    assert refused.json() == {"error": "this API token is read-only: it may only read (GET)"}
    assert status("full", "POST", "/note", **note) == 303
    bad = alice.post("/account/tokens", data={"name": "x", "password": PASSWORD["alice"], "scope": "admin"},
                     headers={"Accept": "application/json"})
    assert bad.status_code == 400 and "no token scope 'admin'" in bad.json()["error"]


def _ago(**delta: float) -> str:
    return to_iso(datetime.now(UTC) - timedelta(**delta))


def test_a_session_ends_after_being_idle(team: Team) -> None:
    idle, busy = team.session("alice"), team.session("bob")
    idle_key, busy_key = (secret_hash(c.cookies["upstack_session"]) for c in (idle, busy))
    set_seen = "UPDATE sessions SET seen_at = ? WHERE id = ?"
    team.db.execute(set_seen, (_ago(hours=9), idle_key))
    team.db.execute(set_seen, (seven_hours_ago := _ago(hours=7), busy_key))
    assert idle.get("/log.json").status_code == 401  # 8 hours is the default
    assert team.db.scalar("SELECT ended_at FROM sessions WHERE id = ?", (idle_key,)) is not None
    assert busy.get("/log.json").status_code == 200
    assert team.db.scalar("SELECT seen_at FROM sessions WHERE id = ?", (busy_key,)) > seven_hours_ago  # moved on
    # The setting shortens it.
    with Workspace(home=team.ws.home, db=team.ws.db_url, session_idle_minutes=60) as strict:
        assert accounts.session_user(strict, busy.cookies["upstack_session"]) is not None
        team.db.execute(set_seen, (_ago(minutes=61), busy_key))
        assert accounts.session_user(strict, busy.cookies["upstack_session"]) is None
    with pytest.raises(BadSetting, match="setting session_idle_minutes must be a whole number above zero"):
        Workspace(home=team.ws.home, db=team.ws.db_url, session_idle_minutes="soon")


# -- item 11: passwords, answers that tell nothing, exports -------------------------------------------

@pytest.mark.parametrize("password", ["aaaaaaaaaa", "aaaaaaaaaaaa", "password1234", "qwertyuiop123",
                                      "iloveyou2024", "daveydavey1234"])
def test_a_guessable_password_is_refused(workspace: Workspace, password: str) -> None:
    _, link = accounts.add_user(workspace, "davey", name="Davey Jones")
    with pytest.raises(BadInput, match="too short|too easy to guess"):
        accounts.accept_link(workspace, link, password)
    assert accounts.accept_link(workspace, link, "mossy-lantern-orbit-42").joined


def _without_csrf(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, re.sub(r'name="csrf" value="[^"]+"', "", response.text)


def test_answers_are_the_same_whether_a_login_exists_or_not(team: Team) -> None:
    accounts.remove_user(team.ws, "bob")
    # Signing in: a member's wrong password, a removed member, an invited one, nobody.
    answers = {name: _without_csrf(login(team.client(f"127.0.3.{n}"), name, "guess-number-x"))
               for n, name in enumerate(("carol", "bob", "dave", "nobody"), start=1)}
    texts = {re.sub(r'value="(carol|bob|dave|nobody)"', "", text) for _, text in answers.values()}
    assert {status for status, _ in answers.values()} == {401} and len(texts) == 1
    # Links: made up, used, expired, of a removed account.
    used = accounts.reset_link(team.ws, "carol")
    accounts.accept_link(team.ws, used, "carol-other-password-8")
    expired = accounts.reset_link(team.ws, "alice")
    team.db.execute("UPDATE account_links SET expires_at = ? WHERE id = ?", (LONG_AGO, secret_hash(expired)))
    removed = team.links["dave"]
    accounts.remove_user(team.ws, "dave")
    browser = team.client()
    links = {_without_csrf(browser.get(f"/reset/{secret}")) for secret in ("made-up-secret", used, expired, removed)}
    assert len(links) == 1 and next(iter(links))[0] == 404
    # Inviting: a member's name and a removed one's are refused alike.
    admin = team.session("alice")
    refusals = {json.dumps(admin.post("/admin/users", data={"login": name}, headers={"Accept": "application/json"})
                           .json()).replace(name, "NAME") for name in ("carol", "bob")}
    assert refusals == {'{"error": "user name \'NAME\' is taken; pick another"}'}


def test_upstack_user_sign_out_and_tokens_on_the_command_line(run: CLI) -> None:
    with Workspace(home=run.home, db=run.db_url) as ws:
        _, link = accounts.add_user(ws, "alice")
        alice = accounts.accept_link(ws, link, PASSWORD["alice"])
        _, full = accounts.create_token(ws, alice.id, "laptop")
        accounts.create_token(ws, alice.id, "cluster", scope="sync-only", expires_days=7)
        session = accounts.start_session(ws, alice)
    listed = run.ok("user", "tokens", "alice")
    assert re.search(r"alice\s+sync-only\s+expires \d{4}-\d\d-\d\d\s+cluster", listed)
    assert re.search(r"alice\s+full\s+live\s+laptop", listed) and "upstack_" not in listed
    assert [t["scope"] for t in json.loads(run.ok("user", "tokens", "--json"))] == ["sync-only", "full"]
    assert run.ok("user", "sign-out", "alice").strip() == "ended 1 session of alice"
    with Workspace(home=run.home, db=run.db_url) as ws:
        assert accounts.session_user(ws, session) is None and accounts.token_user(ws, full) is not None
    assert "and their API tokens" in run.ok("user", "sign-out", "alice", "--tokens")
    with Workspace(home=run.home, db=run.db_url) as ws:
        assert accounts.token_user(ws, full) is None
    assert "revoked" in run.ok("user", "tokens")


def test_a_wrong_idle_timeout_is_refused_when_the_server_starts(run: CLI) -> None:
    result = _serve_refused(run, UPSTACK_SESSION_IDLE_MINUTES="0")
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        "upstack: error: setting session_idle_minutes must be a whole number above zero, got '0' "
        "(from UPSTACK_SESSION_IDLE_MINUTES)"]
