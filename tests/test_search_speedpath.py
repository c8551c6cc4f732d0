"""A common word is ranked from stored counts (store.word_rank): the same answers as ranking
every match, on both engines, through edits, deletes and migration."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from upstack.domain.filters import Filters
from upstack.services import capture, curate, recall
from upstack.services.maintenance import doctor, reindex
from upstack.services.workspace import Workspace
from upstack.store import schema, word_rank
from upstack.store import search as search_module

WORDS = ["patching", "head", "layer", "probe", "loss", "the", "of", "sae", "circuit", "ioi"]


def _note(rng: random.Random, i: int) -> str:
    """A title and a body of varied lengths; words repeat (counts 1 to 6+), some texts are twins (ties)."""
    if i % 7 == 0:
        return "Twin title patching.\n\nthe same body for ties, patching once"
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 25)))
    return f"{title}.\n\n{body}"


def _fill(ws: Workspace, n: int = 90, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    ids = []
    for i in range(n):
        # Several entries share a time: time ties are broken by id.
        at = f"2026-05-{1 + i % 20:02d}T10:00:{i % 3:02d}.000000Z"
        ids.append(capture.note(ws, _note(rng, i), occurred_at=at).id)
    return ids


def _page(ws: Workspace, query: str, limit: int, offset: int, *, stored: bool) -> tuple[int, list[tuple[str, float]]]:
    saved = search_module.COMMON_WORD
    search_module.COMMON_WORD = 0 if stored else 10**9
    try:
        page = recall.search(ws, query, Filters(), limit, offset)
    finally:
        search_module.COMMON_WORD = saved
    return page.total, [(h.entry.id, h.score or 0.0) for h in page.hits]


@pytest.fixture
def filled(workspace: Workspace) -> Iterator[Workspace]:
    _fill(workspace)
    yield workspace


PAGES = [(1, 0), (5, 0), (10, 3), (20, 0), (7, 40), (100, 0), (5, 200)]


@pytest.mark.parametrize("word", WORDS + ["twin", "absent"])
def test_stored_counts_rank_like_every_match(filled: Workspace, word: str) -> None:
    for limit, offset in PAGES:
        assert _page(filled, word, limit, offset, stored=True) == _page(filled, word, limit, offset, stored=False), (
            word, limit, offset)


def test_the_stored_path_is_taken_and_can_disagree_if_broken(filled: Workspace) -> None:
    """The comparison above can fail: corrupt a stored count and the ranking moves."""
    db = filled.store().db
    before = _page(filled, "head", 10, 0, stored=True)
    last = db.one("SELECT entry_id FROM word_counts WHERE word = 'head' ORDER BY doc_len DESC, freq LIMIT 1")
    assert last is not None and last["entry_id"] not in [i for i, _ in before[1]]
    with db.transaction():
        db.execute("UPDATE word_counts SET freq = 99 WHERE word = 'head' AND entry_id = ?", (last["entry_id"],))
    assert _page(filled, "head", 10, 0, stored=True)[1][0][0] == last["entry_id"]
    assert _page(filled, "head", 10, 0, stored=False) == before


def test_short_entries_too_many_to_read_fall_back(filled: Workspace) -> None:
    saved = word_rank.WALK_BUDGET
    word_rank.WALK_BUDGET = 0
    try:
        db = filled.store().db
        assert word_rank.top_for_word(db, "head", 1000, 0, 80) is None
        assert _page(filled, "head", 1000, 0, stored=True) == _page(filled, "head", 1000, 0, stored=False)
    finally:
        word_rank.WALK_BUDGET = saved


def test_counts_follow_edits_deletes_and_restores(filled: Workspace) -> None:
    entry = capture.note(filled, "Probe probe probe.\n\nprobe probe probe probe")
    db = filled.store().db
    assert db.scalar("SELECT freq FROM word_counts WHERE entry_id = ? AND word = 'probe'", (entry.id,)) == 10
    assert _page(filled, "probe", 3, 0, stored=True)[1][0][0] == entry.id
    curate.edit(filled, entry.id, "Nothing here.\n\nloss loss loss")
    assert db.query("SELECT word, freq FROM word_counts WHERE entry_id = ?", (entry.id,)) == [
        {"word": "loss", "freq": 3}]
    assert entry.id not in [i for i, _ in _page(filled, "probe", 50, 0, stored=True)[1]]
    for limit, offset in PAGES:
        for word in ("probe", "loss"):
            assert _page(filled, word, limit, offset, stored=True) == _page(filled, word, limit, offset, stored=False)
    curate.remove(filled, entry.id)
    assert db.scalar("SELECT count(*) FROM word_counts WHERE entry_id = ?", (entry.id,)) == 0
    assert _page(filled, "loss", 50, 0, stored=True) == _page(filled, "loss", 50, 0, stored=False)
    curate.restore(filled, entry.id)
    assert db.scalar("SELECT count(*) FROM word_counts WHERE entry_id = ?", (entry.id,)) == 1
    assert _page(filled, "loss", 50, 0, stored=True) == _page(filled, "loss", 50, 0, stored=False)
    assert not [f for f in doctor(filled) if f.check == "search"]


def test_reindex_rebuilds_the_counts(filled: Workspace) -> None:
    db = filled.store().db
    before = db.query("SELECT * FROM word_counts ORDER BY entry_id, word")
    stats = db.one("SELECT docs, tokens FROM search_stats WHERE id = 1")
    assert stats == {"docs": 90, "tokens": db.scalar("SELECT sum(doc_len) FROM entry_search")}
    reindex(filled)
    assert db.query("SELECT * FROM word_counts ORDER BY entry_id, word") == before
    assert db.one("SELECT docs, tokens FROM search_stats WHERE id = 1") == stats


def test_a_schema_7_workspace_gets_its_counts(home, db_url) -> None:
    """Migration 8 fills word_counts (and SQLite's totals) from the search index as it stands."""
    from upstack.store import ingest

    saved = schema.MIGRATIONS, schema.LATEST, ingest.index_words, ingest.unindex_words
    schema.MIGRATIONS = tuple(m for m in saved[0] if m.version <= 7)
    schema.LATEST = 7
    ingest.index_words = lambda *args: None  # type: ignore[assignment]  # as upstack at schema 7 indexed
    ingest.unindex_words = lambda *args: None  # type: ignore[assignment]
    try:
        old = Workspace(home=home, db=db_url)
        _fill(old, 40)
        assert schema.current_version(old.store().db) == 7
        old.close()
    finally:
        schema.MIGRATIONS, schema.LATEST, ingest.index_words, ingest.unindex_words = saved
    ws = Workspace(home=home, db=db_url)
    try:
        db = ws.store().db
        assert schema.current_version(db) == schema.LATEST
        assert db.scalar("SELECT count(*) FROM word_counts") > 0
        expected = sorted(
            (r["entry_id"], word, n) for r in db.query(
                "SELECT s.entry_id, f.title_text, f.body_text FROM entry_search s JOIN entry_fts f ON f.rowid = s.rowid"
                if db.dialect == "sqlite" else "SELECT entry_id, title_text, body_text FROM entry_search")
            for word, n in word_rank.counted_words(r["title_text"], r["body_text"]))
        assert sorted((r["entry_id"], r["word"], r["freq"]) for r in db.query(
            "SELECT entry_id, word, freq FROM word_counts")) == expected
        for word in WORDS:
            for limit, offset in PAGES:
                assert _page(ws, word, limit, offset, stored=True) == _page(ws, word, limit, offset, stored=False)
        assert not [f for f in doctor(ws) if f.check == "search"]
    finally:
        ws.close()


def test_same_pages_on_both_engines(tmp_path, make_pg_url) -> None:
    sqlite_ws = Workspace(home=tmp_path / "a")
    pg_ws = Workspace(home=tmp_path / "b", db=make_pg_url())
    try:
        for ws in (sqlite_ws, pg_ws):
            _fill(ws)
        for word in WORDS:
            for limit, offset in PAGES:
                answers = []
                for ws in (sqlite_ws, pg_ws):
                    saved = search_module.COMMON_WORD
                    search_module.COMMON_WORD = 0
                    try:
                        page = recall.search(ws, word, Filters(), limit, offset)
                    finally:
                        search_module.COMMON_WORD = saved
                    answers.append((page.total, [(h.entry.title, h.entry.occurred_at, h.score) for h in page.hits]))
                assert answers[0] == answers[1], (word, limit, offset)
    finally:
        sqlite_ws.close()
        pg_ws.close()
