"""`upstack demo`: a sample research log built in a throwaway workspace."""

from __future__ import annotations

import csv
import io
import json
import shlex
import struct
import tempfile
import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from upstack.cli.main import cli
from upstack.cli.output import entry_line
from upstack.domain.entry import Entry
from upstack.services import recall
from upstack.services.demo import STORY, build_demo, open_demo_workspace
from upstack.services.workspace import Workspace
from upstack.timeutil import parse_iso, to_iso


def invoke(args: list[str], env: dict[str, str | None]) -> Result:
    return CliRunner().invoke(cli, args, env={"NO_COLOR": "1", **env}, catch_exceptions=False)


@dataclass
class Built:
    output: str
    home: Path
    user_home: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("demo")
    home, user_home = base / "demo-log", base / "my-real-log"
    result = invoke(["demo", "--home", str(home)],
                    {"UPSTACK_HOME": str(user_home), "UPSTACK_DB": None})
    assert result.exit_code == 0, result.output
    return Built(result.stdout, home, user_home)


@pytest.fixture
def demo_ws(built: Built) -> Iterator[Workspace]:
    with open_demo_workspace(built.home) as ws:
        yield ws


def all_entries(ws: Workspace) -> list[Entry]:
    return recall.timeline(ws, limit=None)


def suggested_commands(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines()
            if line.strip().startswith("UPSTACK_HOME=")]


def run_verbatim(command: str, env: dict[str, str | None]) -> Result:
    """Run a printed shell line: leading NAME=value words set the environment."""
    words = shlex.split(command, comments=True)
    env = dict(env)
    while "=" in words[0]:
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words.pop(0) == "upstack"
    return invoke(words, env)


def test_demo_prints_where_it_is_and_its_whole_timeline(built, demo_ws):
    assert str(built.home) in built.output.splitlines()[1]
    entries = all_entries(demo_ws)
    assert len(entries) == len(STORY)
    assert "\n".join(entry_line(e) for e in entries) in built.output
    for title in ("Project kickoff: IOI circuit in GPT-2 small",
                  "Found it: END was the last padded position, not the last real token.",
                  "SAE side thread: plan", "Week 3 summary"):
        assert title in built.output


def test_the_demo_is_a_realistic_log(demo_ws):
    entries = all_entries(demo_ws)
    assert 40 <= len(entries) <= 60
    assert {e.kind for e in entries} == {"note", "result", "question", "decision", "learning",
                                         "stuck"}
    assert {e.project for e in entries} == {"IOI circuit", "SAE features", None}
    assert len({e.title for e in entries}) == len(entries)
    assert sum(e.kind == "stuck" for e in entries) >= 2
    assert all(e.tags for e in entries)


def test_entries_are_spread_over_the_last_three_weeks(demo_ws):
    entries = all_entries(demo_ws)
    times = sorted(parse_iso(e.occurred_at) for e in entries)
    now = parse_iso(to_iso(datetime.now().astimezone()))
    assert times[-1] < now
    assert timedelta(days=19) <= times[-1] - times[0] <= timedelta(days=21)
    assert now - times[0] <= timedelta(days=22)
    assert all(e.created_at > e.occurred_at for e in entries)  # back-dated, both kept


def test_one_private_entry_the_personal_check_in(demo_ws):
    private = [e for e in all_entries(demo_ws) if e.private]
    assert len(private) == 1
    assert "checkin" in private[0].tags and private[0].project is None


def test_figures_and_tables_are_real_files_whose_blobs_verify(demo_ws):
    attachments = [a for e in all_entries(demo_ws) for a in e.attachments]
    by_type = {a.media_type for a in attachments}
    assert {"image/png", "image/svg+xml", "text/csv"} <= by_type
    for item in attachments:
        assert item.sha256 and demo_ws.blobs.verify(item.sha256) is None
        data = demo_ws.blobs.read(item.sha256)
        assert len(data) == item.size
        if item.media_type == "image/png":
            width, height = check_png(data)
            assert width >= 200 and height >= 200
        elif item.media_type == "image/svg+xml":
            root = ElementTree.fromstring(data)
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert root.findall(".//{http://www.w3.org/2000/svg}polyline") or \
                root.findall(".//{http://www.w3.org/2000/svg}rect")
        else:
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            assert len(rows) > 2 and all(len(row) == len(rows[0]) for row in rows)


def check_png(data: bytes) -> tuple[int, int]:
    """Walk the chunks, checking every CRC and that the pixels decompress to the right size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * 3)
    assert b"IEND" in chunks
    return width, height


def test_links_by_title_and_by_short_id_all_resolve(demo_ws):
    entries = [recall.show(demo_ws, e.short) for e in all_entries(demo_ws)]
    links = [link for e in entries for link in e.links]
    assert links and all(link.entry_id for link in links), \
        [link.target for link in links if not link.entry_id]
    by_short = [link for link in links if link.target == link.to_dict()["short"]]
    by_title = [link for link in links if link.target == link.title]
    assert by_short and by_title
    heatmap = next(e for e in entries if e.title.startswith("Head patching:"))
    assert len(heatmap.backlinks) >= 3
    # A link written before its target existed resolves once the target is written.
    scope = next(e for e in entries if e.title.startswith("Scope the write-up"))
    assert [link.title for link in scope.links] == ["Write-up outline"]


def test_search_finds_patching_entries(demo_ws):
    page = recall.search(demo_ws, "patch*")
    assert page.total >= 10
    assert all("patch" in (h.entry.title + h.entry.body).lower() for h in page.hits)


def test_suggested_commands_run_verbatim(built):
    commands = suggested_commands(built.output)
    assert len(commands) >= 5
    assert any(c.endswith("upstack search 'patch*'") for c in commands)
    for command in commands:
        result = run_verbatim(command, {"UPSTACK_HOME": str(built.user_home)})
        assert result.exit_code == 0, (command, result.output)
        assert result.stdout.strip(), command
        if "search 'patch*'" in command:
            assert result.stdout.count("[IOI circuit]") >= 5
    assert not built.user_home.exists()


def test_the_users_own_log_is_untouched(run, tmp_path):
    """Whatever UPSTACK_HOME and UPSTACK_DB say (SQLite or PostgreSQL), the demo goes elsewhere."""
    run.ok("note", "My real note about patching. #mine")
    before = run.ok("log", "--json")
    output = run.ok("demo", "--home", str(tmp_path / "demo"))
    commands = suggested_commands(output)
    if run.db_url:
        assert all(" UPSTACK_DB=sqlite:///" in c for c in commands)
    for command in commands:
        assert run_verbatim(command, run.env).exit_code == 0
    assert run.ok("log", "--json") == before
    assert len(json.loads(run.ok("search", "--json", "patch*"))["results"]) == 1
    if run.db_url:
        assert not (run.home / "upstack.db").exists()


def test_without_home_it_builds_in_a_new_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    user_home = tmp_path / "my-real-log"
    result = invoke(["demo", "--json"], {"UPSTACK_HOME": str(user_home), "UPSTACK_DB": None})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    home = Path(report["home"])
    assert home.parent == tmp_path and home.name.startswith("upstack-demo-")
    assert (home / "upstack.db").exists()
    assert len(report["entries"]) == len(STORY)
    assert all(command.startswith(f"UPSTACK_HOME={home} ") for command in report["try"])
    assert not user_home.exists()
    # The scratch directory for the figures is gone; only the workspace remains.
    assert [p.name for p in tmp_path.iterdir()] == [home.name]


def test_refuses_a_home_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    result = invoke(["demo", "--home", str(tmp_path)], {"UPSTACK_HOME": str(tmp_path / "x")})
    assert result.exit_code == 1
    assert "not empty" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_build_demo_dates_entries_relative_to_now(tmp_path):
    now = datetime(2024, 3, 22, 12, 0).astimezone()
    with Workspace(home=tmp_path, db=f"sqlite:///{tmp_path / 'upstack.db'}") as ws:
        log = build_demo(ws, now=now)
    assert list(log.entries) == [item.key for item in STORY]
    kickoff = log.entries["kickoff"]
    assert kickoff.occurred_at == to_iso(datetime(2024, 3, 1, 9, 40))
    assert {"head_patching_heatmap.png", "sae_width_sweep.svg", "sae_sweep.csv"} <= set(log.files)


def test_links_by_short_id_resolve_even_when_ids_share_a_millisecond(tmp_path, monkeypatch):
    # On a fast disk many notes get ids in the same millisecond, and journal files of
    # one millisecond are ingested in random order; the demo must not depend on it.
    frozen = 1_700_000_000.0
    monkeypatch.setattr("upstack.ids.time.time", lambda: frozen)
    with Workspace(home=tmp_path, db=f"sqlite:///{tmp_path / 'upstack.db'}") as ws:
        log = build_demo(ws)
        for entry in log.entries.values():
            assert all(link.entry_id for link in recall.show(ws, entry.short).links)
