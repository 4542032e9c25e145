"""The Store contract on MemoryStore, the engine's reference Store."""

from __future__ import annotations

import pytest

from sync import MemoryStore, Owner
from tests.contracts.store_contract import StoreContract


class MemoryEnv:
    owners = (Owner("officer-1", "team-1"), Owner("officer-2", "team-2"))

    def __init__(self) -> None:
        self.memory = MemoryStore()

    def store(self, writer):
        self.memory.writer = writer
        return self.memory

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass  # MemoryStore checks everything before it changes anything


@pytest.fixture
def env():
    return MemoryEnv()


class TestMemoryStore(StoreContract):
    pass
