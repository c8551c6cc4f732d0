"""A team server's JSON export carries no accounts (argon2 hashes), sessions or API tokens, and an
import recreates no accounts, unless the admin asks for a server backup (issue 11) — on SQLite
and PostgreSQL, through the CLI as an admin runs it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import CLI
from test_team import PASSWORD
from upstack.domain import access
from upstack.services import accounts, capture, path_access, tree
from upstack.services.jsondump import dump_tables
from upstack.store.accounts import secret_hash
from upstack.timeutil import now_iso
from upstack.workspace import Workspace


def _team_log(run: CLI) -> dict[str, str]:
    with Workspace(home=run.home, db=run.db_url) as ws:
        capture.note(ws, "Before accounts")
        accounts.add_user(ws, "alice")
        bob, link = accounts.add_user(ws, "bob", name="Bob B.")
        accounts.accept_link(ws, link, PASSWORD["bob"])
        _, token = accounts.create_token(ws, bob.id, "laptop")
        accounts.start_session(ws, bob)
        project = tree.add_node(ws, "project", "Shared", why="w")
        entry = capture.note(ws, "Shared finding", under=project.id)
        accounts.share(ws, project.id, "bob", "editor", by=None)
        accounts.add_comment(ws, entry.id, "Nice result", by=accounts.audience_for(ws, bob))
        # Paths (issue 15): the owner's (alice's, written on the server's command line) and bob's, shown to alice.
        ws.store().write([ws.record("ladder.step", {"subject": "learn-to-code", "at": now_iso(), "change": "done"})])
        with access.acting_as(accounts.audience_for(ws, bob)):
            ws.store().write([ws.record("practice.attempt", {"subject": "two-sum", "at": now_iso(), "minutes": 9})])
            path_access.show(ws, "alice", ("ladder",))
        return {"entry": entry.id, "project": project.id, "token": token, "bob": bob.id}


def _paths(run: CLI) -> list[tuple[str, str]]:
    with Workspace(home=run.home, db=run.db_url) as ws:
        return sorted((r["person"], r["op"]) for r in dump_tables(ws.store().db)["path_records"])


def test_a_json_export_of_a_team_server_carries_no_accounts(run: CLI, tmp_path: Path, engine: str,
                                                            make_pg_url: Any) -> None:
    made = _team_log(run)
    run.ok("export", "--out", str(tmp_path / "log.json"))
    text = (tmp_path / "log.json").read_text()
    dump = json.loads(text)
    assert "$argon2" not in text and secret_hash(made["token"]) not in text
    assert not {"users", "shares", "sessions", "api_tokens", "account_links", "audit_log"} & set(dump["tables"])
    assert "owner_user_id" not in {r["key"] for r in dump["tables"]["workspace_info"]}
    assert [(r["person"], r["op"]) for r in dump["tables"]["path_records"]] == [("", "ladder.step")]  # the owner's
    target = CLI(tmp_path / "copy", make_pg_url() if engine == "postgresql" else None)
    target.ok("import", str(tmp_path / "log.json"))
    with Workspace(home=target.home, db=target.db_url) as ws:
        assert not accounts.has_accounts(ws)
        assert [c["body"] for c in accounts.comments_for(ws, made["entry"])] == ["Nice result"]
        assert "Shared finding" in {e["title"] for e in json.loads(target.ok("log", "--json"))}
    assert _paths(target) == [("", "ladder.step")]


def test_accounts_travel_only_in_a_server_backup_and_come_back_only_when_asked(
        run: CLI, tmp_path: Path, engine: str, make_pg_url: Any) -> None:
    made = _team_log(run)
    backup = tmp_path / "server.json"
    run.ok("export", "--server-backup", "--out", str(backup))
    tables = json.loads(backup.read_text())["tables"]
    assert {"users", "shares", "sessions", "api_tokens", "audit_log"} <= set(tables)
    assert "$argon2" in backup.read_text()
    plain = CLI(tmp_path / "plain", make_pg_url() if engine == "postgresql" else None)
    result = plain("import", str(backup))
    assert result.exit_code == 0, result.output
    assert "left out 2 users" in result.stderr and "--server-backup" in result.stderr
    with Workspace(home=plain.home, db=plain.db_url) as ws:
        assert not accounts.has_accounts(ws) and accounts.token_user(ws, made["token"]) is None
        assert [c["body"] for c in accounts.comments_for(ws, made["entry"])] == ["Nice result"]
    restored = CLI(tmp_path / "restored", make_pg_url() if engine == "postgresql" else None)
    restored.ok("import", "--server-backup", str(backup))
    with Workspace(home=restored.home, db=restored.db_url) as ws:
        assert [u.login for u in accounts.list_users(ws)] == ["alice", "bob"]
        user = accounts.token_user(ws, made["token"])
        assert user is not None and user.login == "bob"
        assert [(s["login"], s["role"]) for s in accounts.shares_of(ws, made["project"])] == [("bob", "editor")]
        assert accounts.sign_in(ws, "bob", PASSWORD["bob"])[0].login == "bob"
    # Everyone's path comes back with a server backup, and only the owner's without it.
    assert _paths(restored) == _paths(run) == sorted([("", "ladder.step"), (made["bob"], "path.share"),
                                                      (made["bob"], "practice.attempt")])
    assert _paths(plain) == [("", "ladder.step")]
    with Workspace(home=run.home, db=run.db_url) as ws:
        audited = [a["subject"] for a in accounts.audit_log(ws) if a["action"] == "export"]
    assert audited == ["json server backup"]
