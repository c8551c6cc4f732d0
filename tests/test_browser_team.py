"""The team server in a real browser (Debian's Chromium): a mentee invites a mentor and shares a project.

The issue's "done means": a mentor who is sent an invitation can sign in, see the
shared project's tree, read the week's review with its plots, and leave a comment,
while the mentee's private notes (and unshared projects) stay private. Each person
has their own browser context, so their cookies never mix. Everything the mentor
must not see carries a marker word, and the mentee's own pages are checked to show
those words, so a page that shows nothing cannot pass for a page that hides well.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

import upstack
from browser import (  # noqa: F401 - the fixtures register under their short names
    TIMEOUT_MS,
    PageProblems,
    open_page,
    page_fixture,
    page_problems_fixture,
)
from upstack.services import accounts, capture, tree
from upstack.workspace import Workspace
from webserver import Server, serve

PRIVATE_MARKER = "quincunx"  # only in the mentee's private note
UNSHARED_MARKER = "zeppelin"  # only in a note under the project that is not shared
UNSHARED_PROJECT = "Deception probes"
SHARED_NOTE = "Name movers copy the IO token."
PASSWORD = "correct horse battery"


@dataclass
class Team:
    server: Server
    ws: Workspace
    invite: str  # the mentee's invitation secret (the first account: admin, owns the log)
    project: str  # short ids
    shared: str
    private: str
    unshared: str
    unshared_project: str  # its full id
    run: str

    def url(self, path: str) -> str:
        return self.server.url + path


def _figure() -> object:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.bar(["9.6", "9.9", "10.0"], [-0.6, -0.4, -0.1], color="tab:red")
    axes.set_title("Logit difference after patching")
    return figure


@pytest.fixture(name="team")
def team_fixture(workspace: Workspace) -> Iterator[Team]:
    """The mentee's log, made through the services: a project with a run and its plot, a shared
    note, a private note under the same project, and a second project shared with nobody."""
    ws = workspace
    _, invite = accounts.add_user(ws, "mentee", name="Mia Mentee")
    agenda = tree.add_node(ws, "agenda", "Understand IOI circuits", why="Circuits we can audit.")
    project = tree.add_node(ws, "project", "IOI replication", under=agenda.id,
                            why="Reproduce Wang et al. before extending it.")
    experiment = tree.add_node(ws, "experiment", "Path-patch the name movers", under=project.id,
                               why="If patching them does not hurt, they are not the circuit.")
    with upstack.run("path-patching", home=ws.home, db=ws.db_url, capture="none", under=experiment.id) as run:
        for step in range(5):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
        run.figure(_figure(), "Logit difference")
    shared = capture.note(ws, f"{SHARED_NOTE} Patching 9.9 drops the logit difference by 60%.", under=project.id)
    private = capture.note(ws, f"Not sure I understand any of this, {PRIVATE_MARKER}.", under=project.id,
                           private=True)
    other = tree.add_node(ws, "project", UNSHARED_PROJECT, under=agenda.id, why="Catch lies before they ship.")
    unshared = capture.note(ws, f"Probe on layer 12 finds the {UNSHARED_MARKER} direction.", under=other.id)
    with serve(ws.home, ws.db_url, token=None) as server:
        yield Team(server, ws, invite, project.short, shared.short, private.short, unshared.short, other.id,
                   run.short)


@pytest.fixture(name="other_page")
def other_page_fixture(chromium: Browser, page_problems: PageProblems, page: Page) -> Iterator[Page]:
    """A second person's page: a separate browser context (its own cookie jar); its page errors
    fail the test like ``page``'s (this closes first, and ``page`` reports them)."""
    with open_page(chromium, page_problems) as opened:
        yield opened


def _join(page: Page, link: str, name: str) -> None:
    """Accept an invitation: set a password, and land on the timeline signed in."""
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Again").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Join").click()
    expect(page).to_have_title("Timeline · upstack")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _nav(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("banner").get_by_role("link", name=name, exact=True).click()


def _search(page: Page, word: str) -> None:
    """Type a word into the search box and wait for its results to arrive in place."""
    _nav(page, "Search")
    page.evaluate("window.typedHere = true")  # gone if the browser loads a new page
    page.get_by_role("searchbox").press_sequentially(word, delay=20)
    expect(page.locator("#results .search-summary q, #results li.result").first).to_contain_text(word)
    assert page.evaluate("window.typedHere") is True


class Watch:
    """The pages one person opened, each checked for the words they must never see."""

    def __init__(self, page: Page, hidden: tuple[str, ...]) -> None:
        self.page = page
        self.hidden = hidden
        self.seen: list[str] = []

    def check(self, *, allow_query: bool = False) -> None:
        page = self.page
        page.wait_for_load_state("load")
        html = page.content()
        if allow_query:  # the search page says what was searched for, in the box and the summary
            html = page.locator("#results .search-hits ol.results").inner_html()
        for word in self.hidden:
            assert word.casefold() not in html.casefold(), f"{word!r} shown at {page.url}"
        self.seen.append(page.url)


def test_a_mentor_is_invited_reads_the_shared_project_and_comments(team: Team, page: Page, other_page: Page,
                                                                    page_problems: PageProblems) -> None:
    page_problems.expect("status of 403")  # the mentor's forged edit
    page_problems.expect("status of 404")  # the mentor opening the private entry's address
    mentee, mentor = page, other_page

    # The mentee (the first account) joins by the invitation link, and sees all of her log.
    _join(mentee, team.url(f"/join/{team.invite}"), "Mia Mentee")
    timeline = mentee.locator("#timeline")
    for word in (PRIVATE_MARKER, UNSHARED_MARKER, SHARED_NOTE):
        expect(timeline).to_contain_text(word)
    expect(timeline.locator("li.entry", has_text=PRIVATE_MARKER).locator(".private")).to_have_text("private")
    _search(mentee, PRIVATE_MARKER)
    expect(mentee.locator("#results li.result a.title")).to_have_count(1)

    # She invites the mentor from the admin page, which shows the link once.
    _nav(mentee, "Admin")
    mentee.get_by_label("User name").fill("mentor")
    mentee.get_by_label("Full name").fill("Max Mentor")
    with mentee.expect_navigation():
        mentee.get_by_role("button", name="Invite").click()
    link = (mentee.locator("#account-link").text_content() or "").strip()
    assert re.fullmatch(re.escape(team.url("/join/")) + r"[\w-]{20,}", link), link
    expect(mentee.locator("#u-mentor")).to_contain_text("invited")

    # She shares the project with him as a commenter, from a note of hers filed under it.
    mentee.goto(team.url(f"/e/{team.shared}"))
    with mentee.expect_navigation():
        mentee.get_by_role("link", name="who can see this").click()
    expect(mentee).to_have_url(team.url(f"/tree/{team.project}/sharing"))
    expect(mentee.get_by_role("heading", level=1)).to_have_text("Who can see IOI replication")
    expect(mentee.locator("table.shares tbody")).to_contain_text("Not shared")
    form = mentee.locator("#share-form")
    form.get_by_label("User name").fill("mentor")
    form.get_by_label("Role").select_option("commenter")
    with mentee.expect_navigation():
        form.get_by_role("button", name="Share").click()
    expect(mentee.locator("table.shares tbody tr")).to_have_count(1)
    expect(mentee.locator("table.shares tbody tr td")).to_have_text(
        [re.compile(r"^mentor\b"), "commenter", "here", "Stop sharing"])

    # The mentor, in his own browser, opens the link, picks a password and is signed in.
    watch = Watch(mentor, (PRIVATE_MARKER, UNSHARED_MARKER, UNSHARED_PROJECT))
    _join(mentor, link, "Max Mentor")
    expect(mentor.get_by_role("link", name="mentor", exact=True)).to_be_visible()
    expect(mentor.get_by_role("link", name="Admin")).to_have_count(0)
    expect(mentor.locator("#timeline li.entry a.title").filter(has_text=SHARED_NOTE)).to_have_count(1)
    watch.check()

    # The shared project's tree, and not the other project.
    _nav(mentor, "Tree")
    expect(mentor.locator("ul.tree a.title")).to_contain_text(["IOI replication", "Path-patch the name movers"])
    watch.check()

    # Searching (results as he types) finds neither hidden word.
    for word in (PRIVATE_MARKER, UNSHARED_MARKER):
        _search(mentor, word)
        expect(mentor.locator("#results .search-summary")).to_contain_text("No entries match")
        expect(mentor.locator("#results li.result")).to_have_count(0)
        watch.check(allow_query=True)

    # The week's review, with the run's plot loaded from the server.
    _nav(mentor, "Review")
    section = mentor.locator("section.review-project", has_text="IOI replication")
    expect(section.get_by_role("heading", level=2)).to_have_text("IOI replication")
    plot = section.locator("figure img").first
    expect(plot).to_have_attribute("alt", "logit-difference.png")
    plot.scroll_into_view_if_needed()  # it loads lazily
    mentor.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    width, height = plot.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert width > 200 and height > 200, (width, height)  # the 4x3 in plot, drawn (cropped to its ink)
    watch.check()

    # From the review to the shared note: he comments, and may do nothing more.
    with mentor.expect_navigation():
        section.get_by_role("link", name=SHARED_NOTE).click()
    expect(mentor).to_have_url(team.url(f"/e/{team.shared}"))
    expect(mentor.locator("details.edit")).to_have_count(0)
    expect(mentor.locator("form.attach")).to_have_count(0)
    comment = "Did you check 9.9 with the corrupted run as well? The drop could be the baseline."
    mentor.get_by_label("Comment").fill(comment)
    with mentor.expect_navigation():
        mentor.locator(".comment-form").get_by_role("button", name="Comment").click()
    expect(mentor).to_have_url(team.url(f"/e/{team.shared}#comments"))
    expect(mentor.locator("#comments li .comment-body")).to_have_text([comment])
    expect(mentor.locator("#comments li .who")).to_have_text(["Max Mentor"])
    watch.check()

    # A forged edit with a valid CSRF token is refused for want of the role, and changes nothing.
    csrf = mentor.locator('.comment-form input[name="csrf"]').input_value()
    refused = mentor.request.post(team.url(f"/e/{team.shared}/edit"), form={"csrf": csrf, "text": "Vandalised."})
    assert refused.status == 403, refused.text()
    assert "not change it" in refused.text() and "CSRF" not in refused.text()
    mentor.reload()
    expect(mentor.get_by_role("heading", level=1)).to_have_text(SHARED_NOTE)
    expect(mentor.locator("section.revisions")).to_have_count(0)
    assert "Vandalised" not in mentor.content()

    # The private note's own address is a 404 page, as is the unshared project's note.
    for short in (team.private, team.unshared):
        response = mentor.goto(team.url(f"/e/{short}"))
        assert response is not None and response.status == 404
        watch.check()
    response = mentor.goto(team.url(f"/tree/{team.project}"))
    assert response is not None and response.ok
    watch.check()
    assert len(watch.seen) == 9, watch.seen

    # Back in the mentee's browser: the comment is waiting for her.
    mentee.goto(team.url("/"))
    expect(mentee.locator("#unread")).to_have_text("1")
    with mentee.expect_navigation():
        mentee.locator("#notifications-link").click()
    notice = mentee.locator("ol.notifications li")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("mentor commented on")
    expect(notice.locator("blockquote")).to_have_text(comment)
    with mentee.expect_navigation():
        notice.get_by_role("link", name=SHARED_NOTE).click()
    expect(mentee.locator("#comments li .comment-body")).to_have_text([comment])
    expect(mentee.locator("details.edit")).to_have_count(1)  # hers to edit
    # Her private note is still hers to read.
    mentee.goto(team.url(f"/e/{team.private}"))
    expect(mentee.locator("article .body, article h1").first).to_contain_text(PRIVATE_MARKER)


def test_a_viewer_reads_but_cannot_comment_or_edit_and_signing_out_ends_the_session(
        team: Team, page: Page, page_problems: PageProblems) -> None:
    page_problems.expect("status of 403")
    _, link = accounts.add_user(team.ws, "bea", name="Bea Viewer")
    accounts.share(team.ws, team.project, "bea", "viewer", by=None)
    owner = accounts.audience_for(team.ws, accounts.find_user(team.ws, "mentee"))
    accounts.add_comment(team.ws, team.shared, "Mentor, see the plot in the review.", by=owner)

    _join(page, team.url(f"/join/{link}"), "Bea Viewer")
    with page.expect_navigation():
        page.locator("#timeline a.title", has_text=SHARED_NOTE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SHARED_NOTE)
    expect(page.locator("#comments li .comment-body")).to_have_text(["Mentor, see the plot in the review."])
    expect(page.locator(".comment-form")).to_have_count(0)
    expect(page.locator("details.edit")).to_have_count(0)
    expect(page.locator("form.attach")).to_have_count(0)

    csrf = page.locator('header form[action="/logout"] input[name="csrf"]').input_value()
    for path, form in ((f"/e/{team.shared}/comments", {"csrf": csrf, "body": "Nice."}),
                       (f"/e/{team.shared}/edit", {"csrf": csrf, "text": "Vandalised."})):
        refused = page.request.post(team.url(path), form=form)
        assert refused.status == 403, (path, refused.status, refused.text())
        assert "CSRF" not in refused.text()
    page.reload()
    expect(page.locator("#comments li")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text(SHARED_NOTE)

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(team.url("/login"))
    for path in ("/", f"/e/{team.shared}"):
        page.goto(team.url(path))
        expect(page).to_have_url(re.compile(re.escape(team.url("/login?next=")) + ".+"))
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        assert SHARED_NOTE not in page.content()


def test_an_idea_pruned_in_an_unshared_project_stays_out_of_a_viewers_review(team: Team, page: Page) -> None:
    from upstack.services import ideas, review

    idea = ideas.capture_idea(team.ws, f"Steer with {UNSHARED_MARKER} features.")
    ideas.set_state(team.ws, idea.id, "pruned", "Already published by others.", node_id=team.unshared_project)
    everything = review.to_markdown(review.build_review(team.ws))  # the owner's own digest has it
    assert f"Steer with {UNSHARED_MARKER} features, pruned: Already published by others." in everything
    _, link = accounts.add_user(team.ws, "bea", name="Bea Viewer")
    accounts.share(team.ws, team.project, "bea", "viewer", by=None)

    _join(page, team.url(f"/join/{link}"), "Bea Viewer")
    _nav(page, "Review")
    expect(page.locator("section.review-project h2")).to_contain_text(["IOI replication"])
    assert UNSHARED_MARKER not in page.content()


def test_hostile_comments_run_no_script_in_the_browser(team: Team, page: Page) -> None:
    """The script-injection corpus as comments (and so in notifications): no dialog, no script,
    on the entry page, the notifications page and the timeline's unread badge."""
    from hostile import PAYLOADS

    _, link = accounts.add_user(team.ws, "mallory", name="<img src=x onerror=alert(1)>")
    accounts.share(team.ws, team.project, "mallory", "commenter", by=None)
    mallory = accounts.audience_for(team.ws, accounts.find_user(team.ws, "mallory"))
    for payload in PAYLOADS:
        accounts.add_comment(team.ws, team.shared, f"{payload}\n\nBody: {payload}", by=mallory)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    _join(page, team.url(f"/join/{team.invite}"), "Mia Mentee")  # the author, whom the comments notify
    for path in ("/", f"/e/{team.shared}", "/notifications"):
        page.goto(team.url(path))
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__xss") == "undefined", path
    expect(page.locator("main blockquote").first).to_contain_text("Body:")  # the comments are there, as text
    page.goto(team.url(f"/e/{team.shared}"))
    expect(page.locator("#comments li")).to_have_count(len(PAYLOADS))
    expect(page.locator("#comments li .comment-body").first).to_contain_text("<script>")
    assert dialogs == []
