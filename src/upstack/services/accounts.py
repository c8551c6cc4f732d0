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
from upstack.domain.permissions import WELLBEING_OPS
from upstack.domain.text import clean_text
from upstack.errors import BadInput, NotFound
from upstack.ids import new_id, short_id
from upstack.services import comments as comment_service
from upstack.services._account_rows import User, db_of, find_user_any, hasher, later, user_of
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
    revoke_token,
    token_grant,
    token_user,
)
from upstack.store import accounts as store_accounts
from upstack.store import audit as store_audit
from upstack.store import comments as store_comments
from upstack.store import path as store_path
from upstack.store import sharing as store_sharing
from upstack.store.accounts import owner_id, user_row
from upstack.store.queries import get_entry
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = [
    "User", "has_accounts", "first_to_join", "add_user", "list_users", "remove_user", "reset_link", "link_info",
    "accept_link", "sign_in", "start_session", "session_user", "end_session", "end_all_sessions", "create_token",
    "list_tokens", "revoke_token", "token_user", "token_grant", "audience_for", "share", "unshare", "shares_of",
    "add_comment", "comments_for", "notifications", "mark_read", "unread_count", "audit_log", "audit_export",
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
    return store_accounts.has_users(db_of(ws))


def first_to_join(ws: Workspace) -> User | None:
    """While accounts exist but nobody has joined (set a password), the one who can let everyone
    else in: the workspace's owner (the first account), else the first admin. None otherwise:
    someone can sign in already, or there are no accounts."""
    people = list_users(ws)
    if not people or any(u.joined for u in people):
        return None
    owner = owner_id(db_of(ws))
    return next((u for u in people if u.id == owner), None) or next((u for u in people if u.is_admin), people[0])


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
        store_audit.record(db, "export", subject=fmt, detail=destination)


def audit_log(ws: Workspace, limit: int = 200) -> list[dict[str, Any]]:
    return store_audit.recent(db_of(ws), limit)


# -- accounts and links ---------------------------------------------------------------------

def add_user(ws: Workspace, login: str, *, name: str | None = None, admin: bool = False,
             by: str | None = None) -> tuple[User, str]:
    """A new account and its invitation link's secret (shown once; valid for a week)."""
    login = login.strip().lower()
    if not _LOGIN.match(login):
        raise BadInput(f"user name {login!r} is not allowed: use 1-32 lowercase letters, digits, '.', '_' "
                       "or '-', starting with a letter or digit")
    db = db_of(ws)
    if not has_accounts(ws) and store_path.latest_at(db, WELLBEING_OPS) is not None:
        raise BadInput("this workspace keeps check-ins, and the first account makes it a team server, which keeps "
                       "none: start the team server in a new workspace (UPSTACK_HOME), or `upstack checkin export` "
                       "and `upstack checkin forget --yes` first")
    if user_row(db, login=login) is not None:  # the same words for a member and a removed account
        raise BadInput(f"user name {login!r} is taken; pick another")
    user_id = new_id()
    secret = secrets.token_urlsafe(32)
    store_accounts.add_user(db, user_id, login, clean_text(name or login).strip() or login, admin=admin, by=by,
                            invite_secret=secret, invite_expires_at=later(days=INVITE_DAYS))
    return user_of(user_row(db, user_id=user_id) or {}), secret


def list_users(ws: Workspace, *, include_removed: bool = False) -> list[User]:
    return [user_of(r) for r in store_accounts.users(db_of(ws), include_removed=include_removed)]


def remove_user(ws: Workspace, login: str, *, by: str | None = None, address: str = "") -> User:
    """Take someone off the server: their sessions end, their tokens and shares go.

    What they wrote stays, with its sharing; the workspace owner cannot be removed.
    """
    user = find_user(ws, login)
    db = db_of(ws)
    if user.id == owner_id(db):
        raise BadInput(f"{login} owns this workspace and cannot be removed")
    store_accounts.remove_user(db, user.id, login, by=by, address=address)
    return find_user_any(ws, user.id)


def reset_link(ws: Workspace, login: str, *, by: str | None = None, address: str = "") -> str:
    """A single-use link (valid a day) with which the user sets a new password."""
    user = find_user(ws, login)
    secret = secrets.token_urlsafe(32)
    store_accounts.add_reset_link(db_of(ws), user.id, login, secret, by=by, expires_at=later(hours=RESET_HOURS),
                                  address=address)
    return secret


def link_info(ws: Workspace, secret: str) -> tuple[User, str]:
    """(user, purpose) of a live invitation or reset link."""
    db = db_of(ws)
    row = store_accounts.link_row(db, secret)
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
    if not store_accounts.use_link(db_of(ws), secret, user.id, user.login, purpose, hasher().hash(password),
                                   address=address):
        raise NotFound(_DEAD_LINK)  # another request carrying the link used it first
    return find_user_any(ws, user.id)


# -- who sees what --------------------------------------------------------------------------

def audience_for(ws: Workspace, user: User) -> Audience:
    """The user's roles on every node (see domain/access.py), read fresh for each request."""
    db = db_of(ws)
    shares = store_sharing.roles_of(db, user.id)
    owns = owner_id(db) == user.id
    nodes = store_sharing.node_owners(db)
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
    store_sharing.share(db_of(ws), node_id, user.id, role, by=by.user_id if by else None,
                        subject=f"{short_id(node_id)} {user.login}", address=address)
    return {"node_id": node_id, "login": user.login, "role": role}


def unshare(ws: Workspace, node_ref: str, login: str, *, by: Audience | None, address: str = "") -> None:
    node_id, user = _sharing(ws, node_ref, login, by)
    if not store_sharing.unshare(db_of(ws), node_id, user.id, by=by.user_id if by else None,
                                 subject=f"{short_id(node_id)} {user.login}", address=address):
        raise NotFound(f"{login} has no share on that node (a role held above it is changed there)")


def shares_of(ws: Workspace, node_ref: str) -> list[dict[str, Any]]:
    """Who holds a role on the node: shared here, or on a node above it (``on``)."""
    from upstack.store.tree import ancestors

    node_id = _node_id(ws, node_ref)
    db = db_of(ws)
    chain = ancestors(db, node_id)
    found = []
    for depth, node in enumerate(chain):
        for row in store_sharing.holders(db, node.id):
            found.append({**row, "on": node.title, "on_id": node.id, "inherited": depth > 0})
    return found


# -- comments and notifications ------------------------------------------------------------------

def add_comment(ws: Workspace, entry_ref: str, body: str, *, by: Audience) -> dict[str, Any]:
    """A comment on an entry; its author (and earlier commenters) are notified in the app."""
    return comment_service.add(ws, entry_ref, body, by=by)


def comments_for(ws: Workspace, entry_id: str) -> list[dict[str, Any]]:
    """An entry's comments, oldest first (none unless the reader may see the entry)."""
    return comment_service.for_entry(ws, get_entry(db_of(ws), entry_id))


def notifications(ws: Workspace, user_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; entries the user can no longer see are left out."""
    from upstack.store.queries import load_entries

    db = db_of(ws)
    rows = store_comments.notifications(db, user_id, limit)
    titles = {e.id: e for e in load_entries(db, sorted({r["entry_id"] for r in rows if r["entry_id"]}))}
    return [{**r, "entry_title": titles[r["entry_id"]].title, "entry_short": titles[r["entry_id"]].short}
            for r in rows if r["entry_id"] in titles]


def unread_count(ws: Workspace, user_id: str) -> int:
    """Unread notifications on entries the user can still see (as `notifications` lists them):
    after an unshare, the badge tells nothing of what is said where they cannot look."""
    from upstack.store.queries import load_entries

    db = db_of(ws)
    counts = store_comments.unread_by_entry(db, user_id)
    if not counts:
        return 0
    return sum(counts[e.id] for e in load_entries(db, sorted(counts)))


def mark_read(ws: Workspace, user_id: str) -> int:
    return store_comments.mark_read(db_of(ws), user_id)
