"""The ladder: the guide's path into empirical AI-safety research, as plain data and pure rules.

"Do a small thing to show you can do a medium thing." The steps are the guide's, in its order; each
says what "done" looks like and which kinds of evidence count. Steps marked ``learning_only`` are
study (the upskilling trap is weeks spent on nothing else); ``screen`` steps are what hiring screens
look for (interview practice, a GitHub page, a personal website, a small public project), done in
parallel rather than in order. The learning resources are the guide's, with their public links
(data the user edits; nothing here fetches them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from upstack.domain.text import slugify
from upstack.errors import BadInput, NotFound
from upstack.timeutil import parse_iso

__all__ = ["EVIDENCE_KINDS", "STEP_STATES", "RESOURCE_STATES", "Step", "Resource", "STEPS", "RESOURCES",
           "IMPLEMENTING", "PRACTICE_STEP", "slugify", "match_slug", "check_url", "is_repository_url",
           "in_trap", "TRAP_NOTICE"]

EVIDENCE_KINDS = ("entry", "node", "run", "idea", "url")
STEP_STATES = ("open", "done", "skipped")
RESOURCE_STATES = ("not-started", "in-progress", "done")


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    done_when: str
    counts: tuple[str, ...] = EVIDENCE_KINDS  # the kinds of evidence that count for it
    learning_only: bool = False
    screen: bool = False
    builtin: bool = True


@dataclass(frozen=True)
class Resource:
    slug: str
    title: str
    url: str
    step: str
    builtin: bool = True


STEPS: tuple[Step, ...] = (
    Step("code", "Learn to code",
         "You can write, run and debug a few hundred lines of Python on your own.",
         ("entry", "run", "url"), learning_only=True),
    Step("from-scratch", "Linear algebra and model components from scratch (low-level areas)",
         "You have written the pieces of a model (attention, an MLP, a training loop) yourself. "
         "Skip it if your area is not low-level.", ("entry", "run", "url"), learning_only=True),
    Step("paper-walkthrough", "Implement a paper with a walkthrough",
         "You reproduced a paper's main result following a guide or tutorial.",
         ("entry", "run", "node", "url"), learning_only=True),
    Step("learn-area", "Learn about an area",
         "You can name an area's open problems and the papers behind them.",
         ("entry", "url"), learning_only=True),
    Step("paper-alone", "Implement a paper alone",
         "You reproduced a paper's result with no walkthrough: code that runs, a result you checked.",
         ("entry", "run", "node", "url")),
    Step("open-problem", "A weekend-sized open problem",
         "You worked a small open problem to a result, positive or negative.",
         ("node", "entry", "run", "idea")),
    Step("write-up", "Write it up, with code in a public repository",
         "A write-up someone else can read, and the code in a public repository.",
         ("url", "entry", "node")),
    Step("apply", "Apply for fellowships, grants and jobs (and keep working)",
         "Applications sent, while the research goes on. Rejections are false negatives; apply widely.",
         ("entry", "url")),
    Step("first-opportunity", "Do the first opportunity well; add it to the CV",
         "The fellowship, grant or job done well, and on your CV.", ("entry", "node", "url")),
    Step("aim-bigger", "Aim bigger, and repeat",
         "A bigger project or role than the last one.", ("entry", "node", "idea", "url")),
    Step("interview-practice", "Interview practice",
         "The practice bar: LeetCode mediums solved unaided in under 30 minutes, reliably "
         "(`upstack practice bar`). Past it, more grinding has diminishing returns.",
         ("entry", "url"), learning_only=True, screen=True),
    Step("github-page", "A GitHub page", "A public GitHub profile with your projects pinned.",
         ("url",), screen=True),
    Step("website", "A personal website", "A page with who you are, your projects and your CV.",
         ("url",), screen=True),
    Step("public-project", "A small public project", "One small project anyone can see and run.",
         ("url", "node", "entry"), screen=True),
)

# The steps a finished run or a paper read counts toward, in order: a proposal names the first not done.
IMPLEMENTING = ("paper-walkthrough", "paper-alone")
PRACTICE_STEP = "interview-practice"

RESOURCES: tuple[Resource, ...] = (
    Resource("ai-safety-fundamentals", "AI Safety Fundamentals (BlueDot Impact)",
             "https://aisafetyfundamentals.com/", "learn-area"),
    Resource("arena", "ARENA: Alignment Research Engineer Accelerator", "https://www.arena.education/",
             "from-scratch"),
    Resource("mech-interp-quickstart", "Mechanistic interpretability quickstart (Neel Nanda)",
             "https://www.neelnanda.io/mechanistic-interpretability/getting-started", "paper-walkthrough"),
    Resource("mit-6006", "MIT 6.006 Introduction to Algorithms (free lectures)",
             "https://ocw.mit.edu/courses/6-006-introduction-to-algorithms-spring-2020/", "interview-practice"),
    Resource("grokking-algorithms", "Grokking Algorithms (Aditya Bhargava)",
             "https://www.manning.com/books/grokking-algorithms", "interview-practice"),
)

_REPOSITORY_HOSTS = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org", "huggingface.co")

TRAP_NOTICE = ("{weeks} weeks of study alone and no active project in the tree. Most people over-invest in upskilling; "
               "the shortest path is a small research project started now: `upstack idea \"...\"` or "
               "`upstack add project \"...\"`.")


def match_slug(ref: str, slugs: list[str], what: str = "step") -> str:
    """The slug ``ref`` names: itself, or the only slug it starts, else the only one with a word it
    starts (``cormorant`` for ``open-call-cormorant-lab``); else one line with near matches."""
    key = ref.strip().lower()
    if key in slugs:
        return key
    starting = [s for s in slugs if s.startswith(key)] if key else []
    if len(starting) == 1:
        return starting[0]
    if not starting and key:
        starting = [s for s in slugs if f"-{key}" in s]
        if len(starting) == 1:
            return starting[0]
    import difflib  # only to suggest a near name

    near = starting or difflib.get_close_matches(key, slugs, n=4, cutoff=0.5)
    if near:
        shown = ", ".join(near[:8]) + (f" and {len(near) - 8} more" if len(near) > 8 else "")
        raise NotFound(f"no {what} {ref!r}; did you mean {shown}?")
    many = what[:-1] + "ies" if what.endswith("y") else what + "s"
    listed = ", ".join(slugs[:10]) + (f" and {len(slugs) - 10} more" if len(slugs) > 10 else "")
    raise NotFound(f"no {what} {ref!r}; the {many} are {listed}")


def check_url(text: str) -> str:
    """An http(s) address with a host, as given; anything else is refused."""
    url = text.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise BadInput(f"{text!r} is not a web address: give one starting with https://")
    return url


def is_repository_url(url: str) -> bool:
    """Whether ``url`` is a repository on a public code host (a path past the owner's page)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return host in _REPOSITORY_HOSTS and len([p for p in parts.path.split("/") if p]) >= 2


def in_trap(learning_since: str | None, now: str, weeks: int, has_active_project: bool) -> bool:
    """The upskilling trap: study alone (ladder changes on learning-only steps, resource progress)
    since ``learning_since`` with nothing else since, for ``weeks`` weeks or more, and no active
    project in the tree. Never so with an active project or no study at all."""
    if has_active_project or learning_since is None:
        return False
    return parse_iso(learning_since) <= parse_iso(now) - timedelta(weeks=weeks)
