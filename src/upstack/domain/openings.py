"""Which posts of a feed look like openings, of what kind, due when: proposals a person accepts or corrects.

``opening_score`` weighs cue phrases (``OpeningRule``: data, so a setting can replace it) in a post's
title and text; ``proposed_kind`` picks job, fellowship, grant, programme or collaboration the same
way; ``proposed_deadline`` (domain/deadlines.py) reads the date the post says to apply by. The feed
itself is read by domain/feeds.py; its names are here too, so that one import serves an importer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from upstack.domain.deadlines import proposed_deadline, states_deadline
from upstack.domain.feeds import (
    HTML_LIMIT,
    MAX_POSTINGS,
    TEXT_LIMIT,
    Feed,
    Posting,
    parse_feed,
    sanitise,
)
from upstack.errors import BadInput

__all__ = ["OpeningRule", "DEFAULT_RULE", "opening_score", "KINDS", "proposed_kind", "proposed_deadline",
           "Posting", "Feed", "parse_feed", "sanitise", "MAX_POSTINGS",
           "HTML_LIMIT", "TEXT_LIMIT"]


@dataclass(frozen=True)
class OpeningRule:
    """Cue phrases with weights: an opening when the weights of the cues a post has reach ``threshold``.

    A phrase is words matched case-blind as whole words ("we're hiring"), a trailing ``*`` matching
    any ending ("fellowship*"); hyphens and punctuation count as spaces. A negative weight is a cue
    against ("we apply", "grant that"). Each cue counts once; one in the title counts
    ``title_weight`` times, since a post about an opening says so in its title.
    """

    cues: Mapping[str, float]
    threshold: float = 4.0
    title_weight: float = 2.0
    deadline_weight: float = 3.0  # added when the text states a date next to a deadline word

    @classmethod
    def from_setting(cls, value: Mapping[str, Any], *, where: str = "the opening rule") -> OpeningRule:
        """A rule from a setting's mapping: ``{"cues": {phrase: weight}, "threshold": 4, "title_weight": 2}``."""
        cues = value.get("cues")
        if not isinstance(cues, Mapping) or not cues:
            raise BadInput(f"{where}: 'cues' must map phrases to weights")
        for phrase, weight in cues.items():
            if not isinstance(phrase, str) or not _words(phrase.rstrip("*")):
                raise BadInput(f"{where}: cue {phrase!r} has no words")
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise BadInput(f"{where}: the weight of {phrase!r} must be a number, not {weight!r}")
        numbers = {k: value.get(k, getattr(DEFAULT_RULE, k)) for k in ("threshold", "title_weight", "deadline_weight")}
        for name, number in numbers.items():
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise BadInput(f"{where}: {name} must be a number, not {number!r}")
        return cls(cues={str(k): float(v) for k, v in cues.items()}, threshold=float(numbers["threshold"]),
                   title_weight=float(numbers["title_weight"]), deadline_weight=float(numbers["deadline_weight"]))

    def __post_init__(self) -> None:
        # A copy the caller cannot change under the compiled cues' cache.
        object.__setattr__(self, "cues", MappingProxyType(dict(self.cues)))

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.cues.items())), self.threshold, self.title_weight, self.deadline_weight))


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _table(text: str) -> dict[str, float]:
    """Cues written as ``weight: phrase, phrase, ...`` lines; a line without a weight goes on with the one before."""
    table: dict[str, float] = {}
    weight = 0.0
    for line in text.strip().splitlines():
        head, colon, rest = line.partition(":")
        if colon and _NUMBER.fullmatch(head.strip()):
            weight, line = float(head), rest
        table.update((phrase.strip(), weight) for phrase in line.split(",") if phrase.strip())
    return table


# Chosen on tests/fixtures/feeds/labelled_items.json, widened round by round on posts written blind.
_DEFAULT_CUES = _table("""
    3: vacancy, vacancies, invites applications, invites proposals, apply by, apply before, apply now, apply here,
       apply through, how to apply, who should apply, accepting applications, taking applications,
       applications close, applications are due, applications due, applications must, application deadline,
       deadline to apply, deadline for applications, closing date, expressions of interest, letters of intent,
       request for proposals, call for proposals, proposals due, apply anytime
    2.5: recruiting, now open, applications open, applications are open, applications now open,
         applications received, rolling applications, send a cv, funding available, funding is available,
         will fund, team up
    2: hiring, we're hiring, we are hiring, is hiring, open position, job opening, in this role, we're looking for,
       we are looking for, wanted, needed, help wanted, needs someone, join our, join us, last call, may apply,
       submissions must, sign up, eligible, eligibility, fill in the form, scholarship*, studentship*, mentees,
       bootcamp, fully funded, technical staff, good fit, ideal candidate, responsibilities, reports to, rfp,
       grants between, grants up to, we fund, fund up to, request for, to fund, to award, co author*, co writ*,
       co founder*, research partners
    1.5: position, positions, openings, looking for, seeking, we need, join as, careers, call for, is open,
         are open, final reminder, volunteer*, would anyone, anyone want, to apply, rolling basis, send your,
         email us, dm me, ping me, message me, get in touch, contact me, email me, reply below,
         if you're interested, fellow*, residency, internship*, postdoc*, placement*, stipend, salary,
         compensation, all costs covered, travel support, engineer, contractor*, freelance, tester*, we pay,
         scientist, analyst, senior, hours a week, hours per week, you will, ideal for, qualifications, start date,
         starting date, as soon as possible, grants, grants of, we offer, we cover, will cover, collaborat*,
         work with me, work together, join me
    1: hire, job, opening, role, staff, lead, join the, open to, apply, applications, applicants, closes, submit,
       register, the form, cv, send me, reach out, would love, intern, visiting, scholars, cohort, school, sprint,
       camp, spots, pay, paid, paying, benefits, per hour, full time, part time, based in, visa*, relocation,
       funded, tuition, research engineer*, research scientist*, research assistant*, research manager*,
       annotator*, head of, director, manager, per week, hrs, you'll, you have, candidates, requirements, years of,
       background in, work test, proposals, budgets, awards, we provide, we host, covers, partner, coordinating
    0.5: jobs, roles, need, anyone, application, interested, course, participants, places, money, hour, equity,
         remote, hybrid, free, housing, lodging, travel, mentor*, compute, startup, required, experience, skills,
         interviews, funding, up to
    -0.5: paper
    -1: applying, apply them, research program, research programme, we put, we made, results, i think, this post,
        survey*, median, last year, i moved, i got, here's why, finished, came to, advice, fail, update, should,
        why, here's what, report
    -1.5: get hired, applied to, we asked, we compare, we collected, we received, replication, i look at,
          i compare, data from, last summer, a year ago, months later, this year we, i spent, i left, i've read,
          went on to, winning, should you, the case for, history, how to, ran out, what i'm doing, my grant,
          my funding, newsletter, comparing
    -2: was hired, we hired, we learned, tips, apply the, program of research, programme of research, we find,
        we found, we show, we train, we trained, we measure, we replicate, we reran, we tried, we propose,
        we submitted, negative results, takeaways, highlights, notes from, lessons from, what went wrong,
        i learned, what went well, i wish i knew, rejection*, rejected, alumni, timelines, reflections, tutorial,
        walkthrough, explainer, critique, primer, reading list, ama, ask me anything, request for information
    -3: hiring practices, how we hire, we apply, i applied, we applied, grant that, i argue, retrospective,
        post mortem, recap, annual report, what i learned, hot take
    -8: not hiring
""")
DEFAULT_RULE = OpeningRule(cues=_DEFAULT_CUES)

_WORD = re.compile(r"[\w']+")


_MONEY = re.compile(r"[$£€](?=\s?\d)")


def _words(text: str) -> str:
    """Text as the cues see it: lower case, curly apostrophes straight, words one space apart, and a
    sum of money ($60, £30k) read as the word "money"."""
    return " ".join(_WORD.findall(_MONEY.sub(" money ", text.lower().replace("\u2019", "'"))))


@lru_cache(maxsize=32)  # the default rule, the kinds, a setting or two
def _compiled(rule: OpeningRule) -> tuple[tuple[str, float, re.Pattern[str]], ...]:
    compiled = []
    for phrase, weight in rule.cues.items():
        words = _words(phrase.rstrip("*"))
        tail = r"[\w']*" if phrase.endswith("*") else ""
        compiled.append((phrase, weight, re.compile(rf"(?<![\w']){re.escape(words)}{tail}(?![\w'])")))
    return tuple(compiled)


def opening_score(title: str, text: str, rule: OpeningRule = DEFAULT_RULE) -> tuple[bool, list[str]]:
    """Whether a post looks like an opening, and the cues it has (strongest first; "-cue" is against).

    >>> opening_score("Meridian is hiring research engineers", "Apply by Jan 15.")
    (True, ['hiring', 'is hiring', 'apply by', '(a deadline)', 'research engineer*', 'apply'])
    >>> opening_score("Activation patching on a toy model", "We apply activation patching and find two heads.")[0]
    False
    """
    head, body = _words(title), _words(text)
    score, found = 0.0, []
    for phrase, weight, pattern in _compiled(rule):
        if pattern.search(head):
            weight *= rule.title_weight
        elif not pattern.search(body):
            continue
        score += weight
        found.append((weight, phrase))
    if rule.deadline_weight and states_deadline(text):
        score += rule.deadline_weight
        found.append((rule.deadline_weight, "(a deadline)"))
    found.sort(key=lambda pair: -abs(pair[0]))
    return score >= rule.threshold, [phrase if weight > 0 else f"-{phrase}" for weight, phrase in found]


# -- what kind of opening ----------------------------------------------------------------------

KINDS = ("job", "fellowship", "grant", "programme", "collaboration")
_KIND_CUES: dict[str, dict[str, float]] = {
    "job": _table("""
        2: hiring, recruiting, position*, vacanc*, research assistant*, postdoc*, postdoctoral, internship*,
           intern, contractor*, freelance
        1.5: job, staff, head of, research engineer*, research scientist*, annotator*
        1: hire, role, opening*, lead, salary, benefits, manager, full time, careers, operations
        0.5: pay, engineer*
    """),
    "fellowship": _table("""
        2.5: fellow*, scholarship*, residency
        2: placement*, studentship*
        1.5: residents, visiting
        0.5: stipend
    """),
    "grant": _table("""
        3: rfp, request for proposals, call for proposals
        2: grant*, letters of intent
        1.5: proposals, will fund, awards
        1: funding, fund, credits
    """),
    "programme": _table("""
        3: bootcamp
        2.5: camp, sprint, school
        2: program, programme, scholars, mentees, hackathon
        1: cohort, course, sign up
    """),
    "collaboration": _table("""
        3: collaborat*, co author*, co writ*, research partners, team up
        2.5: volunteer*
        2: co founder*, work together, work with me, partner, join me
        1.5: help wanted
        1: join as, take over, anyone
    """),
}
_KIND_RULES = {kind: OpeningRule(cues=cues) for kind, cues in _KIND_CUES.items()}


def proposed_kind(title: str, text: str) -> str:
    """The kind of opening a post most looks like (a title's words count three times); "job" when
    nothing says otherwise.

    >>> proposed_kind("Request for proposals: evals of deception", "Grants of $50k.")
    'grant'
    """
    head, body = _words(title), _words(text)

    def weight(kind: str) -> float:
        return sum(w * (3 if p.search(head) else 1) for _, w, p in _compiled(_KIND_RULES[kind])
                   if p.search(head) or p.search(body))

    scores = {kind: weight(kind) for kind in KINDS}
    best = max(KINDS, key=lambda kind: scores[kind])  # ties: the earlier kind
    return best if scores[best] > 0 else "job"

