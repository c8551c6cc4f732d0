"""Globally unique, time-sortable ids (ULID layout) and the short forms people type.

An id is 26 Crockford base32 characters: 10 for the millisecond timestamp, 16
random. The *key* is the random part in lower case; the short id shown to people
is its first seven characters, and any unambiguous prefix of the key (or the full
id) finds the object again.
"""

from __future__ import annotations

import os
import time

__all__ = ["new_id", "short_id", "id_key", "SHORT_LENGTH", "MIN_PREFIX", "looks_like_full_id"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_LENGTH = 7
MIN_PREFIX = 4


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(at_ms: int | None = None) -> str:
    """Return a new id whose first 10 characters sort by creation time."""
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    return _encode(ms, 10) + _encode(int.from_bytes(os.urandom(10), "big"), 16)


def id_key(full_id: str) -> str:
    """The random part of an id, lower case: what short ids are prefixes of."""
    return full_id[10:].lower()


def short_id(full_id: str) -> str:
    return id_key(full_id)[:SHORT_LENGTH]


def looks_like_full_id(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text.upper())
