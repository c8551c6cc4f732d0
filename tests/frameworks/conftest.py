"""The training frameworks' tests (tests/frameworks/): each integration with the real library, on a tiny
model built from a config, into a real SQLite workspace.

They need the ``frameworks`` extra (torch, transformers, lightning, keras, optuna): tests/conftest.py
leaves this folder out of the README's test command, and `.ci/run` runs it by name in a step that
installs the extra first, so a missing library fails there (nothing here is skipped).

Nothing is downloaded: the Hugging Face libraries are told they are offline, and every test fails
if it tries to connect anywhere but this machine (an audit hook watches ``socket.connect``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before any framework is imported: no hub, and Keras 3 on PyTorch (no TensorFlow, no JAX).
os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                   "KERAS_BACKEND": "torch", "TOKENIZERS_PARALLELISM": "false"})

_REMOTE: list[str] = []


def _watch_connections(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            _REMOTE.append(repr(address))


sys.addaudithook(_watch_connections)


@pytest.fixture(autouse=True)
def offline() -> Iterator[None]:
    """Every test here: no connection leaves the machine."""
    _REMOTE.clear()
    yield
    assert not _REMOTE, f"tried the network: {_REMOTE}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh SQLite workspace's folder, which the run writes to (UPSTACK_HOME for a script too)."""
    return tmp_path / "home"
