"""Opportunities from feeds (issue 16): feeds of several dialects read safely, posts that look like
openings proposed with a kind and a deadline, and the one fetch of a feed's address.

The opening rule is measured on tests/fixtures/feeds/labelled_items.json (211 items, 84 openings).
Its rounds were written one after another: round 0 before the rule, each later one without looking
at the rule, measured blind, and only then the rule widened. The blind figures say how the rule does
on posts it has not seen; the figures over the whole fixture (asserted below) are after tuning.

    round  items  openings proposed (blind)  other posts proposed (blind)  kind right  deadline right
    0      91     (the first rule was written on these: 35/35, 3/56, 35/35, 35/35)
    1      31     5/13  (38%)                1/18  (6%)                    11/13       11/13
    2      29     3/12  (25%)                1/17  (6%)                    8/12        10/12
    3      30     7/12  (58%)                3/18  (17%)                   10/12       11/12
    4      30     9/12  (75%)                2/18  (11%)                   12/12       11/12

Rounds 1-3 found the rule too narrow (phrases where postings are terse: "Research Scientist,
Societal Impacts"); by round 4 the misses are postings with almost no words of their own. Over the
whole fixture after tuning: openings 83/84 proposed, other posts 2/127, kinds 82/84, deadlines 83/84.
"""

from __future__ import annotations

import html
import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from upstack.domain.html import ATTRIBUTES, TAGS
from upstack.domain.openings import (
    DEFAULT_RULE,
    HTML_LIMIT,
    KINDS,
    MAX_POSTINGS,
    TEXT_LIMIT,
    OpeningRule,
    Posting,
    opening_score,
    parse_feed,
    proposed_deadline,
    proposed_kind,
    sanitise,
)
from upstack.errors import BadInput
from upstack.services.fetch import MAX_REDIRECTS, USER_AGENT, fetch

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
XSS = Path(__file__).parent / "fixtures" / "xss_payloads.txt"


def _feed(name: str, url: str = "") -> list[Posting]:
    return list(parse_feed((FEEDS / name).read_bytes(), url=url).postings)


class _Tags(HTMLParser):
    """Every tag and attribute of an HTML fragment, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, {name: value or "" for name, value in attrs}))


def _assert_safe(fragment: str) -> list[tuple[str, dict[str, str]]]:
    """Only allowed tags and attributes, every link absolute http(s) or mailto."""
    parser = _Tags()
    parser.feed(fragment)
    for tag, attributes in parser.seen:
        assert tag in TAGS, (tag, fragment)
        assert set(attributes) <= ATTRIBUTES.get(tag, frozenset()) | {"rel"}, (tag, attributes)
        for name in ("href", "src"):
            if name in attributes:
                assert attributes[name].startswith(("https://", "http://", "mailto:")), attributes
    return parser.seen


# -- reading feeds ------------------------------------------------------------------------------

def test_an_rss_feed_as_lesswrong_and_the_alignment_forum_write_it() -> None:
    feed = parse_feed((FEEDS / "lesswrong.xml").read_bytes())
    assert (feed.title, feed.link) == ("Lesser Wrong - Curated and frontpage", "https://www.lesserwrong.example/")
    first, second, third = feed.postings
    assert first.title == "Meridian Interpretability is hiring research engineers"
    assert first.link == ("https://www.lesserwrong.example/posts/hK3pQ9xRmZ/"
                          "meridian-interpretability-is-hiring-research-engineers")
    assert (first.published, first.author, first.guid, first.source) == (
        "2026-11-20", "ada_lovelace", "hK3pQ9xRmZ", "Lesser Wrong - Curated and frontpage")
    assert "<strong>sparse dictionary learning</strong>" in first.summary_html
    assert "Apply by Jan 15 through our careers page." in first.text.splitlines()
    assert "<" not in first.text and "Salary £95k-£130k" in first.text
    assert first.published_date == date(2026, 11, 20)
    assert ("img", {"src": "https://res.cdn.example/lw/patching-heatmap.png", "alt": "Patching heatmap"}) in \
        _assert_safe(second.summary_html)
    assert proposed_deadline(third.text, published=third.published_date) == date(2026, 12, 20)


def test_an_rss_feed_with_escaped_html_as_the_ea_forum_writes_it() -> None:
    rfp, essay = _feed("eaforum.xml")
    assert rfp.author == "Lattice Safety Fund" and rfp.published == "2026-12-10"
    assert rfp.guid == rfp.link == "https://forum.altruism.example/posts/qWe9RtY/lattice-safety-fund-rfp"
    assert "<em>Proposals due 15 February 2027.</em>" in rfp.summary_html
    assert rfp.text.startswith("We're launching an RFP")  # &amp;#x27; decoded once, as the forum meant
    assert essay.title == "The job market for junior alignment researchers is brutal right now"


def test_an_atom_feed() -> None:
    feed = parse_feed((FEEDS / "lab_blog_atom.xml").read_bytes())
    assert (feed.title, feed.link) == ("Cairn Evals: News", "https://cairn-evals.example/news/")
    job, report = feed.postings
    assert job.title == "Senior Research Scientist, Dangerous Capability Evaluations"
    assert job.link == "https://cairn-evals.example/news/2026/senior-research-scientist"
    assert (job.published, job.author) == ("2026-12-01", "Cairn Evals hiring team")
    assert job.summary_html.startswith("<h2>The role</h2>")  # the full content, not the one-line summary
    assert "Applications close 2027-01-15." in job.text
    assert report.published == "2026-10-02"  # no <published>: the entry's <updated>
    assert report.text == "We evaluated four frontier models on 120 agentic tasks. Results and transcripts are in " \
                           "the report."


def test_relative_links_resolve_against_the_feeds_link_and_the_html_is_sanitised() -> None:
    engineer, fellowships = _feed("relative_links.xml", url="https://elsewhere.example/feed.xml")
    assert engineer.link == "https://jobs.safety.example/board/jobs/4821-research-engineer-model-organisms"
    assert fellowships.link == "https://jobs.safety.example/board/jobs/4830-visiting-fellowships"
    seen = _assert_safe(engineer.summary_html)
    links = [attributes.get("href") or attributes.get("src") for _, attributes in seen
             if {"href", "src"} & set(attributes)]
    assert links == ["https://jobs.safety.example/teams/model-organisms",
                     "https://jobs.safety.example/board/jobs/4821/apply",
                     "https://jobs.safety.example/static/logos/northlight.png", "mailto:jobs@northlight.example"]
    lowered = engineer.summary_html.lower()
    for gone in ("<script", "onerror", "onclick", "javascript:", "data:text", "<iframe", "<style", "style=",
                 "document.cookie", "display:none"):
        assert gone not in lowered, gone
    assert "document" not in engineer.text and "Closing date: 6 February 2027." in engineer.text
    assert ("a", {"href": "https://foxglove.example/visiting", "rel": "noopener noreferrer"}) in \
        _assert_safe(fellowships.summary_html)


def test_without_a_link_of_its_own_a_feed_resolves_against_its_address() -> None:
    data = (b'<rss version="2.0"><channel><title>Board</title><item><title>Job</title><link>jobs/1</link>'
            b'<description>&lt;a href="../about"&gt;About&lt;/a&gt;</description></item></channel></rss>')
    feed = parse_feed(data, url="https://board.example/feeds/all.xml")
    assert feed.link == "https://board.example/feeds/all.xml"
    assert feed.postings[0].link == "https://board.example/feeds/jobs/1"
    assert 'href="https://board.example/about"' in feed.postings[0].summary_html
    # With no address either, a relative link cannot be made absolute: it is dropped, not kept relative.
    alone = parse_feed(data).postings[0]
    assert alone.link == "" and "href" not in alone.summary_html and alone.text == "About"


@pytest.mark.parametrize("payload", [line for line in XSS.read_text(encoding="utf-8").splitlines() if line.strip()])
def test_hostile_html_in_a_description_is_made_harmless(payload: str) -> None:
    _assert_safe(sanitise(payload, "https://feed.example/"))


def test_a_malformed_feed_that_still_has_posts_is_read() -> None:
    """Undefined entities (&nbsp; &mdash;), a bare &, an item cut off at the end: feedparser calls it
    bozo and its lenient parser reads what is there, which is what a person wants from a sloppy feed."""
    feed = parse_feed((FEEDS / "malformed.xml").read_bytes())
    assert feed.title == "Alignment Notes — a hand-rolled feed"
    grants, cut_off = feed.postings
    assert grants.title == "Small grants for independent researchers & students"
    assert grants.text == ("We fund independent researchers for three to twelve months — salary, compute & travel. "
                           "Applications are reviewed on a rolling basis.")
    assert cut_off.title == "Steering vectors fail out of distribution" and cut_off.link.endswith("/steering-ood")


@pytest.mark.parametrize(("data", "said"), [
    ((FEEDS / "not_a_feed.html").read_bytes(), "it is an HTML page"),
    ((FEEDS / "truncated.xml").read_bytes(), "the XML reader says 'unclosed token'"),
    (b"", "it is empty"),
    (b"  \n ", "it is empty"),
    (b'{"items": [{"title": "Research engineer"}]}', "it is JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "it is binary data"),
    (b"Research engineer, apply by Jan 15", "the XML reader says 'syntax error'"),
])
def test_what_is_not_a_feed_is_refused_saying_what_it_is(data: bytes, said: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_feed(data, url="https://board.example/jobs")
    assert str(caught.value).startswith(f"https://board.example/jobs is not an RSS or Atom feed: {said}")


def test_bytes_naming_a_file_are_data_not_a_file_to_read(tmp_path: Path) -> None:
    """feedparser opens a string that names a file: a fetched body saying "/home/me/secret.xml" must not."""
    secret = tmp_path / "secret.xml"
    secret.write_bytes((FEEDS / "lesswrong.xml").read_bytes())
    with pytest.raises(BadInput, match="is not an RSS or Atom feed"):
        parse_feed(str(secret).encode())


def test_a_feed_is_read_within_its_caps() -> None:
    item = "<item><title>{n} " + "t" * 400 + "</title><link>https://x.example/{n}</link>{description}</item>"
    long = "<description>&lt;p&gt;" + "R&amp;amp;D " * (HTML_LIMIT // 4) + "&lt;/p&gt;</description>"
    data = ('<rss version="2.0"><channel><title>Big</title><link>https://x.example/</link>'
            + "".join(item.format(n=n, description=long if n < 2 else "") for n in range(MAX_POSTINGS + 5))
            + "</channel></rss>").encode()
    postings = parse_feed(data).postings
    assert len(postings) == MAX_POSTINGS
    assert all(len(p.title) <= 200 and len(p.text) <= TEXT_LIMIT and len(p.summary_html) <= HTML_LIMIT + 10
               for p in postings)
    assert postings[0].summary_html.startswith("<p>R&amp;D R&amp;D") and postings[0].summary_html.endswith("</p>")


def test_a_feed_cannot_read_local_files_or_expand_entities_without_bound(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    external = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]><rss version="2.0">'
                '<channel><title>T&x;</title><item><title>i&x;</title><link>https://a.example/</link></item>'
                '</channel></rss>')
    feed = parse_feed(external.encode())
    assert "TOP-SECRET" not in repr(feed) and feed.postings[0].title.startswith("i")
    laughs = "".join(f'<!ENTITY l{i} "' + (f"&l{i - 1};" if i else "lol") * 10 + '">' for i in range(9))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE rss [{laughs}]><rss version="2.0"><channel><title>&l8;</title>'
            '<item><title>x</title><link>https://a.example/</link></item></channel></rss>')
    assert len(repr(parse_feed(bomb.encode()))) < 1000  # 10^9 "lol"s, never made


# -- which posts are openings --------------------------------------------------------------------

def _labelled() -> list[dict]:
    return list(json.loads((FEEDS / "labelled_items.json").read_text(encoding="utf-8"))["items"])


def test_the_labelled_fixture_is_what_it_says() -> None:
    items = _labelled()
    openings = [i for i in items if i["opening"]]
    assert len(items) >= 80 and 0.35 <= len(openings) / len(items) <= 0.45
    assert {i["kind"] for i in openings} == set(KINDS)
    assert len({i["title"] for i in items}) == len(items)


def test_openings_are_proposed_and_other_posts_mostly_not() -> None:
    """At least 80% of the openings proposed, at most 20% of the other posts (over all rounds; the
    blind figures of each round are in this module's docstring)."""
    items = _labelled()
    openings = [i for i in items if i["opening"]]
    others = [i for i in items if not i["opening"]]
    proposed = sum(opening_score(i["title"], i["summary"])[0] for i in openings)
    false_alarms = sum(opening_score(i["title"], i["summary"])[0] for i in others)
    recall, false_rate = proposed / len(openings), false_alarms / len(others)
    print(f"\nopenings proposed {proposed}/{len(openings)} ({recall:.0%}), "
          f"other posts proposed {false_alarms}/{len(others)} ({false_rate:.0%})")
    assert recall >= 0.80, recall
    assert false_rate <= 0.20, false_rate


def test_on_posts_it_was_never_tuned_on_the_rule_holds_the_same_bars() -> None:
    """tests/fixtures/feeds/heldout_items.json: 60 posts written by someone who had not seen the rule
    or the items above, measured once the rule was final (23/24 openings, 1/36 other posts)."""
    held_out = json.loads((FEEDS / "heldout_items.json").read_text(encoding="utf-8"))["items"]
    text = [(i["title"], html.unescape(re.sub(r"<[^>]+>", " ", i["summary"])), i["opening"]) for i in held_out]
    openings = [opening_score(t, s)[0] for t, s, is_one in text if is_one]
    others = [opening_score(t, s)[0] for t, s, is_one in text if not is_one]
    print(f"\nheld out: openings proposed {sum(openings)}/{len(openings)}, other posts {sum(others)}/{len(others)}")
    assert sum(openings) / len(openings) >= 0.80 and sum(others) / len(others) <= 0.20


@pytest.mark.parametrize(("title", "text"), [
    ("Activation patching in a toy model", "We apply activation patching to a small transformer and find two heads."),
    ("Grant that the model is deceptive: then what?", "Suppose we grant that a model is deceptive. I argue we "
     "should plan the response now."),
    ("A programme of research on ELK", "This post sets out a programme of research on eliciting latent knowledge "
     "and the experiments I'd run first."),
    ("The deadline framing of AI timelines", "People talk as if alignment has a deadline: 2030. I think timelines "
     "as a deadline distort priorities."),
    ("We're not hiring this year", "People ask whether we're hiring. We're not; here's why."),
])
def test_research_posts_using_the_words_of_openings_are_not_proposed(title: str, text: str) -> None:
    opening, cues = opening_score(title, text)
    assert not opening, cues


def test_the_cues_found_explain_the_answer() -> None:
    opening, cues = opening_score("Meridian is hiring research engineers", "Apply by Jan 15. Salary £95k.")
    assert opening and set(cues[:2]) == {"is hiring", "hiring"} and {"apply by", "(a deadline)"} <= set(cues)
    _, against = opening_score("Notes", "We apply activation patching.")
    assert "-we apply" in against


def test_the_rule_is_data_a_setting_replaces() -> None:
    title, text = "Compute vouchers for SAE research", "Vouchers of 500 GPU-hours, first come first served."
    assert not opening_score(title, text)[0]
    rule = OpeningRule.from_setting({"cues": {"voucher*": 3, "first come": 2}, "threshold": 5})
    assert opening_score(title, text, rule) == (True, ["voucher*", "first come"])
    assert not opening_score("Meridian is hiring research engineers", "Apply by Jan 15.", rule)[0]
    widened = OpeningRule.from_setting({"cues": {**DEFAULT_RULE.cues, "voucher*": 3}})
    assert opening_score(title, text, widened)[0] and widened.threshold == DEFAULT_RULE.threshold
    changed = dict(widened.cues)
    changed["voucher*"] = -10  # the rule keeps its own copy
    assert opening_score(title, text, widened)[0]


@pytest.mark.parametrize(("setting", "said"), [
    ({}, "'cues' must map phrases to weights"),
    ({"cues": ["hiring"]}, "'cues' must map phrases to weights"),
    ({"cues": {"!!": 1}}, "cue '!!' has no words"),
    ({"cues": {"hiring": "lots"}}, "the weight of 'hiring' must be a number, not 'lots'"),
    ({"cues": {"hiring": True}}, "the weight of 'hiring' must be a number, not True"),
    ({"cues": {"hiring": 1}, "threshold": "high"}, "threshold must be a number, not 'high'"),
])
def test_a_bad_rule_setting_is_refused_in_one_line(setting: dict, said: str) -> None:
    with pytest.raises(BadInput) as caught:
        OpeningRule.from_setting(setting, where="UPSTACK_OPENING_RULE")
    assert str(caught.value) == f"UPSTACK_OPENING_RULE: {said}"


def test_kinds_are_proposed_for_the_labelled_openings() -> None:
    openings = [i for i in _labelled() if i["opening"]]
    wrong = [(i["title"], proposed_kind(i["title"], i["summary"]), i["kind"]) for i in openings
             if proposed_kind(i["title"], i["summary"]) != i["kind"]]
    accuracy = 1 - len(wrong) / len(openings)
    print(f"\nkinds right {len(openings) - len(wrong)}/{len(openings)} ({accuracy:.0%}); wrong: {wrong}")
    assert accuracy >= 0.90, wrong


def test_deadlines_are_proposed_for_the_labelled_openings() -> None:
    openings = [i for i in _labelled() if i["opening"]]
    wrong = []
    for item in openings:
        found = proposed_deadline(item["title"] + "\n" + item["summary"],
                                  published=date.fromisoformat(item["published"]))
        if (found.isoformat() if found else None) != item["deadline"]:
            wrong.append((item["title"], found, item["deadline"]))
    print(f"\ndeadlines right {len(openings) - len(wrong)}/{len(openings)}; wrong: {wrong}")
    assert len(wrong) / len(openings) <= 0.05, wrong


# -- deadlines as posts state them ----------------------------------------------------------------

NOV_2026 = date(2026, 11, 20)


@pytest.mark.parametrize(("text", "published", "expected"), [
    ("Apply by Jan 15.", NOV_2026, date(2027, 1, 15)),
    ("apply by Jan 15", date(2026, 1, 2), date(2026, 1, 15)),
    ("Deadline: December 20, 2026.", NOV_2026, date(2026, 12, 20)),
    ("Deadline: Dec. 20, 2026", NOV_2026, date(2026, 12, 20)),
    ("Applications close 2027-01-15.", NOV_2026, date(2027, 1, 15)),
    ("Proposals are due 15 January.", NOV_2026, date(2027, 1, 15)),
    ("Applications are due by the end of March 31st.", NOV_2026, date(2027, 3, 31)),
    ("Apply by the end of March.", NOV_2026, date(2027, 3, 31)),
    ("Apply by the end of February 2028.", NOV_2026, date(2028, 2, 29)),
    ("Applications are reviewed on a rolling basis.", NOV_2026, None),
    ("Rolling admissions; apply any time.", NOV_2026, None),
    ("Submissions must be received no later than 28 February 2027.", NOV_2026, date(2027, 2, 28)),
    ("Closing date: 6th of February 2027", NOV_2026, date(2027, 2, 6)),
    ("Application deadline Sunday, 14 December", NOV_2026, date(2026, 12, 14)),
    ("Apply by Friday, October 3.", date(2026, 8, 20), date(2026, 10, 3)),
    ("March 1 is the deadline.", NOV_2026, date(2027, 3, 1)),
    ("Send your CV to jobs@lab.example by 12 November.", date(2026, 10, 28), date(2026, 11, 12)),
    ("Apply by 15/01/2027.", NOV_2026, date(2027, 1, 15)),
    ("Apply by 01/15/2027.", NOV_2026, date(2027, 1, 15)),
    ("Apply by 03/04/2027.", NOV_2026, None),  # 3 April or March 4: not guessed
    ("Review of applications begins 1 December 2026.", date(2026, 10, 10), date(2026, 12, 1)),
    ("Applications accepted through March 20.", date(2027, 2, 1), date(2027, 3, 20)),
    ("The form shuts at midnight on Sunday 7 December.", date(2026, 12, 1), date(2026, 12, 7)),
    ("Apply by Feb 29.", date(2026, 3, 1), date(2028, 2, 29)),  # the next 29 February
    ("Deadline: 31 September.", NOV_2026, None),  # no such day
    ("Apply by Dec 20.", date(2026, 12, 25), date(2027, 12, 20)),  # passed this year: next year's
    ("Deadline: Nov 20.", NOV_2026, date(2026, 11, 20)),  # on the day published
    # Dates that are not deadlines: an event's, a report's, a programme's run.
    ("The workshop takes place on December 12 and 13.", NOV_2026, None),
    ("Our last report was published on 2026-10-02.", NOV_2026, None),
    ("The fellowship starts on March 2, 2027. Deadline: December 20, 2026.", NOV_2026, date(2026, 12, 20)),
    ("The program runs June 9 to August 15. Apply by March 1.", NOV_2026, date(2027, 3, 1)),
    ("Apply by 25 October; decisions by November 5. The workshops are on December 12.", date(2026, 9, 30),
     date(2026, 10, 25)),
    ("Extended deadline: March 3 (it was February 20).", NOV_2026, date(2027, 3, 3)),
    ("Letters of intent by 30 January; invited full proposals by 15 March.", NOV_2026, date(2027, 1, 30)),
    ("Applications close Nov 8; the sprint runs Dec 1-5 in Edinburgh.", date(2026, 10, 15), date(2026, 11, 8)),
    ("You may apply at any time; we meet on May 5.", NOV_2026, None),
    ("Posted by Sam on March 3 after the workshop.", NOV_2026, None),  # "by" a name, not a date
    ("Applications open until 5pm GMT on Friday, 9 January.", NOV_2026, date(2027, 1, 9)),
    ("Due to demand, the workshop moves to June 5.", NOV_2026, None),
    ("Deadline: 2027-01-00", NOV_2026, None),  # no day 0
])
def test_a_deadline_is_read_as_posts_state_it(text: str, published: date, expected: date | None) -> None:
    assert proposed_deadline(text, published=published) == expected


def test_a_deadline_without_a_year_or_a_published_date_is_the_next_one_from_today() -> None:
    from datetime import UTC, datetime

    from upstack.timeutil import simulated_clock

    with simulated_clock(datetime(2026, 12, 25, 12, tzinfo=UTC)):
        assert proposed_deadline("Apply by Jan 15.") == date(2027, 1, 15)


# -- fetching a feed -------------------------------------------------------------------------------

class _Site(BaseHTTPRequestHandler):
    """A feed, and each way a fetch can go wrong, on 127.0.0.1."""

    release: threading.Event
    user_agents: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.user_agents.append(self.headers.get("User-Agent", ""))
        routes = {"/feed.xml": self._feed, "/slow": self._slow, "/big": self._big, "/big-declared": self._declared,
                  "/to-file": lambda: self._redirect("file:///etc/passwd"),
                  "/to-feed": lambda: self._redirect("/feed.xml"), "/loop": lambda: self._redirect("/loop")}
        routes.get(self.path, lambda: self.send_error(404, "Not Found"))()

    def _feed(self) -> None:
        body = (FEEDS / "lesswrong.xml").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _slow(self) -> None:
        self.release.wait()  # answers only once the test has seen its fetch give up

    def _big(self) -> None:  # no Content-Length: the cap is found by reading
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(20):
                self.wfile.write(b"<" * 1000)
        except OSError:  # the client stopped reading, as it should
            pass

    def _declared(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "6000000")
        self.end_headers()

    def _redirect(self, where: str) -> None:
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
        pass


@pytest.fixture()
def site() -> Iterator[tuple[str, type[_Site]]]:
    handler = type("Site", (_Site,), {"release": threading.Event(), "user_agents": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_feed_is_fetched_and_parsed(site: tuple[str, type[_Site]]) -> None:
    url, handler = site
    data = fetch(f"{url}/feed.xml")
    assert data == (FEEDS / "lesswrong.xml").read_bytes()
    assert handler.user_agents == [USER_AGENT] and "upstack" in USER_AGENT
    assert len(parse_feed(data, url=f"{url}/feed.xml").postings) == 3
    assert fetch(f"{url}/to-feed") == data  # a redirect within http is followed


def test_a_server_that_does_not_answer_times_out(site: tuple[str, type[_Site]]) -> None:
    url, handler = site
    with pytest.raises(BadInput) as caught:
        fetch(f"{url}/slow", timeout=0.2)
    assert str(caught.value) == f"{url}/slow did not answer within 0.2 s"
    handler.release.set()


def test_an_answer_past_the_size_cap_is_refused(site: tuple[str, type[_Site]]) -> None:
    url, _ = site
    with pytest.raises(BadInput) as caught:
        fetch(f"{url}/big", max_bytes=5_000)
    assert str(caught.value) == f"{url}/big is larger than 5 kB"
    with pytest.raises(BadInput) as caught:
        fetch(f"{url}/big-declared")
    assert str(caught.value) == f"{url}/big-declared is larger than 5 MB (6 MB)"
    assert len(fetch(f"{url}/big", max_bytes=20_000)) == 20_000  # exactly the cap is fine


def test_a_missing_page_names_its_status(site: tuple[str, type[_Site]]) -> None:
    url, _ = site
    with pytest.raises(BadInput) as caught:
        fetch(f"{url}/nothing-here")
    assert str(caught.value) == f"{url}/nothing-here answered HTTP 404 Not Found"


def test_redirects_go_to_the_web_only_and_not_for_ever(site: tuple[str, type[_Site]]) -> None:
    url, handler = site
    with pytest.raises(BadInput) as caught:
        fetch(f"{url}/to-file")
    assert str(caught.value) == f"{url}/to-file redirects to 'file:///etc/passwd': only http and https addresses " \
                                "are fetched"
    handler.user_agents.clear()
    with pytest.raises(BadInput) as caught:
        fetch(f"{url}/loop")
    assert str(caught.value) == f"{url}/loop redirects more than {MAX_REDIRECTS} times (or in a loop)"
    assert len(handler.user_agents) <= MAX_REDIRECTS + 1


@pytest.mark.parametrize("address", ["file:///etc/passwd", "ftp://ftp.example/feed.xml", "data:text/xml,<rss/>",
                                     "javascript:alert(1)", "/etc/passwd", "lesswrong.com/feed.xml", ""])
def test_only_web_addresses_are_fetched(address: str) -> None:
    with pytest.raises(BadInput) as caught:
        fetch(address)
    assert str(caught.value) == f"{address!r} is not a web address: only http:// and https:// addresses are fetched"


def test_a_network_error_is_one_line() -> None:
    with socket.socket() as taken:  # bound, never listening: a connection to it is refused
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(BadInput) as caught:
            fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert str(caught.value) == f"could not fetch http://127.0.0.1:{port}/feed.xml: [Errno 111] Connection refused"
    with pytest.raises(BadInput, match="names no host"):
        fetch("http:///feed.xml")
