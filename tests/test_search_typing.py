"""Search as you type and "did you mean", on both engines.

- The search box's last word matches the words it starts (``selectiv`` finds ``selectivity``),
  ranked as the same prefix written with ``*``; the words before it are whole words.
- A misspelt word is offered respelt (``wieght decay`` -> ``weight decay``), the same on both
  engines, from the words of entries the reader may see only.
- Neither reveals a word that only hidden entries hold: another's private entry on a team
  server, a deleted entry, a purged one (whose words leave ``search_words`` too).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from upstack.domain import access
from upstack.domain.query import And, Not, Term, as_typed, parse_query
from upstack.services import accounts, capture, curate, recall, tree
from upstack.services.maintenance import doctor, reindex
from upstack.store import health, vocabulary
from upstack.store import search as search_module
from upstack.workspace import Workspace
from webserver import Server, serve

NOTES = [
    "Head selectivity under weight decay. The probe shows that weight decay matters for selectivity.",
    "Selective heads. Another note on selective attention and weight norms.",
    "Learning rate sweep. The decay schedule was cosine; weights were saved each epoch.",
    "Height of the loss curve. Nothing to do with weight at all.",
    "Patching the residual stream. Patched runs and patching notes, weight decay off.",
]


def _titles(ws: Workspace, query: str, *, typed: bool) -> set[str]:
    return {h.entry.title for h in recall.search(ws, query, limit=50, typed=typed).hits}


@pytest.fixture
def notes(workspace: Workspace) -> Workspace:
    for day, text in enumerate(NOTES, start=1):
        capture.note(workspace, text, occurred_at=f"2026-06-{day:02d}T09:00:00.000000Z")
    return workspace


# -- the last word as typed ------------------------------------------------------------------

def test_the_last_word_matches_the_words_it_starts(notes: Workspace) -> None:
    assert _titles(notes, "selectiv", typed=True) == {"Head selectivity under weight decay.", "Selective heads."}
    assert _titles(notes, "selectiv", typed=False) == set()  # a finished query matches whole words
    assert _titles(notes, "selectivi", typed=True) == {"Head selectivity under weight decay."}
    assert _titles(notes, "weight dec", typed=True) == {"Patching the residual stream.",
                                                        "Head selectivity under weight decay."}
    # Only the last word: "weigh" before it is a whole word, which no note holds.
    assert _titles(notes, "weigh decay", typed=True) == set()
    assert _titles(notes, "weight dec ", typed=True) == set()  # a space after it: the word is finished
    assert _titles(notes, "decay -selectiv", typed=True) == _titles(notes, "decay -selectiv", typed=False)


def test_typed_words_rank_as_the_prefix_written_with_a_star(notes: Workspace, monkeypatch) -> None:
    """The same entries, order and scores as ``word*``, and as the prefix ranked over every word it
    starts (store.search.settled writes a prefix that starts one word as that word)."""
    for typed in ("selectiv", "selectivi", "weight dec", "patch", "patchi", "wei", "decay -sel", "hei OR sel"):
        def answer(text: str, *, as_typed_box: bool) -> list[tuple[str, float | None]]:
            return [(h.entry.id, h.score) for h in recall.search(notes, text, limit=50, typed=as_typed_box).hits]

        settled = answer(typed, as_typed_box=True)
        assert settled == answer(as_typed(typed), as_typed_box=False)
        monkeypatch.setattr(search_module, "only_completion", lambda *args, **kwargs: None)
        assert answer(typed, as_typed_box=True) == settled, typed
        monkeypatch.undo()


def test_a_prefix_that_starts_one_word_is_searched_as_that_word(notes: Workspace) -> None:
    db = notes.store().db
    seen = vocabulary.reader_corpus(db)
    assert vocabulary.completions(db, "selectivi", seen) == ["selectivity"]
    assert vocabulary.completions(db, "selectiv", seen) == ["selective", "selectivity"]
    assert vocabulary.completions(db, "zzz", seen) == []
    assert search_module.settled(db, parse_query("weight selectivi* -selectivi*"), seen) == And((
        Term(("weight",)), Term(("selectivity",)), Not(Term(("selectivity",)))))
    assert search_module.settled(db, parse_query("selectiv*"), seen) == Term(("selectiv",), prefix=True)
    # A word of a deleted entry is still kept: the index is asked which of the two the corpus holds.
    curate.remove(notes, capture.note(notes, "Selectivities, plural.").id)
    assert "selectivities" in health.search_words(db)
    assert search_module.settled(db, parse_query("selectivit*"), vocabulary.reader_corpus(db)) == Term(
        ("selectivity",))
    page = recall.search(notes, "selectivi", typed=True)
    assert page.total == 1 and page.hits[0].highlights  # the word is marked in the snippet


# -- did you mean ----------------------------------------------------------------------------

def test_a_misspelt_word_is_offered_respelt(notes: Workspace) -> None:
    assert recall.suggest(notes, "wieght decay") == "weight decay"
    assert recall.suggest(notes, "Wieght  decay") == "weight  decay"
    assert recall.suggest(notes, '"wieght decay" OR selectivty') == '"weight decay" OR selectivity'
    assert recall.suggest(notes, "weight decay") is None  # every word is found
    assert recall.suggest(notes, "wieght", typed=True) == "weight"  # a last word that starts no word
    assert recall.suggest(notes, "weig", typed=True) is None  # ... and one that does
    assert recall.suggest(notes, "zqxjk") is None  # nothing near
    assert recall.suggest(notes, "-wieght decay") is None  # not searched for
    assert recall.suggest(notes, "#wieght decay") is None  # a tag is not a word
    assert recall.suggest(notes, "wiegt") is None  # two edits, and too short for two


def test_only_the_first_words_of_a_long_query_are_looked_at(notes: Workspace) -> None:
    """A crafted query of hundreds of words costs what a typed one does (MOST_LOOKED_AT words)."""
    from upstack.domain.spelling import MOST_LOOKED_AT, looked_at

    filler = [f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}x" for i in range(30)]  # near the most a query may have (32)
    assert len(looked_at(parse_query(" ".join(filler)))) == MOST_LOOKED_AT
    late = " OR ".join([*filler[:MOST_LOOKED_AT], "wieght"])
    assert recall.suggest(notes, late) is None  # the misspelt word came after the first ones
    assert recall.suggest(notes, " OR ".join(["wieght", *filler[:MOST_LOOKED_AT]])).startswith("weight OR")


def test_a_search_that_found_entries_asks_nothing_more_unless_it_has_an_or(notes: Workspace, monkeypatch) -> None:
    assert recall.suggest(notes, "wieght OR decay", matched=True) == "weight OR decay"

    def asked(*args: object) -> None:
        raise AssertionError("the store was asked")

    monkeypatch.setattr(vocabulary, "reader_corpus", asked)
    assert recall.suggest(notes, "weight decay -wieght", matched=True) is None
    assert recall.suggest(notes, '"weight decay" selectiv', typed=True, matched=True) is None


def test_equally_near_words_go_to_the_one_more_entries_hold(workspace: Workspace) -> None:
    for text in ("Weight one.", "Weight two.", "Height one."):
        capture.note(workspace, text)
    # "weigjt" and "heigjt": one edit from one word each; "eight" is one from both, weight held more.
    assert recall.suggest(workspace, "xeight") == "weight"
    capture.note(workspace, "Height two. Height three.")
    capture.note(workspace, "Height four.")
    assert recall.suggest(workspace, "xeight") == "height"


def test_the_suggestions_are_the_same_on_both_engines(tmp_path: Path, make_pg_url) -> None:
    """The same notes on SQLite and PostgreSQL: every query, typed or not, gets the same suggestion
    and the same typed results."""
    queries = ["wieght decay", "selectivty", "hedas", "lerning rate", "patchign", "wieght", "sweap",
               "residaul strem", "selectiv", "wei", "weight dec", "curev OR hieght", "nothign"]
    answers = []
    for url in (None, make_pg_url()):
        with Workspace(home=tmp_path / str(bool(url)), db=url) as ws:
            for day, text in enumerate(NOTES, start=1):
                capture.note(ws, text, occurred_at=f"2026-06-{day:02d}T09:00:00.000000Z")
            answers.append({(q, typed): (recall.suggest(ws, q, typed=typed),
                                         [(h.entry.title, h.score) for h in recall.search(ws, q, typed=typed).hits])
                            for q in queries for typed in (False, True)})
    assert answers[0] == answers[1]
    assert answers[0][("residaul strem", False)][0] == "residual stream"


# -- nothing hidden is completed or offered ----------------------------------------------------

@pytest.fixture
def team(workspace: Workspace) -> Iterator[tuple[Workspace, access.Audience, access.Audience]]:
    """Ann and Bob share a project; each has a private note under it with a word of their own."""
    ann, bob = (accounts.add_user(workspace, login)[0] for login in ("ann", "bob"))
    project = tree.add_node(workspace, "project", "Shared")
    accounts.share(workspace, project.id, "bob", "editor", by=None)
    as_ann, as_bob = accounts.audience_for(workspace, ann), accounts.audience_for(workspace, bob)
    with access.acting_as(as_ann):
        capture.note(workspace, "Quokkalogy notes. Weight decay and quokkalogy.", under=project.id, private=True)
        capture.note(workspace, "Shared note. Weight decay for everyone.", under=project.id)
    with access.acting_as(as_bob):
        capture.note(workspace, "Bob's own. Wombatry is a private word.", under=project.id, private=True)
    yield workspace, as_ann, as_bob


def test_a_private_word_is_neither_completed_nor_offered_to_another(team) -> None:
    ws, as_ann, as_bob = team
    with access.acting_as(as_bob):
        assert recall.search(ws, "quokka", typed=True).total == 0
        assert recall.search(ws, "quokkalog", typed=True).total == 0
        assert vocabulary.completions(ws.store().db, "quokk", vocabulary.reader_corpus(ws.store().db)) == []
        assert recall.suggest(ws, "quokkalogi") is None
        assert recall.suggest(ws, "quokka", typed=True) is None
        assert recall.suggest(ws, "wombatyr") == "wombatry"  # his own word
        assert recall.search(ws, "wombat", typed=True).total == 1
        assert recall.suggest(ws, "wieght decay") == "weight decay"
    with access.acting_as(as_ann):
        assert recall.search(ws, "quokka", typed=True).total == 1
        assert vocabulary.completions(ws.store().db, "quokk", vocabulary.reader_corpus(ws.store().db)) == [
            "quokkalogy"]
        assert recall.suggest(ws, "quokkalogi") == "quokkalogy"
        assert recall.search(ws, "wombat", typed=True).total == 0
        assert recall.suggest(ws, "wombatyr") is None
    with access.acting_as(access.NOBODY):
        assert recall.search(ws, "weight", typed=True).total == 0
        assert recall.suggest(ws, "wieght") is None


def test_a_deleted_entrys_words_are_neither_completed_nor_offered(notes: Workspace) -> None:
    gone = capture.note(notes, "Zygomorphic flowers. Only this note says zygomorphic.")
    assert recall.search(notes, "zygomor", typed=True).total == 1
    assert recall.suggest(notes, "zygomorfic") == "zygomorphic"
    curate.remove(notes, gone.id)
    assert recall.search(notes, "zygomor", typed=True).total == 0
    assert recall.suggest(notes, "zygomorfic") is None
    curate.restore(notes, gone.id)
    assert recall.suggest(notes, "zygomorfic") == "zygomorphic"


def test_a_purged_entrys_words_leave_the_vocabulary(notes: Workspace) -> None:
    secret = capture.note(notes, "Xenolith draft. Xenolithic and weight.")
    curate.edit(notes, secret.id, "Xenolith draft. Batholith now, and weight.")
    db = notes.store().db
    assert {"xenolith", "xenolithic", "batholith", "weight"} <= health.search_words(db)
    curate.purge(notes, curate.purge_target(notes, secret.id))
    words = health.search_words(db)
    assert not {"xenolith", "xenolithic", "batholith"} & words and "weight" in words  # others still hold it
    assert not [f for f in doctor(notes) if f.check == "search"]


def test_a_word_is_written_once_a_transaction_yet_never_lost(workspace: Workspace) -> None:
    """add_words skips what its transaction wrote already: not after a part of it rolled back, nor
    after a purge in it took the word out again."""
    db = workspace.store().db
    with db.transaction():
        with pytest.raises(RuntimeError), db.transaction():
            vocabulary.add_words(db, " quoll ", "")
            raise RuntimeError("this record cannot be applied")
        vocabulary.add_words(db, " quoll  quinoa ", "")
        vocabulary.forget_words(db, ["quinoa"])  # no indexed entry holds it
        vocabulary.add_words(db, "", " quinoa ")
    assert {"quoll", "quinoa"} <= health.search_words(db)


def test_doctor_notices_a_missing_word_and_reindex_brings_it_back(notes: Workspace) -> None:
    db = notes.store().db
    with db.transaction():
        db.execute("DELETE FROM search_words WHERE word = 'selectivity'")
    assert [f.subject for f in doctor(notes) if f.check == "search"] == ["search words"]
    reindex(notes)
    assert "selectivity" in health.search_words(db)
    assert not [f for f in doctor(notes) if f.check == "search"]


def test_a_schema_11_workspace_gets_its_words(home: Path, db_url: str | None) -> None:
    """Migration 12 fills search_words from the index as it stands."""
    from helpers_reliability import make_workspace

    make_workspace(home, db_url, 11, NOTES, [])
    with Workspace(home=home, db=db_url) as ws:
        words = health.search_words(ws.store().db)
        assert {"selectivity", "selective", "weight", "decay", "cosine"} <= words
        assert recall.suggest(ws, "wieght decay") == "weight decay"
        assert not [f for f in doctor(ws) if f.check == "search"]


# -- the command and the page ------------------------------------------------------------------

def test_the_command_says_did_you_mean(run) -> None:
    for text in NOTES:
        run.ok("note", text)
    out = run.ok("search", "wieght", "decay")
    assert out.splitlines() == ["No entries match 'wieght decay'.", "Did you mean: weight decay?"]
    assert "Did you mean: weight OR decay?" in run.ok("search", "wieght", "OR", "decay")
    found = json.loads(run.ok("search", "wieght", "decay", "--json"))
    assert found["suggestion"] == "weight decay" and found["total"] == 0
    assert json.loads(run.ok("search", "weight", "--json"))["suggestion"] is None
    assert run.ok("search", "selectiv").startswith("No entries match")  # the command matches whole words


@pytest.fixture
def server(notes: Workspace) -> Iterator[Server]:
    with serve(notes.home, notes.db_url) as running:
        yield running


def test_the_page_searches_as_you_type_and_offers_a_respelling(server: Server) -> None:
    client = server.client()
    typed = client.get("/search/results", params={"q": "selectiv"}, headers={"HX-Request": "true"})
    assert "<mark>Selective</mark> heads." in typed.text and "Head <mark>selectivity</mark>" in typed.text
    page = client.get("/search", params={"q": "wieght decay", "kind": "note"}).text
    assert 'Did you mean: <a href="/search?q=weight+decay&amp;kind=note" rel="nofollow">weight decay</a>?' in page
    found = client.get("/search.json", params={"q": "wieght decay"}).json()
    assert found["suggestion"] == "weight decay" and found["links"]["suggestion"] == "/search?q=weight+decay"
    assert client.get("/search.json", params={"q": "selectiv"}).json()["total"] == 2
    assert client.get("/search.json", params={"q": "weight"}).json()["suggestion"] is None


# -- as if hidden entries were never written ---------------------------------------------------

TYPED = ["patchw", "patchwo", "zyzz", "patch", "patc", "hea", "circ", "the pro", "loss AND he", "sae OR zyz"]
MISSPELT = ["zyzzyve", "zyzzyvas", "patchwrk", "pacthing", "haed", "circiut", "probee", "layr OR lsos", "patchign"]


@pytest.mark.parametrize("seed", [1, 2])
def test_a_reader_types_and_is_respelt_as_if_hidden_entries_were_never_written(tmp_path, engine, make_pg_url,
                                                                                seed) -> None:
    """tests/test_search_privacy.py's two builds of one team: bob's typed results and suggestions in the
    full workspace are exactly those of the one where what he may not see was never written."""
    from test_search_privacy import HIDDEN_ONLY, build, random_specs

    specs = random_specs(seed)
    urls = (make_pg_url(), make_pg_url()) if engine == "postgresql" else (None, None)
    full = build(tmp_path / "full", urls[0], specs, only_bobs_view=False)
    seen = build(tmp_path / "seen", urls[1], specs, only_bobs_view=True)

    def answers(built) -> dict[tuple[str, bool], object]:  # type: ignore[no-untyped-def]
        with access.acting_as(built.bob):
            return {(q, typed): (recall.suggest(built.ws, q, typed=typed),
                                 [(h.entry.id, h.snippet) for h in recall.search(built.ws, q, typed=typed).hits])
                    for q in TYPED + MISSPELT for typed in (False, True)}

    try:
        assert set(HIDDEN_ONLY) <= health.search_words(full.ws.store().db)  # the words are there to leak
        got, never_written = answers(full), answers(seen)
        assert got == never_written
        assert got[("zyzzyve", False)][0] is None and got[("patchw", True)] == (None, [])
        with access.acting_as(access.OWNER):
            assert recall.suggest(full.ws, "zyzzyve") == "zyzzyva"  # the owner sees it
    finally:
        full.ws.close()
        seen.ws.close()
