"""`upstack portfolio site OUT/`: the portfolio as a static personal website.

HTML and CSS only (readable without JavaScript), nothing loaded from anywhere but the folder: a home
page, a CV page, and one page per project built from its write-up entry (its Markdown rendered by the
app's own renderer and sanitiser, web/markdown.py), with its figures copied beside the page and their
metadata stripped (domain/image_metadata.py).

Only what the person put in their portfolio is written. A write-up that is private, deleted or someone
else's makes no page; a run's own result (its hosts, paths, diffs, environment) is never rendered; a
[[link]] to an entry that is not on the site becomes plain text, without that entry's title; a picture
or link that would load from elsewhere is turned into a plain link.

The site is built in a temporary folder beside OUT and renamed into place: OUT is the old site or the
new one, never half of each. An OUT that holds anything but an earlier site is refused.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from upstack.domain.entry import Attachment, Entry, LinkRef, figures
from upstack.domain.image_metadata import strip_metadata
from upstack.errors import BadInput, NotFound
from upstack.services import portfolio as folio
from upstack.services import portfolio_export, recall
from upstack.web.markdown import images_shown, render
from upstack.workspace import Workspace

__all__ = ["build", "MARK"]

HERE = Path(__file__).parent
MARK = ".upstack-site"  # in every site built: OUT holding it may be replaced by a new build
_WIKILINK = re.compile(r"\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|([^\[\]\n]*))?\]\]")  # as web/markdown.py's
_FOREIGN_IMG = re.compile(r'<img src="([^"]*)"(?: alt="([^"]*)")?[^>]*>')
_ANCHOR = re.compile(r'<a ([^>]*?)href="([^"]*)"([^>]*)>(.*?)</a>', re.DOTALL)
UNPUBLISHED = "an unpublished note"


@dataclass
class ProjectPage:
    item: folio.Accomplishment
    slug: str
    entry: Entry | None = None
    body: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)


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


def _local_links(rendered: str, published: dict[str, str], files: dict[str, str]) -> str:
    """Links and pictures the app would serve, pointed into the folder; anything that would load from
    elsewhere, or lead nowhere in the folder, made plain."""
    from upstack.ids import short_id

    by_short = {short_id(entry_id): slug for entry_id, slug in published.items()}

    def image(match: re.Match[str]) -> str:
        src, alt = html.unescape(match.group(1)), match.group(2) or ""
        if src.startswith("/a/") and src[3:] in files:
            return f'<img src="{html.escape(files[src[3:]])}" alt="{alt}">'
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


def _figure_name(attachment: Attachment, taken: set[str]) -> str:
    stem, _, ext = attachment.filename.rpartition(".")
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", stem or attachment.filename).strip("-")[:50] or "figure"
    ext = re.sub(r"[^a-z0-9]", "", ext.lower())[:5]
    name, n = f"{base}.{ext}" if ext else base, 2
    while name in taken or name == "index.html":
        name, n = f"{base}-{n}.{ext}", n + 1
    taken.add(name)
    return name


def _project(ws: Workspace, page: ProjectPage, published: dict[str, str], folder: Path) -> None:
    entry = page.entry
    folder.mkdir()
    if entry is None:
        return
    images = [a for a in entry.attachments if a.sha256 and a.media_type.startswith("image/")]
    taken: set[str] = set()
    files = {}
    for attachment in images:
        name = _figure_name(attachment, taken)
        (folder / name).write_bytes(strip_metadata(ws.blobs.read(attachment.sha256 or "")))
        files[attachment.id] = name
    text = _unlink_unpublished(entry.body, entry.links, published)
    rendered = render(text, entry.attachments, entry.links)
    shown = images_shown(rendered)
    page.body = _local_links(rendered, published, files)
    page.figures = [(files[a.id], a.filename) for a in figures(entry.attachments, shown) if a.id in files]
    for attachment_id, name in files.items():  # a file neither shown nor listed is not kept
        if attachment_id not in shown and name not in {f for f, _ in page.figures}:
            (folder / name).unlink()


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]),
                       keep_trailing_newline=True)


def _render_site(ws: Workspace, out: Path) -> int:
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
    return 2 + len(pages)


def build(ws: Workspace, out: Path) -> int:
    """Write the site into ``out`` (replacing an earlier site there); the number of pages."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARK).exists())):
        raise BadInput(f"{out} holds other files: give an empty or new folder (or one an earlier "
                       "`upstack portfolio site` wrote)")
    out.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        count = _render_site(ws, building)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.rename(old / "site")
        building.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        out.chmod(0o755)  # a temporary folder is made private; a website is for reading
        return count
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
