"""A team workspace for web tests: five people around one shared project, and things each of
them may or may not see, every one carrying its own marker word.

``build_team(home, db)`` makes it through the services (no server needed) and returns a
``Team`` that describes each resource by the facts the access rules decide on (author,
node, private, deleted), not by who may see it: a test derives that itself, so it checks
the rules instead of repeating the code under test. ``Team.client(server, who)`` signs one
of them in on a running server (tests/webserver.py) and knows their CSRF token.

The people (``USERS``): A (alice) is the first account, an admin who owns everything
written with nobody signed in; V, C and E hold viewer, commenter and editor on project P;
O (oscar) has no shares at all. Three more accounts exist as targets: ``pending`` (invited,
never joined), ``leaver`` (to be removed) and ``guest`` (to share with).

The marker words are upper-case letters (``QU...``), none a part of another and none
possible in an id (each has a letter Crockford's base32 leaves out), so a page shows one
only if it shows the thing.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

import upstack
from upstack.domain import access
from upstack.ids import new_id, short_id
from upstack.services import (
    accounts,
    applications,
    capture,
    contacts,
    curate,
    ideas,
    opportunities,
    path_access,
    practice,
    predictions,
    takes,
    tree,
)
from upstack.services.accounts import User
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["USERS", "LOGINS", "PASSWORDS", "ROLES_ON_P", "EXTRA_LOGINS", "Resource", "Team", "TeamClient",
           "build_team", "add_entry", "add_idea", "add_run", "add_comment", "delete_entry", "add_path", "show_path",
           "add_opportunity", "add_contact", "add_prediction", "add_take", "PIPELINE_KINDS", "png"]

USERS = ("A", "V", "C", "E", "O")
LOGINS = {"A": "alice", "V": "victor", "C": "carol", "E": "erin", "O": "oscar"}
PASSWORDS = {who: f"{login}-password-0123" for who, login in LOGINS.items()}
ROLES_ON_P = {"V": "viewer", "C": "commenter", "E": "editor"}
EXTRA_LOGINS = ("pending", "leaver", "guest")


def png(marker: str) -> bytes:
    """A file the server takes for a PNG image, with the marker inside its bytes."""
    return b"\x89PNG\r\n\x1a\n" + marker.encode() + b"\0" * 32


@dataclass(frozen=True)
class Resource:
    """One thing in the workspace, by the facts that decide who may see it."""

    name: str  # how tests refer to it, e.g. "entry-private-A"
    kind: str  # node, entry, idea, run, attachment, comment, token, practice, path
    id: str
    markers: tuple[str, ...]
    author: str | None = None  # a key of USERS; None: written with nobody signed in (so A's)
    node: str | None = None  # the node resource it is filed under (a node: its parent)
    private: bool = False
    deleted: bool = False
    entry: str | None = None  # an attachment's or comment's entry resource
    sha256: str = ""  # an attachment's file
    part: str = ""  # a path record's part of a person's path: ladder, portfolio, practice, pipeline, contacts
    slug: str = ""  # an opportunity's, application's or contact's: what its pages are named by
    local_only: bool = False  # a contact kept on its person's machine only: never shown to anyone else

    @property
    def short(self) -> str:
        return short_id(self.id)


@dataclass
class Team:
    home: Path
    db: str | None
    users: dict[str, User]  # USERS and EXTRA_LOGINS -> account
    resources: dict[str, Resource] = field(default_factory=dict)
    shares: dict[tuple[str, str], str] = field(default_factory=dict)  # (node resource, user) -> role
    links: dict[str, str] = field(default_factory=dict)  # "invite" / "reset" -> a live link's secret
    tokens: dict[str, str] = field(default_factory=dict)  # user -> their API token's secret
    # (person, reader) -> the parts of their path the person shows the reader (their mentor)
    mentors: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Resource:
        return self.resources[name]

    def of_kind(self, *kinds: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind in kinds]

    def markers(self) -> dict[str, Resource]:
        return {m: r for r in self.resources.values() for m in r.markers}

    def add(self, resource: Resource) -> Resource:
        assert resource.name not in self.resources, resource.name
        known = self.markers()
        for marker in resource.markers:
            assert re.fullmatch(r"QU[A-Z]+", marker), marker
            clash = [m for m in known if m in marker or marker in m]
            assert not clash, (marker, clash)
        self.resources[resource.name] = resource
        return resource

    def workspace(self) -> Workspace:
        return Workspace(home=self.home, db=self.db)

    def acting(self, ws: Workspace, who: str | None) -> Any:
        """Run as ``who`` (None: nobody signed in, as the server's own command line)."""
        return access.acting_as(accounts.audience_for(ws, self.users[who]) if who else access.OWNER)

    def client(self, url: str, who: str | None) -> TeamClient:
        """A client signed in as ``who`` with their password (None: a visitor, not signed in)."""
        http = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
        if who is not None:
            login = http.get("/login")
            answer = http.post("/login", data={"login": LOGINS[who], "password": PASSWORDS[who], "next": "/",
                                               "csrf": _csrf(login.text)})
            assert answer.status_code == 303, (who, answer.status_code, answer.text[:300])
        page = http.get("/login")
        return TeamClient(http, who, _csrf(page.text) if who is None else _csrf(http.get("/account").text))


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


@dataclass
class TeamClient:
    http: httpx.Client
    who: str | None
    csrf: str

    def get(self, path: str, **options: Any) -> httpx.Response:
        return self.http.get(path, **options)

    def post(self, path: str, data: dict[str, Any] | None = None, **options: Any) -> httpx.Response:
        return self.http.post(path, data={**(data or {}), "csrf": self.csrf}, **options)

    def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Any request, with the CSRF token in its header (for JSON and raw bodies too)."""
        headers = {"X-CSRF-Token": self.csrf, **options.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **options)

    def close(self) -> None:
        self.http.close()


def add_entry(team: Team, ws: Workspace, name: str, marker: str, *, who: str | None, node: str | None = None,
              private: bool = False, files: dict[str, str] | None = None) -> Resource:
    """A note titled with its marker (its body says "zebra", a word every entry and idea shares), with
    ``files`` ({file name: marker in its bytes}) attached; each attachment is a resource too."""
    with team.acting(ws, who), tempfile.TemporaryDirectory(prefix="upstack-team-") as scratch:
        paths: list[str | Path] = []
        for filename, blob_marker in (files or {}).items():
            (Path(scratch) / filename).write_bytes(png(blob_marker))
            paths.append(Path(scratch) / filename)
        made = capture.note(ws, f"{marker} is the word.\n\nEvery entry mentions the zebra.",
                            under=team[node].id if node else None, private=private, attach=paths)
        ws.ingest()
    entry = team.add(Resource(name, "entry", made.id, (marker,), author=who, node=node, private=private))
    for number, (attachment, blob_marker) in enumerate(zip(made.attachments, (files or {}).values(), strict=True)):
        team.add(Resource(f"{name}-file{number}", "attachment", attachment.id,
                          (blob_marker, attachment.filename.split(".")[0].upper()), author=who, node=node,
                          private=private, entry=name, sha256=attachment.sha256 or ""))
    return entry


def add_idea(team: Team, ws: Workspace, name: str, marker: str, *, who: str | None, node: str | None) -> Resource:
    """An idea; under a node, written as the store's records (capture files ideas under nothing)."""
    text = f"{marker} might work.\n\nEvery entry mentions the zebra."
    with team.acting(ws, who):
        if node is None:
            made = ideas.capture_idea(ws, text)
            entry_id = made.id
        else:
            entry_id, created = new_id(), now_iso()
            ws.store().write([
                ws.record("entry.create", {
                    "id": entry_id, "revision_id": new_id(), "kind": "idea", "title": f"{marker} might work.",
                    "body": "Every entry mentions the zebra.", "extra_tags": [], "private": False,
                    "project": None, "node_id": team[node].id, "occurred_at": created, "created_at": created,
                    "attachments": []}),
                ws.record("idea.create", {"entry_id": entry_id, "at": created, "triage": {}})])
    return team.add(Resource(name, "idea", entry_id, (marker,), author=who, node=node))


def add_practice(team: Team, ws: Workspace, name: str, marker: str, *, who: str) -> Resource:
    """An interview-practice attempt titled with its marker: its person's alone."""
    with team.acting(ws, who):
        made = practice.log_attempt(ws, marker.lower(), minutes=20, outcome="failed", difficulty="medium",
                                    topics=[marker], title=marker, at=now_iso())
    return team.add(Resource(name, "practice", made.id, (marker,), author=who))


def add_run(team: Team, ws: Workspace, name: str, marker: str, node: str | None,
            artifact: str | None = None) -> Resource:
    """A finished run (with nobody signed in: the workspace owner's) logging loss and acc; with ``artifact``
    (a marker), storing a file as the artifact of that name (resource ``artifact-`` + the run's)."""
    made = upstack.run(marker, home=team.home, db=team.db, capture="none", under=team[node].id if node else None,
                       config={"lr": 0.001})
    with made as run:
        for step in range(5):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 5}, step=step)
        if artifact:
            weights = team.home.parent / f"{artifact}.bin"
            weights.write_bytes(png(artifact))
            run.artifact(weights, name=artifact)
    ws.ingest()  # ingest the run folder: its result entry (same id) appears
    if artifact:
        team.add(Resource(f"artifact-{name}", "artifact", made.id, (artifact,), author=None, node=node))
    return team.add(Resource(name, "run", made.id, (marker,), author=None, node=node))


def add_comment(team: Team, ws: Workspace, name: str, marker: str, *, who: str, entry: str) -> Resource:
    with team.acting(ws, who):
        added = accounts.add_comment(ws, team[entry].id, f"{marker} says hello.",
                                     by=accounts.audience_for(ws, team.users[who]))
    parent = team[entry]
    return team.add(Resource(name, "comment", added["id"], (marker,), author=who, node=parent.node,
                             private=parent.private, entry=entry))


def delete_entry(team: Team, ws: Workspace, entry: Resource) -> Resource:
    """Delete an entry (as its author) and its attachments with it."""
    with team.acting(ws, entry.author):
        curate.remove(ws, entry.id)
    for name, resource in list(team.resources.items()):
        if name == entry.name or resource.entry == entry.name:
            team.resources[name] = replace(resource, deleted=True)
    return team[entry.name]


def add_prediction(team: Team, ws: Workspace, name: str, marker: str, *, who: str, node: str | None = None,
                   probability: str = "70%", private: bool = False, resolved: str = "") -> Resource:
    """A prediction (an entry of kind prediction, issue 19) by ``who`` about ``node``, claimed with its
    marker the way a note is titled; ``resolved`` ("true", "false") resolves it at once, so it is scored
    in its maker's calibration. Its name starts with "prediction-": only its maker updates or resolves it."""
    assert name.startswith("prediction-"), name
    with team.acting(ws, who):
        made = predictions.make(ws, f"{marker} is the word.\n\nEvery entry mentions the zebra.", probability,
                                on=team[node].id if node else None, private=private, criteria="By hand.")
        if resolved:
            predictions.resolve(ws, made.id, resolved)
        ws.ingest()
    return team.add(Resource(name, "entry", made.id, (marker,), author=who, node=node, private=private))


def add_panel(team: Team, ws: Workspace, name: str, marker: str, *, who: str | None, node: str | None,
              runs: tuple[str, ...] = ()) -> Resource:
    """A chart panel (issue 20) in a project's grid, titled with its marker, naming ``runs`` (resources): it
    shows to whoever sees its project, each of its runs only to whoever sees that run."""
    from upstack.services import panels

    with team.acting(ws, who):
        spec = panels.spec_from(ws, keys=["loss"], runs=[team[r].id for r in runs])
        made = panels.save_panel(ws, spec, under=team[node].id if node else None, title=f"{marker} curves")
    return team.add(Resource(name, "panel", made.id, (marker,), author=who, node=node))


def add_take(team: Team, ws: Workspace, name: str, marker: str, *, who: str, node: str | None = None,
             shared: bool = False) -> Resource:
    """A take (an entry of kind take, issue 19) by ``who``, its claim titled with its marker the way a
    note is, from one source and with a revisit day: private unless ``shared`` (then seen by whoever sees
    its node). Its name starts with "take-": only its maker updates it or says it was revisited."""
    assert name.startswith("take-"), name
    with team.acting(ws, who):
        made = takes.make(ws, f"{marker} is the word.\n\nEvery entry mentions the zebra.", "60%",
                          source="a reading group", on=[team[node].id] if node else [], revisit="in 2 weeks",
                          shared=shared)
        ws.ingest()
    return team.add(Resource(name, "entry", made.id, (marker,), author=who, node=node, private=not shared))


PART_OP = {"ladder": "ladder.step", "portfolio": "portfolio.item", "practice": "practice.attempt"}


# A record each part's fold shows the marker of: a step done with it as its note, an accomplishment
# titled with it, an attempt at a problem titled with it.
PART_RECORD = {
    "ladder": lambda marker: {"subject": "code", "change": "done", "note": marker},
    "portfolio": lambda marker: {"subject": new_id(), "kind": "write-up", "title": marker, "sources": []},
    "practice": lambda marker: {"subject": marker.lower(), "title": marker, "minutes": 20, "outcome": "unaided",
                                "difficulty": "medium", "topics": [], "first": True},
}


def add_path(team: Team, ws: Workspace, name: str, marker: str, *, who: str, part: str) -> Resource:
    """A record of ``who``'s path (ladder, portfolio or practice) about its marker: theirs, and their
    mentors' to read if it is a part they show them (never practice)."""
    with team.acting(ws, who):
        record = ws.record(PART_OP[part], {**PART_RECORD[part](marker), "at": now_iso()})
        ws.store().write([record])
    return team.add(Resource(name, "path", record.id, (marker,), author=who, part=part))


PIPELINE_KINDS = ("opportunity", "application", "contact")  # a person's path records named by a slug (issue 16)


def add_opportunity(team: Team, ws: Workspace, name: str, marker: str, role: str, *, who: str,
                    application: str = "") -> Resource:
    """An opportunity of ``who``'s, its organisation the marker; with ``application`` (a marker too, its
    notes), an application to it, applied: their pipeline, shown to a mentor only if named."""
    with team.acting(ws, who):
        slug = opportunities.add(ws, organisation=marker, role=role).opportunity.slug
        if application:
            applications.add(ws, slug, stage="applied", notes=f"{application} is in the notes.")
    if application:
        team.add(Resource(f"{name}-application", "application", new_id(), (application,), author=who,
                          part="pipeline", slug=slug))
    return team.add(Resource(name, "opportunity", new_id(), (marker,), author=who, part="pipeline", slug=slug))


def add_contact(team: Team, ws: Workspace, name: str, marker: str, *, who: str, local_only: bool = False) -> Resource:
    """A contact of ``who``'s named by the marker, with one exchange: private, or kept local-only (never
    shown to anyone else, a mentor shown their contacts included)."""
    with team.acting(ws, who):
        slug = contacts.add(ws, marker, local_only=local_only, interests="Sparse autoencoders.").slug
        contacts.log_exchange(ws, slug, "sent", "Asked about their paper.")
    return team.add(Resource(name, "contact", new_id(), (marker,), author=who, part="contacts", slug=slug,
                             local_only=local_only))


def show_path(team: Team, ws: Workspace, who: str, reader: str, parts: tuple[str, ...]) -> None:
    with team.acting(ws, who):
        path_access.show(ws, LOGINS[reader], parts)
    team.mentors[(who, reader)] = parts


def build_team(home: Path, db: str | None) -> Team:
    """The workspace (see the module's docstring); every resource is in ``Team.resources``."""
    with Workspace(home=home, db=db) as ws:
        team = Team(home, db, users={})
        # Before there were accounts: the log as it was is the first account's.
        team.add(Resource("node-P", "node", tree.add_node(ws, "project", "QUPROJECTP", why="Shared.").id,
                          ("QUPROJECTP",)))
        team.add(Resource("node-PQ", "node", tree.add_node(ws, "question", "QUQUESTIONPQ", under=team["node-P"].id,
                                                           why="Below P.").id, ("QUQUESTIONPQ",), node="node-P"))
        team.add(Resource("node-S", "node", tree.add_node(ws, "project", "QUPROJECTS", why="Not shared.").id,
                          ("QUPROJECTS",)))
        add_entry(team, ws, "entry-old", "QUOLDNOTE", who=None)  # unfiled, from before accounts
        for who in USERS:
            user, secret = accounts.add_user(ws, LOGINS[who], name=f"{LOGINS[who].title()} Tester")
            team.users[who] = accounts.accept_link(ws, secret, PASSWORDS[who])
        for login in EXTRA_LOGINS:
            user, secret = accounts.add_user(ws, login, by=team.users["A"].id)
            team.users[login] = user
            if login == "pending":
                team.links["invite"] = secret
        team.links["reset"] = accounts.reset_link(ws, "leaver", by=team.users["A"].id)
        for who, role in ROLES_ON_P.items():
            accounts.share(ws, team["node-P"].id, LOGINS[who], role, by=None)
            team.shares[("node-P", who)] = role

        # A's things, in P (shared), in S (shared with nobody) and unfiled.
        add_entry(team, ws, "entry-shared-P", "QUSHAREDP", who="A", node="node-P")
        add_entry(team, ws, "entry-private-A", "QUSECRETPRIVATEA", who="A", node="node-P", private=True)
        add_entry(team, ws, "entry-attached-P", "QUATTACHEDP", who=None, node="node-P",
               files={"qufilep.png": "QUBLOBP"})
        delete_entry(team, ws, add_entry(team, ws, "entry-deleted-P", "QUDELETEDP", who="A", node="node-P"))
        add_entry(team, ws, "entry-PQ", "QUBELOWPQ", who="A", node="node-PQ")
        add_entry(team, ws, "entry-S", "QUENTRYS", who=None, node="node-S")
        add_entry(team, ws, "entry-attached-S", "QUATTACHEDS", who="A", node="node-S", files={"qufiles.png": "QUBLOBS"})
        add_entry(team, ws, "entry-unfiled-A", "QUUNFILEDA", who="A")
        add_idea(team, ws, "idea-P", "QUIDEAP", who="A", node="node-P")
        add_idea(team, ws, "idea-A", "QUIDEAUNFILEDA", who="A", node=None)
        add_run(team, ws, "run-P", "QURUNP", "node-P", artifact="QUARTIFACTP")
        add_run(team, ws, "run-S", "QURUNS", "node-S", artifact="QUARTIFACTS")
        # Panels (issue 20): A's in P naming a run in P and one in S (S's only for who sees S), and one in S.
        add_panel(team, ws, "panel-P", "QUPANELP", who="A", node="node-P", runs=("run-P", "run-S"))
        add_panel(team, ws, "panel-S", "QUPANELS", who=None, node="node-S")
        # The editor's, in P; the outsider's, unfiled.
        add_entry(team, ws, "entry-E-P", "QUEDITORNOTEP", who="E", node="node-P")
        add_entry(team, ws, "entry-E-private", "QUEDITORPRIVATE", who="E", node="node-P", private=True)
        add_entry(team, ws, "entry-O", "QUOUTSIDERNOTE", who="O")
        add_entry(team, ws, "entry-O-private", "QUOUTSIDERPRIVATE", who="O", private=True)
        add_idea(team, ws, "idea-O", "QUOUTSIDERIDEA", who="O", node=None)
        # Predictions (issue 19): A's about the shared question, seen by whoever sees it; the editor's private
        # one, a confident miss in her own calibration only; the outsider's, unfiled.
        add_prediction(team, ws, "prediction-A", "QUFORECASTA", who="A", node="node-PQ")
        add_prediction(team, ws, "prediction-E-private", "QUFORECASTPRIVATEE", who="E", node="node-P",
                       probability="90%", private=True, resolved="false")
        add_prediction(team, ws, "prediction-O", "QUFORECASTO", who="O")
        # Takes (issue 19): A's private one (nobody else's to see, not even as a count), the editor's shared
        # one in P, seen by whoever sees P.
        add_take(team, ws, "take-A-private", "QUTAKEPRIVATEA", who="A", node="node-P")
        add_take(team, ws, "take-E-shared", "QUTAKESHAREDE", who="E", node="node-P", shared=True)
        # Interview practice: each person's own (issue 15), never anyone else's, an admin's included.
        for who, marker in (("A", "QUPRACTICEA"), ("O", "QUPRACTICEOUTSIDER")):
            add_practice(team, ws, f"practice-{who}", marker, who=who)
        # Paths (issue 15): A shows V (her mentor) her ladder and portfolio, never her practice; O shows nobody.
        add_path(team, ws, "path-ladder-A", "QUPATHLADDERA", who="A", part="ladder")
        add_path(team, ws, "path-portfolio-A", "QUPATHFOLIOA", who="A", part="portfolio")
        add_path(team, ws, "path-practice-A", "QUPATHDRILLA", who="A", part="practice")
        add_path(team, ws, "path-ladder-O", "QUPATHLADDERO", who="O", part="ladder")
        show_path(team, ws, "A", "V", ("ladder", "portfolio"))
        # Pipelines and contacts (issue 16): A's and O's own. A shows C her pipeline and E her pipeline and
        # contacts (never the local-only one); V, her ladder's mentor, sees neither. The slugs differ enough
        # that no "did you mean" of one person's suggests another's.
        add_opportunity(team, ws, "opp-A", "QUALPHA", "Kilo", who="A", application="QUHOTELA")
        add_opportunity(team, ws, "opp-wish-A", "QUBRAVO", "Lima", who="A")
        add_contact(team, ws, "contact-A", "QUCHARLIE", who="A")
        add_contact(team, ws, "contact-local-A", "QUDELTA", who="A", local_only=True)
        add_opportunity(team, ws, "opp-O", "QUXYZZY", "Mime", who="O", application="QUINDIAO")
        add_contact(team, ws, "contact-O", "QUJJOWW", who="O")
        show_path(team, ws, "A", "C", ("pipeline",))
        show_path(team, ws, "A", "E", ("pipeline", "contacts"))

        # Comments: the commenter's on the shared entry; A's on A's private entry.
        add_comment(team, ws, "comment-C", "QUCOMMENTBYC", who="C", entry="entry-shared-P")
        add_comment(team, ws, "comment-A-private", "QUCOMMENTPRIVATEA", who="A", entry="entry-private-A")
        # Everyone's API token, named with a marker: seen by its user and by admins.
        for who in USERS:
            token, secret = accounts.create_token(ws, team.users[who].id, f"QUTOKEN{who}U")
            team.tokens[who] = secret
            team.add(Resource(f"token-{who}", "token", token["id"], (f"QUTOKEN{who}U",), author=who))
        ws.ingest()
    return team
