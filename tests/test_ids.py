"""Ids (upstack/ids.py): one process's ids sort in the order they were made, whichever thread made them.
A run's heartbeat thread makes ids while the script makes its notes; a run's items are read back in id
order, so two notes made 1 ms apart once came back swapped (CI, PostgreSQL, test_run_faults)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from upstack.ids import new_id


@pytest.fixture
def switching() -> Iterator[None]:
    """Threads switch as often as Python lets them, so a race shows in a short run."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_ids_made_by_threads_at_once_are_unique_and_each_threads_grow(switching: None) -> None:
    made: list[list[str]] = [[] for _ in range(4)]
    start = threading.Barrier(len(made))

    def make(mine: list[str]) -> None:
        start.wait()
        for _ in range(20_000):
            mine.append(new_id())

    threads = [threading.Thread(target=make, args=(mine,)) for mine in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for mine in made for i in mine]
    assert len(set(every)) == len(every)
    for mine in made:
        out_of_order = sum(1 for a, b in zip(mine, mine[1:], strict=False) if b <= a)
        assert out_of_order == 0, f"{out_of_order} of a thread's {len(mine)} ids sort before the one made before"
