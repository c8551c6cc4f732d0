"""Vault -> upstack -> vault loses nothing, and a second export is byte for byte the first (both engines).

Checked on a hand-made Obsidian vault (tests/fixtures/obsidian_vault: nested folders, aliases as a list
and as a string, front matter with keys upstack has no field for, heading and block links, an image
embedded with a size, a callout, code with #, a daily note, a transclusion, a Markdown link to a file)
and on vaults hypothesis makes up.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CLI
from upstack.interop.markdown import export_markdown
from upstack.interop.notes import split_front
from upstack.interop.vault import import_markdown
from upstack.workspace import Workspace

FIXTURE = Path(__file__).parent / "fixtures" / "obsidian_vault"


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".obsidian" not in p.parts}


def note_parts(data: bytes) -> tuple[dict[str, Any], list[str], str]:
    """(front matter values, its keys in order, body) of a note's bytes."""
    front, body, _ = split_front(data.decode("utf-8"))
    values = yaml.safe_load(front or "") or {}
    return values, list(values), body.strip("\n")


def assert_kept(original: dict[str, bytes], exported: dict[str, bytes]) -> None:
    """Every note's body, front matter values and key order, and every file's bytes, at the same paths;
    the export adds only ``id`` (and ``date`` where the vault gave none but the file's time)."""
    assert set(exported) == set(original)
    for path, data in original.items():
        if not path.endswith(".md"):
            assert exported[path] == data, path
            continue
        values, keys, body = note_parts(data)
        out_values, out_keys, out_body = note_parts(exported[path])
        assert out_body == body, path
        assert out_keys[:len(keys)] == keys and set(out_keys[len(keys):]) <= {"id", "date"}, path
        assert {k: out_values[k] for k in keys} == values, path


def export_import_export(first: Workspace, second: Workspace, vault: Path, out: Path) -> None:
    import_markdown(first, vault)
    export_markdown(first, out / "e1", include_private=True)
    assert import_markdown(second, out / "e1").imported == len(list((out / "e1").rglob("*.md")))
    export_markdown(second, out / "e2", include_private=True)


@pytest.fixture
def fresh(tmp_path: Path, engine: str, make_pg_url: Any) -> Callable[[str], Workspace]:
    made: list[Workspace] = []

    def make(name: str) -> Workspace:  # a new one each time (hypothesis calls a test many times)
        ws = Workspace(home=tmp_path / f"{name}-{len(made)}", db=make_pg_url() if engine == "postgresql" else None)
        made.append(ws)
        return ws

    yield make  # type: ignore[misc]
    for ws in made:
        ws.close()


def test_the_fixture_vault_round_trips_without_loss_and_to_a_fixpoint(fresh, tmp_path: Path) -> None:
    first, second = fresh("one"), fresh("two")
    export_import_export(first, second, FIXTURE, tmp_path)
    e1, e2 = files_of(tmp_path / "e1"), files_of(tmp_path / "e2")
    assert e1 == e2
    assert_kept(files_of(FIXTURE), e1)
    # Importing the export back where it came from finds every note as it is.
    again = import_markdown(first, tmp_path / "e1")
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 4)


def test_what_the_fixture_vault_means_is_read(run: CLI) -> None:
    run.ok("import", "markdown", str(FIXTURE))
    entries = {e["title"]: e for e in json.loads(run.ok("log", "--json", "-n", "0"))}
    assert sorted(entries) == ["2026-11-30", "Baselines", "Inbox of loose ends", "RMU"]
    rmu = json.loads(run.ok("show", entries["RMU"]["short"], "--json"))
    # Tags from the front matter and the text, none from code; nested tags kept whole.
    assert sorted(rmu["tags"]) == ["interp/probing", "method/patching", "unlearning"]
    assert rmu["meta"]["aliases"] == ["Representation misdirection", "RMU method"]
    assert sorted(a["filename"] for a in rmu["attachments"]) == ["loss curve.png", "table.csv"]
    # [[RMU]] (its file's name) and [[Representation misdirection]] (an alias) both find it.
    assert sorted(b["target"] for b in rmu["backlinks"]) == ["RMU", "RMU", "Representation misdirection"]
    baselines = json.loads(run.ok("show", entries["Baselines"]["short"], "--json"))
    assert sorted(baselines["tags"]) == ["baselines", "real-tag", "unlearning"]
    assert baselines["meta"]["aliases"] == ["Baseline runs"]
    daily = entries["2026-11-30"]
    assert daily["occurred_at"].startswith("2026-11-30") or daily["occurred_at"].startswith("2026-11-29")
    inbox = json.loads(run.ok("show", entries["Inbox of loose ends"]["short"], "--json"))
    assert inbox["starred"] is True
    assert f"![chart](upstack:{inbox['attachments'][0]['short']} \"the curve\")" in inbox["body"]


def test_an_edit_made_in_obsidian_is_a_new_revision_and_the_old_front_matter_stays(
        run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(FIXTURE, vault)
    run.ok("import", "markdown", str(vault))
    note = vault / "Projects" / "Unlearning" / "RMU.md"
    note.write_text(note.read_text().replace("status: active", "status: done").replace("80%", "85%"))
    assert json.loads(run.ok("import", "markdown", str(vault), "--json"))["updated"] == 1
    short = {e["title"]: e["short"] for e in json.loads(run.ok("log", "--json", "-n", "0"))}["RMU"]
    history = json.loads(run.ok("history", short, "--json"))
    revisions = history["revisions"] if isinstance(history, dict) else history
    assert len(revisions) == 2
    assert "status: active" in revisions[0]["meta"]["markdown"]["front"]
    assert "status: done" in revisions[1]["meta"]["markdown"]["front"]
    assert "85%" in json.loads(run.ok("show", short, "--json"))["body"]
    # The import never wrote to the folder it read.
    assert "id:" not in note.read_text()
    # A note without an id is found again by its path: no second entry.
    assert len(json.loads(run.ok("log", "--json", "-n", "0"))) == 4


# -- vaults made up by hypothesis -----------------------------------------------------------

_WORDS = st.sampled_from(["probe", "layer", "head", "patching", "RMU", "steer", "loss", "seed", "IOI", "ablate"])
_NAMES = st.lists(_WORDS, min_size=1, max_size=3).map(" ".join)
_SCALARS = st.one_of(st.integers(-5, 500), st.booleans(), _NAMES, st.sampled_from(["2026-01-05", "x: y", "#hash"]))
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(_WORDS, _SCALARS, max_size=2))
_LINES = st.one_of(
    _NAMES,
    _NAMES.map(lambda n: f"#{n.split()[0].lower()} and #{n.split()[-1].lower()}/sub"),
    st.just("```\n# not a tag #code [[not a link]]\n```"),
    st.just("> [!note] A callout\n> inside it"),
    st.just("- [ ] a task ^block-1"),
    st.just("$$\nx^2\n$$"),
)


@st.composite
def vaults(draw: st.DrawFn) -> dict[str, Any]:
    stems = draw(st.lists(_NAMES, min_size=1, max_size=5, unique_by=str.casefold))
    folders = [draw(st.sampled_from(["", "Projects/", "Projects/Deep/", "Daily/"])) for _ in stems]
    paths = [f"{folder}{stem}.md" for folder, stem in zip(folders, stems, strict=True)]
    if len({p.rsplit("/", 1)[-1].casefold() for p in paths}) != len(paths):
        paths = [f"{stem}.md" for stem in stems]
    images = {"Attachments/fig one.png": b"\x89PNG fig one", "fig two.png": b"\x89PNG two"}
    notes = {}
    for path in paths:
        front: dict[str, Any] = draw(st.dictionaries(st.sampled_from(["status", "cssclasses", "rating", "owner"]),
                                                     _VALUES, max_size=3))
        if draw(st.booleans()):
            front["aliases"] = draw(st.one_of(_NAMES, st.lists(_NAMES, min_size=1, max_size=2, unique=True)))
        if draw(st.booleans()):
            front["tags"] = draw(st.lists(_WORDS.map(str.lower), min_size=1, max_size=3, unique=True))
        if draw(st.booleans()):
            front["date"] = draw(st.sampled_from(["2026-11-02", "2026-11-02T10:30:00"]))
        lines = draw(st.lists(_LINES, max_size=5))
        for other in draw(st.lists(st.sampled_from(paths), max_size=2)):
            stem = other.rsplit("/", 1)[-1][:-3]
            lines.append(draw(st.sampled_from([f"[[{stem}]]", f"[[{stem}#A heading]]", f"[[{stem}|shown]]",
                                               f"![[{stem}]]"])))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["![[fig one.png|300]]", "![[fig two.png]]",
                                               "![a figure](/Attachments/fig%20one.png)"])))
        head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True) if front else ""
        text = (f"---\n{head}---\n" if front else "") + "\n\n".join(lines) + "\n"
        notes[path] = text.encode("utf-8")
    return {"notes": notes, "files": images}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(vault=vaults())
def test_made_up_vaults_round_trip_without_loss_and_to_a_fixpoint(vault: dict[str, Any], fresh,
                                                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("vault")
    for rel, data in {**vault["notes"], **vault["files"]}.items():
        (base / "v" / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / "v" / rel).write_bytes(data)
    export_import_export(fresh("a"), fresh("b"), base / "v", base)
    e1, e2 = files_of(base / "e1"), files_of(base / "e2")
    assert e1 == e2
    original = files_of(base / "v")
    used = {p for p in vault["files"] if any(p.rsplit("/", 1)[-1].encode() in n or
                                             p.replace(" ", "%20").encode() in n for n in vault["notes"].values())}
    assert_kept({p: d for p, d in original.items() if p.endswith(".md") or p in used}, e1)


def test_an_obsidian_embed_of_a_picture_shows_it_on_the_entrys_page() -> None:
    from upstack.domain.entry import Attachment
    from upstack.web.markdown import images_shown, render

    picture = Attachment("01M91T5E6B25EE70TH4PT3BDCJ", "E", "ab" * 32, "loss curve.png", "image/png", 3, "T")
    page = render("See ![[loss curve.png|300]], ![[Attachments/loss curve.png]] and ![[RMU]].\n\n"
                  "`![[loss curve.png]]`", [picture], [])
    assert page.count(f'<img src="/a/{picture.id}" alt=') == 2
    assert images_shown(page) == {picture.id}  # so the gallery below does not show it again
    assert "![[RMU]]" in page  # a note embedded in a note: said as written
    assert "<code>![[loss curve.png]]</code>" in page


def test_a_note_over_the_limit_is_named_and_nothing_is_imported(run: CLI, tmp_path: Path) -> None:
    from upstack.limits import NOTE_MAX_BYTES

    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Fine.md").write_text("A fine note.\n", encoding="utf-8")
    (vault / "Dump.md").write_bytes(b"x" * (NOTE_MAX_BYTES + 1))
    failed = run("import", "markdown", str(vault))
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert "Dump.md" in failed.output and "larger than 4 MB" in failed.output
    assert json.loads(run.ok("log", "--json", "-n", "0")) == []
    assert json.loads(run.ok("import", "markdown", str(vault), "--skip-bad", "--json"))["imported"] == 1


def test_an_older_export_imported_again_does_not_undo_later_edits(run: CLI, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    shutil.copytree(FIXTURE, vault)
    run.ok("import", "markdown", str(vault))
    run.ok("export", "--format", "markdown", str(tmp_path / "old"))
    note = vault / "Projects" / "Unlearning" / "RMU.md"
    note.write_text(note.read_text().replace("80%", "85%"))
    assert json.loads(run.ok("import", "markdown", str(vault), "--json"))["updated"] == 1
    again = run("import", "markdown", str(tmp_path / "old"))
    assert again.exit_code == 0 and "as it was in revision 1, before its last edit; not imported" in again.output
    short = {e["title"]: e["short"] for e in json.loads(run.ok("log", "--json", "-n", "0"))}["RMU"]
    assert "85%" in json.loads(run.ok("show", short, "--json"))["body"]


def test_tags_in_code_and_comments_are_not_tags_anywhere(run: CLI) -> None:
    short = run.ok("note", "Steering works #steering\n\n```\n#include <x>\n```\n"
                   "`#inline` and %% #hidden, a comment %% but #seen").strip()
    assert sorted(json.loads(run.ok("show", short, "--json"))["tags"]) == ["seen", "steering"]


def test_where_the_vault_is_on_this_machine_is_not_kept_with_the_entry(run: CLI, tmp_path: Path) -> None:
    """An entry's meta travels with it (a team server, an export): the folder's place on this machine
    (a home folder's name, say) is not the note's."""
    vault = tmp_path / "private-home-folder" / "vault"
    shutil.copytree(FIXTURE, vault)
    run.ok("import", "markdown", str(vault))
    for entry in json.loads(run.ok("log", "--json", "-n", "0")):
        assert "private-home-folder" not in json.dumps(json.loads(run.ok("show", entry["short"], "--json"))["meta"])


def test_an_alias_too_long_to_be_a_link_target_is_kept_but_not_indexed(run: CLI, tmp_path: Path) -> None:
    """A vault's own note may say anything; an alias of 3,000 characters stays in its front matter
    and is no name a link finds it by (PostgreSQL could not index it)."""
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / "Long.md").write_text(f"---\naliases: [{'é' * 3000}, Short]\n---\nText.\n", encoding="utf-8")
    run.ok("import", "markdown", str(vault))
    run.ok("note", "See [[Short]].")
    linked = json.loads(run.ok("log", "--json", "-n", "0"))
    long_entry = next(e for e in linked if e["title"] == "Long")
    shown = json.loads(run.ok("show", long_entry["short"], "--json"))
    assert len(shown["meta"]["aliases"][0]) == 3000
    assert [b["target"] for b in shown["backlinks"]] == ["Short"]
