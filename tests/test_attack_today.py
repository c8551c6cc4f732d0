"""An attack on what changed on 2026-12-04 (eb30c95..899f05a): a member's share of a team server's
time, JSON import of crafted files. Run with PYTHONPATH=src so the CLI's processes run this tree. Each test is a hole as found; its assertions are the behaviour
promised (README "What one member may cost the server", "Imports are all-or-nothing", one line and
exit 1 for a refused command). Real servers and real processes, on both engines."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers_reliability import env_for, upstack_args
from test_limits import Members, members  # noqa: F401 - registers the fixture `members`

# -- a member's share of the server's time -----------------------------------------------------------------

# Markdown whose rendering takes seconds of pure-Python work (markdown-it, then nh3): about 0.27 ms a
# token on the 2-core test machine, under the 1 MB a form field may be.
HEAVY_PREVIEW = "# t\n" + "*a* [b](c) `d` " * 20_000


def test_preview_is_work_and_counts_against_the_members_share(members: Callable[..., Members]) -> None:  # noqa: F811
    """Found by attack: the share of the server's time (web/limits.py) is charged only while a request
    holds a workspace (web/app.py ``workspace``). ``POST /preview`` renders any Markdown a member sends
    (up to a 1 MB form field) without one: ~5 s of CPU here for 300 kB, ~18 s for 900 kB, and none of it
    is charged. A member sending it back to back, two at once, keeps two of the four handler threads
    (and, it being pure Python, most of the one GIL) busy for ever and is never answered 429."""
    team = members(user_seconds="0.5")  # half a second of work in any 10 s
    bob = team.client("bob")
    started = time.monotonic()
    assert bob.post("/preview", data={"text": HEAVY_PREVIEW}).status_code == 200
    took = time.monotonic() - started
    # Nothing else runs on the server, so the preview is charged about what it took (1.9-5 s seen).
    assert took > 1, f"the preview took only {took:.1f} s here; make HEAVY_PREVIEW larger"
    after = bob.get("/search.json", params={"q": "head"})
    assert after.status_code == 429, (
        f"bob's {took:.1f} s preview cost nothing of his 0.5 s share: {after.status_code}")


def test_a_member_flooding_uncharged_work_does_not_get_others_refused(members: Callable[..., Members]) -> None:  # noqa: F811
    """Found by attack: a member's share is charged by wall time while a workspace is lent, so what slows
    the server (here bob's uncharged previews, two at once, holding the GIL) is charged to everyone else's
    requests. ada, reading the log back to back, is refused 429 for most of her requests (24 of 30 in one
    run, none without bob's flood) while bob, whose work it is, is never refused. Now work is counted as
    processor sharing sees it, and bob's previews are charged: ada, reading briskly as a person does, is
    never refused. (A script reading back to back with a share of 1 s still can be: Python's GIL makes her
    database round trips wait behind bob's rendering for longer than an equal share of the server.)"""
    team = members()  # the default share: 2 s of work in any 10 s
    ada = team.client("ada")

    def read() -> int:  # a brisk reader: a page every quarter second at the most
        started = time.monotonic()
        status = ada.get("/log.json").status_code
        time.sleep(max(0.0, 0.25 - (time.monotonic() - started)))
        return status

    stop = threading.Event()
    bobs: list[int] = []

    def flood() -> None:
        bob = team.client("bob")
        while not stop.is_set():
            bobs.append(bob.post("/preview", data={"text": HEAVY_PREVIEW}).status_code)

    floods = [threading.Thread(target=flood) for _ in range(2)]
    for thread in floods:
        thread.start()
    try:
        time.sleep(1)
        busy = [read() for _ in range(30)]
    finally:
        stop.set()
        for thread in floods:
            thread.join(120)
    assert busy.count(429) == 0, f"ada refused {busy.count(429)} of 30 for bob's work (bob: {bobs})"


# -- JSON import of crafted files ------------------------------------------------------------------------------


@pytest.fixture
def exported(tmp_path: Path, db_url: str | None) -> Iterator[tuple[Path, str | None, dict[str, Any]]]:
    """A workspace with two entries (one with a file), and its JSON export as a dict to craft from."""
    home = tmp_path / "log"
    for args in (["add", "project", "Probe", "--why", "x"], ["note", "Hello world #tag"]):
        _upstack(home, db_url, *args, check=True)
    out = tmp_path / "base.json"
    _upstack(home, db_url, "export", "--out", str(out), check=True)
    yield home, db_url, json.loads(out.read_text())


def _upstack(home: Path, db_url: str | None, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(upstack_args(*args), env=env_for(home, db_url), capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    if check:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def _one_line_refusal(done: subprocess.CompletedProcess[str]) -> None:
    """One line, or an import's refusal: one line, then each problem found, indented (README)."""
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.returncode == 1, (done.returncode, done.stderr[-500:])
    first, *problems = done.stderr.strip().splitlines()
    assert first.startswith("upstack: error: "), done.stderr[-800:]
    assert not problems or (first.startswith("upstack: error: import refused")
                            and all(p.startswith("  ") for p in problems)), done.stderr[-800:]


def _craft(dump: dict[str, Any], table: str, **values: Any) -> str:
    crafted = json.loads(json.dumps(dump))
    crafted["tables"][table][0].update(values)
    return json.dumps(crafted)


CRAFTED: dict[str, Callable[[dict[str, Any]], str]] = {
    # json.loads raises RecursionError, not JSONDecodeError, and it is read outside the try that turns a
    # malformed file into one line
    "nested 100k deep": lambda dump: '{"format": "upstack-export", "tables": ' + "[" * 100_000 + "]" * 100_000 + "}",
    # int(1e999) is an OverflowError, which is not among the errors taken for a malformed file
    "a version of 1e999": lambda dump: '{"format": "upstack-export", "version": 1e999, "tables": {}}',
    # SQLite: "Python int too large to convert to SQLite INTEGER" (OverflowError); PostgreSQL says one line
    "a revision number of 10**30": lambda dump: _craft(dump, "revisions", number=10**30),
}


@pytest.mark.parametrize("craft", list(CRAFTED), ids=list(CRAFTED))
def test_a_crafted_json_file_is_refused_in_one_line_with_the_log_unchanged(
        exported: tuple[Path, str | None, dict[str, Any]], tmp_path: Path, craft: str, make_pg_url: Any) -> None:
    """Found by attack: after 00c98dd (a JSON import checked whole before anything is kept) these files
    still end in a traceback (exit 1 with Python's stack) on one engine or both, or a refusal of two lines."""
    home, db_url, dump = exported
    before = _upstack(home, db_url, "log", "--json", check=True).stdout
    crafted = tmp_path / "crafted.json"
    crafted.write_text(CRAFTED[craft](dump))
    fresh = tmp_path / "fresh"  # into an empty workspace as well as over the one it came from
    for target, db in ((home, db_url), (fresh, make_pg_url() if db_url else None)):
        _one_line_refusal(_upstack(target, db, "import", str(crafted)))
    assert _upstack(home, db_url, "log", "--json", check=True).stdout == before


PRIVATE_VALUES = {
    # PostgreSQL: DatatypeMismatch (a ProgrammingError, not among the errors taken for a malformed file):
    # "column private is of type integer but expression is of type boolean", a traceback; SQLite keeps 1
    "true": True,
    # PostgreSQL refuses it in two lines (its message has a CONTEXT line); SQLite keeps the text 'yes' in
    # an INTEGER column, so the same file is refused on one engine and kept, wrongly typed, on the other
    "words": "yes",
}


@pytest.mark.parametrize("value", list(PRIVATE_VALUES), ids=list(PRIVATE_VALUES))
def test_an_entry_private_flag_of_another_type_is_refused_in_one_line_or_kept_as_0_or_1(
        exported: tuple[Path, str | None, dict[str, Any]], tmp_path: Path, make_pg_url: Any, value: str) -> None:
    """Found by attack: ``entries.private`` given as JSON true, or as text, into a new workspace."""
    _, db_url, dump = exported
    fresh, db_url = tmp_path / "fresh", (make_pg_url() if db_url else None)
    crafted = tmp_path / "crafted.json"
    crafted.write_text(_craft(dump, "entries", private=PRIVATE_VALUES[value]))
    imported = _upstack(fresh, db_url, "import", str(crafted))
    if imported.returncode == 0:
        out = tmp_path / "again.json"
        _upstack(fresh, db_url, "export", "--out", str(out), check=True)
        assert {e["private"] for e in json.loads(out.read_text())["tables"]["entries"]} <= {0, 1}
    else:
        _one_line_refusal(imported)


def test_an_imported_entry_whose_meta_is_not_an_object_is_refused_or_shown(
        exported: tuple[Path, str | None, dict[str, Any]], tmp_path: Path, make_pg_url: Any) -> None:
    """Found by attack: an entry row whose ``meta`` is JSON text of a list ("[1, 2]") passes the import's
    checks (a column holds one scalar: it does) and is kept; from then on `upstack show` of that entry is an
    AttributeError traceback ('list' object has no attribute 'get') on both engines (and its page a 500).
    The file should be refused whole, or the entry shown."""
    _, db_url, dump = exported
    fresh, db_url = tmp_path / "fresh", (make_pg_url() if db_url else None)
    crafted = tmp_path / "crafted.json"
    entry = dump["tables"]["entries"][0]
    crafted.write_text(_craft(dump, "entries", meta="[1, 2]"))
    imported = _upstack(fresh, db_url, "import", str(crafted))
    assert "Traceback" not in imported.stderr, imported.stderr[-1500:]
    if imported.returncode == 0:
        shown = _upstack(fresh, db_url, "show", entry["key"][:8])
        assert "Traceback" not in shown.stderr, shown.stderr[-1500:]
        assert shown.returncode == 0, shown.stderr[-500:]
    else:
        _one_line_refusal(imported)
