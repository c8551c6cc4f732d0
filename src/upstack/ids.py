"""Globally unique, time-sortable ids (ULID layout) and the short forms people type.

An id is 26 Crockford base32 characters: 10 for the millisecond timestamp, 16
random. The *key* is the random part reversed, in lower case: reversed because
ids made in the same millisecond differ in their last characters. The short id
shown to people is the key's first seven characters, and any unambiguous prefix
of the key (or the full id) finds the object again.
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["new_id", "derived_id", "short_id", "id_key", "SHORT_LENGTH", "MIN_PREFIX", "looks_like_full_id"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_LENGTH = 7
MIN_PREFIX = 4


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


_last_ms = -1
_last_random = 0
_lock = threading.Lock()  # a run's heartbeat thread makes ids while the script makes its own


def _fresh_lock() -> None:  # a child forked while another thread held the lock would wait for ever
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock)


def new_id() -> str:
    """Return a new id; ids made by one process sort in the order they were made.

    Within one millisecond the random part grows by a random step instead of
    being redrawn (like ULID's "monotonic" rule, but the step is random so that
    short ids made together do not look alike), so one writer's records replay
    in the order they were written, whichever of its threads made them.
    """
    global _last_ms, _last_random
    step = int.from_bytes(os.urandom(5), "big") + 1
    fresh = int.from_bytes(os.urandom(10), "big") >> 1  # room to grow
    with _lock:
        ms = int(time.time() * 1000)
        if ms <= _last_ms and _last_random + step < 1 << 80:
            ms = _last_ms
            _last_random += step
        else:
            ms = max(ms, _last_ms + 1) if ms <= _last_ms else ms
            _last_random = fresh
        _last_ms = ms
        random = _last_random
    return _encode(ms, 10) + _encode(random, 16)


def derived_id(at: str, *parts: str) -> str:
    """An id made from what it names rather than drawn at random: the time part from ``at`` (an
    ISO time), the rest from a hash of ``parts``. Two stores that make the same thing from the
    same facts (a run's result entry, on a laptop and on its team server) give it the same id.
    """
    import hashlib

    from upstack.timeutil import parse_iso

    ms = int(parse_iso(at).timestamp() * 1000)
    digest = int.from_bytes(hashlib.sha256("\0".join(parts).encode("utf-8")).digest()[:10], "big")
    return _encode(ms, 10) + _encode(digest, 16)


def id_key(full_id: str) -> str:
    """The random part of an id, reversed and lower case: what short ids are prefixes of."""
    return full_id[:9:-1].lower()


def short_id(full_id: str) -> str:
    return id_key(full_id)[:SHORT_LENGTH]


def looks_like_full_id(text: str) -> bool:
    return len(text) == 26 and all(c in _ALPHABET for c in text.upper())
