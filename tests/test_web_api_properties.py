"""The JSON API as a property, over real HTTP: Schemathesis generates requests from the live /openapi.json.

Every documented operation is sent generated requests, both valid ones and ones that break the schema,
with the session cookie and the CSRF header, and:

- no input gets a 5xx;
- a response whose status the schema documents has a documented content type and matches its schema;
- a request valid by the schema may be refused (an unknown id) but never as invalid (422);
- every operation accepts some valid request (a 2xx or 3xx), so an API that refuses everything fails.

Ids in paths (and the few values that must name real things) are, three times in four, taken from a
workspace seeded with real entries, attachments, nodes, ideas and runs; the rest are what Schemathesis
generates, so refusals of unknown ids are exercised too.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction

import upstack
from upstack.domain import pipeline
from upstack.domain.idea import ORDERS
from upstack.domain.text import KINDS
from upstack.services import applications, capture, contacts, ideas, opportunities, panels, predictions, takes, tree
from upstack.workspace import Workspace
from webserver import Server, serve

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 50
# Per operation and generation mode: enough to reach the handlers with real ids and odd values,
# few enough that the whole file runs in well under two minutes on two cores.
EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}
# Three times in four a path id or a listed value is a real one: enough that every operation is reached
# with real data many times, while the rest still exercise unknown ids.
MOSTLY = st.sampled_from([True, True, True, False])
# The schema documents 200 and 422 only, so status_code_conformance is left out: a 303 after a form post,
# 404 for an unknown id and 400 for a refused value are the app's normal answers, not undocumented ones.
CHECKS: list[CheckFunction] = [schemathesis.checks.not_a_server_error,
                               schemathesis.checks.content_type_conformance,
                               schemathesis.checks.response_schema_conformance]


# -- a workspace with one of everything an id in a path can name ----------------------------------

@dataclass
class Seeded:
    entries: list[str]
    nodes: list[str]
    ideas: list[str]
    runs: list[str]
    attachments: list[str]
    metrics: list[str]
    opportunities: list[str]  # slugs (issue 16); applications to some of them
    applications: list[str]
    contacts: list[str]
    predictions: list[str]  # open ones (issue 19): updated and resolved by their forms
    takes: list[str]  # (issue 19) updated and revisited by their forms
    artifacts: list[str] = field(default_factory=list)  # (issue 20) names of artifacts the sweep stored
    panels: list[str] = field(default_factory=list)  # (issue 20) chart panels: changed, moved, deleted, restored


def _seed(home: Path, scratch: Path) -> Seeded:
    figure, table = scratch / "plot.png", scratch / "counts.csv"
    figure.write_bytes(PNG)
    table.write_text("layer,effect\n5,0.91\n6,0.12\n")
    with Workspace(home=home) as ws:
        agenda = tree.add_node(ws, "agenda", "Understand in-context learning", why="To trust what models learn.")
        project = tree.add_node(ws, "project", "IOI circuit", why="A known circuit to test methods on.",
                                under=agenda.id)
        question = tree.add_node(ws, "question", "Does layer 5 carry the name?", under=project.id)
        notes = [capture.note(ws, "Patching layer 5 kills the effect. See the plot. #ioi",
                              attach=[figure, table], under=question.id),
                 capture.note(ws, "Stop at 8 layers: the rest is noise. #ioi", kind="decision", project="IOI")]
        found = [ideas.capture_idea(ws, f"Idea {n}: probe the residual stream at layer {n}.") for n in range(4)]
        # Three applied to; four not yet, their slugs alike at the start, so that a generated prefix
        # ("l", "lab-") names none of them (archiving one before it is applied to).
        opps = [opportunities.add(ws, organisation=org, role="Research Engineer").opportunity.slug
                for org in ("Redwood Research", "Apollo Research", "FAR AI", "Lab One", "Lab Two", "Lab Three",
                            "Lab Four")]
        for slug in opps[:3]:
            applications.add(ws, slug, stage="applied")
        people = [contacts.add(ws, name, interests="Circuits.").slug for name in ("Chris Example", "Dana Lab")]
        forecasts = [predictions.make(ws, f"Probe {n} beats chance.", "70%", on=question.id) for n in range(4)]
        heard = [takes.make(ws, f"Claim {n}: the probe reads out truth.", "60%", source="a talk", on=[question.id],
                            revisit="in 2 weeks", shared=bool(n % 2)) for n in range(3)]
    runs = []
    for n, lr in enumerate((1e-3, 3e-4, 1e-4)):
        run = upstack.run(f"sweep-{n}", home=home, capture="none", config={"lr": lr, "layers": 8},
                          under=question.id)
        for step in range(30):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 30}, step=step)
        run.artifact(figure, name=f"plot-{n % 2}", kind="figure")  # plot-0 twice: one version; plot-1 used below
        if n == 2:
            run.use_artifact("plot-0:v0")
        run.finish()
        runs.append(run)
    with Workspace(home=home) as ws:
        ws.ingest()  # the run folders
        charts = [panels.save_panel(ws, panels.spec_from(ws, keys=["loss"], runs=[runs[n].id]), under=project.id,
                                    title=f"Loss {n}") for n in range(2)]

    def refs(things: list[Any]) -> list[str]:
        return [ref for thing in things for ref in (thing.id, thing.short)]

    return Seeded(entries=refs([*notes, *found, *runs]), nodes=refs([agenda, project, question]),
                  ideas=refs(found), runs=refs(runs),
                  attachments=[a.id for note in notes for a in note.attachments], metrics=["loss", "acc"],
                  opportunities=opps, applications=opps[:3], contacts=people,
                  predictions=refs([p.entry for p in forecasts]), takes=refs([t.entry for t in heard]),
                  artifacts=["plot-0", "plot-1"], panels=refs(charts))


@dataclass
class RealValues:
    """Ids and values from the seeded workspace, to stand in for generated ones (``MOSTLY``)."""

    path_ids: dict[str, list[str]]  # by how the path starts (the first that fits)
    values: dict[tuple[str, str, str], st.SearchStrategy[Any]]  # by (path, "query" or "body", name)
    # Values used every time, not mostly: a generated one would end the fuzzer's own token or password.
    always: set[tuple[str, str, str]] = field(default_factory=set)

    def use(self, data: st.DataObject, case: schemathesis.Case) -> None:
        real_ids = next((ids for prefix, ids in self.path_ids.items() if case.path.startswith(prefix)), [])
        for name in case.path_parameters:
            if real_ids and data.draw(MOSTLY, label=f"a real {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(real_ids), label=name)
        for (path, where, name), strategy in self.values.items():
            container = case.query if where == "query" else case.body
            if path == case.path and isinstance(container, dict) and (
                    (path, where, name) in self.always or data.draw(MOSTLY, label=f"a real {name}")):
                container[name] = data.draw(strategy, label=name)


def _real_values(seeded: Seeded) -> RealValues:
    runs, metrics = st.sampled_from(seeded.runs), st.sampled_from(seeded.metrics)
    days = st.sampled_from(["", "2030-01-15", "next friday", "yesterday", "soonish"])
    return RealValues(
        path_ids={"/e/{ref}/forecast": seeded.predictions, "/e/{ref}/resolve": seeded.predictions,
                  "/e/{ref}/take": seeded.takes, "/e/{ref}/revisited": seeded.takes,
                  "/e/": seeded.entries, "/tree/": seeded.nodes, "/ideas/": seeded.ideas, "/runs/": seeded.runs,
                  "/a/": seeded.attachments, "/artifacts/": seeded.artifacts, "/panels/": seeded.panels,
                  # Applied to only the free ones; archived and restored only those applied to already.
                  "/opportunities/{slug}/apply": seeded.opportunities[3:],
                  "/opportunities/{slug}/archive": seeded.applications,
                  "/opportunities/{slug}/restore": seeded.applications, "/opportunities/": seeded.opportunities,
                  "/applications/": seeded.applications, "/contacts/": seeded.contacts},
        # What the schema cannot say: these must name something that exists, or be one of a few words.
        values={
            ("/runs/{ref}/series.json", "query", "key"): metrics,
            ("/runs/{ref}/series.csv", "query", "key"): metrics,
            ("/runs/{ref}.json", "query", "key"): st.lists(metrics, max_size=2),
            ("/runs/{ref}.json", "query", "with"): st.lists(runs, max_size=2),
            ("/runs/compare.json", "query", "id"): st.lists(runs, min_size=2, max_size=3),
            ("/runs.json", "query", "under"): st.sampled_from(seeded.nodes),
            # Issue 20's run forms: a node to move under, tags to add and take off.
            ("/runs/{ref}/move", "body", "node"): st.sampled_from(seeded.nodes),
            ("/runs/{ref}/tag", "body", "tags"): st.sampled_from(["+baseline", "-baseline +sweep", "+a -a", "-nope"]),
            ("/runs/{ref}/rename", "body", "name"): st.sampled_from(["sae-sweep", "width 16k, seed 2", " "]),
            # Issue 20's run views: sorts and result filters, groups, panels (real runs, metrics and nodes).
            ("/runs.json", "query", "sort"): st.sampled_from(["", "best(loss)", "lr desc", "final(acc)"]),
            ("/runs.json", "query", "where"): st.lists(st.sampled_from(["lr=1e-3", "best(loss)<0.1", "layers>4"]),
                                                       max_size=2),
            **{(path, "query", name): strategy for path in ("/runs/groups.json", "/runs/groups/series.json")
               for name, strategy in (("id", st.lists(runs, min_size=1, max_size=3)), ("key", metrics),
                                      ("band", st.sampled_from(["std", "minmax", "iqr"])),
                                      ("x", st.sampled_from(["step", "time", "epoch"])))},
            ("/runs/groups.json", "query", "by"): st.sampled_from([["lr"], ["-seed"], ["lr,layers"], []]),
            ("/runs/groups.json", "query", "under"): st.sampled_from(seeded.nodes),
            ("/panels.json", "query", "under"): st.sampled_from(seeded.nodes),
            ("/panels/{ref}/data.json", "query", "run"): st.lists(runs, max_size=2),
            **{(path, "body", name): strategy for path in ("/panels", "/panels/{ref}")
               for name, strategy in (("keys", st.sampled_from(["loss", "loss, acc", "", "nothing"])),
                                      ("runs", st.sampled_from(["", *seeded.runs[:2], "zzzzzzz"])),
                                      ("x", st.sampled_from(["step", "time", "epoch"])))},
            ("/panels", "body", "under"): st.sampled_from(["", *seeded.nodes]),
            ("/panels/{ref}/move", "body", "by"): st.sampled_from([-1, 1, 3]),
            ("/ideas.json", "query", "order"): st.sampled_from(ORDERS),
            ("/note", "body", "kind"): st.sampled_from(KINDS),
            ("/ideas/{ref}/prune", "body", "reason"): st.sampled_from(["Already tried in 2024.", "Too costly."]),
            # Issue 16's forms: a stage, a kind, a level, a day and a link are words the app knows.
            ("/applications/{slug}/move", "body", "stage"): st.sampled_from([*pipeline.stage_order(), *pipeline.ENDS]),
            ("/applications/{slug}/move", "body", "when"): st.sampled_from(["", "", "yesterday", "2030-01-15"]),
            ("/applications/{slug}/move", "body", "on"): st.sampled_from(["", "2030-01-15"]),
            ("/applications/{slug}/move", "body", "learned"): st.sampled_from(["", "", "A baseline was missing."]),
            ("/applications/{slug}/follow-up", "body", "day"): days,
            ("/opportunities", "body", "kind"): st.sampled_from(pipeline.KINDS),
            ("/opportunities", "body", "link"): st.sampled_from(["", "https://jobs.example/1", "not a link"]),
            ("/opportunities", "body", "deadline"): days,
            ("/opportunities/{slug}/apply", "body", "stage"): st.sampled_from(["", "wishlist", "applied"]),
            ("/opportunities/{slug}/apply", "body", "stretch"): st.sampled_from(["", *pipeline.STRETCH]),
            ("/contacts", "body", "kind"): st.sampled_from(contacts.KINDS),
            ("/contacts", "body", "level"): st.sampled_from(["", "private", "local-only"]),
            ("/contacts", "body", "links"): st.sampled_from(["", "https://c.example", "https://a.example\nnot one"]),
            ("/contacts/{slug}/edit", "body", "kind"): st.sampled_from(contacts.KINDS),
            ("/contacts/{slug}/edit", "body", "links"): st.sampled_from(["", "https://c.example"]),
            ("/contacts/{slug}/edit", "body", "follow_up"): days,
            ("/contacts/{slug}/exchanges", "body", "kind"): st.sampled_from(contacts.EXCHANGES),
            ("/contacts/{slug}/exchanges", "body", "when"): days,
            ("/contacts/{slug}/exchanges", "body", "follow_up"): days,
            ("/due.json", "query", "days"): st.sampled_from([0, 14, 60]),
            # Issue 19's forms: a probability on the scale or off it, an outcome, a reason (a correction's).
            **{(path, "body", "probability"): st.sampled_from(["70%", "0.3", "150%", "2"])
               for path in ("/tree/{ref}/predict", "/e/{ref}/predict", "/e/{ref}/forecast")},
            **{(path, "body", "claim"): st.sampled_from(["The probe beats chance.", ""])
               for path in ("/tree/{ref}/predict", "/e/{ref}/predict")},
            **{(path, "body", "resolve_by"): days for path in ("/tree/{ref}/predict", "/e/{ref}/predict")},
            # Takes' forms: a confidence on the scale or off it, a claim, a node, revisit days.
            **{(path, "body", "confidence"): st.sampled_from(["60%", "0.35", "150%", "", "2"])
               for path in ("/takes", "/e/{ref}/take")},
            ("/takes", "body", "claim"): st.sampled_from(["SAEs find the real features.", ""]),
            ("/takes", "body", "source"): st.sampled_from(["Ada", ""]),
            ("/takes", "body", "on"): st.sampled_from(["", *seeded.nodes]),
            **{(path, "body", name): days for path, name in (("/takes", "revisit"), ("/e/{ref}/take", "revisit"),
                                                             ("/e/{ref}/revisited", "next"))},
            ("/e/{ref}/take", "body", "reason"): st.sampled_from(["A second source disagrees.", ""]),
            ("/e/{ref}/resolve", "body", "outcome"): st.sampled_from([*predictions.OUTCOMES, "maybe"]),
            ("/e/{ref}/resolve", "body", "reason"): st.sampled_from(["Misread the table.", ""]),
            ("/e/{ref}/resolve", "body", "evidence"): st.sampled_from(["", *seeded.runs[:1]]),
            # Issue 18's check-in (local mode only): a day, and scores on the scale or off it.
            ("/pace.json", "query", "day"): days,
            ("/pace", "body", "day"): days,
            ("/pace", "body", "energy"): st.sampled_from(["", "0", "3", "7"]),
            ("/pace", "body", "sleep_hours"): st.sampled_from(["", "6.5", "30"]),
        })


# -- the run: every operation, both generation modes -----------------------------------------------

class _ServerErrors(logging.Handler):
    """Keeps the server's logged tracebacks, so a 5xx is reported with its cause."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@dataclass
class Fuzzed:
    operations: list[str]
    accepted: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list, repr=False)


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found
    return str(found.group(1))


def _fuzz(operation: schemathesis.APIOperation, mode: GenerationMode, real: RealValues,
          send: Callable[[schemathesis.Case], requests.Response], accepted: Counter[str]) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    # Scaled with the profile's examples (100 by default; the inner loop's `quick` profile: 10).
    @settings(max_examples=max(3, EXAMPLES[mode] * settings.default.max_examples // 100), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(data=st.data())
    def sent_and_checked(data: st.DataObject) -> None:
        case = data.draw(strategy, label="case")
        real.use(data, case)
        response = send(case)
        if mode is GenerationMode.POSITIVE:
            accepted[operation.label] += response.status_code < 400
            # A valid request may be refused (an unknown id, a word the app does not know) but never as invalid.
            assert response.status_code != 422, f"a request valid by the schema was refused as invalid: {response.text}"
        case.validate_response(response, checks=CHECKS)

    sent_and_checked()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    scratch = tmp_path_factory.mktemp("api-properties")
    real = _real_values(_seed(scratch / "home", scratch))
    with serve(scratch / "home", None, upload_limit=100_000) as server, requests.Session() as session:
        # Added once the server has started: starting it configures its loggers afresh.
        errors, server_log = _ServerErrors(), logging.getLogger("uvicorn.error")
        server_log.addHandler(errors)
        try:
            yield _fuzz_all(server, session, real, errors)
        finally:
            server_log.removeHandler(errors)


def _fuzz_all(server: Server, session: requests.Session, real: RealValues, errors: _ServerErrors,
              headers: dict[str, str] | None = None) -> Fuzzed:
    """Every operation, both modes; signed in with the local token's cookie, or the given headers."""
    cookies = {"upstack_session": server.token} if server.token else {}
    headers = headers or {"X-CSRF-Token": _csrf(server.client())}
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json", cookies=cookies, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    done = Fuzzed(operations=[operation.label for operation in operations])

    def send(case: schemathesis.Case) -> requests.Response:
        # A redirect (after a form post) is the answer under test, not the page it points to.
        return case.call(base_url=server.url, session=session, headers=headers, cookies=cookies,
                         allow_redirects=False)

    for operation in operations:
        for mode in EXAMPLES:
            logged = len(errors.records)
            try:
                _fuzz(operation, mode, real, send, done.accepted)
            except Unsatisfiable as exc:
                # An operation whose only parameter is a free string in the path has nothing to make invalid.
                if mode is not GenerationMode.NEGATIVE:
                    done.problems.append(f"{operation.label}: no valid request could be generated: {exc}")
            # Every operation's failures are reported, not just the first (check failures are a BaseExceptionGroup).
            except (Exception, schemathesis.errors.FailureGroup) as exc:
                notes = "\n".join(getattr(exc, "__notes__", []))
                tracebacks = "\n".join(errors.records[logged:])
                done.problems.append(f"{operation.label} ({mode.value} data): {exc}\n{notes}\n"
                                     + (f"Server log:\n{tracebacks}" if tracebacks else ""))
    return done


# -- a team server: the same app with accounts, sharing, comments, admin and sync -------------------

TEAM_PASSWORD = "carol-password-1"


@pytest.fixture(scope="module")
def fuzzed_team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """The team server's API, signed in as its first account (an admin who owns the seeded log) with
    an API token. Real values add the team's own: logins, link secrets, tokens to revoke, files."""
    import hashlib

    from upstack.domain.access import ROLES
    from upstack.services import accounts

    scratch = tmp_path_factory.mktemp("api-properties-team")
    home = scratch / "home"
    seeded = _seed(home, scratch)
    with Workspace(home=home) as ws:
        ada, ada_link = accounts.add_user(ws, "ada")
        accounts.accept_link(ws, ada_link, TEAM_PASSWORD)  # making a token asks for it again
        _, token = accounts.create_token(ws, ada.id, "fuzzing")
        carol, carol_link = accounts.add_user(ws, "carol")
        accounts.accept_link(ws, carol_link, TEAM_PASSWORD)
        for login in ("bob", "dave", "erin"):
            accounts.add_user(ws, login)
        # Each link works once: enough for some to be accepted.
        joins = [accounts.add_user(ws, f"new{n}")[1] for n in range(6)]
        # (A new reset link replaces a person's earlier one: one person each.)
        resets = [accounts.reset_link(ws, accounts.add_user(ws, f"reset{n}")[0].login) for n in range(6)]
        spare = [accounts.create_token(ws, ada.id, f"spare {n}")[0]["short"] for n in range(6)]
        shas = [hashlib.sha256(b"").hexdigest()] + [
            str(row["sha256"]) for row in ws.store().db.query("SELECT sha256 FROM attachments")]
    real = _real_values(seeded)
    logins = st.sampled_from(["bob", "dave", "erin", "carol"])
    real.path_ids = {"/join/": joins, "/reset/": resets, "/account/tokens/": spare, "/admin/tokens/": spare,
                     "/admin/users/": ["bob", "dave", "erin"], "/api/blobs/": shas,
                     "/people/": ["ada"],  # her own path: another's is shown only to their mentors
                     "/api/runs/": [ref for ref in seeded.runs if len(ref) == 26], **real.path_ids}
    real.values.update({
        ("/tree/{ref}/share", "body", "login"): logins, ("/tree/{ref}/unshare", "body", "login"): logins,
        ("/tree/{ref}/share", "body", "role"): st.sampled_from(ROLES),
        ("/login", "body", "login"): st.just("carol"), ("/login", "body", "password"): st.just(TEAM_PASSWORD),
        ("/join/{secret}", "body", "password"): st.just(TEAM_PASSWORD),
        ("/join/{secret}", "body", "again"): st.just(TEAM_PASSWORD),
        ("/reset/{secret}", "body", "password"): st.just(TEAM_PASSWORD),
        ("/reset/{secret}", "body", "again"): st.just(TEAM_PASSWORD),
        ("/account/tokens", "body", "password"): st.just(TEAM_PASSWORD),
        # ada "changes" her password to itself, and never ends the token the fuzzer signs in with.
        ("/account/password", "body", "current"): st.just(TEAM_PASSWORD),
        ("/account/password", "body", "password"): st.just(TEAM_PASSWORD),
        ("/account/password", "body", "again"): st.just(TEAM_PASSWORD),
        ("/account/password", "body", "end_tokens"): st.just(False),
        ("/account/logout-everywhere", "body", "tokens"): st.just(False),
        ("/account/tokens", "body", "scope"): st.sampled_from(["full", "read-only", "sync-only"]),
        ("/account/tokens", "body", "expires_days"): st.sampled_from(["", "1", "30"]),
        # A push to one's own run (the seeded runs are ada's: she owns the log as it was).
        ("/api/runs/{run_id}/push", "body", "records"): st.just([]),
        ("/api/runs/{run_id}/push", "body", "points"): st.just({}),
    })
    real.always.update(key for key in real.values if key[0] in ("/account/password", "/account/logout-everywhere"))
    real.always.add(("/account/tokens", "body", "password"))
    from upstack.services import throttle

    saved = throttle.PAIR_LIMIT, throttle.ACCOUNT_LIMIT
    # Throttling sign-ins is tested in test_accounts_security.py; here generated wrong passwords would
    # soon lock the fuzzer out of POST /login altogether.
    throttle.PAIR_LIMIT = throttle.ACCOUNT_LIMIT = 10**9
    try:
        with serve(home, None, token=None, upload_limit=100_000) as server, requests.Session() as session:
            errors, server_log = _ServerErrors(), logging.getLogger("uvicorn.error")
            server_log.addHandler(errors)
            try:
                yield _fuzz_all(server, session, real, errors, headers={"Authorization": f"Bearer {token}"})
            finally:
                server_log.removeHandler(errors)
    finally:
        throttle.PAIR_LIMIT, throttle.ACCOUNT_LIMIT = saved


# -- the properties ----------------------------------------------------------------------------------

def test_generated_requests_get_no_server_error_and_only_documented_answers(fuzzed: Fuzzed) -> None:
    assert "GET /log.json" in fuzzed.operations and "POST /note" in fuzzed.operations
    assert not fuzzed.problems, "\n\n".join(fuzzed.problems)


def test_every_operation_accepts_some_valid_generated_request(fuzzed: Fuzzed) -> None:
    never = [label for label in fuzzed.operations if not fuzzed.accepted[label]]
    assert not never, f"no valid generated request was accepted by: {', '.join(never)}"


def test_the_team_servers_api_gets_no_server_error_and_only_documented_answers(fuzzed_team: Fuzzed) -> None:
    assert "POST /api/sync/push" in fuzzed_team.operations and "POST /e/{ref}/comments" in fuzzed_team.operations
    assert not fuzzed_team.problems, "\n\n".join(fuzzed_team.problems)


def test_every_team_operation_accepts_some_valid_generated_request(fuzzed_team: Fuzzed) -> None:
    never = [label for label in fuzzed_team.operations if not fuzzed_team.accepted[label]]
    assert not never, f"no valid generated request was accepted by: {', '.join(never)}"
