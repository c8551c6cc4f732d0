"""Learning resources (`upstack ladder resource ...`): the guide's, with their public links, and the
person's own, each under a ladder step, with progress and the minutes spent, folded from
``resource.set`` and ``resource.progress`` records. Links are data: nothing here fetches them.

Record shapes (each also has ``subject``, the resource's slug, and ``at``):

- ``resource.set``: ``change`` add (``title``, ``url``, ``step``), edit (any of those) or remove.
- ``resource.progress``: ``state`` (not-started, in-progress, done), ``position`` (e.g. "chapter 3";
  kept until another is given), ``minutes`` spent this time (summed per resource).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from upstack.domain import ladder as rules
from upstack.domain.ladder import Resource
from upstack.errors import BadInput
from upstack.services import ladder as ladder_service
from upstack.store import path as store_path
from upstack.timeutil import now_iso
from upstack.workspace import Workspace

__all__ = ["ResourceState", "RESOURCE_OPS", "resources", "find_resource", "add_resource", "edit_resource",
           "remove_resource", "log_progress"]

RESOURCE_OPS = ("resource.set", "resource.progress")
_MAX_POSITION = 200
_MAX_MINUTES = 24 * 60  # one log of progress is at most a day's work


@dataclass
class ResourceState:
    resource: Resource
    state: str = "not-started"
    position: str = ""
    minutes: int = 0
    updated_at: str | None = None
    removed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.resource), "state": self.state, "position": self.position,
                "minutes": self.minutes, "updated_at": self.updated_at}


def resources(ws: Workspace, *, person: str | None = None, removed: bool = False) -> list[ResourceState]:
    """The reader's resources (the guide's first, then their own in the order added) with progress."""
    held = {r.slug: ResourceState(r) for r in rules.RESOURCES}
    for event in store_path.events(ws.store().db, RESOURCE_OPS, person):
        data, state = event.data, held.get(event.subject)
        if event.op == "resource.set":
            change = data.get("change")
            if change == "add":
                fields = {k: str(data[k]) for k in ("title", "url", "step") if data.get(k) is not None}
                if state is None:
                    held[event.subject] = ResourceState(Resource(event.subject, fields.get("title", event.subject),
                                                                 fields.get("url", ""), fields.get("step", ""),
                                                                 builtin=False))
                else:
                    state.removed = False
            elif state is not None and change == "edit":
                changed: dict[str, Any] = {k: str(data[k]) for k in ("title", "url", "step") if k in data}
                state.resource = Resource(**{**asdict(state.resource), **changed})
            elif state is not None and change == "remove":
                state.removed = True
        elif state is not None:
            state.state = str(data.get("state") or state.state)
            state.position = str(data["position"]) if data.get("position") else state.position
            state.minutes += int(data.get("minutes") or 0)
            state.updated_at = str(data.get("when") or event.at)
    return [s for s in held.values() if removed or not s.removed]


def find_resource(ws: Workspace, ref: str, *, removed: bool = False) -> ResourceState:
    found = resources(ws, removed=removed)
    slug = rules.match_slug(ref, [s.resource.slug for s in found], what="resource")
    return next(s for s in found if s.resource.slug == slug)


def _step_slug(ws: Workspace, step: str | None) -> str:
    if not step:
        return ""
    return ladder_service.find_step(ladder_service.load(ws, practice=False), step).step.slug


def _write(ws: Workspace, op: str, subject: str, at: str | None = None, **data: Any) -> None:
    ws.store().write([ws.record(op, {"subject": subject, "at": at or ladder_service.stamp(ws, RESOURCE_OPS),
                                     **data})])


def add_resource(ws: Workspace, title: str, *, url: str = "", step: str | None = None) -> ResourceState:
    """A resource of the person's own, under a step if given; its link is checked to be an address."""
    title = title.strip()
    slug = rules.slugify(title)
    existing = {s.resource.slug: s for s in resources(ws, removed=True)}
    if slug in existing and not existing[slug].removed:
        raise BadInput(f"there is a resource {slug!r} already: `upstack ladder resource edit {slug}` changes it")
    _write(ws, "resource.set", slug, change="add", title=title, url=rules.check_url(url) if url else "",
           step=_step_slug(ws, step))
    return find_resource(ws, slug)


def edit_resource(ws: Workspace, ref: str, *, title: str | None = None, url: str | None = None,
                  step: str | None = None) -> ResourceState:
    found = find_resource(ws, ref)
    changes: dict[str, Any] = {}
    if title is not None and title.strip():
        changes["title"] = title.strip()
    if url is not None:
        changes["url"] = rules.check_url(url) if url else ""
    if step is not None:
        changes["step"] = _step_slug(ws, step)
    if not changes:
        raise BadInput("nothing to change: give --title, --url or --step")
    _write(ws, "resource.set", found.resource.slug, change="edit", **changes)
    return find_resource(ws, found.resource.slug)


def remove_resource(ws: Workspace, ref: str) -> ResourceState:
    found = find_resource(ws, ref)
    _write(ws, "resource.set", found.resource.slug, change="remove")
    return found


def log_progress(ws: Workspace, ref: str, *, position: str = "", minutes: int = 0, done: bool = False,
                 when: str | None = None) -> ResourceState:
    """Progress on a resource: in progress (at ``position``) or done, and the minutes spent this time."""
    found = find_resource(ws, ref)
    if minutes < 0:
        raise BadInput(f"minutes spent must be 0 or more, got {minutes}")
    if minutes > _MAX_MINUTES:
        raise BadInput(f"{minutes} minutes is more than a day: log each day's time on its own")
    position = position.strip()
    if len(position) > _MAX_POSITION:
        raise BadInput(f"the position is {len(position)} characters; keep it under {_MAX_POSITION} "
                       "(e.g. \"chapter 3\")")
    when = ladder_service.check_when(when)
    _write(ws, "resource.progress", found.resource.slug,
           state="done" if done else "in-progress", position=position, minutes=minutes,
           when=when or now_iso())
    return find_resource(ws, found.resource.slug)
