"""Search: the query language, ranking, and the same answers on both engines."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from upstack.domain.filters import Filters
from upstack.domain.query import And, Not, Or, Tag, Term, parse_query
from upstack.services import capture, curate, recall
from upstack.store import search as search_module
from upstack.workspace import Workspace

CORPUS = [
    # (day, kind, project, text)
    (1, "note", "IOI", "Patching layer 5 kills the effect. Next: try head 5.1 #patching #ioi"),
    (2, "result", "IOI", "Head 5.1 is a name mover. It attends to the indirect object. #ioi/heads"),
    (3, "note", "SAE", "SAE width sweep. Reconstruction loss flattens at 16k features. #sae"),
    (4, "note", "IOI", "Patched, patching, patches: the patching pipeline is slow on layer 5. #infra"),
    (5, "question", None, "Ask Neel about head 5.1. Is it really a name mover or a backup? #ioi"),
    (6, "decision", "SAE", "Drop the 64k SAE. Too slow to train on one GPU. #sae #compute"),
    (7, "learning", "IOI", "Padding side matters. Left padding moved every position by one. #ioi"),
    (8, "stuck", "IOI", "Stuck on the logit difference. Numbers do not add up. #ioi #stuck"),
    (9, "note", None, "Café notes: naïve résumé of the week. Mentions head head head."),
    (10, "note", "SAE", "Feature splitting appears at width 32k. Is splitting an artefact? #sae/splitting"),
    (11, "note", None, "Duplicate text for ties. #ties"),
    (12, "note", None, "Duplicate text for ties. #ties"),
]


def _build(ws: Workspace) -> dict[str, str]:
    titles = {}
    for day, kind, project, text in CORPUS:
        entry = capture.note(ws, text, kind=kind, project=project,
                             occurred_at=f"2026-03-{day:02d}T10:00:00.000000Z")
        titles[entry.id] = entry.title
    return titles


def _titles(ws: Workspace, query: str, **filters: object) -> list[str]:
    page = recall.search(ws, query, Filters(**filters), limit=50)  # type: ignore[arg-type]
    return [hit.entry.title for hit in page.hits]


@pytest.fixture
def corpus(workspace: Workspace) -> Workspace:
    _build(workspace)
    return workspace


EXPECTED_MATCHES = {
    "head": {"Head 5.1 is a name mover.", "Patching layer 5 kills the effect.",
             "Ask Neel about head 5.1.", "Café notes: naïve résumé of the week."},
    '"head 5.1"': {"Head 5.1 is a name mover.", "Patching layer 5 kills the effect.",
                   "Ask Neel about head 5.1."},
    "head 5.1": {"Head 5.1 is a name mover.", "Patching layer 5 kills the effect.",
                 "Ask Neel about head 5.1."},
    "patch*": {"Patching layer 5 kills the effect.",
               "Patched, patching, patches: the patching pipeline is slow on layer 5."},
    "#ioi": {"Patching layer 5 kills the effect.", "Head 5.1 is a name mover.",
             "Ask Neel about head 5.1.", "Padding side matters.",
             "Stuck on the logit difference."},
    "#ioi/heads": {"Head 5.1 is a name mover."},
    "#sae -#sae/splitting": {"SAE width sweep.", "Drop the 64k SAE."},
    "sae OR splitting": {"SAE width sweep.", "Drop the 64k SAE.",
                         "Feature splitting appears at width 32k."},
    "(padding OR logit) #stuck": {"Stuck on the logit difference."},
    "head -mover": {"Patching layer 5 kills the effect.", "Café notes: naïve résumé of the week."},
    "head AND NOT #ioi": {"Café notes: naïve résumé of the week."},
    "cafe naive resume": {"Café notes: naïve résumé of the week."},
    "zzz": set(),
}


@pytest.mark.parametrize("query", sorted(EXPECTED_MATCHES))
def test_query_language_matches(corpus: Workspace, query: str) -> None:
    assert set(_titles(corpus, query)) == EXPECTED_MATCHES[query]


def test_not_alone_means_everything_else(corpus: Workspace) -> None:
    everything = set(_titles(corpus, ""))
    assert len(everything) == len(CORPUS) - 1  # the two duplicates share a title
    assert set(_titles(corpus, "NOT #ioi")) == everything - EXPECTED_MATCHES["#ioi"]


def test_ranking_is_by_relevance_not_time(corpus: Workspace) -> None:
    # Three "head"s in the body of the oldest-but-one entry; "head" in a title counts double.
    ranked = _titles(corpus, "head")
    assert ranked[0] in {"Café notes: naïve résumé of the week.", "Head 5.1 is a name mover."}
    assert ranked[-1] == "Patching layer 5 kills the effect."
    scores = [h.score for h in recall.search(corpus, "head").hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] > 0


def test_ties_go_to_the_newer_entry(corpus: Workspace) -> None:
    hits = recall.search(corpus, "duplicate").hits
    assert [h.entry.occurred_at[:10] for h in hits] == ["2026-03-12", "2026-03-11"]
    assert hits[0].score == hits[1].score


@pytest.mark.parametrize("query", ["head 5.1", "#ioi", "NOT x", '"unbalanced', "((a", "a)b",
                                   "OR", "AND", "NOT", "-", "*", "#", '"', "head OR", "-#",
                                   "patch**", "'single'", "%_\\", "a AND OR b", "NOT NOT head"])
def test_any_input_is_a_valid_query(corpus: Workspace, query: str) -> None:
    recall.search(corpus, query)  # no exception is the assertion


def test_filters_combine_with_search(corpus: Workspace) -> None:
    assert set(_titles(corpus, "head", kinds=("question",))) == {"Ask Neel about head 5.1."}
    assert set(_titles(corpus, "patch*", project="IOI")) == EXPECTED_MATCHES["patch*"]
    assert _titles(corpus, "patch*", project="SAE") == []
    assert set(_titles(corpus, "head", tags=("ioi",))) == {
        "Patching layer 5 kills the effect.", "Ask Neel about head 5.1."}
    assert set(_titles(corpus, "head", since="2026-03-04T00:00:00.000000Z",
                       until="2026-03-06T00:00:00.000000Z")) == {"Ask Neel about head 5.1."}


def test_search_follows_edits_deletes_and_restores(workspace: Workspace) -> None:
    entry = capture.note(workspace, "Probe accuracy is 91 percent. #probing")
    assert _titles(workspace, "accuracy") == ["Probe accuracy is 91 percent."]
    curate.edit(workspace, entry.id, "Probe precision is 91 percent.")
    assert _titles(workspace, "accuracy") == []
    assert _titles(workspace, "precision") == ["Probe precision is 91 percent."]
    curate.remove(workspace, entry.id)
    assert _titles(workspace, "precision") == []
    curate.restore(workspace, entry.id)
    assert _titles(workspace, "precision") == ["Probe precision is 91 percent."]


def test_snippets_highlight_the_query(corpus: Workspace) -> None:
    hit = recall.search(corpus, "indirect object").hits[0]
    highlighted = [hit.snippet[a:b] for a, b in hit.highlights]
    assert highlighted == ["indirect", "object"]


def test_parser_shapes() -> None:
    assert parse_query('patch* -"layer 5" #ioi') == And((
        Term(("patch",), True), Not(Term(("layer", "5"))), Tag("ioi")))
    assert parse_query("a OR b c") == Or((Term(("a",)), And((Term(("b",)), Term(("c",))))))
    assert parse_query("") is None
    assert parse_query("-") is None


def test_same_answers_on_sqlite_and_postgresql(tmp_path, make_pg_url) -> None:
    """The shared fixture: every query gives the same entries, order and scores on both."""
    sqlite_ws = Workspace(home=tmp_path / "a")
    pg_ws = Workspace(home=tmp_path / "b", db=make_pg_url())
    try:
        _build(sqlite_ws)
        _build(pg_ws)
        queries = sorted(EXPECTED_MATCHES) + ["", "NOT #ioi", "head OR NOT mover", "duplicate",
                                              "5", "#sae*", "head head", '"head head"']
        for query in queries:
            answers = []
            for ws in (sqlite_ws, pg_ws):
                page = recall.search(ws, query, limit=50)
                answers.append((page.total, [(h.entry.title, h.entry.occurred_at, h.score)
                                             for h in page.hits]))
            assert answers[0] == answers[1], query
    finally:
        sqlite_ws.close()
        pg_ws.close()


def test_same_pages_with_filters_offsets_and_common_words_on_both_engines(tmp_path, make_pg_url) -> None:
    """PostgreSQL ranks with IDFs from a count of their own, or (one word, no filters) from the
    ranking pass itself; either way, every page and total is what SQLite gives."""
    sqlite_ws = Workspace(home=tmp_path / "a")
    pg_ws = Workspace(home=tmp_path / "b", db=make_pg_url())
    try:
        for ws in (sqlite_ws, pg_ws):
            _build(ws)
            for i in range(15):  # "common" in more than half the entries: its IDF is clamped
                capture.note(ws, f"Common words, common again {i}. #c{i % 2}", kind="note" if i % 3 else "result",
                             occurred_at=f"2026-03-{13 + i:02d}T10:00:00.000000Z")
        for query in ["common", "head", "patching", "common OR head", "common -again", "#c1", "ties"]:
            for filters in (Filters(), Filters(kinds=("note",)), Filters(tags=("c0",))):
                for limit, offset in [(3, 0), (3, 3), (4, 8), (5, 100)]:
                    answers = []
                    for ws in (sqlite_ws, pg_ws):
                        page = recall.search(ws, query, filters, limit, offset)
                        answers.append((page.total, [(h.entry.title, h.entry.occurred_at, h.score)
                                                     for h in page.hits]))
                    assert answers[0] == answers[1], (query, filters, limit, offset)
    finally:
        sqlite_ws.close()
        pg_ws.close()


def test_totals_and_ranks_follow_new_entries(workspace: Workspace) -> None:
    """Counts (totals, IDFs) are cached until the store changes, never longer."""
    capture.note(workspace, "Probe accuracy is 91 percent. #probing")
    capture.note(workspace, "Unrelated entry.")
    notes = Filters(kinds=("note",))
    assert recall.search(workspace, "probe", notes).total == 1
    first = recall.search(workspace, "probe OR accuracy").hits[0].score
    capture.note(workspace, "Another probe, another accuracy. #probing")
    assert recall.search(workspace, "probe", notes).total == 2
    assert recall.search(workspace, "probe OR accuracy").total == 2
    assert recall.search(workspace, "probe OR accuracy").hits[0].score != first  # the IDFs moved


def test_fast_path_gives_what_the_general_query_gives(tmp_path) -> None:
    ws = Workspace(home=tmp_path / "w")
    _build(ws)
    for i in range(40):  # many ties at every page edge
        capture.note(ws, f"Tie entry {i % 3}. duplicate words here",
                     occurred_at=f"2026-04-01T10:00:{i:02d}.000000Z")
    db = ws.store().db
    general = search_module._top_by_rank
    for query in ["duplicate", "head", "tie OR duplicate", "#ioi", "patch*"]:
        for limit, offset in [(1, 0), (5, 0), (7, 3), (50, 0)]:
            fast = search_module.search(db, query, Filters(), limit, offset)
            search_module._top_by_rank = lambda *args: None  # type: ignore[assignment]
            try:
                slow = search_module.search(db, query, Filters(), limit, offset)
            finally:
                search_module._top_by_rank = general
            assert [h.entry.id for h in fast.hits] == [h.entry.id for h in slow.hits]
            assert fast.total == slow.total
    ws.close()


_QUERY_PIECES = st.one_of(
    st.sampled_from(["head", "5.1", "patch*", "#ioi", "#sae/", "AND", "OR", "NOT", "(", ")", '"',
                     "-", "-#ioi", "*", "#", "café", "layer", "5"]),
    st.text(alphabet=string.printable + "éü→", max_size=6),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_QUERY_PIECES, max_size=8))
def test_random_queries_never_fail(corpus: Workspace, pieces: list[str]) -> None:
    page = recall.search(corpus, " ".join(pieces))
    assert page.total >= len(page.hits)


@pytest.mark.parametrize("query", ["idea", "idea OR saes", "ide*"])
def test_an_offset_beyond_every_result_is_an_empty_page(corpus: Workspace, query: str) -> None:
    """The largest offset the API takes (2**63 - 1) plus a page's limit overflowed the engines'
    integers: a 500 (found by the API fuzzer). Far beyond the results, a page is empty."""
    found = recall.search(corpus, query, limit=200, offset=2**63 - 1)
    assert found.hits == [] and found.total >= 0
