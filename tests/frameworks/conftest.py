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

import pytest
from framework_runs import REMOTE_CONNECTIONS, watch_connections

# Before any framework is imported: no hub, and Keras 3 on PyTorch (no TensorFlow, no JAX).
os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                   "KERAS_BACKEND": "torch", "TOKENIZERS_PARALLELISM": "false"})

sys.addaudithook(watch_connections)


@pytest.fixture(autouse=True)
def offline() -> Iterator[None]:
    """Every test here: no connection leaves the machine."""
    REMOTE_CONNECTIONS.clear()
    yield
    assert not REMOTE_CONNECTIONS, f"tried the network: {REMOTE_CONNECTIONS}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh SQLite workspace's folder, which the run writes to (UPSTACK_HOME for a script too)."""
    return tmp_path / "home"
