"""The team server's people: accounts, invitations, sharing, comments, notifications and the
audit log; signing in and sessions (services/sessions.py), API tokens (services/tokens.py),
the sign-in throttle (services/throttle.py) and the password policy (services/passwords.py)
are re-exported here, so callers use one module.

The first account made (`upstack user add`) is an admin and owns the log as it was:
everything written before there were accounts, or since from the server's own
command line, is theirs. Everyone else joins by an invitation link, and sees what
is shared with them (see domain/access.py for the rules).

Secrets (session cookies, invitation and reset links, API tokens) are random, shown
once, and stored only as SHA-256 hashes. Passwords are stored as argon2 hashes.
Answers about links and sign-in are the same whether a login exists or not.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from upstack.domain.access import Audience, check_role, node_roles, require
from upstack.domain.text import clean_text
from upstack.errors import BadInput, NotFound
from upstack.ids import new_id, short_id
from upstack.services._account_rows import User, audit, db_of, find_user_any, hasher, later, owner_id, user_of
from upstack.services.passwords import MIN_PASSWORD, check_password
from upstack.services.sessions import (
    SESSION_DAYS,
    change_password,
    confirm_password,
    end_all_sessions,
    end_session,
    session_user,
    sign_in,
    start_session,
)
from upstack.services.tokens import (
    SCOPES,
    TOKEN_PREFIX,
    create_token,
    list_tokens,
    revoke_all_tokens,
    revoke_token,
    token_grant,
    token_user,
)
from upstack.store.accounts import OWNER_KEY, secret_hash, user_row
from upstack.store.db import Database
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = [
    "User", "has_accounts", "add_user", "list_users", "remove_user", "reset_link", "link_info",
    "accept_link", "sign_in", "start_session", "session_user", "end_session", "end_all_sessions", "create_token",
    "list_tokens", "revoke_token", "token_user", "token_grant", "audience_for", "share", "unshare", "shares_of",
    "add_comment", "comments_for", "notifications", "mark_read", "unread_count", "audit", "audit_log", "audit_export",
    "MIN_PASSWORD", "SESSION_DAYS", "SCOPES", "TOKEN_PREFIX", "check_password", "confirm_password", "change_password",
    "find_user", "find_user_any", "owner_id",
]

INVITE_DAYS = 7
RESET_HOURS = 24
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
# One answer for every link that does not work, whatever the reason (used, expired, replaced,
# made up, or its account removed): the answer tells nothing about the account.
_DEAD_LINK = "this link is not valid any more: it was used, replaced or has expired; ask an admin for a new one"


def has_accounts(ws: Workspace) -> bool:
    return bool(db_of(ws).scalar("SELECT count(*) FROM users"))


def find_user(ws: Workspace, login: str) -> User:
    row = user_row(db_of(ws), login=login)
    if row is None or row["removed_at"]:
        raise NotFound(f"no user {login!r}; `upstack user list` shows who has an account")
    return user_of(row)


# -- the audit log ----------------------------------------------------------------------

def audit_export(ws: Workspace, fmt: str, destination: str) -> None:
    """On a team server, an export (everyone's entries, from the server's command line) is audited.

    Not a read-only copy of one (a mounted backup, a snapshot): nothing can be written there, and
    whoever can read its files can read them without upstack.
    """
    db = db_of(ws)
    if has_accounts(ws) and not db.read_only:
        with db.transaction():
            audit(db, "export", subject=fmt, detail=destination)


def audit_log(ws: Workspace, limit: int = 200) -> list[dict[str, Any]]:
    return db_of(ws).query(
        "SELECT a.at, a.action, a.subject, a.detail, a.address, u.login AS actor FROM audit_log a "
        "LEFT JOIN users u ON u.id = a.actor_id ORDER BY a.at DESC, a.id DESC LIMIT ?", (limit,))


# -- accounts and links ---------------------------------------------------------------------

def add_user(ws: Workspace, login: str, *, name: str | None = None, admin: bool = False,
             by: str | None = None) -> tuple[User, str]:
    """A new account and its invitation link's secret (shown once; valid for a week)."""
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise BadInput(f"user name {login!r} is not allowed: use 1-32 lowercase letters, digits, '.', '_' "
                       "or '-', starting with a letter or digit")
    db = db_of(ws)
    if user_row(db, login=login) is not None:  # the same words for a member and a removed account
        raise BadInput(f"user name {login!r} is taken; pick another")
    user_id = new_id()
    with db.transaction():
        first = owner_id(db) is None
        db.execute("INSERT INTO users (id, login, name, password_hash, is_admin, created_at) "
                   "VALUES (?, ?, ?, NULL, ?, ?)",
                   (user_id, login, clean_text(name or login).strip() or login, int(admin or first), now_iso()))
        if first:  # the log so far is theirs
            db.execute("INSERT INTO workspace_info (key, value) VALUES (?, ?)", (OWNER_KEY, user_id))
        secret = _new_link(db, user_id, "invite", by, later(days=INVITE_DAYS))
        audit(db, "user.invite", actor=by, subject=login, detail="admin" if admin or first else "")
    return user_of(user_row(db, user_id=user_id) or {}), secret


def _new_link(db: Database, user_id: str, purpose: str, by: str | None, expires_at: str) -> str:
    secret = secrets.token_urlsafe(32)
    # A new link replaces any the person still had for the same purpose.
    db.execute("UPDATE account_links SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
               (now_iso(), user_id, purpose))
    db.execute("INSERT INTO account_links (id, user_id, purpose, created_by, created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", (secret_hash(secret), user_id, purpose, by, now_iso(), expires_at))
    return secret


def list_users(ws: Workspace, *, include_removed: bool = False) -> list[User]:
    where = "" if include_removed else " WHERE removed_at IS NULL"
    return [user_of(r) for r in db_of(ws).query(f"SELECT * FROM users{where} ORDER BY created_at, login")]


def remove_user(ws: Workspace, login: str, *, by: str | None = None, address: str = "") -> User:
    """Take someone off the server: their sessions end, their tokens and shares go.

    What they wrote stays, with its sharing; the workspace owner cannot be removed.
    """
    user = find_user(ws, login)
    db = db_of(ws)
    if user.id == owner_id(db):
        raise BadInput(f"{login} owns this workspace and cannot be removed")
    now = now_iso()
    with db.transaction():
        db.execute("UPDATE users SET removed_at = ? WHERE id = ?", (now, user.id))
        db.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", (now, user.id))
        revoke_all_tokens(db, user.id, now)
        db.execute("UPDATE account_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL", (now, user.id))
        db.execute("DELETE FROM shares WHERE user_id = ?", (user.id,))
        audit(db, "user.remove", actor=by, subject=login, address=address)
    return find_user_any(ws, user.id)


def reset_link(ws: Workspace, login: str, *, by: str | None = None, address: str = "") -> str:
    """A single-use link (valid a day) with which the user sets a new password."""
    user = find_user(ws, login)
    db = db_of(ws)
    with db.transaction():
        secret = _new_link(db, user.id, "reset", by, later(hours=RESET_HOURS))
        audit(db, "user.reset-link", actor=by, subject=login, address=address)
    return secret


def link_info(ws: Workspace, secret: str) -> tuple[User, str]:
    """(user, purpose) of a live invitation or reset link."""
    db = db_of(ws)
    row = db.one("SELECT * FROM account_links WHERE id = ?", (secret_hash(secret),))
    if row is None or row["used_at"] or row["expires_at"] < now_iso():
        raise NotFound(_DEAD_LINK)
    user = find_user_any(ws, row["user_id"])
    if user.removed_at:
        raise NotFound(_DEAD_LINK)
    return user, str(row["purpose"])


def accept_link(ws: Workspace, secret: str, password: str, *, address: str = "") -> User:
    """Set the password from an invitation or reset link (which is then used up).

    A new password ends every session made with the old one; a reset ends the API tokens
    too, as removing the account does: whoever made them may be who the reset shuts out.
    """
    user, purpose = link_info(ws, secret)
    check_password(password, user.login, user.name)
    db = db_of(ws)
    now = now_iso()
    with db.transaction():
        # Single use even when two requests carry the link at once: only one of them marks it used.
        if not db.execute("UPDATE account_links SET used_at = ? WHERE id = ? AND used_at IS NULL",
                          (now, secret_hash(secret))).rowcount:
            raise NotFound(_DEAD_LINK)
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hasher().hash(password), user.id))
        db.execute("UPDATE sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL", (now, user.id))
        revoked = revoke_all_tokens(db, user.id, now) if purpose == "reset" else 0
        audit(db, "user.joined" if purpose == "invite" else "user.password-reset", actor=user.id,
              subject=user.login, address=address, detail=f"{revoked} API tokens revoked" if revoked else "")
    return find_user_any(ws, user.id)


# -- who sees what --------------------------------------------------------------------------

def audience_for(ws: Workspace, user: User) -> Audience:
    """The user's roles on every node (see domain/access.py), read fresh for each request."""
    db = db_of(ws)
    shares = {r["node_id"]: r["role"] for r in db.query("SELECT node_id, role FROM shares WHERE user_id = ?",
                                                         (user.id,))}
    owns = owner_id(db) == user.id
    nodes = [(r["id"], r["parent_id"], r["owner_id"]) for r in db.query("SELECT id, parent_id, owner_id FROM nodes")]
    return Audience(user_id=user.id, login=user.login, owns_unattributed=owns, is_admin=user.is_admin,
                    roles=node_roles(nodes, shares, user_id=user.id, owns_unattributed=owns))


def _node_id(ws: Workspace, ref: str) -> str:
    from upstack.services.tree import resolve_node

    return resolve_node(db_of(ws), ref)


def _sharing(ws: Workspace, node_ref: str, login: str, by: Audience | None) -> tuple[str, User]:
    """The node and the user a change of sharing is about, once ``by`` may make it."""
    node_id = _node_id(ws, node_ref)
    if by is not None:
        require(by.has(node_id, "owner"), "only an owner of this node may change who it is shared with")
    return node_id, find_user(ws, login)


def share(ws: Workspace, node_ref: str, login: str, role: str, *, by: Audience | None,
          address: str = "") -> dict[str, Any]:
    """Give someone a role on a node and everything below it (``by`` must own the node;
    None: the server's own command line, acting as the workspace owner)."""
    check_role(role)
    node_id, user = _sharing(ws, node_ref, login, by)
    db = db_of(ws)
    with db.transaction():
        db.execute("DELETE FROM shares WHERE node_id = ? AND user_id = ?", (node_id, user.id))
        db.execute("INSERT INTO shares (node_id, user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?, ?)",
                   (node_id, user.id, role, by.user_id if by else None, now_iso()))
        audit(db, "share", actor=by.user_id if by else None, subject=f"{short_id(node_id)} {user.login}",
              detail=role, address=address)
    return {"node_id": node_id, "login": user.login, "role": role}


def unshare(ws: Workspace, node_ref: str, login: str, *, by: Audience | None, address: str = "") -> None:
    node_id, user = _sharing(ws, node_ref, login, by)
    db = db_of(ws)
    with db.transaction():
        gone = db.execute("DELETE FROM shares WHERE node_id = ? AND user_id = ?", (node_id, user.id)).rowcount
        if not gone:
            raise NotFound(f"{login} has no share on that node (a role held above it is changed there)")
        audit(db, "unshare", actor=by.user_id if by else None, subject=f"{short_id(node_id)} {user.login}",
              address=address)


def shares_of(ws: Workspace, node_ref: str) -> list[dict[str, Any]]:
    """Who holds a role on the node: shared here, or on a node above it (``on``)."""
    from upstack.store.tree import ancestors

    node_id = _node_id(ws, node_ref)
    db = db_of(ws)
    chain = ancestors(db, node_id)
    found = []
    for depth, node in enumerate(chain):
        for row in db.query("SELECT s.role, s.granted_at, u.login, u.name FROM shares s JOIN users u "
                            "ON u.id = s.user_id WHERE s.node_id = ? AND u.removed_at IS NULL ORDER BY u.login",
                            (node.id,)):
            found.append({**row, "on": node.title, "on_id": node.id, "inherited": depth > 0})
    return found


# -- comments and notifications ------------------------------------------------------------------

def add_comment(ws: Workspace, entry_ref: str, body: str, *, by: Audience) -> dict[str, Any]:
    """A comment on an entry; its author (and earlier commenters) are notified in the app."""
    from upstack.store.queries import get_entry

    text = clean_text(body).strip()  # text as upstack keeps it: a comment is written to no journal
    if not text:
        raise BadInput("the comment is empty")
    if len(text) > 20_000:
        raise BadInput("the comment is longer than 20,000 characters; attach a file instead")
    db = db_of(ws)
    entry = get_entry(db, entry_ref)  # NotFound unless they may see it
    require(by.may_comment(author_id=entry.author_id, private=entry.private, node_id=entry.node_id),
            "you may read this entry but not comment on it (ask its owner for the commenter role)")
    comment_id = new_id()
    now = now_iso()
    author = entry.author_id or owner_id(db)
    with db.transaction():
        db.execute("INSERT INTO comments (id, entry_id, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
                   (comment_id, entry.id, by.user_id, text, now))
        others = {r["author_id"] for r in db.query("SELECT DISTINCT author_id FROM comments WHERE entry_id = ?",
                                                   (entry.id,))}
        for user_id in sorted(str(u) for u in ({author} | others) - {by.user_id, None}):
            db.execute("INSERT INTO notifications (id, user_id, kind, actor_id, entry_id, comment_id, created_at) "
                       "VALUES (?, ?, 'comment', ?, ?, ?, ?)", (new_id(), user_id, by.user_id, entry.id,
                                                                comment_id, now))
    return {"id": comment_id, "entry_id": entry.id, "body": text, "created_at": now, "login": by.login}


def comments_for(ws: Workspace, entry_id: str) -> list[dict[str, Any]]:
    """An entry's comments, oldest first (the caller has already checked the entry is visible)."""
    return db_of(ws).query(
        "SELECT c.id, c.body, c.created_at, u.login, u.name FROM comments c LEFT JOIN users u "
        "ON u.id = c.author_id WHERE c.entry_id = ? AND c.deleted_at IS NULL ORDER BY c.created_at, c.id",
        (entry_id,))


def notifications(ws: Workspace, user_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; entries the user can no longer see are left out."""
    from upstack.store.queries import load_entries

    db = db_of(ws)
    rows = db.query(
        "SELECT n.id, n.kind, n.entry_id, n.created_at, n.read_at, u.login AS actor, c.body AS comment "
        "FROM notifications n LEFT JOIN users u ON u.id = n.actor_id "
        "LEFT JOIN comments c ON c.id = n.comment_id AND c.deleted_at IS NULL "
        "WHERE n.user_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?", (user_id, limit))
    titles = {e.id: e for e in load_entries(db, sorted({r["entry_id"] for r in rows if r["entry_id"]}))}
    return [{**r, "entry_title": titles[r["entry_id"]].title, "entry_short": titles[r["entry_id"]].short}
            for r in rows if r["entry_id"] in titles]


def unread_count(ws: Workspace, user_id: str) -> int:
    """Unread notifications on entries the user can still see (as `notifications` lists them):
    after an unshare, the badge tells nothing of what is said where they cannot look."""
    from upstack.store.queries import load_entries

    db = db_of(ws)
    counts = {r["entry_id"]: int(r["n"]) for r in db.query(
        "SELECT entry_id, count(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL "
        "AND entry_id IS NOT NULL GROUP BY entry_id", (user_id,))}
    if not counts:
        return 0
    return sum(counts[e.id] for e in load_entries(db, sorted(counts)))


def mark_read(ws: Workspace, user_id: str) -> int:
    db = db_of(ws)
    with db.transaction():
        return int(db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL",
                              (now_iso(), user_id)).rowcount)
