"""Metric series: buffered in columns while a run logs, written as checksummed chunks.

``Run.log`` must never slow training, so a call only appends numbers to typed
arrays (one step, time and value array per key, 24 bytes a point, no objects
kept). A background thread swaps the arrays out and appends them to the run's
``metrics.bin`` as chunks, one per key::

    magic "UPM1" | key length u16 | count u32 | crc32 u32 | key | steps i64[] | times f64[] | values f64[]

A chunk is complete when its checksum matches; a reader stops at an incomplete
last one (a writer killed mid-write), so what was written before is intact, and passes
over damage to the next whole chunk, so what was written after is found too.
Non-finite values (NaN, inf) are stored as they are.
"""

from __future__ import annotations

import os
import struct
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from upstack.domain.text import clean_text

__all__ = ["Chunk", "chunk_buffers", "encode_chunk", "read_chunks", "read_chunk_stream", "Merger", "Columns",
           "series_stats"]

_MAGIC = b"UPM1"
_HEADER = struct.Struct("<4sHII")


@dataclass
class Chunk:
    key: str
    steps: array  # array('q')
    times: array  # array('d')
    values: array  # array('d')
    offset: int = 0  # where the chunk starts in its file
    end: int = 0  # where the next one starts

    def __len__(self) -> int:
        return len(self.values)


Columns = dict[str, tuple[array, array, array]]


def chunk_buffers(key: str, steps: array, times: array, values: array) -> list[bytes | array]:
    """A chunk as buffers to write one after another (the arrays themselves: no copies)."""
    name = clean_text(key).encode("utf-8")  # a metric's name is text as upstack keeps it
    crc = zlib.crc32(values, zlib.crc32(times, zlib.crc32(steps, zlib.crc32(name))))
    return [_HEADER.pack(_MAGIC, len(name), len(values), crc), name, steps, times, values]


def encode_chunk(key: str, steps: array, times: array, values: array) -> bytes:
    return b"".join(bytes(part) for part in chunk_buffers(key, steps, times, values))


def read_chunk_stream(handle: BinaryIO, start: int,
                      damaged: Callable[[str], None] = lambda what: None) -> Iterator[Chunk]:
    """The complete chunks of a file from ``start``, one at a time (memory stays at one chunk).

    Stops quietly at an incomplete last chunk (still being written, or cut by a kill). Damage
    with whole chunks after it (a flipped bit; a write cut short that could not be cut off
    again) is passed over to the next whole chunk, and ``damaged`` is told what was passed over:
    damage never hides what comes after it.
    """
    size = os.fstat(handle.fileno()).st_size
    position = start
    while size - position >= _HEADER.size:
        chunk = _chunk_at(handle, position, size)
        if chunk is None:
            following = _next_chunk(handle, position + 1, size)
            if following is None:
                return  # the end, still being written (or damage with nothing whole after it yet)
            damaged(f"{following - position} bytes of unreadable metric data at byte {position} passed over")
            position = following
            continue
        yield chunk
        position = chunk.end


def _chunk_at(handle: BinaryIO, position: int, size: int) -> Chunk | None:
    """The whole chunk that starts at ``position``, if one does."""
    handle.seek(position)
    header = handle.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    magic, key_len, count, _ = _HEADER.unpack(header)
    end = position + _HEADER.size + key_len + 24 * count
    if magic != _MAGIC or end > size:
        return None
    found, _, _ = read_chunks(header + handle.read(end - position - _HEADER.size))
    if not found:
        return None
    chunk = found[0]
    chunk.offset, chunk.end = position, end
    return chunk


def _next_chunk(handle: BinaryIO, position: int, size: int, window: int = 1 << 20) -> int | None:
    """Where the next whole chunk after damage starts (None: there is none yet)."""
    while position <= size - _HEADER.size:
        handle.seek(position)
        data = handle.read(window + len(_MAGIC) - 1)
        found = data.find(_MAGIC)
        while found != -1:
            if _chunk_at(handle, position + found, size) is not None:
                return position + found
            found = data.find(_MAGIC, found + 1)
        position += window
    return None


def read_chunks(data: bytes | memoryview, start: int = 0) -> tuple[list[Chunk], int, str | None]:
    """The complete chunks in ``data`` from ``start``; where they end; what stopped the reading.

    The reason is None at a clean end or an incomplete last chunk (still being
    written, or cut by a crash), else a description of the damage.
    """
    view = memoryview(data)
    chunks: list[Chunk] = []
    position = start
    while position < len(view):
        if len(view) - position < _HEADER.size:
            return chunks, position, None
        magic, key_len, count, crc = _HEADER.unpack_from(view, position)
        if magic != _MAGIC:
            return chunks, position, f"unreadable metric data at byte {position}"
        body = position + _HEADER.size
        end = body + key_len + 24 * count
        if end > len(view):
            return chunks, position, None
        payload = view[body:end]
        if zlib.crc32(payload) != crc:
            # A torn last write reads as a checksum mismatch; damage earlier is corruption.
            reason = None if end == len(view) else f"metric chunk at byte {position} fails its checksum"
            return chunks, position, reason
        key = clean_text(bytes(payload[:key_len]).decode("utf-8", "replace"))  # an older upstack wrote NULs
        cut1, cut2 = key_len + 8 * count, key_len + 16 * count
        steps, times, values = array("q"), array("d"), array("d")
        steps.frombytes(payload[key_len:cut1])
        times.frombytes(payload[cut1:cut2])
        values.frombytes(payload[cut2:])
        chunks.append(Chunk(key, steps, times, values, position, end))
        position = end
    return chunks, position, None


class Merger:
    """Joins consecutive chunks of each key into fewer, larger rows to store, holding at most
    ``limit`` points at a time: ``add`` returns the merged chunks that are ready."""

    def __init__(self, limit: int = 1 << 20) -> None:
        self.limit = limit
        self._open: dict[str, Chunk] = {}
        self._points = 0

    def add(self, chunk: Chunk) -> list[Chunk]:
        into = self._open.get(chunk.key)
        if into is None:
            self._open[chunk.key] = chunk
        else:
            into.steps.extend(chunk.steps)
            into.times.extend(chunk.times)
            into.values.extend(chunk.values)
            into.end = chunk.end
        self._points += len(chunk)
        return self.drain() if self._points >= self.limit else []

    def drain(self) -> list[Chunk]:
        ready = list(self._open.values())
        self._open.clear()
        self._points = 0
        return ready


def series_stats(values: array) -> tuple[float | None, float | None]:
    """Smallest and largest value, ignoring NaN (None when every value is NaN).

    min() and max() compare with < and >, which are false for NaN, so a NaN after
    the first number is passed over at C speed; only leading NaNs need skipping.
    """
    first = next((i for i, value in enumerate(values) if value == value), None)
    if first is None:
        return None, None
    rest = values[first:] if first else values
    return min(rest), max(rest)
