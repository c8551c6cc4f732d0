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
Open ideas (few, beside a log's 100k entries) are scored the same way, so that ideas and questions
make one list in the order search would give them.

What is matched is the reader's own work only, and only what may be shown to the person written
to: never a private entry (the owner alone sees this ranking, but it is the list a cold email is
made from, so a private entry is left out of both), never what someone else wrote on a team
server (or pulled from one), never wellbeing notes (a check-in tagged as such), never a pruned,
done or active idea, never a closed question.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from upstack.domain import access
from upstack.domain.entry import Entry
from upstack.domain.filters import Filters
from upstack.domain.query import Tag, parse_query
from upstack.domain.similar import STOPWORDS
from upstack.domain.text import fold_tag, normalize_tag, tokenize
from upstack.domain.tree import Node
from upstack.errors import BadInput
from upstack.ids import short_id
from upstack.limits import QUERY_MAX_CHARS
from upstack.services import recall
from upstack.services.linked import server_audience
from upstack.store import ideas as store_ideas
from upstack.store import queries, vocabulary
from upstack.store import tree as store_tree
from upstack.store.bm25 import K1, WEIGHTS, B, Corpus, Phrase, idf, phrase_hits, phrase_hits_upto
from upstack.store.ingest import search_texts
from upstack.store.search import rank_phrases
from upstack.workspace import Workspace

__all__ = ["WORK_KINDS", "OPEN_IDEAS", "OPEN_QUESTIONS", "WELLBEING_TAGS", "MATCH_BUDGET", "Interests", "Matched",
           "Matches", "interests", "match", "for_contact", "for_opportunity"]

WORK_KINDS = ("result", "learning", "note", "question")  # results, learnings, write-ups, questions asked
OPEN_IDEAS = ("candidate", "de-risking", "parked")        # an idea still to try (not active, pruned or done)
OPEN_QUESTIONS = ("open", "active", "blocked", "parked")  # a question node not answered (done) or dropped
# Notes about the person's own wellbeing are never material for a ranking shown as work or an email.
WELLBEING_TAGS = ("checkin", "check-in", "wellbeing", "burnout")
MAX_WORDS, MAX_TAGS, MAX_CANDIDATES = 24, 6, 48
# Entries the query's terms may match together (each counted once per term): FTS5 ranks every match,
# about 3 us each at 100k entries, so this keeps a match within 15 ms (bench/bench_pipeline.py).
MATCH_BUDGET = 5_000
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


def _tag_names(tags: list[str] | tuple[str, ...]) -> list[str]:
    """The tags a query can ask (``#name``): one word each, as entries' tags are ("mech interp" is
    two words, asked as words), starting with a letter."""
    names: list[str] = []
    for tag in tags:
        name = normalize_tag(fold_tag(str(tag)))
        if not any(c.isspace() for c in str(tag).strip()) and _TAG_NAME.fullmatch(name) and name not in names:
            names.append(name)
    return names[:MAX_TAGS]


def interests(ws: Workspace, text: str, tags: list[str] | tuple[str, ...] = ()) -> Interests:
    """The query for a text and its tags, weighed by the reader's log (``vocabulary.reader_corpus``).

    Its terms are the tags and the text's (and the tags') words but the commonest English and
    research ones, the more distinctive first: by how often the text says them times their IDF in the
    log, those no entry holds last (they can still fit a question node). A term half the log holds
    is left out, as BM25 gives it no weight (unless every term is such: a log of a few entries);
    so is one that would take the entries the terms before it match past ``MATCH_BUDGET``, since
    FTS5 ranks every match of a query (a word in 40% of 100k entries cost 100 ms) and a word that
    common adds little weight (IDF 0.4 to 3, where a rare word's is 5 to 9). The most distinctive
    term is always asked. Counts stop past the budget (``phrase_hits_upto``): the terms past it come
    after those within it, by how often the text says them.
    """
    db = ws.store().db
    seen = vocabulary.reader_corpus(db)
    said = Counter(t for t in tokenize(" ".join([text, *tags])) if _worth_asking(t))
    words = [word for word, _ in said.most_common(MAX_CANDIDATES)]  # ties: in the order first said
    # Counted up to just past the budget: a term past it is not asked unless it is the only one.
    most = MATCH_BUDGET + 1
    hits = {w: phrase_hits_upto(db, Phrase((w,), False, vocabulary.WORD_FIELDS), seen, most) for w in words}
    names = _tag_names(tags)
    for name in names:  # a tag's entries: the tag's and those of tags nested under it (at most)
        hits[f"#{name}"] = min(sum(phrase_hits_upto(db, p, seen, most) for p in rank_phrases(Tag(name))), most)
        said[f"#{name}"] = 1
    terms = [f"#{n}" for n in names] + words
    weighed = sorted(terms, key=lambda t: (hits[t] == 0, hits[t] >= most, -said[t] * idf(seen.rows, hits[t]),
                                           terms.index(t)))
    weightless = {t for t in terms if hits[t] and idf(seen.rows, hits[t]) <= _IDF_FLOOR}
    if any(hits[t] and t not in weightless for t in terms):
        weighed = [t for t in weighed if t not in weightless]
    kept: list[str] = []
    matched = 0
    for term in weighed:
        if len([t for t in kept if not t.startswith("#")]) >= MAX_WORDS and not term.startswith("#"):
            continue
        if kept and matched + hits[term] > MATCH_BUDGET:
            continue
        if len(" OR ".join([*kept, term])) > QUERY_MAX_CHARS:  # limits.QUERY_MAX_CHARS
            continue
        kept.append(term)
        matched += hits[term]
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


def _own(ws: Workspace) -> Callable[[str | None], bool]:
    """Whether an author (of an entry or a node) is the reader, as ``portfolio.is_own`` says (not
    imported: the portfolio's modules would double `upstack contact match`'s start-up): on a team
    server the signed-in reader; on a laptop, the laptop's user, and on one linked to a server, what
    it pulled from others is theirs."""
    audience = access.current(team=ws.team)
    if audience is not None:
        return audience.is_author
    linked = server_audience(ws)
    me = linked[1].user_id if linked is not None else None
    return lambda author: author is None or (me is not None and author == me)


def _shown(entry: Entry, own: Callable[[str | None], bool]) -> bool:
    """Whether an entry may be matched: the reader's own, not private, not a wellbeing note."""
    return not entry.private and own(entry.author_id) and not _wellbeing(entry)


def _own_hits(ws: Workspace, query: str, wanted: int) -> list[Entry]:
    """The reader's own work (``WORK_KINDS``) that the query finds, in search's order, until
    ``wanted`` are found: no private entry, none of someone else's, no wellbeing note.

    The search is asked with no filter, so that on SQLite FTS5 keeps only the best rows (a filter
    would have every match ranked first: 100-200 ms at 100k entries); what is not work is skipped.
    """
    found: list[Entry] = []
    own = _own(ws)
    offset, page = 0, min(max(wanted * 3, 30), 100)
    while len(found) < wanted and offset < _SCANNED:
        hits = recall.search(ws, query, Filters(), limit=page, offset=offset).hits
        found += [h.entry for h in hits if h.entry.kind in WORK_KINDS and _shown(h.entry, own)]
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
    own = _own(ws)
    # Open ideas are few (hundreds, where entries are 100k): each is scored, as a node is.
    held = {i.entry_id: i for i in store_ideas.load_ideas(db, states=OPEN_IDEAS)}
    for entry in queries.load_entries(db, list(held)):
        score = scorer.score(entry.title, entry.body, entry.tags)
        if score <= 0.0 or not _shown(entry, own):
            continue
        scored.append((score, entry.occurred_at, entry.id, Matched(
            "idea", entry.id, entry.title, _why(asked, entry.title, entry.body, entry.tags), held[entry.id].state,
            entry=entry)))
    for node in store_tree.node_rows(db):  # those the reader may see
        if node.kind != "question" or node.status not in OPEN_QUESTIONS:
            continue
        score = scorer.score(node.title, node.why, [])
        if score <= 0.0:
            continue
        if not own(store_tree.node_owner(db, node.id)):
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
            for e in _own_hits(ws, asked.query, limit)]
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
