"""Who may push what to a team server: one table (op × what it names × the role it needs).

The sync door (services/sync_door.py, services/runsync.py) asks it, and tests/test_permissions.py
checks every op of the handler registry (store/apply.py) against it, for every role and every kind of
object a record may name: an op that can be pushed without a row here fails that test.

Roles on a node are viewer < commenter < editor < owner, held on the node or above it
(domain/access.py). Reading the columns:

- ``names``: what the record is about: a node, an entry, or a run (its push API).
- ``needs``: what the pusher must hold on it: a role on the node; ``edit`` (an entry's author,
  or an editor on its node when it is not private; a deleted entry, only its author); ``comment``
  (an entry's author, or a commenter on its node when it is not private; never a deleted entry);
  ``see`` (whoever may see the entry: its author, or anyone with a role on its node when it is not
  private and not deleted); or ``author`` (a run is its author's alone, and so is what is said of a
  prediction or a take: its entry's author, while it is not deleted).
- ``new``: it makes something: its id must be free (an id of something the pusher made before is
  "already here", and changes nothing; any other taken id is refused). A comment is made on an
  entry that exists: the id that must be free is the comment's.
- A star is its person's alone: whoever pushes one stars (or unstars) for themselves only.
- ``self`` (``names``): a record of a person's own path (ladder, resources, practice, portfolio,
  whom they show it to): whoever pushes one keeps it as their own, whatever ``by`` it says, so it
  changes nobody else's rows; being ``new``, its id must be free (their own earlier one is "already here").
- ``files_under``: it names a node to go under: the pusher needs editor there (or made it in
  the same push); without one it goes to the top (a node) or is unfiled (an entry, a run).
- ``leaves``: the role it needs on the node's present parent: taking a node (and what is filed
  under it) from under a project takes it from that project's owners, so it is theirs to decide.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rule", "PERMISSIONS", "NOT_PUSHABLE", "RUN_PUSH", "PATH_OPS", "WELLBEING_OPS"]

# A person's path (store/path.OPS; tests/test_permissions.py checks the two lists agree).
PATH_OPS = ("ladder.step", "ladder.evidence", "resource.set", "resource.progress", "practice.attempt",
            "portfolio.profile", "portfolio.item", "portfolio.variant", "path.share",
            "opp.set", "opp.posting", "apply.set", "apply.stage", "contact.set", "outreach.log")


@dataclass(frozen=True)
class Rule:
    names: str  # node, entry, run, self (the pusher's own path)
    needs: str = ""  # viewer/commenter/editor/owner (on a node), edit/comment/see (an entry), author (a run)
    new: bool = False
    files_under: bool = False
    leaves: str = ""  # the role needed on the node's present parent


PERMISSIONS: dict[str, Rule] = {
    #  op                 names     needs on it           makes it   names a node to go under
    "node.create":  Rule("node",                          new=True,  files_under=True),
    "node.edit":    Rule("node",   needs="editor"),
    "node.status":  Rule("node",   needs="editor"),
    # Where a node sits decides who sees and controls it (roles come from above): its owner's call.
    "node.move":    Rule("node",   needs="owner",                    files_under=True, leaves="owner"),
    "node.delete":  Rule("node",   needs="owner"),
    "node.restore": Rule("node",   needs="owner"),
    "entry.create": Rule("entry",                         new=True,  files_under=True),
    "entry.revise": Rule("entry",  needs="edit"),
    "entry.attach": Rule("entry",  needs="edit"),
    "entry.delete": Rule("entry",  needs="edit"),
    "comment.add":  Rule("entry",  needs="comment",       new=True),
    "star.set":     Rule("entry",  needs="see"),
    # What a person says of their own prediction or take (issue 19): its author's alone, a change made
    # under a fresh id (their own earlier one is "already here"); nobody else's, even with a role there.
    **{op: Rule("entry", needs="author", new=True) for op in (
        "prediction.make", "prediction.forecast", "prediction.resolve", "take.make", "take.update")},
    # A person's path is theirs alone (store/path.py): anyone signed in may push their own.
    **{op: Rule("self", new=True) for op in PATH_OPS},
}

# A run's records (run.start ... run.end) go through its own push API, /api/runs/<id>/push: a
# new run under a node they may file under, then only its author adds to it.
RUN_PUSH = Rule("run", needs="author", new=True, files_under=True)

# Ops that only the workspace's own owner makes (on their laptop or the server's command line),
# never through a push: why, for each.
# Wellbeing (issue 18): local-only by construction. Every such record is kept local-only whatever its
# data says: sync never lists it, a server's door refuses it (NOT_PUSHABLE), no other reader reads it,
# and with a passphrase set its content is sealed (services/wellbeing_seal.py).
WELLBEING_OPS = (
    "checkin.log",   # a day's check-in: sleep, energy, mood, hours worked, the person's warning signs, a note
    "checkin.sign",  # a warning sign of the person's own added, renamed or retired
    "checkin.cbi",   # a week's burnout questionnaire (Copenhagen Burnout Inventory, personal burnout)
    "recover.plan",  # a recovery plan started, changed or ended
    "fit.note",      # a personal-fit reflection: what energised, what drained, by kind of work
)

NOT_PUSHABLE: dict[str, str] = {
    "entry.restore": "a deleted entry is restored where it was deleted; sync carries deletions only",
    "entry.purge": "removing content for good is the workspace owner's act, on the server itself",
    "attachment.purge": "removing a file for good is the workspace owner's act, on the server itself",
    "idea.create": "ideas (and their triage) stay in the workspace they were had in; not synced yet",
    "idea.triage": "ideas stay in the workspace they were had in; not synced yet",
    "idea.state": "ideas stay in the workspace they were had in; not synced yet",
    "sync.hold": "which refused changes a workspace keeps to itself or dropped is its own business",
    **{op: "chart panels stay in the store they were saved in (they name its runs); not synced yet"
       for op in ("panel.save", "panel.delete", "panel.restore")},
    **{op: "wellbeing data is local-only: it never leaves the machine it was written on" for op in WELLBEING_OPS},
}
