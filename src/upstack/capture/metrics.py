"""Metric series: buffered in columns while a run logs, written as checksummed chunks.

``Run.log`` must never slow training, so a call only appends numbers to typed
arrays (one step, time and value array per key, 24 bytes a point, no objects
kept). A background thread swaps the arrays out and appends them to the run's
``metrics.bin`` as chunks, one per key::

    magic "UPM1" | key length u16 | count u32 | crc32 u32 | key | steps i64[] | times f64[] | values f64[]

A chunk is complete when its checksum matches; a reader stops at the first
incomplete one (a writer killed mid-write), so what was written before is intact.
Non-finite values (NaN, inf) are stored as they are.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Chunk", "encode_chunk", "read_chunks", "Columns", "series_stats"]

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


def encode_chunk(key: str, steps: array, times: array, values: array) -> bytes:
    name = key.encode("utf-8")
    payload = name + steps.tobytes() + times.tobytes() + values.tobytes()
    return _HEADER.pack(_MAGIC, len(name), len(values), zlib.crc32(payload)) + payload


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
        key = bytes(payload[:key_len]).decode("utf-8")
        cut1, cut2 = key_len + 8 * count, key_len + 16 * count
        steps, times, values = array("q"), array("d"), array("d")
        steps.frombytes(payload[key_len:cut1])
        times.frombytes(payload[cut1:cut2])
        values.frombytes(payload[cut2:])
        chunks.append(Chunk(key, steps, times, values, position, end))
        position = end
    return chunks, position, None


def iter_merged(chunks: list[Chunk]) -> Iterator[Chunk]:
    """Chunks of the same key joined, in first-seen key order (fewer, larger rows to store)."""
    merged: dict[str, Chunk] = {}
    for chunk in chunks:
        into = merged.get(chunk.key)
        if into is None:
            merged[chunk.key] = Chunk(chunk.key, array("q", chunk.steps), array("d", chunk.times),
                                      array("d", chunk.values), chunk.offset, chunk.end)
        else:
            into.steps.extend(chunk.steps)
            into.times.extend(chunk.times)
            into.values.extend(chunk.values)
            into.end = chunk.end
    yield from merged.values()


def series_stats(values: array) -> tuple[float | None, float | None]:
    """Smallest and largest value, ignoring NaN (None when every value is NaN)."""
    numbers = [v for v in values if v == v]
    if not numbers:
        return None, None
    return min(numbers), max(numbers)
