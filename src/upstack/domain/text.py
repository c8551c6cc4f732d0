"""What a note's text means: what text upstack keeps, title, body, tags, links; the search tokenizer.

The tokenizer is the single definition of a search token for both engines: the
store indexes text already split by it, so SQLite FTS5 and PostgreSQL see the
same tokens.

What text upstack keeps is decided here too (``clean_text``): any Unicode text but two
characters, which become U+FFFD wherever text comes in. See ``clean_text``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from upstack.errors import BadInput

__all__ = [
    "slugify",
    "MAX_TOKEN",
    "title_key",
    "KINDS",
    "ParsedText",
    "parse_note_text",
    "collect_tags",
    "split_title",
    "find_tags",
    "find_links",
    "mask_code",
    "normalize_tag",
    "tokenize",
    "search_document",
    "fold_tag",
    "TITLE_LIMIT",
    "TAG_CHARS",
    "REPLACEMENT",
    "clean_text",
    "clean_data",
    "unstorable",
    "trim_block",
    "ABBREVIATIONS",
    "plural",
]

KINDS = ("note", "result", "question", "decision", "learning", "stuck", "idea", "prediction", "take")
# Kinds whose entry arrives with rows of its own (issue 19), so a kind alone would make half of one:
# what each needs, and the command that makes it.
MADE_APART = {"prediction": ("its probability", "upstack predict add CLAIM -p 0.7"),
              "take": ("who said it and how sure you are", "upstack take add CLAIM --from WHO -c 60%")}

# A tag starts with a letter and may hold letters, digits, _ - / (nested tags).
_TAG = re.compile(r"(?<![\w#/&])#([^\W\d_][\w/-]*)")
# [[Target]], [[Target|alias]], [[Target#heading]]; not ![[embeds]].
_LINK = re.compile(r"(?<!!)\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]")
# Code is not prose: a fenced block (up to three spaces in, ``` or ~~~ three or more, closed by the
# same character as many or more times, or open to the end) and a `code span` (a run of backticks
# closed by a run as long, within a paragraph).
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*(?:\n.*?)??(?:\n {0,3}\1[`~]*[ \t]*(?=\n|\Z)|\Z)", re.M | re.S)
_COMMENT = re.compile(r"%%.*?(?:%%|\Z)", re.S)  # Obsidian's %% comment %%: hidden in its reading view
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
# Words a full stop follows without ending the sentence (compared lower-cased, without the stop).
# Dotted initialisms (e.g., i.e., U.S., a.k.a.) are caught by their shape; these are the rest.
ABBREVIATIONS = frozenset({
    "vs", "v", "cf", "al", "fig", "figs", "eq", "eqs", "ch", "vol", "pp", "approx", "ca",
    "resp", "incl", "dr", "mr", "mrs", "prof", "st", "jr", "sr",
})
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # e.g, i.e, U.S, a.k.a: the last stop comes after
_WORD_BEFORE = re.compile(r"([^\s(\[\"'“‘]+)$")
_HEADING = re.compile(r"^#{1,6}\s+")
_TOKEN = re.compile(r"[^\W_]+")
MAX_TOKEN = 64
TITLE_LIMIT = 200

REPLACEMENT = "\ufffd"
# NUL: PostgreSQL text cannot hold it. A lone surrogate (U+D800-U+DFFF unpaired): no Unicode
# character, UTF-8 cannot encode it, so neither engine nor a journal file can hold it; Python makes
# one of each byte that is not UTF-8 in a command line or a file name.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    r"""Text as upstack keeps it: each NUL and each lone surrogate becomes U+FFFD (�).

    This is the one rule for text, the same on both engines, applied where text comes in:
    every journal record as it is made and as it is read back (so capture, edits, imports, runs,
    and records an older upstack wrote), metric names, JSON imports, filters. The text is kept,
    and where the character was stays visible, as a UTF-8 decoder marks bytes it cannot read.
    (Ids, times and hashes are not text: one holding such a character is refused as malformed.)

    >>> clean_text("a\x00b")
    'a�b'
    """
    if "\x00" not in text:  # the usual case, checked at C speed (a regular expression is 10x slower)
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    return _UNSTORABLE.sub(REPLACEMENT, text)


def clean_data(value: Any) -> Any:
    """A copy of ``value`` (JSON-like: dicts, lists, text, numbers) with ``clean_text`` applied to
    all its text, dictionary keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_data(key): clean_data(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [clean_data(inner) for inner in value]
    return value


def unstorable(text: str) -> str:
    """'' if upstack keeps ``text`` as it is; else what in it would be replaced (for messages
    about things that are not text: an id, a name sent by another program)."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return ""
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate (not Unicode text)"


def trim_block(text: str) -> str:
    r"""A body without the blank lines around it; its first line keeps its indentation (code, a
    nested list), which ``str.strip`` would take.

    >>> trim_block("\n\n    x = 1\n    y = 2\n\n")
    '    x = 1\n    y = 2'
    """
    lines = text.rstrip().split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return "\n".join(lines[start:])


@dataclass(frozen=True)
class ParsedText:
    title: str
    body: str
    tags: tuple[str, ...]


def split_title(text: str) -> tuple[str, str]:
    """The first sentence of the first line is the title; the rest is the body. An
    abbreviation's full stop (e.g., vs., et al., Fig.) ends no sentence.

    >>> split_title("Patching layer 5 kills it. Next: head 5.1")
    ('Patching layer 5 kills it.', 'Next: head 5.1')
    >>> split_title("Wang et al. see it too, e.g. in Fig. 3. Read it.")
    ('Wang et al. see it too, e.g. in Fig. 3.', 'Read it.')
    """
    text = text.strip()
    first_line, _, rest = text.partition("\n")
    first_line = _HEADING.sub("", first_line).strip()
    end = _first_sentence_end(first_line)
    if end and end.end() < len(first_line):
        title = first_line[: end.end()]
        remainder = first_line[end.end() :].strip()
        body = trim_block(remainder + ("\n" + rest if rest else ""))
    else:
        title, body = first_line, trim_block(rest)  # an indented first line of the body stays indented
    if len(title) > TITLE_LIMIT:
        cut = title.rfind(" ", 0, TITLE_LIMIT)
        cut = cut if cut > TITLE_LIMIT // 2 else TITLE_LIMIT
        body = (title[cut:].strip() + ("\n\n" + body if body else "")).strip()
        title = title[:cut].rstrip() + "…"
    return title, body


def _first_sentence_end(line: str) -> re.Match[str] | None:
    """Where the first sentence ends: a '.', '!' or '?' before a space, but not the stop of an
    abbreviation (``ABBREVIATIONS``, a dotted initialism such as e.g. or U.S.)."""
    for end in _SENTENCE_END.finditer(line):
        if end.group() == "." and _is_abbreviation(line[: end.start()]):
            continue
        return end
    return None


def _is_abbreviation(before: str) -> bool:
    found = _WORD_BEFORE.search(before)
    if found is None:
        return False
    word = found.group(1)
    return word.lower() in ABBREVIATIONS or _DOTTED.fullmatch(word) is not None


def normalize_tag(tag: str) -> str:
    return tag.strip().lstrip("#").strip("-/").lower()


def mask_code(text: str) -> str:
    """``text`` with its code and ``%% comments %%`` blanked out (newlines kept, so offsets and line
    numbers hold): a ``#tag`` or a ``[[link]]`` written in code is code, not a tag or a link.

    >>> mask_code("#a `#b` c")
    '#a      c'
    """
    if "`" not in text and "~~~" not in text and "%%" not in text:
        return text

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _COMMENT.sub(blank, _CODE_SPAN.sub(blank, _FENCE.sub(blank, text)))


def find_tags(text: str) -> list[str]:
    """The ``#tags`` written in ``text``, in order, each once; none from code."""
    seen: dict[str, None] = {}
    for match in _TAG.finditer(mask_code(text)):
        tag = normalize_tag(match.group(1))
        if tag:
            seen.setdefault(tag)
    return list(seen)


def find_links(text: str) -> list[str]:
    """Targets of [[wikilinks]] in order of first appearance; none from code."""
    seen: dict[str, None] = {}
    for match in _LINK.finditer(mask_code(text)):
        target = match.group(1).strip()
        if target:
            seen.setdefault(target)
    return list(seen)


TAG_CHARS = 200  # a tag is a word to find entries by; the store indexes each (PostgreSQL: ~2,700 bytes a key)


def collect_tags(title: str, body: str, extra_tags: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    """An entry's tags: the #tags written in it, then any given apart from the text. A "#word" of more
    than ``TAG_CHARS`` characters is no tag anyone types: left in the text, not made a tag (indexed, it
    would stop a PostgreSQL store's journal at the record that wrote it)."""
    tags = dict.fromkeys(t for t in find_tags(title + "\n" + body) if len(t) <= TAG_CHARS)
    for tag in extra_tags:
        norm = normalize_tag(tag)
        if norm and len(norm) <= TAG_CHARS:
            tags.setdefault(norm)
    return tuple(tags)


def parse_note_text(text: str, extra_tags: list[str] | tuple[str, ...] = ()) -> ParsedText:
    title, body = split_title(text)
    return ParsedText(title=title, body=body, tags=collect_tags(title, body, extra_tags))


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-free runs of letters and digits; everything else separates.

    >>> tokenize("Head 5.1 kills the IOI-effect (café)")
    ['head', '5', '1', 'kills', 'the', 'ioi', 'effect', 'cafe']
    """
    lowered = text.lower() if text.isascii() else _fold(text)
    return [t[:MAX_TOKEN] for t in _TOKEN.findall(lowered)]


_NOT_TAG_CHAR = re.compile(r"[^\w/-]")


def fold_tag(tag: str) -> str:
    """A tag as one search token: folded like ``tokenize`` folds words, '-', '_', '/' kept."""
    return _NOT_TAG_CHAR.sub("", _fold(normalize_tag(tag)))


def search_document(tokens: list[str]) -> str:
    """Tokens joined so that every token is wrapped in single spaces: ' a  b  c '.

    Counting non-overlapping occurrences of ' a ' (or of a phrase ' a  b ') in
    this string gives a term's frequency with plain SQL on both engines.
    """
    if not tokens:
        return ""
    return " " + "  ".join(tokens) + " "


def title_key(title: str) -> str:
    """What [[Title]] links match: case, spacing and a closing full stop do not matter. A title typed to
    find one (the quick switcher, ``@part``) is text as upstack keeps it (``clean_text``), as every
    stored title is: a NUL typed matches the U+FFFD kept, and never reaches the database."""
    return " ".join(clean_text(title).casefold().split()).rstrip(".!?")


def plural(count: int, word: str, many: str | None = None) -> str:
    """A count with its noun: '1 entry', '2 entries'.

    >>> plural(1, "learning"), plural(3, "entry", "entries")
    ('1 learning', '3 entries')
    """
    return f"{count} {word if count == 1 else many or word + 's'}"


def slugify(title: str) -> str:
    """A name from a title (a step's, a resource's, an opportunity's, a contact's): lower case, accents
    dropped (Zürich: zurich), words joined by '-'."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = "-".join(re.findall(r"[a-z0-9]+", plain.lower()))[:60].strip("-")
    if not slug:
        raise BadInput(f"{title!r} has no letters or digits to name it by")
    return slug
