"""`upstack portfolio site OUT/` (web/site.py): what reaches the site and what never does (both engines),
and the site as Chromium shows it: pages not blank in light and dark, every link and picture resolves,
no request leaves the folder."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from browser import page_fixture, page_problems_fixture  # noqa: F401 (fixtures)
from conftest import CLI
from upstack.domain.image_metadata import strip_metadata
from upstack.services import capture, curate, tree
from upstack.services import portfolio as folio
from upstack.web import site
from upstack.workspace import Workspace

ARTIST = "Ada Lovelace at 51.5033N 0.1196W"


def _jpeg_with_exif(path: Path) -> Path:
    image = Image.new("RGB", (64, 48), (200, 40, 40))
    exif = Image.Exif()
    exif[0x013B] = ARTIST  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    image.save(path, "JPEG", exif=exif.tobytes())
    with Image.open(path) as saved:
        assert ARTIST.encode() in path.read_bytes() and saved.getexif()
    return path


def _png_with_text(path: Path) -> Path:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", ARTIST)
    Image.new("RGB", (40, 30), (20, 90, 200)).save(path, "PNG", pnginfo=info)
    assert ARTIST.encode() in path.read_bytes()
    return path


def _site_text(out: Path) -> str:
    return "\n".join(p.read_bytes().decode("latin-1") for p in sorted(out.rglob("*")) if p.is_file())


def _portfolio_with_a_write_up(workspace: Workspace, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    project = tree.add_node(workspace, "project", "IOI replication", why="Learn circuits.")
    secret = capture.note(workspace, "Secret draft about the reviewer I dislike.", private=True)
    unlisted = capture.note(workspace, "Unlisted lab notebook page.", under=project.id)
    other = capture.note(workspace, "Second write-up, on the site.", under=project.id)
    figure, picture = _jpeg_with_exif(tmp_path / "heads.jpg"), _png_with_text(tmp_path / "plot.png")
    body = (f"Write-up: the IOI circuit.\n\nWe built on [[{secret.short}]], [[{unlisted.short}|my notes]] "
            f"and [[{other.short}]].\n\n![heads](upstack:HEADS)\n\n![remote](https://example.org/x.png)")
    write_up = capture.note(workspace, body, under=project.id, attach=[figure, picture])
    heads = next(a for a in write_up.attachments if a.filename == "heads.jpg")
    curate.edit(workspace, write_up.id, body.replace("HEADS", heads.short))  # the picture shown in the text
    folio.set_profile(workspace, name="Ada Lovelace", headline="Interpretability", links=[("GitHub", "https://github.com/ada")])
    folio.add_item(workspace, "write-up", "The IOI circuit", sources=[write_up.short], summary="Path patching.")
    folio.add_item(workspace, "write-up", "Second", sources=[other.short])
    folio.add_item(workspace, "grant", "Research grant", organisation="LTFF", date="2026-01")
    out = tmp_path / "site"
    site.build(workspace, out)
    return out, {"secret": secret.title, "unlisted": unlisted.title}


def test_only_the_portfolio_reaches_the_site(workspace: Workspace, tmp_path: Path) -> None:
    out, titles = _portfolio_with_a_write_up(workspace, tmp_path)
    text = _site_text(out)
    assert "Path patching." in text and "Research grant" in text and "Ada Lovelace" in text
    for title in titles.values():  # a private entry, and one not in the portfolio: not even their titles
        assert title not in text and title.rstrip(".") not in text
    page = (out / "projects" / "the-ioi-circuit" / "index.html").read_text()
    assert "an unpublished note" in page and "my notes" in page  # the shown text the person wrote stays
    assert 'href="../second/index.html"' in page  # a link to an entry that is on the site
    assert "<img" in page and 'src="https://' not in page and 'href="https://example.org/x.png"' in page
    assert not list(out.rglob("*.svg")) and (out / "cv.html").exists() and (out / "style.css").exists()


def test_figures_are_copied_without_exif(workspace: Workspace, tmp_path: Path) -> None:
    out, _ = _portfolio_with_a_write_up(workspace, tmp_path)
    folder = out / "projects" / "the-ioi-circuit"
    copied = {p.name: p for p in folder.iterdir() if p.suffix in (".jpg", ".png")}
    assert set(copied) == {"heads.jpg", "plot.png"}
    for path in copied.values():
        assert ARTIST.encode() not in path.read_bytes() and b"PhoneMaker" not in path.read_bytes()
        with Image.open(path) as image:
            assert not image.getexif() and not image.info.get("Author")
            image.load()  # the picture itself is whole
    assert ARTIST not in _site_text(out)


def test_strip_metadata_keeps_the_picture() -> None:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x013B] = ARTIST
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "WEBP", exif=exif.tobytes())
    cleaned = strip_metadata(buffer.getvalue())
    assert ARTIST.encode() in buffer.getvalue() and ARTIST.encode() not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert image.size == (8, 8) and not image.getexif()


def test_a_run_result_and_a_deleted_write_up_make_no_page(workspace: Workspace, tmp_path: Path) -> None:
    import upstack

    with upstack.run("probe sweep", home=workspace.home, db=workspace.db_url, capture="all") as run:
        run.log({"loss": 0.5})
        run_id = run.id
    workspace.ingest()
    write_up = capture.note(workspace, "Write-up that I later deleted.")
    folio.add_item(workspace, "result", "Probe sweep", sources=[run_id], summary="Loss halves.")
    item = folio.add_item(workspace, "write-up", "Deleted later", sources=[write_up.id])
    curate.remove(workspace, write_up.id)
    out = tmp_path / "site"
    site.build(workspace, out)
    text = _site_text(out)
    assert socket.gethostname() not in text and str(workspace.home) not in text and "Provenance" not in text
    assert "Write-up that I later deleted" not in text and item.title in text and "Loss halves." in text


def test_the_site_replaces_an_earlier_one_whole_and_refuses_a_folder_of_other_files(run: CLI, tmp_path: Path) -> None:
    run.ok("portfolio", "add", "talk", "First talk", "--summary", "Slides.")
    out = tmp_path / "site"
    run.ok("portfolio", "site", str(out))
    run.ok("portfolio", "rm", "@First")
    run.ok("portfolio", "add", "talk", "Second talk", "--summary", "Slides.")
    run.ok("portfolio", "site", str(out))
    assert "Second talk" in _site_text(out) and "First talk" not in _site_text(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []  # no temporary folder left
    busy = tmp_path / "home-folder"
    busy.mkdir()
    (busy / "thesis.tex").write_text("mine")
    result = run("portfolio", "site", str(busy))
    assert result.exit_code == 1 and "holds other files" in result.stderr
    assert [p.name for p in busy.iterdir()] == ["thesis.tex"]


# -- in Chromium ------------------------------------------------------------------------------------

@pytest.fixture
def built_site(tmp_path: Path) -> Iterator[Path]:
    with Workspace(home=tmp_path / "home") as workspace:
        out, _ = _portfolio_with_a_write_up(workspace, tmp_path)
        yield out


def test_the_site_in_chromium(page: object, built_site: Path) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    root = built_site.resolve().as_uri()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    pages = [built_site / "index.html", built_site / "cv.html",
             *sorted(built_site.glob("projects/*/index.html"))]
    for path in pages:
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            with Image.open(io.BytesIO(page.screenshot(full_page=True))) as shot:
                colours = shot.convert("RGB").getcolors(maxcolors=1 << 20) or []
            assert len(colours) > 20, f"{path.name} looks blank in {scheme}"
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(15, 17, 21)")
        for src in page.eval_on_selector_all("img", "els => els.map(e => [e.src, e.naturalWidth])"):
            assert src[0].startswith(root) and src[1] > 0, src
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            if href.startswith("file:"):
                target = Path(href.removeprefix("file://").split("#")[0])
                assert href.startswith(root) and target.is_file(), href
            else:
                assert href.startswith(("https://", "mailto:")), href
    assert requests and all(url.startswith(root) or url.startswith("data:") for url in requests), requests
    assert page.evaluate("document.scripts.length") == 0
