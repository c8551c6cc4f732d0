"""`upstack portfolio site OUT/` (web/site.py): what reaches the site and what never does (both engines),
and the site as Chromium shows it: pages not blank in light and dark, every link and picture resolves,
no request leaves the folder. Figures: each one's metadata, read back with Pillow, is gone, or the
figure was left out (and the page and the command say so)."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageSequence
from PIL.PngImagePlugin import PngInfo

from browser import page_fixture, page_problems_fixture  # noqa: F401 (fixtures)
from conftest import CLI
from upstack.services import capture, curate, tree
from upstack.services import portfolio as folio
from upstack.web import site
from upstack.workspace import Workspace

ARTIST = "Ada Lovelace at 51.5033N 0.1196W"


XMP = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{ARTIST}</dc:creator></x:xmpmeta>'.encode()
PNG_METADATA_CHUNKS = (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME")


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture whose every pixel differs from its neighbours: a lossless copy must match it exactly."""
    image = Image.new("RGB", size)
    image.putdata([(x * 7 % 256, y * 11 % 256, (x * y) % 256) for y in range(size[1]) for x in range(size[0])])
    return image.convert(mode)


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = ARTIST
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (51.0, 30.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "W", (0.0, 7.0, 5.0)
    return exif


def _jpeg_with_exif(path: Path) -> Path:
    """A 64x48 photo with the camera's GPS position, device and author, to be shown turned (orientation 6)."""
    exif = _exif()
    exif[ExifTags.Base.Orientation] = 6  # turn 90 degrees clockwise to show it
    _gradient((64, 48)).save(path, "JPEG", exif=exif.tobytes(), comment=ARTIST.encode())
    with Image.open(path) as saved:
        assert ARTIST.encode() in path.read_bytes() and saved.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return path


def _png_with_text(path: Path) -> Path:
    info = PngInfo()
    info.add_text("Author", ARTIST)
    info.add_itxt("Description", ARTIST)
    info.add_text("Comment", ARTIST, zip=True)
    info.add(b"tIME", bytes([7, 234, 12, 4, 9, 30, 0]))  # 2026-12-04 09:30:00
    _gradient((40, 30)).save(path, "PNG", pnginfo=info, exif=_exif().tobytes())
    assert ARTIST.encode() in path.read_bytes() and all(chunk in path.read_bytes() for chunk in PNG_METADATA_CHUNKS)
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


def test_figures_are_copied_without_their_metadata(workspace: Workspace, tmp_path: Path) -> None:
    out, _ = _portfolio_with_a_write_up(workspace, tmp_path)
    folder = out / "projects" / "the-ioi-circuit"
    copied = {p.name: p for p in folder.iterdir() if p.suffix in (".jpg", ".png")}
    assert set(copied) == {"heads.jpg", "plot.png"}
    for path in copied.values():
        assert ARTIST.encode() not in path.read_bytes() and b"PhoneMaker" not in path.read_bytes()
        with Image.open(path) as image:
            image.load()  # the picture itself is whole
            assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert not {"exif", "xmp", "comment", "Author", "Description", "Comment"} & set(image.info), image.info
    assert ARTIST not in _site_text(out)
    with Image.open(copied["heads.jpg"]) as photo:  # turned as its orientation said, then the tag dropped
        assert photo.size == (48, 64) and photo.format == "JPEG"
    with Image.open(copied["plot.png"]) as plot, Image.open(tmp_path / "plot.png") as original:
        assert not plot.text and not any(chunk in copied["plot.png"].read_bytes() for chunk in PNG_METADATA_CHUNKS)
        assert plot.tobytes() == original.tobytes() and plot.mode == original.mode  # lossless


def _figures_page(workspace: Workspace, tmp_path: Path, files: dict[str, bytes]) -> str:
    """A write-up showing each file (``name: bytes``) in its text; its page's folder name."""
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    entry = capture.note(workspace, "Figures.\n\n" + "\n\n".join(f"![{n}](upstack:{n.upper()})" for n in files),
                         attach=paths)
    body = entry.body
    for attachment in entry.attachments:
        body = body.replace(f"upstack:{attachment.filename.upper()}", f"upstack:{attachment.short}")
    curate.edit(workspace, entry.id, "Figures.\n\n" + body)  # an edit gives the title again
    folio.add_item(workspace, "write-up", "Figures", sources=[entry.id])
    return "figures"


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_webp_and_animated_gif_are_copied_without_their_metadata(workspace: Workspace, run: CLI,
                                                                 tmp_path: Path) -> None:
    frames = [_gradient((20, 16), "P"), Image.new("RGB", (20, 16), (250, 10, 10)).convert("P")]
    slug = _figures_page(workspace, tmp_path, {
        "probe.webp": _encoded(_gradient((32, 24)), "WEBP", lossless=True, xmp=XMP, exif=_exif().tobytes()),
        "loss.gif": _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[200, 300],
                             loop=0, comment=ARTIST.encode()),
    })
    assert "left out" not in run.ok("portfolio", "site", str(tmp_path / "site"))
    folder = tmp_path / "site" / "projects" / slug
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "loss.gif", "probe.webp"]
    with Image.open(folder / "probe.webp") as webp, Image.open(tmp_path / "probe.webp") as original:
        assert "xmp" not in webp.info and "exif" not in webp.info and not webp.getexif()
        assert webp.convert("RGB").tobytes() == original.convert("RGB").tobytes()  # written lossless
    with Image.open(folder / "loss.gif") as gif:
        assert "comment" not in gif.info and gif.n_frames == 2
        assert [frame.info["duration"] for frame in ImageSequence.Iterator(gif)] == [200, 300]
    for path in folder.iterdir():
        assert ARTIST.encode() not in path.read_bytes() and b"PhoneMaker" not in path.read_bytes()


def test_a_figure_that_cannot_be_cleaned_is_left_out_and_said_so(workspace: Workspace, run: CLI,
                                                                 tmp_path: Path) -> None:
    photo = _jpeg_with_exif(tmp_path / "photo.jpg").read_bytes()
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><!-- {ARTIST} -->'
           f'<metadata>{ARTIST}</metadata><rect width="10" height="10"/></svg>').encode()
    slug = _figures_page(workspace, tmp_path, {
        "broken.jpg": photo[: len(photo) * 2 // 3],  # its metadata whole, its picture cut short
        "scan.tif": _encoded(_gradient((8, 8)), "TIFF", tiffinfo={ExifTags.Base.Artist: ARTIST}),
        "phone.heic": b"\x00\x00\x00\x18ftypheic" + ARTIST.encode(),  # no HEIC reader in Pillow
        "drawing.svg": svg,
        "fine.png": _encoded(_gradient((8, 8)), "PNG"),
    })
    output = run.ok("portfolio", "site", str(tmp_path / "site"))
    lines = [line for line in output.splitlines() if line.startswith("left out ")]
    assert len(lines) == 4 and "Traceback" not in output, output
    why = {line.split()[2]: line for line in lines}
    assert "truncated" in why["broken.jpg"] and "a TIFF picture" in why["scan.tif"]
    assert "not a picture Pillow can read" in why["phone.heic"] and "SVG" in why["drawing.svg"]
    folder = tmp_path / "site" / "projects" / slug
    assert sorted(p.name for p in folder.iterdir()) == ["fine.png", "index.html"]
    page = (folder / "index.html").read_text()
    assert page.count("[figure left out") == 4, page
    assert "Left out of this page: broken.jpg, scan.tif" in page
    assert ARTIST not in _site_text(tmp_path / "site")


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


def test_the_home_page_heads_accomplishments_without_a_write_up_as_such_not_as_also(run: CLI,
                                                                                   tmp_path: Path) -> None:
    """"Also" reads well below the projects, and oddly as the home page's first heading."""
    run.ok("portfolio", "add", "repository", "Name movers", "--url", "https://github.com/ada/ioi")
    run.ok("portfolio", "site", str(tmp_path / "site"))
    home = (tmp_path / "site" / "index.html").read_text()
    assert "<h2>Accomplishments</h2>" in home and "<h2>Also</h2>" not in home and "<h2>Projects</h2>" not in home


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
