"""The in-memory fakes keep the storage contract the SQL repositories keep."""

from __future__ import annotations

import pytest

from services.scoring.tests.unit.fakes import FakeScoringUnitOfWork, FakeStorage
from services.scoring.tests.unit.storage_contract import ScoringStorageContract, Units


class TestFakeScoringStorage(ScoringStorageContract):
    @pytest.fixture
    def units(self) -> Units:
        storage = FakeStorage()
        return lambda: FakeScoringUnitOfWork(storage)
