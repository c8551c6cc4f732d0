"""The metric chunk format: round trips, torn tails, damage, and NaN-aware statistics."""

from __future__ import annotations

import math
import tempfile
from array import array
from typing import IO

from hypothesis import given
from hypothesis import strategies as st

from upstack.formats.metrics import (
    Merger,
    encode_chunk,
    read_chunk_stream,
    read_chunks,
    series_stats,
)

floats = st.floats(allow_nan=True, allow_infinity=True)
columns = st.lists(st.tuples(st.integers(-2**63, 2**63 - 1), floats), min_size=1, max_size=40)


def _chunk(key: str, points: list[tuple[int, float]]) -> bytes:
    return encode_chunk(key, array("q", [s for s, _ in points]), array("d", [float(i) for i in range(len(points))]),
                        array("d", [v for _, v in points]))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@given(st.lists(st.tuples(st.sampled_from(["loss", "acc", "λ/ratio"]), columns), min_size=1, max_size=5))
def test_chunks_round_trip_and_a_cut_file_keeps_every_whole_chunk(written: list[tuple[str, list]]) -> None:
    data = b"".join(_chunk(key, points) for key, points in written)
    chunks, end, damage = read_chunks(data)
    assert (end, damage) == (len(data), None)
    for chunk, (key, points) in zip(chunks, written, strict=True):
        assert chunk.key == key and list(chunk.steps) == [s for s, _ in points]
        assert all(_same(a, b) for a, b in zip(chunk.values, [v for _, v in points], strict=True))
    boundaries = [c.end for c in chunks]
    for cut in range(len(data)):
        kept, at, damage = read_chunks(data[:cut])
        assert damage is None and at == max([0] + [b for b in boundaries if b <= cut])
        assert len(kept) == sum(b <= cut for b in boundaries)


def test_damage_before_the_end_is_reported_and_what_comes_before_and_after_is_kept() -> None:
    first, second, third = _chunk("a", [(0, 1.0)]), _chunk("b", [(0, 2.0)]), _chunk("c", [(0, 3.0)])
    broken = bytearray(first + second + third)
    broken[len(first) + 20] ^= 0xFF  # a flipped byte inside the second chunk's payload
    kept, at, damage = read_chunks(bytes(broken))
    assert [c.key for c in kept] == ["a"] and at == len(first) and "checksum" in (damage or "")
    passed_over: list[str] = []
    with _file(bytes(broken)) as handle:
        assert [c.key for c in read_chunk_stream(handle, 0, passed_over.append)] == ["a", "c"]
    assert passed_over == [f"{len(second)} bytes of unreadable metric data at byte {len(first)} passed over"]
    torn = first + second[:-3]  # a write cut short by a kill: quietly the end
    with _file(torn) as handle:
        assert [c.key for c in read_chunk_stream(handle, 0, passed_over.append)] == ["a"]
    assert len(passed_over) == 1


@given(st.integers(1, 200), st.binary(max_size=300))
def test_a_torn_write_followed_by_more_chunks_hides_none_of_them(cut: int, junk: bytes) -> None:
    """What a failed write that was not cut back leaves: part of a chunk (whose header may promise
    more than the file holds), or any bytes at all, between whole chunks."""
    first, second, third = (_chunk(key, [(n, float(n)) for n in range(20)]) for key in ("a", "b", "c"))
    data = first + second[:min(cut, len(second) - 1)] + junk + second + third
    with _file(data) as handle:
        assert [c.key for c in read_chunk_stream(handle, 0)] == ["a", "b", "c"]


def _file(data: bytes) -> IO[bytes]:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by the caller
    handle.write(data)
    handle.seek(0)
    return handle


@given(st.lists(floats, max_size=50))
def test_series_stats_ignore_nan_wherever_it_is(values: list[float]) -> None:
    numbers = [v for v in values if not math.isnan(v)]
    expected = (min(numbers), max(numbers)) if numbers else (None, None)
    assert series_stats(array("d", values)) == expected


def test_the_merger_holds_a_bounded_number_of_points() -> None:
    merger = Merger(limit=100)
    out = []
    for n in range(30):
        chunk = read_chunks(_chunk("k" + str(n % 3), [(n, float(n))] * 10))[0][0]
        out += merger.add(chunk)
    out += merger.drain()
    assert sum(len(c) for c in out) == 300 and all(len(c) <= 100 for c in out)
    assert [list(c.steps)[:1] for c in out[:3]] == [[0], [1], [2]]
