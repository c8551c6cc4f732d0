"""The entry page over real HTTP, on both engines: attached figures, [[wikilinks]], tags, the why-chain,
and the small pages around it (runs compare without runs).

What a person sees in a browser is in tests/test_browser_entry.py; who may see what on a team
server is at the end of this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

import upstack
from attack_common import Team
from upstack.domain import access
from upstack.domain.entry import Attachment, figures
from upstack.ids import new_id, short_id
from upstack.services import accounts, capture, curate, tree
from upstack.timeutil import now_iso
from upstack.web.headers import CONTENT_SECURITY_POLICY
from upstack.web.markdown import BROKEN, render
from upstack.workspace import Workspace
from webserver import Server, serve

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 50
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


def _files(folder: Path, names: dict[str, bytes]) -> list[str | Path]:
    for name, data in names.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in names]


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


# -- figures ------------------------------------------------------------------------------------

def test_attached_figures_show_under_the_body_each_once_and_files_under_them(
        server: Server, workspace: Workspace, tmp_path: Path) -> None:
    attach = _files(tmp_path, {"heatmap.png": PNG, "photo.jpg": b"\xff\xd8\xff" + b"0" * 20, "anim.gif": b"GIF89a",
                               "curve.webp": b"RIFF0000WEBP", "sketch.svg": SVG, "numbers.csv": b"a,b\n1,2\n",
                               "scan.tif": b"II*\x00"})
    entry = capture.note(workspace, "Head patching heatmap. Made with note --attach. #ioi", attach=attach)
    by_name = {a.filename: a for a in entry.attachments}
    client = server.client()

    data = client.get(f"/e/{entry.short}.json").json()
    pictures = ["heatmap.png", "photo.jpg", "anim.gif", "curve.webp", "sketch.svg"]
    assert [f["filename"] for f in data["figures"]] == pictures  # a CSV and a TIFF are files, not figures

    html = client.get(f"/e/{entry.short}").text
    shown = _section(html, 'id="figures"', "</div>")
    assert re.findall(r'<img src="/a/([0-9A-Z]+)"', shown) == [by_name[name].id for name in pictures]
    # The body, then the figures, then the Files list naming every file.
    assert html.index('class="body markdown"') < html.index('id="figures"') < html.index("<h2>Files</h2>")
    files = _section(html, "<h2>Files</h2>", "</ul>")
    assert all(name in files for name in by_name)


def test_a_figure_the_body_shows_is_not_shown_again(server: Server, workspace: Workspace, tmp_path: Path) -> None:
    attach = _files(tmp_path, {"loss.png": PNG, "loss.svg": SVG, "other.png": PNG})
    entry = capture.note(workspace, "Loss curve. Written by hand.", attach=attach)
    loss_png = next(a for a in entry.attachments if a.filename == "loss.png")
    other = next(a for a in entry.attachments if a.filename == "other.png")
    curate.edit(workspace, entry.id, f"Loss curve. Written by hand.\n\n![the loss](upstack:{loss_png.short})")
    client = server.client()
    html = client.get(f"/e/{entry.short}").text
    # The PNG is in the body; its SVG twin is the same figure; only other.png is left to show.
    assert html.count(f'src="/a/{loss_png.id}"') == 1
    assert [f["id"] for f in client.get(f"/e/{entry.short}.json").json()["figures"]] == [other.id]


def test_an_svg_figure_is_an_image_and_served_sandboxed(server: Server, workspace: Workspace, tmp_path: Path) -> None:
    hostile = (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
               b'<foreignObject><iframe src="https://example.com"/></foreignObject></svg>')
    entry = capture.note(workspace, "A drawing.", attach=_files(tmp_path, {"drawing.svg": hostile}))
    attachment = entry.attachments[0]
    client = server.client()
    html = client.get(f"/e/{entry.short}").text
    assert f'<img src="/a/{attachment.id}"' in html
    # Shown only as an <img> (where an SVG runs no script), never inlined, embedded or framed.
    assert "<svg" not in html and "alert(" not in html
    assert not re.search(r"<(object|embed|iframe)\b", html)
    served = client.get(f"/a/{attachment.id}")
    assert served.content == hostile and served.headers["content-type"] == "image/svg+xml"
    # Opened by itself it is a sandboxed document (no origin, no script), under the app's policy as well.
    own, app_wide = served.headers.get_list("content-security-policy")
    assert "sandbox" in own.split("; ") and "default-src 'none'" in own.split("; ")
    assert app_wide == CONTENT_SECURITY_POLICY
    assert served.headers["x-content-type-options"] == "nosniff"


def test_figures_leave_out_purged_files_and_svg_twins() -> None:
    def attachment(name: str, media_type: str, sha256: str | None = "ab") -> Attachment:
        return Attachment(id=name.upper(), entry_id="E", sha256=sha256, filename=name, media_type=media_type,
                          size=1, created_at="2026-01-01T00:00:00Z")

    files = [attachment("a.png", "image/png"), attachment("a.svg", "image/svg+xml"),
             attachment("b.svg", "image/svg+xml"), attachment("gone.png", "image/png", sha256=None),
             attachment("c.png", "image/png"), attachment("c.webp", "image/webp")]
    assert [f.filename for f in figures(files)] == ["a.png", "b.svg", "c.png", "c.webp"]
    assert [f.filename for f in figures(files, shown={"A.SVG"})] == ["b.svg", "c.png", "c.webp"]


# -- [[wikilinks]] ------------------------------------------------------------------------------

def test_wikilinks_link_by_title_or_id_and_broken_ones_show(server: Server, workspace: Workspace) -> None:
    target = capture.note(workspace, "Activation patching setup. Hooks on every layer.")
    other = capture.note(workspace, "Residual stream sweep. Layers 0-11.")
    entry = capture.note(workspace, (
        "Links everywhere. See [[activation patching setup]] and [[" + target.short + "]], "
        f"[[{other.id}|the sweep]], [[Residual stream sweep#results]], [[No such note]], "
        "`[[in code]]` and ![[embedded.png]]."))
    client = server.client()
    html = client.get(f"/e/{entry.short}").text
    body = _section(html, 'class="body markdown"', "</div>")
    links = re.findall(r'<a class="wikilink" href="/e/([0-9a-z]+)"[^>]*>([^<]*)</a>', body)
    assert links == [(target.short, "Activation patching setup"), (target.short, "Activation patching setup"),
                     (other.short, "the sweep"), (other.short, "Residual stream sweep")]
    assert re.findall(r'<span class="wikilink broken" title="([^"]*)">([^<]*)</span>', body) == [
        (BROKEN, "[[No such note]]")]
    assert "<code>[[in code]]</code>" in body and "![[embedded.png]]" in body


def test_a_link_written_before_its_target_resolves_once_the_target_exists(
        server: Server, workspace: Workspace) -> None:
    early = capture.note(workspace, "A plan. See [[Write-up outline]] when it exists.")
    client = server.client()
    assert 'class="wikilink broken"' in client.get(f"/e/{early.short}").text
    outline = capture.note(workspace, "Write-up outline. Three sections.")
    html = client.get(f"/e/{early.short}").text
    assert f'<a class="wikilink" href="/e/{outline.short}" rel="noopener noreferrer">Write-up outline</a>' in html


def test_the_editor_preview_shows_wikilinks_unresolved_and_safe() -> None:
    shown = render('Before [[<b onclick="x()">Title</b>|alias "quoted"]] after')
    assert '<span class="wikilink">alias "quoted"</span>' in shown or \
        '<span class="wikilink">alias &quot;quoted&quot;</span>' in shown
    assert "onclick" not in render('[[<img src=x onerror="alert(1)">]]')


# -- tags and the why-chain ---------------------------------------------------------------------

def test_tags_are_shown_apart(server: Server, workspace: Workspace) -> None:
    entry = capture.note(workspace, "Name movers at 9.9. #ioi #name-movers #patching")
    html = server.client().get(f"/e/{entry.short}").text
    tags = _section(html, '<span class="tags">', "</span>")
    text = re.sub(r"<[^>]+>", "", tags.split(">", 1)[1])
    assert text == "#ioi #name-movers #patching"
    timeline = server.client().get("/").text
    row = _section(timeline, '<span class="tags">', "</span>")
    assert re.sub(r"<[^>]+>", "", row.split(">", 1)[1]) == "#ioi #name-movers #patching"


def test_the_why_chain_asks_why_only_when_it_stops_short_of_an_agenda(
        server: Server, workspace: Workspace) -> None:
    agenda = tree.add_node(workspace, "agenda", "Trustworthy tools", why="Audits.")
    filed = tree.add_node(workspace, "project", "IOI circuit", why="Calibration.", under=agenda.id)
    loose = tree.add_node(workspace, "project", "Loose project", why="Curiosity.")
    under_agenda = capture.note(workspace, "Filed well.", under=filed.id)
    under_loose = capture.note(workspace, "Filed loosely.", under=loose.id)
    unfiled = capture.note(workspace, "Not filed.")
    client = server.client()
    pages = {name: client.get(path).text for name, path in (
        ("agenda", f"/e/{under_agenda.short}"), ("loose", f"/e/{under_loose.short}"),
        ("unfiled", f"/e/{unfiled.short}"), ("node-agenda", f"/tree/{filed.short}"),
        ("node-loose", f"/tree/{loose.short}"))}
    for name in ("agenda", "node-agenda"):
        assert "Trustworthy tools" in pages[name] and "does not reach an agenda" not in pages[name]
    for name in ("loose", "node-loose"):
        assert "Loose project" in pages[name] and "does not reach an agenda: why does this matter?" in pages[name]
    assert "not filed under the tree: why does this matter?" in pages["unfiled"]


# -- /runs/compare without two runs --------------------------------------------------------------

def test_compare_without_two_runs_says_how_to_pick_them(server: Server, workspace: Workspace) -> None:
    runs = []
    for name in ("first", "second"):
        with upstack.run(name, home=workspace.home, db=workspace.db_url, capture="none") as run:
            run.log({"loss": 0.5}, step=0)
        runs.append(run.short)
    client = server.client()
    page = client.get("/runs/compare")
    assert page.status_code == 200
    assert "Compare needs two or more runs" in page.text and 'href="/runs"' in page.text
    assert re.findall(r'<input type="checkbox" name="id" value="([0-9a-z]+)"', page.text) == runs[::-1]
    one = client.get("/runs/compare.json", params={"id": runs[0]})
    assert one.status_code == 200
    data = one.json()
    assert data["runs"] == [] and data["picked"] == [runs[0]]
    assert [(c["short"], c["picked"]) for c in data["choices"]] == [(runs[0], True), (runs[1], False)]
    assert "Compare needs two or more runs" in data["choose"]
    assert client.get("/runs/compare", params={"id": "zzzzzzzz"}).status_code == 404


def test_compare_with_no_runs_at_all_says_how_to_make_one(server: Server) -> None:
    page = server.client().get("/runs/compare")
    assert page.status_code == 200 and 'id="no-runs"' in page.text and "upstack.run(" in page.text


# -- on a team server (ada owns the log; bob views and eve edits the project "Probing"; mal has nothing) --

def _html_client(team: Team, user: accounts.User) -> httpx.Client:
    token = accounts.create_token(team.ws, user.id, "browser")[1]
    client = httpx.Client(base_url=team.server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    team.server.clients.append(client)
    return client


def test_a_link_to_a_hidden_entry_reads_as_a_link_to_nothing(team: Team) -> None:
    ws = team.ws
    with access.acting_as(accounts.audience_for(ws, team.ada)):
        secret = capture.note(ws, "Quokka private plan. Only for me.", under=team.project, private=True)
        shared = capture.note(ws, "Shared notes. See [[Quokka private plan]], "
                                  f"[[{secret.short}]] and [[Nothing by this name]].", under=team.project)
    ws.ingest()
    broken = '<span class="wikilink broken" title="' + BROKEN + '">'
    seen = _html_client(team, team.ada).get(f"/e/{shared.short}").text
    assert seen.count(f'href="/e/{secret.short}"') >= 2 and "Quokka private plan</a>" in seen
    for user in (team.bob, team.eve):
        client = _html_client(team, user)
        page = client.get(f"/e/{shared.short}").text
        body = _section(page, 'class="body markdown"', "</div>")
        # Both hidden links and the link to nothing read the same: the text as written, broken.
        assert body.count(broken) == 3
        assert f"{broken}[[Quokka private plan]]</span>" in body and f"{broken}[[{secret.short}]]</span>" in body
        assert secret.id not in page and f"/e/{secret.short}" not in page and "Only for me" not in page
        twin = client.get(f"/e/{shared.short}.json").text
        assert secret.id not in twin and "Only for me" not in twin


def test_a_collaborator_sees_the_chain_they_may_see_without_being_asked_why(team: Team) -> None:
    ws = team.ws
    with access.acting_as(access.OWNER):
        agenda = tree.add_node(ws, "agenda", "Quasar agenda", why="Hidden from collaborators.")
        tree.move_node(ws, team.project, agenda.id)
        loose = tree.add_node(ws, "project", "Loose shared project", why="No agenda at all.")
        in_filed = capture.note(ws, "A note in Probing.", under=team.project)
        in_loose = capture.note(ws, "A note in the loose one.", under=loose.id)
    accounts.share(ws, loose.id, "bob", "viewer", by=None)
    with access.acting_as(accounts.audience_for(ws, team.eve)):  # eve's question in Probing, and a project of hers
        mine_id, own_id = new_id(), new_id()
        ws.store().write([ws.record("node.create", {
            "id": node_id, "kind": kind, "title": title, "why": "Hers.", "parent_id": parent, "status": "open",
            "created_at": now_iso()}) for node_id, kind, title, parent in (
                (mine_id, "question", "Eve's question", team.project), (own_id, "project", "Eve's own", None))])
    mine = SimpleNamespace(short=short_id(mine_id))
    ws.ingest()
    ask = "does not reach an agenda"
    pages = {(who.login, path) for who in (team.ada, team.bob, team.eve)
             for path in (f"/e/{in_filed.short}", f"/e/{in_loose.short}", f"/tree/{short_id(team.project)}",
                          f"/tree/{loose.short}", f"/tree/{mine.short}")}
    shown = {}
    for login, path in pages:
        user = {"ada": team.ada, "bob": team.bob, "eve": team.eve}[login]
        answer = _html_client(team, user).get(path)
        shown[login, path] = answer.text if answer.status_code == 200 else answer.status_code
    # The owner sees the whole chain, and is asked about the project that reaches no agenda.
    assert "Quasar agenda" in shown["ada", f"/e/{in_filed.short}"] and ask not in shown["ada", f"/e/{in_filed.short}"]
    assert ask in shown["ada", f"/e/{in_loose.short}"] and ask in shown["ada", f"/tree/{loose.short}"]
    # A collaborator sees the chain from the shared project down, is never asked, and the hidden agenda
    # (which a project with no agenda at all would look just like) is never named.
    for login, path in [("bob", f"/e/{in_filed.short}"), ("bob", f"/e/{in_loose.short}"),
                        ("bob", f"/tree/{short_id(team.project)}"), ("bob", f"/tree/{loose.short}"),
                        ("eve", f"/e/{in_filed.short}"), ("eve", f"/tree/{short_id(team.project)}"),
                        ("eve", f"/tree/{mine.short}")]:
        page = shown[login, path]
        assert isinstance(page, str), (login, path, page)
        assert ask not in page and "Quasar agenda" not in page and agenda.short not in page, (login, path)
    assert "project: Probing" in shown["bob", f"/e/{in_filed.short}"]
    assert "project: Probing" in shown["eve", f"/tree/{mine.short}"]
    assert shown["eve", f"/e/{in_loose.short}"] == 404
    # Whoever made a chain's top node is asked: it is theirs to file.
    assert ask in _html_client(team, team.eve).get(f"/tree/{short_id(own_id)}").text


def test_compare_offers_only_the_runs_the_reader_may_see(team: Team) -> None:
    ws = team.ws
    with access.acting_as(access.OWNER):
        unshared = tree.add_node(ws, "project", "Quiver unshared", why="Ada's alone.")
    made = {}
    for name, node in (("quasar-shared", team.project), ("quiver-hidden", unshared.id)):
        with upstack.run(name, home=ws.home, db=ws.db_url, capture="none", under=node) as run:
            run.log({"loss": 0.5}, step=0)
        made[name] = run.short
    ws.ingest()
    bob = _html_client(team, team.bob)
    page = bob.get("/runs/compare").text
    assert "quasar-shared" in page and "quiver-hidden" not in page and made["quiver-hidden"] not in page
    assert bob.get("/runs/compare", params={"id": made["quiver-hidden"]}).status_code == 404
    assert "quiver-hidden" in _html_client(team, team.ada).get("/runs/compare").text
