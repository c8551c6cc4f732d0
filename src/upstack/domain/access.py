"""Who may see and change what on a team server: roles on nodes, authors, private entries.

Every read answers for someone, said out loud with ``acting_as``: a signed-in
user's ``Audience`` on a team server (set for each request by the sign-in
middleware), ``NOBODY`` for a visitor, or ``OWNER``, the workspace owner's full
view, which the command line, local mode and ingest set for themselves. The
store's read paths (``filter_sql``, ``load_entries``, ``node_rows``, ``load_run``)
consult ``current()`` and leave out what that reader may not see, so a page cannot
show what its query never returned; services call the ``may_*`` checks before they
write.

It fails closed: on a team server's workspace (``team=True``), code that reads
without anyone having said who is asking (a thread started outside a request, a
route the sign-in middleware does not cover) gets ``NoAudience``, never the full
view. A laptop's library use (``upstack.note`` from a script) has one user and
keeps the owner's view when nothing is said.

The rules:

- A node is shared with a user in a role: viewer < commenter < editor < owner.
  A role on a node holds for everything below it. The person who made a node
  owns it; nodes made before there were accounts belong to the workspace owner.
- An entry is always visible to its author. Anybody else sees it only when it is
  not private, not deleted, and filed under a node they hold a role on. So an
  entry under no shared node is its author's alone, and a private entry stays its
  author's whatever the project's sharing.
- A run is seen as its result entry is (a running run, which has none yet, as
  if it were public): deleting the result, or making it private, withdraws it.
- Commenting needs commenter, editing another's entry needs editor, sharing a
  node needs owner. Admins manage accounts; being an admin shows no one's entries.
  What a push to a team server may do is one table: domain/permissions.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

from upstack.domain.entry import Entry
from upstack.errors import Forbidden

__all__ = ["ROLES", "Audience", "OWNER", "NOBODY", "NoAudience", "node_roles", "current", "acting_as",
           "check_role", "require", "require_edit", "require_file_under"]

ROLES = ("viewer", "commenter", "editor", "owner")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def check_role(role: str) -> str:
    from upstack.errors import BadInput

    if role not in _RANK:
        raise BadInput(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    return role


@dataclass(frozen=True)
class Audience:
    """One signed-in user, as the rules see them."""

    user_id: str
    login: str = ""
    # The workspace owner: what was written with nobody signed in (the command line on the
    # server, or the log from before accounts) is theirs.
    owns_unattributed: bool = False
    roles: Mapping[str, str] = field(default_factory=dict)  # node id -> role, every node they can see
    is_admin: bool = False

    def is_author(self, author_id: str | None) -> bool:
        return author_id == self.user_id or (author_id is None and self.owns_unattributed)

    def role(self, node_id: str | None) -> str | None:
        return self.roles.get(node_id) if node_id else None

    def has(self, node_id: str | None, role: str) -> bool:
        held = self.role(node_id)
        return held is not None and _RANK[held] >= _RANK[role]

    def sees_node(self, node_id: str | None) -> bool:
        return node_id is not None and node_id in self.roles

    def sees_entry(self, *, author_id: str | None, private: bool, node_id: str | None,
                   deleted: bool = False) -> bool:
        if self.is_author(author_id):
            return True
        return not private and not deleted and self.sees_node(node_id)

    def may_edit_entry(self, *, author_id: str | None, private: bool, node_id: str | None) -> bool:
        return self.is_author(author_id) or (not private and self.has(node_id, "editor"))

    def may_comment(self, *, author_id: str | None, private: bool, node_id: str | None) -> bool:
        return self.is_author(author_id) or (not private and self.has(node_id, "commenter"))

    def may_file_under(self, node_id: str | None) -> bool:
        """Writing a new entry (or node) there: anyone may keep unfiled notes of their own."""
        return node_id is None or self.has(node_id, "editor")

    def sees_run(self, *, author_id: str | None, node_id: str | None, result_private: bool = False,
                 result_deleted: bool = False) -> bool:
        """A run is seen as its result entry is (a running run has none yet: as if public)."""
        return self.sees_entry(author_id=author_id, private=result_private, node_id=node_id,
                               deleted=result_deleted)


def node_roles(nodes: Iterable[tuple[str, str | None, str | None]], shares: Mapping[str, str], *,
               user_id: str, owns_unattributed: bool) -> dict[str, str]:
    """Each node's role for a user, from (id, parent id, owner id) rows and their shares.

    A node's role is the highest of: what is held on its parent, what it is shared
    with them as, and owner if they made it.
    """
    parents: dict[str, str | None] = {}
    owners: dict[str, str | None] = {}
    for node_id, parent_id, owner_id in nodes:
        parents[node_id] = parent_id
        owners[node_id] = owner_id
    roles: dict[str, str] = {}

    def resolve(node_id: str, seen: frozenset[str] = frozenset()) -> str | None:
        if node_id in roles:
            return roles[node_id]
        best: str | None = None
        owner = owners.get(node_id)
        if owner == user_id or (owner is None and owns_unattributed):
            best = "owner"
        candidates = [shares.get(node_id)]
        parent = parents.get(node_id)
        if parent is not None and parent in parents and parent not in seen:
            candidates.append(resolve(parent, seen | {node_id}))
        for role in candidates:
            if role is not None and (best is None or _RANK[role] > _RANK[best]):
                best = role
        if best is not None:
            roles[node_id] = best
        return best

    for node_id in parents:
        resolve(node_id)
    return roles


class OwnerView:
    """The workspace owner's full view: everything, private and deleted included."""

    def __repr__(self) -> str:
        return "OWNER"


OWNER = OwnerView()
# A visitor who is not signed in (the sign-in page, an invitation link): sees nothing.
NOBODY = Audience(user_id="", login="")


class NoAudience(RuntimeError):
    """A read on a team server that nobody said who it is for: a bug, answered with nothing."""


_CURRENT: ContextVar[Audience | OwnerView | None] = ContextVar("upstack_audience", default=None)


def current(*, team: bool = False) -> Audience | None:
    """Who a read answers for: their ``Audience``, or None for the owner's full view.

    ``team``: the workspace is a team server's, where nobody having said is an error
    (``NoAudience``) rather than the full view.
    """
    said = _CURRENT.get()
    if said is None:
        if team:
            raise NoAudience("a read on a team server without a signed-in reader (nothing was shown)")
        return None
    return None if isinstance(said, OwnerView) else said


@contextlib.contextmanager
def acting_as(audience: Audience | OwnerView) -> Iterator[None]:
    token = _CURRENT.set(audience)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def require_edit(entry: Entry) -> None:
    """Refuse a change to an entry the signed-in user may read but not change."""
    audience = current()
    if audience is not None and not audience.may_edit_entry(author_id=entry.author_id, private=entry.private,
                                                            node_id=entry.node_id):
        raise Forbidden(f"you may read entry {entry.short} but not change it (its owner can make you an editor)")


def require_file_under(node_id: str | None) -> None:
    """Refuse a new entry filed under a node the signed-in user may not write to."""
    audience = current()
    if audience is not None and not audience.may_file_under(node_id):
        raise Forbidden("you may not add entries there (its owner can make you an editor)")
