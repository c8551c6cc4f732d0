"""API tokens for scripts and `upstack sync`: made, listed, revoked, and what each may do.

A token has a scope, checked on every request it signs (web/auth.py):

- ``full``: whatever its user may do in the web app;
- ``read-only``: only reads (GET and HEAD), e.g. a dashboard or a notebook pulling results;
- ``sync-only``: only what `upstack sync` and live runs use: ``/api/me.json``,
  ``/api/sync/...``, ``/api/blobs/...`` and ``/api/runs/...`` (a token on a compute node
  cannot read pages, comment, share or make more tokens).

and, optionally, an expiry. Secrets are shown once and stored only as SHA-256 hashes.
"""

from __future__ import annotations

import secrets
from typing import Any

from upstack.domain.access import Audience
from upstack.domain.text import clean_text
from upstack.errors import BadInput, NotFound
from upstack.ids import new_id, short_id
from upstack.services._account_rows import User, audit, db_of, later, user_of
from upstack.store.accounts import secret_hash
from upstack.store.db import Database
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["TOKEN_PREFIX", "SCOPES", "MAX_TOKEN_DAYS", "create_token", "list_tokens", "revoke_token", "token_user",
           "token_grant", "scope_allows", "revoke_all_tokens", "SCOPE_HELP"]

TOKEN_PREFIX = "upstack_"
SCOPES = ("full", "read-only", "sync-only")
MAX_TOKEN_DAYS = 3650
_SYNC_PATHS = ("/api/sync/", "/api/blobs/", "/api/runs/")
# What a refused request is told, by scope.
SCOPE_HELP = {"read-only": "it may only read (GET)",
              "sync-only": "it may only sync (/api/me.json, /api/sync/, /api/blobs/, /api/runs/)"}


def scope_allows(scope: str, method: str, path: str) -> bool:
    """Whether a token of ``scope`` may send ``method`` to ``path`` (an unknown scope: nothing)."""
    if scope == "full":
        return True
    if scope == "read-only":
        return method in ("GET", "HEAD")
    if scope == "sync-only":
        return path == "/api/me.json" or path.startswith(_SYNC_PATHS)
    return False


def create_token(ws: Workspace, user_id: str, name: str, *, scope: str = "full", expires_days: int | None = None,
                 address: str = "") -> tuple[dict[str, Any], str]:
    """A new API token for scripts; the secret is shown once."""
    name = " ".join(clean_text(name).split())[:80]
    if not name:
        raise BadInput("give the token a name (what it is for, e.g. 'cluster sync')")
    if scope not in SCOPES:
        raise BadInput(f"no token scope {scope!r}; use one of {', '.join(SCOPES)}")
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise BadInput(f"a token expires after 1 to {MAX_TOKEN_DAYS} days (or never: leave it empty)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = new_id()
    expires_at = later(days=expires_days) if expires_days else None
    db = db_of(ws)
    with db.transaction():
        db.execute("INSERT INTO api_tokens (id, user_id, name, secret_hash, created_at, scope, expires_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (token_id, user_id, name, secret_hash(secret), now_iso(), scope, expires_at))
        audit(db, "token.create", actor=user_id, subject=name, address=address,
              detail=scope + (f", expires {expires_at[:10]}" if expires_at else ""))
    return _token(db.one("SELECT * FROM api_tokens WHERE id = ?", (token_id,)) or {}), secret


def _token(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "short": short_id(row["id"]), "name": row["name"], "created_at": row["created_at"],
            "last_used_at": row["last_used_at"], "revoked_at": row["revoked_at"], "scope": row["scope"],
            "expires_at": row["expires_at"]}


def list_tokens(ws: Workspace, user_id: str | None = None) -> list[dict[str, Any]]:
    """A user's tokens (None: everyone's, for an admin), newest first; never their secrets."""
    where, params = ("WHERE t.user_id = ?", [user_id]) if user_id else ("", [])
    return [{**_token(r), "login": r["login"]} for r in db_of(ws).query(
        f"SELECT t.*, u.login FROM api_tokens t JOIN users u ON u.id = t.user_id {where} "
        "ORDER BY t.created_at DESC, t.id", params)]


def revoke_token(ws: Workspace, token_ref: str, *, by: Audience, address: str = "") -> dict[str, Any]:
    """Revoke a token: its own user may, and so may an admin."""
    db = db_of(ws)
    key = token_ref.strip().upper()
    rows = [r for r in db.query("SELECT * FROM api_tokens") if r["id"] == key or short_id(r["id"]).upper() == key]
    if not rows or not (rows[0]["user_id"] == by.user_id or by.is_admin):
        raise NotFound(f"no API token {token_ref!r}")
    row = rows[0]
    with db.transaction():
        db.execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now_iso(), row["id"]))
        audit(db, "token.revoke", actor=by.user_id, subject=row["name"], address=address)
    return _token(db.one("SELECT * FROM api_tokens WHERE id = ?", (row["id"],)) or {})


def revoke_all_tokens(db: Database, user_id: str, at: str) -> int:
    """Every live token of the user ends (inside the caller's transaction)."""
    return int(db.execute("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                          (at, user_id)).rowcount)


def token_grant(ws: Workspace, secret: str) -> tuple[User, str] | None:
    """(user, scope) of a live token: not revoked, not expired, its user still a member."""
    db = db_of(ws)
    row = db.one("SELECT t.id AS token_id, t.revoked_at, t.last_used_at, t.scope, t.expires_at, u.* "
                 "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?", (secret_hash(secret),))
    now = now_iso()
    if row is None or row["revoked_at"] or row["removed_at"] or (row["expires_at"] and row["expires_at"] <= now):
        return None
    if (row["last_used_at"] or "") < now[:16]:  # at most once a minute
        with db.transaction():
            db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, row["token_id"]))
    return user_of(row), str(row["scope"])


def token_user(ws: Workspace, secret: str) -> User | None:
    grant = token_grant(ws, secret)
    return grant[0] if grant else None
