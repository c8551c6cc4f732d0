"""The web app over real HTTP: the token lock, CSRF, pages and their JSON twins, capture, files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from upstack.services import capture
from upstack.workspace import Workspace
from webserver import Server, serve, serve_app


@pytest.fixture
def server(workspace: Workspace) -> Iterator[Server]:
    with serve(workspace.home, workspace.db_url, upload_limit=100_000) as running:
        yield running


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def test_the_token_is_needed_then_kept_in_a_cookie(server: Server) -> None:
    stranger = server.client(signed_in=False)
    assert stranger.get("/").status_code == 401
    assert stranger.get("/log.json").status_code == 401
    assert stranger.get("/?token=wrong").status_code == 401
    opened = stranger.get(f"/?token={server.token}&kind=note")
    assert opened.status_code == 303 and opened.headers["location"] == "/?kind=note"
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert stranger.get("/").status_code == 200  # the cookie now opens it
    assert stranger.get("/static/app.css").status_code == 200


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(server: Server, workspace: Workspace) -> None:
    client = server.client()
    assert client.post("/note", data={"text": "Forged #x"}).status_code == 403
    assert client.post("/note", data={"text": "Forged #x", "csrf": "0" * 32}).status_code == 403
    forged = client.post("/note", data={"text": "Forged #x"}, headers={"Accept": "application/json"})
    assert (forged.status_code, forged.json()) == (403, {
        "error": "this request has no valid CSRF token; reload the page and try again"})
    assert client.get("/log.json").json()["entries"] == []
    made = client.post("/note", data={"text": "Real note. #web", "csrf": _csrf(client)})
    assert made.status_code == 303
    (entry,) = client.get("/log.json").json()["entries"]
    assert entry["title"] == "Real note." and entry["tags"] == ["web"]


def test_timeline_pages_by_cursor_and_filters(server: Server, workspace: Workspace) -> None:
    for n in range(7):
        capture.note(workspace, f"Note {n}. Tagged #{'even' if n % 2 == 0 else 'odd'}",
                     occurred_at=f"2026-01-0{n + 1}T10:00:00.000000Z")
    client = server.client()
    seen, before = [], None
    while True:
        page = client.get("/log.json", params={"limit": 3, **({"before": before} if before else {})}).json()
        seen += [e["title"] for e in page["entries"]]
        before = page["next_before"]
        if not before:
            break
    assert seen == [f"Note {n}." for n in reversed(range(7))]
    assert [e["title"] for e in client.get("/log.json", params={"tag": "odd"}).json()["entries"]] == \
        ["Note 5.", "Note 3.", "Note 1."]
    html = client.get("/", params={"limit": 3}).text
    assert "Note 6." in html and "Older entries" in html


def test_an_entry_page_and_its_json_twin(server: Server, workspace: Workspace, tmp_path: Path) -> None:
    figure = tmp_path / "plot.png"
    figure.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    first = capture.note(workspace, "Patching layer 5 kills the effect. See the plot. #ioi", attach=[figure])
    client = server.client()
    page = client.get(f"/e/{first.short}.json").json()
    assert page["entry"]["title"] == "Patching layer 5 kills the effect." and page["chain"] == []
    html = client.get(f"/e/{first.short}").text
    assert "See the plot." in html and "not filed under the tree" in html
    attachment = page["entry"]["attachments"][0]
    got = client.get(f"/a/{attachment['id']}")
    assert got.content == figure.read_bytes() and got.headers["content-type"] == "image/png"
    csrf = _csrf(client)
    client.post(f"/e/{first.short}/edit", data={"text": "Patching layer 5 kills it.\n\nNew body.", "csrf": csrf})
    again = client.get(f"/e/{first.short}.json").json()
    assert again["entry"]["title"] == "Patching layer 5 kills it." and len(again["revisions"]) == 2
    assert "New body." in again["diffs"][0]["diff"]
    assert client.get("/e/zzzzzz.json").status_code == 404


def test_uploads_lose_folder_parts_and_big_ones_are_refused(server: Server, workspace: Workspace) -> None:
    entry = capture.note(workspace, "Needs a figure.")
    client = server.client()
    csrf = _csrf(client)
    sent = client.post(f"/e/{entry.short}/attach", data={"csrf": csrf}, headers={"Accept": "application/json"},
                       files={"file": ("../../etc/passwd.png", b"\x89PNG\r\n\x1a\nfake", "image/png")})
    assert sent.status_code == 200
    (stored,) = sent.json()["attachments"]
    assert stored["filename"] == "passwd.png"
    big = client.post(f"/e/{entry.short}/attach", data={"csrf": csrf}, headers={"Accept": "application/json"},
                      files={"file": ("huge.bin", b"0" * 200_000, "application/octet-stream")})
    assert big.status_code == 400 and "larger than" in big.json()["error"]
    assert len(client.get(f"/e/{entry.short}.json").json()["entry"]["attachments"]) == 1


def _edit_in_chunks(client: httpx.Client, short: str, csrf: str, start: bytes, chunk: bytes,
                    count: int) -> httpx.Response:
    """An edit form whose text (``start``, then ``chunk`` ``count`` times) is sent in chunks, with no
    Content-Length: the server counts the bytes as they come."""
    def chunks() -> Iterator[bytes]:
        yield b"csrf=" + csrf.encode() + b"&text=" + start
        for _ in range(count):
            yield chunk

    return client.post(f"/e/{short}/edit", content=chunks(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_a_request_body_past_the_limit_is_refused_before_it_is_read(server: Server, workspace: Workspace) -> None:
    """Any route, not only uploads: by its Content-Length, or counted as it streams in chunks."""
    entry = capture.note(workspace, "Unchanged.")
    client = server.client()
    csrf = _csrf(client)
    huge = b"x" * 1_200_000  # the server's limit is 100 kB for files, plus 1 MB for the rest of a request
    declared = client.post(f"/e/{entry.short}/edit", data={"csrf": csrf, "text": huge.decode()})
    streamed = _edit_in_chunks(client, entry.short, csrf, b"", b"y" * 100_000, 12)
    for answer in (declared, streamed):
        assert answer.status_code == 413 and "larger than" in answer.text
    assert client.get(f"/e/{entry.short}.json").json()["entry"]["title"] == "Unchanged."
    assert client.post(f"/e/{entry.short}/edit", data={"csrf": csrf, "text": "Changed."}).status_code == 303


def test_a_text_field_may_be_as_large_as_the_request(server: Server, workspace: Workspace) -> None:
    """The size gate is the 413 alone: a field past the form parsers' own 1 MiB default, inside the
    request's limit (1.1 MB here), is kept, whether the bytes come declared or in chunks."""
    entry = capture.note(workspace, "Short.")
    client = server.client()
    csrf = _csrf(client)
    text = "Long. " + "z" * 1_060_000
    declared = client.post(f"/e/{entry.short}/edit", data={"csrf": csrf, "text": text})
    streamed = _edit_in_chunks(client, entry.short, csrf, b"Again.+", b"w" * 10_000, 106)
    assert (declared.status_code, streamed.status_code) == (303, 303), (declared.text[:200], streamed.text[:200])
    kept = client.get(f"/e/{entry.short}.json").json()["entry"]
    assert kept["title"] == "Again." and len(kept["body"]) > 1_050_000


def test_the_openapi_schema_documents_every_json_twin(server: Server) -> None:
    paths = server.client().get("/openapi.json").json()["paths"]
    assert {"/log.json", "/e/{ref}.json", "/note"} <= set(paths)


def test_serve_refuses_a_public_address(run) -> None:  # type: ignore[no-untyped-def]
    refused = run("serve", "--host", "0.0.0.0")
    assert refused.exit_code == 1 and "refusing to serve on 0.0.0.0" in refused.stderr


@contextmanager
def _served(*args: str, **env: str) -> Iterator[str]:
    """Run `upstack ARGS` as a real process until it prints the address it serves; yield that."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    environ.update({"NO_COLOR": "1", **env})
    process = subprocess.Popen([sys.executable, "-m", "upstack", *args], env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = ""
        while not url:
            line = process.stdout.readline()
            assert line, f"upstack {' '.join(args)} ended without serving"
            url = line.removeprefix("open: ").strip() if line.startswith("open: ") else ""
        yield url
    finally:
        process.terminate()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_upstack_serve_prints_an_address_that_opens_the_log(workspace: Workspace) -> None:
    capture.note(workspace, "Served from a real process. #serve")
    env = {"UPSTACK_HOME": str(workspace.home), **({"UPSTACK_DB": workspace.db_url} if workspace.db_url else {})}
    with _served("serve", "--port", "0", **env) as url, httpx.Client(follow_redirects=True, timeout=30) as client:
        assert url.startswith("http://127.0.0.1:") and "?token=" in url
        assert client.get(url.split("?")[0]).status_code == 401
        page = client.get(url)
        assert page.status_code == 200 and "Served from a real process." in page.text


def test_a_home_given_on_the_command_line_reaches_the_served_app(tmp_path: Path) -> None:
    with Workspace(home=tmp_path / "given") as given:
        capture.note(given, "Kept where --home says. #cli")
    with _served("--home", str(tmp_path / "given"), "serve", "--port", "0", UPSTACK_HOME=str(tmp_path / "other")) \
            as url, httpx.Client(follow_redirects=True, timeout=30) as client:
        assert client.get(url).status_code == 200  # the token, kept in a cookie
        entries = client.get(url.split("?")[0] + "log.json").json()["entries"]
        assert [entry["title"] for entry in entries] == ["Kept where --home says."]


def test_settings_given_to_the_workspace_reach_every_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """create_app takes the Workspace: each request's workspace has its settings, not the environment's
    (the tree's `upstack check` flags look back check_days days)."""
    from upstack.web.app import create_app

    monkeypatch.setenv("UPSTACK_CHECK_DAYS", "5")
    token = "settings-token-0123456789"
    with Workspace(home=tmp_path / "log", check_days=3) as ws, serve_app(create_app(ws, token=token), token) as server:
        client = server.client()
        assert client.get("/tree.json").json()["check"]["days"] == 3
        assert client.get("/tree").status_code == 200


def test_the_demo_opens_in_the_browser_app(tmp_path: Path) -> None:
    with _served("demo", "--home", str(tmp_path / "demo"), "--serve", "--port", "0") as url, \
            httpx.Client(follow_redirects=True, timeout=30) as client:
        timeline = client.get(url)
        assert timeline.status_code == 200 and "Path patching" in timeline.text


def test_the_editor_preview_renders_markdown_safely(server: Server) -> None:
    client = server.client()
    csrf = _csrf(client)
    shown = client.post("/preview", data={"text": "A *title*.\n\n**Bold** and <script>alert(1)</script>", "csrf": csrf})
    assert shown.status_code == 200
    assert "<strong>Bold</strong>" in shown.text and "<script>" not in shown.text
    assert client.post("/preview", data={"text": "x"}).status_code == 403
