"""The web app's look, asserted in Chromium from the DOM: on a phone no page scrolls sideways; the
dark theme follows the system; axe-core finds no WCAG AA colour-contrast failure in either theme;
body text is at least 16 px and no line runs past about 80 characters; math is drawn by the
vendored KaTeX (and reads as TeX without JavaScript). The pages are the demo's three weeks
(`upstack demo`, its path to a research job included) plus an entry with math, a table and code.

Screenshots of the main pages in both themes are saved for a person to look at: in pytest's
temporary folder, or in the folder ``UPSTACK_SCREENSHOTS`` names (``docs/screenshots`` keeps the
ones committed: see its README).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from browser import PageProblems, open_page, page_problems_fixture  # noqa: F401 - registers `page_problems`
from upstack.services import capture
from upstack.services import runs as runs_service
from upstack.services.demo import build_demo
from upstack.workspace import Workspace
from webserver import Server, serve

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
WIDE = {"width": 1600, "height": 900}
THEMES = ("light", "dark")
MATH_NOTE = r"""Logit difference falls with each name mover ablated. #ioi #maths

The logit difference is $\Delta = \ell_{IO} - \ell_{S}$, averaged over $N = 500$ prompts. With $k$ name-mover
heads ablated it falls about exponentially, and the fit below holds up to the last head we tried:

$$
\Delta(k) = \Delta_0 \, e^{-k/\tau} + \epsilon, \qquad \tau \approx 2.3
$$

| heads ablated | logit diff | drop |
|---|--:|--:|
| none | 3.56 | 0% |
| 9.6, 9.9 | 1.21 | 66% |
| 9.6, 9.9, 10.0 | 0.48 | 87% |

```python
def logit_diff(logits, io, s):
    return (logits[:, -1, io] - logits[:, -1, s]).mean()
```

> The drop is steeper than linear: the name movers back each other up, until they cannot.
"""


def _links(ws: Workspace) -> str:
    """A paragraph of [[wikilinks]]: to an entry of the demo, and to one never written (shown broken)."""
    from upstack.services import recall

    other = recall.timeline(ws, limit=1)[0]
    return f"\nSee [[{other.title}]], and [[the patching sweep we never wrote up]].\n"


def _figure(path: Path) -> Path:
    """The figure a researcher attaches: logit difference against heads ablated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3), dpi=100)
    axes.plot([0, 2, 3], [3.56, 1.21, 0.48], marker="o")
    axes.set_xlabel("name-mover heads ablated")
    axes.set_ylabel("logit difference")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _search(ws: Workspace) -> dict[str, str]:
    """A search for a research job under way (issue 16): opportunities, applications across stages, a
    contact with an exchange; the pages' addresses."""
    from datetime import timedelta

    from upstack.services import applications, contacts, opportunities
    from upstack.timeutil import today_local

    def day(days: int) -> str:
        return (today_local() + timedelta(days=days)).isoformat()

    found = [opportunities.add(ws, organisation=org, role=role, kind=kind, deadline=day(due), source=source,
                               areas="interpretability, evals", link=f"https://jobs.example/{n}").opportunity.slug
             for n, (org, role, kind, due, source) in enumerate([
                 ("Redwood Research", "Research Engineer, Control", "job", 20, "80,000 Hours"),
                 ("MATS", "Winter Scholar", "fellowship", 9, "LessWrong"),
                 ("Long-Term Future Fund", "Independent research grant", "grant", -1, "EA Forum"),
                 ("Apollo Research", "Evals Research Scientist", "job", 30, "80,000 Hours")])]
    opportunities.keep_posting(ws, found[0], text="We are hiring.", html="<p>We are hiring research engineers "
                               "to work on <strong>AI control</strong>. <a href='/apply'>Apply here</a>.</p>",
                               url="https://jobs.example/0")
    applications.add(ws, found[0], stage="applied", when=day(-30), stretch="reach")
    applications.move(ws, found[0], "interview", when=day(-12), on=day(3))
    applications.add(ws, found[1], stage="applied", when=day(-20), stretch="fit")
    applications.move(ws, found[1], "rejected", when=day(-6), learned="The work test wanted a cleaner baseline.")
    applications.add(ws, found[3], stretch="reach")
    applications.follow_up(ws, found[3], day(-2))
    person = contacts.add(ws, "Chris Example", organisation="Redwood Research",
                          interests="AI control evaluations and red-teaming of monitoring protocols.",
                          links=["https://chris.example"])
    contacts.log_exchange(ws, person.slug, "sent", "I reproduced your monitoring result on a smaller model.",
                          title="Your trusted-monitoring post", follow_up=day(10))
    return {"opportunities": "/opportunities", "opportunity": f"/opportunities/{found[0]}", "pipeline": "/pipeline",
            "funnel": "/pipeline/funnel", "application": f"/applications/{found[0]}", "contacts": "/contacts",
            "contact": f"/contacts/{person.slug}", "due": "/due"}


def _check_ins(ws: Workspace) -> None:
    """Seven weeks of check-ins, a few missed, the last week sliding: the pace page's table, charts and notice."""
    from datetime import timedelta

    from upstack.services import wellbeing
    from upstack.timeutil import today_local

    for back in range(50, 0, -1):
        if back % 6 == 0:
            continue
        slid = back <= 7
        day = today_local() - timedelta(days=back)
        wellbeing.check_in(ws, day=day, sleep_hours=5.6 if slid else 7.3 + back % 3 / 4,
                           energy=1 if slid else 2, mood=2, hours_worked=10 if slid else 8,
                           sign_scores={"snacking": 2 if slid else back % 2}, note="Long day." if slid else "")


class Site:
    """The demo served, and the addresses of its main pages."""

    def __init__(self, server: Server, pages: dict[str, str]) -> None:
        self.server = server
        self.pages = pages


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("design") / "home"
    with Workspace(home=home) as ws:
        build_demo(ws)
        maths = capture.note(ws, MATH_NOTE + _links(ws), attach=[_figure(home.parent / "ablation.png")])
        run = runs_service.list_runs(ws)[0]
        search = _search(ws)
        _check_ins(ws)
    with serve(home, None) as server:
        yield Site(server, {"timeline": "/", "entry": f"/e/{maths.short}", "tree": "/tree", "runs": "/runs",
                            "run": f"/runs/{run.short}", "search": "/search?q=heads", "ideas": "/ideas",
                            "ladder": "/ladder", "practice": "/practice", "portfolio": "/portfolio",
                            "pace": "/pace", **search})


@contextmanager
def _open(chromium: Browser, page_problems: PageProblems, site: Site, **options: object) -> Iterator[Page]:
    """A signed-in page in a fresh context with ``options``; its script errors fail the test."""
    with open_page(chromium, page_problems, **options) as page:
        page.set_default_timeout(20_000)  # a page with charts on two busy cores
        page.goto(f"{site.server.url}/?token={site.server.token}")  # the session cookie
        yield page
    problems = page_problems.unexpected()
    assert not problems, "the page reported errors:\n" + "\n".join(problems)


def _visit(page: Page, site: Site, name: str) -> None:
    """Open a main page and wait until it has all it shows (charts, math, search counts)."""
    page.goto(site.server.url + site.pages[name])
    if name == "search":
        expect(page.locator("aside.facets h2").first).to_be_visible()
    if name == "run":
        expect(page.locator("#charts")).to_have_attribute("data-drawn", "true")
    if name == "practice":
        expect(page.locator("#bar-chart")).to_have_attribute("data-drawn", "true")
    if name == "pace":
        expect(page.locator("#pace-charts")).to_have_attribute("data-drawn", "true")
    if name == "entry":
        expect(page.locator("html")).to_have_attribute("data-math", "rendered")


# -- a phone ---------------------------------------------------------------------------------

def test_no_main_page_scrolls_sideways_on_a_phone(chromium: Browser, page_problems: PageProblems,
                                                   site: Site) -> None:
    with _open(chromium, page_problems, site, viewport=PHONE) as page:
        wide = {}
        for name in [*site.pages, "switch"]:
            if name == "switch":
                page.goto(site.server.url + "/switch?q=ioi")
            else:
                _visit(page, site, name)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                wide[name] = overflow
        assert not wide, f"pages wider than a 375 px phone (by px): {wide}"


# -- dark mode ---------------------------------------------------------------------------------

_LUMINANCE = """(colour) => {
  const [r, g, b] = colour.match(/[\\d.]+/g).slice(0, 3).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}"""


@pytest.mark.parametrize("theme", THEMES)
def test_the_theme_follows_the_system(chromium: Browser, page_problems: PageProblems, site: Site,
                                      theme: str) -> None:
    with _open(chromium, page_problems, site, viewport=DESKTOP, color_scheme=theme) as page:
        for name in site.pages:
            _visit(page, site, name)
            background, text = page.evaluate(
                "() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]")
            light_bg = page.evaluate(_LUMINANCE, background)
            light_text = page.evaluate(_LUMINANCE, text)
            if theme == "dark":
                assert light_bg < 0.02 and light_text > 0.6, (name, background, text)
            else:
                assert light_bg > 0.9 and light_text < 0.05, (name, background, text)
            # The controls follow too: a text field is drawn on the page's own colours.
            field = page.locator("main input:not([type=hidden]):not([type=checkbox]):not([type=file]), "
                                 "main textarea").first
            if field.count():
                assert page.evaluate(_LUMINANCE, field.evaluate("(e) => getComputedStyle(e).backgroundColor")) \
                    == pytest.approx(light_bg, abs=0.05), name


# -- contrast ---------------------------------------------------------------------------------

_CONTRAST_FAILURES = """async () => {
  const result = await axe.run(document, { runOnly: { type: "rule", values: ["color-contrast"] } });
  return result.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`));
}"""


@pytest.mark.parametrize("theme", THEMES)
def test_axe_finds_no_colour_contrast_failure(chromium: Browser, page_problems: PageProblems, site: Site,
                                              theme: str) -> None:
    axe = AXE.read_text(encoding="utf-8")
    failures = {}
    with _open(chromium, page_problems, site, viewport=DESKTOP, color_scheme=theme) as page:
        for name in site.pages:
            _visit(page, site, name)
            page.evaluate(axe)  # through the DevTools protocol: the page's CSP lets no such script in itself
            found = page.evaluate(_CONTRAST_FAILURES)
            if found:
                failures[name] = found
    assert not failures, f"WCAG AA contrast failures ({theme}): {failures}"


def test_axe_catches_a_contrast_failure(chromium: Browser, page_problems: PageProblems, site: Site) -> None:
    """The check above can fail: grey on white at 12 px is reported."""
    with _open(chromium, page_problems, site, viewport=DESKTOP) as page:
        _visit(page, site, "timeline")
        page.evaluate(AXE.read_text(encoding="utf-8"))
        page.evaluate("""() => { const p = document.createElement("p"); p.textContent = "Hard to read.";
                                 p.id = "faint"; p.style.color = "#bbbbbb"; p.style.fontSize = "12px";
                                 document.querySelector("main").prepend(p); }""")
        found = page.evaluate(_CONTRAST_FAILURES)
        assert [f.split(":")[0] for f in found] == ["#faint"]


# -- type: size and line length ------------------------------------------------------------------

# Body text: every text node of <main> with a sentence in it (40 characters or more), and its font
# size. Not body text: code and tables (figures, in their own face), drawn math, navigation (the
# why-chain's crumbs), labels (a project, a kind, a status, a tag, a time, an id, a count) and the
# small print under a chart or beside its controls.
_SMALL_SENTENCES = """() => {
  const skip = "pre, code, table, .katex, .uplot, select, option, textarea, nav, .project, .kind, .status, "
    + ".tag, time, .short, .count, .counts, .hint, figcaption, .chart-note, .chart-status";
  const found = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    const parent = node.parentElement;
    if (text.length < 40 || parent.closest(skip) || !parent.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(parent).fontSize);
    if (size < 16) found.push(`${size}px: ${text.slice(0, 60)}`);
  }
  return found;
}"""

# The longest line of text in <main>, in characters: each character is placed (a Range), and those
# on the same line of the same block counted. Code, tables and drawn math are left out.
_LONGEST_LINE = """() => {
  const main = document.querySelector("main");
  const skip = "pre, code, table, .katex, .uplot, select, option, textarea";
  const blockOf = (element) => {
    for (let e = element; e && e !== main; e = e.parentElement) {
      const display = getComputedStyle(e).display;
      const parentDisplay = e.parentElement ? getComputedStyle(e.parentElement).display : "";
      if (!display.startsWith("inline") || /flex|grid/.test(parentDisplay)) return e;
    }
    return main;
  };
  const blocks = new Map();
  const lines = new Map();
  const range = document.createRange();
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || parent.closest(skip)) continue;
    const block = blockOf(parent);
    if (!blocks.has(block)) blocks.set(block, blocks.size);
    const text = node.textContent;
    for (let i = 0; i < text.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      if (box.width === 0) continue;  // collapsed white space
      const key = `${blocks.get(block)}:${Math.round((box.top + box.bottom) / 2 / 10)}`;
      const line = lines.get(key) || { count: 0, text: "" };
      line.count += 1;
      line.text += text[i];
      lines.set(key, line);
    }
  }
  let longest = { count: 0, text: "" };
  for (const line of lines.values()) if (line.count > longest.count) longest = line;
  return longest;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, WIDE], ids=["1280px", "1600px"])
def test_body_text_is_16px_and_lines_stay_under_80_characters(chromium: Browser, page_problems: PageProblems,
                                                              site: Site, viewport: dict[str, int]) -> None:
    with _open(chromium, page_problems, site, viewport=viewport) as page:
        for name in site.pages:
            _visit(page, site, name)
            assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16, name
            assert page.evaluate(_SMALL_SENTENCES) == [], name
            longest = page.evaluate(_LONGEST_LINE)
            assert longest["count"] <= 80, f"{name}: a line of {longest['count']} characters: {longest['text']!r}"


# -- math --------------------------------------------------------------------------------------

def test_math_is_drawn_by_the_vendored_katex_from_this_server_only(chromium: Browser, page_problems: PageProblems,
                                                                    site: Site) -> None:
    with _open(chromium, page_problems, site, viewport=DESKTOP) as page:
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        _visit(page, site, "entry")
        expect(page.locator(".markdown .math.rendered")).to_have_count(4)
        display = page.locator(".markdown .math.display .katex-display")
        expect(display).to_have_count(1)
        expect(display.locator("annotation")).to_have_text("\\Delta(k) = \\Delta_0 \\, e^{-k/\\tau} + \\epsilon, "
                                                           "\\qquad \\tau \\approx 2.3")
        assert page.evaluate("document.fonts.check('16px KaTeX_Main') && document.fonts.check('16px KaTeX_Math')")
        page.evaluate("document.fonts.ready")
        assert page.evaluate("[...document.fonts].some((f) => f.family === 'KaTeX_Math' && f.status === 'loaded')")
        assert {urlsplit(u).netloc for u in asked if not u.startswith("data:")} == {urlsplit(site.server.url).netloc}
        assert any("/static/vendor/katex-0.19.1/fonts/" in u for u in asked)
        # A page without math loads no KaTeX.
        asked.clear()
        _visit(page, site, "timeline")
        assert not [u for u in asked if "katex" in u]


def test_without_javascript_the_math_reads_as_tex_and_the_switcher_is_a_page(
        chromium: Browser, page_problems: PageProblems, site: Site) -> None:
    with _open(chromium, page_problems, site, viewport=DESKTOP, java_script_enabled=False) as page:
        page.goto(site.server.url + site.pages["entry"])
        expect(page.locator(".markdown .math.inline").first).to_have_text("$\\Delta = \\ell_{IO} - \\ell_{S}$")
        expect(page.locator(".markdown .math.display")).to_contain_text("\\Delta(k) = \\Delta_0")
        expect(page.locator(".katex")).to_have_count(0)
        page.get_by_role("banner").get_by_role("link", name="Jump to").click()
        page.get_by_role("textbox", name="Jump to").fill("ioi circ")
        page.get_by_role("button", name="Find").click()
        expect(page.locator("#switch-results a").first).to_contain_text("IOI circuit")
        page.locator("#switch-results a").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("IOI circuit")


# -- screenshots ---------------------------------------------------------------------------------

def _shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("UPSTACK_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save_small(png: bytes, target: Path) -> None:
    """A screenshot in 256 colours: a tenth of the size, and the same to the eye for a page of text."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(target, optimize=True)


@pytest.mark.parametrize("theme", THEMES)
def test_screenshots_of_the_main_pages(chromium: Browser, page_problems: PageProblems, site: Site,
                                       tmp_path_factory: pytest.TempPathFactory, theme: str) -> None:
    folder = _shots(tmp_path_factory)
    for viewport, suffix, names in ((DESKTOP, "", list(site.pages)), (PHONE, "-phone", ["timeline", "entry"])):
        with _open(chromium, page_problems, site, viewport=viewport, color_scheme=theme) as page:
            for name in names:
                _visit(page, site, name)
                target = folder / f"{name}-{theme}{suffix}.png"
                _save_small(page.screenshot(animations="disabled", caret="hide"), target)
                assert 0 < target.stat().st_size < 250_000, target
