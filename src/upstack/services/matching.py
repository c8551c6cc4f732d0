"""Matching the person's own work to someone's research interests (`upstack contact match`, `upstack
opp match`): the guide's advice to pick problems that match a person's research interests, then
reach out with results.

The interests (a contact's free text and tags, or a posting's text, role and areas) become one
search query: their most distinctive words (those the text repeats, weighed by how rare they are in
the reader's log; words nearly every entry holds weigh nothing in BM25 and are left out), OR'ed,
and their tags as ``#tags``. It is ranked by the search the log already has (store/search.py: BM25
as FTS5 computes it, on both engines), never by a ranking of its own. Question nodes of the tree are
not in the search index, so each is scored by the same formula, with the same words, IDFs and average
length as the search (store/bm25.py), its title weighing as an entry's title and its why as a body.
Open ideas are scored the same way, so that ideas and questions make one list.

What is matched is the reader's own work only, and only what may be shown to the person written
to: never a private entry (the owner alone sees this ranking, but it is the list a cold email is
made from, so a private entry is left out of both), never what someone else wrote on a team
server (or pulled from one), never wellbeing notes (a check-in tagged as such), never a pruned,
done or active idea, never a closed question.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from upstack.domain.entry import Entry
from upstack.domain.filters import Filters
from upstack.domain.query import parse_query
from upstack.domain.similar import STOPWORDS
from upstack.domain.text import fold_tag, normalize_tag, tokenize
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.ids import short_id
from upstack.limits import QUERY_MAX_CHARS
from upstack.services import recall
from upstack.services.portfolio import is_own
from upstack.store import ideas as store_ideas
from upstack.store import tree as store_tree
from upstack.store import vocabulary
from upstack.store.bm25 import K1, WEIGHTS, B, Corpus, Phrase, idf, phrase_hits
from upstack.store.ingest import search_texts
from upstack.store.search import rank_phrases
from upstack.workspace import Workspace

__all__ = ["WORK_KINDS", "OPEN_IDEAS", "OPEN_QUESTIONS", "WELLBEING_TAGS", "Interests", "Matched", "Matches",
           "interests", "match", "for_contact", "for_opportunity"]

WORK_KINDS = ("result", "learning", "note", "question")  # results, learnings, write-ups, questions asked
OPEN_IDEAS = ("candidate", "de-risking", "parked")        # an idea still to try (not active, pruned or done)
OPEN_QUESTIONS = ("open", "active", "blocked", "parked")  # a question node not answered (done) or dropped
# Notes about the person's own wellbeing are never material for a ranking shown as work or an email.
WELLBEING_TAGS = ("checkin", "check-in", "wellbeing", "burnout")
MAX_WORDS, MAX_TAGS, MAX_CANDIDATES = 24, 6, 48
MAX_LIMIT = 100
_SCANNED = 400  # search hits looked at for one list, at most: others' entries are skipped
_IDF_FLOOR = 1e-6  # store.bm25.idf's least weight
_TAG_NAME = re.compile(r"[^\W\d_][\w/-]*")


@dataclass(frozen=True)
class Interests:
    """What a ranking asks for: the query (as search takes it), its words and tags."""

    query: str
    words: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass
class Matched:
    """One piece of work or one open problem, with the interests' words and tags it holds (why it
    matched). ``kind``: an entry's kind, or ``open-question`` for a question node of the tree."""

    kind: str
    id: str
    title: str
    words: list[str]
    detail: str = ""  # what happened (a result), the idea's state, the question's status
    entry: Entry | None = field(default=None, repr=False, compare=False)
    node: Node | None = field(default=None, repr=False, compare=False)

    @property
    def short(self) -> str:
        return short_id(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "short": self.short, "title": self.title, "words": self.words,
                "detail": self.detail}


@dataclass
class Matches:
    interests: Interests
    work: list[Matched]       # results, learnings, write-ups and questions asked: search's order
    problems: list[Matched]   # open ideas and open question nodes that fit, best first

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.interests.query, "words": list(self.interests.words),
                "tags": list(self.interests.tags), "work": [m.to_dict() for m in self.work],
                "problems": [m.to_dict() for m in self.problems]}


# -- the query ----------------------------------------------------------------------------------

def _worth_asking(token: str) -> bool:
    return token not in STOPWORDS and not token.isdigit() and len(token) > 1


def interests(ws: Workspace, text: str, tags: list[str] | tuple[str, ...] = ()) -> Interests:
    """The query for a text and its tags, weighed by the reader's log (``vocabulary.reader_corpus``).

    Words: the text's (and the tags') words but the commonest English and research ones, by how often
    the text says them times their IDF in the log, those no entry holds last (they can still fit a
    question node); a word that half the log holds is dropped, as BM25 gives it no weight, unless
    every word is such.
    """
    db = ws.store().db
    seen = vocabulary.reader_corpus(db)
    said = Counter(t for t in tokenize(" ".join([text, *tags])) if _worth_asking(t))
    candidates = [word for word, _ in said.most_common(MAX_CANDIDATES)]  # ties: in the order first said
    hits = vocabulary.holders(db, candidates, seen)
    weighed = [(hits[w] == 0, -said[w] * idf(seen.rows, hits[w]), place, w) for place, w in enumerate(candidates)]
    # A word half the log holds weighs nothing in BM25 (its IDF is FTS5's floor) and would have the
    # ranking read half the log: it is asked only when no word weighs more (a log of a few entries).
    weightless = {w for w in candidates if hits[w] and idf(seen.rows, hits[w]) <= _IDF_FLOOR}
    if any(hits[w] and w not in weightless for w in candidates):
        weighed = [w for w in weighed if w[3] not in weightless]
    names = []
    for tag in tags:  # a tag is one word as entries' tags are ("mech interp" is two words, not a tag)
        name = normalize_tag(fold_tag(str(tag)))
        if not any(c.isspace() for c in str(tag).strip()) and _TAG_NAME.fullmatch(name) and name not in names:
            names.append(name)
    terms = [f"#{n}" for n in names[:MAX_TAGS]] + [w for *_, w in sorted(weighed)[:MAX_WORDS]]
    kept: list[str] = []
    for term in terms:  # within the length a query may have (limits.QUERY_MAX_CHARS)
        if len(" OR ".join([*kept, term])) <= QUERY_MAX_CHARS:
            kept.append(term)
    return Interests(" OR ".join(kept), tuple(t for t in kept if not t.startswith("#")),
                     tuple(t[1:] for t in kept if t.startswith("#")))


# -- scoring what search does not index, by search's formula ---------------------------------------

class _Scorer:
    """BM25 for a text outside the index (a question node), or an idea's entry, with the search's
    phrases, IDFs and average length over the reader's view: the score search would give it."""

    def __init__(self, ws: Workspace, asked: Interests, seen: Corpus) -> None:
        db = ws.store().db
        self.phrases: list[Phrase] = rank_phrases(parse_query(asked.query)) if asked.query else []
        self.idfs = [idf(seen.rows, phrase_hits(db, p, seen)) for p in self.phrases]
        self.average = seen.average

    def score(self, title: str, body: str, tags: list[str]) -> float:
        texts = search_texts(title, body, tags)
        total = 0.0
        for phrase, weight in zip(self.phrases, self.idfs, strict=True):
            pattern = " " + "  ".join(phrase.tokens) + ("" if phrase.prefix else " ")
            freq = sum(WEIGHTS[f] * texts[f].count(pattern) for f in phrase.fields)
            if freq:
                total += weight * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + B * texts["doc_len"] / self.average)))
        return total


def _why(asked: Interests, title: str, body: str, tags: list[str]) -> list[str]:
    """The interests' words and tags a text holds (a tag also by a tag nested under it)."""
    held = set(tokenize(f"{title} {body}"))
    folded = {fold_tag(t) for t in tags}
    return [w for w in asked.words if w in held] + [
        f"#{t}" for t in asked.tags if any(f == t or f.startswith(t + "/") for f in folded)]


# -- the lists ----------------------------------------------------------------------------------------

def _wellbeing(entry: Entry) -> bool:
    return any(fold_tag(t) == w or fold_tag(t).startswith(w + "/") for t in entry.tags for w in WELLBEING_TAGS)


def _own_hits(ws: Workspace, query: str, kinds: tuple[str, ...], wanted: int) -> list[Entry]:
    """The reader's own entries of these kinds that the query finds, in search's order, until
    ``wanted`` are found: no private one, none of someone else's, no wellbeing note."""
    found: list[Entry] = []
    offset, page = 0, min(max(wanted * 2, 20), 100)
    filters = Filters(kinds=kinds, include_private=False)
    while len(found) < wanted and offset < _SCANNED:
        hits = recall.search(ws, query, filters, limit=page, offset=offset).hits
        found += [h.entry for h in hits if not h.entry.private and is_own(ws, h.entry.author_id)
                  and not _wellbeing(h.entry)]
        if len(hits) < page:
            break
        offset += page
    return found[:wanted]


def _detail(entry: Entry) -> str:
    happened = str(entry.meta.get("happened") or "").strip()
    return happened + (f" ({entry.meta['outcome']})" if happened and entry.meta.get("outcome") else "")


def _problems(ws: Workspace, asked: Interests, limit: int) -> list[Matched]:
    db = ws.store().db
    scorer = _Scorer(ws, asked, vocabulary.reader_corpus(db))
    scored: list[tuple[float, str, str, Matched]] = []
    ideas = _own_hits(ws, asked.query, ("idea",), _SCANNED)
    states = {i.entry_id: i for i in store_ideas.load_ideas(db, entry_ids=tuple(e.id for e in ideas))} if ideas else {}
    for entry in ideas:
        idea = states.get(entry.id)
        if idea is None or idea.state not in OPEN_IDEAS:
            continue
        score = scorer.score(entry.title, entry.body, entry.tags)
        scored.append((score, entry.occurred_at, entry.id, Matched(
            "idea", entry.id, entry.title, _why(asked, entry.title, entry.body, entry.tags), idea.state, entry=entry)))
    for node in store_tree.node_rows(db):  # those the reader may see
        if node.kind != "question" or node.status not in OPEN_QUESTIONS:
            continue
        score = scorer.score(node.title, node.why, [])
        if score <= 0.0:
            continue
        if not is_own(ws, store_tree.node_owner(db, node.id)):
            continue  # a question someone else asked, on a team server or pulled from one
        scored.append((score, node.created_at, node.id, Matched(
            "open-question", node.id, node.title, _why(asked, node.title, node.why, []), node.status, node=node)))
    scored.sort(key=lambda s: (s[1], s[2]), reverse=True)  # ties: newer first, then the larger id, as search
    scored.sort(key=lambda s: -s[0])
    return [m for *_, m in scored[:limit]]


def match(ws: Workspace, text: str, tags: list[str] | tuple[str, ...] = (), *, limit: int = 10) -> Matches:
    """The reader's own work and open problems that fit a text (and tags), best first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"--limit must be from 1 to {MAX_LIMIT}, got {limit}")
    asked = interests(ws, text, tags)
    if not asked.query:
        return Matches(asked, [], [])
    work = [Matched(e.kind, e.id, e.title, _why(asked, e.title, e.body, e.tags), _detail(e), entry=e)
            for e in _own_hits(ws, asked.query, WORK_KINDS, limit)]
    return Matches(asked, work, _problems(ws, asked, limit))


def for_contact(ws: Workspace, ref: str, limit: int = 10) -> Matches:
    """`upstack contact match NAME`: the work and open problems that fit a contact's interests and tags."""
    from upstack.services import contacts

    found = contacts.find(ws, ref)
    if not found.interests.strip() and not found.tags:
        raise BadInput(f"{found.slug} has no research interests yet: `upstack contact edit {found.slug} "
                       "--interests TEXT` says what they work on")
    return match(ws, found.interests, found.tags, limit=limit)


def for_opportunity(ws: Workspace, slug: str, limit: int = 10) -> Matches:
    """`upstack opp match SLUG`: the work and open problems that fit an opportunity's role, research
    areas and kept posting."""
    from upstack.services import opportunities

    found = opportunities.find(ws, slug)
    posting = opportunities.posting(ws, found.slug)
    text = " ".join([found.role, " ".join(found.areas), posting["text"] if posting else "", found.notes])
    if not text.strip():
        raise BadInput(f"{found.slug} says nothing to match yet: give it --areas, or keep its posting's text")
    return match(ws, text, found.areas, limit=limit)
