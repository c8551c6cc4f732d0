"""Facet counts and the cache behind them: counted once, and counted again after any write."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from upstack.domain.filters import Filters
from upstack.services import capture, curate, facets, recall
from upstack.store import cache
from upstack.store.db import Database
from upstack.store.facets import COUNTS, facet_counts
from upstack.workspace import Workspace
from webserver import Server, serve


def _kind_counts(html: str) -> dict[str, int]:
    """The kind facet as the page shows it: each kind's link and its count."""
    return {kind: int(n) for kind, n in re.findall(
        r'kind=([a-z]+)" >[a-z]+</a>\s*<span class="count">(\d+)</span>', html)}


def _note(ws: Workspace, text: str, day: int, **options: object) -> str:
    return capture.note(ws, text, occurred_at=f"2020-02-{day:02d}T10:00:00.000000Z", **options).id  # type: ignore[arg-type]


@pytest.fixture
def other(workspace: Workspace) -> Iterator[Workspace]:
    """A second workspace object on the same store: another connection, as another process has."""
    ws = Workspace(home=workspace.home, db=workspace.db_url)
    yield ws
    ws.close()


# -- the store's generation -------------------------------------------------------------------------

@pytest.mark.usefixtures("quiet_postgres")  # a cache hit on PostgreSQL needs no commit elsewhere
def test_the_generation_moves_after_every_commit_from_any_connection(workspace: Workspace,
                                                                     other: Workspace) -> None:
    _note(workspace, "First note.", 1)
    db, elsewhere = workspace.store().db, other.store().db
    first = cache.generation(db)
    assert cache.generation(db) == first  # nothing written: the same
    _note(other, "Written through the other connection.", 2)
    other.ingest()  # the other connection ingests it and commits
    second = cache.generation(db)
    assert second != first
    assert cache.generation(db) == second
    _note(workspace, "Written through this connection.", 3)
    workspace.ingest()
    assert cache.generation(db) != second
    assert cache.database_identity(db) == cache.database_identity(elsewhere)


def test_nothing_is_cached_inside_a_transaction(workspace: Workspace) -> None:
    db: Database = workspace.store().db
    assert cache.store_key(db, "question") is not None
    with db.transaction():
        assert cache.store_key(db, "question") is None
        counts = facet_counts(db, "anything", Filters())
    assert counts.total == 0


# -- facet counts ---------------------------------------------------------------------------------

@pytest.mark.usefixtures("quiet_postgres")  # a cache hit on PostgreSQL needs no commit elsewhere
def test_counts_come_from_the_cache_until_the_store_changes(workspace: Workspace, other: Workspace) -> None:
    _note(workspace, "Patching the heads. #patching", 1)
    _note(workspace, "Ablation, not patching. #ablation", 2, kind="learning")
    db = workspace.store().db
    first = facet_counts(db, "patching", Filters())
    assert (first.total, dict(first.kinds), dict(first.tags)) == (2, {"note": 1, "learning": 1},
                                                                    {"patching": 1, "ablation": 1})
    assert facet_counts(db, "patching", Filters()) is first  # the very same answer: not counted again
    assert facet_counts(db, "patching", Filters(kinds=("note",))) is not first  # another question

    _note(other, "More patching, from elsewhere. #patching", 3)
    other.ingest()
    again = facet_counts(db, "patching", Filters())
    assert again is not first and (again.total, again.tags["patching"]) == (3, 2)

    (hit,) = recall.search(workspace, "elsewhere").hits
    curate.remove(workspace, hit.entry.id)
    assert facet_counts(db, "patching", Filters()).total == 2


@pytest.mark.usefixtures("quiet_postgres")  # a cache hit on PostgreSQL needs no commit elsewhere
def test_cached_facets_are_only_what_was_counted(workspace: Workspace) -> None:
    _note(workspace, "Patching the heads. #patching", 1)
    COUNTS.clear()
    assert facets.cached_search_facets(workspace, "patching") is None  # never counts
    counted = facets.search_facets(workspace, "patching")
    cached = facets.cached_search_facets(workspace, "patching")
    assert cached is not None and cached.to_dict() == counted.to_dict()
    _note(workspace, "Patching again. #patching", 2)
    workspace.ingest()
    assert facets.cached_search_facets(workspace, "patching") is None


# -- the search page ------------------------------------------------------------------------------

@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url) as running:
        yield running


@pytest.mark.usefixtures("quiet_postgres")  # a cache hit on PostgreSQL needs no commit elsewhere
def test_the_page_shows_results_first_and_loads_the_counts_in_their_own_request(
        server: Server, workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from upstack.web.routes import search as search_routes

    _note(workspace, "Patching the heads. #patching", 1)
    _note(workspace, "Ablation, not patching. #ablation", 2, kind="learning")
    _note(workspace, "Nothing to see.", 3)
    COUNTS.clear()
    client = server.client()
    few = client.get("/search", params={"q": "patching"}).text
    assert 'class="count"' in few and "/search/facets" not in few  # two matches: counted at once
    COUNTS.clear()
    monkeypatch.setattr(search_routes, "INLINE_FACETS", 1)  # as if they were many
    page = client.get("/search", params={"q": "patching"}).text
    assert "2 matches" in page and 'class="count"' not in page  # results now, counts not yet
    assert 'hx-get="/search/facets?q=patching"' in page and 'hx-trigger="load' in page

    fragment = client.get("/search/facets", params={"q": "patching"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'aria-label="Narrow the results"' in fragment.text
    assert _kind_counts(fragment.text) == {"note": 1, "learning": 1}
    as_json = client.get("/search.json", params={"q": "patching"}).json()["facets"]
    assert [(f["label"], f["count"]) for f in as_json["kind"]] == [("learning", 1), ("note", 1)]

    # Counted once: a later visit shows them inline, with no second request. (A request may land on
    # a new database connection while the last one is still being handed back, and a new connection's
    # first look counts as a change (store/cache.py): then they are counted again, once.)
    for _ in range(5):
        again = client.get("/search", params={"q": "patching"}).text
        if 'class="count"' in again:
            break
        client.get("/search/facets", params={"q": "patching"}, headers={"HX-Request": "true"})
    assert 'class="count"' in again and "/search/facets" not in again
    # Without JavaScript, the counts are a page of their own.
    plain = client.get("/search/facets", params={"q": "patching"}).text
    assert "<html" in plain and "Back to the results" in plain and 'class="count"' in plain


def test_the_counts_follow_a_note_written_while_the_server_runs(server: Server, workspace: Workspace) -> None:
    _note(workspace, "Patching the heads. #patching", 1)
    client = server.client()

    def kinds() -> dict[str, int]:
        return _kind_counts(client.get("/search/facets", params={"q": "patching"},
                                       headers={"HX-Request": "true"}).text)

    assert kinds() == {"note": 1}
    assert kinds() == {"note": 1}
    _note(workspace, "Patching again, noted while serving.", 2)  # the server ingests it itself
    assert kinds() == {"note": 2}
    _note(workspace, "A learning about patching.", 3, kind="learning")
    workspace.ingest()  # ingested by this process's connection, not the server's
    assert kinds() == {"note": 2, "learning": 1}
