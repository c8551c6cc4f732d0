"""One note's file, both ways: what its front matter and name say, and the front matter to write back.

A note read from a vault keeps its front matter as it was written (``meta["markdown"]["front"]``).
Written back, that text is kept byte for byte, with only the keys upstack owns changed, and only
where the entry no longer says what the text says (an edit in upstack): a key someone else added
(``status``, ``cssclasses``), its order and its quoting survive, so vault -> upstack -> vault changes
nothing, and a second export is the first one again. An entry born in upstack gets front matter
made from its fields. Pure functions: no files, no store.

Example:
    >>> fields, _ = note_fields({"aliases": "RMU", "tags": ["a/b"]}, "Papers/Unlearning.md")
    >>> fields.title, fields.aliases, fields.tags
    ('Unlearning', ['RMU'], ['a/b'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import yaml

from upstack.domain.text import KINDS, normalize_tag
from upstack.errors import BadInput
from upstack.ids import looks_like_full_id
from upstack.timeutil import parse_when, to_iso

__all__ = ["NoteFields", "split_front", "load_front", "note_fields", "front_matter", "DailyNames", "tag_list"]

# libyaml's C dumper and loader where PyYAML was built with it (a tenth of the time), else Python's.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Keys whose value upstack keeps as a field of the entry, each with the other spellings Obsidian takes.
_SPELLINGS = {"tags": ("tags", "tag"), "aliases": ("aliases", "alias")}


@dataclass
class NoteFields:
    """What a note's front matter and file name say about the entry it is."""
    title: str
    kind: str = "note"
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    occurred_at: str | None = None  # None: neither the front matter nor a daily note's name says
    created_at: str | None = None
    private: bool = False
    starred: bool = False
    project: str | None = None
    id: str | None = None


class DailyNames:
    """Daily notes' file names as dates, in the vault's format (``.obsidian/daily-notes.json``,
    moment.js tokens, ``YYYY-MM-DD`` when none is set)."""

    _TOKENS = (("YYYY", "%Y"), ("YY", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%m"),
               ("DD", "%d"), ("D", "%d"), ("dddd", "%A"), ("ddd", "%a"))

    def __init__(self, moment_format: str = "YYYY-MM-DD") -> None:
        self.pattern = self._strptime(moment_format or "YYYY-MM-DD")

    @classmethod
    def _strptime(cls, moment: str) -> str | None:
        out, rest = [], moment
        while rest:
            if rest.startswith("["):  # [literal text]
                end = rest.find("]")
                if end < 0:
                    return None
                out.append(rest[1:end].replace("%", "%%"))
                rest = rest[end + 1:]
                continue
            token = next((t for t in cls._TOKENS if rest.startswith(t[0])), None)
            if token is None:
                if rest[0].isalpha():
                    return None  # a token this reader does not know: no daily notes by name
                out.append(rest[0].replace("%", "%%"))
                rest = rest[1:]
                continue
            out.append(token[1])
            rest = rest[len(token[0]):]
        return "".join(out)

    def day(self, stem: str) -> date | None:
        if self.pattern is None:
            return None
        try:
            return datetime.strptime(stem, self.pattern).date()
        except ValueError:
            return None


def split_front(text: str) -> tuple[str | None, str, int]:
    """(front matter text or None, body, line number the body starts on) of a note's text."""
    if not text.startswith("---"):
        return None, text, 1
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return None, text, 1
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")), None)
    if end is None:
        return None, text, 1
    front = "\n".join(lines[1:end])
    return (front + "\n" if front else ""), "\n".join(lines[end + 1:]), end + 2


_FRONT_VALUES = 100_000  # more values than this, counted as YAML's aliases expand them, is no note's
_FRONT_DEPTH = 100  # lists in lists deeper than this: no note's either (and printing one overflows the stack)


def _too_big(data: Any) -> str | None:
    """What is wrong with front matter this big (each alias counted every time it is used), if anything."""
    left, stack = _FRONT_VALUES, [(data, 0)]
    while stack:
        value, depth = stack.pop()
        left -= 1
        if left < 0:
            return f"more than {_FRONT_VALUES:,} values once its aliases (*name) are expanded"
        if depth > _FRONT_DEPTH:
            return f"lists or mappings nested more than {_FRONT_DEPTH} deep"
        if isinstance(value, dict):
            value = [*value.keys(), *value.values()]
        if isinstance(value, list):
            stack += [(item, depth + 1) for item in value]
    return None


def load_front(text: str) -> Any:
    """Front matter text as data (raises yaml.YAMLError when it is not YAML, or when it is too big
    for any note once its aliases are expanded: a few lines of ``&a [*b, *b, ...]`` make a billion
    values, and every reader of the tags would print them all)."""
    data = yaml.load(text, Loader=_LOADER) or {}
    wrong = _too_big(data)
    if wrong:
        raise yaml.YAMLError(wrong)
    return data


def tag_list(value: Any) -> list[str]:
    """Tags as front matter gives them: a list, or one string of tags split by commas or spaces."""
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value or ""))
    out = [normalize_tag(str(t)) for t in items if t is not None]
    return list(dict.fromkeys(t for t in out if t))


def _names(value: Any) -> list[str]:
    """Aliases: a list, or one string (one alias; Obsidian splits it by commas)."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return list(dict.fromkeys(" ".join(str(a).split()) for a in items if a is not None and str(a).strip()))


def _first(fields: dict[str, Any], key: str) -> tuple[str, Any]:
    for spelling in _SPELLINGS.get(key, (key,)):
        if spelling in fields:
            return spelling, fields[spelling]
    return key, None


def _when(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return to_iso(datetime.combine(value, time()))
    return parse_when(str(value), what=what)


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if str(value).strip().lower() in ("true", "yes", "false", "no"):
        return str(value).strip().lower() in ("true", "yes")
    raise BadInput(f"{key} must be true or false, not {value!r}")


def note_fields(fields: dict[str, Any], path: str, daily: DailyNames | None = None
                ) -> tuple[NoteFields, list[tuple[str, str]]]:
    """The entry a note is, from its parsed front matter and vault path; and (key, problem) pairs."""
    problems: list[tuple[str, str]] = []
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    title = fields.get("title")
    out = NoteFields(title=" ".join(str(title).split()) if title not in (None, "") else stem)
    kind = str(fields.get("kind") or "note")
    if kind in KINDS:
        out.kind = kind
    else:
        problems.append(("kind", f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}"))
    out.tags = tag_list(_first(fields, "tags")[1])
    out.aliases = _names(_first(fields, "aliases")[1])
    for key in ("date", "created"):
        try:
            setattr(out, "occurred_at" if key == "date" else "created_at",
                    _when(fields.get(key), key if key == "date" else f"{key} date"))
        except BadInput as exc:
            problems.append((key, str(exc)))
    if out.occurred_at is None:
        day = (daily or DailyNames()).day(stem)
        out.occurred_at = to_iso(datetime.combine(day, time())) if day else None
    for key in ("private", "starred"):
        try:
            setattr(out, key, _flag(fields.get(key), key))
        except BadInput as exc:
            problems.append((key, str(exc)))
    project = fields.get("project")
    out.project = " ".join(str(project).split()) if project not in (None, "") else None
    raw_id = str(fields.get("id") or "").strip()
    out.id = raw_id.upper() if looks_like_full_id(raw_id) else None
    return out, problems


# -- writing it back --------------------------------------------------------------------------

def _dump(key: str, value: Any, flow: bool = False) -> str:
    if flow and isinstance(value, list):  # a list written [a, b] stays so
        inline = yaml.dump(value, Dumper=_DUMPER, allow_unicode=True, width=10_000, default_flow_style=True).strip()
        return f"{key}: {inline}\n"
    return yaml.dump({key: value}, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=10_000,
                     default_flow_style=False)


def _key_span(lines: list[str], key: str) -> tuple[int, int] | None:
    """Lines [start, end) of a top-level ``key:`` and what belongs to it (indented or ``-`` lines)."""
    head = re.compile(rf"^{re.escape(key)}\s*:(\s|$)")
    start = next((i for i, line in enumerate(lines) if head.match(line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (lines[end][:1] in (" ", "\t", "-") or not lines[end].strip()) \
            and not lines[end].startswith("---"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # a blank line before the next key is the text's, not this key's
    return start, end


def _patch(front: str, changes: dict[str, Any]) -> str:
    """``front`` with each key of ``changes`` given its new value where it stands (added at the end
    when it is not there; taken out when the value is None); every other line as it was."""
    lines = front.rstrip("\n").split("\n") if front.strip() else []
    for key, value in changes.items():
        span = _key_span(lines, key)
        flow = bool(span) and lines[span[0]].split(":", 1)[1].strip().startswith("[")  # type: ignore[index]
        new = [] if value is None else _dump(key, value, flow).rstrip("\n").split("\n")
        if span is None:
            lines += new
        else:
            lines[span[0]:span[1]] = new
    return "\n".join(lines) + "\n" if lines else ""


def _wanted(entry: NoteFields, said: NoteFields, fields: dict[str, Any], inline_tags: list[str]
            ) -> dict[str, Any]:
    """The front matter keys to change so that the text says what ``entry`` is."""
    changes: dict[str, Any] = {}
    if entry.title != said.title:
        changes["title"] = entry.title
    if entry.kind != said.kind:
        changes["kind"] = entry.kind if entry.kind != "note" or "kind" in fields else None
    # Every tag not written in the text is listed; a listed tag the entry no longer has goes.
    listed = [t for t in said.tags if t in entry.tags]
    listed += [t for t in entry.tags if t not in listed and t not in inline_tags]
    if listed != said.tags:
        changes[_first(fields, "tags")[0]] = listed
    if entry.aliases != said.aliases:
        changes[_first(fields, "aliases")[0]] = entry.aliases or None
    if entry.occurred_at and entry.occurred_at != said.occurred_at:
        changes["date"] = entry.occurred_at
    for key in ("private", "starred"):
        if getattr(entry, key) != getattr(said, key):
            changes[key] = True if getattr(entry, key) else (False if key in fields else None)
    if (entry.project or None) != said.project:
        changes["project"] = entry.project
    if entry.id and said.id != entry.id:
        changes["id"] = entry.id
    return changes


def front_matter(entry: NoteFields, path: str, *, kept: str | None, inline_tags: list[str],
                 daily: DailyNames | None = None, attachments: list[str] | None = None) -> str:
    """The front matter text (between the ``---`` lines) to write for ``entry`` at ``path``.

    ``kept``: the front matter the note was read with, if it came from a vault (kept where it
    still holds). ``inline_tags``: the tags its text itself has (those need no listing).
    ``attachments``: files of the entry its text does not show, listed so they come back.
    """
    if kept is not None:
        try:
            fields = load_front(kept)
        except yaml.YAMLError:
            fields = None
        if isinstance(fields, dict):
            said, _ = note_fields(fields, path, daily)
            changes = _wanted(entry, said, fields, inline_tags)
            if attachments and fields.get("attachments") != attachments:
                changes["attachments"] = attachments
            return _patch(kept, changes) if changes else kept
    made: dict[str, Any] = {"id": entry.id, "title": entry.title}
    if entry.kind != "note":
        made["kind"] = entry.kind
    made["tags"] = [t for t in entry.tags if t not in inline_tags]
    if entry.aliases:
        made["aliases"] = entry.aliases
    if entry.project:
        made["project"] = entry.project
    made.update(date=entry.occurred_at, created=entry.created_at)
    if entry.private:
        made["private"] = True
    if entry.starred:
        made["starred"] = True
    if attachments:
        made["attachments"] = attachments
    return yaml.dump(made, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=10_000)
