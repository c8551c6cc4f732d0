"""What every part of the team server's accounts shares: the user as callers see it, the
database, the audit log, and expiry times."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from upstack.errors import NotFound
from upstack.ids import new_id
from upstack.store.accounts import OWNER_KEY, user_row
from upstack.store.db import Database
from upstack.timeutil import now_iso, to_iso
from upstack.workspace import Workspace

__all__ = ["User", "user_of", "db_of", "audit", "find_user_any", "owner_id", "later", "hasher"]


@dataclass(frozen=True)
class User:
    id: str
    login: str
    name: str
    is_admin: bool
    created_at: str
    removed_at: str | None
    joined: bool  # has set a password (accepted the invitation)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def user_of(row: dict[str, Any]) -> User:
    return User(id=row["id"], login=row["login"], name=row["name"], is_admin=bool(row["is_admin"]),
                created_at=row["created_at"], removed_at=row["removed_at"], joined=bool(row["password_hash"]))


def db_of(ws: Workspace) -> Database:
    return ws.store().db


def hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def later(**delta: float) -> str:
    return to_iso(datetime.now(UTC) + timedelta(**delta))


def owner_id(db: Database) -> str | None:
    value = db.scalar("SELECT value FROM workspace_info WHERE key = ?", (OWNER_KEY,))
    return str(value) if value else None


def find_user_any(ws: Workspace, user_id: str) -> User:
    row = user_row(db_of(ws), user_id=user_id)
    if row is None:
        raise NotFound(f"no user with id {user_id!r}")
    return user_of(row)


def audit(db: Database, action: str, *, actor: str | None = None, subject: str = "", detail: str = "",
          address: str = "") -> None:
    db.execute("INSERT INTO audit_log (id, at, actor_id, action, subject, detail, address) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (new_id(), now_iso(), actor, action, subject, detail, address))
