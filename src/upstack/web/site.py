"""`upstack portfolio site OUT/`: the portfolio as a static personal website.

HTML and CSS only (readable without JavaScript), nothing loaded from anywhere but the folder: a home
page, a CV page, and one page per project built from its write-up entry (its Markdown rendered by the
app's own renderer and sanitiser, web/markdown.py), with its figures beside the page.

A figure is decoded and written again by Pillow, so only its pixels (and colour profile) reach the
site: never its EXIF (place, time, device), XMP, comments or text chunks. This fails closed: a figure
Pillow cannot read whole, or of a format other than PNG, JPEG, WebP and GIF (a TIFF, a HEIC, an SVG
drawing), is left out; its page says so, and `build` returns what was left out and why.

Only what the person put in their portfolio is written. A write-up that is private, deleted or someone
else's makes no page; a run's own result (its hosts, paths, diffs, environment) is never rendered; a
[[link]] to an entry that is not on the site becomes plain text, without that entry's title; a picture
or link that would load from elsewhere is turned into a plain link.

The site is built in a temporary folder beside OUT and renamed into place: OUT is the old site or the
new one, never half of each. An OUT that holds anything but an earlier site is refused.
"""

from __future__ import annotations

import html
import io
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from upstack.domain.entry import Attachment, Entry, LinkRef, figures
from upstack.errors import BadInput, NotFound
from upstack.services import portfolio as folio
from upstack.services import portfolio_export, recall
from upstack.web.markdown import images_shown, render
from upstack.workspace import Workspace

__all__ = ["build", "Built", "LeftOut", "MARK", "JPEG_QUALITY"]

HERE = Path(__file__).parent
MARK = ".upstack-site"  # in every site built: OUT holding it may be replaced by a new build
_WIKILINK = re.compile(r"\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")  # as web/markdown.py's
_FOREIGN_IMG = re.compile(r'<img src="([^"]*)"(?: alt="([^"]*)")?[^>]*>')
_ANCHOR = re.compile(r'<a ([^>]*?)href="([^"]*)"([^>]*)>(.*?)</a>', re.DOTALL)
UNPUBLISHED = "an unpublished note"
SITE_FORMATS = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg", "WEBP": "webp", "GIF": "gif"}  # MPO: a camera's JPEG
JPEG_QUALITY = 95  # with 4:4:4 chroma: a JPEG is decoded and encoded again, and should look the same
_KEPT_INFO = ("transparency", "duration", "loop", "background", "icc_profile")  # how it looks, not who made it


class LeftOut(Exception):
    """A figure not published, and why (one line, for the person building the site)."""


@dataclass
class ProjectPage:
    item: folio.Accomplishment
    slug: str
    entry: Entry | None = None
    body: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (attachment's file name, why)


@dataclass
class Built:
    pages: int
    left_out: list[tuple[str, str, str]]  # (project's title, figure's file name, why)


def _slug(title: str, taken: set[str]) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-") or "project"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _write_up(ws: Workspace, item: folio.Accomplishment) -> Entry | None:
    """The entry a project's page is built from: the first entry behind it that may be public."""
    for source in item.sources:
        if source.get("kind") != "entry":
            continue  # a node has no text to show; a run's result holds its provenance: never on a site
        try:
            entry = recall.show(ws, source["id"])
        except (NotFound, BadInput):  # deleted since, or no longer the reader's to see
            continue
        if entry.private or entry.deleted_at or entry.purged_at or entry.meta.get("run") \
                or not folio.is_own(ws, entry.author_id):
            continue
        return entry
    return None


def _unlink_unpublished(body: str, links: list[LinkRef], published: dict[str, str]) -> str:
    """[[links]] to entries not on the site as plain text without their titles (what the person wrote
    as the shown text stays)."""
    by_target = {link.target: link for link in links}

    def plain(match: re.Match[str]) -> str:
        found = by_target.get(match.group(1).strip())
        if found is not None and found.entry_id in published:
            return match.group(0)
        return (match.group(2) or "").strip() or UNPUBLISHED

    return _WIKILINK.sub(plain, body)


def _local_links(rendered: str, published: dict[str, str], files: dict[str, str], left_out: set[str]) -> str:
    """Links and pictures the app would serve, pointed into the folder; anything that would load from
    elsewhere, or lead nowhere in the folder, made plain; a figure left out, said so."""
    from upstack.ids import short_id

    by_short = {short_id(entry_id): slug for entry_id, slug in published.items()}

    def image(match: re.Match[str]) -> str:
        src, alt = html.unescape(match.group(1)), match.group(2) or ""
        if src.startswith("/a/") and src[3:] in files:
            return f'<img src="{html.escape(files[src[3:]])}" alt="{alt}">'
        if src.startswith("/a/") and src[3:] in left_out:
            return f'<span class="left-out">[figure left out{": " + alt if alt else ""}]</span>'
        if src.startswith(("http://", "https://")):
            return f'<a href="{html.escape(src)}">{alt or "picture"}</a>'
        return f"<span>{alt}</span>"

    def anchor(match: re.Match[str]) -> str:
        href, text = html.unescape(match.group(2)), match.group(4)
        if href.startswith("/e/") and href[3:] in by_short:
            return f'<a href="../{by_short[href[3:]]}/index.html">{text}</a>'
        if href.startswith(("http://", "https://", "mailto:")):
            return f'<a {match.group(1)}href="{match.group(2)}"{match.group(3)}>{text}</a>'
        return f"<span>{text}</span>"

    return _ANCHOR.sub(anchor, _FOREIGN_IMG.sub(image, rendered))


def _figure_name(attachment: Attachment, ext: str, taken: set[str]) -> str:
    stem = attachment.filename.rpartition(".")[0] or attachment.filename
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-")[:50] or "figure"
    name, n = f"{base}.{ext}", 2
    while name in taken:
        name, n = f"{base}-{n}.{ext}", n + 1
    taken.add(name)
    return name


def clean_figure(data: bytes, media_type: str) -> tuple[bytes, str]:
    """A figure as the site publishes it: its pixels written again by Pillow, with none of the
    metadata of the file it came from, and its extension. Raises ``LeftOut`` (why) for a figure the
    site does not publish.

    PNG stays lossless, WebP is written lossless, GIF keeps its palette, JPEG is encoded again at
    quality JPEG_QUALITY; each keeps its frames (an animation) and its colour profile. The EXIF
    orientation is applied to the pixels first, so the picture stands as the camera meant.
    """
    if media_type == "image/svg+xml":
        raise LeftOut("an SVG drawing can hold scripts, outside links and its editor's file paths; "
                      "attach it as PNG to show it")
    # Pillow takes ~60 ms to import: only a site export with figures needs it.
    import warnings

    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in SITE_FORMATS:
                    raise LeftOut(f"a {image.format} picture; the site takes PNG, JPEG, WebP and GIF: "
                                  "attach it as one of those to show it")
                fmt, ext = ("JPEG" if image.format == "MPO" else image.format), SITE_FORMATS[image.format]
                frames = []
                for frame in ImageSequence.Iterator(image):
                    upright = ImageOps.exif_transpose(frame)  # a new image (a copy when upright already)
                    # Only what says how it looks goes on; Pillow's savers would otherwise write some
                    # of the rest again (a JPEG's or GIF's comment).
                    upright.info = {key: upright.info[key] for key in _KEPT_INFO if key in upright.info}
                    frames.append(upright)
                    if fmt == "JPEG":
                        break  # an MPO's other pictures are previews and depth maps
                first = frames[0]
                options: dict[str, object] = {}
                if first.info.get("icc_profile"):
                    options["icc_profile"] = first.info["icc_profile"]
                if len(frames) > 1:
                    options.update(save_all=True, append_images=frames[1:],
                                   duration=[f.info.get("duration") or 100 for f in frames])
                    if "loop" in first.info:
                        options["loop"] = first.info["loop"]
                if fmt == "JPEG":
                    if first.mode not in ("L", "RGB", "CMYK"):
                        first = first.convert("RGB")
                    options.update(quality=JPEG_QUALITY, subsampling=0)
                elif fmt == "WEBP":
                    options["lossless"] = True
                out = io.BytesIO()
                first.save(out, fmt, **options)
                return out.getvalue(), ext
    except LeftOut:
        raise
    except UnidentifiedImageError:
        raise LeftOut("not a picture Pillow can read; the site takes PNG, JPEG, WebP and GIF") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LeftOut(f"too many pixels to open safely (more than {Image.MAX_IMAGE_PIXELS})") from None
    except Exception as error:  # a malformed file makes Pillow's decoders raise all kinds
        raise LeftOut(f"Pillow cannot read it whole ({str(error) or type(error).__name__})") from None


def _project(ws: Workspace, page: ProjectPage, published: dict[str, str], folder: Path) -> None:
    entry = page.entry
    folder.mkdir()
    if entry is None:
        return
    text = _unlink_unpublished(entry.body, entry.links, published)
    rendered = render(text, entry.attachments, entry.links)
    shown = images_shown(rendered)
    listed = figures(entry.attachments, shown)
    wanted = [a for a in entry.attachments if a.id in shown and a.sha256] + listed
    taken = {"index.html"}
    files: dict[str, str] = {}
    for attachment in wanted:
        try:
            data, ext = clean_figure(ws.blobs.read(attachment.sha256 or ""), attachment.media_type)
        except LeftOut as why:
            page.left_out.append((attachment.filename, str(why)))
            continue
        name = _figure_name(attachment, ext, taken)
        (folder / name).write_bytes(data)
        files[attachment.id] = name
    left_out = {a.id for a in wanted} - set(files)
    page.body = _local_links(rendered, published, files, left_out)
    page.figures = [(files[a.id], a.filename) for a in listed if a.id in files]


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


def _render_site(ws: Workspace, out: Path) -> Built:
    held = folio.load(ws)
    env = _environment()
    taken: set[str] = set()
    pages = [ProjectPage(item=item, slug=_slug(item.title, taken), entry=_write_up(ws, item))
             for item in held.items if item.kind in ("write-up", "repository", "result", "talk")]
    pages = [p for p in pages if p.entry is not None or p.item.kind == "write-up" or p.item.summary]
    published = {p.entry.id: p.slug for p in pages if p.entry is not None}
    (out / "projects").mkdir()
    for page in pages:
        _project(ws, page, published, out / "projects" / page.slug)
    sections = [(title, [i for i in held.items if i.kind in kinds]) for title, kinds in portfolio_export.SECTIONS]
    common = {"profile": held.profile, "name": held.profile.name or "Portfolio"}
    (out / "style.css").write_bytes((HERE / "static" / "site.css").read_bytes())
    (out / "index.html").write_text(env.get_template("site_home.html").render(
        **common, root="", projects=pages, others=[i for i in held.items if i.id not in {p.item.id for p in pages}]))
    (out / "cv.html").write_text(env.get_template("site_cv.html").render(
        **common, root="", sections=[(t, items) for t, items in sections if items]))
    for page in pages:
        (out / "projects" / page.slug / "index.html").write_text(env.get_template("site_project.html").render(
            **common, root="../../", page=page, body=page.body))
    (out / MARK).write_text("built by upstack portfolio site; the whole folder is replaced by the next build\n")
    return Built(pages=2 + len(pages),
                 left_out=[(p.item.title, name, why) for p in pages for name, why in p.left_out])


def build(ws: Workspace, out: Path) -> Built:
    """Write the site into ``out`` (replacing an earlier site there); the number of pages and the
    figures left out."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARK).exists())):
        raise BadInput(f"{out} holds other files: give an empty or new folder (or one an earlier "
                       "`upstack portfolio site` wrote)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise _in_site(exc, out) from exc
    old = None
    try:
        built = _render_site(ws, building)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / "site")
        building.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        out.chmod(0o755)  # a temporary folder is made private; a website is for reading
        return built
    except BaseException as exc:
        shutil.rmtree(building, ignore_errors=True)
        if old is not None and (old / "site").exists() and not out.exists():
            (old / "site").rename(out)  # the new site did not take its place: the old one is put back
            shutil.rmtree(old, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _in_site(exc, out, building) from exc
        raise


def _in_site(exc: OSError, out: Path, building: Path | None = None) -> OSError:
    """A failure to write the site, naming the site's folder (faults.py says it in one line): a write
    names no file (os.write), and a temporary folder beside OUT is not what the person gave. A file
    named elsewhere (the workspace's) keeps its name."""
    named = Path(exc.filename) if exc.filename else None
    if named is None or named in (out.parent, building) or named.parent == out.parent \
            or (building is not None and building in named.parents):
        return OSError(exc.errno, exc.strerror, str(out))
    return exc
