"""What one request may ask of upstack: the limits on search queries and typed dates.

They live in one place so that the parser, the date reader, the README and the tests
agree. Each bounds work that grows with the input, and is checked before that work
starts: a 10 kB date took dateparser 10 s, a 3,000-word OR search 8 s, and deep
parentheses or a long chain of NOTs overflowed the parser's recursion or SQLite's
expression tree. Nobody types anything near these limits into a search box or a date
field; a script that does gets a one-line 400 naming the limit.

The limits on what a team server's members may store and run at once are settings
(``upstack.settings``: ``user_requests``, ``user_quota_mb``, ...), since a lab sizes them.
"""

from __future__ import annotations

__all__ = ["QUERY_MAX_CHARS", "QUERY_MAX_TERMS", "QUERY_MAX_DEPTH", "QUERY_MAX_NOTS", "DATE_MAX_CHARS",
           "NOTE_MAX_BYTES"]

# The longest search query, in characters: a long paragraph pasted into the box.
QUERY_MAX_CHARS = 500
# The most words, phrases and #tags one query may hold: each is one more index look-up and one
# more BM25 term for every match (~3 ms a term on 100k entries).
QUERY_MAX_TERMS = 32
# The deepest nesting of parentheses: the parser and the compiled SQL recurse once a level.
QUERY_MAX_DEPTH = 8
# The most NOTs (and -exclusions) left once stacked ones cancel (NOT NOT x is x): each is an
# anti-join over the whole index.
QUERY_MAX_NOTS = 16
# The longest date text ("since", "until", "--at" ...): "last monday at 14:00" and a full
# ISO 8601 time with microseconds and offset both fit; dateparser's time grows with length.
DATE_MAX_CHARS = 64

# A note read from a folder (import markdown, a linked vault): a long note is tens of kB; a file this big
# is a data dump or a pasted log saved as .md, which would be indexed word by word. Attach it instead.
NOTE_MAX_BYTES = 4 * 1024 * 1024
