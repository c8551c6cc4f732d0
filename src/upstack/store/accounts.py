"""The team server's tables: accounts, sessions, links, API tokens, shares, comments,
notifications and the audit log.

These are written straight to SQL (no journal): they are the server's own state,
not records a laptop captures offline. Secrets (session cookies, invitation and
reset links, API tokens) are stored only as SHA-256 hashes, so a copy of the
database opens no one's account.
"""

from __future__ import annotations

import hashlib
from typing import Any

from upstack.store.db import Database

__all__ = ["secret_hash", "attributed", "user_row", "OWNER_KEY"]

# workspace_info key: the user who owns what was written with nobody signed in.
OWNER_KEY = "owner_user_id"


def attributed(columns: list[str], values: list[Any], column: str,
               data: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """An INSERT's columns and values, plus who made it (``by``) when the record says so.

    Records without it (nobody signs in on a laptop) then fit every schema since the
    first, as the older workspaces a migration starts from do.
    """
    if data.get("by"):
        return [*columns, column], [*values, data["by"]]
    return columns, values


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def user_row(db: Database, *, user_id: str | None = None, login: str | None = None) -> dict[str, Any] | None:
    if user_id is not None:
        return db.one("SELECT * FROM users WHERE id = ?", (user_id,))
    return db.one("SELECT * FROM users WHERE login = ?", ((login or "").lower(),))
