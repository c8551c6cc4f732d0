"""The words of the search index, as a reader may be shown them: completing a prefix, spelling a word.

``search_words`` holds every word of every indexed title and body: ``add_words`` runs as an entry is
indexed (store/ingest.py), and a reindex starts it afresh. Words of entries since edited or deleted
stay in it until the entry is purged (``forget_words``) or the index rebuilt, so it says what words
*may* be found, never what is: nothing in it reaches a reader before the search index is asked
whether an entry of the reader's view holds the word (``held``, ``holders``, ``completions``;
``only_completion`` only rewrites a query into one that matches the same entries). A
word only hidden entries hold (another's private note, a project not shared, a deleted entry) is
never completed, counted or offered, and what a reader is told is what a server where the hidden
entries were never written would tell them.

The view is the reader's, as search weighs words by it (``store.bm25.corpus``): the whole index for
the owner, a signed-in reader's own view on a team server.
"""

from __future__ import annotations

from collections.abc import Iterable

from upstack.domain import access
from upstack.memo import Memo
from upstack.store.bm25 import Corpus, Phrase, corpus, phrase_hits
from upstack.store.cache import store_key
from upstack.store.db import Database
from upstack.store.queries import visible_sql

__all__ = ["WORD_FIELDS", "add_words", "forget_words", "reader_corpus", "held", "holders", "completions",
           "only_completion", "any_starting", "all_words"]

WORD_FIELDS = ("title_text", "body_text")  # words of these fields are in search_words; tags are not
_ADD = "INSERT INTO search_words (word) VALUES (?) ON CONFLICT (word) DO NOTHING"


def add_words(db: Database, title_text: str, body_text: str) -> None:
    """Keep the words of an indexed title and body (texts as ``store.ingest.search_texts`` makes them).

    Within one transaction (an ingest of many records) each word is written once: a batch of notes
    repeats most of its words, and one statement per word would cost as much as the rest of indexing.
    """
    words = set(title_text.split())
    words.update(body_text.split())
    if db.writing:
        written = db.written.setdefault("search_words", set())
        words -= written
        written |= words
    if words:
        db.executemany(_ADD, [(w,) for w in sorted(words)])


def forget_words(db: Database, words: Iterable[str]) -> None:
    """After texts left the index for good (a purge): drop those of ``words`` that no indexed entry holds."""
    whole = Corpus(0, 0)
    gone = [w for w in sorted(set(words)) if not _holds(db, w, whole, prefix=False)]
    if gone:
        db.executemany("DELETE FROM search_words WHERE word = ?", [(w,) for w in gone])
        db.written.get("search_words", set()).difference_update(gone)  # a later entry writes them again


def reader_corpus(db: Database) -> Corpus:
    """The entries the current reader may find (``domain.access.current``), as search weighs words by them."""
    audience = access.current(team=db.team)
    return corpus(db, visible_sql(audience) if audience is not None else None)


def _holds(db: Database, word: str, seen: Corpus, *, prefix: bool) -> bool:
    """Whether an entry of ``seen`` holds ``word`` (or, with ``prefix``, a word starting with it).

    The whole index is asked first, by the index's look-up (``first_row``): most words looked at
    (a misspelling, a word of edited or deleted texts) are held by no entry at all.
    """
    phrase = Phrase((word,), prefix, WORD_FIELDS)
    source, params = db.engine.whole_index_matches(phrase)
    if db.one(db.engine.first_row(f"SELECT 1 AS found FROM {source}"), params) is None:
        return False
    if seen.whole:
        return True
    params = list(seen.view_params)
    source = f"entry_search s JOIN entries e ON e.id = s.entry_id WHERE {seen.view} AND " + \
             db.engine.match(phrase, params)
    return db.one(f"SELECT 1 AS found FROM {source} LIMIT 1", params) is not None


def held(db: Database, words: Iterable[str], seen: Corpus) -> list[str]:
    """Those of ``words`` that an entry of ``seen`` holds, in their order."""
    return [w for w in words if _holds(db, w, seen, prefix=False)]


def holders(db: Database, words: Iterable[str], seen: Corpus) -> dict[str, int]:
    """How many entries of ``seen`` hold each word (0: none), counted as search counts them for its IDF."""
    return {w: phrase_hits(db, Phrase((w,), False, WORD_FIELDS), seen) for w in words}


def any_starting(db: Database, prefix: str, seen: Corpus) -> bool:
    """Whether an entry of ``seen`` holds a word starting with ``prefix``."""
    return _holds(db, prefix, seen, prefix=True)


def _after_every_completion(prefix: str) -> str | None:
    """The least string greater than every string starting with ``prefix`` (code point order)."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else None


def _kept_starting(db: Database, prefix: str, most: int) -> list[str]:
    """Up to ``most`` words of search_words starting with ``prefix`` (held or not), in code point order."""
    bound = _after_every_completion(prefix)
    sql = "SELECT word FROM search_words WHERE word >= ?" + (" AND word < ?" if bound else "") + \
          " ORDER BY word LIMIT ?"
    return [str(r["word"]) for r in db.query(sql, [prefix, *([bound] if bound else []), most])]


def completions(db: Database, prefix: str, seen: Corpus, most: int = 2, scan: int = 32) -> list[str] | None:
    """Up to ``most`` words starting with ``prefix`` that entries of ``seen`` hold, in code point order.

    None when that is not known cheaply: more than ``scan`` words start with it, too few of the
    first ``scan`` are held to make ``most``.
    """
    if not prefix:
        return None
    candidates = _kept_starting(db, prefix, scan + 1)
    found: list[str] = []
    for word in candidates[:scan]:
        if _holds(db, word, seen, prefix=False):
            found.append(word)
            if len(found) == most:
                return found
    return found if len(candidates) <= scan else None


def only_completion(db: Database, prefix: str, seen: Corpus) -> str | None:
    """The word standing for ``prefix`` in a search over ``seen``, if one can: the only word starting
    with it that entries of ``seen`` hold, or the only one search_words has (held or not: as it has
    every word the index holds, no entry of ``seen`` holds another, and the word matches what the
    prefix matches; this spares asking the index, the usual case of a word typed far enough)."""
    if not prefix:
        return None
    kept = _kept_starting(db, prefix, 2)
    if len(kept) == 1:
        return kept[0]
    found = completions(db, prefix, seen) if kept else None
    return found[0] if found is not None and len(found) == 1 else None


_WORDS: Memo[tuple[str, ...]] = Memo(4)


def all_words(db: Database) -> tuple[str, ...]:
    """Every word of ``search_words`` (hidden entries' too: ask ``held`` before showing one), cached
    until the store changes."""
    # One row, the words joined by spaces (no word holds one): a row per word costs 4x as much to read.
    sql = f"SELECT {db.engine.join_text}(word, ' ') AS words FROM search_words"

    def read() -> tuple[str, ...]:
        return tuple(sorted(str(db.scalar(sql) or "").split()))

    key = store_key(db, sql)
    return read() if key is None else _WORDS.get_or_compute(key, read)
