"""The team server's accounts: users, the workspace's owner, invitation and reset links. The
server's other tables have a module each: store/sessions.py, store/tokens.py, store/sharing.py,
store/comments.py, store/audit.py and store/throttle.py.

These are written straight to SQL (no journal): they are the server's own state,
not records a laptop captures offline. Secrets (session cookies, invitation and
reset links, API tokens) are stored only as SHA-256 hashes, so a copy of the
database opens no one's account.
"""

from __future__ import annotations

from typing import Any

from upstack.store import audit, sessions, tokens
from upstack.store.db import Database
from upstack.store.hashing import secret_hash
from upstack.timeutil import now_iso

__all__ = ["secret_hash", "attributed", "user_row", "OWNER_KEY", "owner_id", "has_users", "users", "user_ids",
           "add_user", "remove_user", "add_reset_link", "link_row", "use_link"]

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


def user_row(db: Database, *, user_id: str | None = None, login: str | None = None) -> dict[str, Any] | None:
    if user_id is not None:
        return db.one("SELECT * FROM users WHERE id = ?", (user_id,))
    return db.one("SELECT * FROM users WHERE login = ?", ((login or "").lower(),))


def owner_id(db: Database) -> str | None:
    """The user who owns what was written with nobody signed in (the first account made)."""
    value = db.scalar("SELECT value FROM workspace_info WHERE key = ?", (OWNER_KEY,))
    return str(value) if value else None


LINKED_KEY = "linked_user_id"  # a laptop's: who its person is on the team server it syncs with


def linked_id(db: Database) -> str | None:
    """Who this workspace's person is on the team server it syncs with (what they wrote there, pulled
    back here, is theirs), or None."""
    value = db.scalar("SELECT value FROM workspace_info WHERE key = ?", (LINKED_KEY,))
    return str(value) if value else None


def set_linked_id(db: Database, user_id: str | None) -> None:
    """Kept at each sync from the server's "who am I" (services/linked.save_roles): a fact the server
    states again each time, so it is kept as the server says it, outside the journal."""
    if linked_id(db) == user_id:
        return
    with db.transaction():
        db.execute("DELETE FROM workspace_info WHERE key = ?", (LINKED_KEY,))
        if user_id:
            db.execute("INSERT INTO workspace_info (key, value) VALUES (?, ?)", (LINKED_KEY, user_id))


def has_users(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM users"))


def users(db: Database, *, include_removed: bool = False) -> list[dict[str, Any]]:
    where = "" if include_removed else " WHERE removed_at IS NULL"
    return db.query(f"SELECT * FROM users{where} ORDER BY created_at, login")


def user_ids(db: Database) -> set[str]:
    """Everyone who has, or had, an account here."""
    return {str(r["id"]) for r in db.query("SELECT id FROM users")}


def add_user(db: Database, user_id: str, login: str, name: str, *, admin: bool, by: str | None,
             invite_secret: str, invite_expires_at: str) -> None:
    """A new account with its invitation link, audited. The first account is an admin and owns
    the log as it was."""
    with db.transaction():
        first = owner_id(db) is None
        db.execute("INSERT INTO users (id, login, name, password_hash, is_admin, created_at) "
                   "VALUES (?, ?, ?, NULL, ?, ?)", (user_id, login, name, int(admin or first), now_iso()))
        if first:  # the log so far is theirs
            db.execute("INSERT INTO workspace_info (key, value) VALUES (?, ?)", (OWNER_KEY, user_id))
        _new_link(db, user_id, "invite", invite_secret, by, invite_expires_at)
        audit.add(db, "user.invite", actor=by, subject=login, detail="admin" if admin or first else "")


def _new_link(db: Database, user_id: str, purpose: str, secret: str, by: str | None, expires_at: str) -> None:
    # A new link replaces any the person still had for the same purpose.
    db.execute("UPDATE account_links SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
               (now_iso(), user_id, purpose))
    db.execute("INSERT INTO account_links (id, user_id, purpose, created_by, created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", (secret_hash(secret), user_id, purpose, by, now_iso(), expires_at))


def add_reset_link(db: Database, user_id: str, login: str, secret: str, *, by: str | None, expires_at: str,
                   address: str) -> None:
    with db.transaction():
        _new_link(db, user_id, "reset", secret, by, expires_at)
        audit.add(db, "user.reset-link", actor=by, subject=login, address=address)


def link_row(db: Database, secret: str) -> dict[str, Any] | None:
    return db.one("SELECT * FROM account_links WHERE id = ?", (secret_hash(secret),))


def use_link(db: Database, secret: str, user_id: str, login: str, purpose: str, password_hash: str, *,
             address: str) -> bool:
    """Set the password from a link and use the link up; False (nothing changed) if another request
    used it first. Every session made with the old password ends; a reset revokes the API tokens too."""
    now = now_iso()
    with db.transaction():
        # Single use even when two requests carry the link at once: only one of them marks it used.
        if not db.execute("UPDATE account_links SET used_at = ? WHERE id = ? AND used_at IS NULL",
                          (now, secret_hash(secret))).rowcount:
            return False
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))
        sessions.end_all(db, user_id, now)
        revoked = tokens.revoke_all(db, user_id, now) if purpose == "reset" else 0
        audit.add(db, "user.joined" if purpose == "invite" else "user.password-reset", actor=user_id,
                  subject=login, address=address, detail=f"{revoked} API tokens revoked" if revoked else "")
    return True


def remove_user(db: Database, user_id: str, login: str, *, by: str | None, address: str) -> None:
    """Take someone off the server: their sessions end, their tokens, links and shares go; audited."""
    now = now_iso()
    with db.transaction():
        db.execute("UPDATE users SET removed_at = ? WHERE id = ?", (now, user_id))
        sessions.end_all(db, user_id, now)
        tokens.revoke_all(db, user_id, now)
        db.execute("UPDATE account_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL", (now, user_id))
        db.execute("DELETE FROM shares WHERE user_id = ?", (user_id,))
        audit.add(db, "user.remove", actor=by, subject=login, address=address)
