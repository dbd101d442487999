"""Fixtures of the sync engine tests: a memory store, empty or seeded."""

from __future__ import annotations

import pytest

from sync import MemoryStore
from tests.sync.builders import seed_world


@pytest.fixture
def store() -> MemoryStore:
    """Return an empty memory store (the store contract suite runs on it)."""
    return MemoryStore()


@pytest.fixture
def world() -> MemoryStore:
    """Return a memory store holding compounds A and B (see ``seed_world``)."""
    seeded = MemoryStore()
    seed_world(seeded)
    return seeded
