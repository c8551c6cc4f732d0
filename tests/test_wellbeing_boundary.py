"""The wellbeing boundary (issue 18): with check-ins, signs, a questionnaire, a recovery plan and a fit
note in a workspace, none of it reaches anything made for others or kept elsewhere: not a sync push,
not a team server's database or any of its pages, not `upstack due` there, not the JSON export (unless
--include-wellbeing), the Markdown export, a linked vault, a review digest, a portfolio, a search, the
drafted question for a mentor, nor any page of the owner's own local app but /pace.

Each wellbeing item carries a marker word; every output is searched for every marker. The check can
fail: the owner's /pace page and `export --include-wellbeing` are searched too, and hold them.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from conftest import CLI
from upstack.domain import access
from upstack.services import accounts, burnout, capture, due, fit, recovery, tree, wellbeing
from upstack.services import sync as sync_service
from upstack.services.jsondump import dump_tables
from upstack.timeutil import today_local
from upstack.web.app import create_app
from upstack.workspace import Workspace
from webserver import serve

MARKERS = {
    "check-in note": "QWNOTEMARK",
    "sign": "QWSIGNMARK",
    "plan reason": "QWPLANMARK",
    "fit note": "QWFITMARK",
}
TOKEN = "boundary-token-0123456789"
OWNER_ONLY = ("/pace", "/pace.json")  # the owner's own local page: the one place the app shows wellbeing


def _found(text: str) -> list[str]:
    return [name for name, marker in MARKERS.items() if marker.lower() in text.lower()]


def _fill(ws: Workspace) -> dict[str, str]:
    """A log worth sharing, and wellbeing data with every marker. Ids to fill routes with."""
    project = tree.add_node(ws, "project", "Probing for deception", why="Evals need it.")
    entry = capture.note(ws, "Linear probe on layer 12 finds the lie direction. #probes", under=project.id)
    capture.note(ws, "Result: the probe transfers to held-out prompts.", kind="result", under=project.id)
    wellbeing.add_sign(ws, f"{MARKERS['sign']} doomscrolling")
    for back in range(3):
        wellbeing.check_in(ws, day=today_local() - timedelta(days=back), sleep_hours=5.5, energy=1, mood=1,
                           hours_worked=11, sign_scores={f"{MARKERS['sign']} doomscrolling": 2},
                           note=f"{MARKERS['check-in note']} slept badly, skipped the gym")
    burnout.answer(ws, ["often"] * 6)
    recovery.start(ws, usual=9, reason=f"{MARKERS['plan reason']} after the deadline")
    fit.note(ws, energised=["experiments"], drained=["reading"], text=f"{MARKERS['fit note']} sweeps are fun")
    return {"entry": entry.short, "node": project.id}


def _get_routes(app: object) -> list[str]:
    found = []
    pending = list(app.routes)  # type: ignore[attr-defined]
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)
        if included is not None:
            pending += included.routes
        elif isinstance(route, APIRoute | Route) and "GET" in (route.methods or ()):
            found.append(route.path)
    return sorted(set(found))


def _concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{[^}]+\}", ids["entry"], path)


def test_nothing_made_for_others_or_kept_elsewhere_holds_wellbeing(tmp_path: Path, db_url: str | None) -> None:
    laptop = CLI(tmp_path / "laptop", None)
    with Workspace(home=laptop.home) as mine:
        ids = _fill(mine)
    # The check can fail: what is the owner's shows every marker.
    assert set(_found(laptop.ok("export", "--include-wellbeing"))) == set(MARKERS)

    # The CLI's outputs for others, and the files it writes.
    outputs = {
        "log": laptop.ok("log"), "search": laptop.ok("search", "slept"), "review": laptop.ok("review"),
        "tags": laptop.ok("tags"),
        "export json": laptop.ok("export"), "due": laptop.ok("due"), "ask": laptop.ok("ask", ids["node"]),
        "portfolio proposals": laptop.ok("portfolio", "proposals"), "show": laptop.ok("show", ids["entry"]),
    }
    for name, text in outputs.items():
        assert not _found(text), name
    for marker in MARKERS.values():
        assert json.loads(laptop.ok("search", marker, "--json"))["total"] == 0, marker
    laptop.ok("review", "--out", str(tmp_path / "digest.md"))
    laptop.ok("export", "--format", "markdown", str(tmp_path / "markdown"))
    laptop.ok("vault", "link", str(tmp_path / "vault"), "--include-private")
    laptop.ok("vault", "sync")
    laptop.ok("portfolio", "profile", "--name", "Sam Example")
    laptop.ok("portfolio", "export", "--format", "jsonresume", "--out", str(tmp_path / "cv.json"))
    laptop.ok("portfolio", "site", str(tmp_path / "site"))
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "laptop" not in p.parts]
    assert written
    for path in written:
        assert not _found(path.read_bytes().decode("utf-8", "replace")), path

    # The owner's local app: every page but /pace.
    with Workspace(home=laptop.home) as mine:
        routes = _get_routes(create_app(mine, token=TOKEN))
    assert len(routes) > 40
    with serve(laptop.home, None, token=TOKEN) as local:
        client = local.client()
        assert "Linear probe on layer 12" in client.get(f"/e/{ids['entry']}").text  # pages do show the log
        for path in routes:
            if path.startswith("/static") or path in ("/logout",):
                continue
            answer = client.get(_concrete(path, ids))
            leaked = _found(answer.text)
            if path in OWNER_ONLY and answer.status_code == 200:
                assert leaked, "the owner's page is searched too, and holds the markers"
                continue
            assert not leaked, (path, answer.status_code, leaked)

    # A sync push to a team server: it takes none, keeps none, shows none.
    server_home = tmp_path / "server"
    with Workspace(home=server_home, db=db_url) as server:
        user, secret = accounts.add_user(server, "sam")
        accounts.accept_link(server, secret, "a long enough password 42")
        token = accounts.create_token(server, user.id, "laptop")[1]
    with serve(server_home, db_url, token=None) as running:
        with Workspace(home=laptop.home) as mine:
            sync_service.login(mine, running.url, token)
        laptop.ok("sync")
        with Workspace(home=server_home, db=db_url) as server:
            server.ingest()
            tables = dump_tables(server.store().db)
            assert not _found(json.dumps(tables, default=str))
            assert "Linear probe on layer 12" in json.dumps(tables, default=str)  # the log itself did arrive
            assert not server.store().db.scalar(
                "SELECT count(*) FROM path_records WHERE op LIKE 'checkin.%' OR op LIKE 'recover.%' "
                "OR op LIKE 'fit.%'")
            routes = _get_routes(create_app(server, token=None))
        http = httpx.Client(base_url=running.url, follow_redirects=False, timeout=60)
        login = http.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        assert http.post("/login", data={"login": "sam", "password": "a long enough password 42", "next": "/",
                                         "csrf": csrf.group(1)}).status_code == 303
        try:
            for path in routes:
                if path.startswith("/static") or path in ("/logout",):
                    continue
                answer = http.get(_concrete(path, ids))
                assert not _found(answer.text), (path, answer.status_code)
                if path in OWNER_ONLY:
                    assert answer.status_code == 404, "a team server has no wellbeing page"
        finally:
            http.close()

    # `upstack due` on the team server, for a member who asked for reminders: nothing of wellbeing.
    with Workspace(home=server_home, db=db_url, checkin_reminder=True) as server:
        for audience in (access.OWNER, accounts.audience_for(server, user)):
            with access.acting_as(audience):
                assert not [i for i in due.due(server) if i.kind == "check-in"]
                assert not _found(json.dumps([i.to_dict() for i in due.due(server)]))


@pytest.mark.parametrize("op", ["checkin.log", "checkin.sign", "checkin.cbi", "recover.plan", "fit.note"])
def test_every_wellbeing_op_is_local_only_and_refused_at_the_door(op: str) -> None:
    from upstack.domain.permissions import NOT_PUSHABLE, WELLBEING_OPS

    assert op in WELLBEING_OPS and "local-only" in NOT_PUSHABLE[op]
