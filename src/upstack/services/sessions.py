"""Signing in and out: passwords checked (through the throttle), browser sessions with an
absolute and an idle lifetime, and asking for the password again before a sensitive change."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from upstack.domain.text import clean_text
from upstack.errors import Forbidden, Unauthorized
from upstack.services import throttle
from upstack.services._account_rows import User, db_of, find_user_any, hasher, later, user_of
from upstack.services.passwords import check_password, verify_password
from upstack.store import audit as store_audit
from upstack.store import sessions as store_sessions
from upstack.store.accounts import user_row
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
        store_audit.record(db, "sign-in.failed", subject=login, address=address)
        raise Unauthorized("wrong user name or password")
    throttle.give_back(db, taken)
    argon = hasher()
    rehashed = argon.hash(password) if argon.check_needs_rehash(row["password_hash"]) else None
    return user_of(row), _new_session(ws, row["id"], login, address, password_hash=rehashed)


def confirm_password(ws: Workspace, user: User, password: str, *, address: str = "") -> None:
    """Forbidden unless ``password`` is the user's own (before a new password or a new token, so
    that a session left open, or a stolen cookie, is not enough). Throttled as sign-in is."""
    db = db_of(ws)
    taken = throttle.take_attempt(db, user.login, address)
    row = user_row(db, user_id=user.id)
    if row is None or not verify_password(row["password_hash"], password):
        store_audit.record(db, "password.confirm-failed", actor=user.id, subject=user.login, address=address)
        raise Forbidden("the current password is wrong")
    throttle.give_back(db, taken)


def change_password(ws: Workspace, user: User, current: str, new: str, *, keep_session: str = "",
                    end_tokens: bool = False, address: str = "") -> int:
    """Set a new password (the current one confirmed first). Every other session ends; with
    ``end_tokens``, the API tokens too. Returns how many sessions ended."""
    confirm_password(ws, user, current, address=address)
    check_password(new, user.login, user.name)
    return store_sessions.change_password(db_of(ws), user.id, user.login, hasher().hash(new), keep=keep_session,
                                          end_tokens=end_tokens, address=address)


def start_session(ws: Workspace, user: User, *, address: str = "") -> str:
    """A session for someone who just set their password from a link (no second check of the
    password, and no sign-in throttle: the link itself was the proof)."""
    return _new_session(ws, user.id, user.login, address)


def _new_session(ws: Workspace, user_id: str, login: str, address: str, *, password_hash: str | None = None) -> str:
    secret = secrets.token_urlsafe(32)
    store_sessions.start(db_of(ws), secret, user_id, login, expires_at=later(days=SESSION_DAYS), address=address,
                         password_hash=password_hash)
    return secret


def session_user(ws: Workspace, secret: str) -> User | None:
    """The user a session cookie belongs to, if the session is live: not ended, not past its
    30 days, and used within the idle timeout (each use moves that on)."""
    if not secret:
        return None
    db = db_of(ws)
    row = store_sessions.find(db, secret)
    now = datetime.now(UTC)
    if row is None or row["ended_at"] or row["removed_at"] or row["expires_at"] < to_iso(now):
        return None
    if row["seen_at"] < to_iso(now - timedelta(minutes=ws.settings.session_idle_minutes)):
        store_sessions.end(db, secret, to_iso(now))
        return None
    if row["seen_at"] < to_iso(now - timedelta(minutes=1)):  # a write at most once a minute
        store_sessions.touch(db, secret, to_iso(now))
    return user_of(row)


def end_session(ws: Workspace, secret: str) -> None:
    store_sessions.end(db_of(ws), secret, now_iso())


def end_all_sessions(ws: Workspace, user_id: str, *, tokens: bool = False, address: str = "") -> int:
    """Log out everywhere: every session of this user ends, and with ``tokens`` every API token."""
    login = find_user_any(ws, user_id).login
    return store_sessions.end_everywhere(db_of(ws), user_id, login, tokens=tokens, address=address)
