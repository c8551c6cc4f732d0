"""`upstack contact match` and `opp match` (services/matching.py): a contact's interests rank the
person's own work by search's BM25, on both engines, and suggest open ideas and questions that fit.

The fixture is a small log of three themes (sparse autoencoders, evals, oversight) and noise, with
three contacts, one per theme; each has an expected top three of work and top two of open
problems, so a random or a reversed ranking fails. Around them sit what must never be matched: a
private entry, a wellbeing note, a stuck spell, a pruned idea, an answered question, each written to
match a contact better than anything else does.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from upstack.domain import access
from upstack.domain.query import Or, Tag, Term, parse_query
from upstack.errors import BadInput, NotFound
from upstack.services import accounts, capture, contacts, ideas, matching, opportunities, recall, tree
from upstack.workspace import Workspace

THEMES: list[tuple[str, str, dict[str, Any]]] = [
    # Sparse autoencoders.
    ("result", "Sparse autoencoders on layer 8 show feature splitting as the dictionary grows. Dictionary "
               "learning with 32k latents splits the name-mover feature into three. #sae",
     {"happened": "The 16k name-mover feature splits into three features at 32k.", "outcome": "surprise"}),
    ("learning", "Dead latents in sparse autoencoders come back with resampling. Resampling every 25k "
                 "steps keeps dead latents under 5%. #sae", {}),
    ("note", "Write-up outline: what the layer 8 features mean. One section per feature family, "
             "with max-activating examples.", {}),
    ("result", "Autoencoders trained on the residual stream reconstruct it with MSE 0.03.", {}),
    # Evals.
    ("result", "A deception probe detects sandbagging on dangerous capability evaluations. #evals",
     {"happened": "It flags 80% of sandbagged answers at a 5% false-positive rate.", "outcome": "as-expected"}),
    ("note", "Write-up: dangerous capability evaluations for bio knowledge are saturated. #evals", {}),
    ("question", "Ask Beth: does sandbagging show up in the logit lens?", {}),
    ("learning", "Evaluations need held-out prompts, or the numbers measure memorisation.", {}),
    # Oversight.
    ("result", "Debate raises judge accuracy on QuALITY: scalable oversight works for long texts. #oversight",
     {"happened": "Judges reached 76% with debate against 60% without.", "outcome": "as-expected"}),
    ("learning", "Reward hacking shows up early in RL fine-tuning, before the reward plateaus.", {}),
    ("note", "Reading notes on debate protocols for oversight.", {}),
    ("question", "Ask Paul whether consultancy is a fair baseline for debate.", {}),
    # Noise: nothing any contact is interested in.
    ("note", "Cluster maintenance on Saturday: jobs pause from 09:00 to 13:00.", {}),
    ("note", "Set up the new laptop: dotfiles, conda, the VPN.", {}),
    ("result", "Batch size 64 fits on one A100 with gradient checkpointing.", {}),
    ("learning", "Pin package versions in the lock file before a long sweep.", {}),
    ("note", "Reading group: we read the scaling laws paper this week.", {}),
    ("note", "Weekly: two sweeps done, one write-up section drafted.", {}),
    ("result", "Tokenizer throughput is 2M tokens a second on 8 cores.", {}),
    ("note", "Meeting with the lab manager about compute for next quarter.", {}),
    ("learning", "Plots need error bars over seeds, not over batches.", {}),
    ("note", "Moved the data loader to memory-mapped files.", {}),
]
# Each written to match one contact better than anything above: none may ever be matched.
NEVER = [
    ("result", "Sparse autoencoders dictionary learning feature splitting: PRIVATEMARK sparse autoencoders.",
     {"private": True}),
    ("note", "Check-in: sandbagging my sleep, deception about how tired I am. Dangerous capability evaluations "
             "all week. #checkin", {}),
    ("stuck", "Stuck on debate and scalable oversight and reward hacking for three days.", {}),
    ("decision", "Decided: sparse autoencoders with feature splitting and dictionary learning go first.", {}),
]

CONTACTS = {
    "chris": ("Chris Olah", "Sparse autoencoders, dictionary learning and feature splitting.", ["sae"]),
    "beth": ("Beth Barnes", "Dangerous capability evaluations; sandbagging and deception in language models.",
             ["evals"]),
    "paul": ("Paul Christiano", "Scalable oversight, debate between models, reward hacking in RL.", ["oversight"]),
}
# The expected top three of work and top two of open problems, by the start of their titles.
EXPECTED = {
    "chris": (["Sparse autoencoders on layer 8", "Dead latents in sparse", "Autoencoders trained on"],
              ["Feature splitting across dictionary", "Why does feature splitting"]),
    "beth": (["A deception probe detects", "Write-up: dangerous capability", "Evaluations need held-out"],
             ["Sandbagging evals with password-locked", "Can a probe tell sandbagging"]),
    "paul": (["Reward hacking shows up", "Debate raises judge accuracy", "Reading notes on debate"],
             ["Does debate help when", "Debate with weaker judges"]),
}


@dataclass
class Log:
    ws: Workspace
    ids: dict[str, str]  # a title's start -> its entry or node id


def _title_start(text: str) -> str:
    return " ".join(text.split()[:4])


def build(ws: Workspace) -> Log:
    ids: dict[str, str] = {}
    for kind, text, extra in THEMES + NEVER:
        meta = {k: v for k, v in extra.items() if k != "private"} or None
        entry = capture.note(ws, text, kind=kind, private=bool(extra.get("private")), meta=meta)
        ids[_title_start(text)] = entry.id
    for text, state in [("Feature splitting across dictionary sizes in sparse autoencoders.", None),
                        ("Sandbagging evals with password-locked models.", "parked"),
                        ("Debate with weaker judges and stronger debaters.", None),
                        ("Sparse autoencoders: dictionary learning, feature splitting, all of it.", "pruned"),
                        ("Resample dead latents in sparse autoencoders every step.", "done")]:
        idea = ideas.capture_idea(ws, text)
        ids[_title_start(text)] = idea.id
        if state:
            ideas.set_state(ws, idea.id, state, reason="fixture")
    agenda = tree.add_node(ws, "agenda", "Safety research")
    projects = {name: tree.add_node(ws, "project", name, under=agenda.id) for name in ("SAEs", "Evals", "Oversight")}
    for project, title, why, status in [
            ("SAEs", "Why does feature splitting depend on the dictionary size?", "It decides what size to report.",
             "open"),
            ("SAEs", "Do sparse autoencoders with dictionary learning recover feature splitting?", "", "done"),
            ("Evals", "Can a probe tell sandbagging from honest mistakes?", "Deception or incapacity.", "open"),
            ("Oversight", "Does debate help when the judge is weaker?", "Scalable oversight needs it.", "open"),
            ("Oversight", "Is reward hacking in RL the same as debate failing?", "", "dropped")]:
        node = tree.add_node(ws, "question", title, why=why, under=projects[project].id)
        if status != "open":
            tree.set_status(ws, node.id, status, reason="fixture")
        ids[_title_start(title)] = node.id
    for name, interests, tags in CONTACTS.values():
        contacts.add(ws, name, interests=interests, tags=tags)
    return Log(ws, ids)


@pytest.fixture
def log(workspace: Workspace) -> Log:
    return build(workspace)


def _starts(found: list[matching.Matched]) -> list[str]:
    return [m.title for m in found]


@pytest.mark.parametrize("who", sorted(CONTACTS))
def test_each_contact_gets_its_expected_top_k(log: Log, who: str) -> None:
    found = matching.for_contact(log.ws, who, limit=10)
    work, problems = EXPECTED[who]
    got_work, got_problems = _starts(found.work), _starts(found.problems)
    assert all(t.startswith(w) for t, w in zip(got_work, work, strict=False)), got_work
    assert all(t.startswith(p) for t, p in zip(got_problems, problems, strict=False)), got_problems
    assert len(found.work) >= 3 and len(found.problems) >= 2
    # Nothing of another theme outranks the expected ones, and noise is never matched.
    assert not any(m.title.startswith(("Cluster maintenance", "Set up the new", "Pin package")) for m in found.work)
    # Each matched item says why: the interests' words it holds.
    assert all(m.words for m in found.work + found.problems)


def test_what_must_never_be_matched_is_not(log: Log) -> None:
    never = {log.ids[_title_start(text)] for _, text, _ in NEVER}
    never |= {log.ids[k] for k in ("Sparse autoencoders: dictionary learning,", "Resample dead latents in",
                                   "Do sparse autoencoders with", "Is reward hacking in")}
    for who in CONTACTS:
        found = matching.for_contact(log.ws, who, limit=100)
        matched = {m.id for m in found.work + found.problems}
        assert not matched & never, who
        assert "PRIVATEMARK" not in str(found.to_dict())
    # Each of them would have matched: search itself finds them for the same query.
    query = matching.interests(log.ws, *CONTACTS["chris"][1:]).query
    assert log.ids[_title_start(NEVER[0][1])] in {h.entry.id for h in recall.search(log.ws, query, limit=100).hits}


def test_a_reversed_or_shuffled_ranking_would_fail(log: Log) -> None:
    """The expectations are strict enough: the fixture's lists in any other order break them."""
    found = matching.for_contact(log.ws, "chris", limit=10)
    work = EXPECTED["chris"][0]
    reversed_titles = list(reversed(_starts(found.work)))
    assert not all(t.startswith(w) for t, w in zip(reversed_titles, work, strict=False))
    for offset in range(1, len(found.work)):
        rotated = _starts(found.work)[offset:] + _starts(found.work)[:offset]
        assert not all(t.startswith(w) for t, w in zip(rotated, work, strict=False))


def test_the_query_is_distinctive_words_or_ed_with_tags(log: Log) -> None:
    asked = matching.interests(log.ws, "The sparse autoencoders of the model, and sparse features; notes.",
                               ["SAE", "#mech interp", "ioi/heads"])
    assert asked.tags == ("sae", "ioi/heads")  # a tag with a space cannot be one: its words are words
    assert "the" not in asked.words and "model" not in asked.words and "and" not in asked.words
    # Words some entry holds come first (the rarer and the more often said, the earlier); then the rest.
    held = [bool(recall.search(log.ws, w, limit=1).total) for w in asked.words]
    assert held == sorted(held, reverse=True) and held[0] and not held[-1]
    assert {"mech", "interp", "autoencoders", "features"} <= set(asked.words)
    parsed = parse_query(asked.query)
    assert isinstance(parsed, Or)
    assert Tag("sae") in parsed.children and Term(("sparse",)) in parsed.children
    # A word most of the log holds weighs nothing in BM25, and is not asked.
    for n in range(40):
        capture.note(log.ws, f"Everyday word number {n}.")
    assert "everyday" not in matching.interests(log.ws, "everyday sparse").words


def test_common_terms_are_left_out_past_the_match_budget(log: Log, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MATCH_BUDGET entries matched, the commoner terms are not asked (FTS5 would rank every match);
    the most distinctive one always is."""
    text, tags = CONTACTS["chris"][1:]  # each word said once: the rarer, the more distinctive

    def terms(asked: matching.Interests) -> list[str]:
        return [f"#{t}" for t in asked.tags] + list(asked.words)

    whole = terms(matching.interests(log.ws, text, tags))
    hits = {t: recall.search(log.ws, t, limit=1).total for t in whole}
    rarest = min((t for t in whole if hits[t]), key=lambda t: (hits[t], whole.index(t)))
    monkeypatch.setattr(matching, "MATCH_BUDGET", 4)
    cut = terms(matching.interests(log.ws, text, tags))
    held = [t for t in cut if hits[t]]
    assert set(cut) < set(whole) and rarest in held and sum(hits[t] for t in held) <= 4
    assert [t for t in cut if not hits[t]] == [t for t in whole if not hits[t]]  # they match nothing: kept
    monkeypatch.setattr(matching, "MATCH_BUDGET", 0)
    assert [t for t in terms(matching.interests(log.ws, text, tags)) if hits[t]] == [rarest]


def test_a_count_up_to_a_bound_is_the_count_cut_there(log: Log) -> None:
    from upstack.store import vocabulary
    from upstack.store.bm25 import Phrase, phrase_hits, phrase_hits_upto

    db = log.ws.store().db
    seen = vocabulary.reader_corpus(db)
    for word in ("sparse", "autoencoders", "the", "nothingholdsthis"):
        phrase = Phrase((word,), False, vocabulary.WORD_FIELDS)
        for most in (1, 2, 5, 1000):
            assert phrase_hits_upto(db, phrase, seen, most) == min(phrase_hits(db, phrase, seen), most)


def test_an_opportunity_is_matched_by_its_role_areas_and_posting(log: Log) -> None:
    added = opportunities.add(log.ws, organisation="Apollo Research", role="Evals research engineer",
                              areas=["evals", "deception"],
                              posting={"text": "We build dangerous capability evaluations and study sandbagging."})
    found = matching.for_opportunity(log.ws, added.opportunity.slug, limit=3)
    assert found.work[0].title.startswith("A deception probe detects")
    assert found.problems[0].title.startswith("Sandbagging evals with password-locked")


def test_bad_input(log: Log) -> None:
    with pytest.raises(NotFound, match="no contact 'nobody'"):
        matching.for_contact(log.ws, "nobody")
    contacts.add(log.ws, "Quiet Person")
    with pytest.raises(BadInput, match="no research interests yet"):
        matching.for_contact(log.ws, "quiet")
    with pytest.raises(BadInput, match="--limit"):
        matching.for_contact(log.ws, "chris", limit=0)


def test_on_a_team_server_only_the_readers_own_work_is_matched(tmp_path: Path, db_url: str | None) -> None:
    """Bob's contact match: his own entries and questions, never cat's, though cat's are shared with him
    and match better."""
    ws = Workspace(home=tmp_path / "team", db=db_url, team=True)
    try:
        with access.acting_as(access.OWNER):
            users = {login: accounts.add_user(ws, login)[0] for login in ("ann", "bob", "cat")}
            lab = tree.add_node(ws, "agenda", "Lab")
            shared = tree.add_node(ws, "project", "Shared", under=lab.id)
            for login in ("bob", "cat"):
                accounts.share(ws, shared.id, login, "editor", by=None)

        def as_(login: str) -> access.Audience:  # read fresh: a node made since is in the roles
            return accounts.audience_for(ws, users[login])

        def question(login: str, title: str) -> None:
            # Made as the member; reading it back fails only because their roles were read before it was.
            with access.acting_as(as_(login)), contextlib.suppress(NotFound):
                tree.add_node(ws, "question", title, under=shared.id)

        with access.acting_as(as_("cat")):
            capture.note(ws, "Sparse autoencoders and feature splitting, by cat. CATMARK", kind="result",
                         under=shared.id)
        question("cat", "Cat asks: does feature splitting stop in sparse autoencoders?")
        question("bob", "Why does feature splitting happen?")
        with access.acting_as(as_("bob")):
            mine = capture.note(ws, "Feature splitting in my autoencoders.", kind="result", under=shared.id)
            contacts.add(ws, "Chris Olah", interests="sparse autoencoders, feature splitting")
        with access.acting_as(as_("bob")):
            found = matching.for_contact(ws, "chris")
            assert "CATMARK" in str([h.entry.body for h in recall.search(ws, "splitting").hits])  # bob sees it
            assert "Cat asks" in str([r.to_dict() for r in tree.tree(ws)])  # and cat's question
        assert [m.id for m in found.work] == [mine.id]
        assert [m.title for m in found.problems] == ["Why does feature splitting happen?"]
        with access.acting_as(as_("cat")), pytest.raises(NotFound):
            matching.for_contact(ws, "chris")  # bob's contacts are bob's
    finally:
        ws.close()
