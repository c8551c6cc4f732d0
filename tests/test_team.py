"""The team server: accounts, invitation and reset links, sign-in and its throttle, sessions,
API tokens, CSRF, sharing, private entries, comments and notifications, the admin's page, the
audit log and `upstack user`/`share` — on SQLite and PostgreSQL, over real HTTP (a uvicorn
server in a thread) wherever it is a web behaviour, with real argon2.

argon2 costs ~0.3 s a hash on the test machines, so the members of the `team` fixture get
their passwords as an accepted invitation would set them, from hashes made once per test
session; joining and resetting through the links themselves is tested on its own.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

from conftest import CLI, assert_refused_unchanged
from hostile import PAYLOADS, inert_problems
from upstack.cli.serve import check_host
from upstack.domain.access import acting_as
from upstack.errors import BadInput, Forbidden, NotFound
from upstack.services import accounts, capture, tree
from upstack.store.accounts import secret_hash
from upstack.store.db import Database
from upstack.web.auth import COOKIE
from upstack.workspace import Workspace
from webserver import Server, serve

PASSWORD = {"alice": "alice-password-1", "bob": "bob-password-22", "carol": "carol-password-3"}
LONG_AGO = "2000-01-01T00:00:00.000000Z"


@functools.cache
def _argon2(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def session_cookie(response: httpx.Response) -> str | None:
    """The Set-Cookie header that sets the session, if any."""
    return next((h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "=")), None)


def login(client: httpx.Client, name: str, password: str, next: str = "/") -> httpx.Response:  # noqa: A002
    form = client.get("/login")
    assert form.status_code == 200, form.text[:300]
    return client.post("/login", data={"csrf": csrf_of(form.text), "login": name, "password": password,
                                       "next": next})


@dataclass
class Team:
    """A log from before accounts, then alice (the first: admin and owner), bob and carol (with
    passwords), dave (invited, not joined yet); an agenda with a project below it, and a
    project of alice's shared with nobody."""

    server: Server
    ws: Workspace
    ids: dict[str, str]  # login -> user id
    nodes: dict[str, str]  # agenda, project, other -> node id
    entries: dict[str, str]  # old, zebra, mango -> entry id
    links: dict[str, str]  # dave -> invitation secret

    @property
    def db(self) -> Database:
        self.ws.ingest()  # what the server captured
        return self.ws.store().db

    def client(self, address: str = "127.0.0.1") -> httpx.Client:
        """Signed out; from ``address`` (anything in 127/8 reaches the loopback server)."""
        made = httpx.Client(base_url=self.server.url, follow_redirects=False, timeout=30,
                            transport=httpx.HTTPTransport(local_address=address))
        self.server.clients.append(made)
        return made

    def session(self, name: str, address: str = "127.0.0.1") -> httpx.Client:
        """Signed in through /login, sending the session's CSRF token on every request."""
        made = self.client(address)
        response = login(made, name, PASSWORD[name])
        assert response.status_code == 303, response.text[:300]
        made.headers["X-CSRF-Token"] = csrf_of(made.get("/account").text)
        return made

    def bearer(self, name: str) -> tuple[httpx.Client, str]:
        """A client sending an API token (made by the service) and no cookie; and the secret."""
        _, secret = accounts.create_token(self.ws, self.ids[name], f"{name}'s script")
        made = self.client()
        made.headers["Authorization"] = f"Bearer {secret}"
        return made, secret

    def share(self, node: str, name: str, role: str) -> None:
        accounts.share(self.ws, self.nodes[node], name, role, by=None)

    def actions(self) -> list[str]:
        return [r["action"] for r in self.db.query("SELECT action FROM audit_log ORDER BY at, id")]

    def titles(self, client: httpx.Client) -> set[str]:
        response = client.get("/log.json", params={"limit": 200})
        assert response.status_code == 200, response.text[:300]
        return {e["title"] for e in response.json()["entries"]}


@pytest.fixture
def team(home: Path, db_url: str | None) -> Iterator[Team]:
    with Workspace(home=home, db=db_url) as ws:
        old = capture.note(ws, "Old note from before accounts #legacy")
        ids, links = {}, {}
        for name in ("alice", "bob", "carol", "dave"):
            user, links[name] = accounts.add_user(ws, name)
            ids[name] = user.id
        db = ws.store().db
        for name, password in PASSWORD.items():  # as accept_link sets them
            db.execute("UPDATE users SET password_hash = ? WHERE login = ?", (_argon2(password), name))
            db.execute("UPDATE account_links SET used_at = ? WHERE user_id = ?", (LONG_AGO, ids[name]))
        agenda = tree.add_node(ws, "agenda", "Interpretability agenda", why="understand circuits")
        project = tree.add_node(ws, "project", "IOI replication", why="a known circuit", under=agenda.id)
        other = tree.add_node(ws, "project", "Secret project", why="not for sharing")
        zebra = capture.note(ws, "Shared result ZEBRA", under=project.id)
        mango = capture.note(ws, "Unshared MANGO", under=other.id)
        ws.ingest()
        with serve(home, db_url, token=None) as server:
            yield Team(server, ws, ids, {"agenda": agenda.id, "project": project.id, "other": other.id},
                       {"old": old.id, "zebra": zebra.id, "mango": mango.id}, {"dave": links["dave"]})


def all_text(db: Database) -> str:
    """Every row of every table, as one string (to look for secrets in)."""
    if db.dialect == "sqlite":
        tables = [r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [r["table_name"] for r in db.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
    assert "api_tokens" in tables and "sessions" in tables
    return "\n".join(repr(row) for table in tables for row in db.query(f"SELECT * FROM {table}"))


def snapshot(db: Database, *tables: str) -> dict[str, list[dict[str, Any]]]:
    return {t: db.query(f"SELECT * FROM {t} ORDER BY 1") for t in tables}


# -- accounts ------------------------------------------------------------------------------------

def test_the_first_account_is_an_admin_and_owns_the_log_so_far(workspace: Workspace) -> None:
    from upstack.store.queries import get_entry

    old = capture.note(workspace, "Written before there were accounts")
    assert not accounts.has_accounts(workspace)
    alice, _ = accounts.add_user(workspace, "Alice")  # user names are lowercase
    bob, _ = accounts.add_user(workspace, "bob", name="Bob B.")
    boss, _ = accounts.add_user(workspace, "boss", admin=True)
    assert (alice.login, alice.is_admin, alice.joined) == ("alice", True, False)
    assert not bob.is_admin and bob.name == "Bob B." and boss.is_admin
    db = workspace.store().db
    as_alice, as_bob = (accounts.audience_for(workspace, u) for u in (alice, bob))
    assert as_alice.owns_unattributed and not as_bob.owns_unattributed and not accounts.audience_for(
        workspace, boss).owns_unattributed
    with acting_as(as_alice):
        assert get_entry(db, old.id).title == "Written before there were accounts"
    with acting_as(as_bob), pytest.raises(NotFound):
        get_entry(db, old.id)
    # A node made with nobody signed in is the owner's too.
    node = tree.add_node(workspace, "project", "Made from the command line", why="w")
    assert accounts.audience_for(workspace, alice).role(node.id) == "owner"
    assert accounts.audience_for(workspace, bob).role(node.id) is None


@pytest.mark.parametrize("name", ["", "bad name", "-dash", ".dot", "a" * 33, "ålice", "x/y", "a@b"])
def test_a_bad_user_name_is_refused_in_one_line(workspace: Workspace, name: str) -> None:
    with pytest.raises(BadInput) as refused:
        accounts.add_user(workspace, name)
    assert "is not allowed" in str(refused.value) and "\n" not in str(refused.value)
    assert not accounts.has_accounts(workspace)


def test_a_taken_user_name_is_refused(workspace: Workspace) -> None:
    accounts.add_user(workspace, "alice")
    accounts.add_user(workspace, "bob")
    for name in ("alice", "ALICE "):
        with pytest.raises(BadInput, match="is taken"):
            accounts.add_user(workspace, name)
    accounts.remove_user(workspace, "bob")
    with pytest.raises(BadInput, match="^user name 'bob' is taken; pick another$"):  # a removed one the same
        accounts.add_user(workspace, "bob")
    assert [u.login for u in accounts.list_users(workspace)] == ["alice"]


# -- invitation and reset links ------------------------------------------------------------------

def test_an_invitation_link_works_once_and_signs_the_new_member_in(team: Team) -> None:
    secret = team.links["dave"]
    link = f"/join/{secret}"
    browser = team.client()
    form = browser.get(link)
    assert form.status_code == 200 and "dave" in form.text
    joined = browser.post(link, data={"csrf": csrf_of(form.text), "password": "dave-password-9",
                                      "again": "dave-password-9"})
    assert joined.status_code == 303 and joined.headers["location"] == "/"
    cookie = session_cookie(joined)
    assert cookie is not None
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes and "secure" not in attributes
    me = browser.get("/account.json")
    assert me.status_code == 200 and me.json()["user"]["login"] == "dave" and me.json()["user"]["joined"]
    assert "user.joined" in team.actions() and "sign-in" in team.actions()
    # Used up: the page and the form are gone, for anyone.
    assert browser.get(link).status_code == 404
    stranger = team.client()
    visitor_csrf = csrf_of(stranger.get("/login").text)
    again = stranger.post(link, data={"csrf": visitor_csrf, "password": "other-password-9",
                                      "again": "other-password-9"})
    assert again.status_code == 404 and "not valid any more" in again.text
    assert session_cookie(again) is None
    with pytest.raises(NotFound):
        accounts.link_info(team.ws, secret)


def test_joining_is_not_turned_away_by_failed_sign_ins_from_the_same_address(team: Team) -> None:
    """An office behind one address: others' failed sign-ins must not strand a new member with a
    used-up link and no session."""
    for _ in range(5):
        assert login(team.client("127.0.0.40"), "carol", "guess-number-x").status_code == 401
    browser = team.client("127.0.0.40")
    link = f"/join/{team.links['dave']}"
    joined = browser.post(link, data={"csrf": csrf_of(browser.get(link).text), "password": "dave-password-9",
                                      "again": "dave-password-9"})
    assert joined.status_code == 303 and session_cookie(joined) is not None
    assert browser.get("/account.json").json()["user"]["login"] == "dave"


def test_an_expired_invitation_is_refused(team: Team) -> None:
    team.db.execute("UPDATE account_links SET expires_at = ? WHERE user_id = ?", (LONG_AGO, team.ids["dave"]))
    browser = team.client()
    page = browser.get(f"/join/{team.links['dave']}")
    assert page.status_code == 404 and "not valid any more" in page.text
    visitor_csrf = csrf_of(browser.get("/login").text)
    refused = browser.post(f"/join/{team.links['dave']}", data={"csrf": visitor_csrf, "password": "dave-password-9",
                                                                "again": "dave-password-9"})
    assert refused.status_code == 404 and session_cookie(refused) is None
    assert team.db.scalar("SELECT password_hash FROM users WHERE login = 'dave'") is None


@pytest.mark.parametrize(("password", "again", "message"), [
    ("short-1", "short-1", "too short: use at least 12 characters"),
    ("LongLogin10ab", "LongLogin10ab", "cannot be the user name"),
    ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "too easy to guess"),
    ("password1234", "password1234", "too easy to guess"),
    ("good-password-1", "good-password-2", "the two passwords differ"),
])
def test_a_bad_new_password_is_refused_and_nothing_changes(team: Team, password: str, again: str,
                                                           message: str) -> None:
    _, secret = accounts.add_user(team.ws, "longlogin10ab")
    link = f"/join/{secret}"
    browser = team.client()
    form = browser.get(link)
    before = snapshot(team.db, "users", "account_links", "sessions", "audit_log")
    refused = browser.post(link, data={"csrf": csrf_of(form.text), "password": password, "again": again})
    assert refused.status_code == 400 and message in refused.text
    assert session_cookie(refused) is None
    assert snapshot(team.db, "users", "account_links", "sessions", "audit_log") == before
    assert browser.get(link).status_code == 200  # the link still works
    assert browser.get("/log.json").status_code == 401


def test_a_reset_link_sets_a_new_password_and_ends_the_old_sessions(team: Team) -> None:
    old_session = team.session("bob")
    assert old_session.get("/log.json").status_code == 200
    secret = accounts.reset_link(team.ws, "bob")
    browser = team.client()
    form = browser.get(f"/reset/{secret}")
    assert form.status_code == 200 and "A new password for bob" in form.text
    done = browser.post(f"/reset/{secret}", data={"csrf": csrf_of(form.text), "password": "bob-new-password",
                                                  "again": "bob-new-password"})
    assert done.status_code == 303 and session_cookie(done) is not None
    assert browser.get("/log.json").status_code == 200
    assert old_session.get("/log.json").status_code == 401
    assert login(team.client(), "bob", PASSWORD["bob"]).status_code == 401  # the old password is gone
    assert browser.get(f"/reset/{secret}").status_code == 404  # used once
    assert "user.password-reset" in team.actions()


# -- signing in -----------------------------------------------------------------------------------

def test_a_wrong_password_is_refused_and_audited_and_the_right_one_signs_in(team: Team) -> None:
    browser = team.client()
    wrong = login(browser, "alice", "not-her-password")
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    assert session_cookie(wrong) is None and browser.get("/log.json").status_code == 401
    failed = team.db.query("SELECT actor_id, subject, address FROM audit_log WHERE action = 'sign-in.failed'")
    assert failed == [{"actor_id": None, "subject": "alice", "address": "127.0.0.1"}]
    right = login(browser, "alice", PASSWORD["alice"], next="/tree")
    assert right.status_code == 303 and right.headers["location"] == "/tree"
    assert browser.get("/log.json").status_code == 200
    signed = team.db.query("SELECT actor_id, subject FROM audit_log WHERE action = 'sign-in'")
    assert signed == [{"actor_id": team.ids["alice"], "subject": "alice"}]


def test_five_failures_throttle_the_account_from_that_address(team: Team) -> None:
    for _ in range(5):
        assert login(team.client("127.0.0.10"), "alice", "guess-number-x").status_code == 401
    throttled = login(team.client("127.0.0.10"), "alice", PASSWORD["alice"])
    assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.text
    assert session_cookie(throttled) is None
    # Another account from the same address, and the same account from another, are not affected
    # (the account's own limit, from every address together, is tests/test_accounts_security.py's).
    assert login(team.client("127.0.0.10"), "bob", PASSWORD["bob"]).status_code == 303
    assert login(team.client("127.0.0.11"), "alice", PASSWORD["alice"]).status_code == 303


def test_after_signing_in_only_a_local_path_is_followed(team: Team) -> None:
    browser = team.client()
    first = login(browser, "carol", PASSWORD["carol"], next="//evil.com/phish")
    assert first.status_code == 303 and first.headers["location"] == "/"
    for target, expected in [("/tree?x=1", "/tree?x=1"), ("//evil.com", "/"), ("http://evil", "/"),
                             ("https://evil.com/", "/"), ("/\\evil.com", "/"), ("evil.com", "/"),
                             ("javascript:alert(1)", "/")]:
        response = browser.get("/login", params={"next": target})
        assert response.status_code == 303, target
        assert response.headers["location"] == expected, target
    # A browser drops tabs and newlines from a URL: they must not turn a path into //host.
    tricky = browser.get("/login", params={"next": "/\t/evil.com"}).headers["location"]
    assert not re.sub(r"[\t\n\r]", "", tricky).startswith("//"), tricky


# -- sessions ---------------------------------------------------------------------------------------

def test_signing_out_ends_only_that_session(team: Team) -> None:
    laptop, phone = team.session("alice"), team.session("alice")
    cookie = laptop.cookies[COOKIE]
    out = laptop.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    replay = team.client()
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/log.json").status_code == 401
    assert phone.get("/log.json").status_code == 200


def test_signing_out_everywhere_ends_every_session_but_not_api_tokens(team: Team) -> None:
    laptop, phone = team.session("alice"), team.session("alice")
    bob = team.session("bob")
    script, _ = team.bearer("alice")
    cookie = laptop.cookies[COOKIE]
    assert laptop.post("/account/logout-everywhere").status_code == 303
    replay = team.client()
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/log.json").status_code == 401
    assert phone.get("/log.json").status_code == 401
    assert phone.get("/").status_code == 303  # a page sends them to sign in
    assert script.get("/log.json").status_code == 200
    assert bob.get("/log.json").status_code == 200  # someone else's session is theirs
    assert "sign-out.everywhere" in team.actions()


def test_a_removed_member_is_out_at_once_and_what_they_wrote_stays(team: Team) -> None:
    team.share("project", "bob", "editor")
    team.share("project", "carol", "viewer")
    bob = team.session("bob")
    script, _ = team.bearer("bob")
    wrote = bob.post("/note", data={"text": "Bob found an OTTER", "under": team.nodes["project"]})
    assert wrote.status_code == 303
    admin = team.session("alice")
    removed = admin.post("/admin/users/bob/remove")
    assert removed.status_code == 303 and removed.headers["location"] == "/admin"
    assert bob.get("/log.json").status_code == 401 and script.get("/log.json").status_code == 401
    assert bob.post("/note", data={"text": "after removal"}).status_code == 401
    assert login(team.client(), "bob", PASSWORD["bob"]).status_code == 401
    assert team.db.query("SELECT * FROM shares WHERE user_id = ?", (team.ids["bob"],)) == []
    carol = team.session("carol")
    assert "Bob found an OTTER" in team.titles(carol) and "Bob found an OTTER" in team.titles(admin)
    assert "bob" not in {u["login"] for u in admin.get("/admin.json").json()["users"]}
    # The workspace's owner stays.
    refused = admin.post("/admin/users/alice/remove", headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "owns this workspace" in refused.json()["error"]
    assert admin.get("/log.json").status_code == 200


# -- API tokens -----------------------------------------------------------------------------------

def test_an_api_token_is_shown_once_works_without_csrf_and_is_stored_only_as_a_hash(team: Team) -> None:
    alice = team.session("alice")
    made = alice.post("/account/tokens", data={"name": "cluster sync", "password": PASSWORD["alice"]},
                      headers={"Accept": "application/json"})
    assert made.status_code == 200
    secret = made.json()["secret"]
    assert secret.startswith("upstack_") and made.json()["name"] == "cluster sync"
    script = team.client()
    script.headers["Authorization"] = f"Bearer {secret}"
    assert script.get("/log.json").status_code == 200
    wrote = script.post("/note", data={"text": "From a script WOMBAT"})  # no CSRF token
    assert wrote.status_code == 303
    assert "From a script WOMBAT" in team.titles(alice)
    listed = alice.get("/account.json").json()["tokens"]
    assert [t["name"] for t in listed] == ["cluster sync"] and "secret" not in json.dumps(listed)
    assert secret not in alice.get("/account").text
    # In the form's answer, the secret shows once.
    shown = alice.post("/account/tokens", data={"name": "laptop", "password": PASSWORD["alice"]})
    second = re.search(r'id="new-token">([^<]+)<', shown.text)
    assert shown.status_code == 200 and second and second.group(1).startswith("upstack_")
    stored = all_text(team.db)
    for found in (secret, second.group(1), alice.cookies[COOKIE], team.links["dave"]):
        assert found not in stored
    assert secret_hash(secret) in stored and secret_hash(alice.cookies[COOKIE]) in stored
    # Revoked: refused at once.
    token = next(t for t in listed if t["name"] == "cluster sync")
    assert alice.post(f"/account/tokens/{token['short']}/revoke").status_code == 303
    assert script.get("/log.json").status_code == 401
    assert script.post("/note", data={"text": "after revoking"}).status_code == 401
    assert {"token.create", "token.revoke"} <= set(team.actions())


def test_only_the_tokens_user_or_an_admin_may_revoke_it(team: Team) -> None:
    alice_script, _ = team.bearer("alice")
    bob_script, _ = team.bearer("bob")
    alice_token = accounts.list_tokens(team.ws, team.ids["alice"])[0]
    bob_token = accounts.list_tokens(team.ws, team.ids["bob"])[0]
    json_only = {"Accept": "application/json"}
    refused = bob_script.post(f"/account/tokens/{alice_token['short']}/revoke", headers=json_only)
    assert refused.status_code == 404
    assert bob_script.post(f"/admin/tokens/{alice_token['short']}/revoke", headers=json_only).status_code == 403
    assert alice_script.get("/log.json").status_code == 200
    # An admin may revoke anyone's.
    assert alice_script.post(f"/admin/tokens/{bob_token['short']}/revoke", headers=json_only).status_code == 200
    assert bob_script.get("/log.json").status_code == 401
    assert alice_script.get("/log.json").status_code == 200


# -- CSRF ---------------------------------------------------------------------------------------------

def test_a_signed_in_post_needs_the_csrf_token(team: Team) -> None:
    alice = team.session("alice")
    bob = team.session("bob")
    token = alice.headers.pop("X-CSRF-Token")
    before = snapshot(team.db, "entries", "api_tokens", "shares", "sessions")
    for path, form in [("/note", {"text": "Forged NARWHAL"}),
                       ("/account/tokens", {"name": "forged", "password": PASSWORD["alice"]}),
                       (f"/tree/{team.nodes['project']}/share", {"login": "bob", "role": "owner"}),
                       ("/account/logout-everywhere", {}), ("/logout", {})]:
        assert alice.post(path, data=form).status_code == 403, path
        assert alice.post(path, data={**form, "csrf": "0" * 32}).status_code == 403, path
    # Another session's token is no good either.
    assert alice.post("/note", data={"text": "Forged NARWHAL"},
                      headers={"X-CSRF-Token": bob.headers["X-CSRF-Token"]}).status_code == 403
    assert snapshot(team.db, "entries", "api_tokens", "shares", "sessions") == before
    assert alice.post("/note", data={"text": "Real NARWHAL"}, headers={"X-CSRF-Token": token}).status_code == 303
    assert alice.post("/note", data={"text": "Form NARWHAL", "csrf": token}).status_code == 303
    assert {"Real NARWHAL", "Form NARWHAL"} <= team.titles(alice)
    assert "Forged NARWHAL" not in team.titles(alice)


# -- sharing ---------------------------------------------------------------------------------------

def test_sharing_an_agenda_shares_what_is_below_it_until_unshared(team: Team) -> None:
    alice, carol = team.session("alice"), team.session("carol")
    project, agenda = team.nodes["project"], team.nodes["agenda"]
    assert "Shared result ZEBRA" not in team.titles(carol)
    assert carol.get(f"/tree/{project}.json").status_code == 404
    shared = alice.post(f"/tree/{agenda}/share", data={"login": "carol", "role": "viewer"})
    assert shared.status_code == 303
    assert team.titles(carol) == {"Shared result ZEBRA"}  # not MANGO, not alice's own old note
    assert carol.get(f"/tree/{project}.json").status_code == 200
    assert carol.get(f"/tree/{team.nodes['other']}.json").status_code == 404
    roles = carol.get(f"/tree/{project}/sharing.json").json()
    assert [(s["login"], s["role"], s["inherited"], s["on_id"]) for s in roles["shares"]] == [
        ("carol", "viewer", True, agenda)]
    assert roles["may_share"] is False
    page = carol.get(f"/tree/{project}/sharing").text
    assert f'href="/tree/{agenda}/sharing"' in page and "Interpretability agenda" in page
    assert 'id="share-form"' not in page
    assert 'id="share-form"' in alice.get(f"/tree/{project}/sharing").text
    unshared = alice.post(f"/tree/{agenda}/unshare", data={"login": "carol"})
    assert unshared.status_code == 303
    assert team.titles(carol) == set()
    assert carol.get(f"/tree/{project}.json").status_code == 404
    assert {"share", "unshare"} <= set(team.actions())


def test_only_an_owner_may_share(team: Team) -> None:
    team.share("project", "bob", "editor")
    bob, _ = team.bearer("bob")
    refused = bob.post(f"/tree/{team.nodes['project']}/share", data={"login": "carol", "role": "editor"},
                       headers={"Accept": "application/json"})
    assert refused.status_code == 403 and "only an owner" in refused.json()["error"]
    assert bob.post(f"/tree/{team.nodes['project']}/unshare", data={"login": "bob"}).status_code == 403
    rows = team.db.query("SELECT user_id, role FROM shares ORDER BY user_id")
    assert rows == [{"user_id": team.ids["bob"], "role": "editor"}]
    with pytest.raises(Forbidden):
        accounts.share(team.ws, team.nodes["project"], "carol", "viewer",
                       by=accounts.audience_for(team.ws, accounts.find_user(team.ws, "bob")))
    # An owner's role (here shared on the agenda) lets them share below it.
    team.share("agenda", "bob", "owner")
    assert bob.post(f"/tree/{team.nodes['project']}/share", data={"login": "carol"}).status_code == 303
    assert "Shared result ZEBRA" in team.titles(team.bearer("carol")[0])


# -- comments and notifications -----------------------------------------------------------------------

def test_a_comment_notifies_the_author_until_read(team: Team) -> None:
    team.share("project", "bob", "commenter")
    team.share("project", "carol", "viewer")
    alice, bob = team.session("alice"), team.session("bob")
    carol, _ = team.bearer("carol")
    zebra = team.entries["zebra"]
    assert 'id="unread"' not in alice.get("/").text
    said = bob.post(f"/e/{zebra}/comments", data={"body": "Does this hold for GPT-2 medium?"})
    assert said.status_code == 303
    assert 'id="unread">1<' in alice.get("/").text
    waiting = alice.get("/notifications.json").json()["notifications"]
    assert [(n["actor"], n["comment"], n["read_at"]) for n in waiting] == [
        ("bob", "Does this hold for GPT-2 medium?", None)]
    assert 'id="unread"' not in bob.get("/").text  # not notified of their own comment
    assert "Does this hold for GPT-2 medium?" in alice.get(f"/e/{zebra}").text
    assert alice.post("/notifications/read").status_code == 303
    assert 'id="unread"' not in alice.get("/").text
    assert alice.get("/notifications.json").json()["notifications"][0]["read_at"]
    # A viewer reads the comments but may not add one.
    assert "Does this hold" in carol.get(f"/e/{zebra}").text and "comment-form" not in carol.get(f"/e/{zebra}").text
    refused = carol.post(f"/e/{zebra}/comments", data={"body": "me too"})
    assert refused.status_code == 403
    assert team.db.scalar("SELECT count(*) FROM comments") == 1
    assert carol.post(f"/e/{zebra}/edit", data={"text": "Carol rewrote it"}).status_code == 403


def test_the_badge_counts_only_what_the_reader_can_still_see(team: Team) -> None:
    team.share("project", "bob", "commenter")
    team.share("project", "carol", "commenter")
    bob, _ = team.bearer("bob")
    carol, _ = team.bearer("carol")
    zebra = team.entries["zebra"]
    assert carol.post(f"/e/{zebra}/comments", data={"body": "First"}).status_code == 303
    assert bob.post(f"/e/{zebra}/comments", data={"body": "Second"}).status_code == 303
    assert 'id="unread">1<' in carol.get("/").text  # an earlier commenter hears of later ones
    accounts.unshare(team.ws, team.nodes["project"], "carol", by=None)
    assert carol.get("/notifications.json").json()["notifications"] == []
    assert 'id="unread"' not in carol.get("/").text
    assert accounts.unread_count(team.ws, team.ids["carol"]) == 1  # with nobody signed in, all of it


def test_hostile_comments_are_shown_as_text(team: Team) -> None:
    team.share("project", "bob", "commenter")
    bob, _ = team.bearer("bob")
    zebra = team.entries["zebra"]
    for payload in PAYLOADS:
        assert bob.post(f"/e/{zebra}/comments", data={"body": payload}).status_code == 303, payload
    alice, _ = team.bearer("alice")
    for path in (f"/e/{zebra}", "/notifications"):
        page = alice.get(path).text
        assert inert_problems(page) == [], path
        for payload in PAYLOADS:
            assert str(escape(payload.strip())) in page, (path, payload)


# -- the admin's page ------------------------------------------------------------------------------

def test_the_admin_page_is_for_admins(team: Team) -> None:
    bob, _ = team.bearer("bob")
    for path in ("/admin", "/admin.json"):
        assert bob.get(path).status_code == 403
    before = snapshot(team.db, "users", "account_links")
    assert bob.post("/admin/users", data={"login": "mallory", "admin": "true"}).status_code == 403
    assert bob.post("/admin/users/alice/reset").status_code == 403
    assert bob.post("/admin/users/carol/remove").status_code == 403
    assert snapshot(team.db, "users", "account_links") == before
    assert "/admin" not in bob.get("/").text.split("<main>")[0]


def test_an_admin_invites_resets_and_removes_and_the_audit_log_shows_it(team: Team) -> None:
    alice = team.session("alice")
    assert 'href="/admin"' in alice.get("/").text
    invited = alice.post("/admin/users", data={"login": "erin", "name": "Erin E."})
    assert invited.status_code == 200
    link = re.search(r'id="account-link">([^<]+)<', invited.text)
    assert link and f"{team.server.url}/join/" in link.group(1)
    join_page = team.client().get(link.group(1).removeprefix(team.server.url))
    assert join_page.status_code == 200 and "Welcome, Erin E." in join_page.text
    reset = alice.post("/admin/users/carol/reset", headers={"Accept": "application/json"}).json()["link"]
    assert reset["purpose"] == "password reset" and "/reset/" in reset["url"]
    assert team.client().get(reset["url"].removeprefix(team.server.url)).status_code == 200
    assert alice.post(f"/tree/{team.nodes['project']}/share", data={"login": "carol"}).status_code == 303
    assert alice.post(f"/tree/{team.nodes['project']}/unshare", data={"login": "carol"}).status_code == 303
    token = alice.post("/account/tokens", data={"name": "ci", "password": PASSWORD["alice"]},
                       headers={"Accept": "application/json"}).json()
    assert alice.post(f"/admin/tokens/{token['short']}/revoke").status_code == 303
    assert alice.post("/admin/users/dave/remove").status_code == 303
    page = alice.get("/admin.json").json()
    assert {u["login"] for u in page["users"]} == {"alice", "bob", "carol", "erin"}
    logged = {(a["action"], a["actor"]) for a in page["audit"]}
    for action in ("sign-in", "user.invite", "user.reset-link", "share", "unshare", "token.create",
                   "token.revoke", "user.remove"):
        assert (action, "alice") in logged, action
    html = alice.get("/admin").text
    assert all(action in html for action in ("user.remove", "token.revoke", "unshare", "sign-in"))
    assert "dave" in next(a["subject"] for a in page["audit"] if a["action"] == "user.remove")


# -- private entries and authorship ---------------------------------------------------------------------

def test_a_private_note_is_its_authors_alone_even_in_a_shared_project(team: Team, tmp_path: Path) -> None:
    team.share("project", "bob", "editor")
    alice, bob = team.session("alice"), team.session("bob")
    made = alice.post("/note", data={"text": "Private thought KIWI", "under": team.nodes["project"],
                                     "private": "true"})
    assert made.status_code == 303
    short = made.headers["location"].split("added=")[1]
    attached = alice.post(f"/e/{short}/attach", files={"file": ("kiwi.png", b"\x89PNG kiwi pixels", "image/png")})
    assert attached.status_code == 303
    entry = alice.get(f"/e/{short}.json").json()["entry"]
    assert entry["private"] and entry["node_id"] == team.nodes["project"]
    attachment = entry["attachments"][0]["id"]
    assert alice.get(f"/a/{attachment}").content == b"\x89PNG kiwi pixels"
    assert "Private thought KIWI" in team.titles(alice)
    assert "Private thought KIWI" not in team.titles(bob) and "Shared result ZEBRA" in team.titles(bob)
    assert "KIWI" not in bob.get(f"/tree/{team.nodes['project']}").text
    assert bob.get(f"/e/{short}").status_code == 404
    assert bob.get(f"/a/{attachment}").status_code == 404
    # Refused as if it did not exist (a shared entry he may only read answers 403).
    assert bob.post(f"/e/{short}/edit", data={"text": "Bob rewrote it"}).status_code == 404
    assert bob.post(f"/e/{short}/attach", files={"file": ("x.png", b"x", "image/png")}).status_code == 404
    assert alice.get(f"/e/{short}.json").json()["entry"]["title"] == "Private thought KIWI"
    assert len(alice.get(f"/e/{short}.json").json()["entry"]["attachments"]) == 1


def test_a_note_from_the_web_is_its_writers_and_goes_only_where_they_may_write(team: Team) -> None:
    team.share("agenda", "bob", "viewer")
    team.share("project", "bob", "editor")
    bob = team.session("bob")
    wrote = bob.post("/note", data={"text": "Bob's finding OTTER", "under": team.nodes["project"]})
    assert wrote.status_code == 303
    row = team.db.one("SELECT author_id, node_id FROM entries WHERE title = ?", ("Bob's finding OTTER",))
    assert row == {"author_id": team.ids["bob"], "node_id": team.nodes["project"]}
    alice, _ = team.bearer("alice")
    found = [e for e in alice.get("/log.json").json()["entries"] if e["title"] == "Bob's finding OTTER"]
    assert found and found[0]["author_id"] == team.ids["bob"]
    before = snapshot(team.db, "entries")
    assert bob.post("/note", data={"text": "Into the agenda", "under": team.nodes["agenda"]}).status_code == 403
    assert bob.post("/note", data={"text": "Into the secret", "under": team.nodes["other"]}).status_code == 404
    assert snapshot(team.db, "entries") == before
    # Unfiled notes are anyone's own.
    assert bob.post("/note", data={"text": "Bob's own scratch"}).status_code == 303
    assert "Bob's own scratch" not in team.titles(alice)


# -- the command line ------------------------------------------------------------------------------------

def test_upstack_user_and_share_on_the_command_line(run: CLI) -> None:
    first = run.ok("user", "add", "alice", "--url", "https://team.example")
    assert "alice owns this workspace's log" in first and "https://team.example/join/" in first
    second = run.ok("user", "add", "bob")
    assert "owns" not in second and "http://127.0.0.1:8765/join/" in second
    listed = json.loads(run.ok("user", "list", "--json"))
    assert [(u["login"], u["is_admin"], u["joined"]) for u in listed] == [("alice", True, False),
                                                                           ("bob", False, False)]
    assert "/reset/" in run.ok("user", "reset", "alice")
    with Workspace(home=run.home, db=run.db_url) as ws:
        node = tree.add_node(ws, "project", "Shared project", why="w")
    assert "shared with alice as editor" in run.ok("share", node.short, "alice", "--role", "editor")
    with Workspace(home=run.home, db=run.db_url) as ws:
        assert [(s["login"], s["role"]) for s in accounts.shares_of(ws, node.id)] == [("alice", "editor")]
    assert "no longer has a role" in run.ok("unshare", node.short, "alice")
    assert_refused_unchanged(run, ["unshare", node.short, "alice"], "alice has no share on that node")
    assert_refused_unchanged(run, ["share", node.short, "nobody"], "no user 'nobody'")
    assert_refused_unchanged(run, ["user", "reset", "nobody"], "no user 'nobody'")
    assert_refused_unchanged(run, ["user", "add", "bob"], "user name 'bob' is taken")
    assert_refused_unchanged(run, ["user", "add", "Bad Name"], "is not allowed")
    assert_refused_unchanged(run, ["user", "remove", "alice"], "alice owns this workspace")
    usage = run("share", node.short, "bob", "--role", "boss")
    assert usage.exit_code == 2 and "boss" in usage.stderr
    assert "removed bob" in run.ok("user", "remove", "bob")
    assert [u["login"] for u in json.loads(run.ok("user", "list", "--json"))] == ["alice"]
    assert_refused_unchanged(run, ["user", "remove", "bob"], "no user 'bob'")


def test_serve_listens_publicly_only_with_accounts(run: CLI) -> None:
    refused = run("serve", "--host", "0.0.0.0", "--port", "0")
    assert refused.exit_code == 1 and "refusing to serve on 0.0.0.0" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.output
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.5"):
        check_host(host)
    for host in ("0.0.0.0", "::", "192.168.1.10", "team.example"):
        with pytest.raises(BadInput, match="without accounts"):
            check_host(host)
        check_host(host, team=True)


def test_a_server_backup_round_trip_keeps_users_shares_and_comments(run: CLI, tmp_path: Path, engine: str,
                                                                     make_pg_url: Any) -> None:
    with Workspace(home=run.home, db=run.db_url) as ws:
        capture.note(ws, "Before accounts")
        accounts.add_user(ws, "alice")
        bob, link = accounts.add_user(ws, "bob", name="Bob B.")
        accounts.accept_link(ws, link, "bob-password-22")
        project = tree.add_node(ws, "project", "Shared", why="w")
        entry = capture.note(ws, "Shared finding", under=project.id)
        accounts.share(ws, project.id, "bob", "editor", by=None)
        as_bob = accounts.audience_for(ws, bob)
        with acting_as(as_bob):
            capture.note(ws, "Bob's own note", under=project.id, private=True)
            accounts.add_comment(ws, entry.id, "Nice <b>result</b>", by=as_bob)
    from upstack.services.jsondump import dump_tables

    # (A plain export leaves the accounts out: tests/test_accounts_security.py.)
    run.ok("export", "--server-backup", "--out", str(tmp_path / "server.json"))
    copy = CLI(tmp_path / "round-trip", make_pg_url() if engine == "postgresql" else None)
    copy.ok("import", "--server-backup", str(tmp_path / "server.json"))
    with Workspace(home=run.home, db=run.db_url) as source, Workspace(home=copy.home, db=copy.db_url) as ws:
        assert dump_tables(ws.store().db) == dump_tables(source.store().db)
        assert [u.login for u in accounts.list_users(ws)] == ["alice", "bob"]
        assert [(s["login"], s["role"]) for s in accounts.shares_of(ws, project.id)] == [("bob", "editor")]
        assert [c["body"] for c in accounts.comments_for(ws, entry.id)] == ["Nice <b>result</b>"]


def test_an_export_on_a_team_server_is_audited(run: CLI, tmp_path: Path) -> None:
    run.ok("note", "Before accounts.")
    run.ok("export", "--out", str(tmp_path / "before.json"))
    run.ok("user", "add", "alice")
    run.ok("export", "--out", str(tmp_path / "after.json"))
    with Workspace(home=run.home, db=run.db_url) as ws:
        exports = [a for a in accounts.audit_log(ws) if a["action"] == "export"]
    assert [(a["subject"], a["detail"]) for a in exports] == [("json", str(tmp_path / "after.json"))]
