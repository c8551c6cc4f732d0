"""`upstack review`: a digest for collaborators, per project, in Markdown or a self-contained page.

Private entries never appear: a digest is written for others.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from upstack.domain.entry import Attachment, Entry
from upstack.domain.tree import Node, status_label
from upstack.services.progress import NO_PROJECT, project_titles
from upstack.store import periods, queries
from upstack.store import tree as store_tree
from upstack.timeutil import local_display, to_iso
from upstack.workspace import Workspace

__all__ = ["ProjectReview", "Review", "build_review", "to_markdown", "to_html", "write_markdown", "clause"]

FigureLink = Callable[[Attachment], str | None]

_SECTIONS = (("done", "What was done"), ("learned", "What was learned"),
             ("decisions", "Decisions"), ("questions", "Open questions"),
             ("stuck", "Where it got hard"), ("pruned", "Ideas pruned"), ("next", "Next steps"))


@dataclass
class ProjectReview:
    title: str
    done: list[Entry] = field(default_factory=list)
    learned: list[Entry] = field(default_factory=list)
    decisions: list[Entry] = field(default_factory=list)
    questions: list[Entry | Node] = field(default_factory=list)
    stuck: list[Entry] = field(default_factory=list)
    pruned: list[tuple[str, str]] = field(default_factory=list)  # (idea title, reason)
    next: list[Node] = field(default_factory=list)


@dataclass
class Review:
    since: str
    until: str
    projects: list[ProjectReview]


def build_review(ws: Workspace, *, since: str | None = None, until: str | None = None,
                 project: str | None = None) -> Review:
    db = ws.store().db
    now = datetime.now(UTC)
    since = since or to_iso(now - timedelta(days=7))
    until = until or to_iso(now)
    nodes = {n.id: n for n in store_tree.node_rows(db)}
    titles = project_titles(nodes)
    by_project: dict[str, ProjectReview] = {}

    def section(node_id: str | None) -> ProjectReview:
        name = titles.get(node_id, NO_PROJECT) if node_id else NO_PROJECT
        return by_project.setdefault(name, ProjectReview(name))

    for entry in queries.load_entries(db, periods.shared_entry_ids(db, since, until)):
        target = section(entry.node_id)
        if entry.kind == "idea":
            continue  # ideas appear when pruned, with their reason
        bucket: list[Entry] | list[Entry | Node] = {
            "learning": target.learned, "decision": target.decisions,
            "stuck": target.stuck}.get(entry.kind, target.done)
        if entry.kind == "question":
            bucket = target.questions
        bucket.append(entry)  # type: ignore[arg-type]
    for row in periods.ideas_pruned_between(db, since, until):  # on a team server, only those the reader may see
        section(row["node_id"]).pruned.append((row["title"], row["reason"]))
    for node in nodes.values():
        if node.status in ("open", "active", "blocked") and node.kind in ("question", "experiment"):
            target = section(node.id)
            (target.questions if node.kind == "question" else target.next).append(node)
    reviews = [r for r in by_project.values() if project is None
               or r.title.casefold() == project.casefold()]
    reviews = [r for r in reviews if any(getattr(r, key) for key, _ in _SECTIONS)]
    reviews.sort(key=lambda r: (r.title == NO_PROJECT, -len(r.done) - len(r.learned), r.title))
    return Review(since, until, reviews)


def _images(entry: Entry) -> list[Attachment]:
    images = [a for a in entry.attachments if a.sha256 and a.media_type.startswith("image/")]
    # A run stores a figure as PNG and SVG: show it once.
    pngs = {a.filename.rsplit(".", 1)[0] for a in images if a.media_type == "image/png"}
    return [a for a in images if not (a.media_type == "image/svg+xml" and a.filename.rsplit(".", 1)[0] in pngs)]


def _figure_ref(entry: Entry, figure: FigureLink | None) -> list[str]:
    """A figure as an image where ``figure`` says where its file is; else named, for the reader to ask for."""
    lines = []
    for image in _images(entry):
        where = figure(image) if figure else None
        lines.append(f"  ![{image.filename}]({where})" if where else
                     f"  Figure: {image.filename} (`upstack show {entry.short}`)")
    return lines


def _line(item: Entry | Node) -> str:
    if isinstance(item, Node):
        return f"- {item.title} ({item.kind} {item.short}, {status_label(item)})"
    text = f"- {item.title} ({item.kind} {item.short}, {local_display(item.occurred_at)[:10]})"
    outcome = item.meta.get("outcome")
    if outcome:  # each said as written, without its closing full stop: "expected X; happened Y"
        text += f": expected {clause(item.meta.get('expected'))}; happened " \
                f"{clause(item.meta.get('happened'))} ({outcome})"
    return text


def clause(text: str | None) -> str:
    """A sentence said inside another: without its closing full stop ("?" when there is none)."""
    return (text or "").strip().rstrip(".").rstrip() or "?"


def to_markdown(review: Review, figure: FigureLink | None = None) -> str:
    """The digest as Markdown. ``figure``: where each figure's file is (a path or URL); without one, a
    figure is named rather than shown (a reference only upstack reads would show nothing anywhere)."""
    out = [f"# Research review, {local_display(review.since)[:10]} to "
           f"{local_display(review.until)[:10]}", ""]
    if not review.projects:
        out += ["Nothing written in this period.", ""]
    for project in review.projects:
        out += [f"## {project.title}", ""]
        for key, heading in _SECTIONS:
            items = getattr(project, key)
            if not items:
                continue
            out += [f"### {heading}", ""]
            for item in items:
                if key == "pruned":
                    title, reason = item
                    out.append(f"- {title.rstrip('.')}, pruned: {reason}")
                    continue
                out.append(_line(item))
                if isinstance(item, Entry):
                    out += _figure_ref(item, figure)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_html(ws: Workspace, review: Review) -> str:
    """One self-contained page: Markdown rendered, sanitised, figures embedded as data URIs."""
    import nh3
    from markdown_it import MarkdownIt

    text = to_markdown(review, lambda image: f"upstack:{image.short}")  # each replaced by its data below
    figures: dict[str, str] = {}
    for project in review.projects:
        for entry in project.done + project.learned + project.decisions + project.stuck:
            for attachment in entry.attachments:
                if attachment.sha256 and attachment.media_type.startswith("image/"):
                    data = base64.b64encode(ws.blobs.read(attachment.sha256)).decode("ascii")
                    figures[f"upstack:{attachment.short}"] = \
                        f"data:{attachment.media_type};base64,{data}"
    body = MarkdownIt("commonmark").render(text)
    for ref, uri in figures.items():
        body = body.replace(f'src="{ref}"', f'src="{uri}"')
    clean = nh3.clean(body, tags={"h1", "h2", "h3", "ul", "li", "p", "img", "em", "strong",
                                  "code", "a"},
                      attributes={"img": {"src", "alt"}, "a": {"href"}},
                      url_schemes={"data", "http", "https"})
    title = html.escape(text.splitlines()[0].lstrip("# "))
    style = ("body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;"
             "line-height:1.5;padding:0 1rem}img{max-width:100%;display:block;margin:.5rem 0}")
    return (f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{style}</style></head><body>\n{clean}</body></html>\n")


def write_markdown(ws: Workspace, review: Review, out: Path) -> int:
    """The digest as Markdown in ``out``, its figures in a folder beside it (``NAME files/``) that the
    text links to, as a saved web page keeps its pictures; how many figures."""
    from urllib.parse import quote

    from upstack.files import write_atomically

    folder = out.with_name(f"{out.stem} files")
    names: dict[str, str] = {}

    def figure(image: Attachment) -> str:
        if image.id not in names:
            stem, dot, suffix = image.filename.rpartition(".")
            name = image.filename if image.filename not in names.values() else f"{stem} ({image.short}){dot}{suffix}"
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(folder / name, ws.blobs.read(image.sha256 or ""))
            names[image.id] = name
        return quote(f"{folder.name}/{names[image.id]}")

    write_atomically(out, to_markdown(review, figure))
    return len(names)
