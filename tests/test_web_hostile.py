"""Hostile input in titles, bodies, tags and file names renders inert on every page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hostile import PAYLOADS, inert_problems
from upstack.services import capture
from upstack.workspace import Workspace
from webserver import Server, serve


@pytest.fixture
def hostile_log(workspace: Workspace, tmp_path: Path) -> Iterator[tuple[Server, list[str]]]:
    shorts = []
    for number, payload in enumerate(PAYLOADS):
        upload = tmp_path / str(number) / (payload.replace("/", "∕")[:100] or "x")
        upload.parent.mkdir()
        upload.write_bytes(b"not really an image")
        entry = capture.note(workspace, f"{payload}\n\nBody: {payload}", tags=["xss"], attach=[upload])
        shorts.append(entry.short)
    with serve(workspace.home, workspace.db_url) as server:
        yield server, shorts


def test_the_corpus_is_inert_in_the_timeline_and_every_entry(hostile_log: tuple[Server, list[str]]) -> None:
    server, shorts = hostile_log
    client = server.client()
    pages = {"/": client.get("/", params={"limit": 100}).text}
    pages.update({f"/e/{short}": client.get(f"/e/{short}").text for short in shorts})
    for path, html in pages.items():
        assert inert_problems(html) == [], path
    # The text is shown, as text: a template expression is not evaluated.
    assert "{{ 7*7 }}" in pages["/"].replace("&#123;", "{") or "{{ 7*7 }}" in pages["/"]
    assert ">49<" not in pages["/"]


def test_the_audit_can_fail() -> None:
    assert inert_problems('<img src=x onerror="alert(1)">')
    assert inert_problems('<a href=" javascript:alert(1)">x</a>')
    assert inert_problems("<script>alert(1)</script>")
    assert inert_problems('<div hx-get="/note" hx-trigger="load"></div>')
    assert not inert_problems('<script src="/static/app.js"></script><a href="/e/abc">ok</a>')
