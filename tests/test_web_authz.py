"""The authorization matrix: every route × every person × every resource, on both engines.

The routes are enumerated from the app (a new route is covered without editing this
test); each path parameter is filled with every resource of every kind (short and full
ids), and each query parameter that names something (a project, a run, an entry, a
search) with every such thing. A parameter the test does not know how to fill fails it.

Who may see what comes from a small oracle written here from the rules in
domain/access.py (it never asks the app's ``Audience``), over the facts
tests/team_fixtures.py records for each resource. Every resource carries a marker
word, and the checks are:

- reads: no response (body or headers, HTML or JSON) shows a marker of something its
  reader may not see; a hidden thing answers exactly as a thing that does not exist;
  nothing answers 500; a visitor who is not signed in is sent to /login (JSON: 401);
- counts: search totals and facets, the timeline, the tree's counts, the check's
  figures, the idea board and the runs list count exactly what the reader may see;
- nothing leaks by difference: after others write things a reader may not see, every
  page that reader gets is unchanged;
- writes: every route that is not a GET has a rule here (a new one fails until it gets
  one); each person is refused (401/403/404, and no table changes) or allowed (and it
  happens), and no answer shows what its asker may not see.

``test_the_oracle_and_the_leak_check_can_fail`` shows the checks catch what they should.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from conftest import ENGINES, _fresh_pg_schema
from team_fixtures import (
    EXTRA_LOGINS,
    LOGINS,
    PART_OP,
    PART_RECORD,
    PIPELINE_KINDS,
    USERS,
    Resource,
    Team,
    TeamClient,
    add_comment,
    add_contact,
    add_entry,
    add_idea,
    add_opportunity,
    add_path,
    add_run,
    build_team,
    delete_entry,
    png,
)
from upstack.domain import access
from upstack.ids import new_id, short_id
from upstack.services import accounts, ladder, resources, stars
from upstack.services.jsondump import dump_tables
from upstack.services.runsync import wire_points
from upstack.store.queries import NOT_WORK_KINDS
from upstack.web.app import create_app
from upstack.web.routes.review import DEFAULT_DAYS
from upstack.workspace import Workspace
from webserver import serve

WHO: tuple[str | None, ...] = (*USERS, None)  # None: a visitor who is not signed in
# Pages of local mode only (the one owner's wellbeing, issue 18): a team server has no route for
# them, and no page of it may link one.
LOCAL_ONLY = ("/pace",)
LOCAL_ONLY_LINK = re.compile(r"""["'=]\s*/pace\b""")
WHO_IDS = [w or "anonymous" for w in WHO]
ADMINS = {"A"}
PUBLIC = ("/login", "/join/{secret}", "/reset/{secret}")


# -- the oracle: domain/access.py's rules, written again ------------------------------------

RANK = {"viewer": 0, "commenter": 1, "editor": 2, "owner": 3}


def author(resource: Resource) -> str:
    return resource.author or "A"  # written with nobody signed in: the workspace owner's


def role(team: Team, who: str | None, node: str | None) -> str | None:
    """The highest role ``who`` holds on ``node``: made it, shared on it, or held on a node above."""
    best: str | None = None
    seen: set[str] = set()
    while node is not None and node not in seen and who is not None:
        seen.add(node)
        held = [team.shares.get((node, who)), "owner" if author(team[node]) == who else None]
        for candidate in held:
            if candidate and (best is None or RANK[candidate] > RANK[best]):
                best = candidate
        node = team[node].node
    return best


def sees(team: Team, who: str | None, resource: Resource) -> bool:
    if who is None:
        return False
    if resource.kind == "node":
        return role(team, who, resource.name) is not None
    if resource.kind in ("attachment", "comment"):
        return sees(team, who, team[resource.entry or ""])
    if resource.kind == "token":
        return resource.author == who or who in ADMINS
    if resource.kind in ("path", *PIPELINE_KINDS):
        # A person's own, and the parts they show their mentors: never practice, never what is local-only.
        return author(resource) == who or (resource.part != "practice" and not resource.local_only
                                           and resource.part in team.mentors.get((author(resource), who), ()))
    if author(resource) == who:
        return True
    if resource.kind in ("run", "artifact"):  # a run (and its result entry) is never private; its artifacts follow it
        return role(team, who, resource.node) is not None
    return not resource.private and not resource.deleted and role(team, who, resource.node) is not None


def may(team: Team, who: str | None, resource: Resource, needed: str) -> bool:
    """Whether ``who`` may change (editor) or comment on (commenter) an entry."""
    if not sees(team, who, resource):
        return False
    held = role(team, who, resource.node)
    return author(resource) == who or (not resource.private and held is not None and RANK[held] >= RANK[needed])


def forbidden(team: Team, who: str | None) -> dict[str, Resource]:
    """Marker -> resource, for every marker ``who`` may not see."""
    return {m: r for m, r in team.markers().items() if not sees(team, who, r)}


def leaks(team: Team, who: str | None, response_text: str, asked: str) -> list[str]:
    """The forbidden markers in a response (except those the request itself carried: a filter echoed)."""
    text, asked = response_text.upper(), asked.upper()
    return sorted(f"{m} ({r.name})" for m, r in forbidden(team, who).items() if m in text and m not in asked)


def _entry_kind(resource: Resource) -> str:
    """The kind a page gives it: a prediction is an entry of kind prediction, a take of kind take, other
    entries are notes."""
    if resource.kind == "entry":
        return next((kind for kind in ("prediction", "take") if resource.name.startswith(f"{kind}-")), "note")
    return resource.kind


def live_entries(team: Team, who: str | None) -> list[Resource]:
    """The entries (notes, ideas, run results) ``who`` sees on the timeline: visible and not deleted."""
    return [r for r in team.of_kind("entry", "idea", "run") if sees(team, who, r) and not r.deleted]


# -- the routes, from the app ----------------------------------------------------------------

def app_routes() -> list[tuple[str, str, APIRoute | Route]]:
    """(method, path, route) of every route, routers included, except the static files."""
    found = []
    pending = list(create_app(Workspace(), token=None).routes)
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)
        if included is not None:
            pending += included.routes
        elif isinstance(route, APIRoute | Route):
            found += [(method, route.path, route) for method in route.methods or () if method != "HEAD"]
    return sorted(found, key=lambda r: (r[0], r[1]))


ROUTES = app_routes()
GETS = {path: route for method, path, route in ROUTES if method == "GET"}
WRITES = {(method, path): route for method, path, route in ROUTES if method != "GET"}
POSTS = {path for method, path in WRITES if method == "POST"}


def path_params(path: str) -> list[str]:
    return re.findall(r"\{([^}:]+)", path)


def query_params(route: APIRoute | Route) -> list[tuple[str, bool]]:
    """(name, required) of the route's query parameters."""
    if not isinstance(route, APIRoute):
        return []
    return [(p.alias, p.field_info.is_required()) for p in route.dependant.query_params]


def is_json(path: str) -> bool:
    return path.endswith(".json")


# What each path parameter can name (kinds of resources, or a special list), and the query
# parameters that name something. Query parameters that name nothing keep their defaults.
PATH_KINDS = {"ref": ("node", "entry", "idea", "run", "comment", "panel"), "attachment_id": ("attachment",),
              "token_id": ("token",), "slug": PIPELINE_KINDS, "name": ("artifact",)}
PATH_SPECIAL = ("login", "secret", "sha256", "run_id")  # user names, link secrets, files, runs (by full id)
QUERY_KINDS = {"project": ("node",), "under": ("node",), "before": ("entry", "idea", "run"), "id": ("run",),
               "with": ("run",), "run": ("run",), "name": ("run",), "q": ("entry", "idea", "run", "comment", "node")}
QUERY_CONSTANT = {"key": "loss"}  # required, and naming nothing secret
QUERY_PLAIN = {"kind", "tag", "since", "until", "limit", "offset", "order", "open_only", "status", "where",
               "overlay", "log", "points", "start", "end", "download", "next", "days", "state", "deleted",
               "by", "band", "x", "sort"}  # issue 20: grouping, the band, the x axis, the runs table's sort


def unknown_parameters(path: str, route: APIRoute | Route) -> list[str]:
    problems = [f"path parameter {{{p}}}" for p in path_params(path) if p not in PATH_KINDS and p not in PATH_SPECIAL]
    for name, required in query_params(route):
        if name not in QUERY_KINDS and name not in QUERY_CONSTANT and (required or name not in QUERY_PLAIN):
            problems.append(f"query parameter {name!r}")
    return problems


@dataclass(frozen=True)
class Ask:
    """One GET: the address, and what it names (a resource, or nothing at all: a control)."""

    url: str
    subject: Resource | None = None
    value: str = ""  # the text naming the subject
    control: str = ""  # the same address naming nothing that exists
    control_value: str = ""


MISSING_ID = new_id()  # an id of nothing: one per run, so each control address is asked once
MISSING_SHA = hashlib.sha256(MISSING_ID.encode()).hexdigest()


def _forms(resource: Resource, param: str) -> list[tuple[str, str]]:
    """(value, a nonexistent value of the same form) naming ``resource`` in ``param``."""
    missing_short = short_id(MISSING_ID)
    if param == "slug":  # an opportunity's, application's or contact's: as far from every real one as they are apart
        return [(resource.slug, "qunosuchslug")]
    if param == "project":
        return [(resource.markers[0], "QUNOSUCHPROJECT"), (resource.short, missing_short)]
    if param in ("q", "name"):
        return [(resource.markers[0], "QUNOSUCHWORD")]
    if param == "before":
        return [(resource.id, MISSING_ID)]
    if param in ("id", "with", "under"):
        return [(resource.short, missing_short)]
    return [(resource.short, missing_short), (resource.id, MISSING_ID)]


def asks_for(team: Team, path: str, route: APIRoute | Route, base: dict[str, str] | None = None) -> list[Ask]:
    """Every request this test makes of a GET route: its path parameter filled with each thing it could
    name; or, at a filled path (``base``) or for a route without one, each query parameter that names
    something filled with each such thing, one at a time."""
    constant = [(name, QUERY_CONSTANT[name]) for name, _ in query_params(route) if name in QUERY_CONSTANT]
    params = path_params(path)
    if len(params) > 1:
        raise AssertionError(f"{path}: a route with two path parameters needs a rule in asks_for")

    def url(fill: dict[str, str], query: list[tuple[str, str]] | None = None) -> str:
        address = path
        for name, value in fill.items():
            address = address.replace("{" + name + "}", value)
        pairs = [*constant, *(query or [])]
        return address + ("?" + urlencode(pairs) if pairs else "")

    asks: list[Ask] = []
    if params and base is None:
        name = params[0]
        if name == "secret":
            return [Ask(url({name: s})) for s in (*team.links.values(), secrets.token_urlsafe(32))]
        if name == "login":
            return [Ask(url({name: login})) for login in (*LOGINS.values(), *EXTRA_LOGINS, "nobody")]
        if name == "sha256":
            return [Ask(url({name: r.sha256}), r, r.sha256, url({name: MISSING_SHA}), MISSING_SHA)
                    for r in team.of_kind("attachment")]
        twin = f"{path}.json" in GETS  # a page and its JSON twin share a handler: full ids once, in the JSON
        for resource in team.of_kind(*PATH_KINDS[name]):
            for value, missing in _forms(resource, name)[:1 if twin else 2]:
                asks.append(Ask(url({name: value}), resource, value, url({name: missing}), missing))
        return asks
    start = base or {}
    if not params:
        asks.append(Ask(url({})))
    for name, _ in query_params(route):
        for resource in team.of_kind(*QUERY_KINDS.get(name, ())):
            for value, missing in _forms(resource, name):
                values, nothing = [value], [missing]
                if name == "id":  # a comparison needs two runs
                    other = team["run-S" if resource.name == "run-P" else "run-P"].short
                    values, nothing = [other, value], [other, missing]
                asks.append(Ask(url(start, [(name, v) for v in values]), resource, value,
                                url(start, [(name, v) for v in nothing]), missing))
    return asks


# -- the servers --------------------------------------------------------------------------------

@dataclass
class World:
    team: Team
    url: str
    clients: dict[str | None, TeamClient] = field(default_factory=dict)
    ws: Workspace | None = None  # the test's own look at the tables

    def client(self, who: str | None) -> TeamClient:
        if who not in self.clients:
            self.clients[who] = self.team.client(self.url, who)
        return self.clients[who]

    def sign_in_again(self, who: str | None) -> TeamClient:
        self.clients.pop(who).close()
        return self.client(who)

    def dump(self) -> dict[str, Any]:
        """Every table a request could change: the data, and the accounts' own tables."""
        if self.ws is None:
            self.ws = self.team.workspace()
        self.ws.ingest()  # what the server journaled, too
        db = self.ws.store().db
        tables = dump_tables(db)
        for table in ("sessions", "api_tokens", "account_links", "notifications", "audit_log"):
            tables[table] = db.query(f"SELECT * FROM {table} ORDER BY id")
        tables["sessions"] = [{k: v for k, v in row.items() if k != "seen_at"} for row in tables["sessions"]]
        tables["api_tokens"] = [{k: v for k, v in row.items() if k != "last_used_at"} for row in tables["api_tokens"]]
        return tables


def _world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    engine = request.param
    databases: Iterator[str | None] = iter([None]) if engine == "sqlite" else \
        _fresh_pg_schema(request.getfixturevalue("postgres"))
    db = next(databases)
    try:
        home = tmp_path_factory.mktemp(f"authz-{engine}")
        team = build_team(home, db)
        with serve(home, db, token=None) as server:
            world = World(team, server.url)
            try:
                yield world
            finally:
                for client in world.clients.values():
                    client.close()
                if world.ws is not None:
                    world.ws.close()
    finally:
        next(databases, None)


@pytest.fixture(scope="module", params=ENGINES)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A team server that only reads happen on (until the non-interference test, which runs last)."""
    yield from _world(request, tmp_path_factory)


@pytest.fixture(scope="module", params=ENGINES)
def writable(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A second team server, for the writes."""
    yield from _world(request, tmp_path_factory)


def _csrf_of(client: TeamClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text)
    assert found
    return found.group(1)


def _text(response: httpx.Response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return headers + "\n" + response.content.decode("utf-8", "replace")


NOW = re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(?:\.\d+)?)?Z?")


def _same_as_nothing(response: httpx.Response, value: str, control: httpx.Response, control_value: str) -> bool:
    """Whether a response about something hidden reads exactly as one about nothing."""
    def plain(answer: httpx.Response, named: str) -> str:
        text = re.sub(re.escape(named), "<REF>", answer.content.decode("utf-8", "replace"), flags=re.I)
        # ... and the start of it that a message may quote ("no file 0123456789ab")
        text = re.sub(r"[A-Za-z0-9]{6,}", lambda m: "<REF>" if named.lower().startswith(m.group(0).lower())
                      else m.group(0), text)
        # "Did you mean" answers the words asked for with the reader's own words, so a hidden word one
        # letter from one of theirs gets one and a made-up control does not. That it never shows a hidden
        # word is `leaks`' to check, and that no write out of sight changes it, the difference test's.
        text = re.sub(r'<p class="suggestion">.*?</p>', "", text)
        text = re.sub(r'"suggestion":\s*("(?:[^"\\]|\\.)*"|null)', '"suggestion": null', text)
        # Pages that default to "the last 7 days" say when they were made; a Python repr says where in memory.
        return re.sub(r"\b0x[0-9a-f]+\b", "<ADDRESS>", NOW.sub("<TIME>", text))

    return response.status_code == control.status_code and plain(response, value) == plain(control, control_value)


# -- the test can fail ----------------------------------------------------------------------

def test_the_oracle_and_the_leak_check_can_fail(tmp_path: Any) -> None:
    """Fed a response that shows a forbidden marker, the check reports it; the oracle follows the rules."""
    team = Team(tmp_path, None, users={})
    p = team.add(Resource("node-P", "node", new_id(), ("QUPROJECTP",)))
    team.add(Resource("node-PQ", "node", new_id(), ("QUQUESTIONPQ",), node="node-P"))
    team.shares[("node-P", "V")] = "viewer"
    secret = team.add(Resource("secret", "entry", new_id(), ("QUSECRETPRIVATEA",), author="A", node="node-P",
                               private=True))
    shared = team.add(Resource("shared", "entry", new_id(), ("QUSHAREDP",), node="node-PQ"))
    gone = team.add(Resource("gone", "entry", new_id(), ("QUDELETEDP",), author="E", node="node-P", deleted=True))
    assert leaks(team, "V", '{"title": "quSecretPrivateA is the word"}', "/log.json") == ["QUSECRETPRIVATEA (secret)"]
    assert leaks(team, "V", "QUSHAREDP", "/log.json") == []
    assert leaks(team, "V", "QUSECRETPRIVATEA", "/search?q=QUSECRETPRIVATEA") == []  # the reader's own words
    assert leaks(team, None, "QUPROJECTP", "/login") == ["QUPROJECTP (node-P)"]
    assert sees(team, "V", shared) and not sees(team, "O", shared) and not sees(team, "V", secret)
    assert sees(team, "A", secret) and sees(team, "A", shared) and not sees(team, "A", gone)
    assert sees(team, "E", gone) and role(team, "V", "node-PQ") == "viewer" and role(team, "A", p.name) == "owner"
    assert not may(team, "V", shared, "commenter") and may(team, "A", shared, "editor")
    assert [r.name for r in live_entries(team, "V")] == ["shared"]


def test_the_routes_we_know_of_are_enumerated() -> None:
    assert {"/", "/log.json", "/e/{ref}", "/search", "/tree", "/tree/{ref}/sharing", "/runs/{ref}/series.csv",
            "/a/{attachment_id}", "/admin", "/account", "/notifications"} <= set(GETS)
    assert {"/note", "/e/{ref}/edit", "/e/{ref}/comments", "/tree/{ref}/share", "/admin/users"} <= set(POSTS)
    # Local mode's own pages (wellbeing, issue 18) are no route of a team server at all.
    assert not {p for p in (*GETS, *POSTS) if p.split(".")[0] in LOCAL_ONLY}


# -- local mode's own pages: on a team server, no such page -------------------------------------------

@pytest.mark.parametrize("who", WHO, ids=WHO_IDS)
def test_local_only_pages_answer_as_pages_that_do_not_exist(world: World, who: str | None) -> None:
    """/pace (a person's check-ins and pace, issue 18) lives on the owner's own machine: on a team server
    it answers, to an admin, a member or a visitor, exactly as an address with no page (404, or a
    visitor's sign-in), never a 403 that would say something is there. No page links it (the read
    matrix above checks every answer for a link)."""
    client = world.client(who)
    for path in LOCAL_ONLY:
        for suffix in ("", ".json"):
            answer, nothing = client.get(path + suffix), client.get("/qunosuchpage" + suffix)
            assert (answer.status_code, answer.text.replace(path, "/qunosuchpage")) == (nothing.status_code,
                                                                                       nothing.text), (who, path)
            assert answer.status_code == (404 if who else 401 if suffix else 303), (who, path + suffix)
        posted = client.post(path, data={"energy": "2"})
        control = client.post("/qunosuchpage", data={"energy": "2"})
        assert (posted.status_code, posted.text.replace(path, "/qunosuchpage")) == (control.status_code,
                                                                                   control.text), (who, path)
        assert posted.status_code == (404 if who else 401), (who, path)


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in ROUTES])
def test_every_parameter_can_be_filled(method: str, path: str) -> None:
    """A route naming something this test cannot fill fails here: teach PATH_KINDS or QUERY_KINDS."""
    route = GETS[path] if method == "GET" else WRITES[(method, path)]
    assert not unknown_parameters(path, route), f"{path}: this test cannot fill {unknown_parameters(path, route)}"


# -- reads ------------------------------------------------------------------------------------

def _base(world: World, who: str | None, path: str, route: APIRoute | Route,
          asks: list[Ask]) -> dict[str, str] | None:
    """A path value the reader may open (200), for the route's query-parameter variants."""
    params = path_params(path)
    if not params or not any(name in QUERY_KINDS for name, _ in query_params(route)):
        return None
    for ask in asks:
        if ask.subject is not None and sees(world.team, who, ask.subject) and ask.value == ask.subject.short \
                and world.client(who).get(ask.url).status_code == 200:
            return {params[0]: ask.value}
    return None


@pytest.mark.parametrize("who", WHO, ids=WHO_IDS)
@pytest.mark.parametrize("path", sorted(GETS))
def test_no_read_shows_what_its_reader_may_not_see(world: World, path: str, who: str | None) -> None:
    team, client = world.team, world.client(who)
    route = GETS[path]
    assert not unknown_parameters(path, route)
    asks = asks_for(team, path, route)
    base = _base(world, who, path, route, asks)
    if base is not None:
        asks += asks_for(team, path, route, base)
    problems: list[str] = []
    controls: dict[str, httpx.Response] = {}
    for ask in asks:
        answer = client.get(ask.url)
        if answer.status_code >= 500:
            problems.append(f"{ask.url}: {answer.status_code}")
        found = leaks(team, who, _text(answer), ask.url)
        if found:
            problems.append(f"{ask.url} ({answer.status_code}) shows {', '.join(found)}")
        if LOCAL_ONLY_LINK.search(answer.text):
            problems.append(f"{ask.url} ({answer.status_code}) links a local-only page: {LOCAL_ONLY_LINK.pattern}")
        if who is None and not path.startswith(PUBLIC):
            expected = 401 if is_json(path) else 303
            if answer.status_code != expected or (expected == 303 and
                                                  not answer.headers["location"].startswith("/login?next=")):
                problems.append(f"{ask.url}: a visitor got {answer.status_code}, not {expected}")
        if ask.subject is not None and ask.control and who is not None and not sees(team, who, ask.subject):
            if ask.control not in controls:
                controls[ask.control] = client.get(ask.control)
            if not _same_as_nothing(answer, ask.value, controls[ask.control], ask.control_value):
                problems.append(f"{ask.url} ({answer.status_code}) does not answer as {ask.control} "
                                f"({controls[ask.control].status_code}): {ask.subject.name} is hidden from "
                                f"{who} but its existence shows")
    assert not problems, f"{len(problems)} of {len(asks)} requests as {who or 'a visitor'}:\n" + "\n".join(problems)


def test_a_visitor_reaches_only_the_public_pages(world: World) -> None:
    visitor = world.client(None)
    assert visitor.get("/login").status_code == 200
    assert visitor.get(f"/join/{world.team.links['invite']}").status_code == 200
    assert visitor.get(f"/reset/{world.team.links['reset']}").status_code == 200
    assert visitor.get(f"/join/{secrets.token_urlsafe(32)}").status_code == 404
    assert visitor.get("/static/app.css").status_code == 200


@pytest.mark.parametrize("path", sorted(p for p in GETS if p.startswith("/admin")))
def test_only_an_admin_reaches_the_admin_pages(world: World, path: str) -> None:
    for who in USERS:
        answer = world.client(who).get(path)
        assert answer.status_code == (200 if who in ADMINS else 403), (who, path, answer.status_code)


@pytest.mark.parametrize("who", USERS)
def test_each_person_sees_everything_they_may(world: World, who: str) -> None:
    """The other half: the pages are not merely empty. Each visible marker shows somewhere."""
    team, client = world.team, world.client(who)
    shown = [client.get(p).text for p in ("/log.json?limit=500", "/tree.json", "/runs.json", "/ideas.json",
                                          "/account.json", "/admin.json", "/notifications.json", "/practice.json",
                                          "/artifacts.json")]
    for resource in team.resources.values():
        if sees(team, who, resource) and resource.kind in ("entry", "idea", "run", "comment"):
            shown.append(client.get(f"/e/{resource.entry and team[resource.entry].short or resource.short}.json")
                         .text)
        if sees(team, who, resource) and resource.kind == "attachment":
            shown.append(client.get(f"/a/{resource.id}").content.decode("utf-8", "replace"))
        if sees(team, who, resource) and resource.kind == "panel":  # in its project's grid (issue 20)
            shown.append(client.get("/panels.json", params={"under": team[resource.node or ""].short}).text)
    for person in {author(r) for r in team.of_kind("path", *PIPELINE_KINDS) if sees(team, who, r)}:
        shown.append(client.get(f"/people/{LOGINS[person]}/path.json").text)
    # Pipelines and contacts (issue 16): one's own on their pages, a person's shown ones on theirs.
    shown += [client.get(p).text for p in ("/pipeline.json", "/opportunities.json", "/contacts.json", "/due.json")]
    for resource in team.of_kind(*PIPELINE_KINDS):
        if sees(team, who, resource):
            page = {"opportunity": "opportunities", "application": "applications", "contact": "contacts"}[resource.kind]
            shown.append(client.get(f"/{page}/{resource.slug}.json").text if author(resource) == who else
                         client.get(f"/people/{LOGINS[author(resource)]}/"
                                    f"{'contacts' if resource.kind == 'contact' else 'pipeline'}.json").text)
    text = "\n".join(shown).upper()
    # A practice log shows on its person's own practice page only (not part of this matrix's pages yet).
    missing = sorted(m for m, r in team.markers().items() if sees(team, who, r) and m not in text
                     and r.part != "practice")
    assert not missing, f"{who} may see but is not shown: {missing}"


# -- counts -------------------------------------------------------------------------------------

def _root(team: Team, node: str | None) -> str:
    """The title of the project an entry under ``node`` counts for in the search facets."""
    if node is None:
        return "(no project)"
    while team[node].node is not None:
        node = team[node].node or ""
    return team[node].markers[0]


def _asked_why(team: Team, who: str, node: str | None) -> bool:
    """Whether ``who``'s check counts work under ``node`` as reaching no agenda (no node here is an
    agenda): work filed nowhere, or where the top of the chain ``who`` sees is a node ``who`` made;
    a chain shared with them may go on above, out of their sight (services.tree.asks_why)."""
    if node is None:
        return True
    while team[node].node is not None and role(team, who, team[node].node) is not None:
        node = team[node].node or ""
    return author(team[node]) == who


def _subtree(team: Team, node: str) -> set[str]:
    below = {node}
    while True:
        more = {r.name for r in team.of_kind("node") if r.node in below} - below
        if not more:
            return below
        below |= more


@pytest.mark.parametrize("who", USERS)
def test_counts_count_only_what_the_reader_may_see(world: World, who: str) -> None:
    team, client = world.team, world.client(who)
    live = live_entries(team, who)
    problems: list[str] = []

    def expect(what: str, got: object, wanted: object) -> None:
        if got != wanted:
            problems.append(f"{what}: got {got}, expected {wanted}")

    timeline = client.get("/log.json", params={"limit": 500}).json()
    expect("timeline entries", sorted(e["id"] for e in timeline["entries"]), sorted(r.id for r in live))
    zebra = [r for r in live if r.kind in ("entry", "idea")]  # run results do not mention the zebra
    found = client.get("/search.json", params={"q": "zebra", "limit": 200}).json()
    expect("search total", found["total"], len(zebra))
    expect("search kind facet", {f["value"]: f["count"] for f in found["facets"]["kind"]},
           dict(Counter(_entry_kind(r) for r in zebra)))
    expect("search project facet", {f["label"]: f["count"] for f in found["facets"]["project"]},
           dict(Counter(_root(team, r.node) for r in zebra)))
    board = client.get("/ideas.json").json()["columns"]
    expect("ideas", sorted(i["entry_id"] for column in board for i in column["ideas"]),
           sorted(r.id for r in live if r.kind == "idea"))
    expect("runs", sorted(r["id"] for r in client.get("/runs.json").json()["runs"]),
           sorted(r.id for r in team.of_kind("run") if sees(team, who, r)))
    expect("artifacts", sorted(a["name"] for a in client.get("/artifacts.json").json()["artifacts"]),
           sorted(r.markers[0] for r in team.of_kind("artifact") if sees(team, who, r)))
    tree = client.get("/tree.json").json()

    def walk(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            yield row
            yield from walk(row["children"])

    by_id = {r.id: r for r in team.of_kind("node")}
    for row in walk(tree["tree"]):
        node = by_id[row["id"]]
        below = _subtree(team, node.name)
        expect(f"tree count of {node.name}", row["entries"], sum(1 for r in live if r.node in below))
    # the check leaves out what the tree does not answer for (ideas, takes); no node here is under an agenda
    work = sum(1 for r in live if _entry_kind(r) not in NOT_WORK_KINDS)
    expect("check: recent entries", tree["check"]["recent_entries"], work)
    expect("check: recent entries that trace to no agenda", tree["check"]["recent_untraceable"],
           sum(1 for r in live if _entry_kind(r) not in NOT_WORK_KINDS and _asked_why(team, who, r.node)))
    for flag in tree["check"]["flags"]:
        numbers = [int(n) for n in re.findall(r"\b(\d+) (?:entries|of)\b", flag["message"])]
        expect(f"check flag {flag['message']!r}", [n for n in numbers if n > work], [])
    assert not problems, f"as {who}:\n" + "\n".join(problems)


@pytest.mark.parametrize("who", USERS)
def test_the_quick_switcher_finds_exactly_what_its_reader_may_see(world: World, who: str) -> None:
    """Every entry, idea, run and node by its title: found if its reader may open it (and it is not
    deleted), never otherwise; a comment is no destination."""
    team, client = world.team, world.client(who)
    problems = []
    for resource in team.of_kind("entry", "idea", "run", "node", "comment"):
        found = client.get("/switch.json", params={"q": resource.markers[0].lower()}).json()["results"]
        wanted = sees(team, who, resource) and not resource.deleted and resource.kind != "comment"
        ids = [r["id"] for r in found]
        if ids != ([resource.id] if wanted else []):
            problems.append(f"{resource.name}: found {[r['title'] for r in found]}, expected it "
                            f"{'alone' if wanted else 'not at all'}")
    everything = client.get("/switch.json", params={"q": "word", "limit": 50}).json()["results"]
    titled = sorted(r.id for r in live_entries(team, who) if r.kind == "entry")  # notes: "... is the word."
    if sorted(r["id"] for r in everything) != titled:
        problems.append(f"'word' found {sorted(r['title'] for r in everything)}")
    assert not problems, f"as {who}:\n" + "\n".join(problems)


# -- nothing leaks by difference ----------------------------------------------------------------

def _snapshot_asks(world: World, who: str, extra_words: list[str]) -> list[Ask]:
    """What a reader sees: every GET route, at what they may open, plus searches for ``extra_words``."""
    team = world.team
    asks: list[Ask] = []
    for path, route in sorted(GETS.items()):
        if path.startswith(PUBLIC) or path in ("/openapi.json", "/api/docs", "/docs/oauth2-redirect"):
            continue
        asks += [a for a in asks_for(team, path, route) if a.subject is None or (
            sees(team, who, a.subject) and a.value in (a.subject.short, a.subject.markers[0], a.subject.slug)
            and not a.url.split("?")[-1].startswith("q="))]  # searched for: the new words (and the zebra)
        if any(name == "q" for name, _ in query_params(route)):
            asks += [Ask(f"{path}?{urlencode({'q': word})}") for word in (*extra_words, "zebra")]
        if path.startswith("/switch"):  # every entry is titled "... is the word." (and ideas "... might work.")
            asks += [Ask(f"{path}?{urlencode({'q': word, 'limit': 50})}") for word in ("word", "might work")]
    return asks


def _timeless(text: str, started: datetime, ended: datetime) -> str:
    """``text`` with the times made from the clock while it was asked for (now, and the review's
    default start a week before now) replaced: those change on their own, nothing else may."""
    def swap(match: re.Match[str]) -> str:
        to_the_minute = not match.group(1)  # as a page shows a time, in the server's time zone
        try:
            moment = datetime.fromisoformat(match.group(0))
        except ValueError:
            return match.group(0)
        moment = moment.astimezone(UTC) if moment.tzinfo or to_the_minute else moment.replace(tzinfo=UTC)
        for days in (0, DEFAULT_DAYS):
            earliest, latest = started - timedelta(days=days), ended - timedelta(days=days)
            if to_the_minute:
                earliest = earliest.replace(second=0, microsecond=0)
            if earliest <= moment <= latest:
                return "<NOW>"
        return match.group(0)

    return re.sub(r"\b0x[0-9a-f]+\b", "<ADDRESS>", NOW.sub(swap, text))


def _snapshot(world: World, who: str, asks: list[Ask], since: datetime | None = None) -> dict[str, tuple[int, str]]:
    """Each page, with the times the clock made replaced: those from ``since`` (the start of a
    comparison, so that a minute ticking over between two snapshots is not a change) to now."""
    client = world.client(who)
    shot = {}
    for ask in asks:
        started = since or datetime.now(UTC)
        answer = client.get(ask.url)
        shot[ask.url] = (answer.status_code, _timeless(answer.text, started, datetime.now(UTC)))
    return shot


def _differences(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    found = []
    for url, (status, text) in before.items():
        new_status, new_text = after[url]
        if (status, text) != (new_status, new_text):
            at = next((i for i, (a, b) in enumerate(zip(text, new_text, strict=False)) if a != b),
                      min(len(text), len(new_text)))
            found.append(f"{url}: {status}->{new_status}, from: ...{text[max(0, at - 80):at + 60]!r} "
                         f"to: ...{new_text[max(0, at - 80):at + 60]!r}")
    return found


HIDDEN_WORDS = ["QUHIDDENDRILLA", "QUHIDDENPATHO",
                "QUHIDDENPRIVATEA", "QUHIDDENENTRYS", "QUHIDDENDELETEDA", "QUHIDDENFILEA", "QUHIDDENBLOBA",
                "QUHIDDENIDEAA", "QUHIDDENRUNS", "QUHIDDENCOMMENTA", "QUHIDDENEPRIVATE", "QUHIDDENONOTE",
                "QUHIDDENOPRIVATE", "QUHIDDENOIDEA", "QUHIDDENLADDERE", "QUHIDDENSTEPE", "QUHIDDENOPPA",
                "QUHIDDENAPPA", "QUHIDDENCONTACTA", "QUHIDDENOPPO", "QUHIDDENAPPO", "QUHIDDENCONTACTO"]


def _write_hidden_from_all_but_a_and_e(team: Team) -> None:
    with team.workspace() as ws:
        add_entry(team, ws, "hidden-private-A", "QUHIDDENPRIVATEA", who="A", node="node-P", private=True,
                  files={"quhiddenfilea.png": "QUHIDDENBLOBA"})
        add_entry(team, ws, "hidden-S", "QUHIDDENENTRYS", who="A", node="node-S")
        delete_entry(team, ws, add_entry(team, ws, "hidden-deleted-A", "QUHIDDENDELETEDA", who="A", node="node-P"))
        add_idea(team, ws, "hidden-idea-A", "QUHIDDENIDEAA", who="A", node=None)
        add_run(team, ws, "hidden-run-S", "QUHIDDENRUNS", "node-S")
        add_comment(team, ws, "hidden-comment-A", "QUHIDDENCOMMENTA", who="A", entry="entry-private-A")
        add_entry(team, ws, "hidden-private-E", "QUHIDDENEPRIVATE", who="E", node="node-P", private=True)
        add_path(team, ws, "hidden-practice-A", "QUHIDDENDRILLA", who="A", part="practice")  # her mentor V's too
        # A pipeline and contacts V is not shown (A shows those to C and E), and nothing of them reaches O.
        add_opportunity(team, ws, "hidden-opp-A", "QUHIDDENOPPA", "Role", who="A", application="QUHIDDENAPPA")
        add_contact(team, ws, "hidden-contact-A", "QUHIDDENCONTACTA", who="A")
        for who, entry in (("A", "entry-shared-P"), ("A", "entry-E-P"), ("E", "entry-shared-P")):
            with team.acting(ws, who):  # a star is its person's: no one else's page shows it, not even as a count
                stars.set_star(ws, team[entry].id)
        # So is a ladder: nobody else's /ladder changes (E's: A shows hers to V, her mentor).
        with team.acting(ws, "E"):
            ladder.mark_done(ws, "code")
            ladder.add_step(ws, "QUHIDDENSTEPE reading group")
            ladder.add_evidence(ws, "github-page", "https://example.org/quhiddenladdere")
            resources.log_progress(ws, "arena", position="QUHIDDENSTEPE chapter", minutes=30)


def _write_hidden_from_all_but_o(team: Team) -> None:
    with team.workspace() as ws:
        add_entry(team, ws, "hidden-O", "QUHIDDENONOTE", who="O")
        add_entry(team, ws, "hidden-private-O", "QUHIDDENOPRIVATE", who="O", private=True)
        add_idea(team, ws, "hidden-idea-O", "QUHIDDENOIDEA", who="O", node=None)
        add_path(team, ws, "hidden-path-O", "QUHIDDENPATHO", who="O", part="ladder")
        add_opportunity(team, ws, "hidden-opp-O", "QUHIDDENOPPO", "Role", who="O", application="QUHIDDENAPPO")
        add_contact(team, ws, "hidden-contact-O", "QUHIDDENCONTACTO", who="O")


@pytest.mark.parametrize(("writes", "unchanged_for"), [
    (_write_hidden_from_all_but_a_and_e, ("V", "O")),  # C reads as V does
    (_write_hidden_from_all_but_o, ("A", "E")),
], ids=["A-and-E-write", "O-writes"])
def test_what_others_write_out_of_sight_changes_no_page(world: World, writes: Callable[[Team], None],
                                                         unchanged_for: tuple[str, ...]) -> None:
    """Non-interference: every page is the same after writes its reader may not see (so no count,
    total, date or flag gives them away): a leak this catches needs no marker to show."""
    for who in unchanged_for:
        world.client(who)  # signed in first: an admin sees sign-ins in the audit log
    asks, before = {}, {}
    since = datetime.now(UTC)
    for who in unchanged_for:
        first = _snapshot(world, who, _snapshot_asks(world, who, HIDDEN_WORDS), since)
        # What names a thing of another kind (/runs/{a node}) answers 404 whatever is written.
        asks[who] = [a for a in _snapshot_asks(world, who, HIDDEN_WORDS) if a.subject is None or first[a.url][0] < 400]
        # Twice: a page may show more once a cache is warm (the search page's facets); both are fine.
        before[who] = [first, _snapshot(world, who, asks[who], since)]
    writes(world.team)
    problems = []
    for who in unchanged_for:
        after = _snapshot(world, who, asks[who], since)
        changed = [a for a in asks[who] if all(after[a.url] != shot[a.url] for shot in before[who])]
        for _ in range(3):  # asked again, with warm caches (a busy PostgreSQL server cools them at random)
            again = _snapshot(world, who, changed, since)
            changed = [a for a in changed if all(again[a.url] != shot[a.url] for shot in before[who])]
        problems += [f"{who}: {line}" for line in _differences({a.url: before[who][1][a.url] for a in changed},
                                                               again)]
    assert not problems, f"{len(problems)} pages changed:\n" + "\n".join(problems[:40])


# -- writes -------------------------------------------------------------------------------------

@dataclass
class Attempt:
    """One write: its body (a form, with files; JSON; or raw bytes), and whether ``who`` may make it."""

    path: str
    data: dict[str, Any] | None
    allowed: bool
    files: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    changes: bool = True  # an allowed attempt changes a table
    target: str = ""
    also_refused: tuple[int, ...] = ()  # a refusal may say so with this status too (400: what it names is not fit)


_counter = itertools.count()


def _entry_targets(team: Team) -> list[Resource]:
    return [r for r in team.of_kind("entry", "idea", "run") if not r.name.startswith("hidden")]


def attempts(team: Team, method: str, path: str, who: str | None) -> list[Attempt]:
    """The rule for each write route, from domain/access.py (a route without one fails the test)."""
    signed_in = who is not None
    if method == "PUT" and path == "/api/blobs/{sha256}":  # files are named by their hash: anyone signed in
        blob = png(f"QUUPLOAD{next(_counter)}")
        return [Attempt(path.replace("{sha256}", hashlib.sha256(blob).hexdigest()), None, signed_in, content=blob,
                        changes=False)]
    if method != "POST":
        raise LookupError(f"no rule for {method} {path}: add one to attempts()")
    n = next(_counter)
    fill: Callable[[Resource], str] = lambda r: path.replace("{ref}", r.short)  # noqa: E731
    if path == "/note":
        nodes: list[Resource | None] = [None, *team.of_kind("node")]
        return [Attempt(path, {"text": f"QUNEWNOTE{n} by {who}", "under": node.short if node else "",
                               **({"private": "true"} if node is None else {})},
                        signed_in and (node is None or RANK.get(role(team, who, node.name) or "", -1) >= 2),
                        target=node.name if node else "unfiled") for node in nodes]
    if path == "/tree/{ref}/predict":  # a prediction is filed as a note is: an editor of the node
        return [Attempt(fill(node), {"claim": f"QUNEWNOTE{n} by {who}", "probability": "70%"},
                        signed_in and RANK.get(role(team, who, node.name) or "", -1) >= 2, target=node.name)
                for node in team.of_kind("node")]
    if path == "/e/{ref}/predict":  # about an entry the reader sees, filed where it is; none on a prediction
        made = []
        for entry in _entry_targets(team):
            unfit = entry.deleted or entry.name.startswith("prediction-")  # said so to whoever sees it: 400
            allowed = sees(team, who, entry) and not unfit and (
                entry.node is None or RANK.get(role(team, who, entry.node) or "", -1) >= 2)
            made.append(Attempt(fill(entry), {"claim": f"QUNEWNOTE{n} by {who}", "probability": "0.7"}, allowed,
                                target=entry.name, also_refused=(400,) if unfit else ()))
        return made
    if path in ("/e/{ref}/forecast", "/e/{ref}/resolve"):  # a prediction's maker's alone (their calibration)
        data = {"probability": "55%", "reason": f"Because {n}"} if path.endswith("forecast") else \
            {"outcome": "annulled", "reason": f"Because {n}"}  # again: a correction, with its reason
        made = []
        for entry in _entry_targets(team):
            prediction = entry.name.startswith("prediction-")
            resolved = entry.name == "prediction-E-private"  # no forecast after the answer is known: 400
            made.append(Attempt(fill(entry), data, prediction and author(entry) == who and not (
                resolved and path.endswith("forecast")), target=entry.name,
                also_refused=(400,) if not prediction or (resolved and path.endswith("forecast")) else ()))
        return made
    if path == "/takes":  # anyone's own view, filed as a note is: unfiled, or under a node they edit
        nodes = [None, *team.of_kind("node")]
        return [Attempt(path, {"claim": f"QUNEWNOTE{n} by {who}", "source": "a talk", "confidence": "60%",
                               "on": node.short if node else ""},
                        signed_in and (node is None or RANK.get(role(team, who, node.name) or "", -1) >= 2),
                        target=node.name if node else "unfiled") for node in nodes]
    if path in ("/e/{ref}/take", "/e/{ref}/revisited"):  # a take's maker's alone (their view)
        data = {"confidence": "55%", "reason": f"Because {n}"} if path.endswith("take") else \
            {"next": "in 3 weeks", "reason": f"Because {n}"}
        made = []
        for entry in _entry_targets(team):
            take = entry.name.startswith("take-")
            made.append(Attempt(fill(entry), data, take and author(entry) == who, target=entry.name,
                                also_refused=() if take else (400,)))  # not a take: said so to whoever sees it
        return made
    if path in ("/e/{ref}/edit", "/e/{ref}/attach", "/e/{ref}/comments"):
        made = []
        for entry in _entry_targets(team):
            if path.endswith("edit"):
                made.append(Attempt(fill(entry), {"text": f"{entry.markers[0]} edited {n}"},
                                    may(team, who, entry, "editor"), target=entry.name))
            elif path.endswith("attach"):
                made.append(Attempt(fill(entry), {}, may(team, who, entry, "editor"), target=entry.name,
                                    files={"file": (f"upload{n}.png", png("QUUPLOAD"), "image/png")}))
            else:  # comments follow their entry: none on a deleted one (its author is told why: 400)
                made.append(Attempt(fill(entry), {"body": f"Comment {n}"},
                                    may(team, who, entry, "commenter") and not entry.deleted, target=entry.name,
                                    also_refused=(400,) if entry.deleted else ()))
        return made
    if path == "/panels":  # a panel joins a grid as a note is filed: unfiled, or under a node they edit
        nodes = [None, *team.of_kind("node")]
        return [Attempt(path, {"keys": "loss", "title": f"Panel {n} by {who}", "under": node.short if node else ""},
                        signed_in and (node is None or RANK.get(role(team, who, node.name) or "", -1) >= 2),
                        target=node.name if node else "unfiled") for node in nodes]
    if path.startswith("/panels/{ref}"):  # its author, or an editor of its project
        data = {"/panels/{ref}": {"keys": "loss, acc", "title": f"Changed {n}"},
                "/panels/{ref}/move": {"by": "1"}}.get(path, {})
        return [Attempt(fill(panel), data, sees(team, who, panel) and (author(panel) == who or RANK.get(
                    role(team, who, panel.node) or "", -1) >= 2), target=panel.name,
                        changes=not path.endswith("/move"))  # the only panel in its grid stays where it is
                for panel in team.of_kind("panel")]
    if path in ("/e/{ref}/star", "/e/{ref}/unstar"):  # whoever may read an entry stars it, for themselves
        return [Attempt(fill(entry), {}, sees(team, who, entry), target=entry.name,
                        changes=path.endswith("/star")) for entry in _entry_targets(team)]
    if path.startswith("/ideas/{ref}/"):
        return [Attempt(fill(idea), {"reason": f"Because {n}"}, may(team, who, idea, "editor"), target=idea.name)
                for idea in team.of_kind("idea") if not idea.name.startswith("hidden")]
    if path in ("/tree/{ref}/share", "/tree/{ref}/unshare"):
        return [Attempt(fill(node), {"login": "guest", "role": "viewer"}, role(team, who, node.name) == "owner",
                        target=node.name) for node in team.of_kind("node")]
    if path == "/preview":
        return [Attempt(path, {"text": "# Title\n\nbody"}, signed_in, changes=False)]
    if path == "/notifications/read":
        return [Attempt(path, {}, signed_in, changes=False)]  # changes only what is unread
    if path in ("/account/logout-everywhere", "/logout"):
        return [Attempt(path, {}, signed_in)]
    if path == "/account/tokens":  # after the password again
        return [Attempt(path, {"name": f"script {n}", "password": f"{LOGINS[who or 'V']}-password-0123"}, signed_in)]
    if path == "/account/password":  # the current password first; "changed" to itself
        same = f"{LOGINS[who or 'V']}-password-0123"
        return [Attempt(path, {"current": same, "password": same, "again": same}, signed_in)]
    if path in ("/account/tokens/{token_id}/revoke", "/admin/tokens/{token_id}/revoke"):
        own = path.startswith("/account")
        return [Attempt(path.replace("{token_id}", token.short), {},
                        who in ADMINS or (own and token.author == who), target=token.name)
                for token in team.of_kind("token")]
    if path == "/admin/users":
        return [Attempt(path, {"login": f"newbie{n}"}, who in ADMINS)]
    if path == "/admin/users/{login}/reset":
        return [Attempt(path.replace("{login}", login), {}, who in ADMINS, target=login)
                for login in (*LOGINS.values(), *EXTRA_LOGINS) if login != "leaver"]  # removed by now
    if path == "/admin/users/{login}/remove":
        return [Attempt(path.replace("{login}", "leaver"), {}, who in ADMINS, target="leaver")]
    if path == "/login":  # public: anyone may sign in (the visitor as the viewer)
        return [Attempt(path, {"login": LOGINS[who or "V"], "password": f"{LOGINS[who or 'V']}-password-0123"},
                        True)]
    if path in ("/join/{secret}", "/reset/{secret}"):  # public: a link that is not (any more) valid refuses
        return [Attempt(path.replace("{secret}", secrets.token_urlsafe(32)),
                        {"password": "a-new-password-1", "again": "a-new-password-1"}, False)]
    if path == "/api/sync/pull":  # asks for everything: answers with what the reader may see (checked for leaks)
        return [Attempt(path, None, signed_in, changes=False,
                        json={"entries": [r.id for r in team.of_kind("entry", "idea", "run")],
                              "nodes": [r.id for r in team.of_kind("node")], "have": {},
                              "comments": [r.id for r in team.of_kind("comment")],
                              "stars": [r.id for r in team.of_kind("entry", "idea", "run")]})]
    if path == "/api/sync/push":  # what each pushed record may do: tests/test_permissions.py, by the table
        return [Attempt(path, None, signed_in, changes=False, json={"records": []})]
    if path == "/api/runs/{run_id}/pull":  # a run, for whoever may see it (its answer is checked for leaks)
        return [Attempt(path.replace("{run_id}", run.id), None, sees(team, who, run), changes=False,
                        json={"have": {}}, target=run.name) for run in team.of_kind("run")]
    if path == "/api/runs/{run_id}/push":  # its author's alone (every case: tests/test_permissions.py)
        one = wire_points(0, array("q", [n]), array("d", [0.0]), array("d", [0.5]))
        return [Attempt(path.replace("{run_id}", run.id), None, signed_in and (run.author or "A") == who,
                        json={"records": [], "points": {f"probe{n}": one}}, target=run.name)
                for run in team.of_kind("run")]
    if path.startswith("/runs/{ref}/"):  # a run's author's alone to change (issue 20); a move, only where they file
        made = []
        for run in team.of_kind("run"):
            mine = signed_in and author(run) == who
            if path.endswith("/move"):  # there and back again, so the facts the other rules read still hold
                made += [Attempt(fill(run), {"node": team[node].short}, mine, target=run.name)
                         for node in ("node-PQ" if run.node != "node-PQ" else "node-P", run.node)]
            else:
                data = {"/runs/{ref}/rename": {"name": f"{run.markers[0]} renamed {n}"},
                        "/runs/{ref}/tag": {"tags": f"+tag{n}"}, "/runs/{ref}/note": {"text": f"Note {n}."}}
                made.append(Attempt(fill(run), data.get(path, {}), mine, target=run.name))
        return made
    if path in ("/opportunities", "/contacts"):  # one's own, whoever is signed in (kept private on a server)
        field = {"organisation": f"Lab {n} of {who}"} if path == "/opportunities" else {"name": f"Person {n} of {who}"}
        return [Attempt(path, field, signed_in)]
    if "{slug}" in path:  # a person's own pipeline and contacts: nobody else may change them, a mentor included
        kinds = {"opportunities": "opportunity", "applications": "application", "contacts": "contact"}
        kind = kinds[path.split("/")[1]]
        data = {"/opportunities/{slug}/apply": {"stage": "applied"}, "/applications/{slug}/move": {"stage": "offer"},
                "/applications/{slug}/follow-up": {"day": "2030-01-01"},
                "/contacts/{slug}/edit": {"notes": f"Edited {n}."},
                "/contacts/{slug}/exchanges": {"kind": "note", "text": f"Exchange {n}."}}.get(path, {})
        targets = [r for r in team.of_kind(kind) if not r.name.startswith("hidden")
                   and not (path.endswith("/apply") and f"{r.name}-application" in team.resources)]
        return [Attempt(path.replace("{slug}", r.slug), data, author(r) == who, target=r.name) for r in targets]
    raise LookupError(f"no rule for POST {path}: add one to attempts()")


def _prepare_pipeline(world: World, path: str, attempt: Attempt) -> None:
    """As its person, put an opportunity or application where the attempt can change it: archived
    before a restore, not before an archive or an application; an application not at the offer it
    is moved to."""
    from upstack.services import applications, opportunities

    resource = world.team[attempt.target]
    with world.team.workspace() as ws, world.team.acting(ws, author(resource)):
        if path.startswith("/opportunities/"):
            archived = opportunities.find(ws, resource.slug).archived
            if path.endswith("/restore") and not archived:
                opportunities.archive(ws, resource.slug)
            elif not path.endswith("/restore") and archived:
                opportunities.restore(ws, resource.slug)
        elif path.endswith("/move") and applications.find(ws, resource.slug).stage == "offer":
            applications.move(ws, resource.slug, "applied", force=True)


def _prepare(world: World, path: str, attempt: Attempt) -> None:
    """An idea cannot move to the state it is in: set it elsewhere first (as the workspace's owner); an
    opportunity or application likewise (``_prepare_pipeline``)."""
    if "{slug}" in path and attempt.allowed:
        _prepare_pipeline(world, path, attempt)
    if path.startswith("/runs/{ref}/") and attempt.allowed:  # a deleted run takes only a restore; a restore, one
        from upstack.services import run_manage

        with world.team.workspace() as ws, world.team.acting(ws, None):
            deleted = bool(run_manage.get_run(ws, world.team[attempt.target].id).deleted_at)
            if deleted != path.endswith("/restore"):
                (run_manage.restore if deleted else run_manage.delete)(ws, world.team[attempt.target].id)
    if not path.startswith("/ideas/{ref}/") or not attempt.allowed:
        return
    from upstack.services import ideas

    wanted = {"prune": "pruned", "park": "parked", "derisk": "de-risking"}[path.rsplit("/", 1)[1]]
    with world.team.workspace() as ws:
        idea = ideas.get_idea(ws, world.team[attempt.target].id)
        if idea.state == wanted:
            ideas.set_state(ws, idea.entry_id, "candidate" if wanted != "candidate" else "parked", "reset")


@pytest.mark.parametrize(("method", "path"), sorted(WRITES))
def test_every_write_is_refused_or_allowed_as_the_rules_say(writable: World, method: str, path: str) -> None:
    team = writable.team
    problems: list[str] = []
    state = writable.dump()
    made = 0
    for who in (None, "O", "V", "C", "E", "A"):  # the least trusted first
        if who not in writable.clients:
            writable.client(who)  # signing in writes a session (and the audit log)
            state = writable.dump()
        for attempt in attempts(team, method, path, who):
            _prepare(writable, path, attempt)
            if attempt.allowed:
                state = writable.dump()
            client = writable.client(who)
            if attempt.data is not None:
                answer = client.post(attempt.path, attempt.data, files=attempt.files)
            else:
                answer = client.send(method, attempt.path, json=attempt.json, content=attempt.content)
            after = writable.dump()
            what = f"{who or 'a visitor'} {method} {attempt.path} ({attempt.target or '-'})"
            if answer.status_code >= 500:
                problems.append(f"{what}: {answer.status_code}")
            elif attempt.allowed:
                made += 1
                if answer.status_code not in (200, 204, 303):
                    problems.append(f"{what}: allowed, but answered {answer.status_code}: {answer.text[:200]}")
                elif attempt.changes and after == state:
                    problems.append(f"{what}: allowed and answered {answer.status_code}, but nothing changed")
            else:
                refused = (401,) if who is None and not path.startswith(PUBLIC) else (403, 404, *attempt.also_refused)
                if answer.status_code not in refused:
                    problems.append(f"{what}: expected {refused}, got {answer.status_code}")
                if after != state:
                    changed = [t for t in after if after[t] != state.get(t)]
                    problems.append(f"{what}: refused ({answer.status_code}) but changed {changed}")
            found = leaks(team, who, _text(answer), attempt.path)
            if found:
                problems.append(f"{what}: the answer ({answer.status_code}) shows {found}")
            state = after
            if path in ("/logout", "/account/logout-everywhere") or (path == "/login" and who is None):
                writable.sign_in_again(who)  # signed out (or, the visitor, signed in)
                state = writable.dump()
            elif path == "/login":
                client.csrf = _csrf_of(client)  # a new session, so a new CSRF token
    assert made or path.startswith(("/join/", "/reset/")), f"nobody may {method} {path}? the rule looks wrong"
    assert not problems, "\n".join(problems)


def test_an_api_token_reads_and_writes_as_its_user(writable: World) -> None:
    """Bearer requests need no CSRF token, and answer for the token's user like a session."""
    team = writable.team
    with team.workspace() as ws:
        _, secret = accounts.create_token(ws, team.users["C"].id, "a script")
    with httpx.Client(base_url=writable.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as script:
        assert script.get(f"/e/{team['entry-private-A'].short}.json").status_code == 404
        assert "QUSECRETPRIVATEA" not in script.get("/log.json").text.upper()
        assert "QUSHAREDP" in script.get("/log.json").text.upper()
        before = writable.dump()
        refused = script.post(f"/e/{team['entry-shared-P'].short}/edit", data={"text": "forged by a script"})
        assert refused.status_code == 403 and writable.dump() == before
        allowed = script.post(f"/e/{team['entry-shared-P'].short}/comments", data={"body": "From a script."},
                              headers={"Accept": "application/json"})
        assert allowed.status_code == 200, allowed.text


def test_a_portfolio_is_its_persons_alone(writable: World) -> None:
    """/portfolio (and its JSON twin): each signed-in person sees their own, nobody another's; a visitor nothing."""
    team = writable.team
    with team.workspace() as ws:
        ws.store().write([ws.record("portfolio.item", {
            "subject": new_id(), "at": "2026-11-01T10:00:00Z", "kind": "write-up", "title": "QUPORTFOLIOA",
            "by": team.users["A"].id})])
    for who in USERS:
        for path in ("/portfolio", "/portfolio.json"):
            answer = writable.client(who).get(path)
            assert answer.status_code == 200, (who, path)
            assert ("QUPORTFOLIOA" in answer.text) == (who == "A"), (who, path)
    assert writable.client(None).get("/portfolio.json").status_code == 401
    assert writable.client(None).get("/portfolio").status_code == 303
# -- a person's path: its person and their mentors only ------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_a_path_is_read_by_its_person_and_their_mentors_only(tmp_path: Any, db_url: str | None) -> None:
    """Owner, mentor, a member not named, a removed mentor (their token), a visitor: a path not shown
    answers as a login that does not exist, and nobody, its person included, reads practice here."""
    from upstack.services import path_access
    from upstack.timeutil import now_iso

    home = tmp_path / "server"
    with Workspace(home=home, db=db_url) as ws:
        users = {login: accounts.add_user(ws, login)[0] for login in ("olga", "ada", "bob", "cy", "dan")}
        tokens = {login: accounts.create_token(ws, user.id, "laptop")[1] for login, user in users.items()}
        with access.acting_as(accounts.audience_for(ws, users["ada"])):
            for part, word in (("ladder", "QUSTEPA"), ("portfolio", "QUFOLIOA"), ("practice", "QUDRILLA")):
                ws.store().write([ws.record(PART_OP[part], {**PART_RECORD[part](word), "at": now_iso()})])
            path_access.show(ws, "bob", ("ladder", "portfolio"))
            path_access.show(ws, "dan", ("ladder",))
            path_access.show(ws, "cy", ("ladder",))
            path_access.stop_showing(ws, "cy")
        accounts.remove_user(ws, "dan")
    with serve(home, db_url, token=None) as server:
        def get(who: str | None, url: str) -> httpx.Response:
            client = server.client(signed_in=False)
            if who:
                client.headers["Authorization"] = f"Bearer {tokens[who]}"
            return client.get(url, headers={"Accept": "application/json"} if url.endswith(".json") else {})

        for who, words in (("ada", {"QUSTEPA", "QUFOLIOA"}), ("bob", {"QUSTEPA", "QUFOLIOA"})):
            for url in ("/people/ada/path.json", "/people/ada/path"):
                answer = get(who, url)
                assert answer.status_code == 200, (who, url)
                assert {w for w in ("QUSTEPA", "QUFOLIOA", "QUDRILLA") if w in answer.text.upper()} == words
        assert get("bob", "/people.json").json()["shown_to_me"][0]["login"] == "ada"
        for odd in ("a%00da", "ADA%20", "x" * 5000):  # a NUL PostgreSQL refuses, a login's look-alike, a long one
            assert get("bob", f"/people/{odd}/path.json").status_code == 404
        for url in ("/people/ada/path.json", "/people/ada/path"):
            for who in ("cy", "olga"):  # not (or no longer) shown; the workspace's owner is no mentor either
                answer, nobody = get(who, url), get(who, url.replace("ada", "nobody"))
                assert (answer.status_code, answer.text.replace("ada", "nobody")) == (nobody.status_code, nobody.text)
                assert answer.status_code == 404 and "QUSTEPA" not in answer.text.upper()
            signed_out = 401 if url.endswith(".json") else 303  # to /login
            assert get("dan", url).status_code == signed_out  # removed: the token went with the account
            assert get(None, url).status_code == signed_out


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pipeline_and_contacts_are_read_by_their_person_and_the_mentors_shown_them(tmp_path: Any,
                                                                                     db_url: str | None) -> None:
    """Issue 16's parts, role by role: the person (everything, a local-only contact too), a member not
    named, a mentor shown the ladder only, one shown the pipeline, one shown the pipeline and contacts
    (never the local-only one), a visitor. A part not shown answers as a login that does not exist, and
    no mentor may change what they read."""
    from upstack.services import applications, contacts, opportunities, path_access

    home = tmp_path / "server"
    with Workspace(home=home, db=db_url) as ws:
        users = {login: accounts.add_user(ws, login)[0] for login in ("olga", "ada", "bob", "cy", "dee")}
        tokens = {login: accounts.create_token(ws, user.id, "laptop")[1] for login, user in users.items()}
        with access.acting_as(accounts.audience_for(ws, users["ada"])):
            slug = opportunities.add(ws, organisation="QUOPPADA", role="Engineer").opportunity.slug
            applications.add(ws, slug, stage="applied", notes="QUAPPADA")
            contacts.add(ws, "QUCONTACTADA", interests="Evals.")
            contacts.add(ws, "QULOCALADA", local_only=True)
            path_access.show(ws, "bob", ("ladder",))
            path_access.show(ws, "cy", ("pipeline",))
            path_access.show(ws, "dee", ("pipeline", "contacts"))
    words = ("QUOPPADA", "QUAPPADA", "QUCONTACTADA", "QULOCALADA")
    pipeline, shown_contacts = {"QUOPPADA"}, {"QUCONTACTADA"}  # a card is its opportunity (notes: /path)
    expected = {  # what each reads of ada's, by page: None is the answer for a login that does not exist
        "ada": {"pipeline": pipeline, "funnel": set(), "contacts": shown_contacts | {"QULOCALADA"}},
        "olga": {"pipeline": None, "funnel": None, "contacts": None},
        "bob": {"pipeline": None, "funnel": None, "contacts": None},
        "cy": {"pipeline": pipeline, "funnel": set(), "contacts": None},
        "dee": {"pipeline": pipeline, "funnel": set(), "contacts": shown_contacts},
    }
    urls = {"pipeline": "/people/ada/pipeline", "funnel": "/people/ada/pipeline/funnel",
            "contacts": "/people/ada/contacts"}
    with serve(home, db_url, token=None) as server:
        def get(who: str | None, url: str) -> httpx.Response:
            client = server.client(signed_in=False)
            if who:
                client.headers["Authorization"] = f"Bearer {tokens[who]}"
            return client.get(url)

        for who, pages in expected.items():
            for page, wanted in pages.items():
                for url in (urls[page], urls[page] + ".json"):
                    answer = get(who, url)
                    shows = {w for w in words if w in answer.text.upper()}
                    if wanted is None:
                        nobody = get(who, url.replace("/ada/", "/nobody/"))
                        assert answer.status_code == 404, (who, url)
                        assert (answer.status_code, answer.text.replace("ada", "nobody")) == \
                            (nobody.status_code, nobody.text), (who, url)
                    else:
                        assert answer.status_code == 200 and shows == wanted, (who, url, shows)
            own = "\n".join(get(who, p).text for p in ("/pipeline.json", "/opportunities.json", "/contacts.json",
                                                         "/due.json", f"/applications/{slug}.json"))
            assert {w for w in words if w in own.upper()} == (set(words) if who == "ada" else set()), who
            for named in (f"/opportunities/{slug}.json", f"/applications/{slug}", "/contacts/qulocalada.json"):
                assert get(who, named).status_code == (200 if who == "ada" else 404), (who, named)
        assert get("cy", "/people/ada/pipeline.json").json()["columns"][1]["cards"][0]["slug"] == slug
        for url in (*urls.values(), "/pipeline", "/contacts.json"):
            assert get(None, url).status_code == (401 if url.endswith(".json") else 303)
        with Workspace(home=home, db=db_url) as ws:
            before = dump_tables(ws.store().db)["path_records"]
        for who in ("cy", "dee"):  # read only: what they read is not theirs to change
            client = server.client(signed_in=False)
            client.headers["Authorization"] = f"Bearer {tokens[who]}"
            assert client.post(f"/applications/{slug}/move", data={"stage": "screen"}).status_code == 404
            assert client.post("/contacts/qucontactada/exchanges", data={"kind": "note"}).status_code == 404
            assert client.post(f"/opportunities/{slug}/archive").status_code == 404
        with Workspace(home=home, db=db_url) as ws:
            assert dump_tables(ws.store().db)["path_records"] == before
