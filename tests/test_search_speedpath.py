"""A common word is ranked from stored counts (store.word_rank): the same answers as ranking
every match, on both engines, through edits, deletes and migration, with filters and for
signed-in readers (who see only their part of the log)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

import pytest

from upstack.domain import access
from upstack.domain.access import Audience
from upstack.domain.filters import Filters
from upstack.services import capture, curate, recall
from upstack.services.maintenance import doctor, reindex
from upstack.store import bm25, schema, word_rank
from upstack.store import search as search_module
from upstack.store.queries import filter_sql, load_entries, visible_sql
from upstack.workspace import Workspace

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
    saved = search_module.COMMON_WORD, search_module.COMMON_WORD_IN_SQL
    search_module.COMMON_WORD = search_module.COMMON_WORD_IN_SQL = 0 if stored else 10**9
    try:
        page = recall.search(ws, query, Filters(), limit, offset)
    finally:
        search_module.COMMON_WORD, search_module.COMMON_WORD_IN_SQL = saved
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

    def revision_at_schema_7(db, revision_id, entry_id, parent_id, number, kind, title, body, tags,  # type: ignore[no-untyped-def]
                             workspace, created_at, meta=None) -> None:
        db.execute("INSERT INTO revisions (id, entry_id, parent_id, number, kind, title, body, tags, workspace_id, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (revision_id, entry_id, parent_id, number,
                   kind, title, body, ingest._dumps(list(tags)), workspace, created_at))  # no checksum yet

    saved = (schema.MIGRATIONS, schema.LATEST, ingest.index_words, ingest.unindex_words, ingest._insert_revision,
             ingest.add_words, ingest._set_names, ingest.entry_other_names, ingest.link_target, Workspace.writer_offset)
    schema.MIGRATIONS = tuple(m for m in saved[0] if m.version <= 7)
    schema.LATEST = 7
    ingest.index_words = lambda *args: None  # type: ignore[assignment]  # as upstack at schema 7 indexed
    ingest.unindex_words = lambda *args: None  # type: ignore[assignment]
    ingest.add_words = lambda *args: None  # type: ignore[assignment]
    ingest._insert_revision = revision_at_schema_7  # type: ignore[assignment]  # and stored revisions
    ingest._set_names = lambda *args, **kwargs: None  # type: ignore[assignment]  # with no other names
    ingest.entry_other_names = lambda *args: []  # type: ignore[assignment]
    ingest.link_target = lambda *args, **kwargs: None  # type: ignore[assignment]  # (links: not counted here)
    Workspace.writer_offset = lambda self: {}  # type: ignore[method-assign]  # and wrote notes with no offset
    try:
        old = Workspace(home=home, db=db_url)
        _fill(old, 40)
        assert schema.current_version(old.store().db) == 7
        old.close()
    finally:
        (schema.MIGRATIONS, schema.LATEST, ingest.index_words, ingest.unindex_words,
         ingest._insert_revision, ingest.add_words, ingest._set_names, ingest.entry_other_names,
         ingest.link_target, Workspace.writer_offset) = saved
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
                    saved = search_module.COMMON_WORD, search_module.COMMON_WORD_IN_SQL
                    search_module.COMMON_WORD = search_module.COMMON_WORD_IN_SQL = 0
                    try:
                        page = recall.search(ws, word, Filters(), limit, offset)
                    finally:
                        search_module.COMMON_WORD, search_module.COMMON_WORD_IN_SQL = saved
                    answers.append((page.total, [(h.entry.title, h.entry.occurred_at, h.score) for h in page.hits]))
                assert answers[0] == answers[1], (word, limit, offset)
    finally:
        sqlite_ws.close()
        pg_ws.close()


# -- on a team server, and with filters: the ranking of the reader's view, restricted to what is shown

@pytest.fixture
def team(workspace: Workspace) -> Iterator[tuple[Workspace, dict[str, Audience]]]:
    """90 entries by three authors under a small tree (some private, unfiled, of other kinds or
    tagged), and five readers who see different parts of it."""
    from upstack.services import accounts
    from upstack.services import tree as tree_service

    ann = accounts.add_user(workspace, "ann")[0]  # the first account: the workspace owner
    bob = accounts.add_user(workspace, "bob")[0]
    cat = accounts.add_user(workspace, "cat")[0]
    dan = accounts.add_user(workspace, "dan")[0]
    agenda = tree_service.add_node(workspace, "agenda", "Agenda")
    alpha = tree_service.add_node(workspace, "project", "Alpha", under=agenda.id)
    beta = tree_service.add_node(workspace, "project", "Beta", under=agenda.id)
    question = tree_service.add_node(workspace, "question", "Why", under=alpha.id)
    for node, login, role in ((alpha, "bob", "editor"), (beta, "cat", "editor"), (question, "dan", "viewer")):
        accounts.share(workspace, node.id, login, role, by=None)
    rng = random.Random(11)
    writers = {"ann": (ann, [None, agenda.id, alpha.id, beta.id, question.id]), "bob": (bob, [None, alpha.id]),
               "cat": (cat, [None, beta.id])}
    for i in range(90):
        user, nodes = writers[rng.choice(["ann", "ann", "bob", "cat"])]
        with access.acting_as(accounts.audience_for(workspace, user)):
            capture.note(workspace, _note(rng, i), under=rng.choice(nodes), private=rng.random() < 0.15,
                         kind=rng.choice(["note", "note", "result"]), tags=["mine"] if i % 4 == 0 else None,
                         occurred_at=f"2026-05-{1 + i % 20:02d}T10:00:{i % 3:02d}.000000Z")
    eve = accounts.add_user(workspace, "eve")[0]  # sees nothing, writes nothing
    readers = {user.login: accounts.audience_for(workspace, user) for user in (ann, bob, cat, dan, eve)}
    yield workspace, readers


def _ranking_of_view(ws: Workspace, word: str, reader: Audience | None) -> list[tuple[str, float]]:
    """One word's BM25 ranking computed here, from the index's texts, over the entries ``reader`` may
    see (every entry for None): the count, average length and IDF are the view's, as FTS5's bm25()
    gives them on an index that holds only those entries. Best first, ties newest first, with scores."""
    db = ws.store().db
    texts = ("SELECT s.entry_id, s.occurred_at, s.doc_len, f.title_text, f.body_text FROM entry_search s "
             "JOIN entry_fts f ON f.rowid = s.rowid" if db.dialect == "sqlite" else
             "SELECT entry_id, occurred_at, doc_len, title_text, body_text FROM entry_search s")
    with access.acting_as(access.OWNER):
        rows = db.query(texts)
        entries = {e.id: e for e in load_entries(db, [r["entry_id"] for r in rows])}
    view = [r for r in rows if reader is None or reader.sees_entry(
        author_id=entries[r["entry_id"]].author_id, private=entries[r["entry_id"]].private,
        node_id=entries[r["entry_id"]].node_id)]
    if not view:
        return []
    average = float(sum(r["doc_len"] for r in view)) / float(len(view))
    counts = {r["entry_id"]: 2 * r["title_text"].split().count(word) + r["body_text"].split().count(word)
              for r in view}
    weight = bm25.idf(len(view), sum(1 for n in counts.values() if n))
    ranked = [(r["entry_id"], r["occurred_at"], word_rank.bm25(weight, counts[r["entry_id"]], r["doc_len"], average))
              for r in view if counts[r["entry_id"]]]
    ranked.sort(key=lambda r: (r[1], r[0]), reverse=True)
    ranked.sort(key=lambda r: r[2])
    return [(i, -score) for i, _, score in ranked]


def _restricted(ws: Workspace, word: str, reader: Audience | None, filters: Filters) -> list[tuple[str, float]]:
    """The ranking of ``reader``'s view (``_ranking_of_view``), then only what ``filters`` keep: what
    a signed-in search must give, in that order, with those scores."""
    with access.acting_as(access.OWNER):
        filtered = {h.entry.id for h in recall.search(ws, word, filters, 1000, 0).hits}
    return [(i, score) for i, score in _ranking_of_view(ws, word, reader) if i in filtered]


def _stored_page(ws: Workspace, word: str, limit: int, offset: int, filters: Filters) -> list[tuple[str, float]] | None:
    """``word_rank.top_for_word`` itself, for the signed-in reader and ``filters`` (None: it fell back)."""
    reader = access.current()
    db = ws.store().db
    seen = bm25.corpus(db, visible_sql(reader) if reader is not None else None)
    matches = len(_ranking_of_view(ws, word, reader))  # the word's entries in the reader's view (its IDF)
    if not matches:
        return []  # nothing to rank (top_for_word leaves that to the general query)
    where = filter_sql(db, replace(filters, include_deleted=True))
    rows = word_rank.top_for_word(db, word, limit, offset, matches, where, seen)
    return None if rows is None else [(r["id"], -r["score"] or 0.0) for r in rows]


TEAM_WORDS = ["patching", "head", "the", "twin"]


@pytest.mark.parametrize("word", TEAM_WORDS)
def test_a_reader_gets_the_full_ranking_of_what_they_may_see(team, word: str) -> None:
    """Hidden entries never appear and never weigh: the ones shown come in the order of a ranking
    over the reader's view alone (computed here from the texts), ties too, by either path."""
    ws, readers = team
    for login, reader in readers.items():
        expected = _restricted(ws, word, reader, Filters())
        with access.acting_as(reader):
            for limit, offset in PAGES:
                page = (len(expected), [(i, 0.0) for i, _ in expected[offset:offset + limit]])  # no scores shown
                assert _page(ws, word, limit, offset, stored=True) == page, (login, limit, offset)
                assert _page(ws, word, limit, offset, stored=False) == page, (login, limit, offset)
                # The stored counts answered (no fallback), with the full ranking's own scores.
                assert _stored_page(ws, word, limit, offset, Filters()) == expected[offset:offset + limit], (
                    login, limit, offset)


def test_leaving_out_the_readers_view_would_show_hidden_entries(team) -> None:
    """The comparisons above can fail: without the reader's condition, hidden entries rank on the page."""
    ws, readers = team
    db = ws.store().db
    matches = _page(ws, "patching", 1, 0, stored=False)[0]
    for login in ("bob", "cat", "dan", "eve"):
        shown = {i for i, _ in _restricted(ws, "patching", readers[login], Filters())}
        everything = word_rank.top_for_word(db, "patching", 20, 0, matches)
        assert everything is not None and {r["id"] for r in everything} - shown, login
        with access.acting_as(readers[login]):
            assert {i for i, _ in _page(ws, "patching", 1000, 0, stored=True)[1]} == shown


FILTERS = [Filters(kinds=("result",)), Filters(tags=("mine",)), Filters(project="Alpha"),
           Filters(since="2026-05-04T00:00:00.000000Z", until="2026-05-12T23:59:59.999999Z"),
           Filters(kinds=("note",), project="Agenda", since="2026-05-03T00:00:00.000000Z"),
           Filters(include_private=False)]


@pytest.mark.parametrize("filters", FILTERS, ids=["kind", "tag", "project", "dates", "combined", "not-private"])
def test_filters_rank_as_the_full_ranking_does(team, filters: Filters) -> None:
    ws, readers = team
    ranked = 0
    for reader in (None, readers["ann"], readers["bob"], readers["cat"]):
        for word in ("patching", "head"):
            expected = _restricted(ws, word, reader, filters)
            ranked += len(expected) > 5
            with access.acting_as(reader):
                for limit, offset in PAGES:
                    page = recall.search(ws, word, filters, limit, offset)
                    scores = [h.score for h in page.hits] if reader is None else None
                    want = expected[offset:offset + limit]
                    assert (page.total, [h.entry.id for h in page.hits]) == (len(expected), [i for i, _ in want])
                    assert scores in (None, [s for _, s in want])
                    assert _stored_page(ws, word, limit, offset, filters) == want, (reader, word, limit, offset)
    assert ranked >= 3  # several readers have more than a page of 5 to rank


def test_a_reader_who_sees_little_falls_back_to_every_match(team) -> None:
    """Few entries shown: the page's edge is low, and reading the short entries would cost too much."""
    ws, readers = team
    db = ws.store().db
    saved = word_rank.WALK_BUDGET
    word_rank.WALK_BUDGET = int(db.scalar("SELECT count(*) FROM entry_search")) - 1  # all of them: too many
    try:
        assert _stored_page(ws, "patching", 5, 0, Filters()) is not None  # everything shown: a few are read
        with access.acting_as(readers["eve"]):  # nothing shown: nothing to rank
            assert _stored_page(ws, "patching", 5, 0, Filters()) == []
            assert _page(ws, "patching", 5, 0, stored=True) == (0, [])
        with access.acting_as(readers["dan"]):
            assert _stored_page(ws, "patching", 5, 0, Filters()) is None
            expected = _restricted(ws, "patching", readers["dan"], Filters())
            assert _page(ws, "patching", 5, 0, stored=True) == (len(expected), [(i, 0.0) for i, _ in expected[:5]])
    finally:
        word_rank.WALK_BUDGET = saved
