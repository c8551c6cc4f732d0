"""Signing in and out: passwords checked (through the throttle), browser sessions with an
absolute and an idle lifetime, and asking for the password again before a sensitive change."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from upstack.domain.text import clean_text
from upstack.errors import Forbidden, Unauthorized
from upstack.services import throttle
from upstack.services._account_rows import User, audit, db_of, find_user_any, hasher, later, user_of
from upstack.services.passwords import check_password, verify_password
from upstack.services.tokens import revoke_all_tokens
from upstack.store.accounts import secret_hash, user_row
from upstack.store.db import Database
from upstack.timeutil import now_iso, to_iso
from upstack.workspace import Workspace

__all__ = ["SESSION_DAYS", "sign_in", "start_session", "session_user", "end_session", "end_all_sessions",
           "confirm_password", "change_password"]

SESSION_DAYS = 30


def sign_in(ws: Workspace, login: str, password: str, *, address: str = "") -> tuple[User, str]:
    """(user, session secret) for the right password; throttled after repeated failures.

    Every wrong answer is the same, whether the login is unknown, removed, invited but not
    joined, or has another password: the message, the status, the throttle and the work.
    """
    db = db_of(ws)
    login = clean_text(login).strip().lower()  # what was typed may hold a NUL: never a user, never a 500
    taken = throttle.take_attempt(db, login, address)
    row = user_row(db, login=login)
    member = row is not None and not row["removed_at"]
    if row is None or not verify_password(row["password_hash"] if member else None, password):
        with db.transaction():
            audit(db, "sign-in.failed", subject=login, address=address)
        raise Unauthorized("wrong user name or password")
    throttle.give_back(db, taken)
    argon = hasher()
    with db.transaction():
        if argon.check_needs_rehash(row["password_hash"]):
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (argon.hash(password), row["id"]))
        secret = _new_session(db, row["id"], login, address)
    return user_of(row), secret


def confirm_password(ws: Workspace, user: User, password: str, *, address: str = "") -> None:
    """Forbidden unless ``password`` is the user's own (before a new password or a new token, so
    that a session left open, or a stolen cookie, is not enough). Throttled as sign-in is."""
    db = db_of(ws)
    taken = throttle.take_attempt(db, user.login, address)
    row = user_row(db, user_id=user.id)
    if row is None or not verify_password(row["password_hash"], password):
        with db.transaction():
            audit(db, "password.confirm-failed", actor=user.id, subject=user.login, address=address)
        raise Forbidden("the current password is wrong")
    throttle.give_back(db, taken)


def change_password(ws: Workspace, user: User, current: str, new: str, *, keep_session: str = "",
                    end_tokens: bool = False, address: str = "") -> int:
    """Set a new password (the current one confirmed first). Every other session ends; with
    ``end_tokens``, the API tokens too. Returns how many sessions ended."""
    confirm_password(ws, user, current, address=address)
    check_password(new, user.login, user.name)
    db = db_of(ws)
    now = now_iso()
    with db.transaction():
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hasher().hash(new), user.id))
        ended = db.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL AND id <> ?",
                           (now, user.id, secret_hash(keep_session) if keep_session else "")).rowcount
        tokens = revoke_all_tokens(db, user.id, now) if end_tokens else 0
        audit(db, "user.password-change", actor=user.id, subject=user.login, address=address,
              detail=f"{ended} other sessions ended" + (f", {tokens} API tokens revoked" if end_tokens else ""))
    return int(ended)


def start_session(ws: Workspace, user: User, *, address: str = "") -> str:
    """A session for someone who just set their password from a link (no second check of the
    password, and no sign-in throttle: the link itself was the proof)."""
    db = db_of(ws)
    with db.transaction():
        return _new_session(db, user.id, user.login, address)


def _new_session(db: Database, user_id: str, login: str, address: str) -> str:
    secret = secrets.token_urlsafe(32)
    now = now_iso()
    db.execute("INSERT INTO sessions (id, user_id, created_at, seen_at, expires_at, address) "
               "VALUES (?, ?, ?, ?, ?, ?)",
               (secret_hash(secret), user_id, now, now, later(days=SESSION_DAYS), address))
    audit(db, "sign-in", actor=user_id, subject=login, address=address)
    return secret


def session_user(ws: Workspace, secret: str) -> User | None:
    """The user a session cookie belongs to, if the session is live: not ended, not past its
    30 days, and used within the idle timeout (each use moves that on)."""
    if not secret:
        return None
    db = db_of(ws)
    key = secret_hash(secret)
    row = db.one("SELECT s.expires_at, s.ended_at, s.seen_at, u.* FROM sessions s JOIN users u "
                 "ON u.id = s.user_id WHERE s.id = ?", (key,))
    now = datetime.now(UTC)
    if row is None or row["ended_at"] or row["removed_at"] or row["expires_at"] < to_iso(now):
        return None
    if row["seen_at"] < to_iso(now - timedelta(minutes=ws.settings.session_idle_minutes)):
        with db.transaction():
            db.execute("UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (to_iso(now), key))
        return None
    if row["seen_at"] < to_iso(now - timedelta(minutes=1)):  # a write at most once a minute
        with db.transaction():
            db.execute("UPDATE sessions SET seen_at = ? WHERE id = ?", (to_iso(now), key))
    return user_of(row)


def end_session(ws: Workspace, secret: str) -> None:
    db = db_of(ws)
    with db.transaction():
        db.execute("UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                   (now_iso(), secret_hash(secret)))


def end_all_sessions(ws: Workspace, user_id: str, *, tokens: bool = False, address: str = "") -> int:
    """Log out everywhere: every session of this user ends, and with ``tokens`` every API token."""
    db = db_of(ws)
    now = now_iso()
    with db.transaction():
        ended = db.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                           (now, user_id)).rowcount
        revoked = revoke_all_tokens(db, user_id, now) if tokens else 0
        audit(db, "sign-out.everywhere", actor=user_id, subject=find_user_any(ws, user_id).login,
              detail=f"{ended} sessions" + (f", {revoked} API tokens" if tokens else ""), address=address)
    return int(ended)
